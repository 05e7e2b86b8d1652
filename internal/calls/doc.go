// Package calls is Switchboard's domain: conversations, the call legs that
// applications hold in them, participants, timers and the call state machine.
//
// A conversation is the real-world call (peer-to-peer or group); a Call is one
// application's leg in it, the Graph "call" resource. Every command on a
// conversation (create, hang up, an endpoint answering, a timer firing) runs
// under that conversation's lock, one at a time: the command computes the new
// state with the pure Transition function, then the new state and the
// notifications it causes are committed to the Store in one transaction (the
// outbox), and only then does the in-memory state change and the Dispatcher
// learn about the notifications. A failed commit leaves everything as it was.
//
// Timers (ring timeouts, simulated answers, terminating -> terminated) are part
// of the persisted conversation, so they resume after a restart.
//
// The package imports only the standard library and small leaf packages
// (internal/clock and the wire model internal/graph/model, whose types the
// notifications carry). It declares the interfaces it needs (Store,
// Dispatcher, Directory) and never touches HTTP or SQL.
package calls
