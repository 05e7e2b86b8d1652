package media

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// logged is one Events call, stamped with the engine's clock.
type logged struct {
	kind     string // play, record, tones, tone
	room     string
	leg      string
	op       string
	err      error
	rec      Recording
	canceled bool
	key      rune
	from     string
	at       time.Duration // since the engine started
}

func (l logged) String() string {
	switch l.kind {
	case "play":
		return fmt.Sprintf("%v play %s/%s/%s err=%v", l.at, l.room, l.leg, l.op, l.err)
	case "record":
		return fmt.Sprintf("%v record %s/%s/%s %v tone=%q %v", l.at, l.room, l.leg, l.op, l.rec.Reason, l.rec.Tone, l.rec.Duration)
	case "tones":
		return fmt.Sprintf("%v tones %s/%s/%s canceled=%v", l.at, l.room, l.leg, l.op, l.canceled)
	}
	return fmt.Sprintf("%v tone %s/%s %q from %s", l.at, l.room, l.leg, l.key, l.from)
}

// eventLog is an Events that keeps everything.
type eventLog struct {
	clk    clock.Clock
	start  time.Time
	mu     sync.Mutex
	evs    []logged
	speech []speechChange
}

func (g *eventLog) add(l logged) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l.at = g.clk.Now().Sub(g.start)
	g.evs = append(g.evs, l)
}

func (g *eventLog) PlayFinished(room, leg, op string, err error) {
	g.add(logged{kind: "play", room: room, leg: leg, op: op, err: err})
}

func (g *eventLog) RecordFinished(room, leg, op string, r Recording) {
	g.add(logged{kind: "record", room: room, leg: leg, op: op, rec: r})
}

func (g *eventLog) TonesSent(room, leg, op string, canceled bool) {
	g.add(logged{kind: "tones", room: room, leg: leg, op: op, canceled: canceled})
}

func (g *eventLog) ToneDetected(room, leg string, key rune, from string) {
	g.add(logged{kind: "tone", room: room, leg: leg, key: key, from: from})
}

// SpeakingChanged implements SpeakerEvents: speech changes go to their
// own list, so that the other tests' event lists stay as they are.
func (g *eventLog) SpeakingChanged(room, member string, speaking bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	word := "off"
	if speaking {
		word = "on"
	}
	g.speech = append(g.speech, speechChange{at: g.clk.Now().Sub(g.start), what: room + "/" + member + " " + word})
}

type speechChange struct {
	at   time.Duration
	what string
}

// takeSpeech returns and forgets the speech changes so far.
func (g *eventLog) takeSpeech() []speechChange {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.speech
	g.speech = nil
	return s
}

// take returns and forgets the events so far.
func (g *eventLog) take() []logged {
	g.mu.Lock()
	defer g.mu.Unlock()
	evs := g.evs
	g.evs = nil
	return evs
}

// harness is a started Engine on a fake clock inside a synctest bubble, so
// that after each step every event has been delivered.
type harness struct {
	t   *testing.T
	clk *clock.Fake
	e   *Engine
	log *eventLog
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newHarness must be called inside synctest.Test.
func newHarness(t *testing.T) *harness {
	t.Helper()
	clk := clock.NewFake(epoch)
	log := &eventLog{clk: clk, start: epoch}
	h := &harness{t: t, clk: clk, e: New(clk, log), log: log}
	if err := h.e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.e.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return h
}

// run advances the clock by d, one frame at a time, letting the engine
// and the event sink finish each step.
func (h *harness) run(d time.Duration) {
	for range d / FrameDuration {
		h.clk.Advance(FrameDuration)
		synctest.Wait()
	}
}

// settle lets the engine dispatch what a command queued.
func (h *harness) settle() { synctest.Wait() }

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) person(room, id string, script ...Action) *SimPerson {
	h.t.Helper()
	p, err := NewSimPerson(id, script...)
	h.must(err)
	h.must(h.e.AddEndpoint(room, p))
	return p
}

// bubble runs f in a synctest bubble with a fresh harness.
func bubble(t *testing.T, f func(t *testing.T, h *harness)) {
	synctest.Test(t, func(t *testing.T) { f(t, newHarness(t)) })
}

// ms is a duration in milliseconds, for tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// tick is the clock time at which the events of frame k (from 0) arrive.
func tick(k int) time.Duration { return time.Duration(k+1) * FrameDuration }

func summary(evs []logged) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("\n\t" + e.String())
	}
	return b.String()
}

// expect checks the kinds, ops and order of events, and returns them.
func expect(t *testing.T, evs []logged, want ...string) []logged {
	t.Helper()
	var got []string
	for _, e := range evs {
		switch e.kind {
		case "tone":
			got = append(got, fmt.Sprintf("tone %s %c from %s", e.leg, e.key, e.from))
		default:
			got = append(got, e.kind+" "+e.op)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:%s\nwant %q", summary(evs), want)
	}
	return evs
}

func isCanceled(err error) bool { return errors.Is(err, ErrCanceled) }

// decodeRecording returns a recording's audio.
func decodeRecording(t *testing.T, r Recording) Audio {
	t.Helper()
	a, err := DecodeWAV(strings.NewReader(string(r.WAV)))
	if err != nil {
		t.Fatalf("recording WAV: %v", err)
	}
	if a.Duration() != r.Duration {
		t.Fatalf("recording is %v long, Duration says %v", a.Duration(), r.Duration)
	}
	return a
}
