package rtpmedia

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// toneEvents records the keys the engine reports.
type toneEvents struct {
	mu    sync.Mutex
	tones []string // "leg:key:from"
	plays int
}

func (e *toneEvents) PlayFinished(string, string, string, error) {
	e.mu.Lock()
	e.plays++
	e.mu.Unlock()
}
func (e *toneEvents) RecordFinished(string, string, string, media.Recording) {}
func (e *toneEvents) TonesSent(string, string, string, bool)                 {}
func (e *toneEvents) ToneDetected(room, leg string, key rune, from string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tones = append(e.tones, leg+":"+string(key)+":"+from)
}

func (e *toneEvents) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tones
	e.tones = nil
	return t
}

// newRoom starts a manual engine with a bot's leg, subscribed to tones,
// and the phone in one room.
func newRoom(t *testing.T, phone *Leg) (*media.Engine, *toneEvents) {
	t.Helper()
	ev := &toneEvents{}
	e := media.NewManual(ev)
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Shutdown(t.Context()) })
	if err := e.AddLeg("room", "bot"); err != nil {
		t.Fatal(err)
	}
	if err := e.AddEndpoint("room", phone); err != nil {
		t.Fatal(err)
	}
	if err := e.SubscribeTones("room", "bot"); err != nil {
		t.Fatal(err)
	}
	return e, ev
}

// The engine hears a phone's RFC 4733 keys, with PT 96 or 101, once each,
// from the phone's member id.
func TestEngineGetsOutOfBandKeys(t *testing.T) {
	for _, pt := range []uint8{96, 101} {
		m := pcmu()
		m.EventPT, m.RecvEventPT = pt, pt
		phone := newLeg(t, Config{ID: "phone", Media: m})
		e, ev := newRoom(t, phone)
		seq, ts := feedPress(phone, pt, 7, 0, 7)
		feedPress(phone, pt, seq, ts, 10)
		if err := e.Step(t.Context(), 20); err != nil {
			t.Fatal(err)
		}
		if got := ev.take(); len(got) != 2 || got[0] != "bot:7:phone" || got[1] != "bot:*:phone" {
			t.Errorf("PT %d: tones %q, want 7 and * from the phone", pt, got)
		}
	}
}

// In-band DTMF in a phone's G.711 audio reaches the engine's detector.
func TestEngineDetectsInBandKeys(t *testing.T) {
	for _, enc := range []sdp.Encoding{sdp.PCMU, sdp.PCMA} {
		m := pcmu()
		m.Encoding, m.PT = enc, enc.StaticPT()
		phone := newLeg(t, Config{ID: "phone", Media: m})
		e, ev := newRoom(t, phone)
		keys, err := media.DTMF("3#", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		wide := media.Concat(keys, media.Silence(100*time.Millisecond))
		narrow := make([]int16, 0, len(wide.Samples)/2)
		down := newConverter(media.SampleRate, NarrowRate)
		buf := make([]int16, NarrowFrame)
		for _, f := range frames(wide) {
			down.convert(buf, f[:])
			narrow = append(narrow, buf...)
		}
		for i, p := range narrowPackets(narrow, enc) {
			phone.Receive(packet(enc.StaticPT(), uint16(i), uint32(i*NarrowFrame), i == 0, p), peerAddr)
			if err := e.Step(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Step(t.Context(), 5); err != nil {
			t.Fatal(err)
		}
		if got := ev.take(); len(got) != 2 || got[0] != "bot:3:phone" || got[1] != "bot:#:phone" {
			t.Errorf("%v: tones %q, want 3 and # from the phone", enc, got)
		}
	}
}

// A prompt the bot plays reaches the phone as RTP, paced by the engine.
func TestEnginePlaysToPhone(t *testing.T) {
	w := &captureWriter{}
	phone := newLeg(t, Config{ID: "phone", Writer: w})
	e, ev := newRoom(t, phone)
	prompt := voice(500 * time.Millisecond)
	if err := e.Play("room", "bot", "op1", []media.Audio{prompt}); err != nil {
		t.Fatal(err)
	}
	if err := e.Step(t.Context(), 30); err != nil {
		t.Fatal(err)
	}
	got := w.take()
	if len(got) != 30 {
		t.Fatalf("%d packets in 30 ticks", len(got))
	}
	b := newLeg(t, Config{ID: "ear"})
	var heard []int16
	for _, s := range got {
		raw, _ := s.pkt.Marshal()
		b.Receive(raw, peerAddr)
		var f media.Frame
		b.Speak(&f)
		heard = append(heard, f[:]...)
	}
	if _, score := media.Locate(media.Audio{Samples: heard}, prompt); score < 0.99 {
		t.Fatalf("the phone heard the prompt with score %.3f", score)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.plays != 1 {
		t.Fatalf("%d plays finished", ev.plays)
	}
}
