package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"log/slog"
	"math/big"
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

const testTenant = "11111111-2222-4333-8444-555555555555"

// sb runs the command line and returns its standard output and error.
func sb(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func mustSB(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := sb(t, args...)
	if err != nil {
		t.Fatalf("switchboard %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

func TestAppsHelp(t *testing.T) {
	_, errOut, err := sb(t, "help", "apps")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("help apps: %v", err)
	}
	for _, want := range []string{"create", "list", "rotate-secret", "revoke-secrets", "add-certificate", "delete", "SWITCHBOARD_DATA"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("apps help does not mention %s", want)
		}
	}
	for cmd, wants := range map[string][]string{
		"create":          {"-tenant", "-name", "-roles", "-webhook", "-certificate", "-client-id", "-secret-expires", "-no-secret", "-json", "-data", "Calls.Initiate.All", "shown", "once"},
		"list":            {"-json", "-data"},
		"rotate-secret":   {"CLIENT_ID", "-keep-old", "-secret-expires", "revoke-secrets"},
		"revoke-secrets":  {"CLIENT_ID", "-except", "newest"},
		"add-certificate": {"CLIENT_ID", "CERT.pem", "x5t#S256"},
		"delete":          {"CLIENT_ID"},
	} {
		_, errOut, err := sb(t, "apps", cmd, "--help")
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("apps %s --help: %v", cmd, err)
		}
		for _, want := range wants {
			if !strings.Contains(errOut, want) {
				t.Errorf("apps %s --help does not mention %s", cmd, want)
			}
		}
	}
	if out, _, _ := sb(t, "help"); !strings.Contains(out, "switchboard apps") {
		t.Error("the main usage does not list apps")
	}
	for _, args := range [][]string{{"apps"}, {"apps", "fly"}, {"apps", "delete"}, {"apps", "delete", "a", "b"}, {"apps", "list", "extra"}} {
		if _, _, err := sb(t, args...); err == nil || errors.Is(err, flag.ErrHelp) {
			t.Errorf("switchboard %s: %v, want an error", strings.Join(args, " "), err)
		}
	}
}

// startServer runs a production-mode server (no development app) on the
// data directory, over plain HTTP on loopback, and returns its base URL.
func startServer(t *testing.T, dir string) string {
	t.Helper()
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir, cfg.Dev = "127.0.0.1:0", "off", dir, false
	return runServer(t, cfg)
}

// runServer runs a server with cfg until the test ends and returns its HTTP
// base URL: the one harness of this package's tests.
func runServer(t *testing.T, cfg app.Config) string {
	t.Helper()
	a, err := app.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	select {
	case <-a.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	return "http://" + a.Addr("http")
}

// tokenStatus asks the server for a token with a client secret.
func tokenStatus(t *testing.T, base, tenant, clientID, secret string) int {
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

type createdApp struct {
	ClientID     string   `json:"clientId"`
	TenantID     string   `json:"tenantId"`
	DisplayName  string   `json:"displayName"`
	Roles        []string `json:"roles"`
	WebhookURL   string   `json:"webhookUrl"`
	ClientSecret string   `json:"clientSecret"`
	Secrets      []struct {
		Hint      string     `json:"hint"`
		ExpiresAt *time.Time `json:"expiresAt"`
	} `json:"secrets"`
	Certificates []struct {
		X5TS256 string `json:"x5t#S256"`
		Subject string `json:"subject"`
	} `json:"certificates"`
}

func TestAppsLifecycleAgainstRunningServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Created before the server starts, in text form.
	out, errOut := mustSB(t, "apps", "create", "--data", dir, "--tenant", testTenant, "--name", "Reception bot",
		"--roles", "Calls.Initiate.All, Calls.AccessMedia.All", "--webhook", "https://bot.example/calls")
	var clientID, secret string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Client id"); ok {
			clientID = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Client secret"); ok {
			secret = strings.TrimSpace(v)
		}
	}
	if clientID == "" || len(secret) != 43 || !strings.Contains(out, testTenant) {
		t.Fatalf("create printed:\n%s", out)
	}
	if !strings.Contains(errOut, "cannot be shown again") {
		t.Errorf("create does not warn that the secret is shown once: %q", errOut)
	}
	if db, err := os.ReadFile(filepath.Join(dir, app.DatabaseFile)); err != nil || bytes.Contains(db, []byte(secret)) {
		t.Errorf("the database holds the secret in the clear (read error %v)", err)
	}

	base := startServer(t, dir)
	if code := tokenStatus(t, base, testTenant, clientID, secret); code != http.StatusOK {
		t.Fatalf("token with the created secret: %d", code)
	}

	// Created while the server runs, as JSON: usable at once.
	out, _ = mustSB(t, "apps", "create", "--data", dir, "--tenant", testTenant, "--name", "Second", "--roles", auth.RoleAdmin,
		"--client-id", "8D7C6B5A-1111-4222-8333-944455556666", "--secret-expires", "30d", "--json")
	var second createdApp
	if err := json.Unmarshal([]byte(out), &second); err != nil {
		t.Fatalf("create --json printed %q: %v", out, err)
	}
	if second.ClientID != "8d7c6b5a-1111-4222-8333-944455556666" || second.ClientSecret == "" || len(second.Secrets) != 1 ||
		second.Secrets[0].ExpiresAt == nil || second.Secrets[0].Hint != second.ClientSecret[:3] {
		t.Errorf("create --json = %+v", second)
	}
	if code := tokenStatus(t, base, testTenant, second.ClientID, second.ClientSecret); code != http.StatusOK {
		t.Errorf("token for an app created while the server runs: %d", code)
	}

	out, _ = mustSB(t, "apps", "list", "--data", dir)
	for _, want := range []string{"CLIENT ID", "TENANT", "SECRETS", "CERTS", clientID, "Reception bot", "Calls.Initiate.All,Calls.AccessMedia.All", second.ClientID} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, second.ClientSecret) {
		t.Error("list shows a secret")
	}
	out, _ = mustSB(t, "apps", "list", "--json", "--data", dir)
	var listed []createdApp
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list --json = %q, %v", out, err)
	}
	if listed[0].ClientID != clientID || listed[0].WebhookURL != "https://bot.example/calls" || listed[0].ClientSecret != "" {
		t.Errorf("list --json[0] = %+v", listed[0])
	}

	// rotate-secret --keep-old (flag after the argument): both work.
	out, errOut = mustSB(t, "apps", "rotate-secret", clientID, "--keep-old", "--data", dir, "--json")
	var rotated struct {
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.ClientSecret == "" {
		t.Fatalf("rotate-secret --json = %q, %v", out, err)
	}
	if !strings.Contains(errOut, "still work") {
		t.Errorf("rotate-secret --keep-old says %q", errOut)
	}
	for _, s := range []string{secret, rotated.ClientSecret} {
		if code := tokenStatus(t, base, testTenant, clientID, s); code != http.StatusOK {
			t.Errorf("after rotate-secret --keep-old: %d", code)
		}
	}
	// revoke-secrets completes the rotation: only the newer secret works.
	out, _ = mustSB(t, "apps", "revoke-secrets", clientID, "--data", dir)
	if !strings.Contains(out, "Revoked 1 secret") {
		t.Errorf("revoke-secrets printed %q", out)
	}
	if code := tokenStatus(t, base, testTenant, clientID, secret); code != http.StatusUnauthorized {
		t.Errorf("the revoked secret: %d, want 401", code)
	}
	if code := tokenStatus(t, base, testTenant, clientID, rotated.ClientSecret); code != http.StatusOK {
		t.Errorf("the secret kept by revoke-secrets: %d", code)
	}
	if _, _, err := sb(t, "apps", "revoke-secrets", clientID, "--except", "no-such-id", "--data", dir); err == nil {
		t.Error("revoke-secrets --except with an unknown id succeeded")
	}

	// rotate-secret: only the newest works, at once.
	out, _ = mustSB(t, "apps", "rotate-secret", "--data", dir, strings.ToUpper(clientID))
	var newest string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Client secret"); ok {
			newest = strings.TrimSpace(v)
		}
	}
	for _, s := range []string{secret, rotated.ClientSecret} {
		if code := tokenStatus(t, base, testTenant, clientID, s); code != http.StatusUnauthorized {
			t.Errorf("an old secret after rotate-secret: %d, want 401", code)
		}
	}
	if code := tokenStatus(t, base, testTenant, clientID, newest); code != http.StatusOK {
		t.Errorf("the newest secret: %d", code)
	}

	// add-certificate.
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	writeTestCertificate(t, certFile)
	out, _ = mustSB(t, "apps", "add-certificate", clientID, certFile, "--data", dir)
	if !strings.Contains(out, "x5t#S256") || !strings.Contains(out, "CN=bot.example") {
		t.Errorf("add-certificate printed %q", out)
	}
	if _, _, err := sb(t, "apps", "add-certificate", clientID, certFile, "--data", dir); !errors.Is(err, auth.ErrCertificateExists) {
		t.Errorf("adding the certificate twice: %v", err)
	}
	out, _ = mustSB(t, "apps", "list", "--json", "--data", dir)
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed[0].Certificates) != 1 || listed[0].Certificates[0].Subject != "CN=bot.example" {
		t.Errorf("list after add-certificate = %s (%v)", out, err)
	}

	// delete: the app gets no token any more.
	mustSB(t, "apps", "delete", clientID, "--data", dir)
	if code := tokenStatus(t, base, testTenant, clientID, newest); code != http.StatusBadRequest {
		t.Errorf("token for a deleted app: %d, want 400 (unauthorized_client)", code)
	}
	if _, _, err := sb(t, "apps", "delete", clientID, "--data", dir); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestAppsRefuseBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	noKey := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"apps", "create", "--data", dir, "--name", "x"}, "--tenant, --roles required"},
		{"unknown role", []string{"apps", "create", "--data", dir, "--tenant", testTenant, "--name", "x", "--roles", "Calls.Initiate.All,Calls.Everything"}, "Calls.Everything"},
		{"operator role", []string{"apps", "create", "--data", dir, "--tenant", testTenant, "--name", "x", "--roles", auth.RoleAdmin + "," + auth.RoleOperator}, "configuration file"},
		{"bad lifetime", []string{"apps", "create", "--data", dir, "--tenant", testTenant, "--name", "x", "--roles", auth.RoleAdmin, "--secret-expires", "soon"}, "180d"},
		{"missing certificate file", []string{"apps", "create", "--data", dir, "--tenant", testTenant, "--name", "x", "--roles", auth.RoleAdmin, "--certificate", noKey}, "missing.pem"},
		{"bad webhook", []string{"apps", "create", "--data", dir, "--tenant", testTenant, "--name", "x", "--roles", auth.RoleAdmin, "--webhook", "bot.example"}, "webhook"},
		{"no database", []string{"apps", "list", "--data", filepath.Join(t.TempDir(), "nothing")}, "no Switchboard database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := sb(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	// Nothing above created an application.
	if _, err := os.Stat(filepath.Join(dir, app.DatabaseFile)); err == nil {
		out, _ := mustSB(t, "apps", "list", "--json", "--data", dir)
		if strings.TrimSpace(out) != "[]" {
			t.Errorf("refused commands left applications: %s", out)
		}
	}
}

func TestAppsDataFromEnvironment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SWITCHBOARD_DATA", dir)
	mustSB(t, "apps", "create", "--tenant", testTenant, "--name", "env", "--roles", auth.RoleAdmin)
	if _, err := os.Stat(filepath.Join(dir, app.DatabaseFile)); err != nil {
		t.Fatalf("SWITCHBOARD_DATA not used: %v", err)
	}
	if out, _ := mustSB(t, "apps", "list"); !strings.Contains(out, "env") {
		t.Errorf("list = %q", out)
	}
}

func writeTestCertificate(t *testing.T, path string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bot.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
