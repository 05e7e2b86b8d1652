package rtpmedia

import (
	"testing"

	"github.com/pion/rtp"

	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// chunks joins packets into one fuzz input: each is preceded by its length
// less one, so any input splits into packets.
func chunks(pkts ...[]byte) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(append(b, byte(len(p)-1)), p...)
	}
	return b
}

// FuzzReceive feeds any packets to a leg (RTP parsing, the jitter buffer
// and RFC 4733 with payload types 96 and 101) and plays frames in between.
// Nothing may panic, every packet must be counted once as received or
// dropped, and only DTMF keys may come out.
func FuzzReceive(f *testing.F) {
	audio := encode(nil, narrowTone(440, NarrowFrame, -10), sdp.PCMU)
	ext := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 9, Timestamp: 1440, SSRC: 0x5eed,
		CSRC: []uint32{1, 2}}, Payload: audio[:40]}
	if err := ext.SetExtension(1, []byte{0xaa, 0xbb}); err != nil {
		f.Fatal(err)
	}
	extRaw, err := ext.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	padded := append(packet(8, 10, 1600, false, audio[:100]), 0, 0, 3)
	padded[0] |= 0x20
	var press []byte
	for i, p := range pressAt(2, 320, 5) {
		press = append(press, chunks(eventPacket(96, uint16(2+i), p.ts, i == 0, p.e.code, p.e.end, p.e.duration))...)
	}
	for _, seed := range [][]byte{
		chunks(packet(0, 0, 0, true, audio), packet(0, 1, 160, false, audio)),
		append(chunks(packet(0, 0, 0, true, audio[:200])), press...),
		chunks(packet(0, 1, 160, false, audio[:255-12]), packet(0, 0, 0, false, audio[:10]), packet(0, 1, 160, false, audio[:10])),
		chunks(extRaw, padded, eventPacket(101, 11, 1760, true, 11, true, 0)),
		chunks(packet(0, 65535, 0, false, audio[:50]), packet(0, 3, 0, false, audio[:50]), packet(0, 40000, 0, false, audio[:50])),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := pcmu()
		m.EventPT, m.RecvEventPT = 96, 101
		l, err := New(Config{ID: "phone", Media: m})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for len(data) > 0 {
			size := min(int(data[0])+1, len(data)-1)
			l.Receive(data[1:1+size], peerAddr)
			data = data[1+size:]
			n++
			if n%2 == 0 {
				if k := popFrame(l); k != 0 && !media.ValidKey(k) {
					t.Fatalf("key %q", k)
				}
			}
		}
		for range 3 {
			if k := popFrame(l); k != 0 && !media.ValidKey(k) {
				t.Fatalf("key %q", k)
			}
		}
		s := l.Stats()
		if got := s.Received + s.Malformed + s.UnknownPT + s.Foreign; got != uint64(n) {
			t.Fatalf("%d packets, %d counted: %+v", n, got, s)
		}
		if l.jb.held > jitterSlots || len(l.jb.fifo) > cap(l.jb.fifo) || cap(l.jb.fifo) != NarrowFrame+MaxPayload {
			t.Fatalf("jitter buffer holds %d packets, %d samples (cap %d)", l.jb.held, len(l.jb.fifo), cap(l.jb.fifo))
		}
	})
}

// popFrame plays a frame out of the leg's jitter buffer as Speak does,
// without resampling it, and returns the key Speak would.
func popFrame(l *Leg) rune {
	l.mu.Lock()
	defer l.mu.Unlock()
	var key rune
	if len(l.keys) > 0 {
		key = l.keys[0]
		l.keys = l.keys[:copy(l.keys, l.keys[1:])]
	}
	l.jb.pop(l.narrowIn[:])
	return key
}

// pressAt is press's packets.
func pressAt(_ uint16, ts uint32, code byte) []evAt { return press(ts, code) }
