package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// The media limits of the configuration are checked at start.
func TestMediaConfigValidation(t *testing.T) {
	for name, mod := range map[string]func(*app.MediaConfig){
		"no fetches":                    func(m *app.MediaConfig) { m.PromptFetches = 0 },
		"tenant fetches over the total": func(m *app.MediaConfig) { m.PromptFetchesPerTenant = m.PromptFetches + 1 },
		"negative cache":                func(m *app.MediaConfig) { m.PromptCacheMiB = -1 },
		"tenant cache over the total":   func(m *app.MediaConfig) { m.PromptCacheMiBPerTenant = m.PromptCacheMiB + 1 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := app.Defaults()
			mod(&cfg.Media)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "media.prompt") {
				t.Fatalf("Validate = %v, want an error naming the media key", err)
			}
		})
	}
}

// preFetchMedia is validated at create, over HTTP: too many entries or a
// bad uri is a 400 Graph error naming the property.
func TestPreFetchMediaValidatedOverHTTP(t *testing.T) {
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(t.TempDir(), "data")
	a := start2(t, cfg)
	base := "http://" + a.Addr("http")
	tok := token(t, http.DefaultClient, base)
	create := func(media string) result {
		return call(t, "POST", base+"/v1.0/communications/calls", tok, `{"callbackUri":"http://127.0.0.1:9/cb",
			"targets":[{"identity":{"user":{"id":"bob"}}}],"requestedModalities":["audio"],
			"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig","preFetchMedia":[`+media+`]}}`)
	}
	entries := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"uri":"https://bot.example/p%d.wav","resourceId":"p%d"}`, i, i)
		}
		return b.String()
	}
	for _, tt := range []struct{ name, media, target string }{
		{"300 entries", entries(300), "mediaConfig.preFetchMedia"},
		{"21 entries", entries(21), "mediaConfig.preFetchMedia"},
		{"bad uri", `{"uri":"https://bot.example/a.wav"},{"uri":"ftp://bot.example/b.wav"}`, "mediaConfig.preFetchMedia[1].uri"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := create(tt.media)
			if r.status != 400 || !strings.Contains(r.body, `"target":"`+tt.target) {
				t.Fatalf("create: %d %s; want a 400 with target %s", r.status, r.body, tt.target)
			}
		})
	}
	if r := create(entries(20)); r.status != 201 {
		t.Fatalf("create with 20 preFetchMedia: %d %s", r.status, r.body)
	}
}

// Outside development mode, Switchboard.Admin cannot make a simulated
// identity say a local file: the server would read any file it can.
func TestLocalWAVRefusedOutsideDevMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hello.wav")
	writeWAV(t, path, media.Tone(440, 100*time.Millisecond, -12))
	body := `{"say":[{"at":"0s","wav":"` + path + `"}]}`

	sum := sha256.Sum256([]byte("secret-admin"))
	base := prodServer(t, func(c *app.Config) {
		c.Apps = append(c.Apps, app.AppConfig{ClientID: "admin", TenantID: tenantA, SecretSHA256: hex.EncodeToString(sum[:]), Roles: []string{auth.RoleAdmin}})
	})
	tok := appToken(t, base, tenantA, "admin")
	r := call(t, "PUT", base+"/switchboard/v1/simulation/identities/bob", tok, body)
	if r.status != 400 || !strings.Contains(r.body, "development mode") || !strings.Contains(r.body, `"target":"say[0].wav"`) {
		t.Fatalf("local WAV outside development mode: %d %s", r.status, r.body)
	}
	if r := call(t, "PUT", base+"/switchboard/v1/simulation/identities/bob", tok, `{"say":[{"at":"1s","keys":"1"}]}`); r.status != 200 {
		t.Fatalf("keys outside development mode: %d %s", r.status, r.body)
	}

	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(t.TempDir(), "data")
	dev := "http://" + start2(t, cfg).Addr("http")
	if r := call(t, "PUT", dev+"/switchboard/v1/simulation/identities/bob", token(t, http.DefaultClient, dev), body); r.status != 200 {
		t.Fatalf("local WAV in development mode: %d %s", r.status, r.body)
	}
}
