// Package phones answers two questions for the SIP server: who is this SIP
// peer, and where is this Graph identity reached over SIP. It is pure
// logic: it opens no socket and parses no SIP message beyond the values of
// the Authorization header, so the SIP server (internal/sip) hands it plain
// values and sends what it returns.
//
// A Directory holds the configuration (Config: accounts, static contacts,
// trunks), the live registrations of the accounts' phones, digest nonces,
// the per-source INVITE rate limiter and the per-trunk call counts. Its
// contracts:
//
//   - Route resolves an identity in a fixed order: a static contact, then
//     the newest live registration of an account bound to the identity,
//     then, for a phone number, the trunk whose number pattern matches it
//     longest. Bound reports whether the identity is a SIP one at all (an
//     account, contact or trunk pattern exists), so that a bound identity
//     with no Route, a phone that is not registered now, is unreachable
//     rather than unknown.
//   - Register and Authenticate implement digest authentication (RFC 2617,
//     RFC 7616, RFC 8760 for SHA-256) with qop=auth. A wrong password and
//     an unknown username get the same 403 after the same work, so the
//     registrar tells no one which usernames exist. Nonces are stateless
//     (an HMAC over their time and the realm, with a key made at start) and
//     live five minutes; an expired one with a correct response gets a new
//     challenge with stale=true.
//   - Registrations live on the injected clock: between 60 seconds
//     (shorter asks get 423) and an hour (longer asks are shortened), at
//     most MaxBindings per account; nothing of them is stored.
//   - Admit tells where an INVITE comes from (a trunk by its allowFrom
//     list, a registered phone by its address, or unknown) and spends the
//     source's token (trunks excepted), in a limiter whose memory is
//     bounded however many addresses a flood forges; Acquire bounds each
//     trunk's concurrent calls.
//
// Accounts are looked up in the configuration first, then in an Accounts
// source (the store, which the `switchboard sip-accounts` command writes),
// on every request, so a running server sees the command's changes at once.
// Passwords are kept only as HA1 hashes; a trunk's outbound password is the
// exception, as answering a challenge needs it in the clear.
//
// A Directory is safe for concurrent use. The package imports only the
// standard library, internal/clock and internal/throttle; it must not
// import the SIP stack, the calls domain or the store.
package phones
