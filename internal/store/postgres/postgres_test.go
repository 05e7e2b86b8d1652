package postgres

import (
	"log/slog"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
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

// TestExecMode runs the store with statements that are not prepared
// (default_query_exec_mode=exec), as a connection pooler without prepared
// statement support needs: parameter types then come from the Go values.
func TestExecMode(t *testing.T) {
	open := func(t *testing.T) *Store {
		s := openURL(t, pgtest.Database(t)+"&default_query_exec_mode=exec", quiet)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Idempotency", func(t *testing.T) {
		storetest.RunIdempotencyContract(t, func(t *testing.T) idempotency.Store { return open(t) })
	})
	t.Run("AssertionIDs", func(t *testing.T) {
		storetest.RunAssertionIDContract(t, func(t *testing.T) auth.AssertionIDStore { return open(t) })
	})
	t.Run("SIPAccounts", func(t *testing.T) {
		storetest.RunSIPAccountContract(t, func(t *testing.T) storetest.SIPAccountStore { return open(t) })
	})
	t.Run("Apps", func(t *testing.T) {
		storetest.RunAppStoreContract(t, func(t *testing.T) auth.AppStore { return open(t) })
	})
	t.Run("CommitAndLog", func(t *testing.T) {
		s := open(t)
		c := storetest.Conversation("c", t0)
		if err := s.Commit(t.Context(), c, []calls.OutboxEntry{storetest.Entry("c-call", 1, t0)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Attempted(t.Context(), "c-call", 1, 1, time.Time{}, "x", false); err != nil {
			t.Fatal(err)
		}
		live, err := s.LoadLive(t.Context())
		if err != nil || len(live) != 1 || !reflect.DeepEqual(live[0], c) {
			t.Fatalf("LoadLive = %v, %v", live, err)
		}
		if es, err := s.Notifications(t.Context(), "c-call", 0, 0); err != nil || len(es) != 1 || es[0].Attempts != 1 {
			t.Fatalf("Notifications = %+v, %v", es, err)
		}
		if n, err := s.DeleteEnded(t.Context(), t0, 10); err != nil || n != 0 {
			t.Fatalf("DeleteEnded = %d, %v", n, err)
		}
	})
}
