package recordings

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSaveServeExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := New(t.TempDir(), func() string { return "https://sb.test/" }, time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	loc, tok, err := s.Save(context.Background(), "t", "a", "c", "o", []byte("RIFFdata"))
	if err != nil || !strings.HasPrefix(loc, "https://sb.test"+PathPrefix) || tok == "" {
		t.Fatalf("Save = %q %q %v", loc, tok, err)
	}
	path := strings.TrimPrefix(loc, "https://sb.test")
	get := func(token string) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		s.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, body := get(tok); code != 200 || body != "RIFFdata" {
		t.Fatalf("with the token: %d %q", code, body)
	}
	for _, bad := range []string{"", "wrong", tok + "x"} {
		if code, _ := get(bad); code != http.StatusNotFound {
			t.Fatalf("token %q: %d", bad, code)
		}
	}
	now = now.Add(2 * time.Hour)
	if code, _ := get(tok); code != http.StatusNotFound {
		t.Fatal("served after expiry")
	}
	if n := s.Sweep(); n != 1 {
		t.Fatalf("Sweep removed %d", n)
	}
}
