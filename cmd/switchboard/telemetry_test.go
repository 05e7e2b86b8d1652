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

// TestTelemetryFlags checks that --metrics-listen, --pprof-listen and
// --log-format follow the precedence of every flag: flag > environment >
// YAML file > default.
func TestTelemetryFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("metricsListen: 127.0.0.1:9001\npprofListen: 127.0.0.1:9002\nlogFormat: json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(load bool, args ...string) app.Config {
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
		return cfg
	}
	check := func(name string, cfg app.Config, metrics, pprof, format string) {
		t.Helper()
		if cfg.MetricsListen != metrics || cfg.PprofListen != pprof || cfg.LogFormat != format {
			t.Errorf("%s: metrics %q pprof %q format %q, want %q %q %q", name, cfg.MetricsListen, cfg.PprofListen, cfg.LogFormat, metrics, pprof, format)
		}
	}
	check("defaults", parse(false), "off", "off", "text")
	check("file", parse(true), "127.0.0.1:9001", "127.0.0.1:9002", "json")
	t.Setenv("SWITCHBOARD_METRICS_LISTEN", "127.0.0.1:9003")
	t.Setenv("SWITCHBOARD_LOG_FORMAT", "text")
	check("environment over file", parse(true), "127.0.0.1:9003", "127.0.0.1:9002", "text")
	check("flags over environment", parse(true, "--metrics-listen", "off", "--pprof-listen=[::1]:9004", "--log-format", "json"), "off", "[::1]:9004", "json")
}

func TestTelemetryFlagsAreChecked(t *testing.T) {
	for args, want := range map[string]string{
		"--pprof-listen 0.0.0.0:6060": "loopback",
		"--pprof-listen :6060":        "loopback",
		"--log-format xml":            "log format",
		"--metrics-listen 8081":       "--metrics-listen",
	} {
		var out, errOut bytes.Buffer
		err := run(append([]string{"serve"}, strings.Fields(args)...), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve %s: %v, want an error mentioning %q", args, err, want)
		}
	}
}

func TestHelpExplainsTelemetryFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	run([]string{"help", "serve"}, &out, &errOut)
	for _, want := range []string{"-metrics-listen", "-pprof-listen", "-log-format", "SWITCHBOARD_METRICS_LISTEN", "/metrics", "loopback only", "127.0.0.1:6060"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("serve --help does not mention %s", want)
		}
	}
}
