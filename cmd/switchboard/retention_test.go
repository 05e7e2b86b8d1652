package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// TestEndedCallRetentionFlag checks that --ended-call-retention follows the
// precedence of every flag: flag > environment > YAML file > default.
func TestEndedCallRetentionFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("calls:\n  endedRetention: 168h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(load bool, args ...string) time.Duration {
		t.Helper()
		cfg := app.Defaults()
		if load {
			if err := cfg.LoadFile(file); err != nil {
				t.Fatal(err)
			}
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var configPath string
		serveFlags(fs, &cfg, &configPath)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := durationsFromEnv(fs); err != nil {
			t.Fatal(err)
		}
		return time.Duration(cfg.Calls.EndedRetention)
	}
	check := func(name string, got, want time.Duration) {
		t.Helper()
		if got != want {
			t.Errorf("%s: retention %v, want %v", name, got, want)
		}
	}
	check("default", parse(false), app.DefaultEndedRetention)
	check("file", parse(true), 168*time.Hour)
	t.Setenv("SWITCHBOARD_ENDED_CALL_RETENTION", "1h30m")
	check("environment over file", parse(true), 90*time.Minute)
	check("flag over environment", parse(true, "--ended-call-retention", "0"), 0)
}

func TestEndedCallRetentionIsChecked(t *testing.T) {
	var out, errOut bytes.Buffer
	for args, want := range map[string]string{
		"--ended-call-retention soon": "ended-call-retention",
		"--ended-call-retention -1h":  "must not be negative",
	} {
		err := run(append([]string{"serve"}, strings.Fields(args)...), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve %s: %v, want an error mentioning %q", args, err, want)
		}
	}
	t.Setenv("SWITCHBOARD_ENDED_CALL_RETENTION", "a while")
	if err := run([]string{"serve"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_ENDED_CALL_RETENTION") {
		t.Errorf("malformed environment value: %v, want an error naming SWITCHBOARD_ENDED_CALL_RETENTION", err)
	}
}
