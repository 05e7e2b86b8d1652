package media

import (
	"math"
	"time"
)

// The engine's one audio format: 16 kHz mono signed 16-bit PCM, moved in
// 20 ms frames.
const (
	SampleRate    = 16000                 // samples per second
	FrameSamples  = 320                   // samples in one frame
	FrameDuration = 20 * time.Millisecond // duration of one frame
	FramesPerSec  = SampleRate / FrameSamples
)

// Frame is 20 ms of 16 kHz mono PCM.
type Frame [FrameSamples]int16

// Audio is a clip of 16 kHz mono PCM. The zero value is an empty clip.
// Functions of this package never modify an Audio they are given, so one
// decoded prompt can be played on many legs at once.
type Audio struct {
	Samples []int16
}

// Duration is the length of the clip.
func (a Audio) Duration() time.Duration { return SamplesDuration(len(a.Samples)) }

// Frames is the number of frames the clip occupies, the last one possibly
// partial.
func (a Audio) Frames() int { return (len(a.Samples) + FrameSamples - 1) / FrameSamples }

// SamplesDuration converts a number of 16 kHz samples to a duration.
func SamplesDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}

// DurationSamples converts a duration to a number of 16 kHz samples,
// rounding down.
func DurationSamples(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(d * SampleRate / time.Second)
}

// Silence returns d of digital silence.
func Silence(d time.Duration) Audio {
	return Audio{Samples: make([]int16, DurationSamples(d))}
}

// Concat joins clips into a new one.
func Concat(clips ...Audio) Audio {
	n := 0
	for _, c := range clips {
		n += len(c.Samples)
	}
	out := make([]int16, 0, n)
	for _, c := range clips {
		out = append(out, c.Samples...)
	}
	return Audio{Samples: out}
}

// Tone returns d of a sine wave at freq Hz whose RMS level is dBFS (see
// Level), with 5 ms raised-cosine ramps at both ends so it starts and stops
// without a click.
func Tone(freq float64, d time.Duration, dBFS float64) Audio {
	n := DurationSamples(d)
	out := make([]int16, n)
	amp := math.Sqrt2 * dBToAmp(dBFS) * 32767
	w := 2 * math.Pi * freq / SampleRate
	for i := range out {
		out[i] = clamp16(amp * math.Sin(w*float64(i)) * ramp(i, n))
	}
	return Audio{Samples: out}
}

// Beep is the recorder's "start speaking now" signal: 400 ms of 1 kHz at
// -12 dBFS.
func Beep() Audio { return Tone(1000, 400*time.Millisecond, -12) }

// Level is the RMS level of samples in dBFS, relative to a full-scale square
// wave (so a full-scale sine is -3 dBFS). Digital silence and empty input
// give MinLevel.
func Level(samples []int16) float64 {
	if len(samples) == 0 {
		return MinLevel
	}
	var sum int64
	for _, s := range samples {
		sum += int64(s) * int64(s)
	}
	return energyToDBFS(float64(sum), len(samples))
}

// MinLevel is the level Level reports for digital silence.
const MinLevel = -120.0

func energyToDBFS(sumSquares float64, n int) float64 {
	if sumSquares <= 0 || n == 0 {
		return MinLevel
	}
	ms := sumSquares / float64(n) / (32768 * 32768)
	return math.Max(MinLevel, 10*math.Log10(ms))
}

func dBToAmp(db float64) float64 { return math.Pow(10, db/20) }

// ramp is the gain of sample i of n under 5 ms raised-cosine fades.
func ramp(i, n int) float64 {
	const r = SampleRate * 5 / 1000
	k := min(i, n-1-i)
	if k >= r {
		return 1
	}
	return 0.5 - 0.5*math.Cos(math.Pi*float64(k)/r)
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

func sat16(v int32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// Speechlike is a test signal inside the telephone band (300-3400 Hz):
// three tones whose loudness moves, so that it cannot be matched at the
// wrong offset (Locate) the way a steady tone can.
func Speechlike(d time.Duration) Audio {
	out := make([]int16, DurationSamples(d))
	for i := range out {
		x := float64(i) / SampleRate
		v := 0.3*math.Sin(2*math.Pi*440*x)*(1+math.Sin(2*math.Pi*3*x)) +
			0.2*math.Sin(2*math.Pi*1230*x)*(1+math.Cos(2*math.Pi*5*x)) +
			0.1*math.Sin(2*math.Pi*2710*x+math.Sin(2*math.Pi*7*x))
		out[i] = int16(v * 16000)
	}
	return Audio{Samples: out}
}
