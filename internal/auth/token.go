package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Microsoft Graph's resource identifiers. A token is issued for, and
// accepted with, either form.
const (
	GraphResource   = "https://graph.microsoft.com"
	GraphResourceID = "00000003-0000-0000-c000-000000000000"
)

// graphAudiences are the aud values Authenticate accepts.
var graphAudiences = []string{GraphResource, GraphResource + "/", GraphResourceID}

// maxTokenRequestBody bounds a token request body; a real one is well under
// 1 KiB, with CAE claims.
const maxTokenRequestBody = 64 << 10

// ignoredScopes are the OpenID scopes MSAL adds to every request; they mean
// nothing for the client credentials grant.
var ignoredScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true, "email": true}

// appObjectNamespace derives the stable oid of an application's service
// principal from its tenant and client id.
var appObjectNamespace = uuid.MustParse("5e1f7b0a-3c2d-4b8e-9a61-7d0c2f4e8b31")

// tokenRequest is a parsed client-credentials request.
type tokenRequest struct {
	clientID     string // empty only when the client authenticates with an assertion
	clientSecret string
	assertion    string // the client_assertion JWT, for certificate credentials
	usedBasic    bool
	scope        string // as sent, for error messages
	resource     string // the part before /.default
}

// parseTokenRequest reads a client-credentials request from its form body
// and Authorization header. It checks syntax only; it does not look the
// client up or verify an assertion.
func parseTokenRequest(form url.Values, header http.Header) (tokenRequest, *oauthError) {
	var req tokenRequest
	get := func(name string) (string, *oauthError) {
		switch v := form[name]; len(v) {
		case 0:
			return "", nil
		case 1:
			return v[0], nil
		default:
			return "", errDuplicateParam(name)
		}
	}
	grant, e := get("grant_type")
	if e != nil {
		return req, e
	}
	switch grant {
	case "":
		return req, errMissingParam("grant_type")
	case "client_credentials":
	default:
		return req, errUnsupportedGrant(grant)
	}

	formID, e := get("client_id")
	if e != nil {
		return req, e
	}
	formSecret, e := get("client_secret")
	if e != nil {
		return req, e
	}
	assertionType, e := get("client_assertion_type")
	if e != nil {
		return req, e
	}
	if req.assertion, e = get("client_assertion"); e != nil {
		return req, e
	}
	if id, secret, ok := basicAuth(header); ok {
		if formSecret != "" {
			return req, errTwoClientAuths("HTTP Basic and a client_secret parameter")
		}
		if formID != "" && formID != id {
			return req, errClientIDMismatch()
		}
		req.clientID, req.clientSecret, req.usedBasic = id, secret, true
	} else {
		req.clientID, req.clientSecret = formID, formSecret
	}
	if req.assertion != "" || assertionType != "" {
		// RFC 7521 §4.2: the assertion alone identifies the client, so
		// client_id may be absent.
		if req.clientSecret != "" || req.usedBasic {
			return req, errTwoClientAuths("a client secret and a client assertion")
		}
		switch {
		case assertionType == "":
			return req, errMissingParam("client_assertion_type")
		case assertionType != clientAssertionType:
			return req, errBadAssertionType(assertionType)
		case req.assertion == "":
			return req, errMissingParam("client_assertion")
		}
	} else {
		if req.clientID == "" {
			return req, errMissingParam("client_id")
		}
		if req.clientSecret == "" {
			return req, errNoSecret()
		}
	}

	if req.scope, e = get("scope"); e != nil {
		return req, e
	}
	scopes := strings.Fields(req.scope)
	if len(scopes) == 0 {
		return req, errMissingParam("scope")
	}
	for _, sc := range scopes {
		if ignoredScopes[strings.ToLower(sc)] {
			continue
		}
		res, ok := strings.CutSuffix(sc, "/.default")
		if !ok || res == "" {
			return req, errNotDefaultScope(sc)
		}
		if req.resource != "" && req.resource != res {
			return req, errManyResources(req.scope)
		}
		req.resource = res
	}
	if req.resource == "" {
		return req, errNotDefaultScope(req.scope)
	}
	return req, nil
}

// basicAuth returns the client credentials of an HTTP Basic Authorization
// header. RFC 6749 §2.3.1 has them form-encoded before base64; a value that
// does not decode is taken as it is.
func basicAuth(h http.Header) (id, secret string, ok bool) {
	r := http.Request{Header: h}
	id, secret, ok = r.BasicAuth()
	if !ok {
		return "", "", false
	}
	if v, err := url.QueryUnescape(id); err == nil {
		id = v
	}
	if v, err := url.QueryUnescape(secret); err == nil {
		secret = v
	}
	return id, secret, true
}

// canonicalResource maps the requested resource to the aud it gets, and
// reports whether Switchboard serves it.
func canonicalResource(res string) (string, bool) {
	trimmed := strings.TrimSuffix(res, "/")
	switch {
	case strings.EqualFold(trimmed, GraphResource):
		return GraphResource, true
	case strings.EqualFold(trimmed, GraphResourceID):
		return GraphResourceID, true
	}
	return "", false
}

// matchSecret compares the secret's hash with every stored hash in
// constant time, so neither the position of a match nor a near miss shows in
// the timing. It reports whether a secret matched and whether that secret
// has expired at now.
func matchSecret(app App, secret string, now time.Time) (matched, expired bool) {
	h := HashSecret(secret)
	valid, stale := 0, 0
	for _, stored := range app.Secrets {
		eq := subtle.ConstantTimeCompare(h, stored.Hash)
		if stored.Expired(now) {
			stale |= eq
		} else {
			valid |= eq
		}
	}
	if valid == 1 {
		return true, false
	}
	return stale == 1, stale == 1
}

// tokenResponse is the success answer of the token endpoint.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

// serveToken implements POST /{tenant}/oauth2/v2.0/token for the client
// credentials grant.
//
// Every refusal spends one of the failure budget of the request's source
// address, and a refusal of a registered client's credentials (or resource)
// one of that client's too; a source or client that has spent its budget
// is refused with 429 temporarily_unavailable and Retry-After before its
// credentials are looked at (see failureLimiter).
func (s *Service) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	src := sourceOf(r)
	if blocked, wait := s.failures.sourceBlocked(src); blocked {
		s.writeThrottled(w, r, errTooManyFailures("from this address", wait), wait)
		return
	}
	client := "" // the registered client refusals count against, once known
	refuse := func(req tokenRequest, e *oauthError) {
		if e.status < 500 {
			s.failures.failed(src, client)
		}
		if e.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60") // as Entra's throttling answer
		}
		s.writeTokenError(w, r, req, e)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBody)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			refuse(tokenRequest{}, errBadBody("it is larger than 64 KiB"))
			return
		}
		refuse(tokenRequest{}, errBadBody("it is not a valid form encoding"))
		return
	}
	req, oerr := parseTokenRequest(r.PostForm, r.Header)
	if oerr != nil {
		refuse(req, oerr)
		return
	}
	clientID := req.clientID
	if clientID == "" {
		if clientID = assertionSubject(req.assertion); clientID == "" {
			refuse(req, errAssertionMalformed("names no client: there is no client_id parameter and no sub claim"))
			return
		}
	}
	app, err := s.apps.App(r.Context(), clientID)
	switch {
	case errors.Is(err, ErrAppNotFound) || err == nil && !strings.EqualFold(app.TenantID, tenant):
		refuse(req, errUnknownApp(clientID, tenant))
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "auth: looking up application", slog.Any("err", err),
			slog.String("tenant", tenant), slog.String("app", clientID))
		refuse(req, errLookupFailed())
		return
	}
	client = strings.ToLower(app.ClientID)
	if blocked, wait := s.failures.clientBlocked(client, src); blocked {
		s.writeThrottled(w, r, errTooManyFailures("for this client", wait), wait)
		return
	}
	acr := acrSecret
	if req.assertion != "" {
		if oerr := s.verifyAssertion(r, tenant, app, req.assertion); oerr != nil {
			refuse(req, oerr)
			return
		}
		acr = acrCertificate
	} else if ok, expired := matchSecret(app, req.clientSecret, s.clock.Now()); !ok {
		refuse(req, errBadSecret(clientID))
		return
	} else if expired {
		refuse(req, errSecretExpired(app.ClientID))
		return
	}
	aud, ok := canonicalResource(req.resource)
	if !ok {
		refuse(req, errUnknownResource(req.resource, tenant))
		return
	}
	s.failures.succeeded(client, src)
	token, err := s.mintAccessToken(app, aud, s.base(r), acr)
	if err != nil {
		s.log.ErrorContext(r.Context(), "auth: signing access token", slog.Any("err", err),
			slog.String("tenant", app.TenantID), slog.String("app", app.ClientID))
		http.Error(w, "auth: could not sign the token", http.StatusInternalServerError)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "auth: access token issued",
		slog.String("tenant", app.TenantID), slog.String("app", app.ClientID), slog.String("aud", aud))
	// iat is the current second truncated, so the token outlives
	// now+lifetime-1s; like Entra, promise one second less than the lifetime
	// so that a client never believes a token lives longer than it does.
	expiresIn := max(int64(s.lifetime/time.Second)-1, 1)
	writeJSON(w, http.StatusOK, noStore, tokenResponse{
		TokenType:    "Bearer",
		ExpiresIn:    expiresIn,
		ExtExpiresIn: expiresIn,
		AccessToken:  token,
	})
}

// writeThrottled refuses a request with e, a 429, and Retry-After.
func (s *Service) writeThrottled(w http.ResponseWriter, r *http.Request, e *oauthError, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(wait), 10))
	s.writeOAuthError(w, r, e)
}

func (s *Service) writeTokenError(w http.ResponseWriter, r *http.Request, req tokenRequest, e *oauthError) {
	if e.status == http.StatusUnauthorized && req.usedBasic {
		// RFC 6749 §5.2: a client that authenticated with the Authorization
		// header is told which scheme to use.
		w.Header().Set("WWW-Authenticate", `Basic realm="switchboard"`)
	}
	s.writeOAuthError(w, r, e)
}

// issuer is the iss of access tokens for tenant when the service is reached
// at base, matching the discovery document.
func issuer(base, tenant string) string { return base + "/" + tenant + "/v2.0" }

// appObjectID is the stable object id of an application in a tenant.
func appObjectID(tenantID, clientID string) string {
	return uuid.NewSHA1(appObjectNamespace, []byte(strings.ToLower(tenantID)+"/"+strings.ToLower(clientID))).String()
}

// The appidacr (and azpacr) values of Entra's access tokens: how the client
// authenticated.
const (
	acrSecret      = "1"
	acrCertificate = "2"
)

// mintAccessToken signs an access token for app with audience aud, issued
// by the service as reached at base, for a client that authenticated as acr
// says.
func (s *Service) mintAccessToken(app App, aud, base, acr string) (string, error) {
	now := s.clock.Now().Truncate(time.Second)
	exp := now.Add(s.lifetime)
	oid := appObjectID(app.TenantID, app.ClientID)
	roles := app.Roles
	if roles == nil {
		roles = []string{}
	}
	claims := jwt.MapClaims{
		"aud":             aud,
		"iss":             issuer(base, app.TenantID),
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             exp.Unix(),
		"app_displayname": app.DisplayName,
		"appid":           app.ClientID,
		"appidacr":        acr,
		"azp":             app.ClientID,
		"azpacr":          acr,
		"idp":             issuer(base, app.TenantID),
		"idtyp":           "app",
		"oid":             oid,
		"sub":             oid,
		"roles":           roles,
		"tid":             app.TenantID,
		"uti":             randomUTI(),
		"jti":             uuid.NewString(),
		"ver":             "2.0",
	}
	return s.sign(claims)
}

// sign makes an RS256 JWT of claims with the key that signs now.
func (s *Service) sign(claims jwt.Claims) (string, error) {
	k := s.keys.Load().signer(s.clock.Now())
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.id
	signed, err := t.SignedString(k.priv)
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return signed, nil
}

// randomUTI is a unique token identifier in Entra's style: 16 random bytes,
// base64url.
func randomUTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
