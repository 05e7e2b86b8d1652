package rtpmedia

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
)

// RFC 4733 telephone events.
const (
	// eventPayloadSize is the size of one event's payload (RFC 4733 §2.3).
	eventPayloadSize = 4
	eventEndBit      = 0x80
	// eventVolume is the power level sent, in -dBm0 (RFC 4733 §2.3.4):
	// a usual DTMF level.
	eventVolume = 10
	// eventEndRepeats is how many times the final packet of an event is
	// sent (RFC 4733 §2.5.1.4).
	eventEndRepeats = 3
	// maxEventDuration is the longest event one packet's 16-bit duration
	// can describe at 8 kHz, rounded down to whole packets.
	maxEventDuration = 8 * time.Second
	// maxPendingKeys bounds the keys waiting to be sent or reported.
	maxPendingKeys = 64
)

// eventKeys maps RFC 4733 event codes 0-15 to DTMF keys (§3.2).
const eventKeys = "0123456789*#ABCD"

// ErrNoEvents: telephone-event was not negotiated, so keys cannot be
// sent out of band; send them in-band (media.Engine.SendTones) instead.
var ErrNoEvents = errors.New("rtpmedia: telephone-event not negotiated")

// ErrTooManyKeys: SendDigits was given more keys than can wait.
var ErrTooManyKeys = errors.New("rtpmedia: too many keys waiting to be sent")

// eventKey returns the DTMF key of an event code, or 0 for events that are
// not keys (flash, tones).
func eventKey(code byte) rune {
	if int(code) < len(eventKeys) {
		return rune(eventKeys[code])
	}
	return 0
}

// eventCode is the inverse of eventKey; ok is false for a rune that is not
// an upper-case DTMF key.
func eventCode(key rune) (byte, bool) {
	for i, k := range eventKeys {
		if k == key {
			return byte(i), true
		}
	}
	return 0, false
}

// event is one telephone-event payload.
type event struct {
	code     byte
	end      bool
	volume   byte
	duration uint16
}

// parseEvent reads the first event of a payload; more than one (RFC 2198
// redundancy, which is not negotiated) is ignored.
func parseEvent(b []byte) (event, error) {
	if len(b) < eventPayloadSize {
		return event{}, fmt.Errorf("rtpmedia: telephone-event payload of %d bytes", len(b))
	}
	return event{code: b[0], end: b[1]&eventEndBit != 0, volume: b[1] & 0x3f, duration: binary.BigEndian.Uint16(b[2:4])}, nil
}

func (e event) appendTo(b []byte) []byte {
	flags := e.volume & 0x3f
	if e.end {
		flags |= eventEndBit
	}
	return binary.BigEndian.AppendUint16(append(b, e.code, flags), e.duration)
}

// eventReceiver turns the packets of received telephone events into key
// presses, each reported once. An event is known by its RTP timestamp
// (RFC 4733 §2.5.2.1): its first packet reports the key, whatever its
// duration (a zero-duration first packet included) and whether or not
// its marker packet was lost; later packets with that timestamp, the
// retransmitted final ones among them, and the segments a long event is
// cut into (§2.5.1.3) report nothing; packets older than the last event
// are ignored. Not safe for concurrent use.
type eventReceiver struct {
	have  bool
	ts    uint32 // timestamp of the last event
	code  byte
	dur   uint16 // its longest duration seen
	ended bool
}

// receive takes one event packet and returns the key it presses, or 0.
func (r *eventReceiver) receive(ts uint32, e event) rune {
	if r.have {
		d := int32(ts - r.ts)
		switch {
		case d == 0:
			r.dur = max(r.dur, e.duration)
			r.ended = r.ended || e.end
			return 0
		case d < 0:
			return 0 // a straggler of an older event
		case !r.ended && e.code == r.code && uint32(d) <= uint32(r.dur):
			// the next segment of a long event: the same press
			r.ts, r.dur, r.ended = ts, e.duration, e.end
			return 0
		}
	}
	r.have, r.ts, r.code, r.dur, r.ended = true, ts, e.code, e.duration, e.end
	return eventKey(e.code)
}

// reset forgets the events seen, for a new stream.
func (r *eventReceiver) reset() { *r = eventReceiver{} }

// eventSender sends queued keys as RFC 4733 events, one packet per 20 ms
// tick (RFC 4733 §2.5.1): the first with the marker bit, all of one event
// with the timestamp of its start and the duration so far, the last one
// with the end bit, sent eventEndRepeats times on consecutive ticks, then
// a gap before the next key. Not safe for concurrent use.
type eventSender struct {
	queue     []byte // event codes waiting
	active    bool
	code      byte
	start     uint32 // RTP timestamp of the event's start
	sent      int    // packets of the current event sent so far
	endsSent  int
	gapLeft   int // ticks still to wait before the next event
	toneTicks int // ticks an event lasts
	gapTicks  int
}

// newEventSender returns a sender that presses each key for tone and
// waits gap between keys (after the repeated final packets), both rounded
// down to whole ticks.
func newEventSender(tone, gap time.Duration) *eventSender {
	return &eventSender{
		toneTicks: max(1, int(tone/media.FrameDuration)),
		gapTicks:  max(1, int(gap/media.FrameDuration)),
	}
}

// add queues keys (as media.NormalizeKeys takes them); it fails without
// queueing any when one is not a DTMF key (with media.ErrInvalid) or too
// many would wait.
func (s *eventSender) add(keys string) error {
	keys, err := media.NormalizeKeys(keys)
	if err != nil {
		return err
	}
	codes := make([]byte, 0, len(keys))
	for _, k := range keys {
		c, _ := eventCode(k)
		codes = append(codes, c)
	}
	if len(s.queue)+len(codes) > maxPendingKeys {
		return ErrTooManyKeys
	}
	s.queue = append(s.queue, codes...)
	return nil
}

// busy reports whether the sender has an event to send or a gap to wait.
func (s *eventSender) busy() bool { return s.active || s.gapLeft > 0 || len(s.queue) > 0 }

// tick is called once per 20 ms tick whose RTP timestamp is ts. It returns
// the event packet to send in place of audio, if any.
func (s *eventSender) tick(ts uint32) (e event, evTS uint32, marker, ok bool) {
	if !s.active {
		if s.gapLeft > 0 {
			s.gapLeft--
			return event{}, 0, false, false
		}
		if len(s.queue) == 0 {
			return event{}, 0, false, false
		}
		s.active, s.code, s.start, s.sent, s.endsSent = true, s.queue[0], ts, 0, 0
		s.queue = s.queue[1:]
	}
	total := s.toneTicks * NarrowFrame
	e = event{code: s.code, volume: eventVolume, duration: uint16(min((s.sent+1)*NarrowFrame, total))}
	marker = s.sent == 0
	s.sent++
	if s.sent >= s.toneTicks {
		e.end = true
		if s.endsSent++; s.endsSent >= eventEndRepeats {
			// the gap runs from the first final packet
			s.active, s.gapLeft = false, max(1, s.gapTicks-(eventEndRepeats-1))
		}
	}
	return e, s.start, marker, true
}
