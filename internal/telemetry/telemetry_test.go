package telemetry_test

import (
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchboard-dev/switchboard/internal/telemetry"
)

// scrape fetches h's metrics and parses them with the Prometheus text
// parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels include want, or nil.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestFamiliesAndValues(t *testing.T) {
	m := telemetry.New(telemetry.Config{Version: "9.9.9", Sources: telemetry.Sources{
		CallsByState: func() map[string]int { return map[string]int{"establishing": 0, "established": 3} },
		OutboxDepth:  func() int { return 7 },
		Media: func() telemetry.MediaStats {
			return telemetry.MediaStats{
				Rooms: 2, AwakeRooms: 1, Legs: 5, Frames: 100, RoomTicks: 60, SkippedFrames: 4, Lag: 30 * time.Millisecond, LagSum: 2 * time.Second,
			}
		},
		SIP: func() telemetry.SIPStats {
			return telemetry.SIPStats{Dialogs: 3, RTPReceived: 500, RTPSent: 490, RTPLost: 2, RTPKeys: 4}
		},
	}})
	m.CallCreated("outgoing")
	m.CallCreated("outgoing")
	m.CallAnswered("outgoing")
	m.CallEnded(200, 5001)
	m.DeliveryResult(true, false, 3*time.Millisecond)
	m.DeliveryResult(true, false, -1) // a replay: counted, not timed
	m.DeliveryResult(false, false, 0)
	m.DeliveryResult(false, true, 0)
	m.StoreBatch(12, 2*time.Millisecond)

	fams := scrape(t, m.Handler())
	counter := func(name string, labels map[string]string) float64 {
		t.Helper()
		mt := find(fams, name, labels)
		if mt == nil {
			t.Fatalf("no %s%v", name, labels)
		}
		return mt.GetCounter().GetValue()
	}
	gauge := func(name string, labels map[string]string) float64 {
		t.Helper()
		mt := find(fams, name, labels)
		if mt == nil {
			t.Fatalf("no %s%v", name, labels)
		}
		return mt.GetGauge().GetValue()
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		got    func(string, map[string]string) float64
		want   float64
	}{
		{"switchboard_calls_created_total", map[string]string{"direction": "outgoing"}, counter, 2},
		{"switchboard_calls_answered_total", map[string]string{"direction": "outgoing"}, counter, 1},
		{"switchboard_calls_ended_total", map[string]string{"code": "200", "subcode": "5001"}, counter, 1},
		{"switchboard_notifications_delivered_total", nil, counter, 2},
		{"switchboard_notifications_retried_total", nil, counter, 1},
		{"switchboard_notifications_given_up_total", nil, counter, 1},
		{"switchboard_calls", map[string]string{"state": "established"}, gauge, 3},
		{"switchboard_calls", map[string]string{"state": "establishing"}, gauge, 0},
		{"switchboard_notifications_outbox_depth", nil, gauge, 7},
		{"switchboard_media_rooms", nil, gauge, 2},
		{"switchboard_media_legs", nil, gauge, 5},
		{"switchboard_media_awake_rooms", nil, gauge, 1},
		{"switchboard_media_frames_total", nil, counter, 100},
		{"switchboard_media_room_ticks_total", nil, counter, 60},
		{"switchboard_media_skipped_frames_total", nil, counter, 4},
		{"switchboard_media_tick_lag_seconds", nil, gauge, 0.03},
		{"switchboard_media_tick_lag_seconds_total", nil, counter, 2},
		{"switchboard_sip_dialogs", nil, gauge, 3},
		{"switchboard_sip_rtp_packets_received_total", nil, counter, 500},
		{"switchboard_sip_rtp_packets_sent_total", nil, counter, 490},
		{"switchboard_sip_rtp_packets_lost_total", nil, counter, 2},
		{"switchboard_sip_rtp_keys_total", nil, counter, 4},
		{"switchboard_build_info", map[string]string{"version": "9.9.9"}, gauge, 1},
	} {
		if got := c.got(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if h := find(fams, "switchboard_notifications_delivery_seconds", nil).GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.003 {
		t.Errorf("delivery latency: count %d sum %v, want the one non-replay", h.GetSampleCount(), h.GetSampleSum())
	}
	if h := find(fams, "switchboard_store_batch_size", nil).GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 12 {
		t.Errorf("batch size: count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
	if h := find(fams, "switchboard_store_commit_seconds", nil).GetHistogram(); h.GetSampleCount() != 1 {
		t.Errorf("commit latency: count %d", h.GetSampleCount())
	}
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "go_sched_latencies_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no runtime or process family %s", name)
		}
	}
}

func TestSourcesAreOptional(t *testing.T) {
	fams := scrape(t, telemetry.New(telemetry.Config{}).Handler())
	for _, name := range []string{"switchboard_calls", "switchboard_media_rooms", "switchboard_notifications_outbox_depth"} {
		if fams[name] != nil {
			t.Errorf("%s served without a source", name)
		}
	}
}

func TestNilMetricsRecordsNothing(t *testing.T) {
	var m *telemetry.Metrics
	m.CallCreated("outgoing")
	m.CallAnswered("incoming")
	m.CallEnded(200, 0)
	m.DeliveryResult(true, false, time.Second)
	m.StoreBatch(1, time.Second)
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if h := m.Instrument(func(*http.Request) string { return "" }, next); h == nil {
		t.Fatal("Instrument on nil returned nil")
	}
}

func TestInstrumentLabels(t *testing.T) {
	m := telemetry.New(telemetry.Config{})
	routes := telemetry.NewRouteTable("GET /things/{id}", "POST /things/{id}/poke")
	h := m.Instrument(routes.Route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST":
			w.WriteHeader(http.StatusAccepted)
		case strings.HasSuffix(r.URL.Path, "/teapot"):
			http.Error(w, "no", http.StatusTeapot)
		default:
			io.WriteString(w, "ok") // no WriteHeader: 200
		}
	}))
	for i, req := range []*http.Request{
		httptest.NewRequest("GET", "/things/1", nil),
		httptest.NewRequest("GET", "/things/2", nil),
		httptest.NewRequest("POST", "/things/3/poke", nil),
		httptest.NewRequest("GET", "/teapot", nil),
		httptest.NewRequest("GET", "/random/"+strconv.Itoa(99), nil),
		httptest.NewRequest("BREW", "/things/1", nil),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if i == 0 && rec.Body.String() != "ok" {
			t.Fatalf("the handler's body did not pass through: %q", rec.Body)
		}
	}
	fams := scrape(t, m.Handler())
	want := map[[3]string]float64{
		{"/things/{id}", "GET", "200"}:         2,
		{"/things/{id}/poke", "POST", "202"}:   1,
		{telemetry.OtherRoute, "GET", "418"}:   1,
		{telemetry.OtherRoute, "GET", "200"}:   1,
		{telemetry.OtherRoute, "other", "200"}: 1,
	}
	f := fams["switchboard_http_requests_total"]
	if f == nil || len(f.GetMetric()) != len(want) {
		t.Fatalf("requests: %v", f)
	}
	for k, v := range want {
		mt := find(fams, "switchboard_http_requests_total", map[string]string{"route": k[0], "method": k[1], "code": k[2]})
		if mt == nil || mt.GetCounter().GetValue() != v {
			t.Errorf("requests%v = %v, want %v", k, mt, v)
		}
	}
	if mt := find(fams, "switchboard_http_request_duration_seconds", map[string]string{"route": "/things/{id}", "method": "GET"}); mt == nil || mt.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("duration of GET /things/{id}: %v", mt)
	}
}

func TestProfileHandler(t *testing.T) {
	srv := httptest.NewServer(telemetry.ProfileHandler())
	defer srv.Close()
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/cmdline":           "telemetry",
		"/debug/pprof/goroutine?debug=1": "goroutine profile",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, body without %q", path, res.StatusCode, want)
		}
	}
	if res, err := http.Get(srv.URL + "/metrics"); err != nil || res.StatusCode != 404 {
		t.Errorf("the profile mux serves other paths: %v %v", res, err)
	}
}

// TestImportsNoInternalPackage enforces the rule of doc.go: telemetry is
// wired by internal/app and depends on no other internal package.
func TestImportsNoInternalPackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "switchboard/internal/") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
