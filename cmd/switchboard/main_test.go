package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
