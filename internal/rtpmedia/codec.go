package rtpmedia

import (
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
	"github.com/zaf/g711"
	"math"
)

// Sizes of the 8 kHz side, in samples (and G.711 bytes).
const (
	// NarrowRate is the sample rate of G.711 and of its RTP clock.
	NarrowRate = sdp.ClockRate
	// NarrowFrame is one 20 ms packet of G.711: 160 samples, 160 bytes.
	NarrowFrame = NarrowRate / media.FramesPerSec
)

// encode appends src, G.711-encoded with enc, to dst.
func encode(dst []byte, src []int16, enc sdp.Encoding) []byte {
	if enc == sdp.PCMA {
		for _, s := range src {
			dst = append(dst, g711.EncodeAlawFrame(s))
		}
		return dst
	}
	for _, s := range src {
		dst = append(dst, g711.EncodeUlawFrame(s))
	}
	return dst
}

// decode appends src, G.711-decoded with enc, to dst.
func decode(dst []int16, src []byte, enc sdp.Encoding) []int16 {
	if enc == sdp.PCMA {
		for _, b := range src {
			dst = append(dst, g711.DecodeAlawFrame(b))
		}
		return dst
	}
	for _, b := range src {
		dst = append(dst, g711.DecodeUlawFrame(b))
	}
	return dst
}

// converter resamples a live stream frame by frame between the engine's
// 16 kHz and G.711's 8 kHz, by exactly two, with a half-band FIR filter:
// every other tap is zero, so a 48-tap filter costs 24 multiplications a
// sample, an order of magnitude less than media.Resampler's general
// windowed sinc, which dominated a phone leg's cost. Its stopband (above
// 4 kHz) is attenuated by 40 dB and more from 5 kHz, near G.711's own noise. Every call
// turns one frame in into exactly one frame out: the filter's look-ahead
// (1.5 ms) is paid once, as leading silence, so frames stay aligned with
// packets. Not safe for concurrent use.
type converter struct {
	up   bool      // 8 -> 16 kHz; else 16 -> 8 kHz
	hist []float32 // the end of the previous frame, the filter's memory
	ext  []float32 // scratch: hist then the new frame
}

// halfTaps is the number of non-zero taps on each side of the half-band
// filter's centre.
const halfTaps = 12

// halfBand holds the filter's odd taps, at offsets ±1, ±3, ... ±23
// samples of the 16 kHz stream: a Blackman-windowed sinc cut off at 4 kHz,
// scaled so that the taps on one side sum to 1/2: the interpolator's odd
// outputs then keep a steady level, and the decimator halves them.
var halfBand = func() [halfTaps]float32 {
	var c [halfTaps]float64
	sum := 0.0
	m := float64(2*halfTaps + 1) // the window reaches zero just past the last tap
	for j := range c {
		k := float64(2*j + 1)
		x := math.Pi * k / 2
		w := 0.42 + 0.5*math.Cos(math.Pi*k/m) + 0.08*math.Cos(2*math.Pi*k/m)
		c[j] = math.Sin(x) / x * w
		sum += c[j]
	}
	var out [halfTaps]float32
	for j := range c {
		out[j] = float32(c[j] / sum / 2)
	}
	return out
}()

func newConverter(inRate, outRate int) *converter {
	switch {
	case inRate == NarrowRate && outRate == media.SampleRate:
		return &converter{up: true, hist: make([]float32, 2*halfTaps)}
	case inRate == media.SampleRate && outRate == NarrowRate:
		return &converter{hist: make([]float32, 4*halfTaps)}
	}
	panic("rtpmedia: the converter resamples between 8 and 16 kHz only")
}

// convert resamples src into all of dst: len(dst) is twice len(src) going
// up, half going down.
func (c *converter) convert(dst, src []int16) {
	c.ext = append(c.ext[:0], c.hist...)
	for _, v := range src {
		c.ext = append(c.ext, float32(v))
	}
	e := c.ext
	if c.up {
		// Even outputs are the input samples; odd ones lie between them.
		for m := range len(dst) / 2 {
			ctr := m + halfTaps
			var acc float32
			for j, k := range halfBand {
				acc += k * (e[ctr-j] + e[ctr+1+j])
			}
			dst[2*m] = sat(e[ctr])
			dst[2*m+1] = sat(acc)
		}
	} else {
		for m := range dst {
			ctr := 2*m + 2*halfTaps
			acc := e[ctr] / 2
			for j, k := range halfBand {
				acc += k / 2 * (e[ctr-2*j-1] + e[ctr+2*j+1])
			}
			dst[m] = sat(acc)
		}
	}
	c.hist = append(c.hist[:0], e[len(e)-len(c.hist):]...)
}

// reset forgets the stream, after a gap.
func (c *converter) reset() { clear(c.hist) }

func sat(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	}
	return int16(v)
}
