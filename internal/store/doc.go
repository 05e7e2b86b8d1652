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
// Store packages speak SQL and nothing else: they must not import
// internal/graph's HTTP side, net/http or the media engine.
package store
