package postgres

import (
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store/pgtest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// quiet keeps the tests' output clean of the store's log.
var quiet = Options{Logger: slog.New(slog.DiscardHandler)}

// urls remembers each test's database, so that opening again with the
// same t reaches the same database, as the contract requires.
var urls sync.Map // *testing.T -> string

// testURL returns the database of t, a new empty one on first use.
func testURL(t *testing.T) string {
	t.Helper()
	if u, ok := urls.Load(t); ok {
		return u.(string)
	}
	u := pgtest.Database(t)
	urls.Store(t, u)
	t.Cleanup(func() { urls.Delete(t) })
	return u
}

func openURL(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openTest opens t's database; the caller closes the store.
func openTest(t *testing.T) *Store {
	t.Helper()
	return openURL(t, testURL(t), quiet)
}

// openClosed opens t's database and closes the store at t's cleanup.
func openClosed(t *testing.T) *Store {
	t.Helper()
	s := openTest(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.RunStoreContract(t, func(t *testing.T) storetest.StoreUnderTest { return openTest(t) })
}

func TestAssertionIDContract(t *testing.T) {
	storetest.RunAssertionIDContract(t, func(t *testing.T) auth.AssertionIDStore { return openClosed(t) })
}

func TestSIPAccountContract(t *testing.T) {
	storetest.RunSIPAccountContract(t, func(t *testing.T) storetest.SIPAccountStore { return openClosed(t) })
}

func TestPendingForContract(t *testing.T) {
	storetest.RunPendingForContract(t, func(t *testing.T) storetest.PendingForStoreUnderTest { return openClosed(t) })
}
