package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// scrapeMetrics fetches /metrics from the metrics listener and parses it
// with the Prometheus text parser.
func scrapeMetrics(t *testing.T, a *app.App) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + a.Addr("metrics") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("scrape: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// metric returns the value of the counter or gauge of family name whose
// labels include labels, failing the test when there is none.
func metric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no %s with %v among %v", name, labels, f.GetMetric())
	return 0
}

// TestMetricsAfterACall creates a call through the Graph API, then reads
// what /metrics says about it.
func TestMetricsAfterACall(t *testing.T) {
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", t.TempDir()
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.Simulation.AnswerDelay = 0
	a := start2(t, cfg)
	base := "http://" + a.Addr("http")
	tok := token(t, http.DefaultClient, base)
	h, hookURL := newHook(t)

	r := call(t, "POST", base+"/v1.0/communications/calls", tok, p2pBody(hookURL+"/cb"))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	// Notifications of a call go one at a time: once "established" (seq 2)
	// has arrived, the delivery of seq 1 has been counted.
	h.waitFor(t, "established", has(`"state":"established"`))
	if r := call(t, "POST", base+"/v1.0/communications/calls/"+created.ID+"/keepAlive", tok, ""); r.status != 200 {
		t.Fatalf("keepAlive: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/v1.0/communications/calls/"+created.ID+"/nothing/here", tok, ""); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}

	fams := scrapeMetrics(t, a)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"switchboard_http_requests_total", []string{"route", "/communications/calls", "method", "POST", "code", "201"}, 1},
		{"switchboard_http_requests_total", []string{"route", "/communications/calls/{id}/keepAlive", "method", "POST", "code", "200"}, 1},
		{"switchboard_http_requests_total", []string{"route", "other", "method", "GET", "code", "404"}, 1},
		{"switchboard_http_requests_total", []string{"route", "/{tenant}/oauth2/v2.0/token", "method", "POST", "code", "200"}, 1},
		{"switchboard_http_request_duration_seconds", []string{"route", "/communications/calls", "method", "POST"}, 1},
		{"switchboard_calls", []string{"state", "established"}, 1},
		{"switchboard_calls", []string{"state", "establishing"}, 0},
		{"switchboard_calls_created_total", []string{"direction", "outgoing"}, 1},
		{"switchboard_calls_answered_total", []string{"direction", "outgoing"}, 1},
		{"switchboard_build_info", []string{"version", app.Version}, 1},
	} {
		if got := metric(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		min  float64
	}{
		{"switchboard_notifications_delivered_total", 1},
		{"switchboard_notifications_delivery_seconds", 1},
		{"switchboard_store_commit_seconds", 1},
		{"switchboard_store_batch_size", 1},
		{"switchboard_notifications_outbox_depth", 0},
		{"switchboard_notifications_retried_total", 0},
		{"switchboard_notifications_given_up_total", 0},
		{"switchboard_media_rooms", 0},
		{"switchboard_media_awake_rooms", 0},
		{"switchboard_media_legs", 0},
		{"switchboard_media_frames_total", 0},
		{"switchboard_media_room_ticks_total", 0},
		{"switchboard_media_skipped_frames_total", 0},
		{"switchboard_media_tick_lag_seconds", 0},
		{"switchboard_media_tick_lag_seconds_total", 0},
		{"go_goroutines", 1},
		{"process_cpu_seconds_total", 0},
	} {
		if got := metric(t, fams, c.name); got < c.min {
			t.Errorf("%s = %v, want at least %v", c.name, got, c.min)
		}
	}
	// Paths with ids add no label values: one series per route.
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), created.ID) {
					t.Errorf("%s has a label with the call id: %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}

	if r := call(t, "DELETE", base+"/v1.0/communications/calls/"+created.ID, tok, ""); r.status != 204 {
		t.Fatalf("hang up: %d %s", r.status, r.body)
	}
	h.waitFor(t, "terminated", has(`"state":"terminated"`))
	fams = scrapeMetrics(t, a)
	if got := metric(t, fams, "switchboard_calls_ended_total", "code", "200", "subcode", "5001"); got != 1 {
		t.Errorf("calls ended 200/5001 = %v, want 1", got)
	}
	if got := metric(t, fams, "switchboard_calls", "state", "established"); got != 0 {
		t.Errorf("established calls after hang-up = %v, want 0", got)
	}
	if got := metric(t, fams, "switchboard_http_requests_total", "route", "/communications/calls/{id}", "method", "DELETE", "code", "204"); got != 1 {
		t.Errorf("DELETE requests = %v, want 1", got)
	}

	// The main listener serves neither metrics nor profiles.
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Errorf("the main listener serves %s", p)
		}
	}
}

func TestProfilingListener(t *testing.T) {
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", t.TempDir()
	cfg.PprofListen = "127.0.0.1:0"
	a := start2(t, cfg)
	if a.Addr("metrics") != "" {
		t.Errorf("metrics served without --metrics-listen, at %s", a.Addr("metrics"))
	}
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/pprof/heap?debug=1": "heap profile"} {
		res, err := http.Get("http://" + a.Addr("pprof") + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s: %d, no %q in the body", path, res.StatusCode, want)
		}
	}
}

func TestTelemetryConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*app.Config)
		want string // "" means valid
	}{
		{"defaults: both off", func(c *app.Config) {}, ""},
		{"pprof on IPv4 loopback", func(c *app.Config) { c.PprofListen = "127.0.0.1:6060" }, ""},
		{"pprof on IPv6 loopback", func(c *app.Config) { c.PprofListen = "[::1]:6060" }, ""},
		{"pprof on localhost", func(c *app.Config) { c.PprofListen = "localhost:6060" }, ""},
		{"pprof on every interface", func(c *app.Config) { c.PprofListen = ":6060" }, "loopback"},
		{"pprof on 0.0.0.0", func(c *app.Config) { c.PprofListen = "0.0.0.0:6060" }, "loopback"},
		{"pprof on a private address", func(c *app.Config) { c.PprofListen = "10.1.2.3:6060" }, "loopback"},
		{"pprof on a host name", func(c *app.Config) { c.PprofListen = "profiles.example:6060" }, "loopback"},
		{"pprof without a port", func(c *app.Config) { c.PprofListen = "127.0.0.1" }, "--pprof-listen"},
		{"metrics anywhere in production", func(c *app.Config) { c.Dev, c.ListenTLS, c.MetricsListen = false, "off", "0.0.0.0:8081" }, ""},
		{"metrics anywhere in development", func(c *app.Config) { c.MetricsListen = "0.0.0.0:8081" }, "--dev-allow-remote"},
		{"metrics without a port", func(c *app.Config) { c.MetricsListen = "metrics" }, "--metrics-listen"},
		{"json logs", func(c *app.Config) { c.LogFormat = "JSON" }, ""},
		{"xml logs", func(c *app.Config) { c.LogFormat = "xml" }, "log format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Defaults()
			tt.mod(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestJSONLogs(t *testing.T) {
	var buf bytes.Buffer
	cfg := app.Defaults()
	cfg.LogFormat = "json"
	app.NewLogger(&buf, cfg).Info("calls: created", "call_id", "c1", "tenant", "t1", "app", "a1")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q", buf.String())
	}
	if line["call_id"] != "c1" || line["tenant"] != "t1" || line["app"] != "a1" || line["msg"] != "calls: created" {
		t.Fatalf("logged %v", line)
	}
	buf.Reset()
	cfg.LogFormat, cfg.LogLevel = "text", "warn"
	l := app.NewLogger(&buf, cfg)
	l.Info("hidden")
	l.Warn("shown", "call_id", "c1")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "call_id=c1") {
		t.Fatalf("text logger wrote %q", got)
	}
}
