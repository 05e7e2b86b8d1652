package recordings

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// TestFilesArePrivate: recordings are callers' voices; the directory and
// every file are the owner's alone, also when the directory existed with a
// looser mode.
func TestFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := New(dir, func() string { return "https://sb.test" }, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Save(context.Background(), "t", "a", "c", "o", []byte("RIFFdata")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("directory has mode %o, want 700", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %v, %v: want a .wav and a .json", entries, err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %o, want 600", e.Name(), got)
		}
	}
}
