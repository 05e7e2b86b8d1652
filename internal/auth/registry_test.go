package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func validRegistration() Registration {
	return Registration{
		TenantID:    certTenant,
		DisplayName: "Reception bot",
		Roles:       []string{RoleCallsAccessMedia, RoleCallsInitiate, RoleCallsInitiate},
		WebhookURL:  "https://bot.example/calls",
	}
}

func TestRegisterApp(t *testing.T) {
	store := &MemoryAppStore{}
	a, secret, err := RegisterApp(t.Context(), store, validRegistration(), testStart)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(a.ClientID); err != nil {
		t.Errorf("client id %q is not a GUID", a.ClientID)
	}
	if len(secret) != 43 || strings.ContainsAny(secret, "+/=") {
		t.Errorf("secret %q is not 32 bytes of base64url", secret)
	}
	if !slices.Equal(a.Roles, []string{RoleCallsInitiate, RoleCallsAccessMedia}) {
		t.Errorf("roles = %v, want them deduplicated in AllRoles order", a.Roles)
	}
	stored, err := store.GetApp(t.Context(), a.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Secrets) != 1 {
		t.Fatalf("stored %d secrets", len(stored.Secrets))
	}
	s := stored.Secrets[0]
	if string(s.Hash) != string(HashSecret(secret)) || s.Hint != secret[:3] || !s.ExpiresAt.IsZero() || !s.CreatedAt.Equal(testStart) {
		t.Errorf("stored secret = %+v", s)
	}
	for _, v := range []string{secret, secret[3:]} {
		if strings.Contains(strings.ToLower(jsonOf(t, stored)), strings.ToLower(v)) {
			t.Errorf("the stored app contains the secret (or its tail) in the clear")
		}
	}

	// A given client id is kept (in canonical form); a secret may expire.
	reg := validRegistration()
	reg.ClientID = "8D7C6B5A-1111-4222-8333-944455556677"
	reg.SecretLifetime = 180 * 24 * time.Hour
	b, _, err := RegisterApp(t.Context(), store, reg, testStart)
	if err != nil {
		t.Fatal(err)
	}
	if b.ClientID != "8d7c6b5a-1111-4222-8333-944455556677" || !b.Secrets[0].ExpiresAt.Equal(testStart.Add(reg.SecretLifetime)) {
		t.Errorf("app = %+v", b)
	}
	if _, _, err := RegisterApp(t.Context(), store, reg, testStart); !errors.Is(err, ErrAppExists) {
		t.Errorf("registering the client id twice: %v", err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRegisterAppRefuses(t *testing.T) {
	_, certPEM := testCertificate(t, privateKey(t, sharedKeys(t)[1]), testStart.Add(-time.Hour), testStart.Add(time.Hour))
	tests := []struct {
		name   string
		modify func(*Registration)
	}{
		{"client id not a GUID", func(r *Registration) { r.ClientID = "my-bot" }},
		{"no tenant", func(r *Registration) { r.TenantID = "" }},
		{"tenant with a slash", func(r *Registration) { r.TenantID = "a/b" }},
		{"no name", func(r *Registration) { r.DisplayName = "  " }},
		{"no roles", func(r *Registration) { r.Roles = nil }},
		{"unknown role", func(r *Registration) { r.Roles = []string{"Calls.Initiate.All", "Calls.Everything"} }},
		{"role in the wrong case", func(r *Registration) { r.Roles = []string{"calls.initiate.all"} }},
		{"webhook not absolute", func(r *Registration) { r.WebhookURL = "/calls" }},
		{"webhook ftp", func(r *Registration) { r.WebhookURL = "ftp://bot.example/calls" }},
		{"webhook with credentials", func(r *Registration) { r.WebhookURL = "https://user:pw@bot.example/calls" }},
		{"negative secret lifetime", func(r *Registration) { r.SecretLifetime = -time.Hour }},
		{"no secret and no certificate", func(r *Registration) { r.NoSecret, r.CertificatePEM = true, nil }},
		{"bad certificate", func(r *Registration) { r.CertificatePEM = []byte("not PEM") }},
		{"expired certificate", func(r *Registration) {
			_, expired := testCertificate(t, privateKey(t, sharedKeys(t)[1]), testStart.Add(-48*time.Hour), testStart.Add(-24*time.Hour))
			r.CertificatePEM = expired
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &MemoryAppStore{}
			reg := validRegistration()
			reg.CertificatePEM = certPEM
			tt.modify(&reg)
			if _, _, err := RegisterApp(t.Context(), store, reg, testStart); err == nil {
				t.Fatal("RegisterApp succeeded")
			}
			if apps, _ := store.ListApps(t.Context()); len(apps) != 0 {
				t.Errorf("a refused registration stored %v", apps)
			}
		})
	}
}

func TestParseCertificate(t *testing.T) {
	key := privateKey(t, sharedKeys(t)[1])
	cert, certPEM := testCertificate(t, key, testStart.Add(-time.Hour), testStart.Add(time.Hour))
	c, err := ParseCertificate(append([]byte("leading text\n"), certPEM...), testStart)
	if err != nil {
		t.Fatal(err)
	}
	x5t, x5tS256 := certThumbprints(cert.Raw)
	if c.X5T != x5t || c.X5TS256 != x5tS256 || len(c.X5T) != 27 || len(c.X5TS256) != 43 || string(c.PEM) != string(certPEM) {
		t.Errorf("certificate = %+v", c)
	}

	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	withKey := append(slices.Clone(certPEM), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"}, NotBefore: testStart.Add(-time.Hour), NotAfter: testStart.Add(time.Hour)}
	ecDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"with its private key": withKey,
		"EC key":               pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ecDER}),
		"no certificate":       pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}),
		"garbage DER":          pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}),
		"empty":                nil,
	} {
		if _, err := ParseCertificate(b, testStart); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseCertificate(certPEM, testStart.Add(2*time.Hour)); err == nil {
		t.Error("expired certificate accepted")
	}
}

// storedAppFixture serves tokens for the test apps and a MemoryAppStore
// behind them.
func storedAppFixture(t *testing.T) (*fixture, *MemoryAppStore) {
	t.Helper()
	apps := &MemoryAppStore{}
	fx := newFixture(t, func(c *Config) { c.Apps = ChainApps(testApps(), StoredApps(apps)) })
	return fx, apps
}

func secretForm(clientID, secret string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default"}}
}

func TestStoredAppsGetTokensAtOnce(t *testing.T) {
	fx, apps := storedAppFixture(t)
	a, secret, err := RegisterApp(t.Context(), apps, validRegistration(), fx.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w := fx.postToken(certTenant, secretForm(a.ClientID, secret), nil); w.Code != http.StatusOK {
		t.Fatalf("token for a stored app: %d %s", w.Code, w.Body)
	}
	checkOAuthError(t, fx.postToken(DevTenantID, secretForm(a.ClientID, secret), nil), 400, "unauthorized_client", 700016)

	// Rotation with --keep-old: both work; without: only the newest.
	second, _, err := RotateSecret(t.Context(), apps, a.ClientID, true, 0, fx.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, second} {
		if w := fx.postToken(certTenant, secretForm(a.ClientID, s), nil); w.Code != http.StatusOK {
			t.Errorf("after rotation keeping old secrets: %d %s", w.Code, w.Body)
		}
	}
	third, _, err := RotateSecret(t.Context(), apps, a.ClientID, false, time.Hour, fx.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, second} {
		checkOAuthError(t, fx.postToken(certTenant, secretForm(a.ClientID, s), nil), 401, "invalid_client", 7000215)
	}
	if w := fx.postToken(certTenant, secretForm(a.ClientID, third), nil); w.Code != http.StatusOK {
		t.Errorf("newest secret: %d %s", w.Code, w.Body)
	}
	// The newest secret expires after an hour.
	fx.clock.Advance(time.Hour)
	checkOAuthError(t, fx.postToken(certTenant, secretForm(a.ClientID, third), nil), 401, "invalid_client", 7000222)

	// Deleting the app ends its token requests.
	if err := apps.DeleteApp(t.Context(), a.ClientID); err != nil {
		t.Fatal(err)
	}
	checkOAuthError(t, fx.postToken(certTenant, secretForm(a.ClientID, third), nil), 400, "unauthorized_client", 700016)
	if _, _, err := RotateSecret(t.Context(), apps, a.ClientID, false, 0, fx.clock.Now()); !errors.Is(err, ErrAppNotFound) {
		t.Errorf("RotateSecret of a deleted app: %v", err)
	}
}

func TestRegisterCertificateThenAssert(t *testing.T) {
	cf := newCertFixture(t, testStart)
	// A second certificate, registered later, signs too.
	key := privateKey(t, sharedKeys(t)[0])
	cert, certPEM := testCertificate(t, key, testStart.Add(-time.Hour), testStart.Add(time.Hour))
	if _, err := RegisterCertificate(t.Context(), cf.apps, cf.clientID, certPEM, testStart); err != nil {
		t.Fatal(err)
	}
	if _, err := RegisterCertificate(t.Context(), cf.apps, cf.clientID, certPEM, testStart); !errors.Is(err, ErrCertificateExists) {
		t.Errorf("the same certificate twice: %v", err)
	}
	cf.key, cf.cert = key, cert
	a := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	if w := cf.postToken(certTenant, cf.assertionForm(a), nil); w.Code != http.StatusOK {
		t.Fatalf("assertion of the second certificate: %d %s", w.Code, w.Body)
	}
}

func TestChainAppsShadowsAndFails(t *testing.T) {
	store := &MemoryAppStore{}
	shadow := DevApp()
	shadow.DisplayName = "stored copy"
	if err := store.CreateApp(t.Context(), shadow); err != nil {
		t.Fatal(err)
	}
	apps := ChainApps(testApps(), StoredApps(store))
	a, err := apps.App(t.Context(), DevClientID)
	if err != nil || a.DisplayName != DevApp().DisplayName {
		t.Errorf("App = %+v, %v; want the earlier source's app", a, err)
	}
	if _, err := apps.App(t.Context(), "nobody"); !errors.Is(err, ErrAppNotFound) {
		t.Errorf("unknown app: %v", err)
	}

	// A failing source is an error, not "not found", and the token
	// endpoint answers that it is unavailable.
	down := errors.New("disk on fire")
	broken := ChainApps(NewStaticApps(), failingApps{down})
	if _, err := broken.App(t.Context(), DevClientID); !errors.Is(err, down) {
		t.Errorf("failing source: %v", err)
	}
	fx := newFixture(t, func(c *Config) { c.Apps = broken })
	w := fx.postToken(DevTenantID, devForm(), nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "temporarily_unavailable") {
		t.Errorf("token endpoint with a failing app store: %d %s", w.Code, w.Body)
	}
}

type failingApps struct{ err error }

func (f failingApps) App(context.Context, string) (App, error) { return App{}, f.err }

func TestSecretExpiry(t *testing.T) {
	now := testStart
	s := Secret{ExpiresAt: now.Add(time.Hour)}
	if s.Expired(now) || !s.Expired(now.Add(time.Hour)) || (Secret{}).Expired(now.Add(1000*time.Hour)) {
		t.Error("Secret.Expired is wrong")
	}
	app := App{Secrets: []Secret{
		{Hash: HashSecret("old"), ExpiresAt: now},
		{Hash: HashSecret("both"), ExpiresAt: now},
		{Hash: HashSecret("both")},
	}}
	for _, tt := range []struct {
		secret           string
		matched, expired bool
	}{{"old", true, true}, {"both", true, false}, {"none", false, false}} {
		if m, e := matchSecret(app, tt.secret, now); m != tt.matched || e != tt.expired {
			t.Errorf("matchSecret(%q) = %v, %v; want %v, %v", tt.secret, m, e, tt.matched, tt.expired)
		}
	}
}

func TestServiceAppFindsStoredWebhook(t *testing.T) {
	fx, apps := storedAppFixture(t)
	a, _, err := RegisterApp(t.Context(), apps, validRegistration(), fx.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := fx.svc.App(t.Context(), strings.ToUpper(a.ClientID))
	if err != nil || got.WebhookURL != "https://bot.example/calls" {
		t.Errorf("App = %+v, %v", got, err)
	}
	if _, err := fx.svc.App(t.Context(), "nobody"); !errors.Is(err, ErrAppNotFound) {
		t.Errorf("unknown app: %v", err)
	}
}
