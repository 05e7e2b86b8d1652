// Package extapi is Switchboard's extension API: the endpoints under
// /switchboard/v1/ that are not Microsoft Graph. Today that is health and
// readiness and the per-call notification log (list, with delivery status;
// replay from a sequence number); the simulation control endpoints join the
// same route table. docs/openapi/switchboard-extension.yaml describes it.
//
// Requests other than health and readiness carry a bearer token that
// internal/auth issues, as Graph requests do, and errors use the Graph error
// envelope through graph.WriteError, so that one client library and one
// error table serve both APIs. A caller sees the log of a call it owns (same
// tenant and application) or, holding Switchboard.Admin, of any call of its
// own tenant; anything else is answered exactly as a call that does not
// exist. Simulation control, too, needs Switchboard.Admin and reaches the
// caller's tenant only. Switchboard.Operator, which only the server's
// configuration grants, is Switchboard.Admin in every tenant.
//
// The package translates HTTP and owns no state. It must not import a store
// or touch SQL; it declares the Store and Replayer it needs, which the
// SQLite store and the notify worker implement.
package extapi
