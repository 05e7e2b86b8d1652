package auth

import (
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// botVerifier validates callback tokens the way a bot does: OpenID
// configuration, then JWKS, then the token.
type botVerifier struct {
	issuer string
	keys   map[string]*rsa.PublicKey
}

func discoverAsBot(t *testing.T, srv *httptest.Server) botVerifier {
	t.Helper()
	get := func(url string) []byte {
		resp, err := srv.Client().Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
		}
		return b
	}
	var conf struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(get(srv.URL+"/callbacks/v1/.well-known/OpenIdConfiguration"), &conf); err != nil {
		t.Fatal(err)
	}
	if conf.JWKSURI != srv.URL+"/callbacks/v1/keys" {
		t.Fatalf("jwks_uri = %q", conf.JWKSURI)
	}
	return botVerifier{issuer: conf.Issuer, keys: jwks(t, get(conf.JWKSURI))}
}

func (v botVerifier) verify(raw, appID string, now time.Time) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(appID),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	).ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.keys[kid], nil
	})
	return claims, err
}

func TestCallbackTokenVerifiesAsBot(t *testing.T) {
	fx := newFixture(t)
	srv := httptest.NewServer(fx.svc.Handler())
	t.Cleanup(srv.Close)
	bot := discoverAsBot(t, srv)
	if bot.issuer != DefaultCallbackIssuer {
		t.Errorf("issuer = %q, want %q", bot.issuer, DefaultCallbackIssuer)
	}

	raw, err := fx.svc.CallbackToken(DevClientID, DevTenantID)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := bot.verify(raw, DevClientID, fx.clock.Now())
	if err != nil {
		t.Fatalf("bot rejects callback token: %v", err)
	}
	if claims["tid"] != DevTenantID {
		t.Errorf("tid = %v", claims["tid"])
	}
	iat, nbf, exp := claims["iat"].(float64), claims["nbf"].(float64), claims["exp"].(float64)
	if iat != float64(testStart.Unix()) || nbf != iat || exp-iat != CallbackTokenLifetime.Seconds() {
		t.Errorf("iat %v nbf %v exp %v", iat, nbf, exp)
	}

	if _, err := bot.verify(raw, otherClient, fx.clock.Now()); err == nil {
		t.Error("another bot accepted the token")
	}
	if _, err := bot.verify(raw, DevClientID, fx.clock.Now().Add(66*time.Minute)); err == nil {
		t.Error("token accepted after its lifetime")
	}
	// A callback token is not a Graph access token.
	if _, err := fx.authenticate("Bearer " + raw); err == nil {
		t.Error("Authenticate accepted a callback token")
	}
}

func TestCallbackTokenCustomIssuer(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.CallbackIssuer = "https://graph.microsoft.com" })
	srv := httptest.NewServer(fx.svc.Handler())
	t.Cleanup(srv.Close)
	bot := discoverAsBot(t, srv)
	raw, err := fx.svc.CallbackToken(otherClient, otherTenant)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bot.verify(raw, otherClient, fx.clock.Now()); err != nil || bot.issuer != "https://graph.microsoft.com" {
		t.Fatalf("issuer %q: %v", bot.issuer, err)
	}
}

func TestCallbackTokenReusedUntilHalfLife(t *testing.T) {
	fx := newFixture(t)
	first, err := fx.svc.CallbackToken(DevClientID, DevTenantID)
	if err != nil {
		t.Fatal(err)
	}
	mustToken := func(app, tenant string) string {
		t.Helper()
		tok, err := fx.svc.CallbackToken(app, tenant)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if mustToken(DevClientID, DevTenantID) != first {
		t.Fatal("second call minted a new token")
	}
	if mustToken(DevClientID, otherTenant) == first || mustToken(otherClient, DevTenantID) == first {
		t.Fatal("token shared across apps or tenants")
	}
	fx.clock.Advance(CallbackTokenLifetime/2 - time.Second)
	if mustToken(DevClientID, DevTenantID) != first {
		t.Fatal("token re-minted with more than half its lifetime left")
	}
	fx.clock.Advance(2 * time.Second)
	second := mustToken(DevClientID, DevTenantID)
	if second == first {
		t.Fatal("token not re-minted with less than half its lifetime left")
	}
	if mustToken(DevClientID, DevTenantID) != second {
		t.Fatal("re-minted token not reused")
	}
}

func TestCallbackTokenNeedsAppAndTenant(t *testing.T) {
	fx := newFixture(t)
	for _, args := range [][2]string{{"", DevTenantID}, {DevClientID, ""}} {
		if _, err := fx.svc.CallbackToken(args[0], args[1]); err == nil {
			t.Errorf("CallbackToken(%q, %q) succeeded", args[0], args[1])
		}
	}
}

func TestCallbackTokenConcurrent(t *testing.T) {
	fx := newFixture(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			app := []string{DevClientID, otherClient}[i%2]
			for range 20 {
				if _, err := fx.svc.CallbackToken(app, DevTenantID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkCallbackToken(b *testing.B) {
	fx := newFixture(b)
	for b.Loop() {
		if _, err := fx.svc.CallbackToken(DevClientID, DevTenantID); err != nil {
			b.Fatal(err)
		}
	}
}
