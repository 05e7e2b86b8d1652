package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func TestTokenEndpointIssuesGraphToken(t *testing.T) {
	fx := newFixture(t)
	w := fx.postToken(DevTenantID, devForm(), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"token_type": "Bearer", "expires_in": 3599.0, "ext_expires_in": 3599.0}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	raw, _ := body["access_token"].(string)

	// Check the token as a third party would, with the published keys.
	keys := jwks(t, fx.do(http.MethodGet, testBase+"/"+DevTenantID+"/discovery/v2.0/keys", nil, nil).Body.Bytes())
	claims := jwt.MapClaims{}
	tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(fx.clock.Now)).
		ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) { return keys[t.Header["kid"].(string)], nil })
	if err != nil {
		t.Fatalf("parsing issued token: %v", err)
	}
	if tok.Header["typ"] != "JWT" || tok.Header["kid"] != sharedKeys(t)[0].ID {
		t.Errorf("header = %v", tok.Header)
	}
	now := testStart.Unix()
	oid := appObjectID(DevTenantID, DevClientID)
	wantClaims := map[string]any{
		"aud":   GraphResource,
		"iss":   testBase + "/" + DevTenantID + "/v2.0",
		"iat":   float64(now),
		"nbf":   float64(now),
		"exp":   float64(now + 3600),
		"tid":   DevTenantID,
		"appid": DevClientID,
		"azp":   DevClientID,
		"oid":   oid,
		"sub":   oid,
		"idtyp": "app",
		"ver":   "2.0",
	}
	for k, v := range wantClaims {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"uti", "jti"} {
		if s, _ := claims[k].(string); s == "" {
			t.Errorf("claim %s missing", k)
		}
	}
	var roles []string
	for _, r := range claims["roles"].([]any) {
		roles = append(roles, r.(string))
	}
	if !slices.Equal(roles, AllRoles()) {
		t.Errorf("roles = %v, want %v", roles, AllRoles())
	}

	p, err := fx.authenticate("Bearer " + raw)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.TenantID != DevTenantID || p.AppID != DevClientID || !p.Has(RoleAdmin) || !p.Has(RoleCallsAccessMedia) {
		t.Errorf("principal = %+v", p)
	}

	// A second token is a different token: uti and jti are random.
	if again := fx.token(t); again == raw {
		t.Error("two token requests returned the same token")
	}
}

func TestTokenEndpointVariants(t *testing.T) {
	basic := func(id, secret string) http.Header {
		creds := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(creds))}}
	}
	tests := []struct {
		name    string
		tenant  string
		form    url.Values
		header  http.Header
		wantAud string
		wantApp string
	}{
		{"MSAL request", DevTenantID, devForm(), nil, GraphResource, DevClientID},
		{"tenant in upper case", strings.ToUpper(DevTenantID), devForm(), nil, GraphResource, DevClientID},
		{"client id in upper case", DevTenantID, with(devForm(), "client_id", strings.ToUpper(DevClientID)), nil, GraphResource, DevClientID},
		{"Graph app id as resource", DevTenantID, with(devForm(), "scope", GraphResourceID+"/.default"), nil, GraphResourceID, DevClientID},
		{"resource with trailing slash", DevTenantID, with(devForm(), "scope", "https://graph.microsoft.com//.default"), nil, GraphResource, DevClientID},
		{"resource repeated", DevTenantID, with(devForm(), "scope", "https://graph.microsoft.com/.default https://graph.microsoft.com/.default"), nil, GraphResource, DevClientID},
		{"HTTP Basic client auth", otherTenant,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}},
			basic(otherClient, otherSecret2), GraphResource, otherClient},
		{"Basic with matching client_id", otherTenant,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {otherClient}, "scope": {"https://graph.microsoft.com/.default"}},
			basic(otherClient, otherSecret1), GraphResource, otherClient},
		{"second secret of an app", otherTenant,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {otherClient}, "client_secret": {otherSecret2}, "scope": {"https://graph.microsoft.com/.default"}},
			nil, GraphResource, otherClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			w := fx.postToken(tt.tenant, tt.form, tt.header)
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
			if claims["aud"] != tt.wantAud || claims["appid"] != tt.wantApp {
				t.Errorf("aud = %v, appid = %v; want %s, %s", claims["aud"], claims["appid"], tt.wantAud, tt.wantApp)
			}
			if _, err := fx.authenticate("Bearer " + resp.AccessToken); err != nil {
				t.Errorf("Authenticate: %v", err)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	basic := func(id, secret string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
	}
	const graph = "https://graph.microsoft.com/.default"
	tests := []struct {
		name      string
		tenant    string
		body      string
		header    http.Header
		wantCode  int
		wantError string
		wantAAD   int // 0: no error_codes
	}{
		{"no grant_type", DevTenantID, without(devForm(), "grant_type").Encode(), nil, 400, "invalid_request", 900144},
		{"authorization code grant", DevTenantID, with(devForm(), "grant_type", "authorization_code").Encode(), nil, 400, "unsupported_grant_type", 70003},
		{"password grant", DevTenantID, with(devForm(), "grant_type", "password").Encode(), nil, 400, "unsupported_grant_type", 70003},
		{"duplicate client_id", DevTenantID, devForm().Encode() + "&client_id=" + DevClientID, nil, 400, "invalid_request", 0},
		{"no client_id", DevTenantID, without(devForm(), "client_id").Encode(), nil, 400, "invalid_request", 900144},
		{"no client_secret", DevTenantID, without(devForm(), "client_secret").Encode(), nil, 401, "invalid_client", 7000216},
		{"client assertion without its type", DevTenantID, with(without(devForm(), "client_secret"), "client_assertion", "eyJ.x.y").Encode(), nil, 400, "invalid_request", 900144},
		{"wrong secret", DevTenantID, with(devForm(), "client_secret", "wrong").Encode(), nil, 401, "invalid_client", 7000215},
		{"secret of another app", DevTenantID, with(devForm(), "client_secret", otherSecret1).Encode(), nil, 401, "invalid_client", 7000215},
		{"wrong secret over Basic", otherTenant, form("grant_type", "client_credentials", "scope", graph).Encode(), basic(otherClient, "wrong"), 401, "invalid_client", 7000215},
		{"Basic and client_secret", otherTenant, form("grant_type", "client_credentials", "client_secret", otherSecret1, "scope", graph).Encode(), basic(otherClient, otherSecret1), 400, "invalid_request", 0},
		{"Basic id differs from client_id", otherTenant, form("grant_type", "client_credentials", "client_id", DevClientID, "scope", graph).Encode(), basic(otherClient, otherSecret1), 400, "invalid_request", 0},
		{"unknown client", DevTenantID, with(devForm(), "client_id", uuid.NewString()).Encode(), nil, 400, "unauthorized_client", 700016},
		{"app of another tenant", otherTenant, devForm().Encode(), nil, 400, "unauthorized_client", 700016},
		{"common endpoint", "common", devForm().Encode(), nil, 400, "invalid_request", 50194},
		{"organizations endpoint", "Organizations", devForm().Encode(), nil, 400, "invalid_request", 50194},
		{"tenant with bad characters", "dev_tenant", devForm().Encode(), nil, 400, "invalid_tenant", 900023},
		{"no scope", DevTenantID, without(devForm(), "scope").Encode(), nil, 400, "invalid_request", 900144},
		{"blank scope", DevTenantID, with(devForm(), "scope", "  ").Encode(), nil, 400, "invalid_request", 900144},
		{"delegated scope", DevTenantID, with(devForm(), "scope", "https://graph.microsoft.com/Calls.Initiate.All").Encode(), nil, 400, "invalid_scope", 1002012},
		{"only OpenID scopes", DevTenantID, with(devForm(), "scope", "openid profile offline_access").Encode(), nil, 400, "invalid_scope", 1002012},
		{"bare /.default", DevTenantID, with(devForm(), "scope", "/.default").Encode(), nil, 400, "invalid_scope", 1002012},
		{"two resources", DevTenantID, with(devForm(), "scope", graph+" https://vault.azure.net/.default").Encode(), nil, 400, "invalid_scope", 70011},
		{"resource not served", DevTenantID, with(devForm(), "scope", "https://management.azure.com/.default").Encode(), nil, 400, "invalid_resource", 500011},
		{"JSON body", DevTenantID, `{"grant_type":"client_credentials"}`, http.Header{"Content-Type": {"application/json"}}, 400, "invalid_request", 900144},
		{"malformed form", DevTenantID, "grant_type=%zz", nil, 400, "invalid_request", 0},
		{"body too large", DevTenantID, devForm().Encode() + "&pad=" + strings.Repeat("x", maxTokenRequestBody), nil, 400, "invalid_request", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			header := formHeader.Clone()
			for k, v := range tt.header {
				header[k] = v
			}
			w := fx.do(http.MethodPost, testBase+"/"+tt.tenant+"/oauth2/v2.0/token?client-request-id=0f1e2d3c-4b5a-4968-8776-655443322110",
				strings.NewReader(tt.body), header)
			checkOAuthError(t, w, tt.wantCode, tt.wantError, tt.wantAAD)
			if tt.wantCode == 401 && tt.header.Get("Authorization") != "" && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 to a Basic-authenticated client lacks WWW-Authenticate")
			}
		})
	}
}

// checkOAuthError checks an Entra-shaped error answer.
func checkOAuthError(t *testing.T, w *httptest.ResponseRecorder, wantCode int, wantError string, wantAAD int) {
	t.Helper()
	resp := w.Result()
	defer resp.Body.Close()
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorCodes       []int  `json:"error_codes"`
		Timestamp        string `json:"timestamp"`
		TraceID          string `json:"trace_id"`
		CorrelationID    string `json:"correlation_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("status %d, body not JSON: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != wantCode || body.Error != wantError {
		t.Fatalf("got %d %q (%s), want %d %q", resp.StatusCode, body.Error, body.ErrorDescription, wantCode, wantError)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if wantAAD != 0 {
		if !slices.Equal(body.ErrorCodes, []int{wantAAD}) {
			t.Errorf("error_codes = %v, want [%d]", body.ErrorCodes, wantAAD)
		}
		if prefix := "AADSTS" + strconv.Itoa(wantAAD) + ": "; !strings.HasPrefix(body.ErrorDescription, prefix) {
			t.Errorf("error_description %q lacks prefix %q", body.ErrorDescription, prefix)
		}
	} else if len(body.ErrorCodes) != 0 || strings.HasPrefix(body.ErrorDescription, "AADSTS") {
		t.Errorf("Switchboard-specific error carries an Entra code: %v %q", body.ErrorCodes, body.ErrorDescription)
	}
	if _, err := time.Parse(entraTimestamp, body.Timestamp); err != nil {
		t.Errorf("timestamp %q: %v", body.Timestamp, err)
	}
	if _, err := uuid.Parse(body.TraceID); err != nil {
		t.Errorf("trace_id %q: %v", body.TraceID, err)
	}
	if body.CorrelationID != "0f1e2d3c-4b5a-4968-8776-655443322110" {
		t.Errorf("correlation_id = %q, want the client-request-id", body.CorrelationID)
	}
	for _, id := range []string{body.TraceID, body.CorrelationID, body.Timestamp} {
		if !strings.Contains(body.ErrorDescription, id) {
			t.Errorf("error_description %q does not mention %s", body.ErrorDescription, id)
		}
	}
}

func TestTokenEndpointRejectsGet(t *testing.T) {
	fx := newFixture(t)
	w := fx.do(http.MethodGet, testBase+"/"+DevTenantID+"/oauth2/v2.0/token", nil, nil)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET token endpoint: %d", w.Code)
	}
}

func TestTokenLifetimeConfigurable(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.TokenLifetime = 10 * time.Minute })
	w := fx.postToken(DevTenantID, devForm(), nil)
	var resp tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ExpiresIn != 599 {
		t.Errorf("expires_in = %d, want 599", resp.ExpiresIn)
	}
}

func TestParseTokenRequestIgnoresQuery(t *testing.T) {
	// Credentials in the URL must not count: RFC 6749 §2.3.1 forbids them.
	fx := newFixture(t)
	q := url.Values{"client_secret": {DevClientSecret}}
	w := fx.do(http.MethodPost, testBase+"/"+DevTenantID+"/oauth2/v2.0/token?"+q.Encode()+"&client-request-id=0f1e2d3c-4b5a-4968-8776-655443322110",
		strings.NewReader(without(devForm(), "client_secret").Encode()), formHeader)
	checkOAuthError(t, w, 401, "invalid_client", 7000216)
}

func with(v url.Values, key, value string) url.Values {
	v = cloneValues(v)
	v.Set(key, value)
	return v
}

func without(v url.Values, key string) url.Values {
	v = cloneValues(v)
	v.Del(key)
	return v
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
