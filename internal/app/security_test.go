package app_test

// Attack tests: each drives a real server over HTTP the way an attacker or
// a careless client would. docs/security.md maps the threat model to them.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/clock"
)

const (
	tenantA = "aaaaaaaa-0000-4000-8000-000000000001"
	tenantB = "bbbbbbbb-0000-4000-8000-000000000001"
)

// prodServer runs a non-development server (plain HTTP only, so the test
// needs no certificate) with these applications:
//
//	a1, a2: tenant A, all calls permissions
//	b1:     tenant B, all calls permissions
//	weak:   tenant A, no permissions
func prodServer(t *testing.T, mod func(*app.Config), opts ...app.Option) string {
	t.Helper()
	cfg := app.Defaults()
	cfg.Dev = false
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", t.TempDir()
	cfg.Simulation.AnswerDelay = 0
	all := []string{auth.RoleCallsInitiate, auth.RoleCallsInitiateGroupCall, auth.RoleCallsJoinGroupCall}
	cfg.Apps = []app.AppConfig{
		{ClientID: "a1", TenantID: tenantA, Secret: "secret-a1", Roles: all},
		{ClientID: "a2", TenantID: tenantA, Secret: "secret-a2", Roles: all},
		{ClientID: "b1", TenantID: tenantB, Secret: "secret-b1", Roles: all},
		{ClientID: "weak", TenantID: tenantA, Secret: "secret-weak"},
	}
	if mod != nil {
		mod(&cfg)
	}
	// A production configuration holds the secrets' hashes only.
	for i := range cfg.Apps {
		if s := cfg.Apps[i].Secret; s != "" && !cfg.Dev {
			cfg.Apps[i].Secret, cfg.Apps[i].SecretSHA256 = "", sha256Hex(s)
		}
	}
	a, err := app.New(cfg, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, a) })
	<-a.Ready()
	return "http://" + a.Addr("http")
}

func appToken(t *testing.T, base, tenant, client string) string {
	t.Helper()
	res, err := http.PostForm(base+"/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {"secret-" + client},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&body)
	if body.AccessToken == "" {
		t.Fatalf("no token for %s: %d", client, res.StatusCode)
	}
	return body.AccessToken
}

type result struct {
	status int
	body   string
	header http.Header
}

func call(t *testing.T, method, u, tok, body string, hdr ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 && !strings.Contains(string(b), `"error":{"code"`) {
		t.Fatalf("%s %s: %d without a Graph error envelope: %s", method, u, res.StatusCode, b)
	}
	return result{res.StatusCode, string(b), res.Header}
}

func p2pBody(callback string) string {
	return `{"callbackUri":"` + callback + `","targets":[{"identity":{"user":{"id":"bob"}}}],
	"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`
}

// A callback URI that passes the SSRF guard without being contacted in
// the tests that use it (the TEST-NET addresses are refused, so a public
// literal is used; nothing listens there and delivery simply retries).
const publicCallback = "https://8.8.8.8/switchboard-test-callback"

func TestForgedTokensAreRefused(t *testing.T) {
	base := prodServer(t, nil)
	good := appToken(t, base, tenantA, "a1")
	parts := strings.Split(good, ".")
	var claims map[string]any
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(payload, &claims)
	var hdr map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(h, &hdr)

	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	none := enc(map[string]any{"alg": "none", "typ": "JWT", "kid": hdr["kid"]}) + "." + parts[1] + "."

	// HS256 keyed with the server's public key, as fetched from its JWKS.
	res, _ := http.Get(base + "/" + tenantA + "/discovery/v2.0/keys")
	var jwks struct {
		Keys []struct{ N, E, Kid string } `json:"keys"`
	}
	json.NewDecoder(res.Body).Decode(&jwks)
	res.Body.Close()
	n, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	hs.Header["kid"] = hdr["kid"]
	hsToken, _ := hs.SignedString(new(big.Int).SetBytes(n).Bytes())

	// Validly shaped, signed by a key of the attacker's under the server's kid.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	rs := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	rs.Header["kid"] = hdr["kid"]
	rsToken, _ := rs.SignedString(key)

	// Tampered: claims another tenant with the original signature.
	claims["tid"] = tenantB
	tampered := parts[0] + "." + enc(claims) + "." + parts[2]

	for name, tok := range map[string]string{
		"alg none": none, "HS256 with the public key": hsToken, "wrong key": rsToken,
		"tampered tenant": tampered, "garbage": "x.y.z", "empty": "",
	} {
		r := call(t, "GET", base+"/v1.0/communications/calls", tok, "")
		if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s, want 401 with WWW-Authenticate", name, r.status, r.body)
		}
	}
	if r := call(t, "GET", base+"/v1.0/communications/calls", good, ""); r.status != 200 {
		t.Fatalf("the genuine token is refused: %d", r.status)
	}
}

func TestExpiredTokenIsRefused(t *testing.T) {
	fake := clock.NewFake(time.Now())
	base := prodServer(t, nil, app.WithClock(fake))
	tok := appToken(t, base, tenantA, "a1")
	if r := call(t, "GET", base+"/v1.0/communications/calls", tok, ""); r.status != 200 {
		t.Fatalf("fresh token: %d", r.status)
	}
	fake.Advance(2 * time.Hour)
	if r := call(t, "GET", base+"/v1.0/communications/calls", tok, ""); r.status != 401 || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
}

func TestDevCredentialsOffOutsideDevMode(t *testing.T) {
	base := prodServer(t, nil)
	res, err := http.PostForm(base+"/"+auth.DevTenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {auth.DevClientID}, "client_secret": {auth.DevClientSecret},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 {
		t.Fatalf("the development credentials work with --dev=false: %d", res.StatusCode)
	}
}

func TestMissingPermissionIs403NamingIt(t *testing.T) {
	base := prodServer(t, nil)
	tok := appToken(t, base, tenantA, "weak")
	r := call(t, "POST", base+"/v1.0/communications/calls", tok, p2pBody(publicCallback))
	if r.status != 403 || !strings.Contains(r.body, "Calls.Initiate.All") {
		t.Fatalf("create without permission: %d %s", r.status, r.body)
	}
}

func TestCallsAreIsolatedByApplicationAndTenant(t *testing.T) {
	base := prodServer(t, nil)
	owner := appToken(t, base, tenantA, "a1")
	sameTenant := appToken(t, base, tenantA, "a2")
	otherTenant := appToken(t, base, tenantB, "b1")
	r := call(t, "POST", base+"/v1.0/communications/calls", owner, p2pBody(publicCallback))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	missing := call(t, "GET", base+"/v1.0/communications/calls/00000000-0000-4000-8000-000000000000", sameTenant, "")
	for _, tok := range []string{sameTenant, otherTenant} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/v1.0/communications/calls/" + created.ID},
			{"GET", "/beta/app/calls/" + created.ID + "?$expand=participants"},
			{"GET", "/v1.0/communications/calls/" + created.ID + "/participants"},
			{"DELETE", "/v1.0/communications/calls/" + created.ID},
			{"POST", "/v1.0/communications/calls/" + created.ID + "/keepAlive"},
		} {
			got := call(t, req.method, base+req.path, tok, "")
			if got.status != 404 || !strings.Contains(got.body, `"itemNotFound"`) {
				t.Errorf("%s %s by another app: %d %s", req.method, req.path, got.status, got.body)
			}
			if strings.Contains(got.body, created.ID) {
				t.Errorf("%s %s leaks the call id", req.method, req.path)
			}
			if strings.Split(got.body, `"innerError"`)[0] != strings.Split(missing.body, `"innerError"`)[0] {
				t.Errorf("%s %s: answer differs from a missing call's: %s vs %s", req.method, req.path, got.body, missing.body)
			}
		}
		if l := call(t, "GET", base+"/v1.0/communications/calls", tok, ""); !strings.Contains(l.body, `"value":[]`) {
			t.Errorf("another app lists: %s", l.body)
		}
	}
	if g := call(t, "GET", base+"/v1.0/communications/calls/"+created.ID, owner, ""); g.status != 200 {
		t.Fatalf("the owner lost its call: %d", g.status)
	}
}

func TestCallbackSSRFRefused(t *testing.T) {
	base := prodServer(t, nil)
	tok := appToken(t, base, tenantA, "a1")
	for _, cb := range []string{
		"http://8.8.8.8/cb", // not https outside dev mode
		"https://127.0.0.1/cb", "https://[::1]/cb", "https://localhost/cb",
		"https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/cb", "https://192.168.1.1/cb",
		"https://[fe80::1]/cb", "https://224.0.0.1/cb", "https://[::ffff:127.0.0.1]/cb",
		"https://user:pw@8.8.8.8/cb", "https://no-such-host.invalid/cb",
	} {
		r := call(t, "POST", base+"/v1.0/communications/calls", tok, p2pBody(cb))
		if r.status != 400 || !strings.Contains(r.body, "callbackUri") {
			t.Errorf("callback %s: %d %s, want 400 on callbackUri", cb, r.status, r.body)
		}
	}
	// An operator allow-list admits a private network again.
	allowed := prodServer(t, func(c *app.Config) { c.Notifications.AllowNetworks = []string{"10.0.0.0/8"} })
	tok = appToken(t, allowed, tenantA, "a1")
	if r := call(t, "POST", allowed+"/v1.0/communications/calls", tok, p2pBody("https://10.0.0.5/cb")); r.status != 201 {
		t.Fatalf("allow-listed callback refused: %d %s", r.status, r.body)
	}
}

func TestThrottlingReturns429ThenRecovers(t *testing.T) {
	fake := clock.NewFake(time.Now())
	base := prodServer(t, func(c *app.Config) {
		c.Throttle.Requests, c.Throttle.Period = 5, app.Duration(10*time.Second)
	}, app.WithClock(fake))
	a1, a2 := appToken(t, base, tenantA, "a1"), appToken(t, base, tenantA, "a2")
	for i := 0; i < 5; i++ {
		if r := call(t, "GET", base+"/v1.0/communications/calls", a1, ""); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := call(t, "GET", base+"/v1.0/communications/calls", a1, "")
	if r.status != 429 || r.header.Get("Retry-After") != "2" || !strings.Contains(r.body, `"TooManyRequests"`) {
		t.Fatalf("6th request: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := call(t, "GET", base+"/v1.0/communications/calls", a2, ""); r.status != 200 {
		t.Fatalf("another application was throttled too: %d", r.status)
	}
	fake.Advance(2 * time.Second)
	if r := call(t, "GET", base+"/v1.0/communications/calls", a1, ""); r.status != 200 {
		t.Fatalf("after Retry-After: %d", r.status)
	}
}

func TestHostileBodiesAreRefused(t *testing.T) {
	base := prodServer(t, nil)
	tok := appToken(t, base, tenantA, "a1")
	for name, body := range map[string]string{
		"deep":       strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
		"huge":       `{"subject":"` + strings.Repeat("x", 2<<20) + `"}`,
		"long field": `{"subject":"` + strings.Repeat("x", 20000) + `"}`,
		"wide":       `{"requestedModalities":[` + strings.Repeat(`"audio",`, 5000) + `"audio"]}`,
		"long id":    strings.Replace(p2pBody(publicCallback), `"bob"`, `"`+strings.Repeat("b", 300)+`"`, 1),
	} {
		r := call(t, "POST", base+"/v1.0/communications/calls", tok, body)
		if r.status != 400 && r.status != 413 {
			t.Errorf("%s: %d %s", name, r.status, r.body[:min(len(r.body), 200)])
		}
	}
	r := call(t, "GET", base+"/v1.0/communications/calls", tok, "", "client-request-id", strings.Repeat("x", 20000))
	if r.status != 431 {
		t.Errorf("oversized header: %d", r.status)
	}
	if l := call(t, "GET", base+"/v1.0/communications/calls", tok, ""); !strings.Contains(l.body, `"value":[]`) {
		t.Fatalf("a refused body left state behind: %s", l.body)
	}
}

func TestOpenCallLimit(t *testing.T) {
	base := prodServer(t, func(c *app.Config) {
		c.Calls.MaxOpenCallsPerApp = 2
		c.Simulation.Identities = nil
	})
	tok := appToken(t, base, tenantA, "a1")
	for i := 0; i < 2; i++ {
		if r := call(t, "POST", base+"/v1.0/communications/calls", tok, p2pBody(publicCallback)); r.status != 201 {
			t.Fatalf("create %d: %d", i, r.status)
		}
	}
	r := call(t, "POST", base+"/v1.0/communications/calls", tok, p2pBody(publicCallback))
	if r.status != 403 || !strings.Contains(r.body, "quotaLimitReached") {
		t.Fatalf("third call: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", base+"/v1.0/communications/calls", appToken(t, base, tenantA, "a2"), p2pBody(publicCallback)); r.status != 201 {
		t.Fatalf("another application is limited too: %d", r.status)
	}
}

func TestConcurrentCreatesFromManyAppsStayIsolated(t *testing.T) {
	const apps, perApp = 6, 10
	base := prodServer(t, func(c *app.Config) {
		c.Apps = nil
		for i := 0; i < apps; i++ {
			tenant := tenantA
			if i%2 == 1 {
				tenant = tenantB
			}
			c.Apps = append(c.Apps, app.AppConfig{ClientID: fmt.Sprintf("app%d", i), TenantID: tenant, Secret: fmt.Sprintf("secret-app%d", i), Roles: []string{auth.RoleCallsInitiate}})
		}
	})
	tokens := make([]string, apps)
	for i := range tokens {
		tenant := tenantA
		if i%2 == 1 {
			tenant = tenantB
		}
		tokens[i] = appToken(t, base, tenant, fmt.Sprintf("app%d", i))
	}
	ids := make([][]string, apps)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < apps; i++ {
		for j := 0; j < perApp; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/v1.0/communications/calls", strings.NewReader(p2pBody(publicCallback)))
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				var c struct{ ID string }
				json.NewDecoder(res.Body).Decode(&c)
				mu.Lock()
				ids[i] = append(ids[i], c.ID)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for i := 0; i < apps; i++ {
		var list struct {
			Value []struct{ ID string } `json:"value"`
		}
		r := call(t, "GET", base+"/v1.0/communications/calls?$top=999", tokens[i], "")
		json.Unmarshal([]byte(r.body), &list)
		if len(list.Value) != perApp {
			t.Errorf("app%d lists %d calls, want %d", i, len(list.Value), perApp)
		}
		mine := map[string]bool{}
		for _, id := range ids[i] {
			mine[id] = true
		}
		for _, c := range list.Value {
			if !mine[c.ID] {
				t.Errorf("app%d sees call %s that it did not create", i, c.ID)
			}
		}
	}
}
