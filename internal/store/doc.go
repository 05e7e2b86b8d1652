// Package store holds the implementations of the ports that internal/calls,
// internal/notify and internal/auth declare (calls.Store, notify.Outbox,
// auth.KeyStore, auth.AppStore, and phones.Accounts for SIP accounts): SQLite now, in store/sqlite, for one node;
// PostgreSQL later, for several. Both are held to one contract, the suite in store/storetest,
// so that the domain never learns which one it runs on.
//
// Store packages speak SQL and nothing else: they must not import
// internal/graph's HTTP side, net/http or the media engine.
package store
