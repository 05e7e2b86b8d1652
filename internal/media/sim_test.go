package media

import (
	"errors"
	"testing"
	"time"
)

func TestSimPersonScript(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		hello := speech(newRand(20), ms(500), -20)
		speaker := h.person("r", "S",
			Action{At: ms(1000), Hush: true}, // out of order on purpose
			Action{At: ms(200), Say: hello},
			Action{At: ms(1500), Keys: "7"},
			Action{At: ms(1500), Key: '9'},
		)
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.SubscribeTones("r", "L"))
		listener := h.person("r", "H")
		h.run(2 * time.Second)
		expect(t, h.log.take(), "tone L 9 from S", "tone L 7 from S")
		heard := listener.Heard()
		if off, score := Locate(heard, hello); off != 10*FrameSamples || score < 0.999 {
			t.Errorf("hello heard at %d (score %.4f), want frame 10", off, score)
		}
		if keys := listener.HeardKeys(); len(keys) != 1 || keys[0].Key != '7' || keys[0].At != ms(1540) {
			t.Errorf("listener recognised %+v, want 7 at 1.54 s", keys)
		}
		if l := Level(speaker.Heard().Samples); l != MinLevel {
			t.Errorf("the speaker heard %.1f dBFS from a silent room", l)
		}
		if speaker.Joined() != 2*time.Second {
			t.Errorf("Joined = %v", speaker.Joined())
		}
	})
}

func TestSimPersonLiveControl(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		p := h.person("r", "P")
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.SubscribeTones("r", "L"))
		h.must(h.e.Record("r", "L", "rec", RecordOptions{StopTones: []rune{'#'}, MaxDuration: time.Minute}))
		h.run(ms(100))
		said := speech(newRand(21), time.Second, -20)
		p.Say(said)
		h.run(ms(500))
		p.Hush()
		h.run(ms(500))
		h.must(p.Press("1"))
		h.run(ms(500))
		h.must(p.PressOutOfBand('#'))
		h.run(ms(100))
		evs := expect(t, h.log.take(), "tone L 1 from P", "tone L # from P", "record rec")
		rec := decodeRecording(t, evs[2].rec)
		half := Audio{Samples: said.Samples[:ms2samples(500)]}
		if off, score := Locate(rec, half); off != 5*FrameSamples || score < 0.999 {
			t.Errorf("speech at %d of the recording (score %.4f)", off, score)
		}
		if err := p.Press("x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Press(x) = %v", err)
		}
		if err := p.PressOutOfBand('e'); !errors.Is(err, ErrInvalid) {
			t.Errorf("PressOutOfBand(e) = %v", err)
		}
		if _, err := NewSimPerson("bad", Action{Keys: "1z"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewSimPerson with a bad key: %v", err)
		}
	})
}

func ms2samples(n int) int { return DurationSamples(ms(n)) }

func TestSimPersonMemoryIsBounded(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		p := h.person("r", "P")
		p.SetMemory(time.Second)
		h.must(h.e.AddLeg("r", "L"))
		prompt := speech(newRand(22), 3*time.Second, -20)
		h.must(h.e.Play("r", "L", "p", []Audio{prompt}))
		h.run(ms(3010))
		heard := p.Heard()
		if heard.Duration() != time.Second {
			t.Fatalf("kept %v", heard.Duration())
		}
		last := Audio{Samples: prompt.Samples[2*SampleRate : 3*SampleRate]}
		if !equalSamples(heard.Samples, last.Samples) {
			off, score := Locate(heard, last)
			t.Fatalf("kept audio is not the last second heard (found at %d, score %.4f)", off, score)
		}
	})
}

func TestLocate(t *testing.T) {
	rng := newRand(23)
	hay := noise(rng, 2*time.Second, -20)
	needle := Audio{Samples: hay.Samples[12345 : 12345+4000]}
	if off, score := Locate(hay, needle); off != 12345 || score < 0.9999 {
		t.Errorf("Locate = %d, %.5f", off, score)
	}
	quiet := Audio{Samples: make([]int16, len(needle.Samples))}
	for i, v := range needle.Samples {
		quiet.Samples[i] = v / 4 // scaled copies match too
	}
	if off, score := Locate(hay, quiet); off != 12345 || score < 0.999 {
		t.Errorf("Locate of a scaled copy = %d, %.5f", off, score)
	}
	if _, score := Locate(hay, noise(rng, ms(250), -20)); score > 0.1 {
		t.Errorf("unrelated noise scores %.3f", score)
	}
	if off, _ := Locate(needle, hay); off != -1 {
		t.Errorf("needle longer than haystack: %d", off)
	}
	if off, _ := Locate(hay, Silence(ms(100))); off != -1 {
		t.Errorf("silent needle: %d", off)
	}
}

// TestSimPersonIdleMemoryIsFree: minutes of silence cost a SimPerson no
// audio buffer, and Heard still returns them, as silence.
func TestSimPersonIdleMemoryIsFree(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		p := h.person("r", "P")
		h.must(h.e.AddLeg("r", "L"))
		h.run(30 * time.Second)
		p.mu.Lock()
		segs := len(p.mem.segs)
		p.mu.Unlock()
		if segs > 1 {
			t.Errorf("%d memory segments after silence, want at most one count", segs)
		}
		if d := p.Heard().Duration(); d != DefaultSimMemory {
			t.Errorf("heard %v, want the last %v of silence", d, DefaultSimMemory)
		}
		if s := h.e.Stats(); s.RoomTicks > 2 {
			t.Errorf("an idle call was ticked %d times", s.RoomTicks)
		}
	})
}
