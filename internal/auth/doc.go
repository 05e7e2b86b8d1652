// Package auth is Switchboard's identity provider and gatekeeper. It owns
// three things:
//
//   - An Entra-compatible token service: OpenID discovery, a JWKS and the
//     OAuth 2.0 client-credentials token endpoint, served at the host root
//     (MSAL takes the first path segment of the authority as the tenant), so
//     that azidentity, MSAL and the Graph SDKs obtain tokens from Switchboard
//     with only the authority host changed. See [Routes] for the paths.
//   - Bearer-token validation for the Graph API: [Service.Authenticate] turns
//     a request into a [Principal] (tenant, application, roles).
//   - Callback signing: [Service.CallbackToken] mints the JWT that goes in the
//     Authorization header of every notification POST, and the handler
//     publishes its keys the way https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration
//     does for Microsoft Graph, so bots validate callbacks unchanged.
//
// Clients authenticate with a client secret (stored as a SHA-256 hash) or
// with a client assertion: a JWT signed by the key of a certificate
// registered for the application, as azidentity's certificate credential
// sends it ([Service] checks it as Entra does, and refuses a replay).
//
// Tokens are RS256 JWTs. Signing keys live in a [KeyStore] so that tokens
// survive a restart and are shared by every node. They rotate: a new key is
// published in the key sets for Config.KeyPublicationLead before it signs,
// and an old key stays published until every token it signed has expired.
// The rotation is decided from the stored keys' creation times alone, so a
// restarted process or another node reaches the same decisions.
//
// Registered applications come from an [Apps] lookup; [ChainApps] puts the
// development app, configured apps and an [AppStore] (where the switchboard
// apps command registers them) behind one lookup, and [RegisterApp],
// [RotateSecret] and [RegisterCertificate] manage an AppStore. Time comes
// from an injected clock.
//
// The package knows nothing of calls, storage engines or the Graph error
// envelope: it must not import internal/calls, internal/graph or
// internal/store. Its HTTP errors are OAuth/Entra errors, not Graph errors;
// mapping ErrMissingToken and ErrInvalidToken to a Graph 401 is the caller's
// job, with [Service.WWWAuthenticate] for the header.
package auth
