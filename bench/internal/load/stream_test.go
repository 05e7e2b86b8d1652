package load

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/coder/websocket"
)

func TestStreamConfig(t *testing.T) {
	if m, err := ParseMode("Stream"); err != nil || m != ModeStream {
		t.Errorf("ParseMode(Stream) = %q, %v", m, err)
	}
	if DefaultCalls(ModeStream) != DefaultStreamCalls {
		t.Errorf("DefaultCalls(stream) = %d, want %d", DefaultCalls(ModeStream), DefaultStreamCalls)
	}
	cfg := quick(ModeStream, "http://127.0.0.1:9")
	cfg.ServerPIDs = []int{1}
	if err := cfg.validate(); err != nil || cfg.Probes != DefaultProbes {
		t.Errorf("validate: %v, probes %d; want no error and the default %d probes", err, cfg.Probes, DefaultProbes)
	}
	cfg = quick(ModeStream, "http://127.0.0.1:9")
	cfg.ServerPIDs, cfg.Probes = []int{1}, 0
	if err := cfg.validate(); err != nil || cfg.Probes != 0 {
		t.Errorf("validate with -probes 0: %v, probes %d; want none", err, cfg.Probes)
	}
	for _, tt := range []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{"no server pid", func(c *Config) { c.ServerPIDs = nil }, "-server-pid"},
		{"no calls", func(c *Config) { c.Calls = 0 }, "at least one call"},
		{"a callback URI", func(c *Config) { c.CallbackURI = "http://127.0.0.1:9/cb" }, "own callback receiver"},
		{"several targets", func(c *Config) { c.Target = "http://127.0.0.1:9,http://127.0.0.1:10" }, "one target"},
		{"a callee", func(c *Config) { c.Callee = "bob" }, "-callee is for sip-out and failover mode"},
		{"service-hosted in media mode", func(c *Config) { c.Mode = ModeMedia; c.ServiceHosted = true }, "-service-hosted is for stream mode"},
		{"probes in idle mode", func(c *Config) { c.Mode = ModeIdle; c.Probes = 2 }, "-probes is for stream mode"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quick(ModeStream, "http://127.0.0.1:9")
			cfg.ServerPIDs = []int{1}
			tt.edit(&cfg)
			if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("validate: %v, want an error with %q", err, tt.err)
			}
		})
	}
	// Other modes keep working with the default -probes.
	cfg = quick(ModeIdle, "http://127.0.0.1:9")
	cfg.ServerPIDs = []int{1}
	if err := cfg.validate(); err != nil {
		t.Errorf("idle mode with the default probes: %v", err)
	}
}

func TestCreateBodies(t *testing.T) {
	var v struct {
		MediaConfig map[string]string `json:"mediaConfig"`
	}
	if err := json.Unmarshal(appHostedBody("http://cb", "alice"), &v); err != nil {
		t.Fatal(err)
	}
	if v.MediaConfig["@odata.type"] != "#microsoft.graph.appHostedMediaConfig" || v.MediaConfig["blob"] != `{"switchboard":{}}` {
		t.Errorf("app-hosted mediaConfig %v", v.MediaConfig)
	}
	if err := json.Unmarshal(createBody("http://cb", "alice"), &v); err != nil {
		t.Fatal(err)
	}
	if v.MediaConfig["@odata.type"] != "#microsoft.graph.serviceHostedMediaConfig" {
		t.Errorf("service-hosted mediaConfig %v", v.MediaConfig)
	}
}

// pcmBytes is samples as 16-bit little-endian bytes.
func pcmBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestSpeechAndBurst(t *testing.T) {
	s := speech(3*time.Second, 1)
	if len(s) != 3*promptRate {
		t.Fatalf("speech of 3 s has %d samples, want %d", len(s), 3*promptRate)
	}
	if again := speech(3*time.Second, 1); !slicesEqual(s, again) {
		t.Error("speech differs for the same seed")
	}
	var peak int16
	quiet, voiced := 0, 0
	for f := 0; f+frameSamples <= len(s); f += frameSamples {
		frame := s[f : f+frameSamples]
		if loud(pcmBytes(frame)) {
			t.Fatalf("speech frame %d taken for a burst", f/frameSamples)
		}
		var sum float64
		for _, v := range frame {
			peak = max(peak, v, -v)
			sum += float64(v) * float64(v)
		}
		switch rms := math.Sqrt(sum/frameSamples) / math.MaxInt16; {
		case rms < 0.001:
			quiet++
		case rms > 0.02:
			voiced++
		}
	}
	if want := int16(math.Round(speechPeak * math.MaxInt16)); peak < want-1 || peak > want {
		t.Errorf("speech peak %d, want %d", peak, want)
	}
	// Syllables and the gaps between them: both, neither all of it.
	if frames := len(s) / frameSamples; quiet < frames/10 || voiced < frames/3 {
		t.Errorf("of %d frames %d quiet and %d voiced; want speech with gaps", frames, quiet, voiced)
	}
	b := burst()
	if len(b) != burstFrames*frameSamples {
		t.Fatalf("burst of %d samples, want %d", len(b), burstFrames*frameSamples)
	}
	for f := 0; f < burstFrames; f++ {
		if !loud(pcmBytes(b[f*frameSamples : (f+1)*frameSamples])) {
			t.Errorf("burst frame %d not loud", f)
		}
	}
	if loud(nil) || loud(make([]byte, 2*frameSamples)) {
		t.Error("silence taken for a burst")
	}
	wav := pcmWAV(b)
	if len(wav) != 44+2*len(b) || string(wav[:4]) != "RIFF" || binary.LittleEndian.Uint32(wav[40:]) != uint32(2*len(b)) {
		t.Errorf("pcmWAV header % x", wav[:44])
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// audioMsg is an audio message to a bot: the header, then samples.
func audioMsg(track uint16, seq uint32, samples []int16) []byte {
	b := binary.BigEndian.AppendUint16(nil, track)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, pcmBytes(samples)...)
}

func TestBotReceive(t *testing.T) {
	b := newBot(nil)
	at := time.Unix(1000, 0)
	quiet := make([]int16, frameSamples)
	loudFrame := burst()[:frameSamples]
	recv := func(typ websocket.MessageType, msg []byte) {
		t.Helper()
		if !b.receive(t.Context(), typ, msg, at) {
			t.Fatal("receive reported a failed connection")
		}
	}
	recv(websocket.MessageText, []byte(`{"event":"participantJoined","sequence":1}`))
	select {
	case <-b.started:
		t.Fatal("started before the start message")
	default:
	}
	recv(websocket.MessageText, []byte(`{"event":"start","sequence":2,"protocol":"switchboard.media.v1"}`))
	select {
	case <-b.started:
	default:
		t.Fatal("not started after the start message")
	}
	recv(websocket.MessageText, []byte(`{"event":"start"}`)) // a second start closes nothing twice
	recv(websocket.MessageBinary, audioMsg(0, 7, quiet))
	recv(websocket.MessageBinary, audioMsg(0, 8, quiet))
	recv(websocket.MessageBinary, audioMsg(1, 20, loudFrame)) // a participant's track: not counted, not a probe
	recv(websocket.MessageBinary, audioMsg(0, 11, quiet))     // 9 and 10 dropped
	recv(websocket.MessageBinary, []byte{0, 0, 0})            // too short: ignored
	recv(websocket.MessageBinary, audioMsg(0, 12, loudFrame)) // loud, but no probe armed
	b.armed.Store(true)
	recv(websocket.MessageBinary, audioMsg(0, 13, quiet))
	at = at.Add(20 * time.Millisecond)
	recv(websocket.MessageBinary, audioMsg(0, 14, loudFrame))
	recv(websocket.MessageBinary, audioMsg(0, 15, loudFrame)) // the burst's next frame: disarmed
	if got, want := [...]int64{b.frames.Load(), b.gaps.Load(), b.gapFrames.Load(), b.events.Load()}, [...]int64{7, 1, 2, 3}; got != want {
		t.Errorf("frames, gaps, gap frames, events = %v, want %v", got, want)
	}
	if b.armed.Load() {
		t.Error("still armed after the burst")
	}
	select {
	case got := <-b.hit:
		if want := time.Unix(1000, 0).Add(20 * time.Millisecond); !got.Equal(want) {
			t.Errorf("hit at %v, want %v (the first loud frame after arming)", got, want)
		}
	default:
		t.Error("no hit")
	}
	select {
	case <-b.hit:
		t.Error("a second hit for one probe")
	default:
	}
}

func TestReadMessage(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 300)
	got, err := readMessage(make([]byte, 0, 16), iotest.OneByteReader(bytes.NewReader(msg)))
	if err != nil || !bytes.Equal(got, msg) {
		t.Errorf("readMessage: %d bytes, %v; want %d", len(got), err, len(msg))
	}
	if _, err := readMessage(nil, iotest.ErrReader(io.ErrUnexpectedEOF)); err != io.ErrUnexpectedEOF {
		t.Errorf("readMessage of a failing reader: %v", err)
	}
}

func TestStreamFrames(t *testing.T) {
	before := []*botCounts{{frames: 100}, nil, {frames: 100, gaps: 1, gapFrames: 3}, {frames: 100}, {frames: 100}}
	after := []*botCounts{
		{frames: 600, echoed: 500, events: 1}, // every frame of 10 s
		nil,                                   // no bot
		{frames: 596, gaps: 3, gapFrames: 7, echoed: 496}, // two gaps of four frames in the window
		{frames: 590, echoed: 490, lost: true},            // lost, and short
		{frames: 596, echoed: 496},                        // 99.2%: kept up
	}
	st := &Streams{}
	st.frames(before, after, 10*time.Second)
	want := Streams{Expected: 500, FramesMin: 490, FramesMedian: 496, FramesMax: 500, FramesTotal: 1982,
		Short: 1, Gaps: 2, GapFrames: 4, GappedBots: 1, Lost: 1, Echoed: 1982, Events: 1}
	if got := *st; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("frames:\n got %+v\nwant %+v", got, want)
	}
	empty := &Streams{}
	empty.frames(nil, nil, time.Second)
	if empty.Expected != 50 || empty.FramesMax != 0 {
		t.Errorf("frames of no bots: %+v", empty)
	}
}

func TestStreamMetrics(t *testing.T) {
	const families = "# TYPE switchboard_media_stream_connections gauge\nswitchboard_media_stream_connections 200\n" +
		"# TYPE switchboard_media_stream_dropped_frames_total counter\n"
	before, err := parseMetrics(strings.NewReader(families + `switchboard_media_stream_dropped_frames_total{direction="toBot"} 5` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseMetrics(strings.NewReader(families + `switchboard_media_stream_dropped_frames_total{direction="toBot"} 12` + "\n" +
		`switchboard_media_stream_dropped_frames_total{direction="fromBot"} 3` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := after[`switchboard_media_stream_dropped_frames_total{direction="toBot"}`]; !ok || v != 12 {
		t.Errorf("labelled series = %v, %v; want 12", v, ok)
	}
	st := &Streams{}
	st.streamMetrics(before, after)
	if st.Connections == nil || *st.Connections != 200 || st.DroppedToBot == nil || *st.DroppedToBot != 7 || st.DroppedFromBot == nil || *st.DroppedFromBot != 3 {
		t.Errorf("stream metrics: connections %v, to bot %v, from bot %v; want 200, 7, 3", st.Connections, st.DroppedToBot, st.DroppedFromBot)
	}
	none := &Streams{}
	none.streamMetrics(scrape{}, scrape{metricFrames: 1})
	if none.Connections != nil || none.DroppedToBot != nil {
		t.Errorf("stream metrics of a server without streams: %+v", none)
	}
}

func TestCalleeOf(t *testing.T) {
	ok := exchange{status: http.StatusOK, body: []byte(`{"conversationId":"c","roster":[{"id":"p-bot","callId":"call-1","state":"joined"},{"id":"p-alice","state":"joined"}]}`)}
	if p, err := calleeOf(ok); err != nil || p != "p-alice" {
		t.Errorf("calleeOf = %q, %v; want p-alice", p, err)
	}
	for _, tt := range []struct {
		name string
		x    exchange
		err  string
	}{
		{"not found", exchange{status: http.StatusNotFound, body: []byte(`{"error":{}}`)}, "answered 404"},
		{"not JSON", exchange{status: http.StatusOK, body: []byte(`<html>`)}, "roster"},
		{"only the bot", exchange{status: http.StatusOK, body: []byte(`{"roster":[{"id":"p-bot","callId":"call-1"}]}`)}, "no simulated participant"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := calleeOf(tt.x); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("calleeOf: %v, want an error with %q", err, tt.err)
			}
		})
	}
}

func TestStreamVerdict(t *testing.T) {
	run := func(hosted string, calls int, skipped float64, short, gaps, lost int, server float64) *Result {
		st := &Streams{Hosted: hosted, Callees: calls, Speaking: calls, Expected: 500, FramesMin: 495, FramesMedian: 500, FramesMax: 501,
			Short: short, Gaps: int64(gaps), GappedBots: min(gaps, 1), Lost: lost, Probes: 3 * calls, Said: 3 * calls, FromSay: Percentiles{N: 3 * calls, P50: 12.34, P99: 31.6}}
		if hosted == "app" {
			st.Bots = calls
		}
		return &Result{Label: fmt.Sprintf("stream-%d-%s", calls, hosted), Mode: ModeStream, CPU: &CPUUsage{Cores: 2, Server: server, Loadgen: 30},
			Held: &Held{Calls: calls, Established: calls, Engine: &Engine{SkippedFrames: &skipped}, Stream: st}}
	}
	tests := []struct {
		name string
		r    *Result
		want string
	}{
		{"real time", run("app", 100, 0, 0, 0, 0, 40), "100 app-hosted calls, 100 bots echoing, 0 skipped frames, bots got 99.0–100.2% of their frames, 0 gaps, latency p50 12.3 / p99 31.6 ms, server 40%, sbload 30% of a core: REAL TIME"},
		{"skipped", run("app", 100, 4, 0, 0, 0, 40), ": NOT REAL TIME (skipped frames)"},
		{"short, gaps and lost", run("app", 100, 0, 3, 2, 1, 40), ": NOT REAL TIME (3 bots under 99% of their frames, gaps in 1 bots, 1 bots lost)"},
		{"baseline", run("service", 100, 0, 0, 0, 0, 10), "100 service-hosted calls, 100 callees speaking, no bots, 0 skipped frames, server 10%, sbload 30% of a core: REAL TIME"},
		{"baseline skipped", run("service", 100, 1, 0, 0, 0, 10), ": NOT REAL TIME (skipped frames)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := streamVerdict(tt.r); !strings.HasSuffix(got, tt.want) {
				t.Errorf("verdict\n  %s\nwant it to end with\n  %s", got, tt.want)
			}
		})
	}
	r := run("app", 100, 0, 0, 0, 0, 40)
	r.Held.Engine, r.Held.Stream.Bots = nil, 90
	if got, want := streamVerdict(r), "NOT SHOWN: only 90 of 100 bots connected; no engine metrics"; !strings.HasSuffix(got, want) {
		t.Errorf("verdict without engine figures\n  %s\nwant it to end with\n  %s", got, want)
	}

	results := []*Result{run("service", 100, 0, 0, 0, 0, 10), run("app", 100, 0, 0, 0, 0, 40),
		run("service", 400, 0, 0, 0, 0, 30), run("app", 400, 0, 3, 0, 0, 150), run("app", 200, 0, 0, 0, 0, 80)}
	var out bytes.Buffer
	Report(&out, results)
	for _, want := range []string{
		"stream-100-app           stream      n=100",
		"↳ bots:       100 of 100 connected, each echoing the mix back as its voice; 0 lost before the window closed",
		"↳ frames:     per bot 495 / 500 / 501 (min / median / max) of 500 due (50/s); 3 bots under 99%",
		"↳ bots:       none: service-hosted media, the baseline",
		"↳ latency ms: say answered → bot got the burst: p50 12.340",
		"streams (stream-400-app): 400 app-hosted calls",
		"stream cost at 100 calls: server 40% with bots on app-hosted streams, 10% service-hosted without: +30% of a core, 0.30% a call; the bots (sbload) 30%",
		"stream cost at 400 calls: server 150% with bots on app-hosted streams, 30% service-hosted without: +120% of a core, 0.30% a call",
		"app-hosted streams in real time: up to 200 calls; not at 400",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if got := streamSummary(results[:2]); got[len(got)-1] != "app-hosted streams in real time: up to 100 calls, the most these runs tried" {
		t.Errorf("summary %q", got)
	}
	if got := streamSummary(results[3:4]); got[len(got)-1] != "app-hosted streams in real time: none of these runs (already not at 400 calls)" {
		t.Errorf("summary %q", got)
	}
}

// fakeStreams is a server with what stream mode uses: calls created and
// established (callbacks), the simulation API's roster and say, the
// calls' media endpoints and /metrics. A say whose first frame is loud
// sends that frame to the call's bot at once; otherwise each connected bot
// gets a quiet frame every 20 ms. It counts the frames the bots echo.
type fakeStreams struct {
	srv                   *httptest.Server
	says, probes, echoes  atomic.Int64
	mu                    sync.Mutex
	bursts                map[string]chan []int16
	appHosted, serviceHos atomic.Int64
}

func newFakeStreams(t *testing.T) *fakeStreams {
	t.Helper()
	f := &fakeStreams{bursts: make(map[string]chan []int16)}
	var n, scrapes atomic.Int64
	burstOf := func(id string) chan []int16 {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.bursts[id] == nil {
			f.bursts[id] = make(chan []int16, 16)
		}
		return f.bursts[id]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		n := scrapes.Add(1)
		fmt.Fprintf(w, "# TYPE %s counter\n%s %d\n", metricFrames, metricFrames, 50*n)
		fmt.Fprintf(w, "# TYPE %s counter\n%s 0\n", metricSkipped, metricSkipped)
		fmt.Fprintf(w, "# TYPE %s gauge\n%s 10\n", metricStreamConns, metricStreamConns)
	})
	mux.HandleFunc("POST /v1.0/communications/calls", func(w http.ResponseWriter, r *http.Request) {
		var spec struct {
			CallbackURI string `json:"callbackUri"`
			MediaConfig struct {
				Type string `json:"@odata.type"`
				Blob string `json:"blob"`
			} `json:"mediaConfig"`
		}
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			t.Errorf("create body: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch spec.MediaConfig.Type {
		case "#microsoft.graph.appHostedMediaConfig":
			if spec.MediaConfig.Blob != appHostedBlob {
				t.Errorf("blob %q", spec.MediaConfig.Blob)
			}
			f.appHosted.Add(1)
		default:
			f.serviceHos.Add(1)
		}
		id := fmt.Sprintf("call-%d", n.Add(1))
		w.Header().Set("Location", "http://"+r.Host+"/v1.0/communications/calls/"+id)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
		go func() {
			body := fmt.Sprintf(`{"value":[{"resourceUrl":"/communications/calls/%s","resourceData":{"id":%q,"state":"established"}}]}`, id, id)
			if resp, err := http.Post(spec.CallbackURI, "application/json", strings.NewReader(body)); err == nil {
				resp.Body.Close()
			}
		}()
	})
	mux.HandleFunc("GET /switchboard/v1/simulation/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		fmt.Fprintf(w, `{"conversationId":"conv-%s","roster":[{"id":"bot-%s","callId":%q},{"id":"callee-%s"}]}`, id, id, id, id)
	})
	mux.HandleFunc("POST /switchboard/v1/simulation/calls/{id}/participants/{pid}/say", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, _ := io.ReadAll(r.Body)
		if r.PathValue("pid") != "callee-"+id || r.Header.Get("Content-Type") != "audio/wav" || len(body) < 44+2*frameSamples {
			t.Errorf("say to %s in %s, %q, %d bytes", r.PathValue("pid"), id, r.Header.Get("Content-Type"), len(body))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.says.Add(1)
		if first := body[44 : 44+2*frameSamples]; loud(first) {
			f.probes.Add(1)
			samples := make([]int16, frameSamples)
			for i := range samples {
				samples[i] = int16(binary.LittleEndian.Uint16(first[2*i:]))
			}
			select {
			case burstOf(id) <- samples:
			default:
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /switchboard/v1/calls/{id}/media", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{mediaProtocol}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		go func() {
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					return
				}
				f.echoes.Add(1)
			}
		}()
		if ws.Write(ctx, websocket.MessageText, []byte(`{"event":"start","sequence":1}`)) != nil {
			return
		}
		bursts := burstOf(r.PathValue("id"))
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		quiet := make([]int16, frameSamples)
		for seq := uint32(1); ; seq++ {
			frame := quiet
			select {
			case <-tick.C:
			case frame = <-bursts:
			case <-ctx.Done():
				return
			}
			if ws.Write(ctx, websocket.MessageBinary, audioMsg(0, seq, frame)) != nil {
				return
			}
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// TestStream runs stream mode end to end against fakeStreams, with
// sbload's own process standing in for the server's: with bots on
// app-hosted calls, and the service-hosted baseline.
func TestStream(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	for _, service := range []bool{false, true} {
		t.Run(fmt.Sprintf("service-hosted %v", service), func(t *testing.T) {
			f := newFakeStreams(t)
			cfg := quick(ModeStream, f.srv.URL)
			cfg.Token, cfg.ServerPIDs, cfg.MetricsURL, cfg.ServiceHosted = NoToken, []int{os.Getpid()}, f.srv.URL+"/metrics", service
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := res.Held
			if h == nil || h.Stream == nil || h.Calls != 10 || h.Established != 10 || h.Engine == nil || h.Memory == nil || res.CPU == nil {
				t.Fatalf("held %+v, cpu %+v", h, res.CPU)
			}
			st := h.Stream
			if st.Callees != 10 || st.Speaking != 10 || st.Probes != 30 || st.Said != 30 || st.ProbeErrors != nil || st.SayErrors != nil {
				t.Errorf("streams %+v; want 10 callees speaking and 30 probes said", st)
			}
			if got := f.says.Load(); got != 40 {
				t.Errorf("the server got %d says, want 40 (10 speeches, 30 probes)", got)
			}
			if got := f.probes.Load(); got != 30 {
				t.Errorf("%d says began with a burst, want 30", got)
			}
			if st.Connections == nil || *st.Connections != 10 || st.DroppedToBot == nil || *st.DroppedToBot != 0 {
				t.Errorf("stream metrics: %v connections, %v dropped", st.Connections, st.DroppedToBot)
			}
			if st.SayTime.N != 30 {
				t.Errorf("say times %+v, want 30", st.SayTime)
			}
			if service {
				if st.Hosted != "service" || st.Bots != 0 || f.appHosted.Load() != 0 || f.serviceHos.Load() != 10 || st.FromSay.N != 0 {
					t.Errorf("baseline %+v, %d app-hosted calls; want service-hosted calls and no bots", st, f.appHosted.Load())
				}
				return
			}
			if st.Hosted != "app" || st.Bots != 10 || st.BotErrors != nil || f.appHosted.Load() != 10 {
				t.Errorf("bots %+v; want 10 connected to app-hosted calls", st)
			}
			// Every probe's burst reaches its bot at once; the frames of the
			// window depend on the scheduler, so only their accounting is
			// checked.
			if st.FromSay.N != 30 || st.Missed != 0 || st.FromSend.N != 30 || st.FromSend.Min < 0 {
				t.Errorf("latency from say %+v, from send %+v, %d missed; want 30 probes timed", st.FromSay, st.FromSend, st.Missed)
			}
			if st.Expected <= 0 || st.FramesTotal <= 0 || st.FramesMax < st.FramesMin || st.Echoed != st.FramesTotal {
				t.Errorf("frames %+v; want some, each echoed", st)
			}
			if f.echoes.Load() == 0 {
				t.Error("the server got no echo")
			}
		})
	}
}
