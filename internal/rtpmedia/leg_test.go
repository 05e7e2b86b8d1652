package rtpmedia

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

func TestNewRefuses(t *testing.T) {
	ok := Config{ID: "phone", Media: pcmu()}
	for name, mod := range map[string]func(*Config){
		"no id":            func(c *Config) { c.ID = "" },
		"no encoding":      func(c *Config) { c.Media.Encoding = sdp.EncodingUnknown },
		"payload type 128": func(c *Config) { c.Media.EventPT = 128 },
		"jitter depth":     func(c *Config) { c.JitterDepth = MaxJitterDepth + 1 },
		"timeout no clock": func(c *Config) { c.Timeout, c.OnTimeout = time.Second, func() {} },
		"timeout no func":  func(c *Config) { c.Timeout, c.Clock = time.Second, clock.Real{} },
		"negative timeout": func(c *Config) { c.Timeout = -1 },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestLegSendsOnePacketPerTick(t *testing.T) {
	w := &captureWriter{}
	l := newLeg(t, Config{Writer: w})
	for _, f := range frames(voice(200 * time.Millisecond)) {
		l.Hear(&f)
	}
	got := w.take()
	if len(got) != 10 {
		t.Fatalf("%d packets for 10 ticks", len(got))
	}
	first := got[0].pkt.Header
	for i, s := range got {
		h := s.pkt.Header
		switch {
		case s.to != peerAddr:
			t.Errorf("packet %d went to %v", i, s.to)
		case h.PayloadType != 0 || len(s.pkt.Payload) != NarrowFrame:
			t.Errorf("packet %d: PT %d, %d bytes", i, h.PayloadType, len(s.pkt.Payload))
		case h.SSRC != first.SSRC || h.SequenceNumber != first.SequenceNumber+uint16(i) ||
			h.Timestamp != first.Timestamp+uint32(i*NarrowFrame):
			t.Errorf("packet %d: ssrc %x seq %d ts %d after ssrc %x seq %d ts %d", i, h.SSRC, h.SequenceNumber, h.Timestamp,
				first.SSRC, first.SequenceNumber, first.Timestamp)
		case h.Marker != (i == 0):
			t.Errorf("packet %d: marker %v", i, h.Marker)
		}
	}
	if s := l.Stats(); s.Sent != 10 || s.SendErrors != 0 {
		t.Errorf("stats %+v", s)
	}
}

// What one leg hears, another plays, in either encoding: the audio
// survives G.711 and both resamplings (correlation ≥ 0.99).
func TestLegToLegAudio(t *testing.T) {
	for _, enc := range []sdp.Encoding{sdp.PCMU, sdp.PCMA} {
		t.Run(enc.String(), func(t *testing.T) {
			m := pcmu()
			m.Encoding, m.PT = enc, enc.StaticPT()
			w := &captureWriter{}
			a := newLeg(t, Config{ID: "a", Media: m, Writer: w})
			b := newLeg(t, Config{ID: "b", Media: m})
			in := voice(time.Second)
			var out []int16
			for _, f := range frames(in) {
				a.Hear(&f)
				for _, s := range w.take() {
					if s.pkt.PayloadType != enc.StaticPT() {
						t.Fatalf("sent PT %d", s.pkt.PayloadType)
					}
					raw, _ := s.pkt.Marshal()
					b.Receive(raw, peerAddr)
				}
				var g media.Frame
				b.Speak(&g)
				out = append(out, g[:]...)
			}
			off, score := media.Locate(media.Audio{Samples: out}, media.Audio{Samples: in.Samples[:len(in.Samples)/2]})
			// the jitter buffer's depth, less one frame: the first packet
			// arrives in the tick it is played in
			wantOff := (DefaultJitterDepth - 1) * media.FrameSamples
			if score < 0.99 || off < wantOff || off > wantOff+media.FrameSamples/4 {
				t.Fatalf("found at %d (want about %d), score %.3f", off, wantOff, score)
			}
			if s := b.Stats(); s.Received != 50 || s.Lost+s.Late+s.Malformed+s.UnknownPT != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestLegSymmetricRTP(t *testing.T) {
	w := &captureWriter{}
	m := pcmu()
	m.Remote = netip.MustParseAddrPort("10.0.0.5:4000") // the phone's private address
	l := newLeg(t, Config{Media: m, Latch: true, Writer: w})
	var f media.Frame
	l.Hear(&f)
	if got := w.take(); len(got) != 1 || got[0].to != m.Remote {
		t.Fatalf("before latching, sent %+v; want one packet to the SDP address", got)
	}
	l.Receive([]byte{0x80, 0}, otherAddr)                    // not RTP: does not latch
	l.Receive(packet(13, 1, 0, false, []byte{0}), otherAddr) // comfort noise, not negotiated: does not latch
	silence := encode(nil, make([]int16, NarrowFrame), sdp.PCMU)
	l.Receive(packet(0, 1, 0, true, silence), peerAddr) // the NAT's public side
	l.Receive(packet(0, 2, 160, false, silence), otherAddr)
	l.Hear(&f)
	if got := w.take(); len(got) != 1 || got[0].to != peerAddr {
		t.Fatalf("after latching, sent %+v; want one packet to %v", got, peerAddr)
	}
	s := l.Stats()
	if !s.Latched || s.Remote != peerAddr || s.Received != 1 || s.Foreign != 1 || s.Malformed != 1 || s.UnknownPT != 1 {
		t.Fatalf("stats %+v", s)
	}

	// A re-INVITE with another address latches anew.
	m.Remote = netip.MustParseAddrPort("10.0.0.6:4002")
	if err := l.Update(m); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Latched || s.Remote != m.Remote {
		t.Fatalf("after Update: %+v", s)
	}
	l.Receive(packet(0, 3, 320, false, silence), otherAddr)
	if s := l.Stats(); !s.Latched || s.Remote != otherAddr {
		t.Fatalf("relatched: %+v", s)
	}
}

func TestLegWithoutLatchAcceptsOnlyThePeer(t *testing.T) {
	l := newLeg(t, Config{})
	silence := encode(nil, make([]int16, NarrowFrame), sdp.PCMU)
	l.Receive(packet(0, 1, 0, false, silence), otherAddr)
	l.Receive(packet(0, 2, 160, false, silence), netip.MustParseAddrPort("192.0.2.10:6001"))
	l.Receive(packet(0, 3, 320, false, silence), netip.MustParseAddrPort("[::ffff:192.0.2.10]:6000"))
	if s := l.Stats(); s.Foreign != 2 || s.Received != 1 || s.Latched {
		t.Fatalf("stats %+v", s)
	}
}

func TestLegDropsBadPackets(t *testing.T) {
	l := newLeg(t, Config{})
	v1 := packet(0, 1, 0, false, []byte{0xff})
	v1[0] = 0x40 // version 1
	for name, b := range map[string][]byte{
		"short":           {0x80, 0, 0, 1},
		"version 1":       v1,
		"empty audio":     packet(0, 1, 0, false, nil),
		"audio too long":  packet(0, 1, 0, false, make([]byte, MaxPayload+1)),
		"short event":     packet(101, 1, 0, false, []byte{1, 2, 3}),
		"bad padding":     append(packet(0, 1, 0, false, []byte{0xff}), 0),
		"unnegotiated PT": packet(96, 1, 0, false, []byte{1, 0, 0, 0}),
	} {
		before := l.Stats()
		if name == "bad padding" {
			b[0] |= 0x20
		}
		l.Receive(b, peerAddr)
		after := l.Stats()
		if after.Received != 0 || after.Malformed+after.UnknownPT != before.Malformed+before.UnknownPT+1 {
			t.Errorf("%s: stats %+v", name, after)
		}
	}
	if s := l.Stats(); s.UnknownPT != 1 {
		t.Errorf("unknown PT counted %d times", s.UnknownPT)
	}
}

// feedPress sends a key the way a phone does: two audio packets, the
// event's packets with the first of zero duration and three final ones,
// then audio again, all in one sequence-number space.
func feedPress(l *Leg, pt uint8, seq uint16, ts uint32, code byte) (uint16, uint32) {
	silence := encode(nil, make([]int16, NarrowFrame), sdp.PCMU)
	for range 2 {
		l.Receive(packet(0, seq, ts, false, silence), peerAddr)
		seq, ts = seq+1, ts+NarrowFrame
	}
	for i, p := range press(ts, code) {
		l.Receive(eventPacket(pt, seq, p.ts, i == 0, p.e.code, p.e.end, p.e.duration), peerAddr)
		seq++
	}
	ts += 4 * NarrowFrame
	for range 2 {
		l.Receive(packet(0, seq, ts, false, silence), peerAddr)
		seq, ts = seq+1, ts+NarrowFrame
	}
	return seq, ts
}

func TestLegReceivesRFC4733WithTheNegotiatedPT(t *testing.T) {
	for _, pt := range []uint8{96, 101, 127} {
		m := pcmu()
		m.EventPT, m.RecvEventPT = pt, pt
		l := newLeg(t, Config{Media: m})
		seq, ts := feedPress(l, pt, 100, 8000, 5)
		seq, _ = feedPress(l, pt, seq, ts, 11)
		_, keys := speakN(l, 20)
		if string(keys) != "5#" {
			t.Errorf("PT %d: keys %q, want \"5#\"", pt, string(keys))
		}
		if s := l.Stats(); s.Keys != 2 || s.Received != uint64(seq-100) {
			t.Errorf("PT %d: stats %+v", pt, s)
		}
	}
}

// An answer may renumber the events of our offer: the leg takes both.
func TestLegReceivesRenumberedEvents(t *testing.T) {
	m := pcmu()
	m.EventPT, m.RecvEventPT = 96, 101
	l := newLeg(t, Config{Media: m})
	seq, ts := feedPress(l, 101, 1, 0, 1)
	feedPress(l, 96, seq, ts, 2)
	feedPress(l, 100, seq+20, ts+8000, 3) // not negotiated
	if _, keys := speakN(l, 30); string(keys) != "12" {
		t.Fatalf("keys %q, want \"12\"", string(keys))
	}
}

func TestLegSendsRFC4733(t *testing.T) {
	w := &captureWriter{}
	l := newLeg(t, Config{Writer: w, EventDuration: 60 * time.Millisecond, EventGap: 60 * time.Millisecond})
	if err := l.SendDigits("9"); err != nil {
		t.Fatal(err)
	}
	if !l.Sending() {
		t.Fatal("not sending after SendDigits")
	}
	var f media.Frame
	for range 8 {
		l.Hear(&f)
	}
	got := w.take()
	type pkt struct {
		pt     uint8
		marker bool
		dts    uint32 // timestamp since the first packet's
		dur    uint16
		end    bool
	}
	var seen []pkt
	for i, s := range got {
		if s.pkt.SequenceNumber != got[0].pkt.SequenceNumber+uint16(i) {
			t.Fatalf("packet %d has sequence number %d", i, s.pkt.SequenceNumber)
		}
		p := pkt{pt: s.pkt.PayloadType, marker: s.pkt.Marker, dts: s.pkt.Timestamp - got[0].pkt.Timestamp}
		if p.pt == 101 {
			e, err := parseEvent(s.pkt.Payload)
			if err != nil || e.code != 9 || e.volume != eventVolume {
				t.Fatalf("packet %d: %+v %v", i, e, err)
			}
			p.dur, p.end = e.duration, e.end
		}
		seen = append(seen, p)
	}
	want := []pkt{
		{101, true, 0, 160, false}, {101, false, 0, 320, false}, {101, false, 0, 480, true},
		{101, false, 0, 480, true}, {101, false, 0, 480, true},
		{0, false, 5 * 160, 0, false}, {0, false, 6 * 160, 0, false}, {0, false, 7 * 160, 0, false},
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("sent\n%+v\nwant\n%+v", seen, want)
	}
	if l.Sending() {
		t.Error("still sending")
	}

	m := pcmu()
	m.EventPT, m.RecvEventPT = 0, 0
	if err := newLeg(t, Config{Media: m}).SendDigits("1"); !errors.Is(err, ErrNoEvents) {
		t.Errorf("without events: %v", err)
	}
	if err := l.SendDigits("1x"); !errors.Is(err, media.ErrInvalid) {
		t.Errorf("bad key: %v", err)
	}
}

func TestLegHold(t *testing.T) {
	w := &captureWriter{}
	m := pcmu()
	m.Direction = sdp.RecvOnly // the peer holds us
	l := newLeg(t, Config{Media: m, Writer: w})
	tone := frames(voice(40 * time.Millisecond))
	l.Hear(&tone[0])
	if got := w.take(); len(got) != 0 {
		t.Fatalf("sent %d packets on hold", len(got))
	}
	m.Direction = sdp.SendRecv
	if err := l.Update(m); err != nil {
		t.Fatal(err)
	}
	l.Hear(&tone[1])
	if got := w.take(); len(got) != 1 || !got[0].pkt.Marker {
		t.Fatalf("after resume sent %+v, want one packet with the marker bit", got)
	}

	m.Direction = sdp.SendOnly // we hold the peer: what it sends is not played
	if err := l.Update(m); err != nil {
		t.Fatal(err)
	}
	for i, p := range narrowPackets(narrowTone(1000, 4*NarrowFrame, -10), sdp.PCMU) {
		l.Receive(packet(0, uint16(i), uint32(i*NarrowFrame), false, p), peerAddr)
	}
	if a, _ := speakN(l, 4); media.Level(a.Samples) > media.MinLevel {
		t.Fatalf("played %.1f dBFS while holding the peer", media.Level(a.Samples))
	}
}

func TestLegGapMovesTimestampOn(t *testing.T) {
	w := &captureWriter{}
	l := newLeg(t, Config{Writer: w})
	var f media.Frame
	l.Hear(&f)
	l.Gap(50)
	l.Hear(&f)
	got := w.take()
	if len(got) != 2 {
		t.Fatalf("%d packets", len(got))
	}
	if d := got[1].pkt.Timestamp - got[0].pkt.Timestamp; d != 51*NarrowFrame || !got[1].pkt.Marker ||
		got[1].pkt.SequenceNumber != got[0].pkt.SequenceNumber+1 {
		t.Fatalf("after a gap of 50: ts +%d, marker %v, seq +%d", d, got[1].pkt.Marker, got[1].pkt.SequenceNumber-got[0].pkt.SequenceNumber)
	}
}

// A new SSRC is a new stream: the jitter buffer and the events start over.
func TestLegNewSSRC(t *testing.T) {
	l := newLeg(t, Config{})
	feedPress(l, 101, 1000, 50000, 4)
	other := func(b []byte) []byte {
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		p.SSRC = 0xbeef
		out, _ := p.Marshal()
		return out
	}
	// the new stream's numbers are just before the old one's
	l.Receive(other(eventPacket(101, 990, 100, true, 6, false, 0)), peerAddr)
	if _, keys := speakN(l, 12); string(keys) != "46" {
		t.Fatalf("keys %q, want \"46\"", string(keys))
	}
}

func TestLegClose(t *testing.T) {
	w := &captureWriter{}
	l := newLeg(t, Config{Writer: w})
	l.Close()
	l.Close()
	f := frames(voice(20 * time.Millisecond))[0]
	l.Hear(&f)
	l.Receive(packet(0, 1, 0, false, []byte{0}), peerAddr)
	if voiced, key := l.Speak(&f); voiced || key != 0 || len(w.take()) != 0 || l.Stats().Received != 0 {
		t.Fatal("a closed leg still works")
	}
}

// Silence after audio is sent without resampling once the resampler is
// drained; the packets are exactly what resampling would have made.
func TestLegSilenceShortcutIsExact(t *testing.T) {
	w := &captureWriter{}
	l := newLeg(t, Config{Writer: w})
	v := frames(voice(200 * time.Millisecond))
	in := append(append(slices.Clone(v[:4]), make([]media.Frame, 5)...), v[4:8]...)
	ref := newConverter(media.SampleRate, NarrowRate)
	narrow := make([]int16, NarrowFrame)
	for i := range in {
		l.Hear(&in[i])
		ref.convert(narrow, in[i][:])
		got := w.take()
		if want := encode(nil, narrow, sdp.PCMU); len(got) != 1 || !slices.Equal(got[0].pkt.Payload, want) {
			t.Fatalf("frame %d: the packet differs from resampling's", i)
		}
	}
}

// Digital silence received after audio plays without resampling once the
// resampler is drained, exactly as resampling would have played it.
func TestLegPlaysSilenceShortcutExactly(t *testing.T) {
	l := newLeg(t, Config{JitterDepth: 1})
	tone := narrowTone(700, 4*NarrowFrame, -10)
	narrow := append(append(slices.Clone(tone), make([]int16, 5*NarrowFrame)...), tone...)
	ref := newConverter(NarrowRate, media.SampleRate)
	for i, p := range narrowPackets(narrow, sdp.PCMU) {
		l.Receive(packet(0, uint16(i), uint32(i*NarrowFrame), false, p), peerAddr)
		var got, want media.Frame
		voiced, _ := l.Speak(&got)
		ref.convert(want[:], decode(nil, p, sdp.PCMU))
		if got != want || voiced != (want != media.Frame{}) {
			t.Fatalf("frame %d differs from resampling's (voiced %v)", i, voiced)
		}
	}
}
