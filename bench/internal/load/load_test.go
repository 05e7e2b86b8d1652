package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/bench/internal/baseline"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		sample []time.Duration
		want   Percentiles
	}{
		{"empty", nil, Percentiles{}},
		{"one", []time.Duration{3 * time.Millisecond}, Percentiles{N: 1, P50: 3, P95: 3, P99: 3, Max: 3, Mean: 3, Min: 3}},
		{"hundred, unsorted", func() []time.Duration {
			var s []time.Duration
			for i := 100; i >= 1; i-- {
				s = append(s, time.Duration(i)*time.Millisecond)
			}
			return s
		}(), Percentiles{N: 100, P50: 50, P95: 95, P99: 99, Max: 100, Mean: 50.5, Min: 1}},
		{"negative kept", []time.Duration{-time.Millisecond, time.Millisecond}, Percentiles{N: 2, P50: -1, P95: 1, P99: 1, Max: 1, Mean: 0, Min: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.sample); got != tt.want {
				t.Errorf("Summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeCreate, ModeGet, ModeList, ModeEstablished, ModeIdle, ModeMedia, ModeSIPOut} {
		if got, err := ParseMode(strings.ToUpper(string(m))); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMode("delete"); err == nil {
		t.Error("ParseMode(delete) succeeded")
	}
}

func quick(mode Mode, target string) Config {
	cfg := Defaults()
	cfg.Mode, cfg.Target = mode, target
	cfg.Concurrency, cfg.Warmup, cfg.Duration, cfg.Calls = 2, 0, 100*time.Millisecond, 10
	return cfg
}

// TestGetAgainstBaseline runs get mode end to end: token, pre-creation and
// the measured loop all go through the baseline's handlers.
func TestGetAgainstBaseline(t *testing.T) {
	srv := httptest.NewServer(baseline.New().Handler())
	t.Cleanup(srv.Close)
	res, err := Run(t.Context(), quick(ModeGet, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.OK != res.Requests || res.Errors != nil {
		t.Errorf("requests %d, ok %d, errors %v; want all ok", res.Requests, res.OK, res.Errors)
	}
	if res.Setup != "created 10 calls" || res.Latency.N != int(res.Requests) || res.BytesPerResponse < 600 {
		t.Errorf("result %+v", res)
	}
	var line bytes.Buffer
	if err := json.NewEncoder(&line).Encode(res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(strings.NewReader("not json\n" + line.String()))
	if err != nil || len(back) != 1 || back[0].OK != res.OK {
		t.Fatalf("ReadResults = %v, %v", back, err)
	}
}

func TestErrorsCountedByStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			w.Write([]byte(`{"access_token":"t"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer t" {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	res, err := Run(t.Context(), quick(ModeList, srv.URL))
	if err == nil {
		t.Fatalf("list against a 503 server: got %+v, want an error from the first page", res)
	}
	cfg := quick(ModeCreate, srv.URL)
	cfg.CallbackURI = "http://127.0.0.1:9/callback"
	res, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors["503"] != res.Requests || res.Requests == 0 {
		t.Errorf("ok %d, errors %v, requests %d; want every request a 503", res.OK, res.Errors, res.Requests)
	}
}

// flakyCallee is a user to whom fakeGraph fails every fifth call.
const flakyCallee = "flaky"

// fakeGraph answers creates with 201 and then posts "establishing" and
// "established" notifications to the call's callbackUri, like a zero-delay
// Switchboard. It answers a recordResponse once it has fetched the prompt,
// and serves media engine metrics at /metrics. Every fifth call to
// flakyCallee is notified as terminated instead of established.
func fakeGraph(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics":
			// The engine's families, moving between scrapes as a live
			// engine's do: 50 frames and one room's ticks per scrape.
			n := scrapes.Add(1)
			fmt.Fprintf(w, "# TYPE %s counter\n%s %d\n", metricFrames, metricFrames, 50*n)
			fmt.Fprintf(w, "# TYPE %s counter\n%s %d\n", metricRoomTicks, metricRoomTicks, 50*n)
			fmt.Fprintf(w, "# TYPE %s counter\n%s 0\n", metricSkipped, metricSkipped)
			fmt.Fprintf(w, "# TYPE %s counter\n%s %g\n", metricLagSum, metricLagSum, 0.05*float64(n))
			fmt.Fprintf(w, "# TYPE %s gauge\n%s 0.002\n", metricLag, metricLag)
			return
		case strings.HasSuffix(r.URL.Path, "/recordResponse"):
			// Fetch the prompt, as the server does before it plays it.
			var req struct {
				Prompts []struct {
					MediaInfo struct {
						URI string `json:"uri"`
					} `json:"mediaInfo"`
				} `json:"prompts"`
				MaxRecordDurationInSeconds int `json:"maxRecordDurationInSeconds"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Prompts) != 1 || req.MaxRecordDurationInSeconds != recordSeconds {
				t.Errorf("recordResponse body: %v, %+v", err, req)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			resp, err := http.Get(req.Prompts[0].MediaInfo.URI)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("prompt fetch: %v, %v", err, resp)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			w.Write([]byte(`{"@odata.type":"#microsoft.graph.recordOperation","status":"running"}`))
			return
		}
		var spec struct {
			CallbackURI string `json:"callbackUri"`
			Targets     []struct {
				Identity struct {
					User struct {
						ID string `json:"id"`
					} `json:"user"`
				} `json:"identity"`
			} `json:"targets"`
		}
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil || spec.CallbackURI == "" {
			t.Errorf("create body: %v, callbackUri %q", err, spec.CallbackURI)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		seq := n.Add(1)
		id := fmt.Sprintf("call-%d", seq)
		states := []string{"establishing", "established"}
		if len(spec.Targets) == 1 && spec.Targets[0].Identity.User.ID == flakyCallee && seq%5 == 0 {
			// Every fifth call to the flaky callee fails, as a busy phone's.
			states = []string{"establishing", "terminated"}
		}
		w.Header().Set("Location", "http://"+r.Host+"/v1.0/communications/calls/"+id)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q,"state":"establishing"}`, id)
		go func() {
			for _, state := range states {
				body := fmt.Sprintf(`{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/%s","resourceData":{"id":%q,"state":%q}}]}`, id, id, state)
				if state == "terminated" {
					body = fmt.Sprintf(`{"value":[{"changeType":"deleted","resourceUrl":"/communications/calls/%s","resourceData":{"id":%q,"state":"terminated","resultInfo":{"code":486,"subcode":0,"message":"busy"}}}]}`, id, id)
				}
				resp, err := http.Post(spec.CallbackURI, "application/json", strings.NewReader(body))
				if err != nil {
					return // the run is over
				}
				resp.Body.Close()
			}
		}()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEstablished(t *testing.T) {
	for _, rate := range []float64{0, 200} {
		t.Run(fmt.Sprintf("rate %v", rate), func(t *testing.T) {
			cfg := quick(ModeEstablished, fakeGraph(t).URL)
			cfg.Token, cfg.Rate = NoToken, rate
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			e := res.Established
			if e == nil || e.Created == 0 || e.Established != e.Created || e.Missing != 0 {
				t.Fatalf("established %+v; want every created call established (result %+v)", e, res)
			}
			if e.FromSend.N != e.Created || e.FromSend.Min < 0 || e.FromSend.P99 < e.From201.P99 {
				t.Errorf("from send %+v, from 201 %+v", e.FromSend, e.From201)
			}
			if res.Callbacks < int64(2*e.Created) {
				t.Errorf("callbacks %d for %d calls", res.Callbacks, e.Created)
			}
		})
	}
}

func TestReport(t *testing.T) {
	results := []*Result{
		{Label: LabelBaselineGet, Mode: ModeGet, Concurrency: 16, RPS: 10000},
		{Label: LabelGet, Mode: ModeGet, Concurrency: 16, RPS: 7500},
		{Label: "switchboard-create", Mode: ModeCreate, Concurrency: 32, RPS: 1500},
		{Label: "switchboard-list", Mode: ModeList, Concurrency: 4, RPS: 2500},
		{Label: "established", Mode: ModeEstablished, Rate: 200, Established: &EstablishedStats{
			Created: 10, Established: 10, From201: Percentiles{N: 10, P99: 4}, FromSend: Percentiles{N: 10, P99: 5}}},
	}
	var out bytes.Buffer
	Report(&out, results)
	for _, want := range []string{"0.750× (target ≥ 0.70×): MET", "1500 (target ≥ 2000): MISSED", "list pages/s (switchboard-list): 2500 (target ≥ 2000): MET", "4.000 ms from 201, 5.000 ms from send (target < 10 ms): MET"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUsage(t *testing.T) {
	a := cpuSample{busy: 100, total: 1000, irq: 5, self: 10, server: 50, ok: true, serverKnown: true}
	b := cpuSample{busy: 250, total: 1200, irq: 15, self: 30, server: 150, ok: true, serverKnown: true}
	// 200 ticks over 2 cores: 150 busy is 150% of one core, of which the
	// server took 100, sbload 20 and interrupts 10.
	want := CPUUsage{Cores: 2, Busy: 150, Server: 100, Loadgen: 20, Interrupts: 10, Other: 20}
	if got := usage(a, b, 2); got == nil || *got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
	// The SIP peer's 15 ticks come out of "other".
	a.peer, a.peerKnown, b.peer, b.peerKnown = 5, true, 20, true
	want.Peer, want.Other = 15, 5
	if got := usage(a, b, 2); got == nil || *got != want {
		t.Errorf("usage with a peer = %+v, want %+v", got, want)
	}
	if got := usage(cpuSample{}, b, 2); got != nil {
		t.Errorf("usage without a first sample = %+v, want nil", got)
	}
	// The database's 30 ticks too, and the server is two processes.
	a.db, a.dbKnown, b.db, b.dbKnown, b.servers = 10, true, 40, true, 2
	want.DB, want.Other, want.Servers = 30, 0, 2
	if got := usage(a, b, 2); got == nil || *got != want {
		t.Errorf("usage with a database = %+v, want %+v", got, want)
	}
	pid := os.Getpid()
	if s := sampleCPU([]int{pid, pid}, pid, pid); s.ok && (!s.serverKnown || !s.peerKnown || !s.dbKnown || s.servers != 2 || s.total <= 0 || s.server < s.peer || s.db < s.peer) {
		t.Errorf("sampleCPU(self) = %+v", s)
	}
	if s := sampleCPU([]int{pid, 1 << 30}, 0, 0); s.ok && s.serverKnown {
		t.Errorf("sampleCPU with a server process that does not exist = %+v, want the server unknown", s)
	}
}
