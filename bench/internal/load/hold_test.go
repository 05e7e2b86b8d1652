package load

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	const status = "Name:\tswitchboard\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 2351232 kB\nVmSize:\t 2351232 kB\nVmHWM:\t  181244 kB\nVmRSS:\t  150012 kB\nRssAnon:\t  140000 kB\nThreads:\t12\n"
	tests := []struct {
		name    string
		status  string
		want    procMem
		wantErr bool
	}{
		{"process", status, procMem{rss: 150012 << 10, hwm: 181244 << 10}, false},
		{"kernel thread, no memory lines", "Name:\tkthreadd\nState:\tS (sleeping)\n", procMem{}, true},
		{"VmHWM missing", "VmRSS:\t 1 kB\n", procMem{}, true},
		{"not in kB", "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", procMem{}, true},
		{"not a number", "VmHWM:\t x kB\nVmRSS:\t 1 kB\n", procMem{}, true},
		{"too big for bytes", "VmHWM:\t 9223372036854775807 kB\nVmRSS:\t 1 kB\n", procMem{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tt.status))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatus = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	m := memory(procMem{rss: 100e6}, procMem{rss: 150012 << 10, hwm: 181244 << 10})
	if want := (Memory{RSSStart: 100, RSS: 153.612, Peak: 185.594}); *m != want {
		t.Errorf("memory = %+v, want %+v", *m, want)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil {
		if m, err := readMem(os.Getpid()); err != nil || m.rss <= 0 || m.hwm < m.rss {
			t.Errorf("readMem(self) = %+v, %v", m, err)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("VmHWM:\t 2 kB\nVmRSS:\t 1 kB\n"))
	f.Add([]byte("Name:\tkthreadd\n"))
	f.Add([]byte("VmRSS:\t-1 kB\nVmHWM: 1 kB\n"))
	f.Add([]byte("VmRSS:\t1 kB\nVmHWM: 9223372036854775807 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseStatus(b)
		if err == nil && (m.rss < 0 || m.hwm < 0) {
			t.Errorf("parseStatus(%q) = %+v", b, m)
		}
	})
}

func TestToneWAV(t *testing.T) {
	b := toneWAV(1500 * time.Millisecond)
	le := binary.LittleEndian
	if string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("header % x", b[:44])
	}
	const n = 24000 // 1.5 s at 16 kHz
	for _, f := range []struct {
		name      string
		got, want uint32
	}{
		{"RIFF size", le.Uint32(b[4:]), uint32(len(b) - 8)},
		{"fmt size", le.Uint32(b[16:]), 16},
		{"format", uint32(le.Uint16(b[20:])), 1},
		{"channels", uint32(le.Uint16(b[22:])), 1},
		{"rate", le.Uint32(b[24:]), 16000},
		{"byte rate", le.Uint32(b[28:]), 32000},
		{"block align", uint32(le.Uint16(b[32:])), 2},
		{"bits", uint32(le.Uint16(b[34:])), 16},
		{"data size", le.Uint32(b[40:]), 2 * n},
		{"file size", uint32(len(b)), 44 + 2*n},
	} {
		if f.got != f.want {
			t.Errorf("%s = %d, want %d", f.name, f.got, f.want)
		}
	}
	// A tone, not silence, and never clipped.
	var peak int16
	var crossings int
	prev := int16(0)
	for i := 44; i+1 < len(b); i += 2 {
		s := int16(le.Uint16(b[i:]))
		peak = max(peak, s, -s)
		if prev < 0 && s >= 0 {
			crossings++
		}
		prev = s
	}
	if want := int16(math.Round(promptPeak * math.MaxInt16)); peak < want-1 || peak > want+1 {
		t.Errorf("peak %d, want about %d", peak, want)
	}
	if want := promptHz * 3 / 2; crossings < want-1 || crossings > want+1 {
		t.Errorf("%d upward zero crossings in 1.5 s, want about %d (%d Hz)", crossings, want, promptHz)
	}
}

func TestReceiverServesPrompt(t *testing.T) {
	wav := toneWAV(100 * time.Millisecond)
	rcv, err := startReceiver("127.0.0.1:0", true, wav)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.shutdown(t.Context()) })
	resp, err := http.Get(rcv.promptURI)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, wav) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("GET prompt: %d %q, %d bytes (want %d), %v", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), len(wav), err)
	}
	select {
	case <-rcv.fetched:
	default:
		t.Error("fetched not closed after a fetch")
	}
	if n := rcv.promptFetches.Load(); n != 1 {
		t.Errorf("prompt fetches %d, want 1", n)
	}
	if n := rcv.callbacks.Load(); n != 0 {
		t.Errorf("a prompt fetch counted as %d callbacks", n)
	}
}

func TestReceiverCountsOperations(t *testing.T) {
	rcv, err := startReceiver("127.0.0.1:0", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.shutdown(t.Context()) })
	for _, body := range []string{
		`{"value":[{"resourceUrl":"/communications/calls/a","resourceData":{"@odata.type":"#microsoft.graph.call","id":"a","state":"established"}}]}`,
		`{"value":[{"resourceUrl":"/communications/calls/b","resourceData":{"@odata.type":"#microsoft.graph.call","state":"established"}}]}`,
		`{"value":[{"resourceData":{"@odata.type":"#microsoft.graph.recordOperation","status":"running"}}]}`,
		`{"value":[{"resourceData":{"@odata.type":"#microsoft.graph.recordOperation","status":"completed","resultInfo":{"code":200,"subcode":8515}}}]}`,
		`{"value":[{"resourceData":{"@odata.type":"#microsoft.graph.recordOperation","status":"failed","resultInfo":{"code":400,"subcode":8522,"message":"Action failed, the prompt could not be played."}}}]}`,
		`{"value":[{"resourceData":{"@odata.type":"#microsoft.graph.playPromptOperation","status":"failed"}}]}`,
	} {
		resp, err := http.Post(rcv.uri, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := rcv.waitCount(t.Context(), 2); n != 2 {
		t.Errorf("waitCount = %d, want 2", n)
	}
	if ended, failed := rcv.opsEnded.Load(), rcv.opsFailed.Load(); ended != 3 || failed != 2 {
		t.Errorf("operations ended %d, failed %d; want 3 and 2", ended, failed)
	}
	if want := "recordOperation failed: 400/8522 Action failed, the prompt could not be played."; rcv.failure() != want {
		t.Errorf("failure %q, want %q", rcv.failure(), want)
	}
}

func TestParseMetrics(t *testing.T) {
	before := `# HELP switchboard_media_skipped_frames_total 20 ms frames skipped.
# TYPE switchboard_media_skipped_frames_total counter
switchboard_media_skipped_frames_total 4
# TYPE switchboard_media_frames_total counter
switchboard_media_frames_total 1000
# TYPE switchboard_media_room_ticks_total counter
switchboard_media_room_ticks_total 5000
# TYPE switchboard_media_tick_lag_seconds_total counter
switchboard_media_tick_lag_seconds_total 1.5
# TYPE switchboard_calls gauge
switchboard_calls{state="established"} 10
`
	after := strings.NewReplacer("skipped_frames_total 4", "skipped_frames_total 7", "frames_total 1000", "frames_total 1500",
		"ticks_total 5000", "ticks_total 55000", "seconds_total 1.5", "seconds_total 2").Replace(before) +
		"# TYPE switchboard_media_tick_lag_seconds gauge\nswitchboard_media_tick_lag_seconds 0.0025\n" +
		"# TYPE switchboard_media_rooms gauge\nswitchboard_media_rooms 100\n# TYPE switchboard_media_awake_rooms gauge\nswitchboard_media_awake_rooms 100\n"
	a, err := parseMetrics(strings.NewReader(before))
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseMetrics(strings.NewReader(after))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a["switchboard_calls"]; ok {
		t.Error("a labelled family was taken for a single value")
	}
	e := engine(a, b)
	if e == nil {
		t.Fatal("engine = nil")
	}
	for _, f := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"skipped", e.SkippedFrames, 3}, {"frames", e.Frames, 500}, {"room ticks", e.RoomTicks, 50000},
		{"mean lag ms", e.MeanLag, 1}, {"last lag ms", e.LastLag, 2.5}, {"rooms", e.Rooms, 100}, {"awake", e.AwakeRooms, 100},
	} {
		if f.got == nil || *f.got != f.want {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if e := engine(scrape{"go_goroutines": 10}, scrape{"go_goroutines": 12}); e != nil {
		t.Errorf("engine without engine families = %+v, want nil", e)
	}
	if _, err := parseMetrics(strings.NewReader("switchboard_media_rooms{ 1\n")); err == nil {
		t.Error("parseMetrics accepted a malformed line")
	}
}

func f64(v float64) *float64 { return &v }

func TestHeldVerdicts(t *testing.T) {
	cpu := func(server float64) *CPUUsage { return &CPUUsage{Cores: 2, Server: server} }
	idle := func(calls, est int, server, rss float64) *Result {
		return &Result{Label: "idle", Mode: ModeIdle, CPU: cpu(server), Held: &Held{Calls: calls, Established: est, Memory: &Memory{RSS: rss}}}
	}
	media := func(calls, started int, ended int64, server float64, skipped *float64) *Result {
		h := &Held{Calls: calls, Established: calls, Operation: operationName, Started: started, Ended: ended, EngineNote: "no -metrics URL"}
		if skipped != nil {
			h.Engine, h.EngineNote = &Engine{SkippedFrames: skipped}, ""
		}
		return &Result{Label: "media", Mode: ModeMedia, CPU: cpu(server), Held: h}
	}
	tests := []struct {
		name string
		r    *Result
		want string
	}{
		{"idle met", idle(10000, 10000, 1.2, 150), "10000 established calls, server 1.2% of a core (target < 5%), RSS 150.0 MB (target < 200 MB): MET"},
		{"idle CPU missed", idle(10000, 10000, 5, 150), ": MISSED (CPU)"},
		{"idle both missed", idle(10000, 10000, 30, 5300), ": MISSED (CPU, RSS)"},
		{"idle missed with fewer calls", idle(500, 500, 17, 100), ": MISSED (CPU), already with 500 of the target's 10000 calls"},
		{"idle fewer calls", idle(500, 500, 0.3, 40), ": NOT SHOWN: 500 calls, the target is for 10000"},
		{"idle not all established", idle(10000, 9000, 1, 150), ": NOT SHOWN: 1000 of 10000 calls were not established; 9000 calls, the target is for 10000"},
		{"idle without CPU", &Result{Mode: ModeIdle, Held: &Held{Calls: 10000, Established: 10000, Memory: &Memory{RSS: 1}}}, ": NOT SHOWN: no CPU figures"},
		{"media met", media(1000, 1000, 0, 45, f64(0)), "1000 calls with a recordResponse running, 0 skipped frames (target 0), server 45% of a core (target < 100%): MET"},
		{"media skipped frames", media(1000, 1000, 0, 45, f64(12)), ": MISSED (real time)"},
		{"media CPU", media(1000, 1000, 0, 100, f64(0)), ": MISSED (CPU)"},
		{"media without metrics", media(1000, 1000, 0, 45, nil), "skipped frames unknown, server 45% of a core (target < 100%): NOT SHOWN: no engine metrics (no -metrics URL): CPU only"},
		{"media without metrics, CPU missed", media(1000, 1000, 0, 180, nil), ": MISSED (CPU)"},
		{"media operations ended", media(1000, 1000, 10, 45, f64(0)), "990 calls with a recordResponse running, 0 skipped frames (target 0), server 45% of a core (target < 100%): NOT SHOWN: 10 operations ended before the window closed; 990 calls, the target is for 1000"},
		{"media fewer calls", media(50, 50, 0, 3, f64(0)), ": NOT SHOWN: 50 calls, the target is for 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if tt.r.Mode == ModeIdle {
				got = idleVerdict(tt.r)
			} else {
				got = mediaVerdict(tt.r)
			}
			if !strings.HasSuffix(got, tt.want) {
				t.Errorf("verdict\n  %s\nwant it to end with\n  %s", got, tt.want)
			}
		})
	}
}

func TestReportHeld(t *testing.T) {
	results := []*Result{
		{Label: "idle", Mode: ModeIdle, Concurrency: 64, CPU: &CPUUsage{Cores: 2, Server: 0.4},
			Held: &Held{Calls: 10000, Established: 10000, Memory: &Memory{RSSStart: 120, RSS: 121, Peak: 180}, EngineNote: "no -metrics URL"}},
		{Label: "media", Mode: ModeMedia, Concurrency: 64, CPU: &CPUUsage{Cores: 2, Server: 40},
			Held: &Held{Calls: 1000, Established: 1000, Operation: operationName, Prompt: 7, Started: 1000,
				Engine: &Engine{SkippedFrames: f64(0), MeanLag: f64(0.5)}}},
	}
	var out bytes.Buffer
	Report(&out, results)
	for _, want := range []string{
		"n=10000", "↳ memory:     server RSS 121.0 MB at the end of the window (+1.0 MB during it), peak 180.0 MB",
		"↳ engine:     no figures: no -metrics URL", "↳ engine:     0 skipped frames, tick lag mean 0.500 ms",
		"1000/1000 recordResponse started (a 7 s prompt, then a recorder of up to 120 s)",
		"idle calls (idle): 10000 established calls, server 0.4% of a core (target < 5%), RSS 121.0 MB (target < 200 MB): MET",
		"media load (media): 1000 calls with a recordResponse running, 0 skipped frames (target 0), server 40% of a core (target < 100%): MET",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestHold runs idle and media mode end to end against fakeGraph, with
// sbload's own process standing in for the server's.
func TestHold(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	for _, mode := range []Mode{ModeIdle, ModeMedia} {
		t.Run(string(mode), func(t *testing.T) {
			srv := fakeGraph(t)
			cfg := quick(mode, srv.URL)
			cfg.Token, cfg.ServerPIDs, cfg.MetricsURL = NoToken, []int{os.Getpid()}, srv.URL+"/metrics"
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := res.Held
			if h == nil || h.Calls != 10 || h.Established != 10 || h.Memory == nil || h.Memory.RSS <= 0 || h.Engine == nil || res.Errors != nil {
				t.Fatalf("held %+v, errors %v", h, res.Errors)
			}
			if e := h.Engine; e.SkippedFrames == nil || *e.SkippedFrames != 0 || e.Frames == nil || *e.Frames != 50 {
				t.Errorf("engine %s, want 0 skipped and 50 frames between two scrapes", e)
			}
			if mode == ModeMedia && (h.Started != 10 || h.PromptFetches != 10 || h.Operation != operationName || h.Prompt <= 0) {
				t.Errorf("media: %+v; want 10 operations started and the prompt fetched by each", h)
			}
			if mode == ModeIdle && (h.Started != 0 || h.PromptFetches != 0) {
				t.Errorf("idle: %+v; want no media", h)
			}
		})
	}
	cfg := quick(ModeIdle, "http://127.0.0.1:9")
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "-server-pid") {
		t.Errorf("idle mode without a server pid: %v", err)
	}
}
