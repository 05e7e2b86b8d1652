package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// oauthError is an error answer of the token service, shaped as Entra's:
// an OAuth 2.0 error code (RFC 6749 §5.2) and, where Entra has one, its
// AADSTS number. Errors without an Entra counterpart carry no number.
type oauthError struct {
	status      int
	code        string // invalid_request, invalid_client, ...
	aadsts      int    // 0 when Switchboard-specific
	description string
}

// The token service's errors, one constructor per case. Values echoed from
// the request are truncated by echo.

func errMissingParam(name string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 900144,
		fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

func errDuplicateParam(name string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		fmt.Sprintf("The request parameter '%s' appears more than once.", name)}
}

func errBadBody(reason string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		"The request body could not be read: " + reason + "."}
}

func errUnsupportedGrant(grant string) *oauthError {
	return &oauthError{http.StatusBadRequest, "unsupported_grant_type", 70003,
		fmt.Sprintf("The app requested an unsupported grant type '%s'. Switchboard supports only 'client_credentials'.", echo(grant))}
}

func errTwoClientAuths(what string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		"The client authenticated with both " + what + "; use one."}
}

func errClientIDMismatch() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		"The client_id parameter differs from the client id in the Authorization header."}
}

func errNoSecret() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 7000216,
		"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."}
}

func errBadAssertionType(t string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		fmt.Sprintf("The client_assertion_type '%s' is not supported; use '%s'.", echo(t), clientAssertionType)}
}

func errSecretExpired(clientID string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 7000222,
		fmt.Sprintf("The provided client secret keys for app '%s' are expired. Create a new secret with 'switchboard apps rotate-secret %s'.", echo(clientID), echo(clientID))}
}

func errAssertionMalformed(reason string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50027,
		"JWT token is invalid or malformed: the client assertion " + reason + "."}
}

func errAssertionSignature(reason string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700027,
		"Client assertion failed signature validation. [Reason - " + reason + "]"}
}

func errAssertionKeyNotFound(clientID, thumbprint string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700027,
		fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application '%s'. [Reason - The key was not found., Thumbprint of key used by client: '%s'] Register it with 'switchboard apps add-certificate'.", echo(clientID), echo(thumbprint))}
}

func errAssertionTime(now, nbf, exp time.Time) *oauthError {
	const layout = "2006-01-02T15:04:05.0000000Z"
	from := "(none)"
	if !nbf.IsZero() {
		from = nbf.UTC().Format(layout)
	}
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700024,
		fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
			now.UTC().Format(layout), from, exp.UTC().Format(layout))}
}

func errAssertionLifetime(from, exp time.Time, limit time.Duration) *oauthError {
	const layout = "2006-01-02T15:04:05.0000000Z"
	return &oauthError{http.StatusUnauthorized, "invalid_client", 0,
		fmt.Sprintf("Client assertion lifetime is too long: valid from %s to %s; Switchboard accepts assertions valid for at most %v from their nbf (or iat), expiring at most that long from now. Sign a short-lived assertion for each request, as MSAL does.",
			from.UTC().Format(layout), exp.UTC().Format(layout), limit)}
}

func errAssertionClient(clientID string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 700021,
		fmt.Sprintf("Client assertion application identifier doesn't match 'client_id' parameter: its iss and sub must both be '%s'.", echo(clientID))}
}

func errAssertionAudience(want string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 50012,
		fmt.Sprintf("Client assertion audience claim does not match Realm issuer: its aud must be the token endpoint, '%s'.", echo(want))}
}

func errAssertionNoJTI() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 0,
		"The client assertion has no jti claim; Switchboard needs one to refuse a replayed assertion."}
}

func errTooManyAssertions(clientID string) *oauthError {
	return &oauthError{http.StatusTooManyRequests, "temporarily_unavailable", 0,
		fmt.Sprintf("Application '%s' has used more client assertions than Switchboard remembers at once in the last minutes; retry after the interval in Retry-After. A client should keep its token until it nearly expires.", echo(clientID))}
}

func errAssertionReplayed() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 0,
		"The client assertion has been used before: its jti was seen in an earlier request. Sign a new assertion for each request."}
}

// errTooManyFailures refuses a request from a source, or for a client,
// that failed too often: Entra answers the client credentials grant it
// throttles with 429 and Retry-After, which MSAL honours.
func errTooManyFailures(what string, wait time.Duration) *oauthError {
	return &oauthError{http.StatusTooManyRequests, "temporarily_unavailable", 0,
		fmt.Sprintf("Too many failed authentication attempts %s; retry after %d seconds.", what, retryAfterSeconds(wait))}
}

// retryAfterSeconds is wait in whole seconds, rounded up, at least 1.
func retryAfterSeconds(wait time.Duration) int64 {
	return max(int64((wait+time.Second-1)/time.Second), 1)
}

func errLookupFailed() *oauthError {
	return &oauthError{http.StatusServiceUnavailable, "temporarily_unavailable", 0,
		"Switchboard could not look the application up; try again shortly."}
}

func errBadSecret(clientID string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 7000215,
		fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", echo(clientID))}
}

func errUnknownApp(clientID, tenant string) *oauthError {
	return &oauthError{http.StatusBadRequest, "unauthorized_client", 700016,
		fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been registered in the tenant, or if you sent your authentication request to the wrong tenant.", echo(clientID), echo(tenant))}
}

func errNotDefaultScope(scope string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_scope", 1002012,
		fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", echo(scope))}
}

func errManyResources(scope string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_scope", 70011,
		fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid: it names more than one resource.", echo(scope))}
}

func errUnknownResource(resource, tenant string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_resource", 500011,
		fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. Switchboard issues tokens only for Microsoft Graph (https://graph.microsoft.com).", echo(resource), echo(tenant))}
}

func errBadTenant(tenant string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_tenant", 900023,
		fmt.Sprintf("Specified tenant identifier '%s' is neither a valid DirectoryName nor a valid ObjectId.", echo(tenant))}
}

func errTenantIndependent(tenant string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 50194,
		fmt.Sprintf("Usage of the /%s endpoint is not supported for the client credentials grant. Use a tenant-specific endpoint.", echo(tenant))}
}

func errInteractive() *oauthError {
	return &oauthError{http.StatusBadRequest, "unsupported_response_type", 0,
		"Switchboard supports only the client credentials grant at the token endpoint; there is no interactive sign-in."}
}

// echo bounds a request value quoted in an error description.
func echo(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "..."
}

// entraTimestamp is the layout of Entra's error timestamps.
const entraTimestamp = "2006-01-02 15:04:05Z"

// writeOAuthError writes e as Entra does: the description carries the
// AADSTS prefix and the trace and correlation ids.
func (s *Service) writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	now := s.clock.Now().UTC().Format(entraTimestamp)
	traceID := uuid.NewString()
	correlationID := correlationID(r)
	desc := e.description
	if e.aadsts != 0 {
		desc = fmt.Sprintf("AADSTS%d: %s", e.aadsts, desc)
	}
	desc = fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", desc, traceID, correlationID, now)
	body := struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorCodes       []int  `json:"error_codes,omitempty"`
		Timestamp        string `json:"timestamp"`
		TraceID          string `json:"trace_id"`
		CorrelationID    string `json:"correlation_id"`
	}{e.code, desc, nil, now, traceID, correlationID}
	if e.aadsts != 0 {
		body.ErrorCodes = []int{e.aadsts}
	}
	s.refusals.refused(r, e, sourceOf(r), correlationID)
	writeJSON(w, e.status, noStore, body)
}

// correlationID echoes the client's client-request-id, as Entra does, when it
// is a UUID; otherwise it makes one up.
func correlationID(r *http.Request) string {
	for _, v := range []string{r.URL.Query().Get("client-request-id"), r.Header.Get("client-request-id")} {
		if id, err := uuid.Parse(v); err == nil {
			return id.String()
		}
	}
	return uuid.NewString()
}

// Cache-Control values: tokens and errors must not be cached; discovery
// documents and key sets may be, for a day as Entra allows.
const (
	noStore   = "no-store"
	cacheable = "max-age=86400, private"
)

// writeJSON writes v as a JSON answer with the given Cache-Control.
func writeJSON(w http.ResponseWriter, status int, cacheControl string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed types are marshalled; this cannot happen.
		http.Error(w, "auth: encoding response", http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, cacheControl, b)
}

func writeRawJSON(w http.ResponseWriter, status int, cacheControl string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", cacheControl)
	if cacheControl == noStore {
		h.Set("Pragma", "no-cache")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
