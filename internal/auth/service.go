package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
	// WallClock, if set, times callback tokens instead of Clock: bots
	// check them against their own clocks, which a server's virtual
	// clock (time travel) must not put out of step.
	WallClock clock.Clock
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
	// KeyRotationPeriod is how long a signing key signs before its
	// successor takes over; zero means DefaultKeyRotationPeriod. It must
	// exceed KeyPublicationLead.
	KeyRotationPeriod time.Duration
	// KeyPublicationLead is how long a new signing key is published before
	// it signs; zero means DefaultKeyPublicationLead. It must exceed the
	// longest token lifetime (TokenLifetime, CallbackTokenLifetime) plus
	// the clock leeway of one minute. Clients may cache the key sets for
	// half of it.
	KeyPublicationLead time.Duration
	// Logger receives token-issuing and key rotation events; nil discards
	// them. Refused token requests are logged at a bounded rate (10 lines
	// a minute; the next line counts those left out).
	Logger *slog.Logger
	// PublicURLs returns the base URLs the server is reached at
	// (scheme://host[:port], no path), the canonical one first. Discovery
	// documents, the issuer of access tokens and WWW-Authenticate name the
	// one whose host the request was sent to, else the first: never a host
	// the client made up. A client assertion's aud must be the token
	// endpoint under one of them. It is called on each such request and
	// must be safe for concurrent use. Nil, or an empty list, means the
	// request's own scheme and Host header, which a client controls: for
	// tests and embedding only.
	PublicURLs func() []string
	// AssertionIDs remembers the ids (jti) of the client assertions used,
	// to refuse a replay; nil means a MemoryAssertionIDs, which forgets
	// them on restart. The server passes its store, so that a replay is
	// refused across restarts and nodes.
	AssertionIDs AssertionIDStore
	// AssertionIDsPerClient bounds the unexpired assertion ids one client
	// holds; beyond, its assertions are refused with 429 until some
	// expire. Zero means DefaultAssertionIDsPerClient.
	AssertionIDsPerClient int
	// TokenFailures bounds the failed requests of the token endpoint, per
	// source address and per client id; beyond, requests are refused with
	// 429 temporarily_unavailable and Retry-After, before their
	// credentials are checked. The zero value means DefaultFailureLimit.
	TokenFailures FailureLimit

	// generateKey replaces NewStoredKey in tests, where RSA key generation
	// is slow.
	generateKey func(time.Time) (StoredKey, error)
}

// Service issues and validates tokens. It is safe for concurrent use.
//
// Its signing keys rotate (see Config.KeyRotationPeriod): New checks them
// at once and then on a timer of the configured clock, until Close.
type Service struct {
	clock                 clock.Clock
	wallClock             clock.Clock // callback tokens
	apps                  Apps
	lifetime              time.Duration
	callbackIssuer        string
	log                   *slog.Logger
	handler               http.Handler
	verified              *verifiedCache
	assertionIDs          AssertionIDStore
	assertionIDsPerClient int
	publicURLs            func() []string
	failures              *failureLimiter
	refusals              *refusalLog

	keyStore         KeyStore
	rot              rotation
	generateKey      func(time.Time) (StoredKey, error)
	keysCacheControl string
	keys             atomic.Pointer[keySet]
	rotMu            sync.Mutex // serialises rotateKeys

	timerMu sync.Mutex
	timer   clock.Timer
	closed  bool
	timers  sync.WaitGroup // rotation timer callbacks in flight

	cbMu     sync.Mutex
	cbTokens map[callbackKey]callbackToken
}

// New returns a Service using the keys in cfg.Keys. Before it returns it
// runs a rotation check: it generates and saves a key if the store holds
// none or the newest is due a successor, and deletes retired keys. It fails
// if cfg lacks Keys or Apps, if the rotation settings are inconsistent, or
// if the keys cannot be loaded, saved or used. Call Close to stop the
// rotation timer.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Keys == nil {
		return nil, errors.New("auth: Config.Keys is nil")
	}
	if cfg.Apps == nil {
		return nil, errors.New("auth: Config.Apps is nil")
	}
	if cfg.TokenLifetime < 0 || cfg.KeyRotationPeriod < 0 || cfg.KeyPublicationLead < 0 {
		return nil, errors.New("auth: Config.TokenLifetime, KeyRotationPeriod and KeyPublicationLead must not be negative")
	}
	if cfg.TokenFailures == (FailureLimit{}) {
		cfg.TokenFailures = DefaultFailureLimit
	}
	if cfg.TokenFailures.Attempts <= 0 || cfg.TokenFailures.Period <= 0 {
		return nil, errors.New("auth: Config.TokenFailures needs Attempts and Period above zero")
	}
	s := &Service{
		clock:                 cfg.Clock,
		wallClock:             cfg.WallClock,
		apps:                  cfg.Apps,
		lifetime:              cfg.TokenLifetime,
		callbackIssuer:        cfg.CallbackIssuer,
		publicURLs:            cfg.PublicURLs,
		log:                   cfg.Logger,
		verified:              newVerifiedCache(verifiedCacheSize),
		assertionIDs:          cfg.AssertionIDs,
		assertionIDsPerClient: cfg.AssertionIDsPerClient,
		keyStore:              cfg.Keys,
		generateKey:           cfg.generateKey,
		cbTokens:              make(map[callbackKey]callbackToken),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.wallClock == nil {
		s.wallClock = s.clock
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
	if s.assertionIDs == nil {
		s.assertionIDs = &MemoryAssertionIDs{}
	}
	if s.assertionIDsPerClient <= 0 {
		s.assertionIDsPerClient = DefaultAssertionIDsPerClient
	}
	s.failures = newFailureLimiter(s.clock, cfg.TokenFailures)
	s.refusals = newRefusalLog(s.log, s.clock, DefaultRefusalLogLimit)
	if s.generateKey == nil {
		s.generateKey = NewStoredKey
	}
	s.rot = rotation{
		period:      cmp.Or(cfg.KeyRotationPeriod, DefaultKeyRotationPeriod),
		lead:        cmp.Or(cfg.KeyPublicationLead, DefaultKeyPublicationLead),
		retireAfter: max(s.lifetime, CallbackTokenLifetime) + clockLeeway,
	}
	if s.rot.lead <= s.rot.retireAfter {
		return nil, fmt.Errorf("auth: KeyPublicationLead %v must exceed the longest token lifetime plus the clock leeway, %v", s.rot.lead, s.rot.retireAfter)
	}
	if s.rot.period <= s.rot.lead {
		return nil, fmt.Errorf("auth: KeyRotationPeriod %v must exceed KeyPublicationLead %v", s.rot.period, s.rot.lead)
	}
	// A client that caches a key set for at most half the lead knows a new
	// key well before it signs.
	s.keysCacheControl = fmt.Sprintf("max-age=%d, private", int64(min(s.rot.lead/2, 24*time.Hour)/time.Second))
	next, err := s.rotateKeys(ctx)
	if err != nil {
		return nil, err
	}
	s.handler = s.routes()
	s.scheduleRotation(next)
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

// base is the scheme and host under which the service names itself in its
// answer to r: the configured public URL whose host r was sent to (MSAL
// requires the issuer to have its authority's host), else the first one.
// Without configured URLs it is r's own (baseURL).
func (s *Service) base(r *http.Request) string {
	urls := s.configuredURLs()
	for _, u := range urls {
		if sameHost(u.Host, r.Host) {
			return u.Scheme + "://" + u.Host
		}
	}
	if len(urls) > 0 {
		return urls[0].Scheme + "://" + urls[0].Host
	}
	return baseURL(r)
}

// configuredURLs parses Config.PublicURLs, skipping what is not an
// absolute http(s) URL.
func (s *Service) configuredURLs() []*url.URL {
	if s.publicURLs == nil {
		return nil
	}
	var out []*url.URL
	for _, raw := range s.publicURLs() {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue
		}
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		out = append(out, u)
	}
	return out
}

// baseURL is the scheme and Host header of r: what the client says it used
// to reach us.
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
