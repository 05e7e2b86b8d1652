package media

import (
	"fmt"
	"math"
)

// Resampler parameters. A Kaiser-windowed sinc with 16 zero crossings on
// each side and beta 8 gives about 80 dB of stopband attenuation; the cutoff
// sits at 90% of the lower Nyquist frequency (7.2 kHz when producing 16 kHz),
// which keeps the whole wideband-telephony passband (50 Hz to 7 kHz) flat.
const (
	resampleZeros   = 16
	resampleBeta    = 8.0
	resampleRolloff = 0.90
	maxPhases       = 1024
	// MinRate and MaxRate bound the sample rates a Resampler (and so
	// DecodeWAV) accepts.
	MinRate = 4000
	MaxRate = 192000
)

// Resampler converts a stream of mono samples from one sample rate to
// another with a polyphase Kaiser-windowed sinc filter (band-limited
// interpolation). Any pair of integer rates in [MinRate, MaxRate] works: the
// ratio is reduced to L/M, and when L is at most 1024 (every common
// conversion, such as 44.1 kHz to 16 kHz with L=160) each output sample uses
// exact filter phases; otherwise the position is rounded to the nearest of
// 1024 phases (an error below -60 dB at 4 kHz).
//
// Samples are float32 with full scale at ±1. A Resampler keeps state between
// calls (it suits a live stream as well as a file) and is not safe for
// concurrent use.
type Resampler struct {
	l, m   int // output index n is at input time n*m/l
	phases int
	hw     int       // half the number of taps
	coef   []float32 // phases rows of 2*hw taps

	buf  []float32 // input samples from absolute index base on
	base int64
	i    int64 // integer part of the next output's input time
	fr   int   // fractional part, in 1/l
	in   int64 // real input samples seen
	out  int64 // output samples produced
	done bool
}

// NewResampler returns a Resampler from inRate to outRate Hz.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	for _, r := range []int{inRate, outRate} {
		if r < MinRate || r > MaxRate {
			return nil, fmt.Errorf("media: sample rate %d Hz is outside [%d, %d]", r, MinRate, MaxRate)
		}
	}
	g := gcd(inRate, outRate)
	r := &Resampler{l: outRate / g, m: inRate / g}
	fc := resampleRolloff * math.Min(1, float64(r.l)/float64(r.m)) // cutoff, as a fraction of the input Nyquist
	r.hw = int(math.Ceil(resampleZeros / fc))
	r.phases = min(r.l, maxPhases)
	taps := 2 * r.hw
	// The windowed sinc, tabulated once over its half-width and interpolated
	// for each tap (error below -90 dB), costs far less than evaluating
	// the Bessel window for each of up to 1024 phases × 430 taps.
	const res = 4096
	proto := make([]float64, res+2)
	i0b := besselI0(resampleBeta)
	for k := range res + 1 {
		x := float64(k) / res // distance / half-width
		proto[k] = fc * sinc(fc*x*float64(r.hw)) * besselI0(resampleBeta*math.Sqrt(1-x*x)) / i0b
	}
	r.coef = make([]float32, r.phases*taps)
	v := make([]float64, taps)
	for p := range r.phases {
		row := r.coef[p*taps : (p+1)*taps]
		frac := float64(p) / float64(r.phases)
		var sum float64
		for j := range taps {
			d := math.Abs(float64(r.hw-1-j)+frac) / float64(r.hw) * res // distance from the output time, in table steps
			k := int(d)
			v[j] = 0
			if k < res {
				v[j] = proto[k] + (proto[k+1]-proto[k])*(d-float64(k))
			}
			sum += v[j]
		}
		for j := range taps {
			row[j] = float32(v[j] / sum) // unity gain at DC for every phase
		}
	}
	r.Reset()
	return r, nil
}

// Reset forgets all input, so the Resampler can start a new stream.
func (r *Resampler) Reset() {
	r.buf = append(r.buf[:0], make([]float32, r.hw-1)...) // silence before the first sample
	r.base = -int64(r.hw - 1)
	r.i, r.fr, r.in, r.out, r.done = 0, 0, 0, 0, false
}

// Write consumes in and appends to out the output samples that can be
// computed so far, returning the extended slice. The filter looks ahead, so
// the output lags the input by about 16 input-Nyquist periods until Flush.
func (r *Resampler) Write(out, in []float32) []float32 {
	if r.done {
		return out
	}
	r.buf = append(r.buf, in...)
	r.in += int64(len(in))
	return r.produce(out, -1)
}

// Flush appends the remaining output samples, as if the input were followed
// by silence, so that the total output is ceil(input × outRate / inRate)
// samples. Further Writes are ignored until Reset.
func (r *Resampler) Flush(out []float32) []float32 {
	if r.done {
		return out
	}
	r.done = true
	r.buf = append(r.buf, make([]float32, r.hw+1)...)
	total := (r.in*int64(r.l) + int64(r.m) - 1) / int64(r.m)
	return r.produce(out, total)
}

// produce computes outputs while their input window is buffered, and at most
// up to limit outputs in total when limit >= 0.
func (r *Resampler) produce(out []float32, limit int64) []float32 {
	taps := 2 * r.hw
	end := r.base + int64(len(r.buf))
	for limit < 0 || r.out < limit {
		i, p := r.i, r.fr
		if r.phases != r.l { // round the position to the nearest phase
			p = int((int64(r.fr)*int64(r.phases) + int64(r.l)/2) / int64(r.l))
			if p == r.phases {
				i, p = i+1, 0
			}
		}
		if i+int64(r.hw) >= end {
			break
		}
		start := int(i - int64(r.hw) + 1 - r.base)
		out = append(out, dot(r.buf[start:start+taps], r.coef[p*taps:(p+1)*taps]))
		r.out++
		r.fr += r.m
		r.i += int64(r.fr / r.l)
		r.fr %= r.l
	}
	if drop := int(r.i - int64(r.hw) + 1 - r.base); drop > 0 { // samples no later output reads
		drop = min(drop, len(r.buf))
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.base += int64(drop)
	}
	return out
}

// dot is the filter's inner product, with four accumulators so that the
// additions do not wait for each other.
func dot(x, c []float32) float32 {
	x = x[:len(c)]
	var a0, a1, a2, a3 float32
	j := 0
	for ; j+4 <= len(c); j += 4 {
		a0 += x[j] * c[j]
		a1 += x[j+1] * c[j+1]
		a2 += x[j+2] * c[j+2]
		a3 += x[j+3] * c[j+3]
	}
	for ; j < len(c); j++ {
		a0 += x[j] * c[j]
	}
	return (a0 + a1) + (a2 + a3)
}

// Resample converts a whole clip from inRate to outRate Hz.
func Resample(in []float32, inRate, outRate int) ([]float32, error) {
	r, err := NewResampler(inRate, outRate)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, int(int64(len(in))*int64(outRate)/int64(inRate))+1)
	out = r.Write(out, in)
	return r.Flush(out), nil
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its
// power series (which converges fast for the arguments a Kaiser window uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 64; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
