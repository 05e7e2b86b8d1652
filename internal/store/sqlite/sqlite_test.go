package sqlite

import (
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestContract runs the store contract on temporary database files.
func TestContract(t *testing.T) {
	storetest.RunStoreContract(t, openTemp)
}

// quiet keeps the tests' output clean of the store's log.
var quiet = Options{Logger: slog.New(slog.DiscardHandler)}

// paths remembers each test's database file, so that opening again with the
// same t reaches the same file, as the contract requires.
var paths sync.Map // *testing.T -> string

// openTemp opens the database file of t, in t's temporary directory.
func openTemp(t *testing.T) storetest.StoreUnderTest {
	t.Helper()
	return openPath(t, tempPath(t))
}

func tempPath(t *testing.T) string {
	t.Helper()
	if p, ok := paths.Load(t); ok {
		return p.(string)
	}
	p := filepath.Join(t.TempDir(), "data", "switchboard.db")
	paths.Store(t, p)
	t.Cleanup(func() { paths.Delete(t) })
	return p
}

func openPath(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, quiet)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}
