package media

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

func TestPlayOrder(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		p := h.person("r", "P")
		a := Tone(500, ms(300), -12)
		b := Tone(1500, ms(300), -12)
		c := Tone(900, ms(200), -12)
		h.must(h.e.Play("r", "L", "op1", []Audio{a}))
		h.must(h.e.Play("r", "L", "op2", []Audio{b, c}))
		h.run(time.Second)
		evs := expect(t, h.log.take(), "play op1", "play op2")
		// op1 is exhausted at frame 15, op2 (25 frames) at frame 40
		if evs[0].err != nil || evs[0].at != tick(15) || evs[1].err != nil || evs[1].at != tick(40) {
			t.Fatalf("events:%s", summary(evs))
		}
		heard := p.Heard()
		for _, c := range []struct {
			name string
			clip Audio
			at   int
		}{{"a", a, 0}, {"b", b, 4800}, {"c", c, 9600}} { // back to back, no gap
			if off, score := Locate(heard, c.clip); off != c.at || score < 0.999 {
				t.Errorf("prompt %s heard at sample %d (score %.4f), want %d", c.name, off, score, c.at)
			}
		}
		if l := Level(heard.Samples[16000-FrameSamples*5:]); l != MinLevel {
			t.Errorf("silence after the prompts is at %.1f dBFS", l)
		}
	})
}

func TestRecordStopTone(t *testing.T) {
	for _, inBand := range []bool{true, false} {
		name := map[bool]string{true: "in-band", false: "out-of-band"}[inBand]
		t.Run(name, func(t *testing.T) {
			bubble(t, func(t *testing.T, h *harness) {
				said := speech(newRand(10), 2*time.Second, -20)
				press := Action{At: ms(3400), Keys: "#"}
				if !inBand {
					press = Action{At: ms(3400), Key: '#'}
				}
				h.must(h.e.AddLeg("r", "L"))
				p := h.person("r", "P", Action{At: ms(1200), Say: said}, press)
				prompt := Tone(600, ms(500), -15)
				h.must(h.e.Record("r", "L", "rec", RecordOptions{
					Prompt: &prompt, Beep: true, StopTones: []rune{'*', '#'},
					InitialSilence: 5 * time.Second, MaxSilence: 5 * time.Second, MaxDuration: 20 * time.Second,
				}))
				h.run(5 * time.Second)
				evs := expect(t, h.log.take(), "record rec")
				r := evs[0].rec
				// prompt: frames 0-24, beep: 25-44, recording from frame 45 (0.9 s);
				// '#' starts at frame 170: seen out of band at once, in-band at 171
				// and the 3 frames it may have reached are cut
				wantFrames, at := 170-45+1, tick(170)
				if inBand {
					wantFrames, at = 171-45+1-3, tick(171)
				}
				if r.Reason != ReasonStopToneDetected || r.Tone != '#' || evs[0].at != at ||
					r.Duration != time.Duration(wantFrames)*FrameDuration {
					t.Fatalf("got %s; want stopToneDetected '#' after %d frames at %v", evs[0], wantFrames, at)
				}
				rec := decodeRecording(t, r)
				if off, score := Locate(rec, said); off != (60-45)*FrameSamples || score < 0.999 {
					t.Errorf("speech found at sample %d of the recording (score %.4f), want %d", off, score, 15*FrameSamples)
				}
				if keys := detectKeys(rec); keys != "" {
					t.Errorf("the stop tone is in the recording: %q", keys)
				}
				heard := p.Heard()
				if off, score := Locate(heard, prompt); off != 0 || score < 0.999 {
					t.Errorf("prompt heard at %d (score %.4f)", off, score)
				}
				if l := Goertzel(heard.Samples[8000:14400], 1000); math.Abs(l+12) > 0.5 {
					t.Errorf("beep heard at %.1f dBFS, want -12", l)
				}
			})
		})
	}
}

func TestRecordTimeouts(t *testing.T) {
	said := speech(newRand(11), time.Second, -20)
	lastLoud := 0 // last frame of said at or above the VAD's Off level
	for i, f := range frames(said) {
		if Level(f[:]) >= DefaultVADOff {
			lastLoud = i
		}
	}
	cases := []struct {
		name   string
		script []Action
		opts   RecordOptions
		reason RecordReason
		frames int
	}{
		{"initial silence", nil, RecordOptions{InitialSilence: 2 * time.Second, MaxDuration: time.Minute},
			ReasonInitialSilenceTimeout, 100},
		{"max silence after speech", []Action{{At: ms(500), Say: said}},
			RecordOptions{InitialSilence: time.Second, MaxSilence: 1500 * time.Millisecond, MaxDuration: time.Minute},
			ReasonMaxSilenceTimeout, 25 + lastLoud + 1 + 75},
		{"max duration", []Action{{At: ms(100), Say: speech(newRand(12), 10*time.Second, -20)}},
			RecordOptions{InitialSilence: time.Second, MaxSilence: time.Second, MaxDuration: 3 * time.Second},
			ReasonMaxRecordDurationReached, 150},
		{"defaults: 5 s of initial silence", nil, RecordOptions{}, ReasonInitialSilenceTimeout, 250},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, h *harness) {
				h.must(h.e.AddLeg("r", "L"))
				h.person("r", "P", c.script...)
				h.must(h.e.Record("r", "L", "rec", c.opts))
				h.run(15 * time.Second)
				evs := expect(t, h.log.take(), "record rec")
				r := evs[0].rec
				want := time.Duration(c.frames) * FrameDuration
				if r.Reason != c.reason || r.Duration != want || evs[0].at != tick(c.frames-1) {
					t.Fatalf("got %s; want %v after %v", evs[0], c.reason, want)
				}
				decodeRecording(t, r)
			})
		})
	}
}

func TestRecordQueuedBehindPlay(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		h.person("r", "P")
		h.must(h.e.Play("r", "L", "play", []Audio{Tone(500, time.Second, -12)}))
		h.must(h.e.Record("r", "L", "rec", RecordOptions{InitialSilence: time.Second}))
		h.run(3 * time.Second)
		evs := expect(t, h.log.take(), "play play", "record rec")
		if evs[0].at != tick(50) || evs[1].at != tick(99) || evs[1].rec.Duration != time.Second {
			t.Fatalf("events:%s", summary(evs))
		}
	})
}

func TestBargeIn(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		p := h.person("r", "P", Action{At: ms(2000), Key: '1'})
		h.must(h.e.Play("r", "L", "long", []Audio{Tone(500, 5*time.Second, -12)}))
		h.must(h.e.Play("r", "L", "next", []Audio{Tone(700, time.Second, -12)}))
		h.run(time.Second)
		h.must(h.e.Record("r", "L", "rec", RecordOptions{Beep: true, StopTones: []rune{'1'}, BargeIn: true}))
		h.settle()
		evs := expect(t, h.log.take(), "play long", "play next")
		for _, e := range evs {
			if !isCanceled(e.err) || e.at != time.Second {
				t.Fatalf("not canceled at once by the barge-in:%s", summary(evs))
			}
		}
		h.run(2 * time.Second)
		evs = expect(t, h.log.take(), "record rec")
		if evs[0].rec.Reason != ReasonStopToneDetected || evs[0].at != tick(100) {
			t.Fatalf("got %s", evs[0])
		}
		heard := p.Heard().Samples
		if l := Goertzel(heard[16000:16000+6400], 1000); math.Abs(l+12) > 0.5 {
			t.Errorf("beep after the barge-in at %.1f dBFS", l)
		}
		if l := Goertzel(heard[16000:], 500); l > -80 {
			t.Errorf("the canceled prompt went on at %.1f dBFS", l)
		}
	})
}

func TestCancel(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		h.person("r", "P", Action{At: ms(1000), Key: '5'})
		h.must(h.e.SubscribeTones("r", "L"))
		h.must(h.e.Play("r", "L", "play", []Audio{Tone(500, 2*time.Second, -12)}))
		h.must(h.e.Record("r", "L", "rec", RecordOptions{}))
		h.must(h.e.SendTones("r", "L", "dtmf", "123456", 0))
		h.run(ms(300))
		ids := h.e.Cancel("r", "L")
		if !slices.Equal(ids, []string{"play", "rec", "dtmf"}) {
			t.Fatalf("Cancel = %q", ids)
		}
		h.settle()
		evs := expect(t, h.log.take(), "play play", "record rec", "tones dtmf")
		if !isCanceled(evs[0].err) || evs[1].rec.Reason != ReasonOperationCanceled || evs[1].rec.WAV != nil ||
			!evs[2].canceled {
			t.Fatalf("not reported as canceled:%s", summary(evs))
		}
		if ids := h.e.Cancel("r", "L"); len(ids) != 0 {
			t.Fatalf("second Cancel = %q", ids)
		}
		h.run(3 * time.Second) // nothing more of theirs; the subscription survives
		evs = expect(t, h.log.take(), "tone L 5 from P")
	})
}

func TestToneSubscription(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L1"))
		h.must(h.e.AddLeg("r", "L2"))
		h.person("r", "P1", Action{At: ms(200), Keys: "12"}, Action{At: ms(1000), Keys: "4"})
		h.person("r", "P2", Action{At: ms(700), Key: '#'}, Action{At: ms(1000), Keys: "6"})
		h.must(h.e.SubscribeTones("r", "L1"))
		h.must(h.e.SubscribeTones("r", "L1")) // harmless
		h.must(h.e.SendTones("r", "L2", "send", "9", 0))
		h.must(h.e.AddLeg("other", "L3")) // another room hears nothing
		h.must(h.e.SubscribeTones("other", "L3"))
		h.run(2 * time.Second)
		// P1 and P2 press 4 and 6 in-band at the same time: each is told apart
		evs := expect(t, h.log.take(), "tone L1 9 from L2", "tones send", "tone L1 1 from P1",
			"tone L1 2 from P1", "tone L1 # from P2", "tone L1 4 from P1", "tone L1 6 from P2")
		if evs[0].at != tick(1) || evs[2].at != tick(11) || evs[4].at != tick(35) {
			t.Fatalf("events:%s", summary(evs))
		}
	})
}

func TestSendTonesHeardByPerson(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		p := h.person("r", "P")
		prompt := Tone(500, ms(600), -12)
		h.must(h.e.Play("r", "L", "play", []Audio{prompt}))
		h.must(h.e.SendTones("r", "L", "dtmf", "0123456789*#abcd", ms(80)))
		h.run(4 * time.Second)
		// 16 tones of 100 ms and 15 gaps of 80 ms: 140 frames; the prompt waits
		evs := expect(t, h.log.take(), "tones dtmf", "play play")
		if evs[0].canceled || evs[0].at != tick(140) || evs[1].at != tick(170) {
			t.Fatalf("events:%s", summary(evs))
		}
		var keys []rune
		for _, k := range p.HeardKeys() {
			keys = append(keys, k.Key)
		}
		if string(keys) != "0123456789*#ABCD" {
			t.Fatalf("the person heard %q", string(keys))
		}
		if off, score := Locate(p.Heard(), prompt); off != 140*FrameSamples || score < 0.999 {
			t.Fatalf("prompt heard at %d (score %.4f)", off, score)
		}
	})
}

// A recording with no prompt listens at once, even while its leg sends
// tones (which hold back prompts, not ears).
func TestRecordListensWhileSendingTones(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		h.person("r", "P", Action{At: ms(200), Key: '#'})
		h.must(h.e.Record("r", "L", "rec", RecordOptions{
			StopTones: []rune{'#'}, InitialSilence: 5 * time.Second, MaxSilence: 5 * time.Second, MaxDuration: 20 * time.Second,
		}))
		h.must(h.e.SendTones("r", "L", "dtmf", "1234", ms(80))) // 4 tones and 3 gaps: 32 frames
		h.run(2 * time.Second)
		evs := expect(t, h.log.take(), "record rec", "tones dtmf")
		if r := evs[0].rec; r.Reason != ReasonStopToneDetected || evs[0].at != tick(10) {
			t.Fatalf("events:%s; want the recording stopped by the # at frame 10, while the tones were sent", summary(evs))
		}
	})
}

func TestMixInRoom(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		freqs := map[string]float64{"A": 400, "B": 1100, "C": 1900}
		var people []*SimPerson
		for _, id := range []string{"A", "B", "C"} {
			people = append(people, h.person("r", id, Action{Say: Tone(freqs[id], time.Second, -15)}))
		}
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.Play("r", "L", "p", []Audio{Tone(700, time.Second, -15)}))
		h.run(time.Second)
		for _, p := range people {
			heard := p.Heard().Samples[800:15200]
			for id, f := range freqs {
				l := Goertzel(heard, f)
				if id == p.ID() && l > -80 {
					t.Errorf("%s hears itself at %.1f dBFS", id, l)
				}
				if id != p.ID() && math.Abs(l+15) > 0.5 {
					t.Errorf("%s hears %s at %.1f dBFS, want -15", p.ID(), id, l)
				}
			}
			if l := Goertzel(heard, 700); math.Abs(l+15) > 0.5 {
				t.Errorf("%s hears the prompt at %.1f dBFS", p.ID(), l)
			}
		}
	})
}

func TestRemoveAndClose(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		busy := func(room, leg string) {
			h.must(h.e.AddLeg(room, leg))
			h.must(h.e.Play(room, leg, leg+"-play", []Audio{Tone(500, 5*time.Second, -12)}))
			h.must(h.e.Record(room, leg, leg+"-rec", RecordOptions{}))
			h.must(h.e.SendTones(room, leg, leg+"-dtmf", "1234", 0))
		}
		busy("r", "L")
		h.person("r", "P")
		busy("s", "M")
		h.person("s", "Q")
		h.run(ms(200))
		h.must(h.e.RemoveLeg("r", "L"))
		h.must(h.e.CloseRoom("s"))
		h.settle()
		evs := expect(t, h.log.take(), "play L-play", "record L-rec", "tones L-dtmf",
			"play M-play", "record M-rec", "tones M-dtmf")
		if !isCanceled(evs[0].err) || !isCanceled(evs[3].err) {
			t.Fatalf("events:%s", summary(evs))
		}
		if s := h.e.Stats(); s.Rooms != 1 || s.Members != 1 {
			t.Fatalf("stats %+v, want room r with P", s)
		}
		h.must(h.e.RemoveEndpoint("r", "P"))
		if s := h.e.Stats(); s.Rooms != 0 {
			t.Fatalf("stats %+v, want no rooms", s)
		}
		h.run(time.Second)
		expect(t, h.log.take())
	})
}

func TestEngineErrors(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		h.person("r", "P")
		h.must(h.e.Play("r", "L", "op", nil))
		cases := []struct {
			name string
			err  error
			want error
		}{
			{"second Start", h.e.Start(t.Context()), ErrStarted},
			{"duplicate leg", h.e.AddLeg("r", "L"), ErrExists},
			{"leg named like an endpoint", h.e.AddLeg("r", "P"), ErrExists},
			{"empty leg id", h.e.AddLeg("r", ""), ErrInvalid},
			{"nil endpoint", h.e.AddEndpoint("r", nil), ErrInvalid},
			{"play on unknown leg", h.e.Play("r", "X", "op2", nil), ErrNotFound},
			{"play on an endpoint", h.e.Play("r", "P", "op2", nil), ErrNotFound},
			{"play in unknown room", h.e.Play("nope", "L", "op2", nil), ErrNotFound},
			{"duplicate operation", h.e.Play("r", "L", "op", nil), ErrExists},
			{"empty operation id", h.e.Play("r", "L", "", nil), ErrInvalid},
			{"negative timer", h.e.Record("r", "L", "rec", RecordOptions{MaxSilence: -time.Second}), ErrInvalid},
			{"eleven-minute record", h.e.Record("r", "L", "rec", RecordOptions{MaxDuration: 11 * time.Minute}), ErrInvalid},
			{"bad stop tone", h.e.Record("r", "L", "rec", RecordOptions{StopTones: []rune{'x'}}), ErrInvalid},
			{"bad tone", h.e.SendTones("r", "L", "t", "12e", 0), ErrInvalid},
			{"subscribe unknown", h.e.SubscribeTones("r", "X"), ErrNotFound},
			{"remove endpoint as leg", h.e.RemoveLeg("r", "P"), ErrNotFound},
			{"remove leg as endpoint", h.e.RemoveEndpoint("r", "L"), ErrNotFound},
			{"close unknown room", h.e.CloseRoom("nope"), ErrNotFound},
		}
		for _, c := range cases {
			if !errors.Is(c.err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
			}
		}
		if ids := h.e.Cancel("nope", "L"); ids != nil {
			t.Errorf("Cancel on unknown leg = %q", ids)
		}
		h.run(ms(40))
		expect(t, h.log.take(), "play op") // a Play of nothing finishes at the next tick
	})
}

func TestShutdownCancelsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewFake(epoch)
		log := &eventLog{clk: clk, start: epoch}
		e := New(clk, log)
		// commands before Start are kept; their events wait for the engine
		if err := e.AddLeg("r", "L"); err != nil {
			t.Fatal(err)
		}
		if err := e.Play("r", "L", "play", []Audio{Tone(500, time.Second, -12)}); err != nil {
			t.Fatal(err)
		}
		if err := e.Record("r", "L", "rec", RecordOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(ms(100))
		synctest.Wait()
		if err := e.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		evs := expect(t, log.take(), "play play", "record rec")
		if !isCanceled(evs[0].err) || evs[1].rec.Reason != ReasonOperationCanceled {
			t.Fatalf("events:%s", summary(evs))
		}
		if err := e.Shutdown(t.Context()); err != nil {
			t.Fatalf("second Shutdown: %v", err)
		}
		for name, err := range map[string]error{
			"Start": e.Start(t.Context()), "AddLeg": e.AddLeg("r", "L2"), "Play": e.Play("r", "L", "x", nil),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Shutdown: %v", name, err)
			}
		}
		if clk.Pending() != 0 {
			t.Errorf("%d timers left", clk.Pending())
		}
	})
}

func TestShutdownBeforeStart(t *testing.T) {
	clk := clock.NewFake(epoch)
	log := &eventLog{clk: clk, start: epoch}
	e := New(clk, log)
	if err := e.AddLeg("r", "L"); err != nil {
		t.Fatal(err)
	}
	if err := e.SendTones("r", "L", "t", "1", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs := expect(t, log.take(), "tones t")
	if !evs[0].canceled {
		t.Fatalf("events:%s", summary(evs))
	}
}

// TestCatchUpAndSkip: a late tick computes the missing frames in order; a
// tick more than MaxCatchUp late skips the rest for everyone, and media
// time stands still: the prompt resumes where it was.
func TestCatchUpAndSkip(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		p := h.person("r", "P")
		h.must(h.e.AddLeg("r", "L"))
		prompt := speech(newRand(40), 3*time.Second, -20)
		h.must(h.e.Play("r", "L", "p", []Audio{prompt}))
		h.clk.Advance(ms(200)) // one late timer: ten frames
		synctest.Wait()
		if s := h.e.Stats(); s.Frames != 10 || s.RoomTicks != 10 || s.Skipped != 0 || p.Joined() != ms(200) || s.Lag != 0 || s.LagSum != ms(900) {
			t.Fatalf("after 200 ms: %+v, person joined %v", s, p.Joined())
		}
		h.clk.Advance(MaxCatchUp + ms(500)) // too late: one second is computed, the rest skipped
		synctest.Wait()
		if s := h.e.Stats(); s.Frames != 60 || s.Skipped != 25 {
			t.Fatalf("after a 1.5 s stall: %+v", s)
		}
		h.run(ms(100))
		if s := h.e.Stats(); s.Frames != 65 || h.clk.Pending() != 1 {
			t.Fatalf("back on time: %+v, %d timers", s, h.clk.Pending())
		}
		h.run(2 * time.Second)
		expect(t, h.log.take(), "play p")
		// Nothing of the prompt was lost in the stall: the person heard it
		// all, without a gap.
		if off, score := Locate(p.Heard(), prompt); score < 0.999 {
			t.Errorf("prompt heard at %d with score %.4f: a stall cut it", off, score)
		}
	})
}

// TestStallInventsNoKey: a DTMF key that spans a stall is detected once,
// and a recording that spans it keeps every frame the caller said.
func TestStallInventsNoKey(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		said := speech(newRand(41), 2*time.Second, -20)
		p := h.person("r", "P", Action{At: ms(100), Keys: "5"}, Action{At: ms(400), Say: said})
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.SubscribeTones("r", "L"))
		h.must(h.e.Record("r", "L", "rec", RecordOptions{StopTones: []rune{'#'}, MaxDuration: 3 * time.Second, InitialSilence: 3 * time.Second, MaxSilence: 3 * time.Second}))
		h.run(ms(140)) // the 5 has started: 40 ms of it are out
		for range 3 {  // three stalls of 2.5 s, in the key and in the speech
			h.clk.Advance(2500 * time.Millisecond)
			synctest.Wait()
			h.run(ms(300))
		}
		h.run(3 * time.Second)
		evs := expect(t, h.log.take(), "tone L 5 from P", "record rec")
		if h.e.Stats().Skipped == 0 {
			t.Fatal("no frame was skipped: the test stalled nothing")
		}
		rec := decodeRecording(t, evs[1].rec)
		if off, score := Locate(rec, said); score < 0.999 {
			t.Errorf("speech found at %d with score %.4f: the recording lost some of it", off, score)
		}
		if p.Joined() < 3*time.Second {
			t.Errorf("person joined %v", p.Joined())
		}
	})
}

// gapPhone is an Endpoint on the wall clock: it sends a key's tone
// continuously and counts the frames it lost to a skip.
type gapPhone struct {
	tone Audio
	pos  int
	lost int
}

func (g *gapPhone) ID() string { return "phone" }
func (g *gapPhone) Speak(f *Frame) (bool, rune) {
	if g.pos >= len(g.tone.Samples) {
		return false, 0
	}
	n := copy(f[:], g.tone.Samples[g.pos:])
	clear(f[n:])
	g.pos += n
	return true, 0
}
func (g *gapPhone) Hear(*Frame) {}
func (g *gapPhone) Gap(n int)   { g.lost += n; g.pos += n * FrameSamples }

// TestGapResetsDetector: an endpoint on the wall clock loses the skipped
// frames and its detector restarts, so the key it held before and after
// the gap is reported again only as a new press.
func TestGapResetsDetector(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		a, err := DTMF("1", 3*time.Second, 0)
		h.must(err)
		g := &gapPhone{tone: a}
		h.must(h.e.AddEndpoint("r", g))
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.SubscribeTones("r", "L"))
		h.run(ms(200))
		h.clk.Advance(MaxCatchUp + ms(500))
		synctest.Wait()
		h.run(ms(200))
		if g.lost != 25 {
			t.Fatalf("the phone lost %d frames, want 25", g.lost)
		}
		expect(t, h.log.take(), "tone L 1 from phone", "tone L 1 from phone")
	})
}

// TestIdleRoomsSleep: a call in which nothing happens costs no work per
// frame, wakes for its simulated person's script and for commands, and
// sleeps again.
func TestIdleRoomsSleep(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		for i := range 100 {
			h.person(fmt.Sprint("idle", i), "P")
			h.must(h.e.AddLeg(fmt.Sprint("idle", i), "L"))
		}
		h.run(time.Second)
		if s := h.e.Stats(); s.AwakeRooms != 0 || s.RoomTicks > 200 {
			t.Fatalf("100 idle rooms: %+v", s)
		}
		before := h.e.Stats().RoomTicks
		// A scripted key wakes the room at its time, exactly.
		p := h.person("busy", "P", Action{At: 2 * time.Second, Key: '7'})
		h.must(h.e.AddLeg("busy", "L"))
		h.must(h.e.SubscribeTones("busy", "L"))
		h.run(3 * time.Second)
		evs := expect(t, h.log.take(), "tone L 7 from P")
		if evs[0].at != time.Second+tick(100) {
			t.Errorf("scripted key at %v, want %v", evs[0].at, time.Second+tick(100))
		}
		if n := h.e.Stats().RoomTicks - before; n > 5 {
			t.Errorf("%d room ticks for one scripted key", n)
		}
		if p.Joined() != 3*time.Second {
			t.Errorf("the sleeping person's clock: %v", p.Joined())
		}
		// A live command wakes it too, and what it says is heard whole.
		q := h.person("busy", "Q")
		q.SetMemory(5 * time.Second)
		said := speech(newRand(42), ms(500), -20)
		p.Say(said)
		h.run(time.Second)
		if off, score := Locate(q.Heard(), said); score < 0.999 || off != 0 {
			t.Errorf("live speech heard at %d with score %.4f", off, score)
		}
		if q.Heard().Duration() != time.Second {
			t.Errorf("Q remembers %v, want the second it was in the room", q.Heard().Duration())
		}
		if s := h.e.Stats(); s.AwakeRooms != 0 {
			t.Errorf("rooms awake after everything is said: %+v", s)
		}
	})
}

// TestReserveKeepsOrder: operations reach the queue in the order they were
// reserved, whenever their prompts arrive; an abandoned one fails alone.
func TestReserveKeepsOrder(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.Reserve("r", "L", "a", OpPlay, false))
		h.must(h.e.Reserve("r", "L", "b", OpPlay, false))
		h.must(h.e.Reserve("r", "L", "c", OpRecord, false))
		h.must(h.e.Reserve("r", "L", "d", OpPlay, false))
		h.must(h.e.Play("r", "L", "b", []Audio{Tone(500, ms(100), -12)})) // b's prompt came first
		h.run(ms(200))
		expect(t, h.log.take()) // a is still being fetched: nothing plays
		h.must(h.e.Abandon("r", "L", "a", ErrInvalid))
		h.must(h.e.Record("r", "L", "c", RecordOptions{MaxDuration: ms(100), InitialSilence: ms(100)}))
		h.must(h.e.Play("r", "L", "d", nil))
		h.run(ms(400))
		expect(t, h.log.take(), "play a", "play b", "record c", "play d")
		h.must(h.e.Reserve("r", "L", "e", OpPlay, false))
		if ids := h.e.Cancel("r", "L"); len(ids) != 1 || ids[0] != "e" {
			t.Errorf("Cancel = %q, want the reserved e", ids)
		}
		h.settle()
		if evs := expect(t, h.log.take(), "play e"); !isCanceled(evs[0].err) {
			t.Errorf("the canceled reservation: %v", evs[0].err)
		}
		if err := h.e.Abandon("r", "L", "e", ErrInvalid); !errors.Is(err, ErrNotFound) {
			t.Errorf("Abandon after Cancel: %v, want ErrNotFound (reported once)", err)
		}
		// A reservation canceled before its prompt arrives never plays,
		// and never records.
		h.must(h.e.Reserve("r", "L", "f", OpPlay, false))
		h.must(h.e.Reserve("r", "L", "g", OpRecord, false))
		h.e.Cancel("r", "L")
		h.settle()
		expect(t, h.log.take(), "play f", "record g")
		if err := h.e.Play("r", "L", "f", []Audio{Tone(500, ms(100), -12)}); !errors.Is(err, ErrCanceled) {
			t.Errorf("Play after its reservation was canceled: %v, want ErrCanceled", err)
		}
		if err := h.e.Record("r", "L", "g", RecordOptions{BargeIn: true}); !errors.Is(err, ErrCanceled) {
			t.Errorf("Record after its reservation was canceled: %v, want ErrCanceled", err)
		}
		h.run(ms(200))
		expect(t, h.log.take())
		if err := h.e.Reserve("r", "L", "x", OpKind(9), false); !errors.Is(err, ErrInvalid) {
			t.Errorf("Reserve of a bad kind: %v", err)
		}
	})
}

// chain is an Events that starts the next Play from PlayFinished.
type chain struct {
	eventLog
	e     *Engine
	plays int
}

func (c *chain) PlayFinished(room, leg, op string, err error) {
	c.eventLog.PlayFinished(room, leg, op, err)
	if c.plays++; c.plays < 5 {
		if err := c.e.Play(room, leg, op+"+", []Audio{Tone(500, ms(100), -12)}); err != nil {
			panic(err)
		}
	}
}

func TestEventsMayCallTheEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewFake(epoch)
		c := &chain{eventLog: eventLog{clk: clk, start: epoch}}
		c.e = New(clk, c)
		if err := c.e.AddLeg("r", "L"); err != nil {
			t.Fatal(err)
		}
		if err := c.e.Play("r", "L", "p", []Audio{Tone(500, ms(100), -12)}); err != nil {
			t.Fatal(err)
		}
		if err := c.e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer c.e.Shutdown(context.Background())
		for range 50 {
			clk.Advance(FrameDuration)
			synctest.Wait()
		}
		expect(t, c.take(), "play p", "play p+", "play p++", "play p+++", "play p++++")
	})
}

// TestRealClockInBubble runs the engine on clock.Real: synctest's fake time
// drives it just as well.
func TestRealClockInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		log := &eventLog{clk: clock.Real{}, start: start}
		e := New(clock.Real{}, log)
		if err := e.AddLeg("r", "L"); err != nil {
			t.Fatal(err)
		}
		if err := e.Play("r", "L", "p", []Audio{Tone(500, time.Second, -12)}); err != nil {
			t.Fatal(err)
		}
		if err := e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if err := e.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		evs := expect(t, log.take(), "play p")
		if evs[0].at != tick(50) || evs[0].err != nil {
			t.Fatalf("events:%s", summary(evs))
		}
	})
}

func TestRecordReasonRoundTrip(t *testing.T) {
	for r := ReasonUnknown; r <= ReasonPlayPromptFailed; r++ {
		back, err := ParseRecordReason(r.String())
		if err != nil || back != r {
			t.Errorf("%d -> %q -> %d, %v", r, r, back, err)
		}
	}
	if _, err := ParseRecordReason("bogus"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseRecordReason(bogus) = %v", err)
	}
	if s := RecordReason(200).String(); s != "RecordReason(200)" {
		t.Errorf("String of an unknown value = %q", s)
	}
	opts, err := RecordOptions{StopTones: []rune("a#")}.normalize()
	if err != nil || string(opts.StopTones) != "A#" || opts.MaxDuration != DefaultRecordTimeout {
		t.Errorf("normalize = %+v, %v", opts, err)
	}
}

func TestNilEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewFake(epoch)
		e := New(clk, nil)
		if err := e.AddLeg("r", "L"); err != nil {
			t.Fatal(err)
		}
		if err := e.Play("r", "L", "p", nil); err != nil {
			t.Fatal(err)
		}
		if err := e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(ms(100))
		synctest.Wait()
		if err := e.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// The engine reports who speaks: a person's speech starts within the VAD's
// attack and ends after its hangover (or when the room falls silent and
// sleeps); a leg's prompt is speech too; a member that leaves mid-speech
// stops speaking.
func TestSpeakers(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.person("r", "A", Action{Say: Tone(400, time.Second, -15)})
		h.person("r", "B")
		h.run(2 * time.Second)
		got := h.log.takeSpeech()
		if len(got) != 2 || got[0].what != "r/A on" || got[1].what != "r/A off" {
			t.Fatalf("speech %v; want A on, then off", got)
		}
		if got[0].at > ms(60) || got[1].at < time.Second || got[1].at > time.Second+ms(340) {
			t.Errorf("A spoke from %v to %v; want from the start (the VAD's 40 ms attack) to about 1 s (at most its 300 ms hangover after)", got[0].at, got[1].at)
		}

		// A quiet voice is not speech.
		h.person("q", "W", Action{Say: Tone(400, time.Second, -50)})
		h.run(2 * time.Second)
		if got := h.log.takeSpeech(); len(got) != 0 {
			t.Fatalf("a voice at -50 dBFS: %v; want no speech", got)
		}

		// A prompt is the leg's speech; removing the leg mid-prompt ends it.
		h.must(h.e.AddLeg("r", "L"))
		h.must(h.e.Play("r", "L", "p", []Audio{Tone(700, 5*time.Second, -15)}))
		h.run(ms(500))
		h.must(h.e.RemoveLeg("r", "L"))
		h.settle()
		if got := h.log.takeSpeech(); len(got) != 2 || got[0].what != "r/L on" || got[1].what != "r/L off" || got[1].at != 4*time.Second+ms(500) {
			t.Fatalf("speech %v; want L on, then off when it left at 4.5 s", got)
		}
		h.log.take()

		// A person who leaves mid-sentence stops speaking.
		h.person("r", "C", Action{Say: Tone(900, 5*time.Second, -15)})
		h.run(ms(500))
		h.must(h.e.RemoveEndpoint("r", "C"))
		h.settle()
		if got := h.log.takeSpeech(); len(got) != 2 || got[0].what != "r/C on" || got[1].what != "r/C off" {
			t.Fatalf("speech %v; want C on, then off when they left", got)
		}
	})
}

// tap records what a Tap hears: the frames each member said, and keys.
type tap struct {
	id    string
	voice []Frame
	at    int
	each  map[string][]int16 // by member: what it said, silence as zeros
	keys  []string
}

func (p *tap) ID() string { return p.id }
func (p *tap) Speak(f *Frame) (bool, rune) {
	if p.at >= len(p.voice) {
		return false, 0
	}
	*f = p.voice[p.at]
	p.at++
	return true, 0
}
func (p *tap) Hear(*Frame) {}
func (p *tap) HearEach(from []string, said []*Frame) {
	for i, id := range from {
		f := said[i]
		if f == nil {
			f = new(Frame)
		}
		p.each[id] = append(p.each[id], f[:]...)
	}
}
func (p *tap) Key(key rune, from string) {
	p.keys = append(p.keys, fmt.Sprintf("%c from %s", key, from))
}

// A Tap hears each other member on its own, whatever the mix, and the keys
// each presses, in band or out of band, without any leg subscribed.
func TestTapHearsEachMember(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		p := &tap{id: "T", each: make(map[string][]int16), voice: frames(Tone(300, time.Second, -15))}
		h.must(h.e.AddEndpoint("r", p))
		h.person("r", "A", Action{Say: Tone(500, time.Second, -15)})
		b := h.person("r", "B", Action{Say: Tone(1500, time.Second, -15)})
		h.run(time.Second)
		h.must(b.Press("5"))
		h.must(b.PressOutOfBand('#'))
		h.run(time.Second)
		for id, f := range map[string]float64{"A": 500, "B": 1500} {
			got := p.each[id][800:15200] // the first second, past the ramps
			if l := Goertzel(got, f); math.Abs(l+15) > 0.5 {
				t.Errorf("the tap heard %s at %.1f dBFS at %v Hz, want -15", id, l, f)
			}
			for _, other := range []float64{300, 500, 1500} {
				if other != f && Goertzel(got, other) > -60 {
					t.Errorf("%s's own stream holds %v Hz", id, other)
				}
			}
		}
		slices.Sort(p.keys)
		if want := []string{"# from B", "5 from B"}; !slices.Equal(p.keys, want) {
			t.Errorf("the tap got keys %q, want %q", p.keys, want)
		}
	})
}
