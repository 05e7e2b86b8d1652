package rtpmedia

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

func TestG711KnownValues(t *testing.T) {
	tests := []struct {
		enc  sdp.Encoding
		code byte
		want int16
	}{
		{sdp.PCMU, 0xFF, 0}, {sdp.PCMU, 0x7F, 0}, {sdp.PCMU, 0x80, 32124}, {sdp.PCMU, 0x00, -32124},
		{sdp.PCMA, 0xD5, 8}, {sdp.PCMA, 0x55, -8}, {sdp.PCMA, 0xAA, 32256}, {sdp.PCMA, 0x2A, -32256},
	}
	for _, tt := range tests {
		if got := decode(nil, []byte{tt.code}, tt.enc); got[0] != tt.want {
			t.Errorf("%v %#02x decodes to %d, want %d", tt.enc, tt.code, got[0], tt.want)
		}
	}
}

// Every code decodes to a value that encodes back to it, but for µ-law's
// negative zero (0x7F), which is zero.
func TestG711RoundTrip(t *testing.T) {
	for _, enc := range []sdp.Encoding{sdp.PCMU, sdp.PCMA} {
		for c := range 256 {
			v := decode(nil, []byte{byte(c)}, enc)
			back := encode(nil, v, enc)[0]
			if back != byte(c) && !(enc == sdp.PCMU && c == 0x7F && back == 0xFF) {
				t.Errorf("%v %#02x -> %d -> %#02x", enc, c, v[0], back)
			}
		}
	}
}

// The converters turn each frame into exactly one frame, and a signal
// taken down to 8 kHz and back comes out the same, a little later.
func TestConvertersKeepFramesAligned(t *testing.T) {
	in := voice(time.Second)
	down := newConverter(media.SampleRate, NarrowRate)
	up := newConverter(NarrowRate, media.SampleRate)
	var out []int16
	narrow := make([]int16, NarrowFrame)
	for _, f := range frames(in) {
		down.convert(narrow, f[:])
		var wide media.Frame
		up.convert(wide[:], narrow)
		out = append(out, wide[:]...)
	}
	if len(out) != len(in.Samples) {
		t.Fatalf("%d samples out of %d", len(out), len(in.Samples))
	}
	off, score := media.Locate(media.Audio{Samples: out}, media.Audio{Samples: in.Samples[:len(in.Samples)-media.FrameSamples]})
	if score < 0.99 || off < 0 || off > media.DurationSamples(5*time.Millisecond) {
		t.Fatalf("found at %d with score %.3f, want a few samples late and ≥ 0.99", off, score)
	}
}

// Going down to 8 kHz keeps what telephony carries and removes what 8 kHz
// cannot hold (which would otherwise fold back as noise).
func TestDownsamplingFiltersAliases(t *testing.T) {
	for _, tc := range []struct {
		hz       float64
		min, max float64 // level out, dB relative to in
	}{
		{300, -0.5, 0.5}, {1000, -0.5, 0.5}, {3000, -1, 0.5}, {5000, -200, -40}, {7000, -200, -50},
	} {
		in := media.Tone(tc.hz, time.Second, -12)
		down := newConverter(media.SampleRate, NarrowRate)
		var out []int16
		narrow := make([]int16, NarrowFrame)
		for _, f := range frames(in) {
			down.convert(narrow, f[:])
			out = append(out, narrow...)
		}
		// Skip the first and last frames: the filter's start, the tone's fade.
		got := media.Level(out[2*NarrowFrame:len(out)-2*NarrowFrame]) - media.Level(in.Samples[4*media.FrameSamples:len(in.Samples)-4*media.FrameSamples])
		if got < tc.min || got > tc.max {
			t.Errorf("%v Hz comes out at %.1f dB; want %v to %v", tc.hz, got, tc.min, tc.max)
		}
	}
}
