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

// TestClientAssertionReplayRefusedAfterRestart uses an assertion, then
// replays it to a new Service over the same AssertionIDStore, as after a
// restart or on another node: the replay is refused.
func TestClientAssertionReplayRefusedAfterRestart(t *testing.T) {
	ids := &MemoryAssertionIDs{}
	cf := newCertFixture(t, testStart, func(c *Config) { c.AssertionIDs = ids })
	assertion := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	if w := cf.postToken(certTenant, cf.assertionForm(assertion), nil); w.Code != http.StatusOK {
		t.Fatalf("first use: %d %s", w.Code, w.Body)
	}
	restarted, err := New(t.Context(), Config{Clock: cf.clock, Keys: cf.store, Apps: ChainApps(testApps(), StoredApps(cf.apps)), AssertionIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restarted.Close)
	cf.svc = restarted
	w := cf.postToken(certTenant, cf.assertionForm(assertion), nil)
	checkOAuthError(t, w, 401, "invalid_client", 0)
	if !strings.Contains(w.Body.String(), "used before") {
		t.Errorf("replay after a restart: %s", w.Body)
	}
}

// TestClientAssertionIDsBudgetedPerClient gives each client room for two
// assertion ids: a client that uses more is refused with 429 until its ids
// expire, and another client's ids are never pushed out (its replay is
// still refused).
func TestClientAssertionIDsBudgetedPerClient(t *testing.T) {
	cf := newCertFixture(t, testStart, func(c *Config) { c.AssertionIDsPerClient = 2 })
	other, _, err := RegisterApp(t.Context(), cf.apps, Registration{
		TenantID: certTenant, DisplayName: "Second certificate bot", Roles: []string{RoleCallsInitiate}, CertificatePEM: cf.certPEM, NoSecret: true,
	}, testStart)
	if err != nil {
		t.Fatal(err)
	}
	otherClaims := cf.msalClaims()
	otherClaims["iss"], otherClaims["sub"] = other.ClientID, other.ClientID
	otherAssertion := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), otherClaims)
	otherForm := cf.assertionForm(otherAssertion)
	otherForm.Set("client_id", other.ClientID)
	if w := cf.postToken(certTenant, otherForm, nil); w.Code != http.StatusOK {
		t.Fatalf("the other client: %d %s", w.Code, w.Body)
	}
	for i := range 2 {
		if w := cf.postToken(certTenant, cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())), nil); w.Code != http.StatusOK {
			t.Fatalf("assertion %d within the budget: %d %s", i, w.Code, w.Body)
		}
	}
	w := cf.postToken(certTenant, cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())), nil)
	checkOAuthError(t, w, 429, "temporarily_unavailable", 0)
	if w.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	checkOAuthError(t, cf.postToken(certTenant, otherForm, nil), 401, "invalid_client", 0)
	cf.clock.Advance(11*time.Minute + time.Second)
	if w := cf.postToken(certTenant, cf.assertionForm(signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())), nil); w.Code != http.StatusOK {
		t.Fatalf("once the ids expired: %d %s", w.Code, w.Body)
	}
}
