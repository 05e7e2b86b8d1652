package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/notify/notifytest"
)

const botURL = "https://bot.example/cb"

// botClient is a client whose transport is a callback receiver: it
// reports every request on arrivals and answers with the status answer
// returns for it. answer may block; it should give up when the request's
// context ends.
func botClient(arrivals chan<- arrival, answer func(r *http.Request, a arrival) int) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		a := parse(r)
		arrivals <- a
		status := answer(r, a)
		if err := r.Context().Err(); err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})}
}

func answerOK(*http.Request, arrival) int { return http.StatusOK }

// wantArrivals receives an arrival and a result for each of want, which
// name call/seq, and fails unless they come in that order.
func (h *harness) wantArrivals(arrivals <-chan arrival, want ...string) {
	h.t.Helper()
	for i, w := range want {
		a := <-arrivals
		if got := fmt.Sprintf("%s/%d", a.callID, a.seq); got != w {
			h.t.Fatalf("arrival %d is %s, want %s (all: %v)", i, got, w, want)
		}
		<-h.results
	}
}

// noMoreArrivals fails if arrivals holds anything; call it after Shutdown.
func noMoreArrivals(t *testing.T, arrivals chan arrival) {
	t.Helper()
	close(arrivals)
	for a := range arrivals {
		t.Errorf("unexpected arrival %s/%d (attempt %d)", a.callID, a.seq, a.attempt)
	}
}

// wantPending fails unless the outbox row is neither delivered nor given up.
func (h *harness) wantPending(callID string, seq int64) {
	h.t.Helper()
	if r := h.row(callID, seq); r.Delivered || r.GaveUp {
		h.t.Errorf("row %s/%d = %+v, want still pending", callID, seq, r)
	}
}

// TestClusteredStartLoadsNothing: a clustered node owns nothing when it
// starts, so it sends none of the outbox's pending deliveries; it sends
// what it commits itself.
func TestClusteredStartLoadsNothing(t *testing.T) {
	arrivals := make(chan arrival, 10)
	h := newHarness(t, notify.Config{Client: botClient(arrivals, answerOK), Clustered: true})
	h.outbox.Add(delivery("c1", 1, botURL), delivery("c1", 2, botURL), delivery("c2", 1, botURL))
	h.start()
	if n := h.w.Backlog(); n != 0 {
		t.Errorf("Backlog after a clustered Start = %d, want 0", n)
	}
	h.commit(delivery("c3", 1, botURL))
	h.wantArrivals(arrivals, "c3/1")
	h.shutdown()
	noMoreArrivals(t, arrivals)
	h.wantPending("c1", 1)
	h.wantPending("c1", 2)
	h.wantPending("c2", 1)
}

// TestAdoptSendsTheAdoptedBacklogInOrder: Adopt loads the pending
// deliveries of the calls taken over, with the attempts made before, and
// sends them in order; other calls' stay where they are, and what the node
// commits for an adopted call later follows.
func TestAdoptSendsTheAdoptedBacklogInOrder(t *testing.T) {
	arrivals := make(chan arrival, 10)
	h := newHarness(t, notify.Config{Client: botClient(arrivals, answerOK), Clustered: true})
	for seq := int64(1); seq <= 4; seq++ {
		h.outbox.Add(delivery("c1", seq, botURL))
	}
	h.outbox.Add(delivery("c2", 1, botURL), delivery("c2", 2, botURL))
	ctx := context.Background()
	if err := h.outbox.Delivered(ctx, "c1", 1, t0, 1); err != nil {
		t.Fatal(err)
	}
	// The dead owner had tried seq 2 three times.
	if err := h.outbox.Attempted(ctx, "c1", 2, 3, t0, "503", false); err != nil {
		t.Fatal(err)
	}
	h.start()
	if err := h.w.Adopt(t.Context(), []string{"c1", "c1", "unknown"}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	a := <-arrivals
	if a.callID != "c1" || a.seq != 2 || a.attempt != 4 {
		t.Fatalf("first arrival %s/%d attempt %d, want c1/2 attempt 4", a.callID, a.seq, a.attempt)
	}
	<-h.results
	h.wantArrivals(arrivals, "c1/3", "c1/4")
	h.commit(delivery("c1", 5, botURL))
	h.wantArrivals(arrivals, "c1/5")
	// Adopting a call again adds nothing the Worker holds or has finished.
	if err := h.w.Adopt(t.Context(), []string{"c1"}); err != nil {
		t.Fatalf("Adopt again: %v", err)
	}
	h.shutdown()
	noMoreArrivals(t, arrivals)
	for seq := int64(1); seq <= 5; seq++ {
		if r := h.row("c1", seq); !r.Delivered {
			t.Errorf("row c1/%d = %+v, want delivered", seq, r)
		}
	}
	h.wantPending("c2", 1)
	h.wantPending("c2", 2)
}

// TestAdoptBeforeStart: deliveries adopted before Start are held until
// Start, and a call's backlog is cut to MaxPendingPerCall as at Start.
func TestAdoptBeforeStart(t *testing.T) {
	arrivals := make(chan arrival, 10)
	h := newHarness(t, notify.Config{Client: botClient(arrivals, answerOK), Clustered: true, MaxPendingPerCall: 2})
	for seq := int64(1); seq <= 4; seq++ {
		h.outbox.Add(delivery("c1", seq, botURL))
	}
	if err := h.w.Adopt(t.Context(), []string{"c1"}); err != nil {
		t.Fatalf("Adopt before Start: %v", err)
	}
	if n := h.w.Backlog(); n != 2 {
		t.Errorf("Backlog after Adopt = %d, want the cap of 2", n)
	}
	h.start()
	h.wantArrivals(arrivals, "c1/3", "c1/4")
	h.shutdown()
	noMoreArrivals(t, arrivals)
	for seq := int64(1); seq <= 2; seq++ {
		if r := h.row("c1", seq); !r.GaveUp {
			t.Errorf("row c1/%d = %+v, want given up", seq, r)
		}
	}
}

// outboxOnly hides every method of an outbox but those of notify.Outbox.
type outboxOnly struct{ notify.Outbox }

// failingPendingFor is an outbox whose PendingFor fails.
type failingPendingFor struct{ *notifytest.MemoryOutbox }

func (failingPendingFor) PendingFor(context.Context, []string) ([]notify.Delivery, error) {
	return nil, errors.New("database is locked")
}

func TestAdoptErrors(t *testing.T) {
	t.Run("outbox without PendingFor", func(t *testing.T) {
		h := newHarness(t, notify.Config{Outbox: outboxOnly{&notifytest.MemoryOutbox{}}, Clustered: true})
		h.start()
		if err := h.w.Adopt(t.Context(), []string{"c1"}); err == nil || !strings.Contains(err.Error(), "PendingForCalls") {
			t.Errorf("Adopt = %v, want an error naming PendingForCalls", err)
		}
	})
	t.Run("PendingFor fails", func(t *testing.T) {
		arrivals := make(chan arrival, 10)
		mem := &notifytest.MemoryOutbox{}
		h := newHarness(t, notify.Config{Outbox: failingPendingFor{mem}, Client: botClient(arrivals, answerOK), Clustered: true})
		h.outbox = mem
		h.start()
		if err := h.w.Adopt(t.Context(), []string{"c1"}); err == nil || !strings.Contains(err.Error(), "database is locked") {
			t.Errorf("Adopt = %v, want the PendingFor error", err)
		}
		// The failed Adopt holds nothing back.
		h.commit(delivery("c1", 1, botURL))
		h.wantArrivals(arrivals, "c1/1")
	})
	t.Run("after Shutdown", func(t *testing.T) {
		h := newHarness(t, notify.Config{Clustered: true})
		h.outbox.Add(delivery("c1", 1, botURL))
		h.start()
		h.shutdown()
		if err := h.w.Adopt(t.Context(), []string{"c1"}); !errors.Is(err, notify.ErrClosed) {
			t.Errorf("Adopt after Shutdown = %v, want ErrClosed", err)
		}
		h.wantPending("c1", 1)
	})
	t.Run("no calls", func(t *testing.T) {
		h := newHarness(t, notify.Config{Outbox: outboxOnly{&notifytest.MemoryOutbox{}}, Clustered: true})
		if err := h.w.Adopt(t.Context(), nil); err == nil {
			t.Error("Adopt(nil) on an outbox without PendingFor = nil, want the error all the same")
		}
		h2 := newHarness(t, notify.Config{Clustered: true})
		if err := h2.w.Adopt(t.Context(), nil); err != nil {
			t.Errorf("Adopt(nil) = %v", err)
		}
	})
}

// TestForgetDropsQueuedAndRetrying: once a call is forgotten, neither its
// delivery waiting out a backoff nor those queued behind it is sent, and
// the retry timer is gone; the rows stay pending for the new owner. A node
// that takes the call back sends them again, in order, and then what it
// commits.
func TestForgetDropsQueuedAndRetrying(t *testing.T) {
	arrivals := make(chan arrival, 10)
	var mu sync.Mutex
	status := http.StatusInternalServerError
	answer := func(*http.Request, arrival) int {
		mu.Lock()
		defer mu.Unlock()
		return status
	}
	// One pool goroutine: once a later delivery's result is in, every
	// earlier attempt has been dealt with.
	h := newHarness(t, notify.Config{Client: botClient(arrivals, answer), Clustered: true, Concurrency: 1})
	h.start()
	h.commit(delivery("c1", 1, botURL), delivery("c1", 2, botURL))
	<-arrivals
	if r := <-h.results; r.delivered || r.gaveUp {
		t.Fatalf("result %+v, want a failed attempt", r)
	}
	delay := <-h.clock.scheduled
	h.w.Forget("c1")
	if n := h.clock.Pending(); n != 0 {
		t.Errorf("%d timers armed after Forget, want the retry stopped", n)
	}
	if n := h.w.Backlog(); n != 0 {
		t.Errorf("Backlog after Forget = %d, want 0", n)
	}
	h.clock.Advance(2 * delay)
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	h.commit(delivery("c2", 1, botURL))
	h.wantArrivals(arrivals, "c2/1")
	h.wantPending("c1", 1)
	h.wantPending("c1", 2)

	// The node takes c1 back.
	if err := h.w.Adopt(t.Context(), []string{"c1"}); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	h.wantArrivals(arrivals, "c1/1", "c1/2")
	h.commit(delivery("c1", 3, botURL))
	h.wantArrivals(arrivals, "c1/3")
	h.shutdown()
	noMoreArrivals(t, arrivals)
}

// TestForgetLetsTheAttemptInFlightFinish: an attempt on the wire when its
// call is forgotten finishes and its result is recorded; the call's queued
// deliveries and replays are dropped, and Enqueue serves the call again.
func TestForgetLetsTheAttemptInFlightFinish(t *testing.T) {
	arrivals := make(chan arrival, 10)
	release := make(chan struct{})
	answer := func(r *http.Request, a arrival) int {
		if a.callID == "c1" && a.seq == 2 && a.attempt == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		return http.StatusOK
	}
	h := newHarness(t, notify.Config{Client: botClient(arrivals, answer), Clustered: true, Concurrency: 1})
	done := delivery("c1", 1, botURL)
	h.outbox.Add(done)
	if err := h.outbox.Delivered(context.Background(), "c1", 1, t0, 1); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.commit(delivery("c1", 2, botURL))
	if a := <-arrivals; a.seq != 2 {
		t.Fatalf("arrival c1/%d, want c1/2", a.seq)
	}
	// Seq 2 is on the wire; a replay of 1 and seq 3 queue behind it.
	if n, err := h.w.Replay(done); n != 1 || err != nil {
		t.Fatalf("Replay = %d, %v; want 1 queued", n, err)
	}
	h.commit(delivery("c1", 3, botURL))
	h.w.Forget("c1")
	if n, bytes := h.w.Replays(); n != 0 || bytes != 0 {
		t.Errorf("Replays after Forget = %d (%d bytes), want none", n, bytes)
	}
	if n := h.w.Backlog(); n != 0 {
		t.Errorf("Backlog after Forget = %d, want 0", n)
	}
	close(release)
	if r := <-h.results; !r.delivered || r.d.Seq != 2 {
		t.Fatalf("result %+v, want c1/2 delivered", r)
	}
	h.commit(delivery("c1", 4, botURL))
	h.wantArrivals(arrivals, "c1/4")
	h.shutdown()
	noMoreArrivals(t, arrivals)
	if r := h.row("c1", 2); !r.Delivered {
		t.Errorf("row c1/2 = %+v, want the result of the attempt in flight recorded", r)
	}
	h.wantPending("c1", 3)
}

// TestForgetDuringReplayInFlight: a replay on the wire when its call is
// forgotten is not retried when it fails, and gives its room back.
func TestForgetDuringReplayInFlight(t *testing.T) {
	arrivals := make(chan arrival, 10)
	release := make(chan struct{})
	answer := func(r *http.Request, a arrival) int {
		if a.callID != "c1" {
			return http.StatusOK
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusServiceUnavailable
	}
	h := newHarness(t, notify.Config{Client: botClient(arrivals, answer), Clustered: true, Concurrency: 1})
	d := delivery("c1", 1, botURL)
	h.outbox.Add(d)
	if err := h.outbox.Delivered(context.Background(), "c1", 1, t0, 1); err != nil {
		t.Fatal(err)
	}
	h.start()
	if n, err := h.w.Replay(d); n != 1 || err != nil {
		t.Fatalf("Replay = %d, %v; want 1 queued", n, err)
	}
	<-arrivals
	h.w.Forget("c1")
	close(release)
	if r := <-h.results; r.delivered || r.gaveUp || !r.d.Replay {
		t.Fatalf("result %+v, want a failed replay attempt", r)
	}
	h.commit(delivery("c2", 1, botURL))
	h.wantArrivals(arrivals, "c2/1")
	if n := h.clock.Pending(); n != 0 {
		t.Errorf("%d timers armed, want no retry of the forgotten replay", n)
	}
	if n, _ := h.w.Replays(); n != 0 {
		t.Errorf("Replays = %d, want 0", n)
	}
	h.shutdown()
	noMoreArrivals(t, arrivals)
}

// slowPendingFor is an outbox whose PendingFor reports on entered and
// waits for gate.
type slowPendingFor struct {
	*notifytest.MemoryOutbox
	entered chan struct{}
	gate    chan struct{}
}

func (o *slowPendingFor) PendingFor(ctx context.Context, callIDs []string) ([]notify.Delivery, error) {
	o.entered <- struct{}{}
	<-o.gate
	return o.MemoryOutbox.PendingFor(ctx, callIDs)
}

// TestAdoptHoldsWhatEnqueueAddsMeanwhile: while Adopt loads a call's
// backlog, deliveries the node commits for the call wait, and go out after
// the backlog, each call in order; a call forgotten meanwhile gets none of
// what was loaded.
func TestAdoptHoldsWhatEnqueueAddsMeanwhile(t *testing.T) {
	const calls, backlog, live = 8, 5, 5
	bot, srv := newSwitchable(t, http.StatusOK) // fails t if a call's deliveries overlap
	mem := &notifytest.MemoryOutbox{}
	slow := &slowPendingFor{MemoryOutbox: mem, entered: make(chan struct{}, 1), gate: make(chan struct{})}
	h := newHarness(t, notify.Config{Outbox: slow, Clustered: true, Concurrency: 4})
	h.outbox = mem
	var ids []string
	for c := range calls {
		id := fmt.Sprintf("c%d", c)
		ids = append(ids, id)
		for seq := int64(1); seq <= backlog; seq++ {
			h.outbox.Add(delivery(id, seq, srv.URL))
		}
	}
	h.outbox.Add(delivery("lost", 1, srv.URL))
	h.start()
	adopted := make(chan error, 1)
	go func() { adopted <- h.w.Adopt(context.Background(), append(ids, "lost")) }()
	<-slow.entered

	// The node commits more for every call while the backlog loads.
	var producers sync.WaitGroup
	for _, id := range ids {
		producers.Go(func() {
			for seq := int64(backlog + 1); seq <= backlog+live; seq++ {
				h.commit(delivery(id, seq, srv.URL))
			}
		})
	}
	h.w.Forget("lost")
	close(slow.gate)
	if err := <-adopted; err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	producers.Wait()

	got := map[string][]int64{}
	for range calls * (backlog + live) {
		a := <-bot.arrivals
		got[a.callID] = append(got[a.callID], a.seq)
		if r := <-h.results; !r.delivered {
			t.Fatalf("result %+v, want delivered", r)
		}
	}
	h.shutdown()
	for _, id := range ids {
		seqs := got[id]
		for i, seq := range seqs {
			if seq != int64(i+1) {
				t.Errorf("%s: arrivals %v, want 1..%d in order", id, seqs, backlog+live)
				break
			}
		}
	}
	if seqs := got["lost"]; len(seqs) != 0 {
		t.Errorf("forgotten call sent %v", seqs)
	}
	if n := len(bot.arrivals); n != 0 {
		t.Errorf("%d unexpected arrivals", n)
	}
	h.wantPending("lost", 1)
}
