package auth

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestClientAssertionLifetimeCapped signs assertions valid for longer than
// ten minutes, or expiring further than that from now: each is refused,
// while MSAL's ten-minute assertion, and one without nbf that expires within
// ten minutes, are accepted.
func TestClientAssertionLifetimeCapped(t *testing.T) {
	cf := newCertFixture(t, testStart)
	now := cf.clock.Now()
	num := func(d time.Duration) json.Number { return json.Number(jsonInt(now.Add(d).Unix())) }
	for _, tc := range []struct {
		name  string
		noNbf bool
		set   map[string]time.Duration // claim -> time relative to now
		ok    bool
	}{
		{"MSAL's ten minutes", false, nil, true},
		{"no nbf, exp in ten minutes", true, nil, true},
		{"iat instead of nbf, nine minutes", true, map[string]time.Duration{"iat": -time.Minute, "exp": 8 * time.Minute}, true},
		{"an hour from nbf", false, map[string]time.Duration{"exp": time.Hour}, false},
		{"a year, no nbf", true, map[string]time.Duration{"exp": 365 * 24 * time.Hour}, false},
		{"eleven minutes from iat", true, map[string]time.Duration{"iat": -5 * time.Minute, "exp": 6 * time.Minute}, false},
		{"nbf in the past, long span", false, map[string]time.Duration{"nbf": -30 * time.Minute, "exp": 5 * time.Minute}, false},
		{"nbf in the future within leeway, exp too far", false, map[string]time.Duration{"nbf": time.Minute, "exp": 11*time.Minute + time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cf.msalClaims()
			if tc.noNbf {
				delete(c, "nbf")
			}
			for k, d := range tc.set {
				c[k] = num(d)
			}
			w := cf.postToken(certTenant, cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), c)), nil)
			if tc.ok {
				if w.Code != http.StatusOK {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				return
			}
			checkOAuthError(t, w, 401, "invalid_client", 0)
			if !strings.Contains(w.Body.String(), "lifetime is too long") {
				t.Errorf("the error does not say why: %s", w.Body)
			}
		})
	}
}
