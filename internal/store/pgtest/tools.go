package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// tools are the programs a server needs and the user they run as.
type tools struct {
	bin  string // directory holding initdb and pg_ctl
	psql string // path of psql

	// runuser is the path of runuser when the programs must run as the
	// postgres user (the tests run as root); empty otherwise.
	runuser  string
	uid, gid int // the postgres user's ids, when runuser is set
}

// errMissing wraps every error of lookup: PostgreSQL is not installed, or
// not usable as this user. A server that fails to start is another matter,
// and always fails the test.
var errMissing = errors.New("PostgreSQL not found")

var (
	lookupOnce  sync.Once
	lookedUp    tools
	lookupError error
)

// lookup finds the programs once per test binary.
func lookup() (tools, error) {
	lookupOnce.Do(func() { lookedUp, lookupError = findTools() })
	return lookedUp, lookupError
}

// findTools finds the bin directory (see the package doc), psql, and, when
// running as root, runuser and the postgres user.
func findTools() (tools, error) {
	var tl tools
	bin, err := findBin()
	if err != nil {
		return tools{}, err
	}
	tl.bin = bin
	if !isExecutable(filepath.Join(bin, "pg_ctl")) {
		return tools{}, fmt.Errorf("%w: %s has initdb but no pg_ctl", errMissing, bin)
	}
	tl.psql = filepath.Join(bin, "psql")
	if !isExecutable(tl.psql) {
		if tl.psql, err = exec.LookPath("psql"); err != nil {
			return tools{}, fmt.Errorf("%w: no psql in %s or on PATH", errMissing, bin)
		}
	}
	if os.Geteuid() != 0 {
		return tl, nil
	}
	if tl.runuser, err = exec.LookPath("runuser"); err != nil {
		return tools{}, fmt.Errorf("%w: running as root, and no runuser to run PostgreSQL as the postgres user", errMissing)
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return tools{}, fmt.Errorf("%w: running as root, and no postgres user to run PostgreSQL as: %v", errMissing, err)
	}
	if tl.uid, err = strconv.Atoi(u.Uid); err != nil {
		return tools{}, fmt.Errorf("%w: postgres user's uid %q: %v", errMissing, u.Uid, err)
	}
	if tl.gid, err = strconv.Atoi(u.Gid); err != nil {
		return tools{}, fmt.Errorf("%w: postgres user's gid %q: %v", errMissing, u.Gid, err)
	}
	return tl, nil
}

// findBin returns the directory of initdb: SWITCHBOARD_PG_BIN when set,
// else the highest-versioned /usr/lib/postgresql/*/bin that has it, else
// initdb's directory on PATH.
func findBin() (string, error) {
	if dir := os.Getenv("SWITCHBOARD_PG_BIN"); dir != "" {
		if !isExecutable(filepath.Join(dir, "initdb")) {
			return "", fmt.Errorf("%w: SWITCHBOARD_PG_BIN=%s has no initdb", errMissing, dir)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(dirs[j])), filepath.Base(filepath.Dir(dirs[i])))
	})
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	return "", fmt.Errorf("%w: no initdb in /usr/lib/postgresql/*/bin or on PATH (install the postgresql package, or set SWITCHBOARD_PG_BIN)", errMissing)
}

// versionLess orders PostgreSQL version directory names ("9.6", "15") by
// their numbers, and anything that is not a version before every version.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

// versionParts returns the numbers of a dotted version, or nil when v is not
// one.
func versionParts(v string) []int {
	var parts []int
	for _, s := range strings.Split(v, ".") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil
		}
		parts = append(parts, n)
	}
	return parts
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// required reports whether SWITCHBOARD_POSTGRES asks that a missing
// PostgreSQL fail the tests rather than skip them.
func required() bool {
	v := os.Getenv("SWITCHBOARD_POSTGRES")
	return v != "" && v != "0"
}

// usable returns the tools, or ends t: it skips t when PostgreSQL is
// missing and not required, and fails it otherwise.
func usable(t testing.TB) tools {
	t.Helper()
	tl, err := lookup()
	if err != nil {
		unavailable(t, err)
	}
	return tl
}

// unavailable skips t for err, the reason PostgreSQL cannot be used, or
// fails t when SWITCHBOARD_POSTGRES requires PostgreSQL.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if !required() {
		t.Skipf("pgtest: %v; skipping (set SWITCHBOARD_POSTGRES=1 to fail instead)", err)
		return
	}
	t.Fatalf("pgtest: %v, and SWITCHBOARD_POSTGRES is set: PostgreSQL is required", err)
}

// command returns a command running the program name of the bin directory,
// as the postgres user when the tests run as root, in dir.
func (tl tools) command(name, dir string, args ...string) *exec.Cmd {
	path := filepath.Join(tl.bin, name)
	var cmd *exec.Cmd
	if tl.runuser != "" {
		cmd = exec.Command(tl.runuser, append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = dir
	cmd.Env = environ()
	return cmd
}

// environ is this process's environment without the PG* variables (PGDATA,
// PGPORT, PGHOST, PGSERVICE...) that would point the programs elsewhere,
// and with the C locale, so that messages are in English.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_ALL=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}
