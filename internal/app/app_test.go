package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
)

func start(t *testing.T, dir string) *app.App {
	t.Helper()
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	a, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	return a
}

func stop(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func httpsClient(t *testing.T, ca []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("DevCA is not PEM")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func token(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	res, err := c.PostForm(base+"/"+auth.DevTenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {auth.DevClientID},
		"client_secret": {auth.DevClientSecret}, "scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	return body.AccessToken
}

func get(t *testing.T, c *http.Client, url, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestStartServeRestart starts a development server, uses both listeners,
// restarts it on the same data and checks that the development CA and the
// token signing keys survived.
func TestStartServeRestart(t *testing.T) {
	dir := t.TempDir()
	a := start(t, dir)
	ca := a.DevCA()
	c := httpsClient(t, ca)
	httpsBase := "https://" + a.Addr("https")
	tok := token(t, c, httpsBase)
	if code, body := get(t, c, httpsBase+"/v1.0/communications/calls", tok); code != 200 || !strings.Contains(body, `"value":[]`) {
		t.Fatalf("HTTPS list: %d %s", code, body)
	}
	if code, _ := get(t, http.DefaultClient, "http://"+a.Addr("http")+"/switchboard/v1/ready", ""); code != 200 {
		t.Fatalf("ready: %d", code)
	}
	if code, _ := get(t, http.DefaultClient, "http://"+a.Addr("http")+"/v1.0/communications/calls", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	stop(t, a)
	for _, f := range []string{"switchboard.db", "dev-ca.pem", "dev-cert.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not in the data directory: %v", f, err)
		}
	}

	b := start(t, dir)
	defer stop(t, b)
	if string(b.DevCA()) != string(ca) {
		t.Fatal("the development CA changed across a restart; clients that trusted it break")
	}
	if code, body := get(t, http.DefaultClient, "http://"+b.Addr("http")+"/v1.0/communications/calls", tok); code != 200 {
		t.Fatalf("a token issued before the restart is refused: %d %s", code, body)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*app.Config)
		want string
	}{
		{"no listener", func(c *app.Config) { c.Listen, c.ListenTLS = "off", "" }, "no listener"},
		{"half a key pair", func(c *app.Config) { c.TLSCert = "x.pem" }, "go together"},
		{"TLS without certificate in production", func(c *app.Config) { c.Dev = false }, "--tls-cert"},
		{"bad postgres URL", func(c *app.Config) { c.Store = "postgres://u:secret@db:port/x" }, "PostgreSQL"},
		{"unknown store", func(c *app.Config) { c.Store = "mysql://u:secret@db/x" }, "***@db/x"},
		{"log level", func(c *app.Config) { c.LogLevel = "loud" }, "log level"},
		{"app without tenant", func(c *app.Config) { c.Apps = []app.AppConfig{{ClientID: "x", Secret: "s"}} }, "tenantId"},
		{"app without secret", func(c *app.Config) { c.Apps = []app.AppConfig{{ClientID: "x", TenantID: "t"}} }, "secret"},
		{"negative callback share", func(c *app.Config) { c.Notifications.MaxInFlightPerApp = -1 }, "maxInFlightPerApp"},
		{"negative pending cap", func(c *app.Config) { c.Notifications.MaxPendingPerCall = -1 }, "maxPendingPerCall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Defaults()
			tt.mod(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret@") {
				t.Fatalf("error leaks a password: %v", err)
			}
		})
	}
	if cfg := app.Defaults(); cfg.Validate() != nil {
		t.Fatalf("defaults invalid: %v", cfg.Validate())
	}
	for _, u := range []string{"postgres://sb:secret@db.example/switchboard?sslmode=verify-full", "postgresql://db/switchboard"} {
		cfg := app.Defaults()
		cfg.Store = u
		if err := cfg.Validate(); err != nil {
			t.Errorf("--store %s: %v", u, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("listen: 127.0.0.1:9999\nsimulation:\n  answerDelay: 0s\n  identities:\n    - {id: bob, behaviour: noAnswer}\ncalls:\n  ringTimeout: 5s\n"), 0o600)
	cfg := app.Defaults()
	if err := cfg.LoadFile(good); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.Simulation.AnswerDelay != 0 || len(cfg.Simulation.Identities) != 1 || time.Duration(cfg.Calls.RingTimeout) != 5*time.Second {
		t.Fatalf("loaded %+v", cfg)
	}
	if cfg.ListenTLS != app.Defaults().ListenTLS {
		t.Fatal("a key missing from the file reset its default")
	}
	for name, body := range map[string]string{
		"typo.yaml":     "lisen: x\n",
		"duration.yaml": "calls:\n  ringTimeout: soon\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		c := app.Defaults()
		if err := c.LoadFile(p); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	c := app.Defaults()
	if err := c.LoadFile(empty); err != nil {
		t.Errorf("empty file: %v", err)
	}
}
