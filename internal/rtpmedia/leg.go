package rtpmedia

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// ErrInvalid: a Config that cannot work.
var ErrInvalid = errors.New("rtpmedia: invalid configuration")

// Writer sends a leg's packets: a Socket, or a fake in tests. WriteTo must
// not keep b, and should not block (a UDP socket's does not, in practice):
// the engine's tick waits for it.
type Writer interface {
	WriteTo(b []byte, to netip.AddrPort) error
}

// Config is a Leg's setup.
type Config struct {
	// ID names the leg in its room (media.Endpoint.ID). Required.
	ID string
	// Media is the negotiated stream, from sdp.Answer or sdp.ParseAnswer:
	// the encoding and payload types, the peer's address and the
	// direction.
	Media sdp.Media
	// Latch turns on symmetric RTP (RFC 4961), for peers behind NAT: the
	// first valid packet, from wherever it comes, fixes the peer's
	// address; packets go there and are accepted only from there.
	// Without Latch, packets go to Media.Remote and are accepted only from
	// it.
	Latch bool
	// Writer sends the leg's packets; nil sends none.
	Writer Writer
	// JitterDepth is how many packets the jitter buffer gathers before it
	// plays; 0 means DefaultJitterDepth, and at most MaxJitterDepth.
	JitterDepth int
	// EventDuration and EventGap are how long SendDigits presses each key
	// and waits between keys: 0 means media.DefaultToneDuration and
	// media.DefaultToneGap; shorter than media.MinToneDuration and
	// media.MinToneGap is raised to them, longer than 8 s lowered.
	EventDuration, EventGap time.Duration
	// Timeout, when positive, is how long without a valid packet makes the
	// leg call OnTimeout (once, on a goroutine of its own), while the
	// direction says the peer sends. It counts from New and from each
	// Update. Clock and OnTimeout are then required.
	Timeout   time.Duration
	OnTimeout func()
	Clock     clock.Clock
}

// Stats counts what a Leg did.
type Stats struct {
	Received uint64 // valid packets received, audio and events
	Sent     uint64 // packets sent
	Keys     uint64 // RFC 4733 key presses received

	Lost      uint64 // packets missing in the stream, concealed with silence
	Late      uint64 // packets that came after their turn
	Duplicate uint64
	Dropped   uint64 // packets discarded to keep the delay bounded
	Underruns uint64 // times the jitter buffer ran dry
	Resyncs   uint64 // jumps of the sequence numbers that restarted it

	Malformed  uint64 // not RTP version 2, or a payload that does not fit its type
	UnknownPT  uint64 // payload types not negotiated
	Foreign    uint64 // packets from an address other than the peer's
	SendErrors uint64

	Remote  netip.AddrPort // where packets go; invalid when nowhere yet
	Latched bool
}

// Leg is the media of one SIP call: a media.Endpoint (and media.Gapper)
// that brings an RTP peer into an engine room.
//
// Each engine tick, Speak plays one 20 ms frame out of the jitter buffer
// (G.711 decoded, 8 kHz resampled to 16 kHz) together with one RFC 4733
// key received since the last tick, and Hear sends one packet of what the
// leg hears (16 kHz resampled to 8 kHz, G.711 encoded), or of the
// telephone event SendDigits is sending: the engine's 20 ms clock paces
// the stream. Gap, when the engine skipped frames, restarts the jitter
// buffer and moves the RTP timestamp on by the frames skipped. Speak,
// Hear and Gap are the engine's: it calls them one at a time.
//
// Receive takes the packets the leg's Socket reads, from any goroutine;
// SendDigits, Update, Stats and Close may be called from any goroutine
// too. A Leg never blocks on the network and never calls the engine.
type Leg struct {
	id string
	wd *Watchdog // nil without a timeout

	mu      sync.Mutex
	m       sdp.Media
	latch   bool
	latched bool
	remote  netip.AddrPort
	w       Writer
	closed  bool
	stats   Stats

	// receiving
	pkt      rtp.Packet
	ssrcIn   uint32
	haveSSRC bool
	jb       *jitterBuffer
	evIn     eventReceiver
	keys     []rune
	up       *converter // made at first use: a resampler costs ~0.3 ms to set up
	upIdle   int        // frames of silence put through up in a row
	narrowIn [NarrowFrame]int16

	// sending
	down      *converter // made at first use, like up
	downIdle  int        // frames of silence put through down in a row
	narrowOut [NarrowFrame]int16
	evOut     *eventSender
	sending   bool
	hdr       rtp.Header
	payload   []byte
	out       []byte
}

var _ media.Gapper = (*Leg)(nil)

// New returns a Leg for cfg. It fails with ErrInvalid when cfg lacks an
// ID or an encoding, or has a timeout and no clock.
func New(cfg Config) (*Leg, error) {
	m := cfg.Media
	switch {
	case cfg.ID == "":
		return nil, fmt.Errorf("%w: no id", ErrInvalid)
	case m.Encoding != sdp.PCMU && m.Encoding != sdp.PCMA:
		return nil, fmt.Errorf("%w: encoding %v", ErrInvalid, m.Encoding)
	case m.PT > 127 || m.EventPT > 127 || m.RecvEventPT > 127:
		return nil, fmt.Errorf("%w: payload type over 127", ErrInvalid)
	case cfg.JitterDepth < 0 || cfg.JitterDepth > MaxJitterDepth:
		return nil, fmt.Errorf("%w: jitter depth %d outside 0-%d", ErrInvalid, cfg.JitterDepth, MaxJitterDepth)
	case cfg.Timeout < 0 || cfg.Timeout > 0 && (cfg.Clock == nil || cfg.OnTimeout == nil):
		return nil, fmt.Errorf("%w: a timeout needs a clock and a function", ErrInvalid)
	}
	depth := cfg.JitterDepth
	if depth == 0 {
		depth = DefaultJitterDepth
	}
	tone, gap := cfg.EventDuration, cfg.EventGap
	if tone <= 0 {
		tone = media.DefaultToneDuration
	}
	if gap <= 0 {
		gap = media.DefaultToneGap
	}
	tone = min(max(tone, media.MinToneDuration), maxEventDuration)
	gap = max(gap, media.MinToneGap)
	l := &Leg{
		id:      cfg.ID,
		m:       m,
		latch:   cfg.Latch,
		remote:  unmap(m.Remote),
		w:       cfg.Writer,
		jb:      newJitterBuffer(depth),
		evOut:   newEventSender(tone, gap),
		payload: make([]byte, 0, MaxPayload),
		out:     make([]byte, 1500),
		hdr: rtp.Header{
			Version: 2, SSRC: rand.Uint32(),
			SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32(),
		},
	}
	if cfg.Timeout > 0 {
		l.wd = NewWatchdog(cfg.Clock, cfg.Timeout, cfg.OnTimeout)
		if m.Direction.Receives() {
			l.wd.Start()
		}
	}
	return l, nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// ID implements media.Endpoint.
func (l *Leg) ID() string { return l.id }

// Speak implements media.Endpoint: the next 20 ms out of the jitter buffer,
// and the next key received out of band.
func (l *Leg) Speak(f *media.Frame) (bool, rune) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var key rune
	if len(l.keys) > 0 {
		key = l.keys[0]
		l.keys = l.keys[:copy(l.keys, l.keys[1:])]
	}
	if !l.jb.pop(l.narrowIn[:]) || l.narrowIn == [NarrowFrame]int16{} {
		// Nothing came, or digital silence. Once the resampler has let
		// out what it held, the frame is silence and need not be computed.
		if l.upIdle >= 2 {
			return false, key
		}
		l.upIdle++
	} else {
		l.upIdle = 0
	}
	if l.up == nil {
		l.up = newConverter(NarrowRate, media.SampleRate)
	}
	l.up.convert(f[:], l.narrowIn[:])
	return *f != media.Frame{}, key
}

// Hear implements media.Endpoint: it sends one packet, of f or of a
// telephone event, when the direction sends and the peer's address is
// known.
func (l *Leg) Hear(f *media.Frame) {
	l.mu.Lock()
	ts := l.hdr.Timestamp
	l.hdr.Timestamp += NarrowFrame
	to, w := l.remote, l.w
	if l.closed || w == nil || !l.m.Direction.Sends() || !to.IsValid() || to.Addr().IsUnspecified() || to.Port() == 0 {
		l.sending = false
		l.mu.Unlock()
		return
	}
	h := l.hdr
	h.Timestamp, h.Marker = ts, false
	if !l.sending { // the stream starts, or resumes after hold or a gap
		l.sending, h.Marker = true, true
		if l.down == nil {
			l.down = newConverter(media.SampleRate, NarrowRate)
		}
		l.down.reset()
		l.downIdle = 0
	}
	if e, start, marker, ok := l.evOut.tick(ts); ok && l.m.EventPT != 0 {
		h.PayloadType, h.Timestamp, h.Marker = l.m.EventPT, start, marker
		l.payload = e.appendTo(l.payload[:0])
	} else {
		h.PayloadType = l.m.PT
		switch quiet := *f == (media.Frame{}); {
		case quiet && l.downIdle >= 2:
			// The resampler has let out what it held, and silence in is
			// silence out: no need to compute it.
			l.narrowOut = [NarrowFrame]int16{}
		case quiet:
			l.downIdle++
			l.down.convert(l.narrowOut[:], f[:])
		default:
			l.downIdle = 0
			l.down.convert(l.narrowOut[:], f[:])
		}
		l.payload = encode(l.payload[:0], l.narrowOut[:], l.m.Encoding)
	}
	l.hdr.SequenceNumber++
	p := rtp.Packet{Header: h, Payload: l.payload}
	n, err := p.MarshalTo(l.out)
	l.stats.Sent++
	l.mu.Unlock()
	if err == nil {
		err = w.WriteTo(l.out[:n], to)
	}
	if err != nil {
		l.mu.Lock()
		l.stats.SendErrors++
		l.mu.Unlock()
	}
}

// Gap implements media.Gapper: the engine skipped n frames, whose audio is
// gone both ways.
func (l *Leg) Gap(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.jb.reset()
	if l.up != nil {
		l.up.reset()
	}
	l.upIdle = 0
	l.hdr.Timestamp += uint32(n) * NarrowFrame
	l.sending = false // the next packet has the marker bit
}

// Receive takes one packet read from the leg's socket, from the address
// from; b is not kept. Packets that are not RTP version 2, that come from
// another address than the peer's (see Config.Latch), or whose payload
// type was not negotiated, are counted and dropped. Audio may use the
// negotiated payload type or the static 0 (PCMU) and 8 (PCMA); telephone
// events the one the peer was told to send or the one the leg sends with.
// A new SSRC restarts the jitter buffer.
func (l *Leg) Receive(b []byte, from netip.AddrPort) {
	from = unmap(from)
	l.mu.Lock()
	ok := l.receive(b, from)
	l.mu.Unlock()
	if ok && l.wd != nil {
		l.wd.Feed()
	}
}

// receive does Receive's work with l.mu held, and reports whether the
// packet was valid.
func (l *Leg) receive(b []byte, from netip.AddrPort) bool {
	if l.closed {
		return false
	}
	if !l.accepts(from) {
		l.stats.Foreign++
		return false
	}
	if err := l.pkt.Unmarshal(b); err != nil || l.pkt.Version != 2 {
		l.stats.Malformed++
		return false
	}
	pt, payload := l.pkt.PayloadType, l.pkt.Payload
	enc, isEvent := sdp.EncodingUnknown, false
	switch {
	case pt == l.m.PT:
		enc = l.m.Encoding
	case pt == 0:
		enc = sdp.PCMU
	case pt == 8:
		enc = sdp.PCMA
	case l.m.RecvEventPT != 0 && pt == l.m.RecvEventPT, l.m.EventPT != 0 && pt == l.m.EventPT:
		isEvent = true
	default:
		l.stats.UnknownPT++
		return false
	}
	var ev event
	if isEvent {
		var err error
		if ev, err = parseEvent(payload); err != nil {
			l.stats.Malformed++
			return false
		}
	} else if len(payload) == 0 || len(payload) > MaxPayload {
		l.stats.Malformed++
		return false
	}
	if l.latch && !l.latched {
		l.remote, l.latched = from, true
	}
	if ssrc := l.pkt.SSRC; !l.haveSSRC || ssrc != l.ssrcIn {
		if l.haveSSRC {
			l.jb.reset()
			l.evIn.reset()
		}
		l.ssrcIn, l.haveSSRC = ssrc, true
	}
	l.stats.Received++
	if !l.m.Direction.Receives() {
		return true // on hold: valid, but not played
	}
	l.jb.push(l.pkt.SequenceNumber, !isEvent, enc, payload)
	if isEvent {
		if k := l.evIn.receive(l.pkt.Timestamp, ev); k != 0 {
			l.stats.Keys++
			if len(l.keys) < maxPendingKeys {
				l.keys = append(l.keys, k)
			}
		}
	}
	return true
}

// accepts reports whether a packet from from may be the peer's.
func (l *Leg) accepts(from netip.AddrPort) bool {
	if l.latch && !l.latched {
		return from.IsValid()
	}
	return l.remote.IsValid() && from == l.remote
}

// SendDigits queues keys ('0'-'9', '*', '#', 'A'-'D', lower-case a-d too) to
// send as RFC 4733 events, after any still queued. They go out at the
// engine's pace, in place of audio, each for Config.EventDuration
// followed by Config.EventGap. It fails with ErrNoEvents when the peer did
// not negotiate telephone-event (send in-band tones instead), with an
// error wrapping media.ErrInvalid for a key that is not DTMF, and with
// ErrTooManyKeys when too many wait already.
func (l *Leg) SendDigits(keys string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m.EventPT == 0 {
		return ErrNoEvents
	}
	return l.evOut.add(keys)
}

// Sending reports whether keys given to SendDigits are still being sent.
func (l *Leg) Sending() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evOut.busy()
}

// Update applies a renegotiation (a re-INVITE: hold, resume, a new address
// or codec). A new Media.Remote undoes a latch: the peer's address is
// latched again from the next packet. The timeout starts anew when the
// peer now sends and pauses while it does not.
func (l *Leg) Update(m sdp.Media) error {
	if m.Encoding != sdp.PCMU && m.Encoding != sdp.PCMA {
		return fmt.Errorf("%w: encoding %v", ErrInvalid, m.Encoding)
	}
	l.mu.Lock()
	if unmap(m.Remote) != unmap(l.m.Remote) {
		l.remote, l.latched = unmap(m.Remote), false
	}
	l.m = m
	closed := l.closed
	l.mu.Unlock()
	if l.wd != nil && !closed {
		l.wd.Pause()
		if m.Direction.Receives() {
			l.wd.Start()
		}
	}
	return nil
}

// Stats returns what the leg counted so far.
func (l *Leg) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Lost, s.Late, s.Duplicate = l.jb.lost, l.jb.late, l.jb.dup
	s.Dropped, s.Underruns, s.Resyncs = l.jb.dropped, l.jb.underruns, l.jb.resyncs
	s.Remote, s.Latched = l.remote, l.latched
	return s
}

// Close stops the leg: it sends and plays nothing more, and its timeout
// will not fire. It does not close its Writer. Closing twice is harmless.
func (l *Leg) Close() {
	l.mu.Lock()
	l.closed = true
	l.jb.reset()
	l.keys = l.keys[:0]
	l.mu.Unlock()
	if l.wd != nil {
		l.wd.Stop()
	}
}
