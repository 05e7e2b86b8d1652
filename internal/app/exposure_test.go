package app_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// TestDevModeListensOnLoopbackOnly: development mode serves well-known
// credentials that hold every role, so each of its listeners must be on
// loopback unless --dev-allow-remote says otherwise.
func TestDevModeListensOnLoopbackOnly(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*app.Config)
		want string // "" means valid
	}{
		{"defaults", func(c *app.Config) {}, ""},
		{"IPv4 loopback", func(c *app.Config) { c.Listen, c.ListenTLS = "127.0.0.1:8080", "127.9.9.9:8443" }, ""},
		{"IPv6 loopback", func(c *app.Config) { c.Listen = "[::1]:8080" }, ""},
		{"localhost", func(c *app.Config) { c.Listen, c.MetricsListen = "localhost:8080", "LOCALHOST:8081" }, ""},
		{"every interface, empty host", func(c *app.Config) { c.Listen = ":8080" }, "--listen"},
		{"0.0.0.0", func(c *app.Config) { c.Listen = "0.0.0.0:8080" }, "--listen"},
		{"[::]", func(c *app.Config) { c.Listen = "[::]:8080" }, "--listen"},
		{"a private address", func(c *app.Config) { c.Listen = "10.0.0.5:8080" }, "--listen"},
		{"a host name", func(c *app.Config) { c.Listen = "switchboard.example:8080" }, "--listen"},
		{"TLS on every interface", func(c *app.Config) { c.ListenTLS = "0.0.0.0:8443" }, "--listen-tls"},
		{"metrics on every interface", func(c *app.Config) { c.MetricsListen = ":8081" }, "--metrics-listen"},
		{"no port", func(c *app.Config) { c.Listen = "127.0.0.1" }, "--listen"},
		{"allowed remote", func(c *app.Config) {
			c.Listen, c.ListenTLS, c.MetricsListen, c.DevAllowRemote = "0.0.0.0:8080", "[::]:8443", ":8081", true
		}, ""},
		{"allowed remote keeps pprof on loopback", func(c *app.Config) { c.PprofListen, c.DevAllowRemote = "0.0.0.0:6060", true }, "--pprof-listen"},
		{"production may listen anywhere", func(c *app.Config) {
			c.Dev, c.Listen, c.ListenTLS, c.MetricsListen = false, "0.0.0.0:8080", "off", ":8081"
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Defaults()
			tt.mod(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate = nil, want an error mentioning %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tt.want)
			case tt.want != "" && tt.want != "--pprof-listen" && !strings.Contains(err.Error(), "--dev-allow-remote"):
				t.Fatalf("Validate = %v, want the error to name --dev-allow-remote", err)
			}
		})
	}
}

// TestDevAllowRemoteWarns: the server says loudly, at WARN, that its
// development credentials may be reachable.
func TestDevAllowRemoteWarns(t *testing.T) {
	var buf bytes.Buffer
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir, cfg.DevAllowRemote = "127.0.0.1:0", "off", t.TempDir(), true
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop(t, a)
	var warned bool
	for line := range strings.Lines(buf.String()) {
		warned = warned || strings.Contains(line, "level=WARN") && strings.Contains(line, "--dev-allow-remote")
	}
	if !warned {
		t.Fatalf("no WARN naming --dev-allow-remote in the log:\n%s", buf.String())
	}
}

// TestDataDirOthersCanWriteIsRefused: whoever can write to the data
// directory can replace the database and its signing keys, so the server
// refuses such a directory, naming it and the fix; a new one is 0700.
func TestDataDirOthersCanWriteIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		cfg := app.Defaults()
		cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", dir
		a, err := app.New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		err = a.Start(t.Context())
		if err == nil {
			stop(t, a)
			t.Fatalf("mode %o: started", mode)
		}
		if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "chmod 700") {
			t.Fatalf("mode %o: %v, want the directory and the fix named", mode, err)
		}
		if _, err := os.Stat(filepath.Join(dir, app.DatabaseFile)); err == nil {
			t.Fatalf("mode %o: a database was created in the refused directory", mode)
		}
	}

	// Readable by others is not writable: allowed (the files in it are
	// 0600). A missing directory is created 0700.
	readable := t.TempDir()
	if err := os.Chmod(readable, 0o755); err != nil {
		t.Fatal(err)
	}
	a := start(t, filepath.Join(readable, "new"))
	stop(t, a)
	fi, err := os.Stat(filepath.Join(readable, "new"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("new data directory: %v %v, want mode 700", fi.Mode().Perm(), err)
	}
	db, err := os.Stat(filepath.Join(readable, "new", app.DatabaseFile))
	if err != nil || db.Mode().Perm() != 0o600 {
		t.Fatalf("database: %v %v, want mode 600", db.Mode().Perm(), err)
	}
}
