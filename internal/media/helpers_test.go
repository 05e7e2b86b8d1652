package media

import (
	"math"
	"math/rand/v2"
	"time"
)

// Synthesised test audio. Everything is seeded so tests are deterministic.

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// noise returns white Gaussian noise of the given RMS level.
func noise(rng *rand.Rand, d time.Duration, dBFS float64) Audio {
	n := DurationSamples(d)
	out := make([]int16, n)
	sigma := dBToAmp(dBFS) * 32768
	for i := range out {
		out[i] = clamp16(rng.NormFloat64() * sigma)
	}
	return Audio{Samples: out}
}

// speech returns a speech-like signal: voiced syllables (a gliding glottal
// pitch of 90-260 Hz whose harmonics are shaped by three moving formants)
// alternating with fricatives (band-passed noise) and short pauses, at
// about the given RMS level while voiced.
func speech(rng *rand.Rand, d time.Duration, dBFS float64) Audio {
	n := DurationSamples(d)
	out := make([]float64, n)
	i := 0
	for i < n {
		switch seg := rng.IntN(10); {
		case seg < 6: // voiced syllable, 120-300 ms
			l := min(n-i, DurationSamples(time.Duration(120+rng.IntN(180))*time.Millisecond))
			f0a, f0b := 90+rng.Float64()*170, 90+rng.Float64()*170
			f1, f2, f3 := 300+rng.Float64()*600, 900+rng.Float64()*1500, 2200+rng.Float64()*800
			phase := 0.0
			for k := range l {
				x := float64(k) / float64(l)
				f0 := f0a + (f0b-f0a)*x
				phase += 2 * math.Pi * f0 / SampleRate
				var v float64
				for h := 1; float64(h)*f0 < 4000; h++ {
					fh := float64(h) * f0
					g := formant(fh, f1, 90) + 0.5*formant(fh, f2, 120) + 0.25*formant(fh, f3, 200)
					v += g * math.Sin(float64(h)*phase) / math.Sqrt(float64(h))
				}
				out[i+k] = v * math.Sin(math.Pi*x) // syllable envelope
			}
			i += l
		case seg < 8: // fricative, 60-150 ms
			l := min(n-i, DurationSamples(time.Duration(60+rng.IntN(90))*time.Millisecond))
			var y1, y2 float64
			for k := range l {
				w := rng.NormFloat64()
				y := w - 0.6*y1 - 0.3*y2 // crude high-pass colour
				y2, y1 = y1, y
				out[i+k] = 0.3 * y * math.Sin(math.Pi*float64(k)/float64(l))
			}
			i += l
		default: // pause, 40-120 ms
			i += DurationSamples(time.Duration(40+rng.IntN(80)) * time.Millisecond)
		}
	}
	var e float64
	for _, v := range out {
		e += v * v
	}
	scale := 0.0
	if e > 0 {
		scale = dBToAmp(dBFS) * 32768 / math.Sqrt(e/float64(n))
	}
	s := make([]int16, n)
	for k, v := range out {
		s[k] = clamp16(v * scale)
	}
	return Audio{Samples: s}
}

func formant(f, center, bw float64) float64 {
	x := (f - center) / bw
	return 1 / (1 + x*x)
}

// dtmfTone returns one key with chosen component levels, frequency error
// (fraction, e.g. 0.01 for +1%) and duration.
func dtmfTone(key rune, rowDBFS, colDBFS, freqErr float64, d time.Duration) Audio {
	row, col, _ := keyPos(key)
	lo := Tone(dtmfRows[row]*(1+freqErr), d, rowDBFS)
	hi := Tone(dtmfCols[col]*(1+freqErr), d, colDBFS)
	return mixAudio(lo, hi)
}

// mixAudio sums clips sample by sample, saturating; the result is as long
// as the longest.
func mixAudio(clips ...Audio) Audio {
	n := 0
	for _, c := range clips {
		n = max(n, len(c.Samples))
	}
	acc := make([]int32, n)
	for _, c := range clips {
		for i, s := range c.Samples {
			acc[i] += int32(s)
		}
	}
	out := make([]int16, n)
	for i, v := range acc {
		out[i] = sat16(v)
	}
	return Audio{Samples: out}
}

// frames splits a clip into frames, zero-padding the last.
func frames(a Audio) []Frame {
	fs := make([]Frame, a.Frames())
	for i := range fs {
		copy(fs[i][:], a.Samples[i*FrameSamples:])
	}
	return fs
}

// detectKeys runs a fresh detector over a clip and returns the keys.
func detectKeys(a Audio) string {
	var d DTMFDetector
	var keys []rune
	fs := frames(a)
	for i := range fs {
		if k := d.Process(&fs[i]); k != 0 {
			keys = append(keys, k)
		}
	}
	return string(keys)
}
