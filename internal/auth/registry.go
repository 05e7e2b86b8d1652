package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// secretBytes is the entropy of a generated client secret.
const secretBytes = 32

// secretHintLength is how many leading characters of a secret are kept in
// the clear, as Entra's "hint".
const secretHintLength = 3

// Registration describes an application to register with RegisterApp.
type Registration struct {
	// ClientID is the client id to use, a GUID; empty means a new random
	// one. Giving one lets a bot keep the client id it has in Entra.
	ClientID    string
	TenantID    string
	DisplayName string
	Roles       []string
	WebhookURL  string
	// CertificatePEM, if not empty, is a certificate to register for
	// client assertions (see ParseCertificate).
	CertificatePEM []byte
	// SecretLifetime is how long the generated secret works; zero means
	// it never expires.
	SecretLifetime time.Duration
	// NoSecret registers the application without a client secret; it then
	// needs a certificate.
	NoSecret bool
}

// RegisterApp validates reg, generates the client id (if reg has none) and
// a client secret (unless reg.NoSecret), and stores the application. It
// returns the stored application and the secret, which exists nowhere else:
// the store keeps only its hash. Errors from the store are returned as they
// are (ErrAppExists for a taken client id).
func RegisterApp(ctx context.Context, store AppStore, reg Registration, now time.Time) (App, string, error) {
	now = now.UTC()
	a := App{
		ClientID:    reg.ClientID,
		TenantID:    reg.TenantID,
		DisplayName: strings.TrimSpace(reg.DisplayName),
		WebhookURL:  reg.WebhookURL,
		CreatedAt:   now,
	}
	if a.ClientID == "" {
		a.ClientID = uuid.NewString()
	} else {
		id, err := uuid.Parse(a.ClientID)
		if err != nil {
			return App{}, "", fmt.Errorf("auth: client id %q is not a GUID", reg.ClientID)
		}
		a.ClientID = id.String()
	}
	if !validTenant(a.TenantID) {
		return App{}, "", fmt.Errorf("auth: tenant %q is neither a GUID nor a domain name", reg.TenantID)
	}
	if a.DisplayName == "" {
		return App{}, "", errors.New("auth: an application needs a display name")
	}
	if len(reg.Roles) == 0 {
		return App{}, "", fmt.Errorf("auth: an application needs at least one role; known roles are %s", strings.Join(AllRoles(), ", "))
	}
	if err := ValidateRoles(reg.Roles); err != nil {
		return App{}, "", err
	}
	// In AllRoles' order, without duplicates.
	a.Roles = slices.DeleteFunc(AllRoles(), func(r string) bool { return !slices.Contains(reg.Roles, r) })
	if err := ValidateWebhook(a.WebhookURL); err != nil {
		return App{}, "", err
	}
	if reg.SecretLifetime < 0 {
		return App{}, "", errors.New("auth: a secret lifetime cannot be negative")
	}
	if len(reg.CertificatePEM) > 0 {
		c, err := ParseCertificate(reg.CertificatePEM, now)
		if err != nil {
			return App{}, "", err
		}
		a.Certificates = []Certificate{c}
	}
	var secret string
	if reg.NoSecret {
		if len(a.Certificates) == 0 {
			return App{}, "", errors.New("auth: an application without a secret needs a certificate")
		}
	} else {
		var s Secret
		secret, s = NewSecret(now, reg.SecretLifetime)
		a.Secrets = []Secret{s}
	}
	if err := store.CreateApp(ctx, a); err != nil {
		return App{}, "", err
	}
	return a, secret, nil
}

// RotateSecret adds a new client secret to the application and, unless
// keepOld, then removes all its other secrets. It returns the new secret,
// which exists nowhere else, and its stored form. The new secret is stored
// before the old ones are removed, so that a failure never leaves the
// application without a working secret.
func RotateSecret(ctx context.Context, store AppStore, clientID string, keepOld bool, lifetime time.Duration, now time.Time) (string, Secret, error) {
	if lifetime < 0 {
		return "", Secret{}, errors.New("auth: a secret lifetime cannot be negative")
	}
	secret, s := NewSecret(now.UTC(), lifetime)
	if err := store.AddSecret(ctx, clientID, s); err != nil {
		return "", Secret{}, err
	}
	if !keepOld {
		if _, err := store.RemoveSecrets(ctx, clientID, s.ID); err != nil {
			return "", Secret{}, fmt.Errorf("auth: the new secret is stored but the old ones are not removed: %w", err)
		}
	}
	return secret, s, nil
}

// RegisterCertificate parses certPEM (see ParseCertificate) and adds it to
// the application's certificates.
func RegisterCertificate(ctx context.Context, store AppStore, clientID string, certPEM []byte, now time.Time) (Certificate, error) {
	c, err := ParseCertificate(certPEM, now.UTC())
	if err != nil {
		return Certificate{}, err
	}
	if err := store.AddCertificate(ctx, clientID, c); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// NewSecret generates a client secret created at now, expiring after
// lifetime (never if zero): 32 random bytes, base64url-encoded into 43
// characters. It returns the secret and the Secret to store.
func NewSecret(now time.Time, lifetime time.Duration) (string, Secret) {
	var b [secretBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	s := Secret{
		ID:        uuid.NewString(),
		Hash:      HashSecret(secret),
		Hint:      secret[:secretHintLength],
		CreatedAt: now,
	}
	if lifetime > 0 {
		s.ExpiresAt = now.Add(lifetime)
	}
	return secret, s
}

// ParseCertificate reads the first CERTIFICATE block of certPEM as a
// certificate for client assertions, created at now. The certificate must
// carry an RSA key of at least 2048 bits (azidentity signs assertions with
// PS256, other clients with RS256) and must not have expired. A file that
// also holds a private key is refused: the private key belongs with the bot
// alone.
func ParseCertificate(certPEM []byte, now time.Time) (Certificate, error) {
	var certBlock *pem.Block
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return Certificate{}, errors.New("auth: the PEM file holds a private key; register only the certificate and keep the key with the bot")
		}
		if b.Type == "CERTIFICATE" && certBlock == nil {
			certBlock = b
		}
	}
	if certBlock == nil {
		return Certificate{}, errors.New("auth: no PEM CERTIFICATE block found")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return Certificate{}, fmt.Errorf("auth: parsing certificate: %w", err)
	}
	if err := checkAssertionKey(cert); err != nil {
		return Certificate{}, err
	}
	if now.After(cert.NotAfter) {
		return Certificate{}, fmt.Errorf("auth: the certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	x5t, x5tS256 := certThumbprints(cert.Raw)
	return Certificate{
		X5T:       x5t,
		X5TS256:   x5tS256,
		PEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		CreatedAt: now,
	}, nil
}

// checkAssertionKey checks that cert's key can verify client assertions.
func checkAssertionKey(cert *x509.Certificate) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("auth: the certificate has a %s key; client assertions need RSA", cert.PublicKeyAlgorithm)
	}
	if pub.N.BitLen() < keyBits {
		return fmt.Errorf("auth: the certificate's RSA key has %d bits, want at least %d", pub.N.BitLen(), keyBits)
	}
	return nil
}

// certThumbprints returns the x5t and x5t#S256 of a DER certificate,
// base64url without padding.
func certThumbprints(der []byte) (x5t, x5tS256 string) {
	s1, s256 := certThumbprintBytes(der)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(s1), enc.EncodeToString(s256)
}

// ValidateWebhook checks an incoming-call webhook URL: empty, or an
// absolute http or https URL without user information or fragment. Whether
// a host may be called (loopback, private addresses) is decided when a
// notification is delivered.
func ValidateWebhook(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("auth: webhook %q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("auth: webhook %q must be an absolute https:// (or http://) URL", raw)
	}
	if u.User != nil || u.Fragment != "" {
		return fmt.Errorf("auth: webhook %q must not carry user information or a fragment", raw)
	}
	return nil
}

// certThumbprintBytes returns the SHA-1 and SHA-256 of a DER certificate.
func certThumbprintBytes(der []byte) (sum1, sum256 []byte) {
	s1 := sha1.Sum(der) //nolint:gosec // see the import
	s256 := sha256.Sum256(der)
	return s1[:], s256[:]
}
