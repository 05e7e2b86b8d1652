package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
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
	// RoleOperator is Switchboard.Admin in every tenant: the server's
	// operator. It is not among AllRoles: only the configuration file
	// (and development mode's application) grants it, never RegisterApp.
	RoleOperator = "Switchboard.Operator"
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

// Errors of application lookups and of an AppStore.
var (
	// ErrAppNotFound means no application has the client id.
	ErrAppNotFound = errors.New("auth: application not found")
	// ErrAppExists means an application with the client id is registered
	// already.
	ErrAppExists = errors.New("auth: application already registered")
	// ErrCertificateExists means the application has the certificate
	// already.
	ErrCertificateExists = errors.New("auth: certificate already registered")
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

// App is a registered application (a bot): who it is, the credentials it
// may authenticate with, the roles its tokens carry and where its incoming
// calls are announced.
type App struct {
	// ClientID is the application (client) id, normally a GUID. Lookups
	// match it case-insensitively.
	ClientID string
	// TenantID is the one tenant the application lives in; tokens are issued
	// only on that tenant's endpoint.
	TenantID    string
	DisplayName string
	// Roles are the application permissions granted to the app.
	Roles []string
	// WebhookURL receives the notifications of the app's incoming calls;
	// empty when the app takes none.
	WebhookURL string
	// Secrets are the client secrets, as hashes. Several allow a secret to
	// be rotated without downtime.
	Secrets []Secret
	// Certificates are the certificates whose keys may sign client
	// assertions.
	Certificates []Certificate
	// CreatedAt is when the app was registered; zero for apps that come
	// from configuration.
	CreatedAt time.Time
}

// Secret is a client secret as Switchboard keeps it: never the secret, only
// its SHA-256. Secrets that Switchboard generates are 32 random bytes, so a
// fast unsalted hash is enough: there is no dictionary to try, and 2^256
// guesses stay out of reach however fast each one is. (Secrets a person
// chose, such as a YAML file's secret, get the same treatment; choose long
// random ones.)
type Secret struct {
	// ID names the secret in listings; it reveals nothing of it.
	ID string
	// Hash is HashSecret of the secret.
	Hash []byte
	// Hint is the secret's first characters, as Entra shows them, so that
	// an operator can tell secrets apart.
	Hint      string
	CreatedAt time.Time
	// ExpiresAt is when the secret stops working; zero means never.
	ExpiresAt time.Time
}

// Expired reports whether the secret no longer works at now.
func (s Secret) Expired(now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
}

// Certificate is a certificate registered for client assertions. The
// thumbprints are those a client puts in the assertion's header.
type Certificate struct {
	// X5T is the SHA-1 of the DER certificate, base64url without padding:
	// the JWS "x5t" header (RFC 7515 §4.1.7).
	X5T string
	// X5TS256 is the SHA-256 thumbprint, base64url without padding: the
	// "x5t#S256" header, which MSAL sends.
	X5TS256 string
	// PEM is the certificate, one PEM CERTIFICATE block.
	PEM       []byte
	CreatedAt time.Time
}

// HashSecret returns the SHA-256 of a client secret, the form in which
// secrets are stored and compared.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// StaticSecret returns a Secret that never expires for a secret hash from
// configuration.
func StaticSecret(hash []byte) Secret {
	return Secret{ID: "config", Hash: hash}
}

// DevApp returns the development application: DevClientID in DevTenantID,
// with secret DevClientSecret and every role.
func DevApp() App {
	return App{
		ClientID:    DevClientID,
		TenantID:    DevTenantID,
		DisplayName: "Switchboard development app",
		Secrets:     []Secret{StaticSecret(HashSecret(DevClientSecret))},
		Roles:       AllRoles(),
	}
}

// ValidateRoles checks that every role is one Switchboard knows
// (AllRoles), with the exact spelling; RoleOperator is refused.
func ValidateRoles(roles []string) error {
	known := AllRoles()
	for _, r := range roles {
		if r == RoleOperator {
			return fmt.Errorf("auth: %s spans every tenant and is granted only in the configuration file", r)
		}
		if !slices.Contains(known, r) {
			return fmt.Errorf("auth: unknown role %q; known roles are %s", r, strings.Join(known, ", "))
		}
	}
	return nil
}

// Apps looks up registered applications by client id. Implementations must
// be safe for concurrent use; Service calls App on every token request.
type Apps interface {
	// App returns the application with the given client id, matched
	// case-insensitively. The error matches ErrAppNotFound when there is
	// none; another error means the lookup itself failed.
	App(ctx context.Context, clientID string) (App, error)
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
func (s StaticApps) App(_ context.Context, clientID string) (App, error) {
	if a, ok := s[clientID]; ok {
		return a, nil
	}
	if a, ok := s[strings.ToLower(clientID)]; ok {
		return a, nil
	}
	return App{}, ErrAppNotFound
}

// ChainApps returns an Apps that asks each source in turn and answers with
// the first that knows the client id, so an earlier source shadows a later
// one. A source's failure (other than ErrAppNotFound) ends the lookup.
func ChainApps(sources ...Apps) Apps { return chainApps(slices.Clone(sources)) }

type chainApps []Apps

func (c chainApps) App(ctx context.Context, clientID string) (App, error) {
	for _, src := range c {
		a, err := src.App(ctx, clientID)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, ErrAppNotFound) {
			return App{}, err
		}
	}
	return App{}, ErrAppNotFound
}

// StoredApps returns an Apps that reads store on every lookup, so that an
// application registered, changed or deleted by another process (the
// switchboard apps command) counts from the next token request on. Token
// requests are rare (a client keeps its token for most of an hour), so no
// cache is needed.
func StoredApps(store AppStore) Apps { return storedApps{store} }

type storedApps struct{ store AppStore }

func (s storedApps) App(ctx context.Context, clientID string) (App, error) {
	return s.store.GetApp(ctx, clientID)
}

// App looks an application up in the Service's registry (see Config.Apps),
// for instance to find the webhook of its incoming calls. Errors are those
// of Apps.App.
func (s *Service) App(ctx context.Context, clientID string) (App, error) {
	return s.apps.App(ctx, clientID)
}
