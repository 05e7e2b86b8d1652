package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/mediastream"
)

// streamBot is a bot's connection to its call's app-hosted media stream
// (docs/media-streams.md), with what it received placed on the timeline.
type streamBot struct {
	t      *testing.T
	ws     *websocket.Conn
	start  mediastream.Event
	first  uint32 // sequence of the first mix frame
	last   uint32
	tracks map[uint16][]int16 // by track, from frame first; silence where nothing came
	events []mediastream.Event
}

// appHostedCall is a group call to users with app-hosted media; blob is
// the appHostedMediaConfig's blob.
func appHostedCall(callbackURI, blob string, users ...string) *models.Call {
	call := callRequest(callbackURI, users...)
	mc := models.NewAppHostedMediaConfig()
	mc.SetBlob(&blob)
	call.SetMediaConfig(mc)
	return call
}

// connectStream connects to call id's media endpoint with the development
// application's token; dial, when set, dials the TCP connection.
func connectStream(t *testing.T, s *server, id string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *streamBot {
	t.Helper()
	return connectStreamAs(t, s, devApp, id, dial)
}

// connectStreamAs is connectStream for application a.
func connectStreamAs(t *testing.T, s *server, a appCreds, id string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *streamBot {
	t.Helper()
	client := devHTTPClient(t, s.DevCA())
	tok := fetchAppToken(t, client, s.HTTPS, a)
	if dial != nil {
		tr := client.Transport.(*http.Transport).Clone()
		tr.DialContext = dial
		client = &http.Client{Transport: tr}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(s.HTTPS, "https")+"/switchboard/v1/calls/"+id+"/media", &websocket.DialOptions{
		HTTPClient: client, HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}, Subprotocols: []string{mediastream.Protocol}})
	if err != nil {
		t.Fatalf("connecting to the media stream: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(1 << 20)
	b := &streamBot{t: t, ws: ws, tracks: make(map[uint16][]int16)}
	if dial == nil {
		if b.start = b.next(); b.start.Event != "start" {
			t.Fatalf("first message %+v, want start", b.start)
		}
	}
	return b
}

// read reads one message: an event (true), or audio, placed on its
// track's timeline by its frame sequence.
func (b *streamBot) read() (mediastream.Event, bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.t.Context(), 15*time.Second)
	defer cancel()
	typ, msg, err := b.ws.Read(ctx)
	if err != nil {
		b.t.Fatalf("reading the media stream: %v", err)
	}
	if typ == websocket.MessageText {
		var e mediastream.Event
		if err := json.Unmarshal(msg, &e); err != nil {
			b.t.Fatalf("event %s: %v", msg, err)
		}
		b.events = append(b.events, e)
		return e, true
	}
	track, seq, pcm, err := mediastream.AudioHeader(msg)
	if err != nil {
		b.t.Fatal(err)
	}
	if b.first == 0 {
		b.first = seq
	}
	if seq < b.first {
		return mediastream.Event{}, false
	}
	b.last = max(b.last, seq)
	at := int(seq-b.first) * media.FrameSamples
	a := b.tracks[track]
	if len(a) < at {
		a = append(a, make([]int16, at-len(a))...)
	}
	samples, _ := mediastream.ParseAudio(nil, pcm)
	b.tracks[track] = append(a[:at], samples...)
	return mediastream.Event{}, false
}

// next reads until an event, keeping the audio before it.
func (b *streamBot) next() mediastream.Event {
	b.t.Helper()
	for {
		if e, ok := b.read(); ok {
			return e
		}
	}
}

// audioFor reads d more of the stream's frames (events are kept).
func (b *streamBot) audioFor(d time.Duration) {
	b.t.Helper()
	for b.first == 0 {
		b.read()
	}
	for until := b.last + uint32(d/media.FrameDuration); b.last < until; {
		b.read()
	}
}

// event reads until an event named name.
func (b *streamBot) event(name string) mediastream.Event {
	b.t.Helper()
	for _, e := range b.events {
		if e.Event == name {
			b.events = nil
			return e
		}
	}
	for {
		if e := b.next(); e.Event == name {
			b.events = nil
			return e
		}
	}
}

func (b *streamBot) say(a media.Audio) {
	b.t.Helper()
	pcm := make([]byte, 0, 2*len(a.Samples))
	for _, v := range a.Samples {
		pcm = append(pcm, byte(v), byte(uint16(v)>>8))
	}
	for len(pcm) > 0 {
		n := min(len(pcm), 32000)
		if err := b.ws.Write(b.t.Context(), websocket.MessageBinary, pcm[:n]); err != nil {
			b.t.Fatal(err)
		}
		pcm = pcm[n:]
	}
}

func (b *streamBot) command(js string) {
	b.t.Helper()
	if err := b.ws.Write(b.t.Context(), websocket.MessageText, []byte(js)); err != nil {
		b.t.Fatal(err)
	}
}

// voice is a test signal that matches only itself: band-limited noise
// from seed.
func voice(seed uint64, d time.Duration) media.Audio {
	out := make([]int16, media.DurationSamples(d))
	x, prev := seed*2654435761+1, 0.0
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		v := float64(int64(x>>33)-(1<<30)) / (1 << 30)
		prev = 0.6*prev + 0.4*v // a gentle low-pass: speech-like, not white
		out[i] = int16(prev * 9000)
	}
	return media.Audio{Samples: out}
}

// phoneVoice is a test signal that matches only itself and fits the
// telephone band (a phone's G.711 keeps it): tones between 300 and 3,400
// Hz whose loudness moves at rates that never line up.
func phoneVoice(seed uint64, d time.Duration) media.Audio {
	out := make([]int16, media.DurationSamples(d))
	x := seed*2654435761 + 7
	rnd := func() float64 {
		x = x*6364136223846793005 + 1442695040888963407
		return float64(x>>11) / (1 << 53)
	}
	type part struct{ f, rate, phase float64 }
	parts := make([]part, 6)
	for i := range parts {
		parts[i] = part{f: 300 + 3100*rnd(), rate: 1 + 6*rnd(), phase: 2 * math.Pi * rnd()}
	}
	for i := range out {
		t := float64(i) / media.SampleRate
		var v float64
		for _, p := range parts {
			v += (1 + math.Sin(2*math.Pi*p.rate*t+p.phase)) * math.Sin(2*math.Pi*p.f*t)
		}
		out[i] = int16(v * 1500)
	}
	return media.Audio{Samples: out}
}

// simSay makes participant pid of call id say a.
func simSay(t *testing.T, s *server, tok, id, pid string, a media.Audio) {
	t.Helper()
	var wav bytes.Buffer
	media.EncodeWAV(&wav, a)
	resp, body := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodPost, s.HTTPS+"/switchboard/v1/simulation/calls/"+id+"/participants/"+pid+"/say", tok,
		http.Header{"Content-Type": {"audio/wav"}}, wav.Bytes())
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("say: %s %s", resp.Status, body)
	}
}

// simHeard is what participant pid of call id heard, the last minute.
func simHeard(t *testing.T, s *server, tok, id, pid string) media.Audio {
	t.Helper()
	resp, body := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodGet, s.HTTPS+"/switchboard/v1/simulation/calls/"+id+"/participants/"+pid+"/heard", tok, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("heard: %s %s", resp.Status, body)
	}
	a, err := media.DecodeWAV(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A bot created an app-hosted group call through msgraph-sdk-go and
// streams its audio: each person's own track matches what they said and
// names them; the bot's voice reaches every person; clear cuts it; keys
// name who pressed them; the stream ends with the call.
func TestAppHostedMediaStream(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	dev := newBot(t, s, devApp)
	tok := fetchToken(t, devHTTPClient(t, s.DevCA()), s.HTTPS)

	id := str(createCall(t, dev.GraphServiceClient, appHostedCall(rcv.URL(), `{"switchboard":{"unmixed":true}}`, alice, bob)).GetId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	b := connectStream(t, s, id, nil)
	pids := make(map[string]string) // user id -> participant id
	tracks := make(map[string]uint16)
	people := *b.start.Participants
	for len(people) < 2 { // the targets join after the bot's call is established
		if e := b.event("participantJoined"); e.Participant != nil {
			people = append(people, *e.Participant)
		}
	}
	for _, p := range people {
		if p.Identity != nil && p.Identity.User != nil {
			pids[p.Identity.User.ID] = p.ID
			tracks[p.Identity.User.ID] = uint16(p.Track)
		}
	}
	if len(pids) != 2 || pids[alice] == "" || pids[bob] == "" || tracks[alice] == tracks[bob] || !*b.start.Unmixed || b.start.Format.SampleRate != 16000 {
		t.Fatalf("start: %+v", b.start)
	}

	// Each says their own voice: their track carries it, and not the other's.
	said := map[string]media.Audio{alice: voice(1, 2*time.Second), bob: voice(2, 2*time.Second)}
	b.audioFor(200 * time.Millisecond)
	for user, a := range said {
		simSay(t, s, tok, id, pids[user], a)
	}
	b.audioFor(3 * time.Second)
	for user, a := range said {
		clip := media.Audio{Samples: a.Samples[:media.DurationSamples(time.Second)]}
		got := media.Audio{Samples: b.tracks[tracks[user]]}
		if _, score := media.Locate(got, clip); score < 0.9 {
			t.Errorf("%s's track matches what they said at %.2f, want >= 0.9", user, score)
		}
		other := alice
		if user == alice {
			other = bob
		}
		if _, score := media.Locate(media.Audio{Samples: b.tracks[tracks[other]]}, clip); score > 0.5 {
			t.Errorf("%s's voice is on %s's track (%.2f)", user, other, score)
		}
	}
	if _, score := media.Locate(media.Audio{Samples: b.tracks[mediastream.MixTrack]}, media.Audio{Samples: said[bob].Samples[:16000]}); score < 0.5 {
		t.Errorf("the mix does not carry bob (%.2f)", score)
	}

	// The bot speaks: both people hear it.
	botVoice := voice(3, 1500*time.Millisecond)
	b.say(botVoice)
	b.command(`{"event":"mark","name":"spoken"}`)
	if m := b.event("mark"); m.Name != "spoken" || m.Cleared != nil {
		t.Fatalf("mark %+v", m)
	}
	for _, user := range []string{alice, bob} {
		heard := simHeard(t, s, tok, id, pids[user])
		if _, score := media.Locate(heard, media.Audio{Samples: botVoice.Samples[:media.DurationSamples(time.Second)]}); score < 0.9 {
			t.Errorf("%s heard the bot's voice at %.2f, want >= 0.9", user, score)
		}
	}

	// clear cuts a long speech short: alice hears about as much of it as
	// was played before the clear, not 10 s.
	sent := time.Now()
	b.say(media.Tone(600, 10*time.Second, -12))
	b.command(`{"event":"mark","name":"long"}`)
	b.audioFor(time.Second)
	b.command(`{"event":"clear"}`)
	if m := b.event("mark"); m.Name != "long" || m.Cleared == nil || !*m.Cleared {
		t.Fatalf("after clear: %+v", m)
	}
	played := time.Since(sent)
	b.audioFor(500 * time.Millisecond)
	heard := simHeard(t, s, tok, id, pids[alice])
	var run int // samples of the tone at the end of what alice heard
	for i := len(heard.Samples) - media.FrameSamples; i >= 0; i -= media.FrameSamples {
		f := heard.Samples[i : i+media.FrameSamples]
		if media.Goertzel(f, 600) < -30 {
			if run > 0 {
				break
			}
			continue
		}
		run += media.FrameSamples
	}
	if got := media.SamplesDuration(run); got == 0 || got > played+200*time.Millisecond {
		t.Errorf("alice heard %v of the 10 s speech; want it cut by clear, about the %v it played", got, played)
	}

	// bob presses 4: the bot learns who.
	resp, body := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodPost, s.HTTPS+"/switchboard/v1/simulation/calls/"+id+"/participants/"+pids[bob]+"/pressTones", tok,
		http.Header{"Content-Type": {"application/json"}}, []byte(`{"keys":"4"}`))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("pressTones: %s %s", resp.Status, body)
	}
	if d := b.event("dtmf"); d.Digit != "4" || d.ParticipantID != pids[bob] {
		t.Errorf("dtmf %+v, want 4 from %s", d, pids[bob])
	}

	// The bot hangs up: the stream stops, and closes.
	if err := dev.call(id).Delete(t.Context(), nil); err != nil {
		t.Fatalf("hang up: %s", describe(err))
	}
	if e := b.event("stop"); e.Reason != "callEnded" {
		t.Errorf("stop %+v", e)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if _, _, err := b.ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after stop: %v, want a normal closure", err)
	}
}

// A bot that stops reading its stream does not disturb another call's:
// the other bot gets every frame, in order, while the stalled one's are
// dropped.
func TestStalledStreamBot(t *testing.T) {
	if clusterRun() {
		t.Skip("the drops are counted on the node that owns the stalled call; the single-node run covers it")
	}
	s := startServerWith(t, "", func(cfg *app.Config) { cfg.MetricsListen = "127.0.0.1:0" })
	rcv := newReceiver(t)
	dev := newBot(t, s, devApp)
	stalledID := str(createCall(t, dev.GraphServiceClient, appHostedCall(rcv.URL(), `{"switchboard":{"unmixed":true,"sampleRate":48000}}`, alice, bob)).GetId())
	rcv.expectStates(t, stalledID, 0, "updated:establishing", "updated:established")
	liveID := str(createCall(t, dev.GraphServiceClient, appHostedCall(rcv.URL(), `{"switchboard":{}}`, carol)).GetId())
	rcv.expectStates(t, liveID, 0, "updated:establishing", "updated:established")

	// The stalled bot never reads, and its socket's receive buffer is tiny:
	// once the server's send buffer is full (seconds: the kernel grows it
	// to megabytes), writes to it block.
	small := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
			return err
		}}
		return d.DialContext(ctx, network, addr)
	}
	connectStream(t, s, stalledID, small) // and never read
	tok := fetchToken(t, devHTTPClient(t, s.DevCA()), s.HTTPS)
	live := connectStream(t, s, liveID, nil)
	var stalledPIDs []string
	resp, body := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodGet, s.HTTPS+"/switchboard/v1/simulation/calls/"+stalledID, tok, nil, nil)
	var conv struct{ Roster []struct{ ID, CallID string } }
	json.Unmarshal(body, &conv)
	for _, p := range conv.Roster {
		if p.CallID == "" {
			stalledPIDs = append(stalledPIDs, p.ID)
		}
	}
	if resp.StatusCode != http.StatusOK || len(stalledPIDs) != 2 {
		t.Fatalf("the stalled call's roster: %s %s", resp.Status, body)
	}
	for i, pid := range stalledPIDs { // the stalled call is busy: 48 kHz, three tracks
		simSay(t, s, tok, stalledID, pid, voice(uint64(10+i), time.Minute))
	}
	// The live bot gets every frame, in order, until well after the
	// stalled bot's frames began to be dropped (its buffers full).
	dropped := func() bool {
		resp, err := http.Get("http://" + s.Addr("metrics") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		metrics, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`switchboard_media_stream_dropped_frames_total\{direction="toBot"\} [1-9]`).Match(metrics)
	}
	var frames, gaps, sinceDrops int
	var prev uint32
	deadline := time.Now().Add(90 * time.Second)
	for sinceDrops < 150 {
		if time.Now().After(deadline) {
			t.Fatalf("after %d frames the stalled bot's frames were still not dropped", frames)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		typ, msg, err := live.ws.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("the live stream: %v", err)
		}
		if typ != websocket.MessageBinary {
			continue
		}
		_, seq, _, _ := mediastream.AudioHeader(msg)
		if prev != 0 && seq != prev+1 {
			gaps++
		}
		prev = seq
		frames++
		switch {
		case sinceDrops > 0:
			sinceDrops++
		case frames%50 == 0 && dropped():
			sinceDrops = 1
		}
	}
	if gaps > 0 {
		t.Errorf("the live bot got %d frames with %d gaps while another bot stalled; want every frame in order", frames, gaps)
	}
	t.Logf("live stream: %d frames in order; the stalled bot's were dropped from frame %d", frames, frames-sinceDrops)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A phone is in an app-hosted call like anyone: the bot calls a user bound
// to sipp, which echoes every RTP packet; the bot's voice goes out to the
// phone over G.711 and comes back on the phone's own track.
func TestEchoPhoneInAppHostedCall(t *testing.T) {
	phone := newSippUAS(t, t.TempDir(), "echo")
	l := newPhoneLabWith(t, withContact(phoneUser, phone.URI), "sipp")
	t.Parallel()
	phone.start(t, "", 60*time.Second, "-rtp_echo")
	l.warmUp(t)

	id := str(createCall(t, l.bot.GraphServiceClient, appHostedCall(l.rcv.URL(), `{"switchboard":{"unmixed":true}}`, phoneUser)).GetId())
	l.rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	b := connectStreamAs(t, l.s, phoneBotApp, id, nil)
	people := *b.start.Participants
	for len(people) == 0 {
		if e := b.event("participantJoined"); e.Participant != nil {
			people = append(people, *e.Participant)
		}
	}
	if p := people[0]; p.Identity == nil || p.Identity.User == nil || p.Identity.User.ID != phoneUser {
		t.Fatalf("the stream's participant %+v, want the phone's user", p)
	}
	said := phoneVoice(5, 2*time.Second)
	b.audioFor(200 * time.Millisecond)
	b.say(said)
	b.audioFor(3 * time.Second)
	echo := media.Audio{Samples: b.tracks[uint16(people[0].Track)]}
	contains(t, echo, media.Audio{Samples: said.Samples[:media.DurationSamples(time.Second)]}, "the bot's voice, echoed by the phone, on the phone's track")

	l.hangUp(t, id)
	if e := b.event("stop"); e.Reason != "callEnded" {
		t.Errorf("stop %+v", e)
	}
	if code := phone.wait(t, phoneWait); code != 0 {
		t.Fatalf("sipp exited with %d: the phone did not get the BYE it expects", code)
	}
}
