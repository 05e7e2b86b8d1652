package auth

import (
	"net/http"
	"strings"
)

// openIDConfiguration is the discovery document of a tenant, with the
// members of Entra's v2.0 document that describe what Switchboard does.
// MSAL requires issuer, authorization_endpoint and token_endpoint, and
// msal-node jwks_uri too.
type openIDConfiguration struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
}

// serveDiscovery implements GET /{tenant}/v2.0/.well-known/openid-configuration
// (and its v1-style alias). The URLs are under the configured public URL
// the client used (see Service.base), because MSAL checks that the issuer
// has the authority's host; a Host header naming anything else gets the
// canonical URL.
func (s *Service) serveDiscovery(w http.ResponseWriter, r *http.Request, tenant string) {
	base := s.base(r)
	iss := issuer(base, tenant)
	if tenantIndependent[strings.ToLower(tenant)] {
		// Entra publishes a template for the multi-tenant endpoints: the
		// real issuer depends on the tenant of each token.
		iss = issuer(base, "{tenantid}")
	}
	writeJSON(w, http.StatusOK, cacheable, openIDConfiguration{
		Issuer:                            iss,
		AuthorizationEndpoint:             base + "/" + tenant + "/oauth2/v2.0/authorize",
		TokenEndpoint:                     base + "/" + tenant + "/oauth2/v2.0/token",
		JWKSURI:                           base + "/" + tenant + "/discovery/v2.0/keys",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		// Entra's list, kept for clients that check it; Switchboard itself
		// implements only the token endpoint.
		ResponseTypesSupported:           []string{"code", "id_token", "code id_token", "id_token token"},
		SubjectTypesSupported:            []string{"pairwise"},
		IDTokenSigningAlgValuesSupported: []string{"RS256"},
		ScopesSupported:                  []string{"openid", "profile", "email", "offline_access"},
		ClaimsSupported:                  []string{"sub", "iss", "aud", "exp", "iat", "tid", "ver", "oid", "roles", "appid", "azp"},
	})
}

// serveKeys implements the JWKS endpoints: every published signing key,
// including one that does not sign yet.
func (s *Service) serveKeys(w http.ResponseWriter, r *http.Request, _ string) {
	writeRawJSON(w, http.StatusOK, s.keysCacheControl, s.keys.Load().jwks)
}

// serveAuthorize answers the authorization endpoint, which the discovery
// document must name but which Switchboard does not implement.
func (s *Service) serveAuthorize(w http.ResponseWriter, r *http.Request, _ string) {
	s.writeOAuthError(w, r, errInteractive())
}

// callbackConfiguration mirrors
// https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration, which bots
// written for Microsoft Graph use to validate callbacks.
type callbackConfiguration struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// serveCallbackDiscovery implements GET /callbacks/v1/.well-known/OpenIdConfiguration.
func (s *Service) serveCallbackDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, cacheable, callbackConfiguration{
		Issuer: s.callbackIssuer,
		// The original names a host that does not exist; nothing calls it.
		AuthorizationEndpoint:             "https://invalid.botframework.com",
		JWKSURI:                           s.base(r) + "/callbacks/v1/keys",
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
	})
}
