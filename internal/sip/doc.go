// Package sip makes SIP phones, PBXs and trunks endpoints of Switchboard's
// calls: it is the SIP kind of calls.Endpoints.
//
// A Server listens for SIP over UDP and TCP on one address (sipgo does the
// parsing, transactions and dialogs). Each call it takes part in is one
// dialog and one RTP leg (internal/rtpmedia) in the conversation's media
// room (internal/media):
//
//   - An INVITE to sip:<application client id>@host, or to a number or
//     alias assigned to an application, is an incoming call to that
//     application (calls.Service.Incoming): 180 Ringing at once, 200 with
//     the SDP answer when the application answers, 486 or 603 when it
//     rejects, 480 when nobody acts in the answer window. An INVITE to
//     sip:<joinMeetingId>@host joins that live meeting at once.
//   - Dial sends an INVITE offering PCMU, PCMA and telephone-event to
//     where the Directory routes the identity; the final response becomes
//     a signal (answered, or failed with the result of ResultFor).
//   - BYE either way, CANCEL either way, and an RTP silence longer than
//     Config.RTPTimeout (the call then ends with 410/301005) end a dialog.
//
// The Server never holds a conversation's lock: it reports what phones do
// with calls.Service.Signal, from goroutines of its own, and what the
// domain tells it (Dial, Accept, End, Mute) only starts work and returns.
package sip
