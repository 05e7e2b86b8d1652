package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors of Authenticate. Every error it returns matches exactly one of them
// with errors.Is; an ErrInvalidToken also matches its reason, such as
// jwt.ErrTokenExpired.
var (
	// ErrMissingToken means the request carries no bearer token.
	ErrMissingToken = errors.New("auth: missing bearer token")
	// ErrInvalidToken means the bearer token is not one this service
	// issued, or is not valid now.
	ErrInvalidToken = errors.New("auth: invalid token")
)

// Reasons for ErrInvalidToken that jwt/v5 does not name.
var (
	errUnknownKey    = errors.New("unknown signing key")
	errNoKeyID       = errors.New("token has no kid header")
	errMissingTenant = errors.New("token has no tid claim")
	errMissingApp    = errors.New("token has no appid claim")
	errTokenTooLong  = errors.New("token is too long")
)

// clockLeeway is the clock skew tolerated on exp and nbf.
const clockLeeway = time.Minute

// maxTokenLength bounds the bearer tokens Authenticate looks at; ours are
// about 1.5 KB.
const maxTokenLength = 16 << 10

// authError is an error of Authenticate. It remembers where the client can
// get a token, for WWWAuthenticate.
type authError struct {
	kind             error // ErrMissingToken or ErrInvalidToken
	reason           error // nil for ErrMissingToken
	authorizationURI string
}

func (e *authError) Error() string {
	if e.reason == nil {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.reason.Error()
}

func (e *authError) Unwrap() []error {
	if e.reason == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.reason}
}

// Authenticate validates the request's bearer token and returns who it
// stands for. The token must be an RS256 JWT signed by one of the service's
// keys, valid now (with a minute of leeway), for Microsoft Graph, with an
// issuer of the form http(s)://<host>/<tid>/v2.0, and with tid and appid
// claims. Errors match ErrMissingToken or ErrInvalidToken.
//
// Results are cached by token until the token's exp (without leeway), so
// that a request costs a map lookup rather than an RSA verification; the
// cache never keeps a token valid past its exp.
func (s *Service) Authenticate(r *http.Request) (Principal, error) {
	raw, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return Principal{}, s.authError(r, ErrMissingToken, nil)
	}
	now := s.clock.Now()
	if p, ok := s.verified.get(raw, now); ok {
		p.Roles = slices.Clone(p.Roles)
		return p, nil
	}
	if len(raw) > maxTokenLength {
		return Principal{}, s.authError(r, ErrInvalidToken, errTokenTooLong)
	}
	var c accessClaims
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithLeeway(clockLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(graphAudiences...),
	).ParseWithClaims(raw, &c, s.verificationKey)
	if err != nil {
		return Principal{}, s.authError(r, ErrInvalidToken, invalidReason(err))
	}
	p := Principal{TenantID: c.TenantID, AppID: c.AppID, Roles: c.Roles}
	s.verified.put(raw, p, c.Exp.Time, now)
	p.Roles = slices.Clone(p.Roles)
	return p, nil
}

func (s *Service) authError(r *http.Request, kind, reason error) error {
	return &authError{kind: kind, reason: reason, authorizationURI: s.base(r) + "/common/oauth2/v2.0/authorize"}
}

// bearerToken extracts the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// verificationKey is the jwt.Keyfunc: the public key named by the kid
// header.
func (s *Service) verificationKey(t *jwt.Token) (any, error) {
	kid, ok := t.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, errNoKeyID
	}
	k, ok := s.keys.Load().byID[kid]
	if !ok {
		return nil, errUnknownKey
	}
	return &k.priv.PublicKey, nil
}

// invalidReason picks the most useful single reason out of a jwt/v5 error,
// which may join several.
func invalidReason(err error) error {
	for _, reason := range []error{
		jwt.ErrTokenExpired,
		jwt.ErrTokenNotValidYet,
		jwt.ErrTokenInvalidAudience,
		jwt.ErrTokenInvalidIssuer,
		errMissingTenant,
		errMissingApp,
		errUnknownKey,
		errNoKeyID,
	} {
		if errors.Is(err, reason) {
			return reason
		}
	}
	return err
}

// accessClaims are the claims Authenticate reads. It implements jwt.Claims
// and jwt.ClaimsValidator.
type accessClaims struct {
	Issuer   string           `json:"iss"`
	Audience jwt.ClaimStrings `json:"aud"`
	Exp      *jwt.NumericDate `json:"exp"`
	Nbf      *jwt.NumericDate `json:"nbf"`
	Iat      *jwt.NumericDate `json:"iat"`
	Subject  string           `json:"sub"`
	TenantID string           `json:"tid"`
	AppID    string           `json:"appid"`
	Roles    []string         `json:"roles"`
}

func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Exp, nil }
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.Nbf, nil }
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.Iat, nil }
func (c *accessClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *accessClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// Validate checks what jwt/v5 cannot: the tenant and app claims, and an
// issuer naming the token's tenant. The issuer's host is not checked: the
// same server is reached as 127.0.0.1, localhost or a public name, and the
// signature already proves the token is ours.
func (c *accessClaims) Validate() error {
	if c.TenantID == "" {
		return errMissingTenant
	}
	if c.AppID == "" {
		return errMissingApp
	}
	if !issuerOfTenant(c.Issuer, c.TenantID) {
		return jwt.ErrTokenInvalidIssuer
	}
	return nil
}

// issuerOfTenant reports whether iss is http(s)://<host>/<tid>/v2.0.
func issuerOfTenant(iss, tid string) bool {
	u, err := url.Parse(iss)
	if err != nil {
		return false
	}
	return (u.Scheme == "https" || u.Scheme == "http") &&
		u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery &&
		u.RawPath == "" && strings.EqualFold(u.Path, "/"+tid+"/v2.0")
}

// WWWAuthenticate returns the WWW-Authenticate header value for a 401
// answer to err, an error of Authenticate (RFC 6750 §3). It never includes
// a claims parameter, which would make the Graph SDKs retry the request.
func (s *Service) WWWAuthenticate(err error) string {
	var b strings.Builder
	b.WriteString(`Bearer realm=""`)
	var ae *authError
	if errors.As(err, &ae) && ae.authorizationURI != "" {
		fmt.Fprintf(&b, `, authorization_uri="%s"`, headerSafe(ae.authorizationURI))
	}
	if errors.Is(err, ErrInvalidToken) {
		fmt.Fprintf(&b, `, error="invalid_token", error_description="%s"`, headerSafe(err.Error()))
	}
	return b.String()
}

// headerSafe keeps the characters RFC 6750 allows in a quoted
// error_description (printable ASCII but '"' and '\'), bounded in length.
func headerSafe(s string) string {
	const limit = 300
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < limit; i++ {
		switch c := s[i]; {
		case c == '"':
			b.WriteByte('\'')
		case c == '\\' || c < 0x20 || c > 0x7e:
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
