package media

import (
	"fmt"
	"math"
	"testing"
)

func sines(rate, n int, amp float64, freqs ...float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		var v float64
		for _, f := range freqs {
			v += amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)+f)
		}
		out[i] = float32(v)
	}
	return out
}

func TestResampleToneKeepsFrequencyAndLevel(t *testing.T) {
	for _, rate := range []int{8000, 11025, 22050, 24000, 32000, 44100, 48000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			out, err := Resample(sines(rate, rate, 0.25, 1000), rate, SampleRate)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != SampleRate {
				t.Fatalf("%d samples out of 1 s, want %d", len(out), SampleRate)
			}
			s := appendInt16(nil, out[800:len(out)-800])
			checkTone(t, s, 1000, 20*math.Log10(0.25/math.Sqrt2))
		})
	}
}

func TestResampleRoundTrip(t *testing.T) {
	// band-limited content well inside the 7.2 kHz passband
	src := sines(SampleRate, 2*SampleRate, 0.1, 150, 440, 1000, 2500, 4000, 6000)
	for _, rate := range []int{8000, 44100, 48000, 22050} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			up, err := Resample(src, SampleRate, rate)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := Resample(up, rate, SampleRate)
			if len(back) != len(src) {
				t.Fatalf("%d samples back, want %d", len(back), len(src))
			}
			want, tol := src, -70.0
			if rate == 8000 { // only what survives 8 kHz (its 3.6 kHz cutoff): drop 4 and 6 kHz
				want, tol = sines(SampleRate, 2*SampleRate, 0.1, 150, 440, 1000, 2500), -50
			}
			edge := 400 // the filters' start-up and tail
			g, w := make([]float64, 0, len(src)), make([]float64, 0, len(src))
			for i := edge; i < len(src)-edge; i++ {
				g, w = append(g, float64(back[i])), append(w, float64(want[i]))
			}
			if e := errorDB(g, w); e > tol {
				t.Fatalf("round trip error %.1f dB, want <= %.0f dB", e, tol)
			}
		})
	}
}

func TestResampleRejectsAliases(t *testing.T) {
	for _, f := range []float64{9000, 10000, 15000, 20000} {
		out, _ := Resample(sines(44100, 44100, 0.5, f), 44100, SampleRate)
		s := appendInt16(nil, out[800:len(out)-800])
		if l := Level(s); l > 20*math.Log10(0.5/math.Sqrt2)-75 {
			t.Errorf("%v Hz at 44.1 kHz leaks into 16 kHz at %.1f dBFS", f, l)
		}
	}
}

func TestResamplerStreamsLikeWhole(t *testing.T) {
	src := sines(44100, 30000, 0.3, 700, 3100)
	whole, _ := Resample(src, 44100, SampleRate)
	r, _ := NewResampler(44100, SampleRate)
	var out []float32
	rng := newRand(7)
	for rest := src; len(rest) > 0; {
		n := min(len(rest), rng.IntN(1000))
		out = r.Write(out, rest[:n])
		rest = rest[n:]
	}
	out = r.Flush(out)
	if len(out) != len(whole) {
		t.Fatalf("streamed %d samples, whole %d", len(out), len(whole))
	}
	for i := range out {
		if out[i] != whole[i] {
			t.Fatalf("sample %d: streamed %v, whole %v", i, out[i], whole[i])
		}
	}
	r.Reset()
	again := r.Flush(r.Write(nil, src))
	if len(again) != len(whole) || again[1234] != whole[1234] {
		t.Fatal("Reset does not start a new stream")
	}
}

func TestResamplerOddRatio(t *testing.T) {
	// 44 999 Hz and 16 kHz have no common factor worth the name: L = 16000 phases are rounded to 1024
	out, err := Resample(sines(44999, 44999, 0.25, 1000), 44999, SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	checkTone(t, appendInt16(nil, out[800:len(out)-800]), 1000, 20*math.Log10(0.25/math.Sqrt2))
	for _, bad := range [][2]int{{0, 16000}, {16000, 1000}, {400000, 16000}} {
		if _, err := NewResampler(bad[0], bad[1]); err == nil {
			t.Errorf("NewResampler(%d, %d) accepted", bad[0], bad[1])
		}
	}
}
