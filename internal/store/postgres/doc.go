// Package postgres is the store for several nodes: one PostgreSQL database,
// reached with pgx (github.com/jackc/pgx/v5, pure Go) through a pool of
// connections, holding what the SQLite store holds — the conversations and
// their call legs (calls.Store), the notification outbox and log
// (notify.Outbox), the signing keys (auth.KeyStore), the registered
// applications (auth.AppStore), idempotency records, used assertion ids
// and SIP accounts. *Store has the same methods as *sqlite.Store and keeps
// the same contract (store/storetest), so either serves the domain.
// Several Switchboard processes may open one database at once.
//
// # Schema
//
// The schema is a list of numbered SQL files under migrations/, embedded in
// the binary and applied in order by Open, each in one transaction with its
// row in schema_migrations. Each of those transactions first takes a
// transaction-scoped advisory lock (pg_advisory_xact_lock), so that nodes
// starting at once apply each step once; no session-scoped lock is ever
// taken, so the store works behind a connection pooler that hands each
// transaction a different server connection. A database carrying a
// migration this build does not know was written by a newer Switchboard;
// Open refuses it (ErrSchemaTooNew). The database itself must exist: the
// store creates tables, not databases.
//
// The tables are those of the SQLite store. A conversation is stored as
// store/codec encodes it (bytea: the JSON of the conversation without its
// legs' specs); the calls table is a projection of its legs and holds each
// leg's spec, written once. Times are bigint unix nanoseconds, NULL for the
// zero time, since timestamptz keeps microseconds only. Ids are text
// COLLATE "C", compared and ordered byte by byte whatever the database's
// locale; client ids and SIP usernames compare case-insensitively through
// lower().
//
// # Transactions and round trips
//
// Every method that writes more than one statement writes them in one
// transaction: when it returns nil all of it is committed, and when it
// returns an error none of it is (a connection lost during the commit
// leaves the outcome unknown, as with any database). Commit and CommitAll
// queue their statements in one pgx.Batch, sent in one round trip and run
// as one implicit transaction, which a failing statement (an outbox entry
// that exists) rolls back whole. A commit writes a leg's calls row only
// when it changed since this store last committed it (codec.Legs).
// Reservations of idempotency keys and uses of assertion ids take a
// transaction-scoped advisory lock on their scope or client, so that the
// check and the write are one step across every node.
//
// A write's ctx counts only until the store has a connection for it: the
// write then runs to its end, so that its caller learns the outcome, as
// with the SQLite store. Reads honour ctx throughout.
//
// The package must not import net/http or internal/graph's HTTP side; it
// knows the domain types only to store them.
package postgres
