package media

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

const allKeys = "123A456B789C*0#D"

func TestDTMFDetectsEveryKeyInNoiseWithTwist(t *testing.T) {
	rng := newRand(1)
	for _, key := range allKeys {
		for _, twist := range []float64{-4, 0, 4} { // high group minus low group, dB
			for _, ferr := range []float64{-0.015, 0, 0.015} {
				t.Run(fmt.Sprintf("%c/twist%+.0f/freq%+.1f%%", key, twist, ferr*100), func(t *testing.T) {
					row, col := -10-twist/2, -10+twist/2
					tone := dtmfTone(key, row, col, ferr, 100*time.Millisecond)
					signal := 10 * math.Log10(math.Pow(10, row/10)+math.Pow(10, col/10))
					// start anywhere in a frame, in 15 dB SNR white noise
					lead := Silence(time.Duration(rng.IntN(FrameSamples)) * time.Second / SampleRate)
					clip := Concat(lead, tone, Silence(200*time.Millisecond))
					clip = mixAudio(clip, noise(rng, clip.Duration(), signal-15))
					if got := detectKeys(clip); got != string(key) {
						t.Fatalf("detected %q, want %q", got, string(key))
					}
				})
			}
		}
	}
}

func TestDTMFRejectsNonTones(t *testing.T) {
	rng := newRand(2)
	cases := map[string]Audio{
		"silence":      Silence(2 * time.Second),
		"white noise":  noise(rng, 5*time.Second, -20),
		"quiet noise":  noise(rng, 5*time.Second, -50),
		"speech":       speech(rng, 20*time.Second, -18),
		"loud speech":  speech(rng, 10*time.Second, -6),
		"speech+noise": mixAudio(speech(rng, 10*time.Second, -20), noise(rng, 10*time.Second, -40)),
		"too quiet":    dtmfTone('5', -48, -48, 0, 300*time.Millisecond),
		"twist +10 dB": dtmfTone('5', -20, -10, 0, 300*time.Millisecond),
		"twist -10 dB": dtmfTone('5', -10, -20, 0, 300*time.Millisecond),
		"off by 6%":    dtmfTone('5', -10, -10, 0.06, 300*time.Millisecond),
		"too short":    Concat(Silence(10*time.Millisecond), dtmfTone('5', -10, -10, 0, 25*time.Millisecond), Silence(100*time.Millisecond)),
		"two rows":     mixAudio(Tone(697, 300*time.Millisecond, -10), Tone(852, 300*time.Millisecond, -10), Tone(1336, 300*time.Millisecond, -10)),
		"with 2nd harmonic": mixAudio(dtmfTone('5', -10, -10, 0, 300*time.Millisecond),
			Tone(2*770, 300*time.Millisecond, -14), Tone(2*1336, 300*time.Millisecond, -14)),
		"1 kHz beep": Beep(),
	}
	for _, f := range append(dtmfRows[:], dtmfCols[:]...) {
		for _, lvl := range []float64{-30, -10, -3} {
			cases[fmt.Sprintf("single %.0f Hz at %.0f dBFS", f, lvl)] = Tone(f, 500*time.Millisecond, lvl)
		}
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			if got := detectKeys(a); got != "" {
				t.Fatalf("false detection %q", got)
			}
		})
	}
}

func TestDTMFDebounce(t *testing.T) {
	tone := func(k rune, d time.Duration) Audio { return dtmfTone(k, -10, -10, 0, d) }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// a press interrupted for one frame: 10 ms of silence in the middle of a frame
	dropout := Concat(tone('7', ms(200)), Silence(ms(10)), tone('7', ms(200)))
	cases := []struct {
		name string
		clip Audio
		want string
	}{
		{"long press is one key", tone('1', 2*time.Second), "1"},
		{"40 ms aligned press", Concat(tone('2', ms(40)), Silence(ms(100))), "2"},
		{"repeat after 60 ms gap", Concat(tone('3', ms(100)), Silence(ms(60)), tone('3', ms(100))), "33"},
		{"short dropout is the same press", dropout, "7"},
		{"key change without gap", Concat(tone('4', ms(100)), tone('5', ms(100))), "45"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := detectKeys(Concat(c.clip, Silence(ms(100)))); got != c.want {
				t.Fatalf("detected %q, want %q", got, c.want)
			}
		})
	}
}

func TestDTMFGenerator(t *testing.T) {
	for _, gap := range []time.Duration{0, MinToneGap, 250 * time.Millisecond} {
		a, err := DTMF("0123456789*#abcd", 0, gap)
		if err != nil {
			t.Fatal(err)
		}
		if got := detectKeys(Concat(a, Silence(100*time.Millisecond))); got != "0123456789*#ABCD" {
			t.Errorf("gap %v: detected %q", gap, got)
		}
		_, g := toneTiming(0, gap)
		if want := 16*DefaultToneDuration + 15*g; a.Duration() != want {
			t.Errorf("gap %v: duration %v, want %v", gap, a.Duration(), want)
		}
		if peak := peakAbs(a.Samples); peak >= math.MaxInt16 {
			t.Errorf("gap %v: generator clips (peak %d)", gap, peak)
		}
	}
	a, _ := DTMF("1111", 0, MinToneGap)
	if got := detectKeys(Concat(a, Silence(100*time.Millisecond))); got != "1111" {
		t.Errorf("repeated key: detected %q", got)
	}
	if _, err := DTMF("12x", 0, 0); err == nil || !strings.Contains(err.Error(), `'X' at 2`) {
		t.Errorf("bad key: err = %v", err)
	}
}

func TestToneNames(t *testing.T) {
	for _, k := range allKeys {
		name := KeyTone(k)
		back, ok := ToneKey(name)
		if !ok || back != k {
			t.Errorf("%c -> %q -> %c, %v", k, name, back, ok)
		}
	}
	for _, bad := range []string{"flash", "tone", "tone10", "e", ""} {
		if _, ok := ToneKey(bad); ok {
			t.Errorf("ToneKey(%q) accepted", bad)
		}
	}
	if KeyTone('x') != "" {
		t.Error("KeyTone('x') is not empty")
	}
}

func TestVADSegmentsBursts(t *testing.T) {
	rng := newRand(3)
	// five 600 ms bursts of speech separated by 700 ms of -65 dBFS background
	var clips []Audio
	for range 5 {
		clips = append(clips, Silence(700*time.Millisecond), speech(rng, 600*time.Millisecond, -22))
	}
	clips = append(clips, Silence(time.Second))
	clip := mixAudio(Concat(clips...), noise(rng, 7500*time.Millisecond, -65))
	var v VAD
	fs := frames(clip)
	var starts, ends []int
	prev := false
	for i := range fs {
		s := v.Process(&fs[i])
		switch {
		case s && !prev:
			starts = append(starts, i)
		case !s && prev:
			ends = append(ends, i)
		}
		prev = s
	}
	if len(starts) != 5 || len(ends) != 5 {
		t.Fatalf("speech starts at frames %v, ends at %v; want 5 of each", starts, ends)
	}
	for k := range 5 {
		on := (700 + 1300*k) / 20 // frame where burst k begins
		off := on + 600/20
		if starts[k] < on || starts[k] > on+8 {
			t.Errorf("burst %d: speech started at frame %d, burst begins at %d", k, starts[k], on)
		}
		if ends[k] < off || ends[k] > off+DefaultVADHangover+3 {
			t.Errorf("burst %d: speech ended at frame %d, burst ends at %d", k, ends[k], off)
		}
	}
}

func TestMixerMinusOne(t *testing.T) {
	rng := newRand(4)
	var m Mixer
	for n := 1; n <= 6; n++ {
		for trial := range 20 {
			in := make([]*Frame, n)
			out := make([]*Frame, n)
			for i := range n {
				out[i] = &Frame{1} // garbage that Mix must overwrite
				if rng.IntN(4) == 0 {
					continue // silent party
				}
				in[i] = new(Frame)
				for k := range in[i] {
					in[i][k] = int16(rng.IntN(65536) - 32768) // full-scale: saturation is exercised
				}
			}
			m.Mix(in, out)
			for i := range n {
				for k := range FrameSamples {
					var want int32
					for j := range n {
						if j != i && in[j] != nil {
							want += int32(in[j][k])
						}
					}
					if got := out[i][k]; got != sat16(want) {
						t.Fatalf("n=%d trial %d: out[%d][%d] = %d, want %d", n, trial, i, k, got, sat16(want))
					}
				}
			}
		}
	}
}

func TestMixerNobodyHearsThemselves(t *testing.T) {
	freqs := []float64{400, 700, 1100, 1900}
	var m Mixer
	in := make([]*Frame, len(freqs))
	out := make([]*Frame, len(freqs))
	for i, f := range freqs {
		fs := frames(Tone(f, FrameDuration, -12))
		in[i], out[i] = &fs[0], new(Frame)
	}
	m.Mix(in, out)
	for i, own := range freqs {
		if lvl := Goertzel(out[i][:], own); lvl > -60 {
			t.Errorf("party %d hears its own %v Hz at %.1f dBFS", i, own, lvl)
		}
		for j, other := range freqs {
			if j != i {
				if lvl := Goertzel(out[i][:], other); lvl < -16 {
					t.Errorf("party %d hears %v Hz at only %.1f dBFS", i, other, lvl)
				}
			}
		}
	}
}

func TestLevelAndTone(t *testing.T) {
	a := Tone(1000, time.Second, -20)
	if l := Level(a.Samples); math.Abs(l+20) > 0.1 {
		t.Errorf("Level = %.2f, want -20", l)
	}
	if l := Goertzel(a.Samples, 1000); math.Abs(l+20) > 0.2 {
		t.Errorf("Goertzel at 1 kHz = %.2f, want -20", l)
	}
	if l := Level(nil); l != MinLevel {
		t.Errorf("Level(nil) = %v", l)
	}
	if b := Beep(); b.Duration() != 400*time.Millisecond || math.Abs(Goertzel(b.Samples, 1000)+12) > 0.5 {
		t.Errorf("Beep: %v at %.1f dBFS", b.Duration(), Goertzel(b.Samples, 1000))
	}
}

func peakAbs(s []int16) int {
	p := 0
	for _, v := range s {
		p = max(p, abs(int(v)))
	}
	return p
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
