package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// psqlTimeout bounds one psql command (creating or dropping a database, or
// a test's query). It only fails a hung test: those take milliseconds.
const psqlTimeout = 2 * time.Minute

// startAttempts is how many free ports start tries, in case another
// process takes the port between its choice and the server binding it.
const startAttempts = 5

// Server is a PostgreSQL server of the tests' own, in a temporary directory,
// listening on 127.0.0.1. Its user postgres may connect without a password
// and is a superuser. Its methods may be called from parallel tests.
type Server struct {
	tl   tools
	dir  string // temporary directory: the data directory, logs and unix socket
	data string // data directory
	port int

	watchdog *exec.Cmd // stops the server and removes dir when pipe closes
	pipe     *os.File  // write end of the watchdog's stdin; only this process holds it

	stopOnce sync.Once
	stopErr  error
}

// Start starts a new server, separate from the one Database shares, and
// stops it (removing its directory) at t's cleanup. It skips or fails t as
// Database does when PostgreSQL is not installed, and fails t when the
// server does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start(usable(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// URL returns the connection string of the named database on s: a
// postgres:// URL for user postgres at 127.0.0.1 and s's port, with
// sslmode=disable. It does not check that the database exists.
func (s *Server) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, database)
}

// CreateDatabase creates a new, empty database on s, named "sb_" and 16
// random hex digits, and returns its URL (see URL). The database is dropped
// at t's cleanup, with the connections still open to it.
func (s *Server) CreateDatabase(t testing.TB) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "sb_" + hex.EncodeToString(b[:])
	if _, err := s.tl.query(s.URL("postgres"), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if _, err := s.tl.query(s.URL("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.URL(name)
}

// start makes a cluster in a new temporary directory and starts a server on
// it. On an error, nothing is left running or on disk.
func start(tl tools) (s *Server, err error) {
	dir, err := os.MkdirTemp("", "sbpg-*")
	if err != nil {
		return nil, err
	}
	s = &Server{tl: tl, dir: dir, data: filepath.Join(dir, "data")}
	if err := s.startWatchdog(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	// The directory must be the postgres user's when the programs run as
	// it, and reachable through its parents: os.MkdirTemp makes it 0700.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if tl.runuser != "" {
		if err := os.Chown(dir, tl.uid, tl.gid); err != nil {
			return nil, err
		}
	}
	initdb := tl.command("initdb", dir, "-D", s.data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// Settings go in postgresql.conf rather than on pg_ctl's command line,
	// which pg_ctl hands to a shell: the directory's name needs no quoting
	// here beyond the configuration file's own.
	conf := strings.Join([]string{
		"",
		"# pgtest: a throwaway server for tests, on loopback only",
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = '" + strings.ReplaceAll(dir, "'", "''") + "'",
		"max_connections = 200",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"",
	}, "\n")
	if err := appendFile(filepath.Join(s.data, "postgresql.conf"), conf); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		logFile := filepath.Join(dir, fmt.Sprintf("postgres-%d.log", attempt))
		pgctl := tl.command("pg_ctl", dir, "-D", s.data, "-l", logFile, "-w", "-t", "60",
			"-o", "-p "+strconv.Itoa(s.port), "start")
		out, err := pgctl.CombinedOutput()
		if err == nil {
			return s, nil
		}
		// A server that did not become ready in time may still be
		// starting: stop it before trying again or giving up.
		if stopErr := s.stopServer(); stopErr != nil {
			return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%v", err, out, stopErr)
		}
		log := tail(logFile)
		if attempt < startAttempts && strings.Contains(log, "could not bind") {
			continue // the port was taken meanwhile
		}
		return nil, fmt.Errorf("pg_ctl start on port %d: %v\n%s\nserver log (end):\n%s", s.port, err, out, log)
	}
}

// startWatchdog starts the process that stops the server and removes the
// directory when this process closes s.pipe, or ends for any reason, even
// a panic or a signal that skips every cleanup. It runs in its own process
// group, so that an interrupt sent to go test's group does not end it
// before its work.
func (s *Server) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	stop := s.tl.command("pg_ctl", "/", "-D", s.data, "-m", "immediate", "-w", "stop")
	const script = `dir=$1; shift
while read -r _; do :; done
"$@" >/dev/null 2>&1
rm -rf -- "$dir"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "pgtest-watchdog", s.dir}, stop.Args...)...)
	cmd.Dir = "/"
	cmd.Env = stop.Env
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting the watchdog shell: %v", err)
	}
	s.watchdog, s.pipe = cmd, w
	return nil
}

// stop stops the server, ends the watchdog and removes the directory. It
// does so once; later calls return the first call's error.
func (s *Server) stop() error {
	s.stopOnce.Do(func() {
		err := s.stopServer()
		s.pipe.Close()
		if werr := s.watchdog.Wait(); werr != nil && err == nil {
			err = fmt.Errorf("watchdog: %v", werr)
		}
		if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
			err = rerr
		}
		s.stopErr = err
	})
	return s.stopErr
}

// stopServer stops the server with an immediate shutdown, if it runs (has
// a postmaster.pid), and waits until it has exited.
func (s *Server) stopServer() error {
	if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	cmd := s.tl.command("pg_ctl", s.dir, "-D", s.data, "-m", "immediate", "-w", "stop")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// query runs sql with psql on the database at url and returns its output,
// unaligned and without headers (-tA): one line per row, columns separated
// by "|". It stops at the first error.
func (tl tools) query(url, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), psqlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tl.psql, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql)
	cmd.Env = environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql %q: %v: %s", sql, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of the file at path, or why it cannot.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
