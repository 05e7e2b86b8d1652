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
		name   string
		claims func(jwt.MapClaims)
		ok     bool
	}{
		{"MSAL's ten minutes", func(c jwt.MapClaims) {}, true},
		{"no nbf, exp in ten minutes", func(c jwt.MapClaims) { delete(c, "nbf") }, true},
		{"iat instead of nbf, nine minutes", func(c jwt.MapClaims) { delete(c, "nbf"); c["iat"] = num(-time.Minute); c["exp"] = num(8 * time.Minute) }, true},
		{"an hour from nbf", func(c jwt.MapClaims) { c["exp"] = num(time.Hour) }, false},
		{"a year, no nbf", func(c jwt.MapClaims) { delete(c, "nbf"); c["exp"] = num(365 * 24 * time.Hour) }, false},
		{"eleven minutes from iat", func(c jwt.MapClaims) { delete(c, "nbf"); c["iat"] = num(-5 * time.Minute); c["exp"] = num(6 * time.Minute) }, false},
		{"nbf in the past, long span", func(c jwt.MapClaims) { c["nbf"] = num(-30 * time.Minute); c["exp"] = num(5 * time.Minute) }, false},
		{"nbf in the future within leeway, exp too far", func(c jwt.MapClaims) { c["nbf"] = num(time.Minute); c["exp"] = num(11*time.Minute + time.Second) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cf.msalClaims()
			tc.claims(c)
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
