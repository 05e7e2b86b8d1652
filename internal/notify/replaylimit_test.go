package notify_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// TestReplayFloodStaysBounded is the replay flood of issue 9: hundreds of
// replays of a call with 1,000 notifications, then of more calls, by two
// applications, while the bots hold every request open so that nothing
// drains. Replays are idempotent (the flood queues each notification once)
// and bounded per application and in all; with Config.Load they hold no
// bodies at all. Every number is counted, not sampled.
func TestReplayFloodStaysBounded(t *testing.T) {
	for _, load := range []bool{true, false} {
		t.Run(fmt.Sprintf("load=%v", load), func(t *testing.T) { testReplayFloodStaysBounded(t, load) })
	}
}

func testReplayFloodStaysBounded(t *testing.T, load bool) {
	const (
		perCall   = 1000
		perApp    = 3 * perCall
		allApps   = 5 * perCall
		floodSize = 400
	)
	release := make(chan struct{})
	bots := newFakeBots(func(r *http.Request) (*http.Response, error) {
		select {
		case <-release:
			return ok(), nil
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	})
	cfg := replayConfig(load)
	cfg.Client = &http.Client{Transport: bots}
	cfg.Concurrency, cfg.RequestTimeout = 4, time.Hour
	cfg.MaxReplaysPerApp, cfg.MaxReplays = perApp, allApps
	h := newHarness(t, cfg)
	h.start()

	// Finished rows, in the outbox only, as the notification log reads them.
	rows := func(app, callID string) []notify.Delivery {
		ds := make([]notify.Delivery, perCall)
		for i := range ds {
			ds[i] = appDelivery(app, callID, int64(i+1), "bot.example")
			ds[i].Attempts = 1
		}
		h.outbox.Add(ds...)
		return ds
	}
	replay := func(ds []notify.Delivery, want int, wantErr error) {
		t.Helper()
		if n, err := h.w.Replay(ds...); n != want || !errors.Is(err, wantErr) {
			t.Fatalf("Replay of %s = %d, %v; want %d, %v", ds[0].CallID, n, err, want, wantErr)
		}
	}
	// The largest body of them all: every call id has two characters.
	bodyLen := len(appDelivery("app-a", "a0", perCall, "bot.example").Body)
	held := func(wantCount int) {
		t.Helper()
		n, bytes := h.w.Replays()
		maxBytes := int64(0)
		if !load {
			maxBytes = int64(wantCount * bodyLen)
		}
		if n != wantCount || bytes > maxBytes {
			t.Fatalf("%d replays holding %d bytes of bodies, want %d holding at most %d", n, bytes, wantCount, maxBytes)
		}
	}

	// The flood: the first replay queues the call's 1,000 notifications,
	// the other 399 add nothing, whether the notification is queued or on
	// the wire.
	a0 := rows("app-a", "a0")
	queued := 0
	for range floodSize {
		n, err := h.w.Replay(a0...)
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		queued += n
	}
	if queued != perCall {
		t.Fatalf("%d replays of a %d-notification call queued %d, want %d", floodSize, perCall, queued, perCall)
	}
	held(perCall)

	// More calls of the same application, up to its limit.
	replay(rows("app-a", "a1"), perCall, nil)
	replay(rows("app-a", "a2"), perCall, nil)
	replay(rows("app-a", "a3"), 0, notify.ErrReplayLimit)
	held(perApp)
	// Another application has its own limit, under the limit for all.
	replay(rows("app-b", "b0"), perCall, nil)
	replay(rows("app-b", "b1"), perCall, nil)
	replay(rows("app-b", "b2"), 0, notify.ErrReplayLimit)
	held(allApps)

	// Once the bots answer, the replays are sent, once each, and give
	// their room back.
	close(release)
	for range allApps {
		if r := <-h.results; !r.delivered || !r.d.Replay {
			t.Fatalf("result %+v, want a delivered replay", r)
		}
	}
	h.shutdown() // waits for the pool, so the counts below are final
	select {
	case r := <-h.results:
		t.Fatalf("unexpected result %+v: a notification was replayed twice", r)
	default:
	}
	held(0)
}
