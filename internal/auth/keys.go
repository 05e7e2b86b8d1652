package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"
)

// keyBits is the RSA modulus size of generated keys, and the least accepted
// from a KeyStore.
const keyBits = 2048

// StoredKey is a signing key as a KeyStore keeps it.
type StoredKey struct {
	// ID is the key id published in the JWKS and put in each token's kid
	// header. NewStoredKey uses the RFC 7638 thumbprint of the public key.
	ID string
	// PrivateKeyPEM is a PEM "PRIVATE KEY" block: PKCS#8, RSA, at least
	// 2048 bits.
	PrivateKeyPEM []byte
	CreatedAt     time.Time
}

// KeyStore persists signing keys. Implementations must be safe for
// concurrent use. The Service loads the keys in New and again at each
// rotation check, so that keys another node saved are picked up.
type KeyStore interface {
	// LoadKeys returns every stored key, in any order.
	LoadKeys(ctx context.Context) ([]StoredKey, error)
	// SaveKey stores a new key.
	SaveKey(ctx context.Context, k StoredKey) error
	// DeleteKey removes the key with the given id. Deleting a key that is
	// not stored is not an error: another node may have retired it first.
	DeleteKey(ctx context.Context, id string) error
}

// NewStoredKey generates a 2048-bit RSA key created at now.
func NewStoredKey(now time.Time) (StoredKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return StoredKey{}, fmt.Errorf("auth: generating signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return StoredKey{}, fmt.Errorf("auth: encoding signing key: %w", err)
	}
	return StoredKey{
		ID:            thumbprint(&priv.PublicKey),
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		CreatedAt:     now.UTC(),
	}, nil
}

// MemoryKeyStore is a KeyStore that keeps keys in memory, for tests and for
// throwaway servers. Its zero value is empty and ready to use; it is safe
// for concurrent use.
type MemoryKeyStore struct {
	mu   sync.Mutex
	keys []StoredKey
}

// LoadKeys returns copies of the stored keys in the order they were saved.
func (m *MemoryKeyStore) LoadKeys(context.Context) ([]StoredKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]StoredKey, len(m.keys))
	for i, k := range m.keys {
		k.PrivateKeyPEM = slices.Clone(k.PrivateKeyPEM)
		out[i] = k
	}
	return out, nil
}

// SaveKey stores a copy of k. It fails if a key with the same ID is stored.
func (m *MemoryKeyStore) SaveKey(_ context.Context, k StoredKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, old := range m.keys {
		if old.ID == k.ID {
			return fmt.Errorf("auth: key %q already stored", k.ID)
		}
	}
	k.PrivateKeyPEM = slices.Clone(k.PrivateKeyPEM)
	m.keys = append(m.keys, k)
	return nil
}

// DeleteKey removes the key with the given id, if stored.
func (m *MemoryKeyStore) DeleteKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k StoredKey) bool { return k.ID == id })
	return nil
}

// signingKey is a parsed StoredKey.
type signingKey struct {
	id        string
	priv      *rsa.PrivateKey
	createdAt time.Time
}

// keySet is an immutable set of keys that a Service signs and verifies
// with. A Service replaces its keySet whole when the keys rotate.
//
// A key is published (in the JWKS, and accepted by Authenticate) from the
// moment it is in the set, but it signs only once it has been published for
// lead: clients that cache the JWKS then know it before they meet a token
// it signed. The oldest key of the set is the exception, since there is
// nothing older to sign with: a fresh store's first key signs at once.
type keySet struct {
	keys []*signingKey // oldest first, then by id
	byID map[string]*signingKey
	lead time.Duration
	jwks []byte // the JSON Web Key Set of all keys
}

// newKeySet parses stored keys into a keySet with publication lead lead.
func newKeySet(stored []StoredKey, lead time.Duration) (*keySet, error) {
	ks := &keySet{byID: make(map[string]*signingKey, len(stored)), lead: lead}
	for _, sk := range stored {
		k, err := parseStoredKey(sk)
		if err != nil {
			return nil, err
		}
		if _, dup := ks.byID[k.id]; dup {
			return nil, fmt.Errorf("auth: two signing keys have id %q", k.id)
		}
		ks.byID[k.id] = k
		ks.keys = append(ks.keys, k)
	}
	slices.SortFunc(ks.keys, func(a, b *signingKey) int {
		if c := a.createdAt.Compare(b.createdAt); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var err error
	if ks.jwks, err = marshalJWKS(ks); err != nil {
		return nil, err
	}
	return ks, nil
}

// activeAt is when the i-th key (oldest first) starts signing.
func (ks *keySet) activeAt(i int) time.Time {
	if i == 0 {
		return ks.keys[0].createdAt
	}
	return ks.keys[i].createdAt.Add(ks.lead)
}

// signer returns the key that signs at now: the newest key already active.
// The set must not be empty.
func (ks *keySet) signer(now time.Time) *signingKey {
	for i := len(ks.keys) - 1; i > 0; i-- {
		if !now.Before(ks.activeAt(i)) {
			return ks.keys[i]
		}
	}
	return ks.keys[0]
}

func parseStoredKey(sk StoredKey) (*signingKey, error) {
	if sk.ID == "" {
		return nil, errors.New("auth: stored signing key has no id")
	}
	block, _ := pem.Decode(sk.PrivateKeyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: signing key %q is not a PEM PRIVATE KEY block", sk.ID)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: signing key %q: %w", sk.ID, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: signing key %q is %T, want RSA", sk.ID, parsed)
	}
	if priv.N.BitLen() < keyBits {
		return nil, fmt.Errorf("auth: signing key %q has %d bits, want at least %d", sk.ID, priv.N.BitLen(), keyBits)
	}
	return &signingKey{id: sk.ID, priv: priv, createdAt: sk.CreatedAt}, nil
}

// jwk is one RSA public key of a JSON Web Key Set (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func marshalJWKS(ks *keySet) ([]byte, error) {
	// Newest first, so the document is stable.
	keys := slices.Clone(ks.keys)
	slices.Reverse(keys)
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		n, e := jwkNE(&k.priv.PublicKey)
		doc.Keys = append(doc.Keys, jwk{Kty: "RSA", Use: "sig", Kid: k.id, Alg: "RS256", N: n, E: e})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("auth: encoding JWKS: %w", err)
	}
	return b, nil
}

func jwkNE(pub *rsa.PublicKey) (n, e string) {
	enc := base64.RawURLEncoding
	return enc.EncodeToString(pub.N.Bytes()), enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
}

// thumbprint is the RFC 7638 JWK thumbprint of pub, base64url-encoded.
func thumbprint(pub *rsa.PublicKey) string {
	n, e := jwkNE(pub)
	// RFC 7638 §3.2: the required members in lexicographic order, no
	// whitespace. n and e are base64url, so they need no JSON escaping.
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
