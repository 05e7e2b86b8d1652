package mediastream

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// fixture is a manual media engine with a Manager, one app-hosted call
// (leg "call-1", the bot's participant "bot") and a bot client connected
// to its media endpoint.
type fixture struct {
	t      *testing.T
	engine *media.Engine
	m      *Manager
	conv   *calls.Conversation
	ws     *websocket.Conn
	clk    *clock.Fake
	frames uint32 // frames stepped
}

var botApp = auth.Principal{TenantID: "t1", AppID: "app-1", Roles: []string{auth.RoleCallsAccessMedia}}

func appHosted(blob string) *model.MediaConfig {
	return &model.MediaConfig{ODataType: model.TypeAppHostedMediaConfig, Blob: &blob}
}

func newFixture(t *testing.T, blob string, people ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, engine: media.NewManual(nil), clk: clock.NewFake(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))}
	if err := f.engine.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.engine.Shutdown(context.Background()) })
	f.m = New(Config{Engine: f.engine, Token: func(string, string) (string, error) { return "tok", nil }, Dev: true, Clock: f.clk})
	t.Cleanup(f.m.Close)
	leg := &calls.Call{ID: "call-1", TenantID: "t1", AppID: "app-1", ParticipantID: "bot", State: calls.StateEstablished}
	leg.Spec.MediaConfig = appHosted(blob)
	f.conv = &calls.Conversation{ID: "room-1", Legs: []*calls.Call{leg},
		Roster: []calls.Participant{{ID: "bot", CallID: "call-1", State: calls.ParticipantJoined}}}
	for _, id := range people {
		f.conv.Roster = append(f.conv.Roster, calls.Participant{ID: id, State: calls.ParticipantJoined,
			Info: model.ParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: id, DisplayName: ptr(strings.ToUpper(id))}}}})
	}
	f.m.ConversationChanged(f.conv)
	return f
}

// connect connects the bot as p.
func (f *fixture) connect(p auth.Principal) (*websocket.Conn, *http.Response, error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.ServeMedia(w, r, p, "call-1"); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
		}
	}))
	f.t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(f.t.Context(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{Protocol}})
	if ws != nil {
		f.t.Cleanup(func() { ws.CloseNow() })
	}
	return ws, resp, err
}

func (f *fixture) step(d time.Duration) {
	f.t.Helper()
	if err := f.engine.Step(f.t.Context(), int(d/media.FrameDuration)); err != nil {
		f.t.Fatal(err)
	}
	f.frames += uint32(d / media.FrameDuration)
}

// message is one message the bot got: an event, or audio.
type message struct {
	event   Event
	track   uint16
	seq     uint32
	samples []int16
}

func (f *fixture) read() message {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), 10*time.Second)
	defer cancel()
	typ, b, err := f.ws.Read(ctx)
	if err != nil {
		f.t.Fatalf("reading the stream: %v", err)
	}
	if typ == websocket.MessageText {
		var m message
		if err := json.Unmarshal(b, &m.event); err != nil {
			f.t.Fatalf("event %s: %v", b, err)
		}
		return m
	}
	track, seq, pcm, err := AudioHeader(b)
	if err != nil {
		f.t.Fatal(err)
	}
	s, _ := ParseAudio(nil, pcm)
	return message{track: track, seq: seq, samples: s}
}

// until reads until an event named name, and returns it with the audio
// before it, by track.
func (f *fixture) until(name string) (Event, map[uint16][]int16) {
	f.t.Helper()
	audio := make(map[uint16][]int16)
	for {
		m := f.read()
		if m.event.Event == name {
			return m.event, audio
		}
		if m.event.Event == "" {
			audio[m.track] = append(audio[m.track], m.samples...)
		}
	}
}

// stepRead moves the engine by d, 100 ms at a time, reading what the bot
// gets as it goes (a bot that keeps up), and returns the audio by track
// and the events.
func (f *fixture) stepRead(d time.Duration) (map[uint16][]int16, []Event) {
	f.t.Helper()
	audio := make(map[uint16][]int16)
	var events []Event
	for done := time.Duration(0); done < d; done += 100 * time.Millisecond {
		f.step(100 * time.Millisecond)
		for {
			m := f.read()
			if m.event.Event != "" {
				events = append(events, m.event)
				continue
			}
			audio[m.track] = append(audio[m.track], m.samples...)
			if m.track == MixTrack && m.seq >= f.frames {
				break
			}
		}
	}
	return audio, events
}

func (f *fixture) send(v any) {
	f.t.Helper()
	b, _ := json.Marshal(v)
	if err := f.ws.Write(f.t.Context(), websocket.MessageText, b); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) sendAudio(a media.Audio) {
	f.t.Helper()
	b := make([]byte, 0, 2*len(a.Samples))
	for _, s := range a.Samples {
		b = append(b, byte(s), byte(uint16(s)>>8))
	}
	for len(b) > 0 { // messages of at most 64 KiB
		n := min(len(b), MaxMessageBytes)
		if err := f.ws.Write(f.t.Context(), websocket.MessageBinary, b[:n]); err != nil {
			f.t.Fatal(err)
		}
		b = b[n:]
	}
}

func level(samples []int16, freq float64) float64 { return media.Goertzel(samples, freq) }

// The bot connects and gets start, the mix and each participant's own
// audio, labelled; its voice reaches the others; marks come back when the
// voice reaches them; clear cuts it at once; keys name who pressed them;
// mute changes and departures are events; the call's end is stop.
func TestStream(t *testing.T) {
	f := newFixture(t, `{"switchboard":{"unmixed":true}}`, "alice", "bob")
	alice, _ := media.NewSimPerson("alice", media.Action{Say: media.Tone(700, 2*time.Second, -15)})
	bob, _ := media.NewSimPerson("bob", media.Action{At: time.Second, Say: media.Tone(1300, time.Second, -15)})
	for _, p := range []*media.SimPerson{alice, bob} {
		if err := f.engine.AddEndpoint("room-1", p); err != nil {
			t.Fatal(err)
		}
	}
	f.connectBot()
	start := f.read().event
	if start.Event != "start" || start.Protocol != Protocol || start.CallID != "call-1" || start.Format.SampleRate != 16000 || !*start.Unmixed || *start.Resumed ||
		len(*start.Participants) != 2 || (*start.Participants)[0].ID != "alice" || (*start.Participants)[0].Track != 1 || (*start.Participants)[1].Track != 2 ||
		*(*start.Participants)[0].Identity.User.DisplayName != "ALICE" || start.Sequence != 1 {
		t.Fatalf("start: %+v", start)
	}

	// Two seconds: the mix every frame; alice's track with 700 Hz only,
	// bob's with 1300 Hz only; bob becomes the dominant speaker.
	audio, events := f.stepRead(2 * time.Second)
	if got := len(audio[MixTrack]); got != 100*media.FrameSamples {
		t.Errorf("%d samples of the mix in 2 s, want %d", got, 100*media.FrameSamples)
	}
	if l := level(audio[1][800:], 700); math.Abs(l+15) > 1 || level(audio[1][800:], 1300) > -60 {
		t.Errorf("alice's track: 700 Hz at %.1f dBFS, 1300 Hz at %.1f", l, level(audio[1][800:], 1300))
	}
	if l := level(audio[2][800:], 1300); math.Abs(l+15) > 1 || level(audio[2][800:], 700) > -60 || len(audio[2]) > 51*media.FrameSamples {
		t.Errorf("bob's track (%d samples): 1300 Hz at %.1f dBFS; want only the second he spoke", len(audio[2]), l)
	}
	if len(events) == 0 || events[0].Event != "dominantSpeaker" || events[0].ParticipantID != "alice" {
		t.Errorf("events %+v; want alice as the dominant speaker", events)
	}

	// The bot says 1 s of 500 Hz, then a mark: the people hear it, and the
	// mark comes back once it has played.
	f.sendAudio(media.Tone(500, time.Second, -12))
	f.send(Command{Event: CmdMark, Name: "greeting"})
	f.settle()
	f.step(time.Second + 40*time.Millisecond)
	mark, _ := f.until("mark")
	if mark.Name != "greeting" || mark.Cleared != nil {
		t.Errorf("mark %+v", mark)
	}
	heard := alice.Heard().Samples
	if l := level(heard[len(heard)-16000:len(heard)-1600], 500); math.Abs(l+12) > 1 {
		t.Errorf("alice heard the bot at %.1f dBFS, want -12", l)
	}

	// clear cuts the voice within a frame or two; the pending mark comes
	// back cleared.
	f.sendAudio(media.Tone(500, 5*time.Second, -12))
	f.send(Command{Event: CmdMark, Name: "long"})
	f.settle()
	f.step(200 * time.Millisecond)
	f.send(Command{Event: CmdClear})
	cleared, _ := f.until("mark")
	if cleared.Name != "long" || cleared.Cleared == nil || !*cleared.Cleared {
		t.Errorf("after clear: %+v", cleared)
	}
	f.step(200 * time.Millisecond)
	heard = alice.Heard().Samples
	if l := level(heard[len(heard)-9*media.FrameSamples:], 500); l > -60 {
		t.Errorf("after clear alice still hears the bot at %.1f dBFS", l)
	}

	// bob presses 7 (in band): the bot learns who.
	if err := bob.Press("7"); err != nil {
		t.Fatal(err)
	}
	f.step(300 * time.Millisecond)
	if dtmf, _ := f.until("dtmf"); dtmf.Digit != "7" || dtmf.ParticipantID != "bob" {
		t.Errorf("dtmf %+v", dtmf)
	}

	// The bot mutes its voice: it plays on, unheard, until it unmutes.
	f.send(Command{Event: CmdMute})
	f.sendAudio(media.Tone(500, 2*time.Second, -12))
	f.settle()
	f.step(500 * time.Millisecond)
	heard = alice.Heard().Samples
	if l := level(heard[len(heard)-8000:], 500); l > -60 {
		t.Errorf("the bot muted itself, yet alice hears it at %.1f dBFS", l)
	}
	f.send(Command{Event: CmdUnmute})
	f.settle()
	f.step(500 * time.Millisecond)
	heard = alice.Heard().Samples
	if l := level(heard[len(heard)-4000:], 500); math.Abs(l+12) > 1 {
		t.Errorf("after unmute alice hears the bot at %.1f dBFS, want -12", l)
	}
	f.send(Command{Event: CmdClear})
	f.settle()

	// alice mutes, bob leaves.
	f.conv.Roster[1].Muted = true
	f.conv.Roster[2].State = calls.ParticipantLeft
	f.m.ConversationChanged(f.conv)
	if e, _ := f.until("participantMuted"); e.Participant.ID != "alice" || !e.Participant.Muted {
		t.Errorf("participantMuted %+v", e)
	}
	if e, _ := f.until("participantLeft"); e.Participant.ID != "bob" {
		t.Errorf("participantLeft %+v", e)
	}

	// The call ends: stop, then the connection closes normally.
	f.conv.Legs[0].State = calls.StateTerminated
	f.m.ConversationChanged(f.conv)
	if e, _ := f.until("stop"); e.Reason != "callEnded" {
		t.Errorf("stop %+v", e)
	}
	_, _, err := f.ws.Read(t.Context())
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after stop: %v, want a normal closure", err)
	}
}

// settle waits until the stream has taken what the bot sent: a command
// round trip through an error event.
func (f *fixture) settle() {
	f.t.Helper()
	if err := f.ws.Write(f.t.Context(), websocket.MessageText, []byte(`{"event":"ping"}`)); err != nil {
		f.t.Fatal(err)
	}
	if e, _ := f.until("error"); !strings.Contains(e.Message, "ping") {
		f.t.Fatalf("error event %+v", e)
	}
}

// Only the call's own application, with Calls.AccessMedia.All, reaches its
// stream.
func TestStreamAccess(t *testing.T) {
	f := newFixture(t, "not Switchboard's blob", "alice")
	for _, p := range []auth.Principal{
		{TenantID: "t1", AppID: "app-2", Roles: botApp.Roles},
		{TenantID: "t2", AppID: "app-1", Roles: botApp.Roles},
	} {
		if _, resp, err := f.connect(p); err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("%+v connected: %v", p, err)
		}
	}
	if _, resp, err := f.connect(auth.Principal{TenantID: "t1", AppID: "app-1"}); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("without the role: %v", err)
	}
	if err := f.m.ServeMedia(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), auth.Principal{TenantID: "t1", AppID: "app-1"}, "call-1"); !IsForbidden(err) {
		t.Errorf("without the role: %v, want forbidden", err)
	}
}

// A bot that reconnects within the grace period resumes the stream: the
// events it missed come after a start that says resumed, and the sequence
// goes on; after the grace period it starts afresh.
func TestStreamResumes(t *testing.T) {
	f := newFixture(t, `{"switchboard":{}}`, "alice")
	alice := f.person("alice")
	f.connectBot()
	first := f.read().event
	f.hangUpBot()
	if err := alice.PressOutOfBand('9'); err != nil {
		t.Fatal(err)
	}
	f.step(100 * time.Millisecond) // the key, while no bot is connected
	f.connectBot()
	start := f.read().event
	if start.Event != "start" || !*start.Resumed || start.Sequence <= first.Sequence {
		t.Fatalf("after reconnecting: %+v (first %+v)", start, first)
	}
	if e, _ := f.until("dtmf"); e.Digit != "9" || e.ParticipantID != "alice" || e.Sequence <= start.Sequence {
		t.Errorf("the missed key: %+v", e)
	}
	f.hangUpBot()
	f.clk.Advance(DefaultGrace + time.Second)
	f.connectBot()
	if start := f.read().event; start.Event != "start" || *start.Resumed {
		t.Fatalf("after the grace period: %+v, want a fresh start", start)
	}
}

// hangUpBot closes the bot's connection and waits until the stream has
// seen it go (its reader gets the close at once; the wait is bounded).
func (f *fixture) hangUpBot() {
	f.t.Helper()
	f.ws.Close(websocket.StatusNormalClosure, "bye")
	s := f.m.streams["call-1"].s
	for deadline := time.Now().Add(10 * time.Second); s.connected(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatal("the stream did not notice its bot leave")
		}
	}
}

// When another node takes the call over, the bot's connection here closes
// with 1012 (service restart), without stop: it connects again.
func TestStreamMovesAway(t *testing.T) {
	f := newFixture(t, `{"switchboard":{}}`, "alice")
	f.connectBot()
	f.read()
	f.m.ConversationChanged(&calls.Conversation{ID: "room-1"}) // evicted: no legs
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		typ, b, err := f.ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusServiceRestart {
				t.Fatalf("the connection ended with %v, want 1012", err)
			}
			break
		}
		if typ == websocket.MessageText && strings.Contains(string(b), `"stop"`) {
			t.Fatalf("a moved stream sent stop: %s", b)
		}
	}
	if _, resp, err := f.connect(botApp); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("connecting again here: %v; want 404, the stream is on the other node", err)
	}
}

// A stream that Switchboard connects to the bot's URL takes no
// connection, so the two ways cannot replace each other in a loop.
func TestStreamWithURLTakesNoConnection(t *testing.T) {
	f := newFixture(t, `{"switchboard":{"url":"ws://127.0.0.1:1/unreachable"}}`)
	if err := f.m.ServeMedia(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), botApp, "call-1"); err != ErrConnectsOut {
		t.Fatalf("ServeMedia: %v, want ErrConnectsOut", err)
	}
}

// Switchboard dials the bot's URL as named: a redirect fails the attempt
// (it could downgrade wss:// or take the token elsewhere), and the next
// attempt waits on the clock.
func TestStreamDialRefusesRedirects(t *testing.T) {
	followed := make(chan struct{}, 10)
	redirects := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed <- struct{}{}
			return
		}
		redirects <- struct{}{}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, `{"switchboard":{"url":"ws`+strings.TrimPrefix(srv.URL, "http")+`/media"}}`)
	select {
	case <-redirects:
	case <-time.After(10 * time.Second):
		t.Fatal("Switchboard did not dial the bot's URL")
	}
	// The failed attempt schedules the next on the fake clock.
	for deadline := time.Now().Add(10 * time.Second); f.clk.Pending() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no retry was scheduled after the redirect")
		}
	}
	select {
	case <-followed:
		t.Fatal("the redirect was followed")
	default:
	}
}

// countMetrics counts what a stream reports.
type countMetrics struct {
	mu      sync.Mutex
	dropped map[string]int
}

func (c *countMetrics) Dropped(direction string, frames int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped[direction] += frames
}
func (c *countMetrics) Connected(int) {}

// A bot may queue 60 s of voice: beyond, the rest is dropped, counted,
// and the bot told once. A message over 64 KiB closes the connection with
// 1009.
func TestStreamLimitsWhatTheBotSends(t *testing.T) {
	f := newFixture(t, `{"switchboard":{}}`, "alice")
	metrics := &countMetrics{dropped: make(map[string]int)}
	f.m.streams["call-1"].s.metrics = metrics
	f.connectBot()
	f.read()
	f.sendAudio(media.Silence(61 * time.Second))
	if e, _ := f.until("error"); !strings.Contains(e.Message, "60 s") {
		t.Fatalf("error %+v", e)
	}
	f.settle()
	metrics.mu.Lock()
	dropped := metrics.dropped["fromBot"]
	metrics.mu.Unlock()
	if dropped != 50 {
		t.Errorf("%d frames of the bot's voice dropped, want the 50 beyond 60 s", dropped)
	}
	if err := f.ws.Write(t.Context(), websocket.MessageBinary, make([]byte, MaxMessageBytes+2)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := f.ws.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
				t.Fatalf("after a message over 64 KiB: %v, want 1009", err)
			}
			break
		}
	}
}

// A connected bot that lets MaxQueuedEvents wait is disconnected (it may
// come back and resume); the engine never waits for it.
func TestStreamDisconnectsABotThatFallsBehind(t *testing.T) {
	s := newStream("bot", "call-1", "call-1", Settings{SampleRate: 16000}, clock.NewFake(time.Now()), DefaultGrace, nil, slog.New(slog.DiscardHandler))
	stopped := false
	c := &conn{wake: make(chan struct{}, 1), stop: func() { stopped = true }}
	s.conn, s.ever = c, true // connected, and its writer is stuck
	for range MaxQueuedEvents {
		s.Key('1', "alice")
	}
	if !s.connected() || stopped {
		t.Fatal("disconnected before the limit")
	}
	s.Key('2', "alice")
	if s.connected() || !stopped {
		t.Fatal("a bot with 1,000 events waiting is still connected")
	}
	if len(s.events) != MaxQueuedEvents {
		t.Fatalf("%d events kept for a resume, want %d", len(s.events), MaxQueuedEvents)
	}
}

// Events and audio reach the bot in the order they happened, and each
// event names its frame: a key pressed after ten frames comes after those
// ten, with frame 10; stop comes after every frame.
func TestStreamKeepsOrder(t *testing.T) {
	f := newFixture(t, `{"switchboard":{}}`, "alice")
	alice := f.person("alice")
	f.connectBot()
	start := f.read().event
	f.step(200 * time.Millisecond)
	if err := alice.PressOutOfBand('3'); err != nil {
		t.Fatal(err)
	}
	f.step(200 * time.Millisecond)
	f.conv.Legs[0].State = calls.StateTerminated
	f.m.ConversationChanged(f.conv)
	var frames int
	var got []string
	for {
		m := f.read()
		if m.event.Event == "" {
			frames++
			continue
		}
		got = append(got, m.event.Event)
		if m.event.Event == "dtmf" && (frames != 11 || m.event.Frame != start.Frame+11) {
			t.Errorf("the key came after %d frames, with frame %d (start %d); want after the 11 it followed", frames, m.event.Frame, start.Frame)
		}
		if m.event.Event == "stop" {
			break
		}
	}
	if frames != 20 || len(got) != 2 {
		t.Errorf("%d frames and events %q before the close; want 20 frames, dtmf then stop", frames, got)
	}
}

// person puts a simulated person with a script in the call's audio.
func (f *fixture) person(id string, script ...media.Action) *media.SimPerson {
	f.t.Helper()
	p, err := media.NewSimPerson(id, script...)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.engine.AddEndpoint("room-1", p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// connectBot connects the call's own bot, or fails the test.
func (f *fixture) connectBot() {
	f.t.Helper()
	var err error
	if f.ws, _, err = f.connect(botApp); err != nil {
		f.t.Fatal(err)
	}
}
