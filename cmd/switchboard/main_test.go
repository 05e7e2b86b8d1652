package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func TestHelpExplainsFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"help", "serve"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "help") {
		t.Fatalf("help serve: %v", err)
	}
	help := errOut.String()
	for _, want := range []string{"--listen", "--listen-tls", "--tls-cert", "--data", "--dev", "--config", "SWITCHBOARD_LISTEN", "switchboard-dev-secret", "127.0.0.1:8080"} {
		if !strings.Contains(help, strings.TrimPrefix(want, "-")) {
			t.Errorf("serve --help does not mention %s", want)
		}
	}
}

func TestCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"version"}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "switchboard ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run([]string{"fly"}, &out, &errOut); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run(nil, &out, &errOut); err == nil {
		t.Fatal("no command accepted")
	}
	if err := run([]string{"serve", "--listen", "off", "--listen-tls", "off"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "no listener") {
		t.Fatalf("serve without listeners: %v", err)
	}
	if err := run([]string{"serve", "extra"}, &out, &errOut); err == nil {
		t.Fatal("stray argument accepted")
	}
}

func TestEnvironmentAndConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgFile, []byte("logLevel: shout\n"), 0o600)
	var out, errOut bytes.Buffer
	// The file's invalid log level reaches validation...
	if err := run([]string{"serve", "--config", cfgFile}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "shout") {
		t.Fatalf("config file not read: %v", err)
	}
	// ...the environment overrides the file, and a flag overrides both.
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "whisper")
	if err := run([]string{"serve", "--config", cfgFile}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "whisper") {
		t.Fatalf("environment does not override the file: %v", err)
	}
	if err := run([]string{"serve", "--config=" + cfgFile, "--log-level", "mumble"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "mumble") {
		t.Fatalf("flag does not override the environment: %v", err)
	}
}

func TestDevCert(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"dev-cert", "--data", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "BEGIN CERTIFICATE") {
		t.Fatalf("dev-cert printed %q", out.String())
	}
	file := filepath.Join(dir, "ca.pem")
	if err := run([]string{"dev-cert", "--data", dir, "--out", file}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); !bytes.Contains(out.Bytes(), b) {
		t.Fatal("--out wrote a different CA")
	}
}

// TestDevServerStaysOnLoopback: serve refuses, before binding anything, a
// development server on a non-loopback address unless --dev-allow-remote
// (or its environment variable) is given, and says so in its help.
func TestDevServerStaysOnLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	// Should the check be missed, Start fails on this data "directory"
	// rather than serve on every interface until the test times out.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--listen", "0.0.0.0:0", "--listen-tls", "off"},
		{"serve", "--listen", ":0", "--listen-tls", "off"},
		{"serve", "--listen", "127.0.0.1:0", "--listen-tls", "[::]:0"},
	} {
		err := run(append(args, "--data", notDir), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--dev-allow-remote") {
			t.Errorf("%v: %v, want a refusal naming --dev-allow-remote", args, err)
		}
	}
	parse := func(args ...string) app.Config {
		cfg := app.Defaults()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var configPath string
		serveFlags(fs, &cfg, &configPath)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if parse().DevAllowRemote {
		t.Error("--dev-allow-remote is on by default")
	}
	if !parse("--dev-allow-remote").DevAllowRemote {
		t.Error("--dev-allow-remote not parsed")
	}
	t.Setenv("SWITCHBOARD_DEV_ALLOW_REMOTE", "true")
	if !parse().DevAllowRemote {
		t.Error("SWITCHBOARD_DEV_ALLOW_REMOTE not read")
	}
	run([]string{"help", "serve"}, &out, &errOut)
	if !strings.Contains(errOut.String(), "dev-allow-remote") || !strings.Contains(errOut.String(), "loopback only") {
		t.Error("serve --help does not explain --dev-allow-remote")
	}
}

// TestDataDirOthersCanWriteIsRefusedByCommands: apps and dev-cert open
// the server's data directory with the server's rule.
func TestDataDirOthersCanWriteIsRefusedByCommands(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	for _, args := range [][]string{
		{"dev-cert", "--data", dir},
		{"apps", "create", "--data", dir, "--tenant", "contoso.example", "--name", "x", "--roles", "Calls.Initiate.All"},
	} {
		if err := run(args, &out, &errOut); err == nil || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("%v: %v, want a refusal naming chmod 700", args[0], err)
		}
	}
}
