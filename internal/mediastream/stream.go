package mediastream

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// Limits of a stream (docs/media-streams.md).
const (
	// MaxVoice is how much of the bot's voice may wait to be played: 60 s.
	// Audio beyond it is dropped (counted) and the bot told once.
	MaxVoice = 60 * media.SampleRate
	// MaxQueuedFrames is how much audio may wait for a slow bot: 3 s (of
	// the mix, and of each participant's track when unmixed). When it is
	// full the oldest message is dropped, and counted: the engine never
	// waits for a bot.
	MaxQueuedFrames = 150
	// MaxQueuedEvents is how many events may wait for the bot. A connected
	// bot that lets more wait is too slow to follow the call: its
	// connection is closed (it may connect again and resume). While no bot
	// is connected the oldest are dropped.
	MaxQueuedEvents = 1000
	// WriteTimeout bounds one message's write to the bot.
	WriteTimeout = 10 * time.Second
	// DefaultGrace is how long after a connection is lost a new one
	// resumes the stream (events queued meanwhile, the voice still queued,
	// marks, the sequence) rather than starting it afresh.
	DefaultGrace = 30 * time.Second
)

// Dominant speaker detection: the participant who speaks (a VAD) loudest,
// on a level smoothed over about 200 ms, once for dominantFrames in a row.
const (
	levelSmoothing = 0.1
	dominantFrames = 10
)

// Metrics counts what streams do; nil counts nothing.
type Metrics interface {
	// Dropped counts audio frames dropped: toward a bot too slow to take
	// them ("toBot"), or from a bot over MaxVoice ("fromBot").
	Dropped(direction string, frames int)
	// Connected moves the number of connected bots by delta.
	Connected(delta int)
}

// Stream is the media of one app-hosted call leg. In the conversation's
// room it is the bot's participant (a media.Tap: it hears the mix and each
// other participant, and says what the bot sends); toward the bot it is
// one WebSocket connection at a time. The engine calls Speak, Hear,
// HearEach and Key; the connection's goroutines and the Manager the rest.
type Stream struct {
	id       string // the bot's participant id: its member id in the room
	callID   string
	streamID string
	set      Settings
	clk      clock.Clock
	grace    time.Duration
	metrics  Metrics
	log      *slog.Logger

	mu       sync.Mutex
	link     media.Link
	seq      int64
	frame    uint32 // frames since the stream began
	conn     *conn  // nil while no bot is connected
	lostAt   time.Time
	ever     bool // a bot connected once
	ended    bool
	events   []queued // to the bot, in order; numbered as they are sent
	audio    []audioMsg
	people   map[string]*person // everyone in the call but the bot, by participant id
	order    []string           // people in the order they joined
	legs     map[string]string  // room member id of an application leg -> participant id
	tracks   int
	dominant string
	cand     string
	candN    int
	voice    []int16 // the bot's voice, 16 kHz: voice[vpos:] waits to be played
	vpos     int
	played   int64 // samples of voice played since the stream began
	queued   int64 // samples of voice queued since the stream began
	marks    []mark
	muted    bool
	toldFull bool
}

type person struct {
	p     Participant
	vad   media.VAD
	level float64
}

type mark struct {
	at   int64 // played reaches it
	name string
}

// queued is an event waiting for the bot, with its place among the audio
// messages waiting: it goes out after audio[:at].
type queued struct {
	e  Event
	at int
}

type audioMsg struct {
	track uint16
	seq   uint32
	pcm   media.Frame
}

// conn is one bot connection.
type conn struct {
	ws   *websocket.Conn
	wake chan struct{}
	stop context.CancelFunc
	// code and reason, when code is set, close the connection with a
	// close handshake (the writer does it: it may take seconds); without,
	// it is dropped.
	code   websocket.StatusCode
	reason string
}

func newStream(id, callID, streamID string, set Settings, clk clock.Clock, grace time.Duration, m Metrics, log *slog.Logger) *Stream {
	return &Stream{id: id, callID: callID, streamID: streamID, set: set, clk: clk, grace: grace, metrics: m, log: log,
		people: make(map[string]*person), legs: make(map[string]string)}
}

// ID implements media.Endpoint: the bot's participant id.
func (s *Stream) ID() string { return s.id }

// Speak implements media.Endpoint: the bot's voice, 20 ms at a time.
func (s *Stream) Speak(f *media.Frame) (bool, rune) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.voiceLeftLocked() == 0 {
		return false, 0
	}
	n := copy(f[:], s.voice[s.vpos:])
	clear(f[n:])
	s.vpos += n
	if s.vpos == len(s.voice) { // played out: the buffer serves again
		s.voice, s.vpos = s.voice[:0], 0
	}
	s.played += int64(n)
	s.reachMarksLocked(false)
	if s.muted {
		return false, 0 // played on, unheard
	}
	return true, 0
}

// voiceLeftLocked is how many samples of the bot's voice wait to be played.
func (s *Stream) voiceLeftLocked() int { return len(s.voice) - s.vpos }

// Hear implements media.Endpoint: the mix of everyone but the bot.
func (s *Stream) Hear(f *media.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frame++
	if s.conn != nil {
		s.pushAudioLocked(MixTrack, f)
	}
}

// HearEach implements media.Tap: each participant's own audio, for the
// unmixed tracks and the dominant speaker.
func (s *Stream) HearEach(from []string, said []*media.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, bestLevel := "", 0.0
	for i, id := range from {
		pid := s.participantLocked(id)
		p := s.people[pid]
		if p == nil {
			continue
		}
		f := said[i]
		var speaking bool
		var e float64
		if f != nil {
			for _, v := range f {
				e += float64(v) * float64(v)
			}
			e /= media.FrameSamples
			speaking = p.vad.Process(f)
			if s.set.Unmixed && s.conn != nil {
				s.pushAudioLocked(uint16(p.p.Track), f)
			}
		} else {
			speaking = p.vad.Quiet()
		}
		p.level += levelSmoothing * (e - p.level)
		if speaking && p.level > bestLevel {
			best, bestLevel = pid, p.level
		}
	}
	switch {
	case best == "" || best == s.dominant:
		s.cand, s.candN = "", 0
	case best == s.cand:
		s.candN++
	default:
		s.cand, s.candN = best, 1
	}
	if s.cand != "" && s.candN >= dominantFrames {
		s.dominant, s.cand, s.candN = s.cand, "", 0
		s.pushEventLocked(Event{Event: "dominantSpeaker", ParticipantID: s.dominant})
	}
}

// Key implements media.Tap: a DTMF key another participant pressed.
func (s *Stream) Key(key rune, from string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushEventLocked(Event{Event: "dtmf", ParticipantID: s.participantLocked(from), Digit: string(key)})
}

// Sleep implements media.Sleeper: a stream without a bot and without a
// voice to play lets its room sleep.
func (s *Stream) Sleep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil || s.voiceLeftLocked() > 0 {
		return 0
	}
	return media.SleepForever
}

// Slept implements media.Sleeper.
func (s *Stream) Slept(n int) {
	s.mu.Lock()
	s.frame += uint32(n)
	s.mu.Unlock()
}

// Link implements media.Sleeper.
func (s *Stream) Link(l media.Link) {
	s.mu.Lock()
	s.link = l
	s.mu.Unlock()
}

func (s *Stream) wakeRoom() {
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	l.Wake()
}

// participantLocked maps a room member (a participant, or an application
// leg) to its participant id.
func (s *Stream) participantLocked(member string) string {
	if pid, ok := s.legs[strings.ToLower(member)]; ok {
		return pid
	}
	return member
}

// pushAudioLocked queues a frame for the bot, dropping the oldest when the
// bot is behind.
func (s *Stream) pushAudioLocked(track uint16, f *media.Frame) {
	limit := MaxQueuedFrames
	if s.set.Unmixed {
		limit *= 1 + len(s.people)
	}
	if len(s.audio) >= limit {
		// Drop the oldest quarter at once, so that a bot that stays behind
		// costs one copy per quarter of the queue, not one per frame.
		n := limit / 4
		s.audio = s.audio[:copy(s.audio, s.audio[n:])]
		for i := range s.events {
			s.events[i].at = max(0, s.events[i].at-n)
		}
		if s.metrics != nil {
			s.metrics.Dropped("toBot", n)
		}
	}
	s.audio = append(s.audio, audioMsg{track: track, seq: s.frame, pcm: *f})
	s.signalLocked()
}

// pushEventLocked queues an event for the bot.
func (s *Stream) pushEventLocked(e Event) {
	if s.conn == nil && !s.ever {
		return // the first connection's start tells it all
	}
	e.Frame = s.frame
	if len(s.events) >= MaxQueuedEvents {
		if s.conn != nil {
			s.log.Warn("mediastream: the bot is too slow to take the call's events; closing its connection")
			s.conn.stop()
			s.dropConnLocked()
		}
		s.events = s.events[1:]
	}
	s.events = append(s.events, queued{e: e, at: len(s.audio)})
	s.signalLocked()
}

func (s *Stream) signalLocked() {
	if s.conn == nil {
		return
	}
	select {
	case s.conn.wake <- struct{}{}:
	default:
	}
}

// reachMarksLocked tells the bot of the marks its voice reached (all of
// them, cleared, when cleared).
func (s *Stream) reachMarksLocked(cleared bool) {
	for len(s.marks) > 0 && (cleared || s.marks[0].at <= s.played) {
		e := Event{Event: "mark", Name: s.marks[0].name}
		if cleared {
			e.Cleared = ptr(true)
		}
		s.pushEventLocked(e)
		s.marks = s.marks[1:]
	}
}

func ptr[T any](v T) *T { return &v }

// update brings the stream's view of the call up to date: who is in it
// (everyone joined but the bot), muted or not, and which room member is
// which participant; the bot hears of each change.
func (s *Stream) update(people []Participant, legs map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legs = legs
	seen := make(map[string]bool, len(people))
	for _, np := range people {
		seen[np.ID] = true
		p := s.people[np.ID]
		if p == nil {
			s.tracks++
			np.Track = s.tracks
			s.people[np.ID] = &person{p: np}
			s.order = append(s.order, np.ID)
			if s.ever || s.conn != nil {
				s.pushEventLocked(Event{Event: "participantJoined", Participant: &np})
			}
			continue
		}
		if p.p.Muted != np.Muted {
			p.p.Muted = np.Muted
			name := "participantUnmuted"
			if np.Muted {
				name = "participantMuted"
			}
			cp := p.p
			s.pushEventLocked(Event{Event: name, Participant: &cp})
		}
	}
	kept := s.order[:0]
	for _, id := range s.order {
		if seen[id] {
			kept = append(kept, id)
			continue
		}
		p := s.people[id]
		delete(s.people, id)
		if id == s.dominant {
			s.dominant = ""
		}
		cp := p.p
		s.pushEventLocked(Event{Event: "participantLeft", Participant: &cp})
	}
	s.order = kept
}

// startLocked is the start message of a connection.
func (s *Stream) startLocked(resumed bool) Event {
	e := Event{Event: "start", Protocol: Protocol, CallID: s.callID, StreamID: s.streamID,
		Format:  &Format{Encoding: "L16", SampleRate: s.set.SampleRate, Channels: 1, FrameMs: int(media.FrameDuration / time.Millisecond)},
		Unmixed: ptr(s.set.Unmixed), Resumed: ptr(resumed)}
	people := make([]Participant, 0, len(s.order))
	for _, id := range s.order {
		people = append(people, s.people[id].p)
	}
	e.Participants = &people
	return e
}

// attach makes ws the stream's connection, replacing any other, and runs
// it until it ends. It returns when the connection is over.
func (s *Stream) attach(ctx context.Context, ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &conn{ws: ws, wake: make(chan struct{}, 1), stop: cancel}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		ws.Close(websocket.StatusNormalClosure, "the call has ended")
		return
	}
	if s.conn != nil {
		s.conn.stop() // the new connection wins
		s.dropConnLocked()
	}
	resumed := s.ever && s.clk.Now().Sub(s.lostAt) <= s.grace
	if !resumed {
		s.events, s.voice, s.vpos, s.marks, s.muted, s.toldFull = nil, nil, 0, nil, false, false
		s.played, s.queued = 0, 0
	}
	start := s.startLocked(resumed)
	start.Frame = s.frame
	s.events = append([]queued{{e: start}}, s.events...)
	s.conn, s.ever = c, true
	s.signalLocked()
	s.mu.Unlock()
	if s.metrics != nil {
		s.metrics.Connected(1)
		defer s.metrics.Connected(-1)
	}
	s.wakeRoom()
	ws.SetReadLimit(MaxMessageBytes)
	go s.read(ctx, c)
	s.write(ctx, c)
	s.mu.Lock()
	if s.conn == c {
		s.dropConnLocked()
	}
	s.mu.Unlock()
}

// dropConnLocked forgets the connection: what was queued for it is lost,
// and the grace period starts.
func (s *Stream) dropConnLocked() {
	s.conn, s.audio, s.lostAt = nil, nil, s.clk.Now()
	for i := range s.events {
		s.events[i].at = 0
	}
}

// write sends what is queued to the bot until the connection ends, and
// closes it when the call ends.
func (s *Stream) write(ctx context.Context, c *conn) {
	conv := make(map[uint16]*converter)
	var buf []byte
	var samples []int16
	var spare []audioMsg // the batch sent last, reused for the next
	for {
		select {
		case <-ctx.Done():
			s.close(c)
			return
		case <-c.wake:
		}
		s.mu.Lock()
		if s.conn != c {
			s.mu.Unlock()
			s.close(c)
			return
		}
		events, audio, ended := s.events, s.audio, s.ended
		s.events, s.audio = nil, spare[:0] // the engine fills the other buffer meanwhile
		for i := range events {
			s.seq++
			events[i].e.Sequence = s.seq
		}
		s.mu.Unlock()
		// Events and audio go out in the order they were queued.
		sent := 0
		for _, q := range events {
			at := min(max(q.at, sent), len(audio))
			if !s.sendAudio(ctx, c, audio[sent:at], conv, &buf, &samples) {
				return
			}
			sent = at
			b, _ := json.Marshal(q.e)
			if !s.send(ctx, c, websocket.MessageText, b) {
				return
			}
		}
		if !s.sendAudio(ctx, c, audio[sent:], conv, &buf, &samples) {
			return
		}
		spare = audio
		if ended {
			s.mu.Lock()
			c.code, c.reason = websocket.StatusNormalClosure, "the call has ended"
			s.mu.Unlock()
			s.close(c)
			return
		}
	}
}

// sendAudio sends audio messages, at the stream's rate.
func (s *Stream) sendAudio(ctx context.Context, c *conn, audio []audioMsg, conv map[uint16]*converter, buf *[]byte, samples *[]int16) bool {
	for i := range audio {
		a := &audio[i]
		*samples = append((*samples)[:0], a.pcm[:]...)
		if s.set.SampleRate != media.SampleRate {
			cv := conv[a.track]
			if cv == nil {
				cv = newConverter(media.SampleRate, s.set.SampleRate)
				conv[a.track] = cv
			}
			*samples = cv.convert((*samples)[:0], a.pcm[:])
		}
		*buf = AppendAudio((*buf)[:0], a.track, a.seq, *samples)
		if !s.send(ctx, c, websocket.MessageBinary, *buf) {
			return false
		}
	}
	return true
}

// close ends connection c: with its close code, or at once.
func (s *Stream) close(c *conn) {
	s.mu.Lock()
	code, reason := c.code, c.reason
	s.mu.Unlock()
	if code == 0 {
		c.ws.CloseNow()
		return
	}
	c.ws.Close(code, reason)
}

func (s *Stream) send(ctx context.Context, c *conn, typ websocket.MessageType, b []byte) bool {
	wctx, cancel := context.WithTimeout(ctx, WriteTimeout)
	defer cancel()
	if err := c.ws.Write(wctx, typ, b); err != nil {
		s.log.Info("mediastream: the bot's connection failed", "err", err)
		c.stop()
		c.ws.CloseNow()
		return false
	}
	return true
}

// read takes the bot's voice and commands until the connection ends.
func (s *Stream) read(ctx context.Context, c *conn) {
	defer c.stop()
	var cv *converter
	if s.set.SampleRate != media.SampleRate {
		cv = newConverter(s.set.SampleRate, media.SampleRate)
	}
	var in []int16
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			in, err = ParseAudio(in[:0], b)
			if err != nil {
				s.tell(err.Error())
				continue
			}
			if cv != nil {
				in = cv.convert(nil, in)
			}
			s.say(in)
			continue
		}
		cmd, err := ParseCommand(b)
		if err != nil {
			s.tell(err.Error())
			continue
		}
		s.command(cmd)
	}
}

// tell sends the bot an error event.
func (s *Stream) tell(msg string) {
	s.mu.Lock()
	s.pushEventLocked(Event{Event: "error", Message: msg})
	s.mu.Unlock()
}

// say queues the bot's voice, up to MaxVoice.
func (s *Stream) say(samples []int16) {
	s.mu.Lock()
	room := MaxVoice - s.voiceLeftLocked()
	if len(samples) > room {
		dropped := len(samples) - max(room, 0)
		samples = samples[:max(room, 0)]
		if s.metrics != nil {
			s.metrics.Dropped("fromBot", (dropped+media.FrameSamples-1)/media.FrameSamples)
		}
		if !s.toldFull {
			s.toldFull = true
			s.pushEventLocked(Event{Event: "error", Message: "more than 60 s of audio is waiting to be played: the rest was dropped (pace your audio, or send clear)"})
		}
	} else {
		s.toldFull = false
	}
	if s.vpos > 0 && s.vpos >= len(s.voice)/2 { // move what is left to the front
		s.voice, s.vpos = s.voice[:copy(s.voice, s.voice[s.vpos:])], 0
	}
	s.voice = append(s.voice, samples...)
	s.queued += int64(len(samples))
	s.mu.Unlock()
	// No wake: the voice comes from a connection, and a connected stream
	// keeps its room awake (Sleep), so the engine's lock is not taken for
	// every message.
}

// command runs a command of the bot.
func (s *Stream) command(c Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.Event {
	case CmdClear:
		s.played += int64(s.voiceLeftLocked())
		s.voice, s.vpos = nil, 0
		s.reachMarksLocked(true)
	case CmdMark:
		s.marks = append(s.marks, mark{at: s.queued, name: c.Name})
		s.reachMarksLocked(false) // nothing queued: reached now
	case CmdMute:
		s.muted = true
	case CmdUnmute:
		s.muted = false
	}
}

// end tells the bot the call ended (stop) and closes its connection once
// what was queued is sent.
func (s *Stream) end(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.pushEventLocked(Event{Event: "stop", Reason: reason})
	s.ended = true
	s.signalLocked()
}

// moved closes the bot's connection without a stop: the call moved to
// another node (or this one stops), where the bot connects again (or is
// connected to) and the stream starts afresh.
func (s *Stream) moved() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	if c := s.conn; c != nil {
		// The writer closes it, with the handshake, once it wakes to find
		// it is no longer the stream's.
		c.code, c.reason = websocket.StatusServiceRestart, "the call moved to another node: connect again"
		s.dropConnLocked()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// connected reports whether a bot is connected.
func (s *Stream) connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// converter changes the sample rate of a track, keeping its filter's state
// from one frame to the next.
type converter struct {
	r       *media.Resampler
	in, out []float32
}

func newConverter(from, to int) *converter {
	r, _ := media.NewResampler(from, to)
	return &converter{r: r}
}

// convert appends src, at the converter's input rate, to dst at its output
// rate.
func (c *converter) convert(dst, src []int16) []int16 {
	c.in = c.in[:0]
	for _, v := range src {
		c.in = append(c.in, float32(v)/32768)
	}
	c.out = c.r.Write(c.out[:0], c.in)
	for _, v := range c.out {
		dst = append(dst, int16(math.Max(-32768, math.Min(32767, math.Round(float64(v)*32768)))))
	}
	return dst
}
