package notify_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// TestPendingPerCallIsCapped: a call whose bot does not keep up holds at
// most MaxPendingPerCall deliveries; beyond, the oldest not in flight are
// given up, with a last error that says why, and the rest go out in order.
func TestPendingPerCallIsCapped(t *testing.T) {
	const limit = 5
	release := make(chan struct{})
	arrivals := make(chan int64, 20)
	bots := newFakeBots(func(r *http.Request) (*http.Response, error) {
		var seq int64
		fmt.Sscan(r.Header.Get(notify.HeaderSequence), &seq)
		arrivals <- seq
		if seq == 1 {
			<-release // the bot is stuck on the first
		}
		return ok(), nil
	})
	h := newHarness(t, notify.Config{Client: &http.Client{Transport: bots}, MaxPendingPerCall: limit})
	h.start()
	h.commit(delivery("c1", 1, "https://bot.example/cb"))
	if seq := <-arrivals; seq != 1 {
		t.Fatalf("arrival %d, want 1", seq)
	}
	for seq := int64(2); seq <= 10; seq++ {
		h.commit(delivery("c1", seq, "https://bot.example/cb"))
	}
	if n := h.w.Backlog(); n != limit {
		t.Errorf("backlog %d, want the limit of %d", n, limit)
	}
	close(release)
	// Seq 1, in flight, counts against the limit but is not given up.
	for _, want := range []int64{7, 8, 9, 10} {
		if seq := <-arrivals; seq != want {
			t.Fatalf("arrival %d, want %d: seq 1 was in flight, 2..6 given up", seq, want)
		}
	}
	for range 5 {
		<-h.results
	}
	h.shutdown()
	for seq := int64(1); seq <= 10; seq++ {
		r := h.row("c1", seq)
		givenUp := seq >= 2 && seq <= 6
		if r.GaveUp != givenUp || r.Delivered == givenUp || givenUp && !strings.Contains(r.LastError, "more than 5") {
			t.Errorf("row %d = gave up %v (%q), delivered %v; want given up %v", seq, r.GaveUp, r.LastError, r.Delivered, givenUp)
		}
	}
	if !strings.Contains(h.logs.String(), "pending") {
		t.Errorf("nothing logged about the given up deliveries")
	}
}

// TestPendingBacklogIsCappedAtStart: a call's backlog loaded at Start (or
// enqueued before it) is cut down to the newest MaxPendingPerCall too.
func TestPendingBacklogIsCappedAtStart(t *testing.T) {
	arrivals := make(chan int64, 20)
	bots := newFakeBots(func(r *http.Request) (*http.Response, error) {
		var seq int64
		fmt.Sscan(r.Header.Get(notify.HeaderSequence), &seq)
		arrivals <- seq
		return ok(), nil
	})
	h := newHarness(t, notify.Config{Client: &http.Client{Transport: bots}, MaxPendingPerCall: 3})
	for seq := int64(1); seq <= 8; seq++ {
		h.outbox.Add(delivery("c1", seq, "https://bot.example/cb"))
	}
	h.start()
	for _, want := range []int64{6, 7, 8} {
		if seq := <-arrivals; seq != want {
			t.Fatalf("arrival %d, want %d", seq, want)
		}
		<-h.results
	}
	h.shutdown()
	for seq := int64(1); seq <= 5; seq++ {
		if r := h.row("c1", seq); !r.GaveUp {
			t.Errorf("row %d = %+v, want given up", seq, r)
		}
	}
}
