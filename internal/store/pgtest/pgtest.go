package pgtest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the server that Database hands out databases on: started by the
// first call, stopped by Run.
var shared struct {
	mu  sync.Mutex
	srv *Server
	err error // why the server did not start; later calls fail with it too
}

// Run is for TestMain: it runs the tests, then stops the shared server (if
// Database started one) and removes its directory. It returns the exit code
// for os.Exit: m.Run's, or 1 when the tests passed but the server did not
// stop cleanly.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping the shared server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		shared.srv = nil
	}
	return code
}

// Database returns the connection string of a new, empty database on the
// server shared by the test binary: a postgres:// URL for user postgres
// (a superuser, no password) at 127.0.0.1 and the server's port, with
// sslmode=disable. The first call starts the server; parallel tests may
// call Database at once. The database is dropped at t's cleanup (DROP
// DATABASE ... WITH (FORCE), so connections still open to it do not stop
// that). A package calling Database sends its TestMain through Run.
//
// When PostgreSQL's programs are not found, Database skips t, unless
// SWITCHBOARD_POSTGRES is set, in which case it fails t. It fails t when the
// server does not start, with the end of the server's log.
func Database(t testing.TB) string {
	t.Helper()
	tl := usable(t)
	shared.mu.Lock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = start(tl)
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: starting the shared server: %v", err)
	}
	return srv.CreateDatabase(t)
}
