package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is a SHA-1 thumbprint
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// The application that authenticates with a certificate, registered in a
// MemoryAppStore behind the static apps.
const certTenant = "11111111-2222-4333-8444-555555555555"

// testCertificate makes a self-signed certificate for key, valid from
// notBefore to notAfter.
func testCertificate(t testing.TB, key *rsa.PrivateKey, notBefore, notAfter time.Time) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "bot.example"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

type certFixture struct {
	*fixture
	apps     *MemoryAppStore
	clientID string
	key      *rsa.PrivateKey // the certificate's private key, as the bot has it
	cert     *x509.Certificate
	certPEM  []byte
}

// newCertFixture registers an application with a certificate (whose key is
// the second shared key) and no secret, and serves tokens with a fake clock
// at now.
func newCertFixture(t testing.TB, now time.Time, mods ...func(*Config)) *certFixture {
	t.Helper()
	cf := &certFixture{apps: &MemoryAppStore{}, key: privateKey(t, sharedKeys(t)[1])}
	cf.cert, cf.certPEM = testCertificate(t, cf.key, now.Add(-24*time.Hour), now.Add(365*24*time.Hour))
	a, _, err := RegisterApp(t.Context(), cf.apps, Registration{
		TenantID: certTenant, DisplayName: "Certificate bot", Roles: []string{RoleCallsInitiate},
		CertificatePEM: cf.certPEM, NoSecret: true,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	cf.clientID = a.ClientID
	store := &MemoryKeyStore{}
	if err := store.SaveKey(t.Context(), sharedKeys(t)[0]); err != nil {
		t.Fatal(err)
	}
	cf.fixture = &fixture{clock: clock.NewFake(now), store: store}
	cfg := Config{Clock: cf.clock, Keys: store, Apps: ChainApps(testApps(), StoredApps(cf.apps))}
	for _, mod := range mods {
		mod(&cfg)
	}
	svc, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	cf.svc = svc
	return cf
}

// tokenEndpoint is the aud MSAL puts in its assertions.
func (cf *certFixture) tokenEndpoint() string {
	return testBase + "/" + certTenant + "/oauth2/v2.0/token"
}

// msalClaims are the claims MSAL's Credential.JWT signs.
func (cf *certFixture) msalClaims() jwt.MapClaims {
	now := cf.clock.Now()
	return jwt.MapClaims{
		"aud": cf.tokenEndpoint(),
		"exp": json.Number(jsonInt(now.Add(10 * time.Minute).Unix())),
		"iss": cf.clientID,
		"jti": uuid.NewString(),
		"nbf": json.Number(jsonInt(now.Unix())),
		"sub": cf.clientID,
	}
}

func jsonInt(n int64) string { return big.NewInt(n).String() }

// msalHeader is the header MSAL sends: PS256 with the SHA-256 thumbprint
// in standard base64 (not base64url), as accesstokens.go does.
func (cf *certFixture) msalHeader() map[string]any {
	sum := sha256.Sum256(cf.cert.Raw)
	return map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.StdEncoding.EncodeToString(sum[:])}
}

// sign makes an assertion with method, replacing the header as MSAL does.
func signAssertion(t testing.TB, key any, method jwt.SigningMethod, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header = header
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertionForm is the body MSAL's FromAssertion posts.
func (cf *certFixture) assertionForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
		"client_id":             {cf.clientID},
		"client_info":           {"1"},
		"scope":                 {"https://graph.microsoft.com/.default openid offline_access profile"},
	}
}

func TestClientAssertionAccepted(t *testing.T) {
	x5t := func(cf *certFixture) string {
		sum := sha1.Sum(cf.cert.Raw) //nolint:gosec // x5t
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	tests := []struct {
		name string
		make func(cf *certFixture) url.Values
	}{
		{"as MSAL sends it: PS256, x5t#S256 in standard base64", func(cf *certFixture) url.Values {
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims()))
		}},
		{"RS256 with x5t in base64url", func(cf *certFixture) url.Values {
			h := map[string]any{"alg": "RS256", "typ": "JWT", "x5t": x5t(cf)}
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodRS256, h, cf.msalClaims()))
		}},
		{"both thumbprints, an x5c chain and an aud array", func(cf *certFixture) url.Values {
			h := cf.msalHeader()
			h["x5t"] = x5t(cf)
			h["x5c"] = []string{base64.StdEncoding.EncodeToString(cf.cert.Raw)}
			c := cf.msalClaims()
			c["aud"] = []string{"https://elsewhere.example/", strings.ToUpper(cf.tokenEndpoint())}
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, h, c))
		}},
		{"no client_id: the assertion's sub names the client", func(cf *certFixture) url.Values {
			v := cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims()))
			v.Del("client_id")
			return v
		}},
		{"v1 token endpoint as aud, client id in upper case", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["aud"] = testBase + "/" + certTenant + "/oauth2/token"
			c["iss"], c["sub"] = strings.ToUpper(cf.clientID), strings.ToUpper(cf.clientID)
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}},
		{"nbf and exp a little off, within the leeway", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["nbf"] = cf.clock.Now().Add(30 * time.Second).Unix()
			c["exp"] = cf.clock.Now().Add(-30 * time.Second).Unix()
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf := newCertFixture(t, testStart)
			w := cf.postToken(certTenant, tt.make(cf), nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var resp tokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(resp.AccessToken, claims); err != nil {
				t.Fatal(err)
			}
			if claims["appid"] != cf.clientID || claims["tid"] != certTenant || claims["appidacr"] != "2" || claims["azpacr"] != "2" {
				t.Errorf("claims appid %v, tid %v, appidacr %v, azpacr %v; want %s, %s, 2 (certificate), 2",
					claims["appid"], claims["tid"], claims["appidacr"], claims["azpacr"], cf.clientID, certTenant)
			}
			p, err := cf.authenticate("Bearer " + resp.AccessToken)
			if err != nil || p.AppID != cf.clientID || !p.Has(RoleCallsInitiate) {
				t.Errorf("Authenticate = %+v, %v", p, err)
			}
		})
	}
}

func TestClientAssertionRefused(t *testing.T) {
	other := privateKey(t, sharedKeys(t)[0])
	tests := []struct {
		name      string
		make      func(cf *certFixture) url.Values
		wantCode  int
		wantError string
		wantAAD   int
	}{
		{"signed by another key", func(cf *certFixture) url.Values {
			return cf.assertionForm(signAssertion(t, other, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims()))
		}, 401, "invalid_client", 700027},
		{"certificate not registered", func(cf *certFixture) url.Values {
			cert, _ := testCertificate(t, other, testStart.Add(-time.Hour), testStart.Add(time.Hour))
			sum := sha256.Sum256(cert.Raw)
			h := map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.StdEncoding.EncodeToString(sum[:])}
			return cf.assertionForm(signAssertion(t, other, jwt.SigningMethodPS256, h, cf.msalClaims()))
		}, 401, "invalid_client", 700027},
		{"x5t of one certificate, x5t#S256 of another", func(cf *certFixture) url.Values {
			h := cf.msalHeader()
			h["x5t"] = base64.RawURLEncoding.EncodeToString(make([]byte, 20))
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, h, cf.msalClaims()))
		}, 401, "invalid_client", 700027},
		{"no thumbprint header", func(cf *certFixture) url.Values {
			h := map[string]any{"alg": "PS256", "typ": "JWT", "kid": "whatever"}
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, h, cf.msalClaims()))
		}, 401, "invalid_client", 700027},
		{"thumbprint not base64", func(cf *certFixture) url.Values {
			h := map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": "not a thumbprint!"}
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, h, cf.msalClaims()))
		}, 400, "invalid_request", 50027},
		{"HS256 keyed with the certificate", func(cf *certFixture) url.Values {
			h := cf.msalHeader()
			h["alg"] = "HS256"
			return cf.assertionForm(signAssertion(t, cf.cert.Raw, jwt.SigningMethodHS256, h, cf.msalClaims()))
		}, 401, "invalid_client", 700027},
		{"alg none", func(cf *certFixture) url.Values {
			h := cf.msalHeader()
			h["alg"] = "none"
			return cf.assertionForm(signAssertion(t, jwt.UnsafeAllowNoneSignatureType, jwt.SigningMethodNone, h, cf.msalClaims()))
		}, 401, "invalid_client", 700027},
		{"expired", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["nbf"], c["exp"] = cf.clock.Now().Add(-20*time.Minute).Unix(), cf.clock.Now().Add(-2*time.Minute).Unix()
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 700024},
		{"not valid yet", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["nbf"], c["exp"] = cf.clock.Now().Add(2*time.Minute).Unix(), cf.clock.Now().Add(12*time.Minute).Unix()
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 700024},
		{"no exp", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			delete(c, "exp")
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 400, "invalid_request", 50027},
		{"iss is another client", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["iss"] = DevClientID
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 700021},
		{"sub is another client", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["sub"] = DevClientID
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 700021},
		{"aud of another host", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["aud"] = "https://login.microsoftonline.com/" + certTenant + "/oauth2/v2.0/token"
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 50012},
		{"aud of another tenant", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["aud"] = testBase + "/" + DevTenantID + "/oauth2/v2.0/token"
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 50012},
		{"aud is Graph", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["aud"] = GraphResource
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 50012},
		{"no jti", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			delete(c, "jti")
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 401, "invalid_client", 0},
		{"client_id differs from the assertion's client", func(cf *certFixture) url.Values {
			v := cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims()))
			v.Set("client_id", otherClient)
			return v
		}, 400, "unauthorized_client", 700016},
		{"not a JWT", func(cf *certFixture) url.Values {
			return cf.assertionForm("a.b.c")
		}, 400, "invalid_request", 50027},
		{"no client_id and no sub", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			delete(c, "sub")
			v := cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
			v.Del("client_id")
			return v
		}, 400, "invalid_request", 50027},
		{"too long", func(cf *certFixture) url.Values {
			c := cf.msalClaims()
			c["pad"] = strings.Repeat("x", maxAssertionLength)
			return cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c))
		}, 400, "invalid_request", 50027},
		{"wrong client_assertion_type", func(cf *certFixture) url.Values {
			v := cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims()))
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return v
		}, 400, "invalid_request", 0},
		{"no client_assertion", func(cf *certFixture) url.Values {
			v := cf.assertionForm("")
			v.Del("client_assertion")
			return v
		}, 400, "invalid_request", 900144},
		{"assertion and secret", func(cf *certFixture) url.Values {
			v := cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims()))
			v.Set("client_secret", "x")
			return v
		}, 400, "invalid_request", 0},
		{"secret for an app that has none", func(cf *certFixture) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "client_id": {cf.clientID}, "client_secret": {"guess"},
				"scope": {"https://graph.microsoft.com/.default"}}
		}, 401, "invalid_client", 7000215},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf := newCertFixture(t, testStart)
			w := cf.postToken(certTenant, tt.make(cf), nil)
			checkOAuthError(t, w, tt.wantCode, tt.wantError, tt.wantAAD)
		})
	}
}

func TestClientAssertionReplayRefused(t *testing.T) {
	cf := newCertFixture(t, testStart)
	assertion := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	if w := cf.postToken(certTenant, cf.assertionForm(assertion), nil); w.Code != http.StatusOK {
		t.Fatalf("first use: %d %s", w.Code, w.Body)
	}
	w := cf.postToken(certTenant, cf.assertionForm(assertion), nil)
	checkOAuthError(t, w, 401, "invalid_client", 0)
	if !strings.Contains(w.Body.String(), "used before") {
		t.Errorf("replay error does not say so: %s", w.Body)
	}
	// Another assertion with its own jti is fine.
	fresh := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	if w := cf.postToken(certTenant, cf.assertionForm(fresh), nil); w.Code != http.StatusOK {
		t.Fatalf("a fresh assertion: %d %s", w.Code, w.Body)
	}
	// Once the replayed assertion has expired, it is refused as expired.
	cf.clock.Advance(12 * time.Minute)
	checkOAuthError(t, cf.postToken(certTenant, cf.assertionForm(assertion), nil), 401, "invalid_client", 700024)
}

func TestClientAssertionExpiredCertificate(t *testing.T) {
	cf := newCertFixture(t, testStart)
	// The certificate ran out after registration.
	cf.clock.Advance(366 * 24 * time.Hour)
	w := cf.postToken(certTenant, cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())), nil)
	checkOAuthError(t, w, 401, "invalid_client", 700027)
	if !strings.Contains(w.Body.String(), "expired") {
		t.Errorf("error does not say the key expired: %s", w.Body)
	}
}

func TestDiscoveryAdvertisesPrivateKeyJWT(t *testing.T) {
	fx := newFixture(t)
	var doc struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := json.Unmarshal(fx.do(http.MethodGet, testBase+"/"+DevTenantID+"/v2.0/.well-known/openid-configuration", nil, nil).Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(doc.Methods, " "), "private_key_jwt") {
		t.Errorf("token_endpoint_auth_methods_supported = %v", doc.Methods)
	}
}

func TestSameHost(t *testing.T) {
	tests := []struct {
		aud, req string
		want     bool
	}{
		{"127.0.0.1:8443", "127.0.0.1:8443", true},
		{"Switchboard.Example", "switchboard.example:443", true},
		{"switchboard.example:80", "switchboard.example", true},
		{"[::1]:443", "[::1]", true},
		{"127.0.0.1:8443", "127.0.0.1:8080", false},
		{"evil.example", "switchboard.example", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := sameHost(tt.aud, tt.req); got != tt.want {
			t.Errorf("sameHost(%q, %q) = %v, want %v", tt.aud, tt.req, got, tt.want)
		}
	}
}
