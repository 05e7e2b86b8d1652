package load

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"time"
)

// The prompt media mode serves: 16-bit PCM, mono, at the media engine's
// own rate, so that the server spends nothing on resampling it and the
// benchmark measures the engine rather than the decoder.
const (
	promptRate = 16000
	promptHz   = 440 // not a DTMF frequency, so no detector can take it for a key
	promptPeak = 0.25
)

// toneWAV returns a WAV file of d of a promptHz sine at promptPeak of full
// scale, rounded down to whole samples.
func toneWAV(d time.Duration) []byte {
	n := int(d * promptRate / time.Second)
	s := make([]int16, n)
	w := 2 * math.Pi * promptHz / promptRate
	for i := range n {
		s[i] = int16(math.Round(promptPeak * math.MaxInt16 * math.Sin(w*float64(i))))
	}
	return pcmWAV(s)
}

// pcmWAV returns a WAV file of samples: 16-bit PCM, mono, at promptRate.
func pcmWAV(samples []int16) []byte {
	n := len(samples)
	const header = 44
	b := make([]byte, header+2*n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(header-8+2*n))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)           // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)            // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)            // mono
	binary.LittleEndian.PutUint32(b[24:], promptRate)   // samples per second
	binary.LittleEndian.PutUint32(b[28:], promptRate*2) // bytes per second
	binary.LittleEndian.PutUint16(b[32:], 2)            // bytes per frame
	binary.LittleEndian.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[header+2*i:], uint16(s))
	}
	return b
}

// Stream mode's audio: speech-like sound that the callees say all the
// time, and the loud burst of a latency probe, which no frame of the
// speech comes near.
const (
	// speechPeak bounds the speech, in parts of full scale.
	speechPeak = 0.25
	// burstHz and burstPeak make the probe's burst: a sine (not a DTMF
	// frequency) at 0.9 of full scale, burstFrames frames long; a frame
	// of it has an RMS level of 0.64 of full scale.
	burstHz     = 1000
	burstPeak   = 0.9
	burstFrames = 3
	// loudRMS is the level, in parts of full scale, above which a frame
	// the bot gets is taken for the burst: well above anything the speech
	// reaches (its peak is speechPeak), well below a frame of the burst.
	loudRMS = 0.4
	// frameSamples is a 20 ms frame at promptRate.
	frameSamples = promptRate / 50
)

// speech returns d of speech-like sound at promptRate: syllables of
// 100–300 ms, voiced on a pitch that glides between 90 and 230 Hz with
// harmonics up to 3.4 kHz under two moving formant peaks, separated by
// short gaps and now and then a pause of up to half a second, the whole
// normalised to speechPeak. It is the same for the same seed.
func speech(d time.Duration, seed uint64) []int16 {
	n := int(d * promptRate / time.Second)
	out := make([]float64, n)
	rng := rand.New(rand.NewPCG(seed, 0x5b0e))
	const dt = 1.0 / promptRate
	phase := 0.0
	for i := 0; i < n; {
		// A gap: 40–150 ms, or once in six syllables a pause of 250–500 ms.
		gap := 0.04 + 0.11*rng.Float64()
		if rng.IntN(6) == 0 {
			gap = 0.25 + 0.25*rng.Float64()
		}
		i += int(gap * promptRate)
		length := int((0.1 + 0.2*rng.Float64()) * promptRate)
		f0a, f0b := 90+140*rng.Float64(), 90+140*rng.Float64()
		f1a, f1b := 300+500*rng.Float64(), 300+500*rng.Float64()
		f2a, f2b := 900+1600*rng.Float64(), 900+1600*rng.Float64()
		for k := 0; k < length && i < n; k, i = k+1, i+1 {
			x := float64(k) / float64(length)
			env := math.Sin(math.Pi * x) // rises and falls
			f0 := f0a + (f0b-f0a)*x
			f1, f2 := f1a+(f1b-f1a)*x, f2a+(f2b-f2a)*x
			phase += 2 * math.Pi * f0 * dt
			var v float64
			for h := 1; float64(h)*f0 < 3400; h++ {
				f := float64(h) * f0
				// Two resonances, about 150 and 250 Hz wide, on a falling slope.
				a := 1/(1+sq((f-f1)/150)) + 0.5/(1+sq((f-f2)/250)) + 0.05
				v += a / float64(h) * math.Sin(float64(h)*phase)
			}
			out[i] = env * (v + 0.05*(2*rng.Float64()-1))
		}
	}
	peak := 0.0
	for _, v := range out {
		peak = max(peak, math.Abs(v))
	}
	s := make([]int16, n)
	if peak == 0 {
		return s
	}
	scale := speechPeak * math.MaxInt16 / peak
	for i, v := range out {
		s[i] = int16(math.Round(v * scale))
	}
	return s
}

func sq(x float64) float64 { return x * x }

// burst returns the probe's burst: burstFrames frames of a burstHz sine at
// burstPeak, starting at a zero crossing.
func burst() []int16 {
	s := make([]int16, burstFrames*frameSamples)
	w := 2 * math.Pi * burstHz / promptRate
	for i := range s {
		s[i] = int16(math.Round(burstPeak * math.MaxInt16 * math.Sin(w*float64(i))))
	}
	return s
}

// loud reports whether a frame of 16-bit little-endian samples is louder
// than loudRMS: a probe's burst, never the speech.
func loud(pcm []byte) bool {
	n := len(pcm) / 2
	if n == 0 {
		return false
	}
	var sum int64
	for i := 0; i+1 < len(pcm); i += 2 {
		v := int64(int16(binary.LittleEndian.Uint16(pcm[i:])))
		sum += v * v
	}
	const thr = loudRMS * math.MaxInt16
	return float64(sum) >= thr*thr*float64(n)
}
