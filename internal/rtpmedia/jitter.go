package rtpmedia

import "github.com/switchboard-dev/switchboard/internal/sdp"

const (
	// jitterSlots is how many packets the jitter buffer can hold, a power
	// of two: a packet more than this many sequence numbers ahead of the
	// one due is a jump in the stream, which restarts the buffer.
	jitterSlots = 16
	// MaxPayload is the longest G.711 payload accepted: 60 ms. Longer
	// packets are dropped as malformed.
	MaxPayload = 480
	// DefaultJitterDepth is how many packets the jitter buffer gathers
	// before it starts playing (60 ms of 20 ms packets): enough for the
	// engine's and the network's scheduling jitter on a busy machine,
	// where 40 ms let whole frames slip.
	DefaultJitterDepth = 3
	// MaxJitterDepth bounds Config.JitterDepth.
	MaxJitterDepth = 8
	// jitterSlack is how many packets beyond its depth the buffer lets
	// pile up (a burst after a stall) before it drops the oldest, so that
	// the delay it adds stays bounded.
	jitterSlack = 3
)

// lateWindow is how far behind the packet due a packet counts as late
// (dropped); one further behind means the peer restarted its sequence
// numbers, which restarts the buffer.
const lateWindow = 512

// jitterBuffer reorders the packets of one RTP stream by sequence number
// and plays them out at the engine's pace: one 8 kHz frame (NarrowFrame
// samples) per tick. It drops late and duplicate packets, conceals a
// missing one with silence of the last packet's length once a later one
// has arrived, waits for depth packets before it starts and again after
// it runs dry (a pause in the stream), and drops the oldest packets when
// more than depth+jitterSlack pile up. Packets carrying no audio (RFC 4733
// events, which share the stream's sequence numbers) take their place in
// the order and play as nothing. A jump of the sequence numbers, forward
// by jitterSlots or more or backward by lateWindow or more, restarts it.
// Not safe for concurrent use.
type jitterBuffer struct {
	depth   int
	slots   [jitterSlots]slot
	held    int     // packets in slots
	next    uint16  // sequence number of the next packet to play
	started bool    // next is meaningful: something was played since reset
	playing bool    // false while gathering depth packets
	fifo    []int16 // decoded samples not yet played
	lastLen int     // samples of the last audio packet played

	late, dup, lost, dropped, underruns, resyncs uint64
}

type slot struct {
	ok    bool
	seq   uint16
	audio bool // false: an event packet, which plays as nothing
	enc   sdp.Encoding
	data  []byte
}

func newJitterBuffer(depth int) *jitterBuffer {
	return &jitterBuffer{depth: depth, lastLen: NarrowFrame, fifo: make([]int16, 0, NarrowFrame+MaxPayload)}
}

// push adds a packet. payload is copied; audio false marks a packet that
// carries no audio.
func (j *jitterBuffer) push(seq uint16, audio bool, enc sdp.Encoding, payload []byte) {
	if j.held == 0 && !j.playing {
		switch d := int16(seq - j.next); {
		case !j.started:
			j.next = seq // the stream starts
		case d > 0:
			j.next = seq // it resumes: the silence played covered the gap
		}
	}
	switch d := int16(seq - j.next); {
	case d <= -lateWindow || d >= jitterSlots:
		j.resyncs++
		j.reset()
		j.next = seq
	case d < 0 && (j.started || -int(d)+j.span() > jitterSlots):
		j.late++
		return
	case d < 0: // gathering the first packets: an earlier one came second
		j.next = seq
	}
	s := &j.slots[seq%jitterSlots]
	if s.ok {
		j.dup++
		return
	}
	s.ok, s.seq, s.audio, s.enc = true, seq, audio, enc
	s.data = append(s.data[:0], payload...)
	j.held++
	if !j.playing && j.held >= j.depth {
		j.playing, j.started = true, true
	}
}

// span is how many sequence numbers the held packets cover from next.
func (j *jitterBuffer) span() int {
	n := 0
	for i := range j.slots {
		if s := &j.slots[i]; s.ok {
			n = max(n, int(s.seq-j.next)+1)
		}
	}
	return n
}

// silence is what a lost packet is concealed with.
var silence [MaxPayload]int16

// pop fills out (NarrowFrame samples) with the next frame and reports
// whether any of it came from a packet.
func (j *jitterBuffer) pop(out []int16) bool {
	for j.held > j.depth+jitterSlack { // a burst after a stall: catch up
		j.drop()
	}
	for len(j.fifo) < len(out) && j.playing && j.held > 0 {
		s := &j.slots[j.next%jitterSlots]
		if s.ok && s.seq == j.next {
			if s.audio {
				j.fifo = decode(j.fifo, s.data, s.enc)
				j.lastLen = len(s.data)
			}
			s.ok = false
			j.held--
		} else { // lost: a later packet is here and this one is not
			j.fifo = append(j.fifo, silence[:j.lastLen]...)
			j.lost++
		}
		j.next++
	}
	n := copy(out, j.fifo)
	j.fifo = j.fifo[:copy(j.fifo, j.fifo[n:])]
	clear(out[n:])
	if n < len(out) && j.playing {
		j.underruns++
		j.playing = false
	}
	return n > 0
}

// drop discards the packet due next, or skips its place if it is missing.
func (j *jitterBuffer) drop() {
	if s := &j.slots[j.next%jitterSlots]; s.ok && s.seq == j.next {
		s.ok = false
		j.held--
		j.dropped++
	}
	j.next++
}

// reset forgets every packet and sample: the stream starts anew.
func (j *jitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].ok = false
	}
	j.held, j.playing, j.started, j.fifo = 0, false, false, j.fifo[:0]
}
