package rtpmedia

import (
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// loopWriter hands each packet a leg sends straight to another leg, as if
// the network were a wire: a phone echoing our stream back.
type loopWriter struct {
	to   *Leg
	from netip.AddrPort
}

func (w loopWriter) WriteTo(b []byte, _ netip.AddrPort) error {
	w.to.Receive(b, w.from)
	return nil
}

// BenchmarkFrame measures everything a SIP leg does per 20 ms tick except
// the syscalls: Hear (16→8 kHz, G.711 encode, RTP marshal), the peer's
// Receive (RTP parse, jitter buffer) and Speak (G.711 decode, 8→16 kHz).
// legs/core is how many legs one core keeps up with at 50 ticks a second.
// In the silence case nobody speaks: the PCMU silence both ways skips the
// resampling.
func BenchmarkFrame(b *testing.B) {
	for _, tc := range []struct {
		name  string
		enc   sdp.Encoding
		audio media.Audio
	}{
		{"PCMU", sdp.PCMU, voice(time.Second)},
		{"PCMA", sdp.PCMA, voice(time.Second)},
		{"silence", sdp.PCMU, media.Silence(time.Second)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := pcmu()
			m.Encoding, m.PT = tc.enc, tc.enc.StaticPT()
			rx := newLeg(b, Config{ID: "rx", Media: m})
			tx := newLeg(b, Config{ID: "tx", Media: m, Writer: loopWriter{to: rx, from: peerAddr}})
			fs := frames(tc.audio)
			var out media.Frame
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				tx.Hear(&fs[i%len(fs)])
				rx.Speak(&out)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/frame")
			b.ReportMetric(float64(time.Second)/(float64(b.Elapsed().Nanoseconds())/float64(i))/media.FramesPerSec, "legs/core")
		})
	}
}

// BenchmarkFrameParts splits BenchmarkFrame's cost.
func BenchmarkFrameParts(b *testing.B) {
	f := frames(voice(20 * time.Millisecond))[0]
	narrow := make([]int16, NarrowFrame)
	payload := make([]byte, 0, NarrowFrame)
	b.Run("downsample", func(b *testing.B) {
		c := newConverter(media.SampleRate, NarrowRate)
		for b.Loop() {
			c.convert(narrow, f[:])
		}
	})
	b.Run("upsample", func(b *testing.B) {
		c := newConverter(NarrowRate, media.SampleRate)
		var out media.Frame
		for b.Loop() {
			c.convert(out[:], narrow)
		}
	})
	b.Run("g711-encode+decode", func(b *testing.B) {
		for b.Loop() {
			payload = encode(payload[:0], narrow, sdp.PCMU)
			narrow = decode(narrow[:0], payload, sdp.PCMU)
		}
	})
	b.Run("rtp-marshal+receive", func(b *testing.B) {
		l := newLeg(b, Config{})
		pkt := packet(0, 0, 0, false, encode(nil, narrow, sdp.PCMU))
		seq := uint16(0)
		for b.Loop() {
			pkt[2], pkt[3] = byte(seq>>8), byte(seq)
			l.Receive(pkt, peerAddr)
			l.mu.Lock()
			l.jb.pop(narrow)
			l.mu.Unlock()
			seq++
		}
	})
}
