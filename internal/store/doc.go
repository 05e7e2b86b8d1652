// Package store holds the implementations of the ports that internal/calls,
// internal/notify, internal/auth, internal/idempotency and internal/phones
// declare (calls.Store, notify.Outbox, auth.KeyStore, auth.AppStore,
// auth.AssertionIDStore, idempotency.Store, phones.Accounts): store/sqlite,
// one database file, for one node; and store/postgres, one PostgreSQL
// database that several nodes share. Both write what store/codec encodes,
// and both are held to one contract, the suites in store/storetest, so that
// the domain never learns which one it runs on. store/pgtest starts the
// PostgreSQL servers their tests run against.
//
// Open is the one place that picks a store: a postgres:// or postgresql://
// URL opens store/postgres, anything else is the path of a SQLite file.
// What it returns, Store, is every port the server and the switchboard
// commands use, so that neither knows which store it has.
//
// Store packages speak SQL and nothing else: they must not import
// internal/graph's HTTP side, net/http or the media engine.
package store
