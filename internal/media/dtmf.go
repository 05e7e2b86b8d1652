package media

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// DTMF keys are the runes '0'-'9', '*', '#' and 'A'-'D'.
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]rune{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// ValidKey reports whether r is one of the 16 DTMF keys (upper-case A-D).
func ValidKey(r rune) bool {
	_, _, ok := keyPos(r)
	return ok
}

// NormalizeKeys upper-cases a-d and checks that every rune of keys is a
// DTMF key; the error wraps ErrInvalid and names the first bad rune.
func NormalizeKeys(keys string) (string, error) {
	keys = strings.ToUpper(keys)
	for i, r := range keys {
		if !ValidKey(r) {
			return "", fmt.Errorf("%w: %q at %d is not a DTMF key (0-9, *, #, A-D)", ErrInvalid, r, i)
		}
	}
	return keys, nil
}

func keyPos(r rune) (row, col int, ok bool) {
	for i := range dtmfKeys {
		for j, k := range dtmfKeys[i] {
			if k == r {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// KeyTone returns the Graph tone enum member of a key ("tone0".."tone9",
// "star", "pound", "a".."d"), or "" if r is not a key.
func KeyTone(r rune) string {
	switch {
	case r >= '0' && r <= '9':
		return "tone" + string(r)
	case r == '*':
		return "star"
	case r == '#':
		return "pound"
	case r >= 'A' && r <= 'D':
		return string(r + 'a' - 'A')
	}
	return ""
}

// ToneKey is the inverse of KeyTone. Graph's "flash" has no DTMF key and
// gives false.
func ToneKey(tone string) (rune, bool) {
	switch {
	case len(tone) == 5 && strings.HasPrefix(tone, "tone") && tone[4] >= '0' && tone[4] <= '9':
		return rune(tone[4]), true
	case tone == "star":
		return '*', true
	case tone == "pound":
		return '#', true
	case len(tone) == 1 && tone[0] >= 'a' && tone[0] <= 'd':
		return rune(tone[0] - 'a' + 'A'), true
	}
	return 0, false
}

// Generator timing.
const (
	DefaultToneDuration = 100 * time.Millisecond
	DefaultToneGap      = 100 * time.Millisecond
	// MinToneDuration and MinToneGap are what a DTMFDetector needs on 20 ms
	// frames to see every tone (two whole frames) and to tell a repeated key
	// from a held one.
	MinToneDuration = 60 * time.Millisecond
	MinToneGap      = 60 * time.Millisecond
	// Levels of the two components: the high group 2 dB louder (the usual
	// pre-emphasis), together peaking below full scale.
	dtmfRowDBFS = -11
	dtmfColDBFS = -9
)

// DTMF generates keys as in-band tones: each key lasts tone and keys are
// separated by gap (no gap before the first or after the last). tone <= 0
// means DefaultToneDuration and gap <= 0 DefaultToneGap; shorter values than
// MinToneDuration and MinToneGap are raised to them. Lower-case a-d are
// accepted; any other non-key fails with ErrInvalid.
func DTMF(keys string, tone, gap time.Duration) (Audio, error) {
	keys, err := NormalizeKeys(keys)
	if err != nil {
		return Audio{}, err
	}
	tone, gap = toneTiming(tone, gap)
	var clips []Audio
	for i, k := range keys {
		if i > 0 {
			clips = append(clips, Silence(gap))
		}
		row, col, _ := keyPos(k)
		lo := Tone(dtmfRows[row], tone, dtmfRowDBFS)
		hi := Tone(dtmfCols[col], tone, dtmfColDBFS)
		for j := range lo.Samples {
			lo.Samples[j] = sat16(int32(lo.Samples[j]) + int32(hi.Samples[j]))
		}
		clips = append(clips, lo)
	}
	return Concat(clips...), nil
}

func toneTiming(tone, gap time.Duration) (time.Duration, time.Duration) {
	if tone <= 0 {
		tone = DefaultToneDuration
	}
	if gap <= 0 {
		gap = DefaultToneGap
	}
	return max(tone, MinToneDuration), max(gap, MinToneGap)
}

// Detector thresholds. Powers are compared, so 10^(dB/10).
var (
	dtmfMinComponent = dBToAmp(-42) * dBToAmp(-42) // each tone at least -42 dBFS RMS (mean square, of full scale)
	dtmfMinFrame     = dBToAmp(-45) * dBToAmp(-45) // frames quieter than -45 dBFS are skipped unanalysed
	dtmfNormalTwist  = math.Pow(10, 6.0/10)        // the low group may be up to 6 dB louder than the high
	dtmfReverseTwist = math.Pow(10, 8.0/10)        // the high group may be up to 8 dB louder than the low
	dtmfGroupMargin  = math.Pow(10, 6.0/10)        // the peak beats the rest of its group by 6 dB
	dtmfHarmonic     = math.Pow(10, -15.0/10)      // second harmonics at least 15 dB down
	dtmfFraction     = 0.8                         // the two tones carry at least 80% of the frame's energy
)

const (
	dtmfSpread = 0.015 // the frequency tolerance that must be accepted
	// A row's second harmonic is only checked when the column tone is at
	// least this far from it: 2×697 Hz is 58 Hz from 1336 Hz, where the
	// column tone's own leakage would fail the check.
	dtmfHarmonicClear = 250.0
	dtmfMinFrames     = 2 // frames of the same key before it is reported (40 ms)
	dtmfReleaseFrames = 2 // frames without it before the key counts as released
)

var dtmfCoef [8]float64 // 2cos(ω) of rows then columns

func init() {
	for i := range 4 {
		dtmfCoef[i] = 2 * math.Cos(2*math.Pi*dtmfRows[i]/SampleRate)
		dtmfCoef[4+i] = 2 * math.Cos(2*math.Pi*dtmfCols[i]/SampleRate)
	}
}

// DTMFDetector finds DTMF keys in a stream of frames with the Goertzel
// algorithm. Each 20 ms frame is measured at the eight fundamentals; it
// holds a key when one row and one column tone
//   - stand out in their groups by 6 dB,
//   - are loud enough (-42 dBFS each),
//   - are within the twist limits: the low group at most 6 dB louder than
//     the high, the high at most 8 dB louder than the low (the analog-line
//     8 dB normal twist is not needed on digital paths and lets speech in),
//   - carry 80% of the frame's energy (out-of-band rejection; a key in
//     15 dB SNR white noise carries about 90%),
//   - have second harmonics 15 dB down (speech rejection; a row's is
//     checked only where the column tone does not leak into it).
//
// Tones up to 1.5% off frequency are measured at full strength. A key is
// reported once per press, after it was seen in two consecutive frames (a
// tone of 60 ms is always seen, whatever its alignment); it is pressed
// again only after two frames without it, or when another key replaces it.
//
// The zero value is ready to use. A DTMFDetector is not safe for concurrent
// use.
type DTMFDetector struct {
	cur   rune // key being held (already reported), 0 if none
	cand  rune // key of the last frames
	candN int  // how many consecutive frames held cand
	miss  int  // consecutive frames without cur
}

// Reset forgets any key in progress.
func (d *DTMFDetector) Reset() { *d = DTMFDetector{} }

// Process analyses the next frame and returns a key when a press is
// recognised, or 0.
func (d *DTMFDetector) Process(f *Frame) rune {
	return d.next(frameKey(f))
}

// Quiet tells the detector that a frame of silence passed, without the cost
// of analysing it.
func (d *DTMFDetector) Quiet() { d.next(0) }

// Silence tells the detector that n frames of silence passed: what Quiet n
// times would do, in constant time.
func (d *DTMFDetector) Silence(n int) {
	for range min(n, dtmfReleaseFrames+1) {
		d.next(0)
	}
}

// Held reports the key currently held down, if any: it is set from the
// frame that reports a key until the key is released.
func (d *DTMFDetector) Held() rune { return d.cur }

func (d *DTMFDetector) next(k rune) rune {
	if k != 0 && k == d.cand {
		d.candN++
	} else {
		d.cand, d.candN = k, 0
		if k != 0 {
			d.candN = 1
		}
	}
	if d.cur != 0 {
		if k == d.cur {
			d.miss = 0
		} else if d.miss++; d.miss >= dtmfReleaseFrames {
			d.cur = 0
		}
	}
	if d.cand != 0 && d.cand != d.cur && d.candN >= dtmfMinFrames {
		d.cur, d.miss = d.cand, 0
		return d.cur
	}
	return 0
}

// frameKey classifies one frame: the key it holds, or 0.
func frameKey(f *Frame) rune {
	var energy float64
	for _, s := range f {
		v := float64(s)
		energy += v * v
	}
	const fs2 = 32768.0 * 32768.0
	n := float64(FrameSamples)
	if energy < dtmfMinFrame*fs2*n {
		return 0
	}
	p := goertzel8(f, &dtmfCoef)
	row, rp := peak(p[0:4])
	col, cp := peak(p[4:8])
	for i := range 4 {
		if (i != row && p[i]*dtmfGroupMargin > rp) || (i != col && p[4+i]*dtmfGroupMargin > cp) {
			return 0
		}
	}
	// A tone 1.5% off (which must be accepted) sits half a bin from the
	// nominal frequency and loses 4 dB there, so measure around it too.
	fr, fc := dtmfRows[row], dtmfCols[col]
	const s1, s2 = dtmfSpread / 2, dtmfSpread
	q := goertzelAt(f, fr*(1-s2), fr*(1-s1), fr*(1+s1), fr*(1+s2), fc*(1-s2), fc*(1-s1), fc*(1+s1), fc*(1+s2), 2*fr, 2*fc)
	rp, cp = max(rp, q[0], q[1], q[2], q[3]), max(cp, q[4], q[5], q[6], q[7])
	// a pure tone of mean square m has power m*N²/2 in its bin
	minP := dtmfMinComponent * fs2 * n * n / 2
	switch {
	case rp < minP || cp < minP:
		return 0
	case rp > cp*dtmfNormalTwist || cp > rp*dtmfReverseTwist:
		return 0
	case (rp+cp)*2/n < dtmfFraction*energy:
		return 0
	case q[9] > dtmfHarmonic*cp:
		return 0
	case math.Abs(2*fr-fc) >= dtmfHarmonicClear && q[8] > dtmfHarmonic*rp:
		return 0
	}
	return dtmfKeys[row][col]
}

func peak(p []float64) (int, float64) {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best, p[best]
}

// goertzel8 returns the squared magnitude of the frame at the eight
// frequencies whose coefficients (2cos ω) are given.
func goertzel8(f *Frame, coef *[8]float64) [8]float64 {
	var p [8]float64
	goertzel4(f, (*[4]float64)(coef[0:4]), (*[4]float64)(p[0:4]))
	goertzel4(f, (*[4]float64)(coef[4:8]), (*[4]float64)(p[4:8]))
	return p
}

// goertzel4 runs four Goertzel filters over the frame, side by side in
// locals: their recurrences are independent, so each hides the others'
// latency.
func goertzel4(f *Frame, coef, p *[4]float64) {
	c0, c1, c2, c3 := coef[0], coef[1], coef[2], coef[3]
	var a1, a2, b1, b2, d1, d2, e1, e2 float64
	for _, x := range f {
		v := float64(x)
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
		e1, e2 = v+c3*e1-e2, e1
	}
	p[0] = a1*a1 + a2*a2 - c0*a1*a2
	p[1] = b1*b1 + b2*b2 - c1*b1*b2
	p[2] = d1*d1 + d2*d2 - c2*d1*d2
	p[3] = e1*e1 + e2*e2 - c3*e1*e2
}

// goertzelAt returns the squared magnitude of the frame at ten frequencies.
func goertzelAt(f *Frame, freqs ...float64) [10]float64 {
	var coef [12]float64
	for k, fr := range freqs {
		coef[k] = 2 * math.Cos(2*math.Pi*fr/SampleRate)
	}
	var p [12]float64
	for i := 0; i < 12; i += 4 {
		goertzel4(f, (*[4]float64)(coef[i:i+4]), (*[4]float64)(p[i:i+4]))
	}
	return [10]float64(p[:10])
}

// Goertzel returns the level in dBFS (as Level) of the component of samples
// at freq Hz: a test's way to check that a tone or a prompt's band reached
// an endpoint.
func Goertzel(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return MinLevel
	}
	c := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, x := range samples {
		s1, s2 = float64(x)+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(samples))
	return energyToDBFS(2*p/n, len(samples)) // a tone's energy is 2P/N
}
