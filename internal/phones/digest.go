package phones

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // RFC 2617 digest
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// NonceLifetime is how long a nonce is accepted; an older one with a
// correct response gets a new challenge with stale=true.
const NonceLifetime = 5 * time.Minute

// maxAuthorization bounds the Authorization header values parsed.
const maxAuthorization = 4096

// lws is the white space between parameters, folded lines included.
const lws = " \t\r\n"

// Credentials are the parameters of a Digest Authorization (or
// Proxy-Authorization) header value.
type Credentials struct {
	Username, Realm, Nonce, URI, Response string
	Algorithm                             string // "" means MD5
	CNonce, NC, QOP, Opaque               string
}

// errMalformed is the error of every unparsable Authorization value.
var errMalformed = errors.New("phones: malformed digest credentials")

// ParseAuthorization parses a Digest credentials header value (RFC 7616
// section 3.4): the scheme, then comma-separated name=value or
// name="quoted value" pairs. Unknown parameters are ignored; a repeated
// one, a missing username, realm, nonce, uri or response, or a value over
// 4 KiB is an error.
func ParseAuthorization(v string) (Credentials, error) {
	var c Credentials
	if len(v) > maxAuthorization {
		return c, fmt.Errorf("%w: longer than %d bytes", errMalformed, maxAuthorization)
	}
	v = strings.TrimLeft(v, lws)
	scheme, rest := v, ""
	if i := strings.IndexAny(v, lws); i >= 0 {
		scheme, rest = v[:i], v[i:]
	}
	if !strings.EqualFold(scheme, "Digest") {
		return c, fmt.Errorf("%w: scheme is not Digest", errMalformed)
	}
	seen := map[string]bool{}
	for {
		rest = strings.TrimLeft(rest, lws)
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return c, fmt.Errorf("%w: parameter without a value", errMalformed)
		}
		name := strings.ToLower(strings.TrimRight(rest[:eq], lws))
		if !isTokenString(name) {
			return c, fmt.Errorf("%w: bad parameter name", errMalformed)
		}
		rest = strings.TrimLeft(rest[eq+1:], lws)
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(rest); i++ {
				ch := rest[i]
				if ch == '\\' && i+1 < len(rest) {
					i++
					b.WriteByte(rest[i])
					continue
				}
				if ch == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(ch)
			}
			if !closed {
				return c, fmt.Errorf("%w: unterminated quoted value", errMalformed)
			}
			val, rest = b.String(), rest[i:]
		} else {
			end := strings.IndexAny(rest, ", \t\r\n")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
			if val == "" {
				return c, fmt.Errorf("%w: empty value of %s", errMalformed, name)
			}
		}
		rest = strings.TrimLeft(rest, lws)
		if rest != "" {
			if rest[0] != ',' {
				return c, fmt.Errorf("%w: want a comma after %s", errMalformed, name)
			}
			rest = rest[1:]
		}
		if seen[name] {
			return c, fmt.Errorf("%w: %s given twice", errMalformed, name)
		}
		seen[name] = true
		switch name {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = val
		case "algorithm":
			c.Algorithm = val
		case "cnonce":
			c.CNonce = val
		case "nc":
			c.NC = val
		case "qop":
			c.QOP = val
		case "opaque":
			c.Opaque = val
		}
	}
	for _, f := range []struct{ name, v string }{{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce}, {"uri", c.URI}, {"response", c.Response}} {
		if f.v == "" {
			return c, fmt.Errorf("%w: no %s", errMalformed, f.name)
		}
	}
	return c, nil
}

func isTokenString(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return s != ""
}

// algorithm is a digest hash.
type algorithm struct {
	name string // as in the algorithm parameter
	new  func() hash.Hash
}

var (
	algMD5    = algorithm{"MD5", md5.New}
	algSHA256 = algorithm{"SHA-256", sha256.New}
)

func algorithmOf(name string) (algorithm, bool) {
	switch strings.ToUpper(name) {
	case "", "MD5":
		return algMD5, true
	case "SHA-256":
		return algSHA256, true
	}
	return algorithm{}, false
}

func (a algorithm) hex(parts ...string) string {
	h := a.new()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

// expectedResponse is the response of RFC 7616 section 3.4.1 with
// qop=auth (RFC 2617 section 3.2.2.1), for the HA1 of the credentials'
// algorithm and the request's method.
func expectedResponse(alg algorithm, ha1, method string, c Credentials) string {
	ha2 := alg.hex(method, c.URI)
	return alg.hex(ha1, c.Nonce, c.NC, c.CNonce, c.QOP, ha2)
}

// nonceKey signs nonces: a nonce is the time it was made and an HMAC of
// that time and the realm, so the registrar keeps no state per challenge.
type nonceKey [32]byte

const nonceMAC = 16 // bytes of HMAC kept in a nonce

func (k *nonceKey) mac(ts []byte, realm string) []byte {
	m := hmac.New(sha256.New, k[:])
	m.Write(ts)
	m.Write([]byte(realm))
	return m.Sum(nil)[:nonceMAC]
}

// make returns a nonce made at now.
func (k *nonceKey) make(now time.Time, realm string) string {
	b := make([]byte, 8, 8+nonceMAC)
	binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
	b = append(b, k.mac(b, realm)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// nonceState is what a presented nonce is worth.
type nonceState uint8

const (
	nonceForeign nonceState = iota // not made by this key (another process, forged)
	nonceFresh
	nonceStale
)

// check tells whether nonce was made by this key for realm, and whether it
// is still fresh at now. A nonce from the future is foreign.
func (k *nonceKey) check(nonce string, now time.Time, realm string) nonceState {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 8+nonceMAC {
		return nonceForeign
	}
	if subtle.ConstantTimeCompare(b[8:], k.mac(b[:8], realm)) != 1 {
		return nonceForeign
	}
	made := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	switch age := now.Sub(made); {
	case age < 0:
		return nonceForeign
	case age > NonceLifetime:
		return nonceStale
	}
	return nonceFresh
}

// challenge returns the header value of a digest challenge.
func challenge(realm, nonce string, alg algorithm, stale bool) string {
	s := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=%s, qop="auth"`, realm, nonce, alg.name)
	if stale {
		s += ", stale=true"
	}
	return s
}
