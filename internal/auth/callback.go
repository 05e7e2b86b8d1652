package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// CallbackTokenLifetime is the lifetime of callback tokens, as in the
// example token of the Graph docs.
const CallbackTokenLifetime = 65 * time.Minute

// maxCallbackTokens bounds the cache of callback tokens before expired
// ones are swept.
const maxCallbackTokens = 1024

type callbackKey struct{ app, tenant string }

type callbackToken struct {
	raw      string
	iat, exp time.Time
}

// CallbackToken returns the bearer token for a notification to application
// appID in tenant tenantID: an RS256 JWT with iss = the configured callback
// issuer, aud = appID, tid = tenantID, and iat, nbf and exp, signed with a
// key published at /callbacks/v1/keys.
//
// Signing costs about a millisecond, so a token is reused for every
// notification to the same app and tenant until less than half of its
// lifetime remains. It is safe for concurrent use.
func (s *Service) CallbackToken(appID, tenantID string) (string, error) {
	if appID == "" || tenantID == "" {
		return "", errors.New("auth: a callback token needs an app id and a tenant id")
	}
	key := callbackKey{appID, tenantID}
	now := s.wallClock.Now()
	s.cbMu.Lock()
	t, ok := s.cbTokens[key]
	s.cbMu.Unlock()
	if ok && fresh(t, now) {
		return t.raw, nil
	}

	// Sign outside the lock: two goroutines may both mint, which is
	// harmless, while one slow signature never holds up other apps.
	iat := now.Truncate(time.Second)
	t = callbackToken{iat: iat, exp: iat.Add(CallbackTokenLifetime)}
	raw, err := s.sign(jwt.MapClaims{
		"iss": s.callbackIssuer,
		"aud": appID,
		"tid": tenantID,
		"iat": t.iat.Unix(),
		"nbf": t.iat.Unix(),
		"exp": t.exp.Unix(),
	})
	if err != nil {
		return "", err
	}
	t.raw = raw

	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	if cur, ok := s.cbTokens[key]; ok && cur.exp.After(t.exp) && fresh(cur, now) {
		return cur.raw, nil
	}
	if len(s.cbTokens) >= maxCallbackTokens {
		for k, old := range s.cbTokens {
			if !fresh(old, now) {
				delete(s.cbTokens, k)
			}
		}
	}
	s.cbTokens[key] = t
	return raw, nil
}

// fresh reports whether a callback token may still be handed out at now:
// at least half its lifetime remains and it is already valid.
func fresh(t callbackToken, now time.Time) bool {
	return !now.Before(t.iat) && t.exp.Sub(now) >= CallbackTokenLifetime/2
}
