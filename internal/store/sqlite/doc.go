// Package sqlite is the single-node store: one SQLite database file (pure Go,
// modernc.org/sqlite, no cgo) holding the conversations and their call legs
// (calls.Store), the notification outbox (notify.Outbox), the token and
// callback signing keys (auth.KeyStore) and the registered applications
// with their hashed secrets and certificates (auth.AppStore). One *Store
// implements them all, so that a state change and the notifications it
// causes commit in one transaction.
//
// # Schema
//
// The schema is a list of numbered SQL files under migrations/, embedded in
// the binary and applied in order by Open, each in one transaction with its
// row in schema_migrations. A database carrying a migration this build does
// not know was written by a newer Switchboard; Open refuses it
// (ErrSchemaTooNew) rather than risk corrupting it. A conversation is stored
// as store/codec encodes it, the JSON of *calls.Conversation without its
// legs' specs; the calls table is a projection of its legs, for listing and
// queries, and holds each leg's spec, which never changes: a commit writes
// it once, and writes a calls row again only when the leg changed. Times are
// INTEGER unix nanoseconds, NULL for the zero time.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL: when a write method
// (Commit, CommitAll, Delivered, Attempted, Record, DeleteEnded, SaveKey,
// DeleteKey, and the application writes such as CreateApp) returns nil, the change is in the fsynced WAL and
// survives a crash or power loss. When it returns an error, none of that
// call's change was made. Reads (LoadLive, Pending, LoadKeys, GetApp,
// ListApps) run on a pool of read-only connections and see every write that
// has returned.
//
// Another process may open the same file: the switchboard apps command
// registers applications in a server's database while the server runs, and
// the server sees them on its next read. SQLite's locking (with
// Options.BusyTimeout) serialises the two writers.
//
// # Batching
//
// All writes go through one writer goroutine and its one connection. It takes
// every request queued (up to Options.MaxBatch) and runs them in a single
// BEGIN IMMEDIATE ... COMMIT, so that many concurrent callers share one
// fsync (group commit). Each request runs under its own SAVEPOINT: a request
// that fails (say, an outbox entry whose (call, seq) already exists) is rolled
// back alone and its neighbours commit. If the transaction as a whole fails,
// every request in it gets the error. A caller's ctx counts only while its
// request is queued; once the writer has taken it, the call returns the
// outcome of its batch. Close stops taking requests, lets the writer finish
// those already queued, and waits for it.
//
// A caller that writes one request at a time waits a whole transaction,
// fsync included, for each: throughput comes from concurrent callers.
//
// The writer's connection does not checkpoint the WAL itself
// (wal_autocheckpoint=0): every few transactions it asks a goroutine with a
// connection of its own to run a PASSIVE checkpoint, so that no commit
// waits for one.
//
// The package must not import net/http or internal/graph's HTTP side; it
// knows the domain types only to store them.
package sqlite
