package notify

import (
	"net/http"
	"regexp"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	w := New(Config{BaseBackoff: 250 * time.Millisecond, MaxBackoff: 30 * time.Second})
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"first failure", 1, 0, 125 * time.Millisecond, 250 * time.Millisecond},
		{"second failure doubles", 2, 0, 250 * time.Millisecond, 500 * time.Millisecond},
		{"fifth failure", 5, 0, 2 * time.Second, 4 * time.Second},
		{"capped", 9, 0, 15 * time.Second, 30 * time.Second},
		{"huge attempt does not overflow", 1000, 0, 15 * time.Second, 30 * time.Second},
		{"retry-after longer wins", 1, 90 * time.Second, 90 * time.Second, 90 * time.Second},
		{"retry-after shorter ignored", 3, 10 * time.Millisecond, 500 * time.Millisecond, time.Second},
		{"retry-after capped", 1, 48 * time.Hour, maxRetryAfter, maxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 200 {
				if d := w.backoff(tt.attempt, tt.retryAfter); d < tt.lo || d > tt.hi {
					t.Fatalf("backoff(%d, %v) = %v, want in [%v, %v]", tt.attempt, tt.retryAfter, d, tt.lo, tt.hi)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "120", 120 * time.Second},
		{"spaces", " 7 ", 7 * time.Second},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"huge", "99999999999999999", maxRetryAfter},
		{"http date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
		{"fraction", "1.5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := newUUID(), newUUID()
	if !re.MatchString(a) || a == b {
		t.Fatalf("newUUID() = %q, %q: want two distinct v4 UUIDs", a, b)
	}
}
