package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzTokenRequest throws arbitrary token requests at the token endpoint.
// Whatever arrives, the answer is a token or an Entra-shaped error, never a
// panic or a 500.
func FuzzTokenRequest(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	f.Add(DevTenantID, form, "", devForm().Encode())
	f.Add(DevTenantID, form, "Basic MDAwMDAwMGQtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAyOnN3aXRjaGJvYXJkLWRldi1zZWNyZXQ=",
		"grant_type=client_credentials&scope=00000003-0000-0000-c000-000000000000%2F.default")
	f.Add("common", form+"; charset=utf-8", "", "grant_type=client_credentials&client_id=x&client_secret=y&scope=%2F.default")
	f.Add(DevTenantID, "application/json", "Bearer x", `{"grant_type":"client_credentials"}`)
	f.Add(DevTenantID, form, "Basic %%%", "grant_type=client_credentials&grant_type=password&scope=a/.default+b/.default")
	f.Add("v1.0", form, "", "")
	f.Add("a_b", "multipart/form-data; boundary=x", "", "--x\r\n")

	// The server knows an application with a certificate, so that fuzzed
	// client assertions reach the certificate lookup and the signature.
	// Its failure budget is out of reach, so that every input is looked at
	// in full rather than refused as one too many.
	cf := newCertFixture(f, testStart, func(c *Config) { c.TokenFailures = FailureLimit{Attempts: 1 << 30, Period: time.Second} })
	valid := signAssertion(f, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	f.Add(certTenant, form, "", cf.assertionForm(valid).Encode())
	f.Add(certTenant, form, "", "grant_type=client_credentials&client_assertion_type="+url.QueryEscape(clientAssertionType)+
		"&client_assertion=eyJhbGciOiJQUzI1NiIsIng1dCNTMjU2IjoiQUFBQSJ9.eyJzdWIiOiJ4In0.AAAA&scope=x%2F.default")
	f.Add(DevTenantID, form, "Basic eDp5", "client_assertion=a.b.c&client_assertion_type=x&grant_type=client_credentials")
	fx := cf.fixture
	f.Fuzz(func(t *testing.T, tenant, contentType, authorization, body string) {
		r := httptest.NewRequest(http.MethodPost, testBase+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", strings.NewReader(body))
		r.Header["Content-Type"] = []string{contentType}
		r.Header["Authorization"] = []string{authorization}
		w := httptest.NewRecorder()
		fx.svc.Handler().ServeHTTP(w, r)

		switch w.Code {
		case http.StatusOK:
			var resp tokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.AccessToken == "" || resp.TokenType != "Bearer" {
				t.Fatalf("200 without a token: %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests:
			var resp struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.Error == "" || resp.ErrorDescription == "" {
				t.Fatalf("%d without an OAuth error: %s", w.Code, w.Body)
			}
		case http.StatusNotFound:
			// Only for a reserved segment, or a path the mux does not
			// route to us at all.
			if validTenant(tenant) && !reservedTenants[strings.ToLower(tenant)] {
				t.Fatalf("404 for tenant %q", tenant)
			}
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			// The mux cleans "//" and "/./" out of the path before we see it.
			if tenant != "" && tenant != "." && tenant != ".." {
				t.Fatalf("redirect for tenant %q", tenant)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// FuzzAuthenticate feeds arbitrary Authorization header values to
// Authenticate. It must never panic, must return exactly one sentinel on
// failure, and its WWW-Authenticate value must be sendable.
func FuzzAuthenticate(f *testing.F) {
	fx := newFixture(f)
	f.Add("")
	f.Add("Bearer")
	f.Add("Bearer " + fx.token(f))
	f.Add("bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ0aWQiOiJ4IiwiYXBwaWQiOiJ5In0.")
	f.Add("Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.e30.AAAA")
	f.Add("Bearer a.b.c")
	f.Add("Basic ZGV2OnNlY3JldA==")
	f.Add("Bearer \"\\\r\n\x00é")

	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, testBase+"/v1.0/communications/calls", nil)
		r.Header["Authorization"] = []string{header}
		p, err := fx.svc.Authenticate(r)
		if err == nil {
			if p.AppID == "" || p.TenantID == "" {
				t.Fatalf("accepted with an empty principal %+v", p)
			}
			return
		}
		if errors.Is(err, ErrMissingToken) == errors.Is(err, ErrInvalidToken) {
			t.Fatalf("error %q matches neither or both sentinels", err)
		}
		checkHeaderValue(t, fx.svc.WWWAuthenticate(err))
	})
}
