// Package console serves Switchboard's web console at /console/: a page
// that lists live and recent calls as they change, shows a call's
// roster, state timeline and notification log, and drives the
// simulation. Its assets (plain HTML, CSS and JavaScript, no build step)
// are embedded in the binary.
//
// The console holds no API of its own: a signed-in browser's requests to
// /console/api/<path> are the Graph API and extension API requests at
// <path>, sent in-process with the access token of the session's
// application, so every rule of those APIs (tenants, roles, limits)
// applies unchanged. A session is an HttpOnly, SameSite=Strict cookie
// naming a server-side session that holds the token; state-changing
// requests carry the session's CSRF token in X-CSRF-Token; every response
// carries a Content-Security-Policy that allows only the console's own
// scripts and styles. /console/events streams the calls that commits
// change (server-sent events fed by the calls domain's observer).
package console

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Prefix is where the console is served.
const Prefix = "/console/"

//go:embed assets
var assets embed.FS

// Credentials sign an application in: its client id and either a client
// secret or a client assertion (a JWT signed with the application's
// certificate, as MSAL makes it).
type Credentials struct {
	TenantID        string `json:"tenantId"`
	ClientID        string `json:"clientId"`
	ClientSecret    string `json:"clientSecret"`
	ClientAssertion string `json:"clientAssertion"`
}

// Token is an access token and when it expires.
type Token struct {
	AccessToken string
	Expires     time.Time
}

// Config configures the console. Backend, SignIn and Principal are
// required.
type Config struct {
	// Backend serves the API requests the console sends on a session's
	// behalf (paths under /v1.0/, /beta/ and /switchboard/v1/).
	Backend http.Handler
	// SignIn exchanges credentials for an access token, as the token
	// endpoint does for the browser's request r; its error's text is shown
	// to the person signing in.
	SignIn func(r *http.Request, c Credentials) (Token, error)
	// Principal returns who an access token is.
	Principal func(token string) (auth.Principal, error)
	// DevLogin, when set, signs in a browser that reaches the console on a
	// loopback listener from a loopback address without asking
	// (development mode): as these credentials' application.
	DevLogin *Credentials
	// Events feeds /console/events; nil serves no events.
	Events *Hub
	// Browser, when set, lets the page call from the browser (WebRTC).
	Browser Browser
	// Clock defaults to the wall clock.
	Clock clock.Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// MaxSessions bounds the sessions held (default 1000): the oldest goes
	// first.
	MaxSessions int
}

// Handler serves the console under Prefix.
type Handler struct {
	cfg      Config
	sessions *sessions
	files    http.Handler
	browsers browserCalls
}

// New returns the console's handler.
func New(cfg Config) *Handler {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1000
	}
	sub, _ := fs.Sub(assets, "assets")
	return &Handler{cfg: cfg, sessions: newSessions(cfg.Clock, cfg.MaxSessions), files: http.FileServerFS(sub)}
}

// contentSecurityPolicy allows the console's own scripts, styles, media
// and connections, and nothing inline or from elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	rest := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(Prefix, "/"))
	switch {
	case rest == "":
		http.Redirect(w, r, Prefix, http.StatusFound)
	case rest == "/session":
		h.serveSession(w, r)
	case rest == "/events":
		h.serveEvents(w, r)
	case strings.HasPrefix(rest, "/webrtc/"):
		h.serveBrowser(w, r, strings.TrimPrefix(rest, "/webrtc/"))
	case rest == "/result-codes.html":
		serveResultCodes(w, r)
	case strings.HasPrefix(rest, "/api/"):
		h.serveAPI(w, r, strings.TrimPrefix(rest, "/api"))
	default:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The console's pages are read with GET.")
			return
		}
		hd.Set("Cache-Control", "no-cache")
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		h.files.ServeHTTP(w, r2)
	}
}

// sessionView is what the page learns of its session.
type sessionView struct {
	TenantID  string   `json:"tenantId"`
	ClientID  string   `json:"clientId"`
	Roles     []string `json:"roles"`
	Admin     bool     `json:"admin"`
	CSRFToken string   `json:"csrfToken"`
	Expires   string   `json:"expires"`
	Dev       bool     `json:"dev"`
}

// serveSession: GET the session (signing a development browser in), POST
// credentials to sign in, DELETE to sign out.
func (h *Handler) serveSession(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s := h.session(r)
		if s == nil && h.devBrowser(r) {
			var err error
			if s, err = h.signIn(r, *h.cfg.DevLogin, true); err != nil {
				h.cfg.Logger.Error("console: development sign-in failed", "err", err)
				writeError(w, http.StatusInternalServerError, "signInFailed", "The development application could not sign in: "+err.Error())
				return
			}
			h.setCookie(w, r, s)
		}
		if s == nil {
			writeError(w, http.StatusUnauthorized, "signInRequired", "Sign in with the client id and secret of an application.")
			return
		}
		writeJSON(w, http.StatusOK, s.view())
	case http.MethodPost:
		if !sameOrigin(r) || !isJSON(r) {
			writeError(w, http.StatusForbidden, "Forbidden", "Sign in from the console's own page (a JSON request from its origin).")
			return
		}
		var c Credentials
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&c); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "The body must be JSON: tenantId, clientId and clientSecret (or clientAssertion).")
			return
		}
		if c.TenantID == "" || c.ClientID == "" || (c.ClientSecret == "") == (c.ClientAssertion == "") {
			writeError(w, http.StatusBadRequest, "BadRequest", "Give the tenant id, the client id, and either the client secret or a client assertion.")
			return
		}
		s, err := h.signIn(r, c, false)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "signInFailed", err.Error())
			return
		}
		h.setCookie(w, r, s)
		writeJSON(w, http.StatusOK, s.view())
	case http.MethodDelete:
		s := h.session(r)
		if s == nil || !s.checkCSRF(r) {
			writeError(w, http.StatusForbidden, "Forbidden", "Signing out needs the session's CSRF token.")
			return
		}
		h.sessions.drop(s.id)
		h.browsers.setReachable(s.id, nil)
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET, POST or DELETE.")
	}
}

// signIn gets a token for c and opens a session with it.
func (h *Handler) signIn(r *http.Request, c Credentials, dev bool) (*session, error) {
	tok, err := h.cfg.SignIn(r, c)
	if err != nil {
		return nil, err
	}
	p, err := h.cfg.Principal(tok.AccessToken)
	if err != nil {
		return nil, err
	}
	return h.sessions.open(tok, p, dev), nil
}

// devBrowser reports whether r may be signed in without asking: in
// development mode, on a loopback listener, from a loopback address.
func (h *Handler) devBrowser(r *http.Request) bool {
	if h.cfg.DevLogin == nil {
		return false
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil || !loopback(local.String()) {
		return false
	}
	return loopback(r.RemoteAddr)
}

func loopback(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// sameOrigin reports whether a browser's request comes from the page it
// is sent to: Origin (which browsers send with every POST) names r's own
// scheme and host. A request without Origin is not a cross-site one a
// browser would send.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return o == scheme+"://"+r.Host
}

func isJSON(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}

// apiPrefixes are the APIs the console reaches on a session's behalf.
var apiPrefixes = []string{"/v1.0/", "/beta/", "/switchboard/v1/"}

// recordingsPrefix is where the server serves recordResponse recordings
// (recordings.PathPrefix).
const recordingsPrefix = "/switchboard/v1/recordings/"

// serveAPI sends r to the Backend as the API request at path, with the
// session's token; a state-changing one must carry the CSRF token.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	s := h.session(r)
	if s == nil {
		writeError(w, http.StatusUnauthorized, "signInRequired", "The console session has ended; sign in again.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.checkCSRF(r) {
		writeError(w, http.StatusForbidden, "Forbidden", "A change through the console needs the session's CSRF token (X-CSRF-Token).")
		return
	}
	allowed := false
	for _, p := range apiPrefixes {
		allowed = allowed || strings.HasPrefix(path, p)
	}
	if !allowed {
		writeError(w, http.StatusNotFound, "BadRequest", "The console reaches only the Graph API and the extension API.")
		return
	}
	out := r.Clone(r.Context())
	out.URL.Path, out.URL.RawPath = path, ""
	out.RequestURI = out.URL.RequestURI()
	out.Header.Del("Cookie")
	out.Header.Del(csrfHeader)
	if !strings.HasPrefix(path, recordingsPrefix) {
		out.Header.Set("Authorization", "Bearer "+s.token)
	} // a recording is authorised by its own access token, which the page sends: never the session's token
	h.cfg.Backend.ServeHTTP(w, out)
}

// setCookie gives the browser the session's cookie.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, s *session) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.id, Path: Prefix, Expires: s.expires,
		MaxAge: int(s.expires.Sub(h.cfg.Clock.Now()).Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// session returns r's live session, or nil.
func (h *Handler) session(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return h.sessions.get(c.Value)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes a Graph-shaped error.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// randomID is 32 random bytes, base64url.
func randomID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// equalSecret compares two secrets in constant time.
func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
