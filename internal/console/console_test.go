package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
)

// fixture is a console over a backend that echoes the token it got.
type fixture struct {
	h   *Handler
	now time.Time
}

func newFixture(t *testing.T, dev bool) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Cookie") != "" || r.Header.Get(csrfHeader) != "" {
			t.Errorf("the backend got the browser's cookie or CSRF token")
		}
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
	})
	cfg := Config{Backend: backend, Events: NewHub(), Clock: clockFunc(func() time.Time { return f.now }),
		SignIn: func(r *http.Request, c Credentials) (Token, error) {
			if c.ClientSecret != "right" && c.ClientSecret != "dev" {
				return Token{}, errors.New("Invalid client secret provided.")
			}
			return Token{AccessToken: "tok-" + c.ClientID, Expires: f.now.Add(time.Hour)}, nil
		},
		Principal: func(tok string) (auth.Principal, error) {
			app := strings.TrimPrefix(tok, "tok-")
			p := auth.Principal{TenantID: "t1", AppID: app}
			if app == "admin-app" {
				p.Roles = []string{auth.RoleAdmin}
			}
			return p, nil
		}}
	if dev {
		cfg.DevLogin = &Credentials{TenantID: "t1", ClientID: "admin-app", ClientSecret: "dev"}
	}
	f.h = New(cfg)
	return f
}

// do serves a request from remote to a listener at local.
func (f *fixture) do(method, path, body, local, remote string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://console.test"+path, strings.NewReader(body))
	r.RemoteAddr = remote
	la, _ := net.ResolveTCPAddr("tcp", local)
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, la))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func cookieOf(w *httptest.ResponseRecorder) string {
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

const loop, far = "127.0.0.1:8080", "192.0.2.7:50000"

func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	f := newFixture(t, false)
	for _, path := range []string{"/console/", "/console/console.js", "/console/session", "/console/api/v1.0/x", "/console/result-codes.html"} {
		w := f.do("GET", path, "", loop, far)
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	if w := f.do("GET", "/console/", "", loop, far); w.Code != 200 || !strings.Contains(w.Body.String(), "console.js") {
		t.Fatalf("the page: %d %s", w.Code, w.Body)
	}
}

func TestDevelopmentBrowserOnLoopbackIsSignedIn(t *testing.T) {
	f := newFixture(t, true)
	w := f.do("GET", "/console/session", "", loop, "127.0.0.1:50000")
	c := w.Result().Cookies()
	if w.Code != 200 || len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != Prefix || c[0].MaxAge != 3600 {
		t.Fatalf("a loopback browser in development mode: %d %s, cookies %+v", w.Code, w.Body, c)
	}
	if !strings.Contains(w.Body.String(), `"admin":true`) || strings.Contains(w.Body.String(), "tok-") {
		t.Fatalf("session view %s: want admin, and no token", w.Body)
	}
	// Not from elsewhere, nor on a listener that is not loopback.
	for _, tc := range [][2]string{{loop, far}, {"10.0.0.5:8080", "127.0.0.1:50000"}} {
		if w := f.do("GET", "/console/session", "", tc[0], tc[1]); w.Code != http.StatusUnauthorized || cookieOf(w) != "" {
			t.Errorf("listener %s, browser %s: %d, want 401 and no session", tc[0], tc[1], w.Code)
		}
	}
	// Nor outside development mode.
	if w := newFixture(t, false).do("GET", "/console/session", "", loop, "127.0.0.1:50000"); w.Code != http.StatusUnauthorized {
		t.Errorf("a loopback browser outside development mode: %d", w.Code)
	}
}

func TestSignInAndCSRF(t *testing.T) {
	f := newFixture(t, false)
	body := `{"tenantId":"t1","clientId":"app-1","clientSecret":"right"}`
	if w := f.do("POST", "/console/session", body, loop, far, "Content-Type", "application/json", "Origin", "https://evil.example"); w.Code != http.StatusForbidden {
		t.Fatalf("a sign-in from another origin: %d", w.Code)
	}
	if w := f.do("POST", "/console/session", body, loop, far, "Content-Type", "application/x-www-form-urlencoded"); w.Code != http.StatusForbidden {
		t.Fatalf("a form sign-in: %d", w.Code)
	}
	if w := f.do("POST", "/console/session", strings.Replace(body, "right", "wrong", 1), loop, far, "Content-Type", "application/json"); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Invalid client secret") {
		t.Fatalf("a wrong secret: %d %s", w.Code, w.Body)
	}
	w := f.do("POST", "/console/session", body, loop, far, "Content-Type", "application/json", "Origin", "http://console.test")
	cookie := cookieOf(w)
	if w.Code != 200 || cookie == "" {
		t.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	csrf := f.h.sessions.get(strings.TrimPrefix(cookie, cookieName+"=")).csrf

	// Reads go through with the session's token; changes need the CSRF token.
	if w := f.do("GET", "/console/api/v1.0/communications/calls", "", loop, far, "Cookie", cookie); w.Code != 200 || w.Body.String() != "GET /v1.0/communications/calls Bearer tok-app-1" {
		t.Fatalf("a read: %d %q", w.Code, w.Body)
	}
	if w := f.do("POST", "/console/api/v1.0/communications/calls", "{}", loop, far, "Cookie", cookie); w.Code != http.StatusForbidden {
		t.Fatalf("a POST without the CSRF token: %d %s", w.Code, w.Body)
	}
	if w := f.do("POST", "/console/api/v1.0/communications/calls", "{}", loop, far, "Cookie", cookie, csrfHeader, "guess"); w.Code != http.StatusForbidden {
		t.Fatalf("a POST with a wrong CSRF token: %d", w.Code)
	}
	if w := f.do("POST", "/console/api/v1.0/communications/calls", "{}", loop, far, "Cookie", cookie, csrfHeader, csrf); w.Code != 200 {
		t.Fatalf("a POST with the CSRF token: %d %s", w.Code, w.Body)
	}
	// A recording is fetched with its own access token, never the session's;
	// anywhere else the page's Authorization is replaced.
	if w := f.do("GET", "/console/api/switchboard/v1/recordings/r1", "", loop, far, "Cookie", cookie, "Authorization", "Bearer rec-token"); w.Body.String() != "GET /switchboard/v1/recordings/r1 Bearer rec-token" {
		t.Fatalf("a recording: %q", w.Body)
	}
	if w := f.do("GET", "/console/api/switchboard/v1/recordings/r1", "", loop, far, "Cookie", cookie); w.Body.String() != "GET /switchboard/v1/recordings/r1 " {
		t.Fatalf("a recording without its token: %q", w.Body)
	}
	if w := f.do("GET", "/console/api/v1.0/communications/calls", "", loop, far, "Cookie", cookie, "Authorization", "Bearer other"); w.Body.String() != "GET /v1.0/communications/calls Bearer tok-app-1" {
		t.Fatalf("a read with the page's own Authorization: %q", w.Body)
	}
	// Only the APIs, and only with a session.
	if w := f.do("GET", "/console/api/common/oauth2/v2.0/token", "", loop, far, "Cookie", cookie); w.Code != http.StatusNotFound {
		t.Fatalf("the token endpoint through the console: %d", w.Code)
	}
	if w := f.do("GET", "/console/api/v1.0/communications/calls", "", loop, far); w.Code != http.StatusUnauthorized {
		t.Fatalf("no session: %d", w.Code)
	}
	// The session ends with its token.
	f.now = f.now.Add(time.Hour)
	if w := f.do("GET", "/console/api/v1.0/communications/calls", "", loop, far, "Cookie", cookie); w.Code != http.StatusUnauthorized {
		t.Fatalf("an expired session: %d", w.Code)
	}
}

func TestSignOutNeedsCSRF(t *testing.T) {
	f := newFixture(t, true)
	w := f.do("GET", "/console/session", "", loop, "127.0.0.1:1")
	cookie := cookieOf(w)
	s := f.h.sessions.get(strings.TrimPrefix(cookie, cookieName+"="))
	if w := f.do("DELETE", "/console/session", "", loop, "127.0.0.1:1", "Cookie", cookie); w.Code != http.StatusForbidden {
		t.Fatalf("sign out without the CSRF token: %d", w.Code)
	}
	if w := f.do("DELETE", "/console/session", "", loop, "127.0.0.1:1", "Cookie", cookie, csrfHeader, s.csrf); w.Code != http.StatusNoContent {
		t.Fatalf("sign out: %d", w.Code)
	}
	if f.h.sessions.get(s.id) != nil {
		t.Fatal("the session outlived signing out")
	}
}

// The live view tells a session only of the calls it may see.
func TestEventsAreFilteredBySession(t *testing.T) {
	hub := NewHub()
	own := hub.subscribe(&session{principal: auth.Principal{TenantID: "t1", AppID: "app-1"}})
	admin := hub.subscribe(&session{principal: auth.Principal{TenantID: "T1", AppID: "app-9", Roles: []string{auth.RoleAdmin}}})
	hub.ConversationChanged(&calls.Conversation{ID: "c", Legs: []*calls.Call{
		{ID: "call-a", TenantID: "t1", AppID: "APP-1", State: calls.StateEstablished},
		{ID: "call-b", TenantID: "t1", AppID: "app-2", State: calls.StateEstablished},
		{ID: "call-c", TenantID: "t2", AppID: "app-1", State: calls.StateEstablished},
	}})
	got := func(s *subscriber) []string {
		var ids []string
		for len(s.events) > 0 {
			var e Event
			json.Unmarshal((<-s.events).data, &e)
			ids = append(ids, e.CallID)
		}
		return ids
	}
	if ids := got(own); len(ids) != 1 || ids[0] != "call-a" {
		t.Errorf("an application's stream got %v, want [call-a]", ids)
	}
	if ids := got(admin); len(ids) != 2 {
		t.Errorf("an administrator's stream got %v, want its tenant's two", ids)
	}

	// Who speaks goes to whoever sees one of the conversation's calls.
	other := hub.subscribe(&session{principal: auth.Principal{TenantID: "t3", AppID: "app-1", Roles: []string{auth.RoleAdmin}}})
	hub.SpeakingChanged(&calls.Conversation{ID: "c", Legs: []*calls.Call{{ID: "call-a", TenantID: "t1", AppID: "app-1"}}}, "p-7", true)
	for _, s := range []*subscriber{own, admin} {
		if len(s.events) != 1 {
			t.Fatalf("%d speaking events, want 1", len(s.events))
		}
		m := <-s.events
		if m.name != "speaking" || string(m.data) != `{"conversationId":"c","participantId":"p-7","speaking":true}` {
			t.Errorf("speaking event %s %s", m.name, m.data)
		}
	}
	if len(other.events) != 0 {
		t.Errorf("another tenant's stream heard who speaks")
	}
}

type clockFunc func() time.Time

func (c clockFunc) Now() time.Time                              { return c() }
func (c clockFunc) AfterFunc(time.Duration, func()) clock.Timer { return nil }
