package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

func TestNewGeneratesAndSavesAKey(t *testing.T) {
	store := &MemoryKeyStore{}
	svc, err := New(t.Context(), Config{Clock: clock.NewFake(testStart), Keys: store, Apps: testApps()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	saved, _ := store.LoadKeys(t.Context())
	if len(saved) != 1 {
		t.Fatalf("store holds %d keys, want 1", len(saved))
	}
	k := saved[0]
	if signer := svc.keys.Load().signer(testStart).id; !k.CreatedAt.Equal(testStart) || signer != k.ID {
		t.Errorf("saved key %s created %v; signer %s", k.ID, k.CreatedAt, signer)
	}
	if bits := privateKey(t, k).N.BitLen(); bits != 2048 {
		t.Errorf("generated key has %d bits", bits)
	}
	if k.ID != thumbprint(&privateKey(t, k).PublicKey) {
		t.Errorf("key id %q is not the RFC 7638 thumbprint", k.ID)
	}
}

func TestTokensSurviveRestart(t *testing.T) {
	fx := newFixture(t)
	tok := fx.token(t)

	// A new process: a new Service over the same store, no shared memory.
	restarted, err := New(t.Context(), Config{Clock: fx.clock, Keys: fx.store, Apps: testApps()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restarted.Close)
	if keys, _ := fx.store.LoadKeys(t.Context()); len(keys) != 1 {
		t.Fatalf("restart added a key: store holds %d", len(keys))
	}
	fx2 := &fixture{svc: restarted, clock: fx.clock, store: fx.store}
	p, err := fx2.authenticate("Bearer " + tok)
	if err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}
	if p.AppID != DevClientID {
		t.Errorf("principal = %+v", p)
	}
}

func TestNewerKeySignsOnlyOncePublishedForTheLead(t *testing.T) {
	keys := sharedKeys(t) // keys[1] is an hour newer
	store := &MemoryKeyStore{}
	for _, k := range []StoredKey{keys[1], keys[0]} {
		if err := store.SaveKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	fx := &fixture{clock: clock.NewFake(testStart.Add(2 * time.Hour)), store: store}
	svc, err := New(t.Context(), Config{Clock: fx.clock, Keys: store, Apps: testApps()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	fx.svc = svc
	kidOf := func(tok string) any {
		t.Helper()
		h, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		return h.Header["kid"]
	}
	if kid := kidOf(fx.token(t)); kid != keys[0].ID {
		t.Errorf("signed with %v, want the older key %s: the newer one is published for an hour only", kid, keys[0].ID)
	}
	published := jwks(t, fx.do(http.MethodGet, testBase+"/common/discovery/v2.0/keys", nil, nil).Body.Bytes())
	if len(published) != 2 || published[keys[0].ID] == nil || published[keys[1].ID] == nil {
		t.Errorf("JWKS holds %v, want both keys", published)
	}

	// Once keys[1] has been published for the lead, it signs; tokens of
	// either key verify.
	fx.clock.Advance(keys[1].CreatedAt.Add(DefaultKeyPublicationLead).Sub(fx.clock.Now()))
	if kid := kidOf(fx.token(t)); kid != keys[1].ID {
		t.Errorf("signed with %v, want the newer key %s", kid, keys[1].ID)
	}
	for _, k := range keys {
		if _, err := fx.authenticate("Bearer " + signWith(t, k, k.ID, validClaims(fx.clock.Now()))); err != nil {
			t.Errorf("token signed by %s: %v", k.ID, err)
		}
	}
}

type failingStore struct{ load, save error }

func (f failingStore) LoadKeys(context.Context) ([]StoredKey, error) { return nil, f.load }
func (f failingStore) SaveKey(context.Context, StoredKey) error      { return f.save }
func (f failingStore) DeleteKey(context.Context, string) error       { return nil }

func TestNewRejectsBadKeysAndConfig(t *testing.T) {
	good := sharedKeys(t)[0]
	pemOf := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	storeOf := func(keys ...StoredKey) KeyStore {
		s := &MemoryKeyStore{}
		s.keys = keys // bypass SaveKey's duplicate check
		return s
	}
	errLoad, errSave := errors.New("db down"), errors.New("disk full")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no key store", Config{Apps: testApps()}},
		{"no apps", Config{Keys: storeOf(good)}},
		{"negative lifetime", Config{Keys: storeOf(good), Apps: testApps(), TokenLifetime: -time.Second}},
		{"load fails", Config{Keys: failingStore{load: errLoad}, Apps: testApps()}},
		{"save fails", Config{Keys: failingStore{save: errSave}, Apps: testApps()}},
		{"key without id", Config{Keys: storeOf(StoredKey{PrivateKeyPEM: good.PrivateKeyPEM}), Apps: testApps()}},
		{"garbage PEM", Config{Keys: storeOf(StoredKey{ID: "x", PrivateKeyPEM: []byte("nope")}), Apps: testApps()}},
		{"EC key", Config{Keys: storeOf(StoredKey{ID: "ec", PrivateKeyPEM: pemOf(ecKey)}), Apps: testApps()}},
		{"1024-bit RSA", Config{Keys: storeOf(StoredKey{ID: "small", PrivateKeyPEM: pemOf(smallKey)}), Apps: testApps()}},
		{"duplicate ids", Config{Keys: storeOf(good, good), Apps: testApps()}},
		{"negative rotation period", Config{Keys: storeOf(good), Apps: testApps(), KeyRotationPeriod: -time.Hour}},
		{"lead shorter than a token lives", Config{Keys: storeOf(good), Apps: testApps(), KeyPublicationLead: time.Hour}},
		{"lead shorter than a long token lifetime", Config{Keys: storeOf(good), Apps: testApps(), TokenLifetime: 30 * time.Hour}},
		{"period not longer than the lead", Config{Keys: storeOf(good), Apps: testApps(), KeyRotationPeriod: 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(t.Context(), tt.cfg); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
	if _, err := New(t.Context(), Config{Keys: failingStore{load: errLoad}, Apps: testApps()}); !errors.Is(err, errLoad) {
		t.Errorf("load error not wrapped: %v", err)
	}
}

func TestMemoryKeyStoreCopies(t *testing.T) {
	s := &MemoryKeyStore{}
	k := StoredKey{ID: "a", PrivateKeyPEM: []byte("pem"), CreatedAt: testStart}
	if err := s.SaveKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	k.PrivateKeyPEM[0] = 'X'
	if err := s.SaveKey(t.Context(), k); err == nil {
		t.Error("duplicate id saved")
	}
	got, _ := s.LoadKeys(t.Context())
	got[0].PrivateKeyPEM[0] = 'Y'
	again, _ := s.LoadKeys(t.Context())
	if string(again[0].PrivateKeyPEM) != "pem" {
		t.Errorf("stored key changed to %q", again[0].PrivateKeyPEM)
	}
}

func TestAppsAndPrincipal(t *testing.T) {
	apps := testApps()
	for _, id := range []string{DevClientID, "0000000D-0000-4000-8000-000000000002"} {
		if a, err := apps.App(t.Context(), id); err != nil || a.TenantID != DevTenantID {
			t.Errorf("App(%q) = %+v, %v", id, a, err)
		}
	}
	if _, err := apps.App(t.Context(), "nobody"); !errors.Is(err, ErrAppNotFound) {
		t.Errorf("unknown app: %v, want ErrAppNotFound", err)
	}
	dev := DevApp()
	if ok, _ := matchSecret(dev, DevClientSecret, testStart); !ok {
		t.Error("the development secret does not match")
	}
	for _, wrong := range []string{DevClientSecret + " ", "", "SWITCHBOARD-DEV-SECRET"} {
		if ok, _ := matchSecret(dev, wrong, testStart); ok {
			t.Errorf("secret %q matches", wrong)
		}
	}
	if ok, _ := matchSecret(App{}, "", testStart); ok {
		t.Error("an app without secrets matched")
	}
	p := Principal{Roles: dev.Roles}
	for _, r := range AllRoles() {
		if !p.Has(r) {
			t.Errorf("dev app lacks %s", r)
		}
	}
	if p.Has("calls.initiate.all") {
		t.Error("roles matched case-insensitively")
	}
}
