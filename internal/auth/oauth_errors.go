package auth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

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

func errTwoClientAuths() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		"The client authenticated with both HTTP Basic and a client_secret parameter; use one."}
}

func errClientIDMismatch() *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", 0,
		"The client_id parameter differs from the client id in the Authorization header."}
}

func errNoSecret() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 7000216,
		"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."}
}

func errAssertionUnsupported() *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", 0,
		"Switchboard does not accept client assertions (certificate credentials); authenticate with a client secret."}
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
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "auth: token request refused",
		slog.String("error", e.code), slog.Int("aadsts", e.aadsts), slog.String("path", r.URL.Path),
		slog.String("correlation_id", correlationID))
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
