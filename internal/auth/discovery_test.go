package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestDiscoveryDocument(t *testing.T) {
	tests := []struct {
		name, base, path, wantIssuer, wantTenantPath string
	}{
		{"v2.0 over HTTPS", "https://127.0.0.1:8443", "/" + DevTenantID + "/v2.0/.well-known/openid-configuration",
			"https://127.0.0.1:8443/" + DevTenantID + "/v2.0", DevTenantID},
		{"v2.0 over HTTP on localhost", "http://localhost:8080", "/" + DevTenantID + "/v2.0/.well-known/openid-configuration",
			"http://localhost:8080/" + DevTenantID + "/v2.0", DevTenantID},
		{"v1 alias", "https://[::1]:9443", "/" + DevTenantID + "/.well-known/openid-configuration",
			"https://[::1]:9443/" + DevTenantID + "/v2.0", DevTenantID},
		{"tenant spelled as sent", "https://switchboard.example:443", "/Contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
			"https://switchboard.example:443/Contoso.onmicrosoft.com/v2.0", "Contoso.onmicrosoft.com"},
		{"common", "https://127.0.0.1:8443", "/common/v2.0/.well-known/openid-configuration",
			"https://127.0.0.1:8443/{tenantid}/v2.0", "common"},
		{"organizations", "https://127.0.0.1:8443", "/organizations/v2.0/.well-known/openid-configuration",
			"https://127.0.0.1:8443/{tenantid}/v2.0", "organizations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			w := fx.do(http.MethodGet, tt.base+tt.path, nil, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"issuer":                 tt.wantIssuer,
				"token_endpoint":         tt.base + "/" + tt.wantTenantPath + "/oauth2/v2.0/token",
				"authorization_endpoint": tt.base + "/" + tt.wantTenantPath + "/oauth2/v2.0/authorize",
				"jwks_uri":               tt.base + "/" + tt.wantTenantPath + "/discovery/v2.0/keys",
			}
			for k, v := range want {
				if doc[k] != v {
					t.Errorf("%s = %v, want %s", k, doc[k], v)
				}
			}
			for _, k := range []string{"response_types_supported", "subject_types_supported", "token_endpoint_auth_methods_supported"} {
				if l, _ := doc[k].([]any); len(l) == 0 {
					t.Errorf("%s = %v, want a non-empty list", k, doc[k])
				}
			}
			if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); !slices.Equal(algs, []any{"RS256"}) {
				t.Errorf("id_token_signing_alg_values_supported = %v", doc["id_token_signing_alg_values_supported"])
			}
			if v, ok := doc["tenant_region_scope"]; !ok || v != nil {
				t.Errorf("tenant_region_scope = %v (present %v), want null", v, ok)
			}
			methods, _ := doc["token_endpoint_auth_methods_supported"].([]any)
			if !slices.Contains(methods, any("client_secret_post")) || !slices.Contains(methods, any("client_secret_basic")) {
				t.Errorf("token_endpoint_auth_methods_supported = %v", methods)
			}
		})
	}
}

func TestDiscoveryEndpointsAreServed(t *testing.T) {
	// Follow the document's URLs as MSAL does: token and keys must work.
	fx := newFixture(t)
	var doc openIDConfiguration
	w := fx.do(http.MethodGet, testBase+"/"+DevTenantID+"/v2.0/.well-known/openid-configuration", nil, nil)
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	w = fx.do(http.MethodPost, doc.TokenEndpoint, strings.NewReader(devForm().Encode()), formHeader)
	if w.Code != http.StatusOK {
		t.Fatalf("token_endpoint: %d %s", w.Code, w.Body)
	}
	w = fx.do(http.MethodGet, doc.JWKSURI, nil, nil)
	if len(jwks(t, w.Body.Bytes())) != 1 {
		t.Fatalf("jwks_uri: %s", w.Body)
	}
	w = fx.do(http.MethodGet, doc.AuthorizationEndpoint, nil, nil)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "unsupported_response_type") {
		t.Errorf("authorization_endpoint: %d %s", w.Code, w.Body)
	}
}

func TestDiscoveryRejectsBadTenant(t *testing.T) {
	fx := newFixture(t)
	for _, tenant := range []string{"a_b", "a%20b", "ten%22ant", strings.Repeat("a", 257)} {
		w := fx.do(http.MethodGet, testBase+"/"+tenant+"/v2.0/.well-known/openid-configuration", nil, nil)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid_tenant") {
			t.Errorf("tenant %q: %d %s", tenant, w.Code, w.Body)
		}
	}
}

func TestJWKSEndpoints(t *testing.T) {
	fx := newFixture(t)
	want := &privateKey(t, sharedKeys(t)[0]).PublicKey
	for _, path := range []string{
		"/" + DevTenantID + "/discovery/v2.0/keys",
		"/common/discovery/v2.0/keys",
		"/" + DevTenantID + "/discovery/keys",
		"/callbacks/v1/keys",
	} {
		w := fx.do(http.MethodGet, testBase+path, nil, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, w.Code)
		}
		keys := jwks(t, w.Body.Bytes())
		got := keys[sharedKeys(t)[0].ID]
		if len(keys) != 1 || got == nil || !got.Equal(want) {
			t.Errorf("%s: keys %v do not hold exactly the signing key", path, keys)
		}
	}
}

func TestCallbackDiscoveryDocument(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.CallbackIssuer = "https://graph.microsoft.com" })
	w := fx.do(http.MethodGet, "http://127.0.0.1:8080/callbacks/v1/.well-known/OpenIdConfiguration", nil, nil)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	if doc["issuer"] != "https://graph.microsoft.com" || doc["jwks_uri"] != "http://127.0.0.1:8080/callbacks/v1/keys" {
		t.Errorf("document = %v", doc)
	}
	if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); !slices.Equal(algs, []any{"RS256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %v", doc["id_token_signing_alg_values_supported"])
	}
}

func TestRoutesStayOutOfOtherPrefixes(t *testing.T) {
	fx := newFixture(t)
	for _, tenant := range []string{"v1.0", "beta", "switchboard", "callbacks", "V1.0", "Beta"} {
		for _, path := range []string{
			"/" + tenant + "/v2.0/.well-known/openid-configuration",
			"/" + tenant + "/.well-known/openid-configuration",
			"/" + tenant + "/discovery/v2.0/keys",
			"/" + tenant + "/discovery/keys",
			"/" + tenant + "/oauth2/v2.0/authorize",
		} {
			if w := fx.do(http.MethodGet, testBase+path, nil, nil); w.Code != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, w.Code)
			}
		}
		if w := fx.postToken(tenant, devForm(), nil); w.Code != http.StatusNotFound {
			t.Errorf("POST /%s/oauth2/v2.0/token: %d, want 404", tenant, w.Code)
		}
	}
}

func TestRoutesMountOnMainMux(t *testing.T) {
	// The lead's mux: Graph routes with explicit patterns, the extension API
	// under /switchboard/v1/, and a catch-all.
	fx := newFixture(t)
	mux := http.NewServeMux()
	graph := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, p := range []string{
		"GET /v1.0/communications/calls/{id}",
		"POST /v1.0/communications/calls",
		"POST /v1.0/communications/calls/{id}/answer",
		"GET /v1.0/communications/calls/{id}/operations/{op}",
		"GET /beta/app/calls/{id}",
		"/switchboard/v1/",
		"/",
	} {
		mux.Handle(p, graph)
	}
	for _, p := range Routes() {
		mux.Handle(p, fx.svc.Handler())
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, tc := range []struct{ method, path string }{
		{"GET", "/" + DevTenantID + "/v2.0/.well-known/openid-configuration"},
		{"GET", "/" + DevTenantID + "/.well-known/openid-configuration"},
		{"GET", "/" + DevTenantID + "/discovery/v2.0/keys"},
		{"GET", "/common/discovery/v2.0/keys"},
		{"GET", "/" + DevTenantID + "/discovery/keys"},
		{"GET", "/callbacks/v1/.well-known/OpenIdConfiguration"},
		{"GET", "/callbacks/v1/keys"},
	} {
		resp, err := srv.Client().Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s: %d", tc.method, tc.path, resp.StatusCode)
		}
	}
	resp, err := srv.Client().PostForm(srv.URL+"/"+DevTenantID+"/oauth2/v2.0/token", devForm())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("token through the main mux: %d", resp.StatusCode)
	}
	resp, err = srv.Client().Get(srv.URL + "/v1.0/communications/calls/abc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("Graph route reached %d, want the Graph handler", resp.StatusCode)
	}
}
