package auth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Test fixtures. RSA key generation is slow, under -race especially, so the
// package's tests share two keys.
var (
	testKeysOnce sync.Once
	testKeys     [2]StoredKey
	testKeysErr  error
	testStart    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// The second application, in another tenant, with two secrets and one role.
const (
	otherTenant  = "contoso.onmicrosoft.com"
	otherClient  = "8d7c6b5a-1111-4222-8333-944455556666"
	otherSecret1 = "first secret"
	otherSecret2 = "sécond:secret%with&odd=chars"
)

func sharedKeys(t testing.TB) [2]StoredKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for i := range testKeys {
			testKeys[i], testKeysErr = NewStoredKey(testStart.Add(time.Duration(i) * time.Hour))
			if testKeysErr != nil {
				return
			}
		}
	})
	if testKeysErr != nil {
		t.Fatal(testKeysErr)
	}
	return testKeys
}

func testApps() StaticApps {
	return NewStaticApps(DevApp(), App{
		ClientID:    otherClient,
		TenantID:    otherTenant,
		DisplayName: "Contoso bot",
		Secrets:     []Secret{StaticSecret(HashSecret(otherSecret1)), StaticSecret(HashSecret(otherSecret2))},
		Roles:       []string{RoleCallsInitiate},
	})
}

type fixture struct {
	svc   *Service
	clock *clock.Fake
	store *MemoryKeyStore
}

// newFixture returns a Service over a store holding the first shared key,
// with a fake clock at testStart.
func newFixture(t testing.TB, mod ...func(*Config)) *fixture {
	t.Helper()
	store := &MemoryKeyStore{}
	if err := store.SaveKey(t.Context(), sharedKeys(t)[0]); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{clock: clock.NewFake(testStart), store: store}
	cfg := Config{Clock: fx.clock, Keys: store, Apps: testApps()}
	for _, m := range mod {
		m(&cfg)
	}
	svc, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	fx.svc = svc
	return fx
}

const testBase = "https://127.0.0.1:8443"

// do serves one request through the Service's handler.
func (fx *fixture) do(method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	maps.Copy(r.Header, header)
	w := httptest.NewRecorder()
	fx.svc.Handler().ServeHTTP(w, r)
	return w
}

// devForm is what MSAL sends for the development app.
func devForm() url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {DevClientID},
		"client_secret": {DevClientSecret},
		"scope":         {"https://graph.microsoft.com/.default openid offline_access profile"},
		"claims":        {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
	}
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// postToken posts form to tenant's token endpoint.
func (fx *fixture) postToken(tenant string, form url.Values, header http.Header) *httptest.ResponseRecorder {
	h := formHeader.Clone()
	maps.Copy(h, header)
	return fx.do(http.MethodPost, testBase+"/"+tenant+"/oauth2/v2.0/token?client-request-id=0f1e2d3c-4b5a-4968-8776-655443322110",
		strings.NewReader(form.Encode()), h)
}

// token obtains an access token for the development app.
func (fx *fixture) token(t testing.TB) string {
	t.Helper()
	w := fx.postToken(DevTenantID, devForm(), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("token endpoint: %d %s", w.Code, w.Body)
	}
	var resp tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	return resp.AccessToken
}

// authenticate runs Authenticate on a request with the given Authorization
// header value.
func (fx *fixture) authenticate(authorization string) (Principal, error) {
	r := httptest.NewRequest(http.MethodGet, testBase+"/v1.0/communications/calls", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return fx.svc.Authenticate(r)
}

func privateKey(t testing.TB, k StoredKey) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(k.PrivateKeyPEM)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return priv.(*rsa.PrivateKey)
}

// validClaims are the claims of a good access token for the development
// app at now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"aud":   GraphResource,
		"iss":   testBase + "/" + DevTenantID + "/v2.0",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"tid":   DevTenantID,
		"appid": DevClientID,
		"roles": []string{RoleCallsInitiate},
	}
}

// signWith signs claims with key under kid, RS256.
func signWith(t testing.TB, key StoredKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(privateKey(t, key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwks decodes a JSON Web Key Set into public keys by kid.
func jwks(t testing.TB, body []byte) map[string]*rsa.PublicKey {
	t.Helper()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "RS256" || k["kid"] == "" {
			t.Fatalf("JWKS key %v lacks kty RSA, use sig, alg RS256 or kid", k)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k["n"])
		e, err2 := base64.RawURLEncoding.DecodeString(k["e"])
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			t.Fatalf("JWKS key %s: bad n or e", k["kid"])
		}
		out[k["kid"]] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out
}
