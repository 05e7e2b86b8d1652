// Package pgtest gives tests a real PostgreSQL server: it runs initdb into a
// temporary directory, starts the server there with pg_ctl, listening on
// 127.0.0.1 only (a free port, and its unix socket in the same directory),
// and stops it and removes the directory when the tests are done. It is for
// tests and benchmarks only: the server runs without fsync, with trust
// authentication, and loses everything when it stops.
//
// Most tests want Database: one server per test binary, started on first
// use and shared by every test (parallel ones too), and a new, empty
// database for each call, dropped at the test's cleanup. A test that needs a
// server of its own (a cluster test running several Switchboard nodes on
// separate servers) calls Start. A package using Database sends its
// TestMain through Run, which stops the shared server after the tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// A server is stopped even when the test binary dies without running its
// cleanups (a panicking test, go test's -timeout): a small shell process
// started with each server waits for the end of a pipe that only the test
// binary holds open, and then stops the server and removes its directory.
//
// # Where PostgreSQL comes from
//
// pgtest talks to the server only through PostgreSQL's own programs
// (initdb, pg_ctl, psql), run with os/exec; it imports no driver. It looks
// for them in the directory named by SWITCHBOARD_PG_BIN when that is set,
// otherwise in the newest /usr/lib/postgresql/<version>/bin that has initdb
// (where the Debian postgresql package installs them, off PATH), otherwise on
// PATH. psql is taken from the same directory, or from PATH.
//
// PostgreSQL refuses to run as root. When the tests run as root, as they do
// in CI, pgtest runs initdb and pg_ctl as the postgres user (which the Debian
// package creates) through runuser, and gives that user the temporary
// directory.
//
// When the programs are not found, Database and Start skip the test, so
// that the rest of the tests run on a machine without PostgreSQL. When
// SWITCHBOARD_POSTGRES is set (to anything but "" or "0") they fail it
// instead. The test command (scripts/test) installs the postgresql package
// when it is missing and exports SWITCHBOARD_POSTGRES=1, so that CI never
// passes by skipping the PostgreSQL tests.
package pgtest
