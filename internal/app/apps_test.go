package app_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store/sqlite"
)

// TestAppRegistryOrder registers the same client id in the configuration
// file and in the store: the configured app wins, and a stored app is
// found while the server runs.
func TestAppRegistryOrder(t *testing.T) {
	dir := t.TempDir()
	const tenant = "contoso.onmicrosoft.com"
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir, cfg.Dev = "127.0.0.1:0", "off", dir, false
	cfg.Apps = []app.AppConfig{{ClientID: "8d7c6b5a-1111-4222-8333-944455556666", TenantID: tenant, SecretSHA256: sha256Hex("from the file"), Roles: []string{auth.RoleCallsInitiate}}}
	a, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, a)
	select {
	case <-a.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	base := "http://" + a.Addr("http")

	// A second process (the CLI) registers two apps in the server's
	// database while it runs.
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, app.DatabaseFile), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := auth.Registration{ClientID: cfg.Apps[0].ClientID, TenantID: tenant, DisplayName: "shadowed", Roles: []string{auth.RoleAdmin}}
	if _, shadowed, err := auth.RegisterApp(t.Context(), store, reg, time.Now()); err != nil {
		t.Fatal(err)
	} else if code := tokenCode(t, base, tenant, reg.ClientID, shadowed); code != http.StatusUnauthorized {
		t.Errorf("the stored secret of a configured client id: %d, want 401 (the file's app wins)", code)
	}
	if code := tokenCode(t, base, tenant, reg.ClientID, "from the file"); code != http.StatusOK {
		t.Errorf("the configured app: %d", code)
	}
	reg.ClientID, reg.DisplayName = "", "stored"
	stored, secret, err := auth.RegisterApp(t.Context(), store, reg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if code := tokenCode(t, base, tenant, stored.ClientID, secret); code != http.StatusOK {
		t.Errorf("an app stored while the server runs: %d", code)
	}
}

func TestConfiguredAppWithUnknownRoleRefused(t *testing.T) {
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", t.TempDir()
	cfg.Apps = []app.AppConfig{{ClientID: "c", TenantID: "t", Secret: "s", Roles: []string{"Calls.Initiate.all"}}}
	a, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "Calls.Initiate.all") {
		t.Errorf("Start = %v, want an error naming the unknown role", err)
		stop(t, a)
	}
}

func tokenCode(t *testing.T, base, tenant, clientID, secret string) int {
	t.Helper()
	res, err := http.PostForm(base+"/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
