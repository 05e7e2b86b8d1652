package media

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// BenchmarkMixer measures one N−1 mix of n talking parties; the
// endpoint-frames/s metric is how many 20 ms frames one core mixes per
// second (divide by 50 for the parties it can serve in real time).
func BenchmarkMixer(b *testing.B) {
	rng := newRand(30)
	for _, n := range []int{2, 4, 8, 16} {
		b.Run(fmt.Sprintf("parties=%d", n), func(b *testing.B) {
			in := make([]*Frame, n)
			out := make([]*Frame, n)
			for i := range n {
				fs := frames(speech(rng, FrameDuration, -20))
				in[i], out[i] = &fs[0], new(Frame)
			}
			var m Mixer
			iters := 0
			for b.Loop() {
				m.Mix(in, out)
				iters++
			}
			b.ReportMetric(float64(iters*n)/b.Elapsed().Seconds(), "endpoint-frames/s")
		})
	}
}

// BenchmarkDTMFDetector measures one frame through the detector.
func BenchmarkDTMFDetector(b *testing.B) {
	rng := newRand(31)
	for name, a := range map[string]Audio{
		"silence": Silence(FrameDuration),
		"speech":  speech(rng, FrameDuration, -20),
		"key":     dtmfTone('5', -10, -10, 0, FrameDuration),
	} {
		b.Run(name, func(b *testing.B) {
			f := frames(a)[0]
			var d DTMFDetector
			for b.Loop() {
				d.Process(&f)
			}
		})
	}
}

// BenchmarkResampler48k converts one 20 ms frame of 48 kHz audio (a
// WebRTC leg's) to 16 kHz.
func BenchmarkResampler48k(b *testing.B) {
	in := sines(48000, 960, 0.3, 440, 2000)
	r, _ := NewResampler(48000, SampleRate)
	out := make([]float32, 0, 400)
	for b.Loop() {
		out = r.Write(out[:0], in)
	}
}

// BenchmarkDecodeWAV decodes 10 s of 44.1 kHz stereo 16-bit audio.
func BenchmarkDecodeWAV(b *testing.B) {
	tone := floats(speech(newRand(32), 10*time.Second, -20))
	wav := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: 44100}, [][]float64{tone})
	b.SetBytes(int64(len(wav)))
	for b.Loop() {
		if _, err := DecodeWAV(bytes.NewReader(wav)); err != nil {
			b.Fatal(err)
		}
	}
}

// callBench counts finished recordings so the benchmark can start the next.
type callBench struct {
	finished []string // rooms whose recording finished
}

func (c *callBench) PlayFinished(room, leg, opID string, err error) {}
func (c *callBench) RecordFinished(room, leg, opID string, r Recording) {
	c.finished = append(c.finished, room)
}
func (c *callBench) TonesSent(room, leg, opID string, canceled bool)      {}
func (c *callBench) ToneDetected(room, leg string, key rune, from string) {}

// speakerBench is a callBench that also hears who speaks, as the server's
// media bridge does: the engine then runs a VAD per member.
type speakerBench struct{ *callBench }

func (speakerBench) SpeakingChanged(room, member string, speaking bool) {}

// BenchmarkCall measures the engine's cost of calls: each is a room with an
// application leg (subscribed to tones, running recordResponse with a 5 s
// prompt, the beep, and up to 10 s of recording with a stop tone, over and
// over) and a SimPerson talking all the time. One op is one 20 ms tick of
// every call; ns/call-frame is the cost of one call for one frame, and
// calls/core is how many calls one core keeps in real time (50 frames per
// second each). "playing" and "recording" hold the leg in one phase;
// "+speakers" runs a VAD per member, as the server does for the console.
func BenchmarkCall(b *testing.B) {
	talk := speech(newRand(33), 10*time.Second, -20)
	prompt := speech(newRand(34), 5*time.Second, -18)
	long := speech(newRand(35), time.Minute, -18)
	cases := []struct {
		name     string
		calls    int
		opts     RecordOptions
		play     bool
		speakers bool
	}{
		{"mixed/calls=1", 1, RecordOptions{Prompt: &prompt, Beep: true}, false, false},
		{"mixed/calls=500", 500, RecordOptions{Prompt: &prompt, Beep: true}, false, false},
		{"mixed+speakers/calls=500", 500, RecordOptions{Prompt: &prompt, Beep: true}, false, true},
		{"playing/calls=1", 1, RecordOptions{}, true, false},
		{"recording/calls=1", 1, RecordOptions{}, false, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ev := &callBench{}
			var events Events = ev
			if c.speakers {
				events = speakerBench{ev}
			}
			e := New(clock.NewFake(epoch), events)
			people := make([]*SimPerson, c.calls)
			record := func(room string) {
				opts := c.opts
				opts.StopTones = []rune{'#'}
				opts.InitialSilence, opts.MaxSilence, opts.MaxDuration = time.Minute, time.Minute, 10*time.Second
				if err := e.Record(room, "leg", fmt.Sprint("rec", e.frame), opts); err != nil {
					b.Fatal(err)
				}
			}
			for i := range c.calls {
				room := fmt.Sprint("room", i)
				if err := e.AddLeg(room, "leg"); err != nil {
					b.Fatal(err)
				}
				if err := e.SubscribeTones(room, "leg"); err != nil {
					b.Fatal(err)
				}
				people[i], _ = NewSimPerson("person")
				people[i].SetMemory(10 * time.Second)
				if err := e.AddEndpoint(room, people[i]); err != nil {
					b.Fatal(err)
				}
				if c.play {
					if err := e.Play(room, "leg", "play", []Audio{long}); err != nil {
						b.Fatal(err)
					}
				} else {
					record(room)
				}
			}
			ticks := 0
			for b.Loop() {
				if ticks%(talk.Frames()) == 0 {
					for _, p := range people {
						p.Say(talk)
					}
				}
				if c.play && ticks%long.Frames() == long.Frames()-1 {
					for i := range c.calls {
						if err := e.Play(fmt.Sprint("room", i), "leg", fmt.Sprint("play", ticks), []Audio{long}); err != nil {
							b.Fatal(err)
						}
					}
				}
				e.mu.Lock()
				e.frameLocked()
				evs := e.takeLocked()
				e.mu.Unlock()
				e.dispatch(evs)
				for _, room := range ev.finished {
					record(room)
				}
				ev.finished = ev.finished[:0]
				ticks++
			}
			perCallFrame := float64(b.Elapsed().Nanoseconds()) / float64(ticks*c.calls)
			b.ReportMetric(perCallFrame, "ns/call-frame")
			b.ReportMetric(1e9/(perCallFrame*FramesPerSec), "calls/core")
		})
	}
}

// BenchmarkIdleCalls measures what established calls in which nothing
// happens cost the engine: each is a room with an application leg and a
// simulated person with nothing to say. One op is one 20 ms frame of the
// whole engine; a real-time engine has 20 ms for it.
func BenchmarkIdleCalls(b *testing.B) {
	for _, calls := range []int{1000, 10000} {
		b.Run(fmt.Sprint("calls=", calls), func(b *testing.B) {
			e := New(clock.NewFake(epoch), nil)
			for i := range calls {
				room := fmt.Sprint("room", i)
				if err := e.AddLeg(room, "leg"); err != nil {
					b.Fatal(err)
				}
				p, _ := NewSimPerson("person")
				if err := e.AddEndpoint(room, p); err != nil {
					b.Fatal(err)
				}
			}
			e.mu.Lock()
			e.frameLocked() // every room ticks once, then sleeps
			e.mu.Unlock()
			for b.Loop() {
				e.mu.Lock()
				e.frameLocked()
				evs := e.takeLocked()
				e.mu.Unlock()
				e.dispatch(evs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(FrameDuration.Nanoseconds())*100, "%core")
		})
	}
}
