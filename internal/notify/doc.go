// Package notify delivers the transactional outbox of commsNotifications to
// bots' callbackUri.
//
// The calls service commits a state change and its outbox rows in one store
// transaction and then hands the new rows to a Worker with Enqueue. From there
// this package owns everything about getting them to the bot: per-call
// ordering, retries with exponential backoff and jitter, giving up, redirects,
// the URL policy hook (the SSRF guard lives behind Config.CheckURL), and
// resumption after a restart, when Start reloads every row that is neither
// delivered nor given up (or, on one node of a cluster, when the node
// adopts a call: see Clustering below).
//
// Ordering: within one call, delivery N+1 is not sent until N was acknowledged
// with a 2xx or given up. Calls are independent: each has its own queue, a
// bounded pool of goroutines serves the queues that have work, and a call
// waiting out a backoff holds no goroutine. Every request carries the
// per-call sequence number in the Switchboard-Sequence header so that bots
// can detect gaps and duplicates.
//
// Fairness: the pool serves applications (a client id in a tenant) in turn,
// one delivery each, and an application has at most
// Config.MaxInFlightPerApp deliveries in flight (a quarter of the pool by
// default). A bot that never answers holds at most its share of the pool
// for the request timeout, so it delays only its own calls; other
// applications' callbacks go out at once, and an application with many
// calls ready does not make another's wait behind all of them.
//
// Replay sends finished deliveries again when a bot asks for them (the
// notification log's replay), with their original sequence numbers and a
// Switchboard-Replay header, through the same per-call queues: a call still
// has one delivery in flight at a time, and its replays go before its live
// deliveries not yet sent.
//
// Memory is bounded. A call holds at most Config.MaxPendingPerCall
// deliveries (the oldest not in flight are given up beyond it); replays
// are idempotent (a delivery queued or in flight for replay is not queued
// again) and at most Config.MaxReplaysPerApp per application and
// Config.MaxReplays in all are queued, beyond which Replay refuses with
// ErrReplayLimit; with Config.Load a queued replay holds only its row's key
// and reads the row back when its turn comes.
//
// Redirects are followed within one attempt, up to 5 hops. The callback
// token (Authorization) goes only to the origin (scheme, host and port) of
// the callback URL: a hop to another origin gets the notification without
// it, as a bot that moved elsewhere is not trusted with its own tokens. A
// redirect from https to http gives the delivery up unless
// Config.AllowDowngrade is set (development mode).
//
// Delivery is at-least-once. Results are written back to the Outbox
// asynchronously, in order, so that a store round-trip never sits between one
// callback and the next. A delivery that was acknowledged but not yet recorded
// when the process stopped, or whose request was interrupted by Shutdown, is
// still pending in the outbox and is sent again after the restart.
//
// Clustering: with Config.Clustered the Worker runs on one of several
// nodes sharing one outbox, and delivers only the calls whose
// conversations its node owns. Start loads nothing; the Worker gets the
// deliveries the node commits through Enqueue, the backlog of the calls the
// node takes over from a dead node through Adopt (which reads it with the
// Outbox's PendingForCalls), and drops the calls the node loses with
// Forget. A call's sequence numbers stay gapless across a change of owner,
// since the new owner sends every row still pending, in Seq order; but
// delivery stays at-least-once. An attempt in flight when its call is forgotten is not
// interrupted and its result is recorded, so the new owner may send that
// delivery again, and the old node's POST may reach the bot after the new
// owner's later ones.
//
// Time comes from an injected clock.Clock. The package imports only the
// standard library and internal/clock; it must not import internal/calls,
// internal/graph or any store: it declares the Outbox and Signer interfaces
// it needs and others implement them.
package notify
