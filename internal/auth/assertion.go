package auth

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clientAssertionType is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2), which MSAL sends for certificate credentials.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLength bounds a client assertion; MSAL's are under 1 KiB,
// about 5 KiB with an x5c chain.
const maxAssertionLength = 16 << 10

// maxAssertionLifetime bounds how long a client assertion may be valid,
// from its nbf (or iat) to its exp, and how far its exp may lie beyond now
// (plus the clock leeway): MSAL's assertions live 10 minutes, and Entra
// asks for short-lived ones. It bounds how long a stolen assertion is good
// for, and how long its jti must be remembered.
const maxAssertionLifetime = 10 * time.Minute

// assertionMethods are the signature algorithms accepted on assertions:
// MSAL signs with PS256, and with RS256 for ADFS; other clients use RS256.
var assertionMethods = []string{jwt.SigningMethodPS256.Alg(), jwt.SigningMethodRS256.Alg()}

// assertionSubject returns the sub claim of an assertion without verifying
// anything, to find the client of a request that has no client_id. The
// assertion is verified against that client's certificates afterwards.
func assertionSubject(raw string) string {
	if len(raw) > maxAssertionLength {
		return ""
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		return ""
	}
	return c.Subject
}

// keyError carries the OAuth error of a failed certificate lookup out of
// jwt's Keyfunc.
type keyError struct{ e *oauthError }

func (k *keyError) Error() string { return k.e.description }

// verifyAssertion checks a client assertion as Entra does
// (https://learn.microsoft.com/entra/identity-platform/certificate-credentials):
// a JWT signed with RS256 or PS256 by the key of a certificate registered
// for app and named by its x5t or x5t#S256 header; valid now, with a
// minute of leeway on exp and nbf, and valid for at most 10 minutes; with
// iss and sub the client id, aud the token endpoint under one of the
// server's public URLs (never merely the Host the request names), and a jti
// not seen before while the assertion lives. The signature is checked before any claim, so a forged
// assertion learns nothing about what else is wrong with it.
func (s *Service) verifyAssertion(r *http.Request, tenant string, app App, raw string) *oauthError {
	if len(raw) > maxAssertionLength {
		return errAssertionMalformed("is longer than 16 KiB")
	}
	now := s.clock.Now()
	var claims jwt.RegisteredClaims
	tok, err := jwt.NewParser(
		jwt.WithValidMethods(assertionMethods),
		jwt.WithLeeway(clockLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
	).ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		pub, oerr := assertionKey(app, t.Header, now)
		if oerr != nil {
			return nil, &keyError{oerr}
		}
		return pub, nil
	})
	if err != nil {
		return assertionError(err, tok, &claims, now)
	}
	if !strings.EqualFold(claims.Issuer, app.ClientID) || !strings.EqualFold(claims.Subject, app.ClientID) {
		return errAssertionClient(app.ClientID)
	}
	if !tokenEndpointAudience(claims.Audience, s.audienceHosts(r), tenant) {
		return errAssertionAudience(s.base(r) + "/" + tenant + "/oauth2/v2.0/token")
	}
	if oerr := checkAssertionLifetime(&claims, now); oerr != nil {
		return oerr
	}
	if claims.ID == "" {
		return errAssertionNoJTI()
	}
	if len(claims.ID) > maxAssertionIDLength {
		return errAssertionMalformed("has a jti longer than 256 bytes")
	}
	// The id is remembered until the assertion expires for good (with the
	// leeway); after that the assertion itself is refused.
	first, err := s.assertionIDs.UseAssertionID(r.Context(), strings.ToLower(app.ClientID), claims.ID,
		claims.ExpiresAt.Add(clockLeeway), now, s.assertionIDsPerClient)
	switch {
	case errors.Is(err, ErrAssertionIDQuota):
		return errTooManyAssertions(app.ClientID)
	case err != nil:
		s.log.ErrorContext(r.Context(), "auth: recording a client assertion id", slog.Any("err", err),
			slog.String("tenant", app.TenantID), slog.String("app", app.ClientID))
		return errLookupFailed()
	case !first:
		return errAssertionReplayed()
	}
	return nil
}

// checkAssertionLifetime refuses an assertion valid for longer than
// maxAssertionLifetime, counted from its nbf, else its iat, else now, or
// whose exp is further than that (and the leeway) from now.
func checkAssertionLifetime(c *jwt.RegisteredClaims, now time.Time) *oauthError {
	exp := c.ExpiresAt.Time
	start := now
	switch {
	case c.NotBefore != nil:
		start = c.NotBefore.Time
	case c.IssuedAt != nil:
		start = c.IssuedAt.Time
	}
	if exp.Sub(start) > maxAssertionLifetime || exp.Sub(now) > maxAssertionLifetime+clockLeeway {
		return errAssertionLifetime(start, exp, maxAssertionLifetime)
	}
	return nil
}

// assertionError maps a jwt/v5 error of verifyAssertion to Entra's answer.
func assertionError(err error, tok *jwt.Token, claims *jwt.RegisteredClaims, now time.Time) *oauthError {
	if ke, ok := errors.AsType[*keyError](err); ok {
		return ke.e
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errAssertionMalformed("is not a well-formed JWT")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errAssertionSignature("The assertion's alg is not one Switchboard verifies; use PS256 or RS256.")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Method != nil && !slices.Contains(assertionMethods, tok.Method.Alg()) {
			return errAssertionSignature("The assertion is signed with " + tok.Method.Alg() + "; use PS256 or RS256.")
		}
		return errAssertionSignature("The signature does not verify with the registered certificate's key.")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errAssertionMalformed("has no exp claim")
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet):
		var nbf, exp time.Time
		if claims.NotBefore != nil {
			nbf = claims.NotBefore.Time
		}
		if claims.ExpiresAt != nil {
			exp = claims.ExpiresAt.Time
		}
		return errAssertionTime(now, nbf, exp)
	}
	return errAssertionMalformed("has claims of the wrong type")
}

// assertionKey finds the registered certificate named by the assertion's
// x5t#S256 or x5t header (both, if both are present) and returns its
// public key, if the certificate is valid at now.
func assertionKey(app App, header map[string]any, now time.Time) (*rsa.PublicKey, *oauthError) {
	want256, has256, bad256 := headerThumbprint(header, "x5t#S256", 32)
	want1, has1, bad1 := headerThumbprint(header, "x5t", 20)
	if bad256 || bad1 {
		return nil, errAssertionMalformed("has an x5t or x5t#S256 header that is not a base64 certificate thumbprint")
	}
	if !has256 && !has1 {
		return nil, errAssertionSignature("The assertion's header names no certificate: it has neither x5t#S256 nor x5t.")
	}
	shown := header["x5t#S256"]
	if !has256 {
		shown = header["x5t"]
	}
	for _, c := range app.Certificates {
		cert, err := parseRegisteredCertificate(c)
		if err != nil {
			continue
		}
		sum1, sum256 := certThumbprintBytes(cert.Raw)
		if (has256 && !bytes.Equal(want256, sum256)) || (has1 && !bytes.Equal(want1, sum1)) {
			continue
		}
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return nil, errAssertionSignature("The key used is expired. Certificate valid from " +
				cert.NotBefore.UTC().Format(time.RFC3339) + " to " + cert.NotAfter.UTC().Format(time.RFC3339) + ".")
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			continue
		}
		return pub, nil
	}
	s, _ := shown.(string)
	return nil, errAssertionKeyNotFound(app.ClientID, s)
}

// headerThumbprint decodes a thumbprint header of size bytes. RFC 7515 has
// it base64url; MSAL sends standard base64 with padding, so both are
// accepted.
func headerThumbprint(header map[string]any, name string, size int) (sum []byte, present, bad bool) {
	v, ok := header[name]
	if !ok {
		return nil, false, false
	}
	s, ok := v.(string)
	if !ok {
		return nil, true, true
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == size {
			return b, true, false
		}
	}
	return nil, true, true
}

// parseRegisteredCertificate parses the PEM of a registered certificate.
func parseRegisteredCertificate(c Certificate) (*x509.Certificate, error) {
	block, _ := pem.Decode(c.PEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("auth: registered certificate is not PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}

// audienceHosts are the hosts a client assertion sent in r may name in its
// aud: those of the configured public URLs, or, without any, r's Host.
func (s *Service) audienceHosts(r *http.Request) []string {
	urls := s.configuredURLs()
	if len(urls) == 0 {
		return []string{r.Host}
	}
	hosts := make([]string, len(urls))
	for i, u := range urls {
		hosts[i] = u.Host
	}
	return hosts
}

// tokenEndpointAudience reports whether one of aud names tenant's token
// endpoint on one of hosts: http(s)://<host>/<tenant>/oauth2/v2.0/token, or
// the v1 /oauth2/token that Entra also accepts. The scheme is not compared:
// behind a TLS-terminating proxy the server sees http where the client used
// https.
func tokenEndpointAudience(aud jwt.ClaimStrings, hosts []string, tenant string) bool {
	for _, a := range aud {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			continue
		}
		if !slices.ContainsFunc(hosts, func(h string) bool { return sameHost(u.Host, h) }) {
			continue
		}
		p := strings.TrimSuffix(u.Path, "/")
		if strings.EqualFold(p, "/"+tenant+"/oauth2/v2.0/token") || strings.EqualFold(p, "/"+tenant+"/oauth2/token") {
			return true
		}
	}
	return false
}

// sameHost compares two hosts (host[:port]), ignoring case and the
// scheme's default port.
func sameHost(audHost, reqHost string) bool {
	strip := func(h string) string {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return strings.ToLower(h)
		}
		if port == "443" || port == "80" {
			if strings.Contains(host, ":") {
				return "[" + strings.ToLower(host) + "]"
			}
			return strings.ToLower(host)
		}
		return strings.ToLower(h)
	}
	return audHost != "" && strip(audHost) == strip(reqHost)
}
