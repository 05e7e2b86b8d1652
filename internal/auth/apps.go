package auth

import (
	"crypto/sha256"
	"slices"
	"strings"
)

// Application permissions (app roles) that Switchboard grants and checks.
// The Calls.* names are Microsoft Graph's; Switchboard.Admin guards the
// /switchboard/ extension API.
const (
	RoleCallsInitiate             = "Calls.Initiate.All"
	RoleCallsInitiateGroupCall    = "Calls.InitiateGroupCall.All"
	RoleCallsJoinGroupCall        = "Calls.JoinGroupCall.All"
	RoleCallsJoinGroupCallAsGuest = "Calls.JoinGroupCallAsGuest.All"
	RoleCallsAccessMedia          = "Calls.AccessMedia.All"
	RoleAdmin                     = "Switchboard.Admin"
)

// AllRoles returns every role Switchboard knows, in a fixed order. The slice
// is new on each call.
func AllRoles() []string {
	return []string{
		RoleCallsInitiate,
		RoleCallsInitiateGroupCall,
		RoleCallsJoinGroupCall,
		RoleCallsJoinGroupCallAsGuest,
		RoleCallsAccessMedia,
		RoleAdmin,
	}
}

// The well-known development credentials, in the manner of Azurite's
// devstoreaccount1. They are public: the server registers DevApp only in
// development mode.
const (
	DevTenantID     = "0000000d-0000-4000-8000-000000000001"
	DevClientID     = "0000000d-0000-4000-8000-000000000002"
	DevClientSecret = "switchboard-dev-secret"
)

// Principal is the authenticated caller of an API request: an application
// acting in a tenant with the roles its token carries.
type Principal struct {
	TenantID string
	AppID    string
	Roles    []string
}

// Has reports whether p holds role. Role names are case-sensitive, as in
// Entra.
func (p Principal) Has(role string) bool {
	return slices.Contains(p.Roles, role)
}

// App is a registered application (a bot): who it is, the secrets it may
// authenticate with, and the roles its tokens carry.
type App struct {
	// ClientID is the application (client) id, normally a GUID.
	ClientID string
	// TenantID is the one tenant the application lives in; tokens are issued
	// only on that tenant's endpoint.
	TenantID    string
	DisplayName string
	// SecretHashes holds HashSecret of each valid client secret. Several
	// allow a secret to be rotated without downtime.
	SecretHashes [][]byte
	// Roles are the application permissions granted to the app.
	Roles []string
}

// HashSecret returns the SHA-256 of a client secret, the form in which
// secrets are stored and compared.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// DevApp returns the development application: DevClientID in DevTenantID,
// with secret DevClientSecret and every role.
func DevApp() App {
	return App{
		ClientID:     DevClientID,
		TenantID:     DevTenantID,
		DisplayName:  "Switchboard development app",
		SecretHashes: [][]byte{HashSecret(DevClientSecret)},
		Roles:        AllRoles(),
	}
}

// Apps looks up registered applications by client id. Implementations must
// be safe for concurrent use; Service calls App on every token request.
type Apps interface {
	// App returns the application with the given client id, and whether
	// there is one.
	App(clientID string) (App, bool)
}

// StaticApps is a fixed set of applications keyed by lowercase client id.
// Build it with NewStaticApps; it must not be modified once in use.
type StaticApps map[string]App

// NewStaticApps returns a StaticApps holding apps. A later app with the same
// client id replaces an earlier one.
func NewStaticApps(apps ...App) StaticApps {
	s := make(StaticApps, len(apps))
	for _, a := range apps {
		s[strings.ToLower(a.ClientID)] = a
	}
	return s
}

// App looks clientID up case-insensitively, since client ids are GUIDs and
// clients send them in either case.
func (s StaticApps) App(clientID string) (App, bool) {
	if a, ok := s[clientID]; ok {
		return a, true
	}
	a, ok := s[strings.ToLower(clientID)]
	return a, ok
}
