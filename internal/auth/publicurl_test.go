package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// publicURLs configures a Service with the given public URLs.
func publicURLs(urls ...string) func(*Config) {
	return func(c *Config) { c.PublicURLs = func() []string { return urls } }
}

// postForm posts form to target (whose host is the Host header) through
// the Service's handler.
func (fx *fixture) postForm(target string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	fx.svc.Handler().ServeHTTP(w, r)
	return w
}

// TestPublicURLsNotHostHeader asks for the discovery documents, a token and
// a 401 with Host headers naming the server's public URLs and one naming
// another host: the answers name the public URL the request used, and the
// canonical one for a forged Host, never the forged host.
func TestPublicURLsNotHostHeader(t *testing.T) {
	fx := newFixture(t, publicURLs("https://Switchboard.example/", "http://127.0.0.1:8080"))
	for _, tc := range []struct{ name, base, want string }{
		{"forged Host", "https://evil.example", "https://switchboard.example"},
		{"forged Host over HTTP", "http://evil.example:8080", "https://switchboard.example"},
		{"public name, other case and default port", "https://SWITCHBOARD.example:443", "https://switchboard.example"},
		{"listener address", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc openIDConfiguration
			w := fx.do(http.MethodGet, tc.base+"/"+DevTenantID+"/v2.0/.well-known/openid-configuration", nil, nil)
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("%d %s: %v", w.Code, w.Body, err)
			}
			if doc.Issuer != tc.want+"/"+DevTenantID+"/v2.0" || doc.TokenEndpoint != tc.want+"/"+DevTenantID+"/oauth2/v2.0/token" ||
				doc.JWKSURI != tc.want+"/"+DevTenantID+"/discovery/v2.0/keys" || doc.AuthorizationEndpoint != tc.want+"/"+DevTenantID+"/oauth2/v2.0/authorize" {
				t.Errorf("OpenID configuration names %+v, want everything under %s", doc, tc.want)
			}
			var cb callbackConfiguration
			w = fx.do(http.MethodGet, tc.base+"/callbacks/v1/.well-known/OpenIdConfiguration", nil, nil)
			if err := json.Unmarshal(w.Body.Bytes(), &cb); err != nil || cb.JWKSURI != tc.want+"/callbacks/v1/keys" {
				t.Errorf("callback configuration jwks_uri %q (%v), want under %s", cb.JWKSURI, err, tc.want)
			}
			w = fx.postForm(tc.base+"/"+DevTenantID+"/oauth2/v2.0/token", devForm())
			var tok tokenResponse
			json.Unmarshal(w.Body.Bytes(), &tok)
			var claims jwt.MapClaims
			if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, &claims); err != nil {
				t.Fatalf("token: %d %s: %v", w.Code, w.Body, err)
			}
			if claims["iss"] != tc.want+"/"+DevTenantID+"/v2.0" {
				t.Errorf("token iss %v, want under %s", claims["iss"], tc.want)
			}
			r := httptest.NewRequest(http.MethodGet, tc.base+"/v1.0/communications/calls", nil)
			_, err := fx.svc.Authenticate(r)
			if h := fx.svc.WWWAuthenticate(err); !strings.Contains(h, `authorization_uri="`+tc.want+`/common/oauth2/v2.0/authorize"`) {
				t.Errorf("WWW-Authenticate %s, want the authorization_uri under %s", h, tc.want)
			}
		})
	}
}

// TestClientAssertionAudienceIsPublicURL sends assertions with a Host
// header of their own choosing: an assertion made for another server is
// refused even when the Host header names that server, and one made for
// the server's public URL is accepted whatever the Host header says.
func TestClientAssertionAudienceIsPublicURL(t *testing.T) {
	cf := newCertFixture(t, testStart, publicURLs(testBase))
	const elsewhere = "https://evil.example"
	claims := cf.msalClaims()
	claims["aud"] = elsewhere + "/" + certTenant + "/oauth2/v2.0/token"
	forged := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), claims)
	w := cf.postForm(elsewhere+"/"+certTenant+"/oauth2/v2.0/token", cf.assertionForm(forged))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "AADSTS50012") || !strings.Contains(w.Body.String(), testBase+"/"+certTenant) {
		t.Errorf("an assertion for another server, sent with its Host: %d %s; want 401 AADSTS50012 naming %s", w.Code, w.Body, testBase)
	}
	good := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	if w := cf.postForm(elsewhere+"/"+certTenant+"/oauth2/v2.0/token", cf.assertionForm(good)); w.Code != http.StatusOK {
		t.Errorf("an assertion for the public URL, sent with another Host: %d %s", w.Code, w.Body)
	}
}
