package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// This file proves the examples under examples/ work as their READMEs say:
// each runs as a child process against a test server, given the server's
// URL and development CA by flags (and NODE_EXTRA_CA_CERTS), and the test
// checks the audio that went through it.

// examplesEnv, set to 1 (scripts/test does), makes missing node or npm
// packages of examples/node-answer a failure instead of a skip.
const examplesEnv = "SWITCHBOARD_EXAMPLES"

// exampleTimeout bounds each example's process, and exampleWait each wait
// for what it prints. Both are failure timeouts, not a pace.
const (
	exampleTimeout = 2 * time.Minute
	exampleWait    = 30 * time.Second
)

// examplesDir is the examples' directory in the module.
func examplesDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "examples")
}

// TestExamples runs each example as its README does, against a test
// server. It is not parallel: the echo runs in real time.
func TestExamples(t *testing.T) {
	if clusterRun() {
		t.Skip("a cluster run covers the Graph API through a load balancer; the examples run in the single-node run")
	}
	t.Run("echo", testEchoExample)
	t.Run("transcript", testTranscriptExample)
	t.Run("node-answer", testNodeAnswerExample)
}

// testEchoExample: examples/echo calls a simulated person with app-hosted
// media and sends back the mix it hears. The person says something and
// hears it come back; on SIGINT the example hangs up and exits cleanly.
// The media engine runs in real time, as for a user: an echo paced by a
// manually stepped engine would depend on how fast the example answers.
func testEchoExample(t *testing.T) {
	s := startServer(t, "")
	ctl := newControl(t, s)
	bin := buildGoExample(t, "echo")
	ex := startExample(t, "echo", bin, nil, "-server", s.HTTPS, "-ca", writeDevCA(t, s), "-to", alice, "-for", "1m")

	start := ex.event(t, "start")
	if len(start.Participants) != 1 {
		t.Fatalf("start event with %d participants, want the person called: %+v", len(start.Participants), start)
	}
	callID, personID := start.CallID, start.Participants[0].ID
	said := media.Speechlike(time.Second)
	ctl.say(t, callID, personID, said)

	// The echo comes back in real time: no event says when it is over,
	// so what the person heard is read until it holds what they said. An
	// echo that comes back too late for its frame (a busy machine) leaves
	// a frame of silence and is played in the next one: the frames of
	// silence are left out, so that what is checked is that every frame
	// came back, in order, not how the machine kept pace.
	deadline := time.Now().Add(exampleWait)
	for {
		heard, _ := ctl.heard(t, callID, personID)
		heard = withoutSilentFrames(heard)
		at, score := media.Locate(heard, said)
		if score >= 0.9 {
			t.Logf("the person heard their words back at %v of %v, correlation %.3f", media.SamplesDuration(at), heard.Duration(), score)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the person has not heard their words back: best match %.3f at %v of %v", exampleWait, score, media.SamplesDuration(at), heard.Duration())
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}

	ex.signal(t, os.Interrupt)
	ex.event(t, "stop")
	ex.line(t, "the call terminated", func(l string) bool { return l == "call terminated" })
	if err := ex.wait(t); err != nil {
		t.Fatalf("echo exited with %v after an interrupt, want 0", err)
	}
}

// testTranscriptExample: examples/transcript calls a simulated person with
// unmixed audio. The media engine is stepped by the test: half a second of
// silence, then the person says something; on SIGINT the example hangs up
// and writes the person's WAV, which holds what they said, half a second
// in.
func testTranscriptExample(t *testing.T) {
	s := startServerWith(t, "", nil, app.WithManualMedia())
	ctl := newControl(t, s)
	bin := buildGoExample(t, "transcript")
	out := t.TempDir()
	ex := startExample(t, "transcript", bin, nil, "-server", s.HTTPS, "-ca", writeDevCA(t, s), "-to", alice, "-out", out, "-for", "1m")

	start := ex.event(t, "start")
	if start.Unmixed == nil || !*start.Unmixed || len(start.Participants) != 1 {
		t.Fatalf("start event %+v, want unmixed and the person called", start)
	}
	callID, personID := start.CallID, start.Participants[0].ID
	const before = 500 * time.Millisecond
	stepMedia(t, s, before)
	said := media.Speechlike(1500 * time.Millisecond)
	ctl.say(t, callID, personID, said)
	// 2 s: 100 frames of the mix and 75 of the person, within what the
	// stream queues for a bot that has not read them yet.
	stepMedia(t, s, 2*time.Second)

	ex.signal(t, os.Interrupt)
	wrote := ex.line(t, "the person's WAV written", func(l string) bool { return strings.HasPrefix(l, "wrote ") })
	if err := ex.wait(t); err != nil {
		t.Fatalf("transcript exited with %v after an interrupt, want 0", err)
	}
	path := filepath.Join(out, personID+".wav")
	if !strings.HasPrefix(wrote, "wrote "+path) {
		t.Errorf("transcript printed %q, want it to have written %s", wrote, path)
	}
	if files, _ := filepath.Glob(filepath.Join(out, "*")); len(files) != 1 {
		t.Errorf("transcript wrote %v, want one WAV: the person's (not the mix, not the bot)", files)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || binary.LittleEndian.Uint16(b[22:]) != 1 || binary.LittleEndian.Uint32(b[24:]) != 16000 || binary.LittleEndian.Uint16(b[34:]) != 16 {
		t.Fatalf("%s is not a 16 kHz mono 16-bit WAV: header % x", path, b[:min(len(b), 44)])
	}
	wav := readWAV(t, path)
	at, score := media.Locate(wav, said)
	t.Logf("the person's WAV (%v) holds what they said at %v, correlation %.3f", wav.Duration(), media.SamplesDuration(at), score)
	if score < 0.9 {
		t.Errorf("the person's WAV does not hold what they said: best match %.3f", score)
	}
	if off := media.SamplesDuration(at) - before; off < 0 || off > 100*time.Millisecond {
		t.Errorf("what the person said is at %v of their WAV, want at %v: its place on the call's timeline", media.SamplesDuration(at), before)
	}
}

// testNodeAnswerExample: examples/node-answer answers an incoming call
// from a simulated person; Switchboard connects to its WebSocket server;
// it speaks a WAV and a mark, and hangs up when the mark comes back. The
// test steps the media engine, so the mark, and the hang-up, come only
// once it has stepped through the whole WAV: the person's ears are read
// before that.
func testNodeAnswerExample(t *testing.T) {
	dir := requireExampleNode(t)
	s := startServerWith(t, "", nil, app.WithManualMedia())
	ctl := newControl(t, s)
	// A sweep has the same loudness throughout: a match of 0.9 with part
	// of it unheard means at most a fifth of it is missing.
	greeting := sweep(300, 3000, 1500*time.Millisecond)
	wavPath := writeIVRWAV(t, t.TempDir(), "greeting.wav", greeting)
	env := []string{"NODE_EXTRA_CA_CERTS=" + writeDevCA(t, s)}
	ex := startExample(t, "node-answer", "node", env, filepath.Join(dir, "bot.mjs"), "--server", s.HTTPS, "--port", "0", "--wav", wavPath)

	listening := ex.line(t, "the bot listening", func(l string) bool { return strings.HasPrefix(l, "listening: webhook ") })
	webhook, _, _ := strings.Cut(strings.TrimPrefix(listening, "listening: webhook "), ",")
	callID, callerID := ctl.placeIncoming(t, webhook, alice)
	ex.line(t, "the greeting sent", func(l string) bool { return strings.Contains(l, callID+": started; speaking") })

	// Step a frame at a time until the caller has heard most of the
	// first second; a further 300 ms makes it all of it, while the last
	// half second of the greeting is still to play: the call is alive.
	first := media.Audio{Samples: greeting.Samples[:media.DurationSamples(time.Second)]}
	for stepped := time.Duration(0); ; stepped += media.FrameDuration {
		if stepped > 20*time.Second {
			t.Fatalf("after %v of media the caller has not heard the greeting's first second", stepped)
		}
		stepMedia(t, s, media.FrameDuration)
		heard, _ := ctl.heard(t, callID, callerID)
		if _, score := media.Locate(heard, first); score >= 0.9 {
			break
		}
	}
	stepMedia(t, s, 300*time.Millisecond)
	heard, _ := ctl.heard(t, callID, callerID)
	at, score := media.Locate(heard, first)
	t.Logf("the caller heard the greeting at %v of %v, correlation %.3f", media.SamplesDuration(at), heard.Duration(), score)
	if score < 0.95 {
		t.Errorf("the caller did not hear the bot's greeting: best match %.3f", score)
	}

	// The rest of the greeting plays; the mark comes back; the bot hangs up.
	stepMedia(t, s, time.Second)
	ex.line(t, "the mark back", func(l string) bool { return strings.Contains(l, callID+`: mark "greeting"`) })
	ex.line(t, "the call terminated", func(l string) bool { return l == "call "+callID+": terminated" })
	ex.signal(t, syscall.SIGTERM)
	if err := ex.wait(t); err != nil {
		t.Fatalf("node-answer exited with %v after SIGTERM, want 0", err)
	}
}

// requireExampleNode checks that examples/node-answer can run: node, and
// its npm packages (scripts/test installs them with npm ci). It returns
// the example's directory.
func requireExampleNode(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(examplesDir(t), "node-answer")
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (apt-get install nodejs)")
	}
	for _, pkg := range []string{"ws", "@microsoft/microsoft-graph-client"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			missing = append(missing, pkg+" (npm ci in examples/node-answer)")
		}
	}
	if len(missing) == 0 {
		return dir
	}
	msg := "the node-answer example needs " + strings.Join(missing, ", ")
	if os.Getenv(examplesEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, examplesEnv)
	}
	t.Skipf("%s; scripts/test installs them", msg)
	return ""
}

// buildGoExample builds examples/<name> into a temporary directory: the
// test signals the program itself, not go run.
func buildGoExample(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // a cold build compiles the Graph SDK
	defer cancel()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/"+name)
	cmd.Dir = filepath.Dir(examplesDir(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	return bin
}

// writeDevCA writes the server's development CA where an example can read
// it, and returns its path.
func writeDevCA(t *testing.T, s *server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dev-ca.pem")
	if err := os.WriteFile(path, s.DevCA(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// say makes a simulated participant say a clip now (POST .../say with a
// WAV body).
func (c *control) say(t *testing.T, callID, participantID string, a media.Audio) {
	t.Helper()
	var wav bytes.Buffer
	if err := media.EncodeWAV(&wav, a); err != nil {
		t.Fatal(err)
	}
	resp, body := graphRequest(t, c.hc, http.MethodPost, c.base+"/calls/"+callID+"/participants/"+participantID+"/say", c.token,
		http.Header{"Content-Type": {"audio/wav"}}, wav.Bytes())
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("control: say: %s %s", resp.Status, body)
	}
}

// withoutSilentFrames is a with its frames of silence left out.
func withoutSilentFrames(a media.Audio) media.Audio {
	var out []int16
	for f := range slices.Chunk(a.Samples, media.FrameSamples) {
		if slices.ContainsFunc(f, func(v int16) bool { return v != 0 }) {
			out = append(out, f...)
		}
	}
	return media.Audio{Samples: out}
}

// sweep is a tone rising from f0 to f1 Hz at -12 dBFS: steady loudness,
// and, unlike a steady tone, one place where it matches (media.Locate).
func sweep(f0, f1 float64, d time.Duration) media.Audio {
	n := media.DurationSamples(d)
	out := make([]int16, n)
	amp := 32767 * math.Pow(10, -12.0/20)
	for i := range out {
		x := float64(i) / media.SampleRate
		phase := 2 * math.Pi * (f0*x + (f1-f0)*x*x/(2*d.Seconds()))
		out[i] = int16(amp * math.Sin(phase))
	}
	return media.Audio{Samples: out}
}

// example is an example program running as a child process, bounded by
// exampleTimeout and killed when the test ends; what it prints (stdout and
// stderr) comes line by line, and is logged when the test fails.
type example struct {
	name string
	cmd  *exec.Cmd
	out  *lineWriter
	done chan struct{} // closed when it exited
	err  error         // how it exited, once done is closed
}

// startExample runs program with args, and env added to the environment.
func startExample(t *testing.T, name, program string, env []string, args ...string) *example {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exampleTimeout)
	e := &example{name: name, out: &lineWriter{lines: make(chan string, 10000)}, done: make(chan struct{})}
	e.cmd = exec.CommandContext(ctx, program, args...)
	e.cmd.Env = append(os.Environ(), env...)
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.WaitDelay = 5 * time.Second
	if err := e.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		e.err = e.cmd.Wait()
		cancel()
		close(e.done)
	}()
	t.Cleanup(func() {
		cancel() // kills it if it still runs
		<-e.done
		if t.Failed() {
			t.Logf("%s %s: %v\n%s", name, strings.Join(args, " "), e.err, e.out.String())
		}
	})
	return e
}

// line waits for the first line the example prints from now on for which
// match is true, and returns it.
func (e *example) line(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.NewTimer(exampleWait)
	defer timeout.Stop()
	for {
		select {
		case l := <-e.out.lines:
			if match(l) {
				return l
			}
		case <-e.done:
			for {
				select {
				case l := <-e.out.lines:
					if match(l) {
						return l
					}
				default:
					t.Fatalf("%s exited (%v) before printing %s", e.name, e.err, what)
				}
			}
		case <-timeout.C:
			t.Fatalf("%s did not print %s in %v", e.name, what, exampleWait)
		}
	}
}

// streamEvent is the part of a media stream event (a line "event {json}"
// of the Go examples) that the tests read.
type streamEvent struct {
	Event        string `json:"event"`
	CallID       string `json:"callId"`
	Unmixed      *bool  `json:"unmixed"`
	Participants []struct {
		ID    string `json:"id"`
		Track int    `json:"track"`
	} `json:"participants"`
}

// event waits for a Go example to print a stream event of type name.
func (e *example) event(t *testing.T, name string) streamEvent {
	t.Helper()
	var ev streamEvent
	e.line(t, "a "+name+" event", func(l string) bool {
		var cur streamEvent
		js, ok := strings.CutPrefix(l, "event ")
		if !ok || json.Unmarshal([]byte(js), &cur) != nil || cur.Event != name {
			return false
		}
		ev = cur
		return true
	})
	return ev
}

// signal sends the example a signal.
func (e *example) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := e.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("%s: signal %v: %v", e.name, sig, err)
	}
}

// wait waits for the example to exit and returns how it did (nil: 0).
func (e *example) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-e.done:
		return e.err
	case <-time.After(exampleWait):
		t.Fatalf("%s still running after %v", e.name, exampleWait)
		return nil
	}
}

// lineWriter keeps what a program prints, and passes on each whole line.
type lineWriter struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	lines   chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.partial[:i]):
		default: // nobody reads that far: the whole output is still logged
		}
		w.partial = w.partial[i+1:]
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}
