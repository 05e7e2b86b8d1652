package app_test

// Tests of the request limits: every authenticated request counts against
// its application's token bucket, whatever it asks for.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/clock"
)

// TestEveryAuthenticatedRouteIsThrottled exhausts an application's bucket
// and then tries every kind of route that used to bypass it: the
// extension API, an unknown Graph path, a method a Graph path does not
// allow, and an Idempotency-Key replay (which used to be
// answered from the store before the limiter ran). Each must get Graph's
// 429 with Retry-After, and another application must not be affected.
func TestEveryAuthenticatedRouteIsThrottled(t *testing.T) {
	fake := clock.NewFake(time.Now())
	base := prodServer(t, func(c *app.Config) {
		c.Throttle.Requests, c.Throttle.Period = 3, app.Duration(30*time.Second)
	}, app.WithClock(fake))
	a1, a2 := appToken(t, base, tenantA, "a1"), appToken(t, base, tenantA, "a2")

	// One remembered response to replay later: a 400 is kept like a 201.
	first := call(t, "POST", base+"/v1.0/communications/calls", a1, `{}`, "Idempotency-Key", "k1")
	if first.status != 400 {
		t.Fatalf("first idempotent POST: %d %s", first.status, first.body)
	}
	for i := 0; i < 2; i++ {
		if r := call(t, "GET", base+"/v1.0/communications/calls", a1, ""); r.status != 200 {
			t.Fatalf("request %d within the limit: %d %s", i, r.status, r.body)
		}
	}
	for _, tc := range []struct{ name, method, path, body string }{
		{"known route", "GET", "/v1.0/communications/calls", ""},
		{"extension API", "GET", "/switchboard/v1/calls/00000000-0000-0000-0000-000000000000/notifications", ""},
		{"extension API replay", "POST", "/switchboard/v1/calls/00000000-0000-0000-0000-000000000000/notifications/replay", `{}`},
		{"unknown Graph path", "GET", "/v1.0/communications/nothingHere", ""},
		{"method not allowed", "DELETE", "/v1.0/communications/calls", ""},
		{"idempotent replay", "POST", "/v1.0/communications/calls", `{}`},
	} {
		r := call(t, tc.method, base+tc.path, a1, tc.body, "Idempotency-Key", "k1")
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Errorf("%s: %d Retry-After %q %s, want 429 with Retry-After", tc.name, r.status, r.header.Get("Retry-After"), r.body)
		}
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("%s: answered from the idempotency store past the limit", tc.name)
		}
	}
	if r := call(t, "GET", base+"/switchboard/v1/calls/00000000-0000-0000-0000-000000000000/notifications", a2, ""); r.status != 404 {
		t.Errorf("another application: %d %s, want its own 404", r.status, r.body)
	}
	fake.Advance(30 * time.Second)
	if r := call(t, "POST", base+"/v1.0/communications/calls", a1, `{}`, "Idempotency-Key", "k1"); r.status != 400 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay after the bucket refilled: %d replayed=%q", r.status, r.header.Get("Idempotent-Replayed"))
	}
}

// TestIdempotencyKeysPerApplication runs the quota of idempotency keys over
// HTTP against the SQLite store: an application flooding keys forgets its
// own oldest, and another application's key still replays.
func TestIdempotencyKeysPerApplication(t *testing.T) {
	base := prodServer(t, func(c *app.Config) { c.Idempotency.MaxKeysPerApp = 3 })
	a1, a2 := appToken(t, base, tenantA, "a1"), appToken(t, base, tenantA, "a2")
	post := func(tok, key string) result {
		t.Helper()
		return call(t, "POST", base+"/v1.0/communications/calls", tok, `{}`, "Idempotency-Key", key)
	}
	post(a2, "k0")
	for i := range 10 {
		post(a1, fmt.Sprintf("k%d", i))
	}
	if r := post(a1, "k9"); r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the newest key of the flood did not replay")
	}
	if r := post(a1, "k0"); r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the oldest key of the flood still replays beyond a quota of 3")
	}
	if r := post(a2, "k0"); r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("another application's key was forgotten")
	}
}

func TestIdempotencyConfigValidated(t *testing.T) {
	for name, mod := range map[string]func(*app.Config){
		"zero retention": func(c *app.Config) { c.Idempotency.Retention = 0 },
		"zero quota":     func(c *app.Config) { c.Idempotency.MaxKeysPerApp = 0 },
	} {
		c := app.Defaults()
		mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "idempotency") {
			t.Errorf("%s: Validate = %v, want an error naming idempotency", name, err)
		}
	}
}

// TestPlainSecretRefusedOutsideDevMode: a configured application with a
// plain secret stops a production server at start, with a message naming
// the hashed form; development mode still takes it.
func TestPlainSecretRefusedOutsideDevMode(t *testing.T) {
	cfg := app.Defaults()
	cfg.Dev = false
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", t.TempDir()
	cfg.Apps = []app.AppConfig{{ClientID: "c", TenantID: "t", Secret: "hunter2"}}
	_, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "secretSha256") || !strings.Contains(err.Error(), "development mode") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("New with a plain secret outside dev mode = %v, want a refusal naming secretSha256 (and not the secret)", err)
	}
	cfg.Apps[0].Secret, cfg.Apps[0].SecretSHA256 = "", sha256Hex("hunter2")
	if _, err := app.New(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("New with the secret's hash: %v", err)
	}
	cfg.Dev, cfg.Apps[0].Secret, cfg.Apps[0].SecretSHA256 = true, "hunter2", ""
	if _, err := app.New(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("New with a plain secret in dev mode: %v", err)
	}
}

// sha256Hex is what secretSha256 holds for secret.
func sha256Hex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TestDiscoveryIgnoresForgedHost asks a running server for its discovery
// documents and a token with a Host header of the client's choosing: the
// answers name the configured public URL (or, without one, the listener),
// never the forged host.
func TestDiscoveryIgnoresForgedHost(t *testing.T) {
	for _, tc := range []struct {
		name, public string
		want         func(base string) string
	}{
		{"publicUrl", "https://switchboard.example", func(string) string { return "https://switchboard.example" }},
		{"listener", "", func(base string) string { return base }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := prodServer(t, func(c *app.Config) { c.PublicURL = tc.public })
			want := tc.want(base)
			get := func(path string) map[string]any {
				t.Helper()
				req, _ := http.NewRequest("GET", base+path, nil)
				req.Host = "evil.example"
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var doc map[string]any
				if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
					t.Fatalf("%s: %d: %v", path, res.StatusCode, err)
				}
				return doc
			}
			doc := get("/" + tenantA + "/v2.0/.well-known/openid-configuration")
			for k, v := range map[string]string{
				"issuer":         want + "/" + tenantA + "/v2.0",
				"token_endpoint": want + "/" + tenantA + "/oauth2/v2.0/token",
				"jwks_uri":       want + "/" + tenantA + "/discovery/v2.0/keys",
			} {
				if doc[k] != v {
					t.Errorf("%s = %v, want %s", k, doc[k], v)
				}
			}
			if cb := get("/callbacks/v1/.well-known/OpenIdConfiguration"); cb["jwks_uri"] != want+"/callbacks/v1/keys" {
				t.Errorf("callback jwks_uri = %v, want under %s", cb["jwks_uri"], want)
			}
		})
	}
}
