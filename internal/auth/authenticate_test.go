package auth

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAuthenticateRejects(t *testing.T) {
	keys := sharedKeys(t)
	ourKey, otherKey := keys[0], keys[1]
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&privateKey(t, ourKey).PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	claimsWith := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims(testStart)
		mod(c)
		return c
	}
	tests := []struct {
		name       string
		header     func(t *testing.T) string
		wantErr    error
		wantReason error  // matched with errors.Is when set
		wantMsg    string // exact message when set
	}{
		{"no header", func(*testing.T) string { return "" }, ErrMissingToken, nil, "auth: missing bearer token"},
		{"Basic scheme", func(*testing.T) string { return "Basic ZGV2OnNlY3JldA==" }, ErrMissingToken, nil, ""},
		{"Bearer without token", func(*testing.T) string { return "Bearer   " }, ErrMissingToken, nil, ""},
		{"not a JWT", func(*testing.T) string { return "Bearer not-a-jwt" }, ErrInvalidToken, jwt.ErrTokenMalformed, ""},
		{"expired", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) {
				c["exp"] = testStart.Add(-2 * time.Minute).Unix()
			}))
		}, ErrInvalidToken, jwt.ErrTokenExpired, "auth: invalid token: token is expired"},
		{"not yet valid", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) {
				c["nbf"] = testStart.Add(2 * time.Minute).Unix()
			}))
		}, ErrInvalidToken, jwt.ErrTokenNotValidYet, "auth: invalid token: token is not valid yet"},
		{"no exp", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { delete(c, "exp") }))
		}, ErrInvalidToken, jwt.ErrTokenRequiredClaimMissing, ""},
		{"wrong audience", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { c["aud"] = "https://management.azure.com" }))
		}, ErrInvalidToken, jwt.ErrTokenInvalidAudience, "auth: invalid token: token has invalid audience"},
		{"no audience", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { delete(c, "aud") }))
		}, ErrInvalidToken, jwt.ErrTokenRequiredClaimMissing, ""},
		{"alg none", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(testStart))
			tok.Header["kid"] = ourKey.ID
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s
		}, ErrInvalidToken, jwt.ErrTokenSignatureInvalid, ""},
		{"HS256 keyed with the public key", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(testStart))
			tok.Header["kid"] = ourKey.ID
			s, err := tok.SignedString(pubPEM())
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s
		}, ErrInvalidToken, jwt.ErrTokenSignatureInvalid, ""},
		{"RS512", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS512, validClaims(testStart))
			tok.Header["kid"] = ourKey.ID
			s, err := tok.SignedString(privateKey(t, ourKey))
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + s
		}, ErrInvalidToken, jwt.ErrTokenSignatureInvalid, ""},
		{"signed by another key under our kid", func(t *testing.T) string {
			return "Bearer " + signWith(t, otherKey, ourKey.ID, validClaims(testStart))
		}, ErrInvalidToken, jwt.ErrTokenSignatureInvalid, ""},
		{"signed by an unknown key", func(t *testing.T) string {
			return "Bearer " + signWith(t, otherKey, otherKey.ID, validClaims(testStart))
		}, ErrInvalidToken, errUnknownKey, ""},
		{"no kid", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, "", validClaims(testStart))
		}, ErrInvalidToken, errNoKeyID, ""},
		{"tampered payload", func(t *testing.T) string {
			good := signWith(t, ourKey, ourKey.ID, validClaims(testStart))
			forged := signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { c["roles"] = []string{RoleAdmin} }))
			g, f := strings.Split(good, "."), strings.Split(forged, ".")
			return "Bearer " + g[0] + "." + f[1] + "." + g[2]
		}, ErrInvalidToken, jwt.ErrTokenSignatureInvalid, ""},
		{"no tid", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { delete(c, "tid") }))
		}, ErrInvalidToken, errMissingTenant, "auth: invalid token: token has no tid claim"},
		{"no appid", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { delete(c, "appid") }))
		}, ErrInvalidToken, errMissingApp, ""},
		{"issuer of another tenant", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { c["iss"] = testBase + "/" + otherTenant + "/v2.0" }))
		}, ErrInvalidToken, jwt.ErrTokenInvalidIssuer, ""},
		{"v1 issuer", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/" + DevTenantID + "/" }))
		}, ErrInvalidToken, jwt.ErrTokenInvalidIssuer, ""},
		{"issuer with query", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { c["iss"] = testBase + "/" + DevTenantID + "/v2.0?x=1" }))
		}, ErrInvalidToken, jwt.ErrTokenInvalidIssuer, ""},
		{"roles not a list", func(t *testing.T) string {
			return "Bearer " + signWith(t, ourKey, ourKey.ID, claimsWith(func(c jwt.MapClaims) { c["roles"] = 7 }))
		}, ErrInvalidToken, jwt.ErrTokenMalformed, ""},
		{"too long", func(t *testing.T) string { return "Bearer " + strings.Repeat("a", maxTokenLength+1) }, ErrInvalidToken, errTokenTooLong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			p, err := fx.authenticate(tt.header(t))
			if err == nil {
				t.Fatalf("accepted, principal %+v", p)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %q is not %v", err, tt.wantErr)
			}
			if other := map[error]error{ErrMissingToken: ErrInvalidToken, ErrInvalidToken: ErrMissingToken}[tt.wantErr]; errors.Is(err, other) {
				t.Errorf("error %q is both sentinels", err)
			}
			if tt.wantReason != nil && !errors.Is(err, tt.wantReason) {
				t.Errorf("error %q does not carry reason %q", err, tt.wantReason)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("message %q, want %q", err, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr.Error()) {
				t.Errorf("message %q does not start with %q", err, tt.wantErr)
			}
			if p.AppID != "" || p.TenantID != "" || p.Roles != nil {
				t.Errorf("principal %+v returned with an error", p)
			}
		})
	}
}

func TestAuthenticateAccepts(t *testing.T) {
	ourKey := sharedKeys(t)[0]
	tests := []struct {
		name   string
		header func(fx *fixture) string
	}{
		{"issued token", func(fx *fixture) string { return "Bearer " + fx.token(t) }},
		{"lower-case scheme", func(fx *fixture) string { return "bearer " + fx.token(t) }},
		{"extra spaces", func(fx *fixture) string { return "  BEARER   " + fx.token(t) + " " }},
		{"Graph app id audience", func(*fixture) string {
			c := validClaims(testStart)
			c["aud"] = GraphResourceID
			return "Bearer " + signWith(t, ourKey, ourKey.ID, c)
		}},
		{"audience list", func(*fixture) string {
			c := validClaims(testStart)
			c["aud"] = []string{"api://other", GraphResource}
			return "Bearer " + signWith(t, ourKey, ourKey.ID, c)
		}},
		{"expired within leeway", func(*fixture) string {
			c := validClaims(testStart)
			c["exp"] = testStart.Add(-30 * time.Second).Unix()
			return "Bearer " + signWith(t, ourKey, ourKey.ID, c)
		}},
		{"not yet valid within leeway", func(*fixture) string {
			c := validClaims(testStart)
			c["nbf"] = testStart.Add(30 * time.Second).Unix()
			return "Bearer " + signWith(t, ourKey, ourKey.ID, c)
		}},
		{"plain-HTTP issuer on another host", func(*fixture) string {
			c := validClaims(testStart)
			c["iss"] = "http://localhost:8080/" + strings.ToUpper(DevTenantID) + "/v2.0"
			return "Bearer " + signWith(t, ourKey, ourKey.ID, c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			p, err := fx.authenticate(tt.header(fx))
			if err != nil {
				t.Fatal(err)
			}
			if p.TenantID != DevTenantID || p.AppID != DevClientID || !p.Has(RoleCallsInitiate) {
				t.Errorf("principal = %+v", p)
			}
		})
	}
}

func TestAuthenticateCachesUntilExpiry(t *testing.T) {
	fx := newFixture(t)
	tok := fx.token(t)
	p1, err := fx.authenticate("Bearer " + tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := fx.svc.verified.len(); n != 1 {
		t.Fatalf("cache holds %d tokens, want 1", n)
	}
	// Callers may scribble on the Principal; the cache must not see it.
	p1.Roles[0] = "tampered"
	p2, err := fx.authenticate("Bearer " + tok)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Roles[0] == "tampered" {
		t.Fatal("a caller's change to Roles reached the cache")
	}

	// At exp the cached entry is dropped; validation alone decides, and
	// allows its minute of leeway.
	fx.clock.Advance(time.Hour + 30*time.Second)
	if _, ok := fx.svc.verified.get(tok, fx.clock.Now()); ok {
		t.Fatal("cache served a token past its exp")
	}
	if _, err := fx.authenticate("Bearer " + tok); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	fx.clock.Advance(time.Minute)
	if _, err := fx.authenticate("Bearer " + tok); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("after exp and leeway: %v, want expired", err)
	}
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	c := newVerifiedCache(100)
	now := testStart
	for i := range 1000 {
		c.put(strings.Repeat("x", i+1), Principal{AppID: "a"}, now.Add(time.Hour), now)
		if n := c.len(); n > 100 {
			t.Fatalf("after %d puts the cache holds %d", i+1, n)
		}
	}
	// Expired entries go first.
	c = newVerifiedCache(10)
	for i := range 10 {
		c.put(strings.Repeat("old", i+1), Principal{}, now.Add(time.Minute), now)
	}
	later := now.Add(2 * time.Minute)
	c.put("fresh", Principal{AppID: "f"}, later.Add(time.Hour), later)
	if n := c.len(); n != 1 {
		t.Fatalf("cache holds %d, want only the fresh entry", n)
	}
	// An already expired token is never stored.
	c.put("stale", Principal{}, later, later)
	if _, ok := c.get("stale", later); ok {
		t.Fatal("expired token stored")
	}
}

func TestAuthenticateConcurrent(t *testing.T) {
	fx := newFixture(t)
	tok := "Bearer " + fx.token(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := fx.authenticate(tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestWWWAuthenticate(t *testing.T) {
	fx := newFixture(t)
	_, missing := fx.authenticate("")
	expiredClaims := validClaims(testStart)
	expiredClaims["exp"] = testStart.Add(-time.Hour).Unix()
	_, expired := fx.authenticate("Bearer " + signWith(t, sharedKeys(t)[0], sharedKeys(t)[0].ID, expiredClaims))
	_, garbage := fx.authenticate("Bearer \"\\\x01é.x.y")

	authURI := `authorization_uri="` + testBase + `/common/oauth2/v2.0/authorize"`
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"missing token", missing, `Bearer realm="", ` + authURI},
		{"expired token", expired, `Bearer realm="", ` + authURI + `, error="invalid_token", error_description="auth: invalid token: token is expired"`},
		{"foreign error", errors.New("boom"), `Bearer realm=""`},
		{"bare sentinel", ErrInvalidToken, `Bearer realm="", error="invalid_token", error_description="auth: invalid token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fx.svc.WWWAuthenticate(tt.err); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	got := fx.svc.WWWAuthenticate(garbage)
	checkHeaderValue(t, got)
	if !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("garbage token: %s", got)
	}
}

// checkHeaderValue fails if v could not be sent as a header or would make
// the Graph SDK retry.
func checkHeaderValue(t testing.TB, v string) {
	t.Helper()
	if strings.Contains(v, "claims=") {
		t.Errorf("WWW-Authenticate %q has a claims parameter", v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			t.Fatalf("WWW-Authenticate %q has byte %#x", v, v[i])
		}
	}
	if _, desc, ok := strings.Cut(v, `error_description="`); ok {
		desc = strings.TrimSuffix(desc, `"`)
		if strings.ContainsAny(desc, "\"\\") {
			t.Errorf("error_description %q holds a quote or backslash", desc)
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	fx := newFixture(b)
	r := httptest.NewRequest(http.MethodGet, testBase+"/v1.0/communications/calls", nil)
	r.Header.Set("Authorization", "Bearer "+fx.token(b))
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := fx.svc.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			fx.svc.verified = newVerifiedCache(verifiedCacheSize)
			if _, err := fx.svc.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
