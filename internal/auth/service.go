package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Defaults for the zero values of Config fields.
const (
	DefaultTokenLifetime  = time.Hour
	DefaultCallbackIssuer = "https://api.botframework.com"
)

// Config configures a Service.
type Config struct {
	// Clock is the source of time; nil means clock.Real.
	Clock clock.Clock
	// Keys stores the signing keys; required.
	Keys KeyStore
	// Apps looks up registered applications; required.
	Apps Apps
	// TokenLifetime is the lifetime of access tokens; zero means
	// DefaultTokenLifetime. msal-node caches only tokens that live more than
	// five minutes.
	TokenLifetime time.Duration
	// CallbackIssuer is the iss of callback tokens and of the callback
	// OpenID configuration; empty means DefaultCallbackIssuer, which bots
	// written for Microsoft Graph already accept.
	CallbackIssuer string
	// Logger receives token-issuing events; nil discards them.
	Logger *slog.Logger
}

// Service issues and validates tokens. It is safe for concurrent use. Its
// signing keys are fixed when New returns.
type Service struct {
	clock          clock.Clock
	apps           Apps
	lifetime       time.Duration
	callbackIssuer string
	log            *slog.Logger
	keys           *keySet
	handler        http.Handler
	verified       *verifiedCache

	cbMu     sync.Mutex
	cbTokens map[callbackKey]callbackToken
}

// New returns a Service using the keys in cfg.Keys, generating and saving a
// key first if the store holds none. It fails if cfg lacks Keys or Apps, or
// if a stored key cannot be used.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Keys == nil {
		return nil, errors.New("auth: Config.Keys is nil")
	}
	if cfg.Apps == nil {
		return nil, errors.New("auth: Config.Apps is nil")
	}
	if cfg.TokenLifetime < 0 {
		return nil, errors.New("auth: Config.TokenLifetime is negative")
	}
	s := &Service{
		clock:          cfg.Clock,
		apps:           cfg.Apps,
		lifetime:       cfg.TokenLifetime,
		callbackIssuer: cfg.CallbackIssuer,
		log:            cfg.Logger,
		verified:       newVerifiedCache(verifiedCacheSize),
		cbTokens:       make(map[callbackKey]callbackToken),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultTokenLifetime
	}
	if s.callbackIssuer == "" {
		s.callbackIssuer = DefaultCallbackIssuer
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	keys, err := loadKeySet(ctx, cfg.Keys, s.clock.Now())
	if err != nil {
		return nil, err
	}
	s.keys = keys
	s.handler = s.routes()
	return s, nil
}

// Route patterns served by Handler, in net/http.ServeMux syntax.
const (
	routeDiscovery         = "GET /{tenant}/v2.0/.well-known/openid-configuration"
	routeDiscoveryV1       = "GET /{tenant}/.well-known/openid-configuration"
	routeKeys              = "GET /{tenant}/discovery/v2.0/keys"
	routeKeysV1            = "GET /{tenant}/discovery/keys"
	routeToken             = "POST /{tenant}/oauth2/v2.0/token"
	routeAuthorize         = "GET /{tenant}/oauth2/v2.0/authorize"
	routeCallbackDiscovery = "GET /callbacks/v1/.well-known/OpenIdConfiguration"
	routeCallbackKeys      = "GET /callbacks/v1/keys"
)

// Routes returns the request patterns that Handler serves, in net/http
// ServeMux syntax, for mounting Handler on another mux:
//
//	for _, p := range auth.Routes() { mux.Handle(p, svc.Handler()) }
//
// The {tenant} patterns are at the host root, which MSAL requires. Handler
// answers 404 for the tenant values "v1.0", "beta", "switchboard" and
// "callbacks", so it never serves a path under /v1.0/, /beta/ or
// /switchboard/. A mux that also has a catch-all such as "/v1.0/" or
// "/v1.0/{rest...}" will find these patterns ambiguous and panic; register
// the Graph routes with explicit patterns. The slice is new on each call.
func Routes() []string {
	return []string{
		routeDiscovery,
		routeDiscoveryV1,
		routeKeys,
		routeKeysV1,
		routeToken,
		routeAuthorize,
		routeCallbackDiscovery,
		routeCallbackKeys,
	}
}

// Handler returns the HTTP handler for the paths in Routes.
func (s *Service) Handler() http.Handler { return s.handler }

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(routeDiscovery, s.tenantRoute(true, s.serveDiscovery))
	mux.HandleFunc(routeDiscoveryV1, s.tenantRoute(true, s.serveDiscovery))
	mux.HandleFunc(routeKeys, s.tenantRoute(true, s.serveKeys))
	mux.HandleFunc(routeKeysV1, s.tenantRoute(true, s.serveKeys))
	mux.HandleFunc(routeToken, s.tenantRoute(false, s.serveToken))
	mux.HandleFunc(routeAuthorize, s.tenantRoute(true, s.serveAuthorize))
	mux.HandleFunc(routeCallbackDiscovery, s.serveCallbackDiscovery)
	mux.HandleFunc(routeCallbackKeys, func(w http.ResponseWriter, r *http.Request) { s.serveKeys(w, r, "") })
	return mux
}

// reservedTenants are first path segments that belong to other parts of
// the server.
var reservedTenants = map[string]bool{"v1.0": true, "beta": true, "switchboard": true, "callbacks": true}

// tenantIndependent are the tenant aliases Entra accepts for discovery.
var tenantIndependent = map[string]bool{"common": true, "organizations": true, "consumers": true}

// tenantRoute validates the {tenant} path value before calling next with it.
func (s *Service) tenantRoute(allowIndependent bool, next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		lower := strings.ToLower(tenant)
		if reservedTenants[lower] {
			http.NotFound(w, r)
			return
		}
		if !validTenant(tenant) {
			s.writeOAuthError(w, r, errBadTenant(tenant))
			return
		}
		if !allowIndependent && tenantIndependent[lower] {
			s.writeOAuthError(w, r, errTenantIndependent(tenant))
			return
		}
		next(w, r, tenant)
	}
}

// validTenant reports whether t can be a tenant id or domain name: letters,
// digits, '-' and '.', as MSAL allows.
func validTenant(t string) bool {
	if t == "" || len(t) > 256 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// baseURL is the scheme and host the client used to reach us, which MSAL
// requires in the issuer.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}
