package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// postTokenFrom posts form to tenant's token endpoint from the address src.
func (fx *fixture) postTokenFrom(src, tenant string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, testBase+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = src
	w := httptest.NewRecorder()
	fx.svc.Handler().ServeHTTP(w, r)
	return w
}

// wantThrottled checks that w is the token endpoint's 429: an OAuth
// temporarily_unavailable error with a Retry-After of wantRetry seconds.
func wantThrottled(t *testing.T, w *httptest.ResponseRecorder, wantRetry string) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusTooManyRequests || body.Error != "temporarily_unavailable" || w.Header().Get("Retry-After") != wantRetry {
		t.Fatalf("got %d %q Retry-After %q, want 429 temporarily_unavailable with Retry-After %s: %s",
			w.Code, body.Error, w.Header().Get("Retry-After"), wantRetry, w.Body)
	}
}

// TestTokenFailuresLimitedPerSource fails ten times from one address: the
// eleventh request from there is refused before its (good) secret is
// looked at, another address is unaffected, and the budget refills at ten
// a minute.
func TestTokenFailuresLimitedPerSource(t *testing.T) {
	fx := newFixture(t)
	const attacker, other = "198.51.100.7:40000", "203.0.113.9:40000"
	for i := range 10 {
		if w := fx.postTokenFrom(attacker, DevTenantID, secretForm(fmt.Sprintf("guess-%d", i), "x")); w.Code != http.StatusBadRequest {
			t.Fatalf("failure %d: %d %s", i, w.Code, w.Body)
		}
	}
	wantThrottled(t, fx.postTokenFrom(attacker, DevTenantID, secretForm(DevClientID, DevClientSecret)), "6")
	// Another port of the same address is the same source.
	wantThrottled(t, fx.postTokenFrom("198.51.100.7:40001", DevTenantID, secretForm(DevClientID, DevClientSecret)), "6")
	if w := fx.postTokenFrom(other, DevTenantID, secretForm(DevClientID, DevClientSecret)); w.Code != http.StatusOK {
		t.Fatalf("another address: %d %s", w.Code, w.Body)
	}
	fx.clock.Advance(6 * time.Second)
	if w := fx.postTokenFrom(attacker, DevTenantID, secretForm(DevClientID, DevClientSecret)); w.Code != http.StatusOK {
		t.Fatalf("after Retry-After: %d %s", w.Code, w.Body)
	}
}

// TestTokenFailuresLimitedPerClient guesses one client's secret from ten
// addresses, once each: the client is then refused from any new address,
// even with its right secret, while another client is not, and an address
// that got a token for the client before the attack still gets one.
func TestTokenFailuresLimitedPerClient(t *testing.T) {
	fx := newFixture(t)
	const bot = "192.0.2.50:5000"
	if w := fx.postTokenFrom(bot, otherTenant, secretForm(otherClient, otherSecret1)); w.Code != http.StatusOK {
		t.Fatalf("the bot's own token: %d %s", w.Code, w.Body)
	}
	for i := range 10 {
		src := fmt.Sprintf("198.51.100.%d:1000", i+1)
		if w := fx.postTokenFrom(src, otherTenant, secretForm(otherClient, "guess")); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, w.Code, w.Body)
		}
	}
	const fresh = "203.0.113.77:1000"
	wantThrottled(t, fx.postTokenFrom(fresh, otherTenant, secretForm(strings.ToUpper(otherClient), otherSecret1)), "6")
	if w := fx.postTokenFrom(fresh, DevTenantID, secretForm(DevClientID, DevClientSecret)); w.Code != http.StatusOK {
		t.Fatalf("another client from the same address: %d %s", w.Code, w.Body)
	}
	if w := fx.postTokenFrom(bot, otherTenant, secretForm(otherClient, otherSecret1)); w.Code != http.StatusOK {
		t.Fatalf("the bot's familiar address was locked out: %d %s", w.Code, w.Body)
	}
}

// TestTokenFailuresLimitedForAssertions spends a certificate client's
// budget with forged assertions: the next assertion, a valid one, is
// refused before its signature is checked.
func TestTokenFailuresLimitedForAssertions(t *testing.T) {
	cf := newCertFixture(t, testStart)
	for i := range 10 {
		claims := cf.msalClaims()
		claims["jti"] = fmt.Sprintf("forged-%d", i)
		claims["iss"] = "not the client"
		bad := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), claims)
		if w := cf.postTokenFrom(fmt.Sprintf("198.51.100.%d:1", i+1), certTenant, cf.assertionForm(bad)); w.Code != http.StatusUnauthorized {
			t.Fatalf("forged assertion %d: %d %s", i, w.Code, w.Body)
		}
	}
	good := signAssertion(t, cf.key, jwt.SigningMethodPS256, cf.msalHeader(), cf.msalClaims())
	wantThrottled(t, cf.postTokenFrom("203.0.113.1:1", certTenant, cf.assertionForm(good)), "6")
}

// TestTokenRefusalsLoggedAtBoundedRate refuses a hundred requests in a
// burst: at most ten log lines come out, and the next line after the
// budget refills says how many were left out.
func TestTokenRefusalsLoggedAtBoundedRate(t *testing.T) {
	var buf bytes.Buffer
	fx := newFixture(t, func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	for i := range 100 {
		fx.postTokenFrom(fmt.Sprintf("198.51.%d.%d:1", i/250, i%250), DevTenantID, secretForm("nobody", "x"))
	}
	if n := strings.Count(buf.String(), "token request refused"); n != 10 {
		t.Fatalf("%d log lines for 100 refusals in a burst, want 10", n)
	}
	buf.Reset()
	fx.clock.Advance(time.Minute)
	fx.postTokenFrom("192.0.2.1:1", DevTenantID, secretForm("nobody", "x"))
	var line struct {
		Msg        string `json:"msg"`
		Suppressed int    `json:"suppressed"`
		Source     string `json:"source"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.Suppressed != 90 || line.Source != "192.0.2.1" {
		t.Fatalf("the line after the burst: %s (%v), want suppressed 90 and source 192.0.2.1", buf.String(), err)
	}
}

func TestSourceOf(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:443":                 "192.0.2.1",
		"[::ffff:192.0.2.1]:443":        "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":      "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":              "fe80::/64",
		"not an address":                "not an address",
		"[2001:db8:1:3::1]:1":           "2001:db8:1:3::/64",
		"[2001:DB8:1:3:0:0:0:abcd]:999": "2001:db8:1:3::/64",
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		if got := sourceOf(r); got != want {
			t.Errorf("sourceOf(%q) = %q, want %q", remote, got, want)
		}
	}
}
