// Package sim holds Switchboard's simulated people and phones: the endpoints
// that every identity without a real (SIP or WebRTC) endpoint is bound to.
//
// Directory decides how a simulated identity responds when it is called
// (answer after a delay, never answer, be unreachable), from configuration.
// It implements calls.Directory and imports only the wire model.
package sim
