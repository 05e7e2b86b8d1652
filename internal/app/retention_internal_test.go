package app

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// fakeEnded is an endedStore holding ended conversations by end time.
type fakeEnded struct {
	mu    sync.Mutex
	ended []time.Time
	calls []time.Time // the cut-off of each DeleteEnded
	hold  chan struct{}
}

func (f *fakeEnded) DeleteEnded(_ context.Context, before time.Time, limit int) (int, error) {
	if f.hold != nil {
		<-f.hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, before)
	var kept []time.Time
	n := 0
	for _, at := range f.ended {
		if at.Before(before) && n < limit {
			n++
			continue
		}
		kept = append(kept, at)
	}
	f.ended = kept
	return n, nil
}

func (f *fakeEnded) state() (left int, calls []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ended), append([]time.Time(nil), f.calls...)
}

// The sweep deletes, at start and then periodically on the clock, only
// what ended more than the retention ago, a batch per write.
func TestRetentionSweepsOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
		fake := clock.NewFake(start)
		store := &fakeEnded{}
		for i := range retentionBatch + 10 {
			store.ended = append(store.ended, start.Add(-25*time.Hour-time.Duration(i)*time.Second)) // expired
		}
		store.ended = append(store.ended, start.Add(-23*time.Hour), start.Add(-time.Hour)) // not yet
		r := newRetention(store, fake, slog.New(slog.DiscardHandler), 24*time.Hour)
		r.start()
		fake.Advance(0)
		synctest.Wait()
		left, calls := store.state()
		if left != 2 || len(calls) != 2 || !calls[0].Equal(start.Add(-24*time.Hour)) {
			t.Fatalf("after the first sweep: %d left, cut-offs %v; want 2 left after two writes cut at %v", left, calls, start.Add(-24*time.Hour))
		}
		fake.Advance(sweepEvery(24*time.Hour) - time.Nanosecond)
		synctest.Wait()
		if _, calls := store.state(); len(calls) != 2 {
			t.Fatalf("swept again before the interval: %v", calls)
		}
		fake.Advance(time.Hour + time.Nanosecond) // the 23-hour-old call is now past 24 hours
		synctest.Wait()
		left, _ = store.state()
		if left != 1 {
			t.Fatalf("after an hour: %d left, want 1", left)
		}
		if err := r.shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if fake.Pending() != 0 {
			t.Errorf("%d timers scheduled after shutdown", fake.Pending())
		}
	})
}

// Shutdown waits for a sweep in progress, and nothing is scheduled after.
func TestRetentionShutdownWaitsForSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
		store := &fakeEnded{hold: make(chan struct{})}
		r := newRetention(store, fake, slog.New(slog.DiscardHandler), time.Hour)
		r.start()
		fake.Advance(0)
		synctest.Wait() // the sweep is held in DeleteEnded
		done := make(chan error, 1)
		go func() { done <- r.shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("shutdown returned (%v) during a sweep", err)
		default:
		}
		close(store.hold)
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("shutdown still waiting after the sweep finished")
		}
		if fake.Pending() != 0 {
			t.Errorf("%d timers scheduled after shutdown", fake.Pending())
		}
	})
}

// A zero retention keeps ended calls forever: nothing is ever swept.
func TestRetentionZeroNeverSweeps(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
	store := &fakeEnded{}
	r := newRetention(store, fake, slog.New(slog.DiscardHandler), 0)
	r.start()
	if fake.Pending() != 0 {
		t.Fatalf("%d timers scheduled with retention 0", fake.Pending())
	}
	if err := r.shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}
