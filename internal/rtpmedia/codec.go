package rtpmedia

import (
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
	"github.com/zaf/g711"
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
// 16 kHz and G.711's 8 kHz with media.Resampler. Every call turns one frame
// in into exactly one frame out: the filter's look-ahead (about 2 ms) is
// paid once, as leading silence, so frames stay aligned with packets. Not
// safe for concurrent use.
type converter struct {
	r    *media.Resampler
	in   []float32
	pend []float32 // output computed and not yet returned
}

func newConverter(inRate, outRate int) *converter {
	r, err := media.NewResampler(inRate, outRate)
	if err != nil {
		panic(err) // both rates are constants within the resampler's range
	}
	return &converter{r: r}
}

// convert resamples src into all of dst.
func (c *converter) convert(dst, src []int16) {
	c.in = c.in[:0]
	for _, s := range src {
		c.in = append(c.in, float32(s)/(1<<15))
	}
	c.pend = c.r.Write(c.pend, c.in)
	n := len(dst)
	if k := n - len(c.pend); k > 0 { // the first frame: lead with silence
		clear(dst[:k])
		toInt16(dst[k:], c.pend)
		c.pend = c.pend[:0]
		return
	}
	toInt16(dst, c.pend[:n])
	c.pend = c.pend[:copy(c.pend, c.pend[n:])]
}

// reset forgets the stream, after a gap.
func (c *converter) reset() {
	c.r.Reset()
	c.pend = c.pend[:0]
}

func toInt16(dst []int16, src []float32) {
	for i, v := range src[:len(dst)] {
		v *= 1 << 15
		switch {
		case v >= 32767:
			dst[i] = 32767
		case v <= -32768:
			dst[i] = -32768
		default:
			if v < 0 {
				v -= 0.5
			} else {
				v += 0.5
			}
			dst[i] = int16(v)
		}
	}
}
