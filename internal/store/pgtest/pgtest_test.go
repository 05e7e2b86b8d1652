package pgtest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// query runs sql on the database at dbURL and returns its output, trimmed.
func query(t *testing.T, dbURL, sql string) string {
	t.Helper()
	tl, err := lookup()
	if err != nil {
		t.Fatal(err)
	}
	out, err := tl.query(dbURL, sql)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// dbName returns the database name of a URL that Database returned, having
// checked the URL's form.
func dbName(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "postgres" || u.User.Username() != "postgres" || u.Hostname() != "127.0.0.1" ||
		u.Port() == "" || u.RawQuery != "sslmode=disable" {
		t.Fatalf("URL %s: want postgres://postgres@127.0.0.1:<port>/<db>?sslmode=disable", dbURL)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(name, "sb_") || len(name) != len("sb_")+16 {
		t.Fatalf("database name %q: want sb_ and 16 hex digits", name)
	}
	return name
}

const publicTables = "select count(*) from pg_tables where schemaname = 'public'"

// TestDatabases checks that Database hands out distinct, empty databases,
// that a table in one is not seen in the other, and that both are dropped at
// the test's cleanup even with a connection still open to one of them.
func TestDatabases(t *testing.T) {
	var a, b string
	var release func()
	t.Run("Use", func(t *testing.T) {
		a, b = Database(t), Database(t)
		if a == b {
			t.Fatalf("two databases with one URL %s", a)
		}
		for _, u := range []string{a, b} {
			if got := query(t, u, "select current_database()"); got != dbName(t, u) {
				t.Errorf("%s connects to database %q", u, got)
			}
			if got := query(t, u, publicTables); got != "0" {
				t.Errorf("%s: new database has %s tables, want 0", u, got)
			}
		}
		query(t, a, "create table notes (id int primary key, body text); insert into notes values (1, 'hello')")
		if got := query(t, a, publicTables); got != "1" {
			t.Errorf("database a has %s tables after CREATE TABLE, want 1", got)
		}
		if got := query(t, a, "select body from notes"); got != "hello" {
			t.Errorf("database a: notes holds %q, want hello", got)
		}
		if got := query(t, b, publicTables); got != "0" {
			t.Errorf("database b sees %s tables after CREATE TABLE in a, want 0", got)
		}
		release = holdConnection(t, a)
	})
	if release == nil { // Use failed or skipped
		if !t.Failed() {
			t.Skip("no databases (PostgreSQL missing)")
		}
		return
	}
	// The connection held open to a did not keep its drop from working.
	release()
	admin := strings.Replace(a, "/"+dbName(t, a)+"?", "/postgres?", 1)
	in := fmt.Sprintf("'%s', '%s'", dbName(t, a), dbName(t, b))
	if got := query(t, admin, "select count(*) from pg_database where datname in ("+in+")"); got != "0" {
		t.Errorf("%s databases of %s left after the test's cleanup, want 0", got, in)
	}
}

// holdConnection opens a psql session to dbURL, and returns once it is
// connected. The function it returns ends the session.
func holdConnection(t *testing.T, dbURL string) (release func()) {
	t.Helper()
	tl, _ := lookup()
	cmd := exec.Command(tl.psql, "-X", "-q", "-tA", "-d", dbURL)
	cmd.Env = environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write([]byte("select 'connected';\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "connected" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("psql session: read %q, %v", line, err)
	}
	return func() {
		stdin.Close()
		cmd.Wait()
	}
}

// TestStart checks that Start gives a server of the test's own, with
// databases, and that its cleanup stops it and removes its directory.
func TestStart(t *testing.T) {
	var s *Server
	t.Run("Use", func(t *testing.T) {
		s = Start(t)
		u := s.CreateDatabase(t)
		name := dbName(t, u)
		if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name); u != want {
			t.Errorf("CreateDatabase returned %s, want %s", u, want)
		}
		if got := query(t, u, publicTables); got != "0" {
			t.Errorf("new database has %s tables, want 0", got)
		}
		if got := query(t, u, "show max_connections"); got != "200" {
			t.Errorf("max_connections = %s, want 200", got)
		}
		if got := query(t, u, "show listen_addresses"); got != "127.0.0.1" {
			t.Errorf("listen_addresses = %s, want 127.0.0.1", got)
		}
		if _, err := os.Stat(filepath.Join(s.dir, ".s.PGSQL."+strconv.Itoa(s.port))); err != nil {
			t.Errorf("unix socket not in the server's directory: %v", err)
		}
	})
	if s == nil { // Use failed or skipped
		if !t.Failed() {
			t.Skip("no server (PostgreSQL missing)")
		}
		return
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("server directory %s after cleanup: %v, want it removed", s.dir, err)
	}
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))); err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after cleanup", s.port)
	}
}

// fakeTB records whether unavailable skipped or failed it.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestUnavailableSkipsUnlessRequired(t *testing.T) {
	for _, tc := range []struct {
		env        string
		skip, fail bool
	}{{"", true, false}, {"0", true, false}, {"1", false, true}} {
		t.Setenv("SWITCHBOARD_POSTGRES", tc.env)
		var f fakeTB
		unavailable(&f, errMissing)
		if f.skipped != tc.skip || f.failed != tc.fail {
			t.Errorf("SWITCHBOARD_POSTGRES=%q: skipped %v, failed %v; want %v, %v", tc.env, f.skipped, f.failed, tc.skip, tc.fail)
		}
	}
}

func TestFindBinHonoursEnv(t *testing.T) {
	t.Setenv("SWITCHBOARD_PG_BIN", t.TempDir())
	if dir, err := findBin(); !errors.Is(err, errMissing) {
		t.Errorf("findBin with SWITCHBOARD_PG_BIN an empty directory = %q, %v; want errMissing", dir, err)
	}
}

func TestVersionLess(t *testing.T) {
	ordered := []string{"lib", "9.6", "10", "11", "15", "16"}
	for i := range ordered {
		for j := range ordered {
			if got := versionLess(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("versionLess(%q, %q) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}
