package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/notify/notifytest"
)

// switchable answers every callback with its current status and reports it
// on arrivals, failing t if two requests of one call overlap.
type switchable struct {
	t        *testing.T
	status   atomic.Int32
	arrivals chan arrival
	mu       sync.Mutex
	inflight map[string]bool
}

func newSwitchable(t *testing.T, status int) (*switchable, *httptest.Server) {
	s := &switchable{t: t, arrivals: make(chan arrival, 1000), inflight: map[string]bool{}}
	s.status.Store(int32(status))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := parse(r)
	s.mu.Lock()
	if s.inflight[a.callID] {
		s.t.Errorf("call %s: seq %d sent while another delivery was in flight", a.callID, a.seq)
	}
	s.inflight[a.callID] = true
	s.mu.Unlock()
	s.arrivals <- a
	s.mu.Lock()
	s.inflight[a.callID] = false
	s.mu.Unlock()
	w.WriteHeader(int(s.status.Load()))
}

// rows returns the deliveries of the outbox rows of callID, seqs from..to,
// with their recorded attempts, as the notification log hands them over.
func (h *harness) rows(callID string, from, to int64) []notify.Delivery {
	h.t.Helper()
	var ds []notify.Delivery
	for seq := from; seq <= to; seq++ {
		ds = append(ds, h.row(callID, seq).Delivery)
	}
	return ds
}

// replayConfig is a Config whose replays hold their bodies (load false) or
// read their rows back with Config.Load (load true).
func replayConfig(load bool) notify.Config {
	if !load {
		return notify.Config{}
	}
	o := &notifytest.MemoryOutbox{}
	return notify.Config{Outbox: o, Load: o.Load}
}

func TestReplayResendsWithHeader(t *testing.T) {
	for _, load := range []bool{false, true} {
		t.Run(fmt.Sprintf("load=%v", load), func(t *testing.T) { testReplayResendsWithHeader(t, load) })
	}
}

func testReplayResendsWithHeader(t *testing.T, load bool) {
	bot, srv := newSwitchable(t, http.StatusAccepted)
	h := newHarness(t, replayConfig(load))
	h.start()
	h.commit(delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL), delivery("c1", 3, srv.URL))
	for range 3 {
		if a := <-bot.arrivals; a.header.Get(notify.HeaderReplay) != "" {
			t.Fatalf("live delivery %d carries %s", a.seq, notify.HeaderReplay)
		}
		<-h.results
	}
	// The rows as the notification log shows them once the results are
	// recorded. (Not 3: the worker may not have moved past it yet, and
	// holds it until it has.)
	var rows []notify.Delivery
	for seq := int64(1); seq <= 2; seq++ {
		d := delivery("c1", seq, srv.URL)
		d.Attempts = 1
		rows = append(rows, d)
	}
	if n, err := h.w.Replay(rows...); n != 2 || err != nil {
		t.Fatalf("Replay queued %d (%v), want 2", n, err)
	}
	for _, want := range []int64{1, 2} {
		a := <-bot.arrivals
		if a.seq != want || a.header.Get(notify.HeaderReplay) != "true" || a.attempt != 1 {
			t.Fatalf("arrival seq %d replay %q attempt %d, want seq %d replay true attempt 1",
				a.seq, a.header.Get(notify.HeaderReplay), a.attempt, want)
		}
		if !strings.Contains(string(a.body), `"seq":`) {
			t.Errorf("replayed body %s is not the row's", a.body)
		}
		if r := <-h.results; !r.delivered || !r.d.Replay || r.d.Seq != want {
			t.Fatalf("result %+v, want delivered replay of %d", r, want)
		}
	}
	// A replay does not make the worker forget what it delivered: a late
	// duplicate is still dropped, and the next live delivery goes out.
	h.w.Enqueue(delivery("c1", 3, srv.URL))
	h.commit(delivery("c1", 4, srv.URL))
	if a := <-bot.arrivals; a.seq != 4 || a.header.Get(notify.HeaderReplay) != "" {
		t.Fatalf("after the replay, arrival seq %d replay %q; want live seq 4", a.seq, a.header.Get(notify.HeaderReplay))
	}
	<-h.results
	h.shutdown()
	if r := h.row("c1", 2); !r.Delivered || r.Attempts != 2 {
		t.Errorf("row 2 after its replay = %+v, want delivered with 2 attempts", r)
	}
}

func TestReplayGoesBeforeWaitingLiveDelivery(t *testing.T) {
	bot, srv := newSwitchable(t, http.StatusAccepted)
	h := newHarness(t, notify.Config{})
	h.start()
	h.commit(delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL))
	for range 2 {
		<-bot.arrivals
		<-h.results
	}
	// The bot goes down: seq 3 fails and waits out its backoff.
	bot.status.Store(http.StatusServiceUnavailable)
	h.commit(delivery("c1", 3, srv.URL))
	<-bot.arrivals
	if r := <-h.results; r.delivered || r.gaveUp {
		t.Fatalf("result %+v, want a failed attempt", r)
	}
	<-h.clock.scheduled
	// It comes back and asks for everything from 1; 3 is still held live.
	bot.status.Store(http.StatusAccepted)
	if n, err := h.w.Replay(h.rows("c1", 1, 3)...); n != 2 || err != nil {
		t.Fatalf("Replay queued %d, want 2 (3 is on its way)", n)
	}
	type got struct {
		seq     int64
		replay  bool
		attempt int
	}
	want := []got{{1, true, 1}, {2, true, 1}, {3, false, 2}}
	for i, w := range want {
		a := <-bot.arrivals
		if g := (got{a.seq, a.header.Get(notify.HeaderReplay) == "true", a.attempt}); g != w {
			t.Fatalf("arrival %d = %+v, want %+v: replays first, then the waiting delivery without its backoff", i, g, w)
		}
		<-h.results
	}
	h.shutdown()
	if r := h.row("c1", 3); !r.Delivered || r.Attempts != 2 {
		t.Errorf("row 3 = %+v, want delivered after 2 attempts", r)
	}
}

func TestReplayFailureLeavesRowAlone(t *testing.T) {
	bot, srv := newSwitchable(t, http.StatusInternalServerError)
	h := newHarness(t, notify.Config{MaxAttempts: 2})
	h.start()
	h.commit(delivery("c1", 1, srv.URL))
	for i := range 2 {
		<-bot.arrivals
		<-h.results
		if i == 0 {
			h.clock.fire()
		}
	}
	// Let the give-up reach the outbox before reading the row back.
	h.shutdown()
	before := h.row("c1", 1)
	if !before.GaveUp {
		t.Fatalf("row %+v, want given up", before)
	}

	h2 := newHarness(t, notify.Config{MaxAttempts: 2, Outbox: h.outbox})
	h2.start()
	if n, err := h2.w.Replay(before.Delivery); n != 1 || err != nil {
		t.Fatalf("Replay queued %d (%v), want 1", n, err)
	}
	for i := range 2 {
		a := <-bot.arrivals
		if a.seq != 1 || a.attempt != i+1 || a.header.Get(notify.HeaderReplay) != "true" {
			t.Fatalf("arrival %+v, want replay of 1, attempt %d", a, i+1)
		}
		r := <-h2.results
		if last := i == 1; r.gaveUp != last || !r.d.Replay {
			t.Fatalf("result %+v, want a replay given up on attempt 2", r)
		}
		if i == 0 {
			h2.clock.fire()
		}
	}
	h2.shutdown()
	if after := h.row("c1", 1); after.Attempts != before.Attempts || after.LastError != before.LastError || !after.GaveUp || after.Delivered {
		t.Errorf("row after a failed replay = %+v, want it as before: %+v", after, before)
	}
	select {
	case a := <-bot.arrivals:
		t.Errorf("unexpected arrival %+v after the replay was given up", a)
	default:
	}
}

func TestReplayBeforeStartAndAfterShutdown(t *testing.T) {
	bot, srv := newSwitchable(t, http.StatusOK)
	h := newHarness(t, notify.Config{})
	d := delivery("c1", 1, srv.URL)
	h.outbox.Add(d)
	if err := h.outbox.Delivered(context.Background(), "c1", 1, t0, 1); err != nil {
		t.Fatal(err)
	}
	if n, err := h.w.Replay(d); n != 1 || err != nil {
		t.Fatalf("Replay before Start queued %d (%v), want 1", n, err)
	}
	h.start()
	if a := <-bot.arrivals; a.seq != 1 || a.header.Get(notify.HeaderReplay) != "true" {
		t.Fatalf("arrival %+v, want the held replay", a)
	}
	<-h.results
	h.shutdown()
	if n, err := h.w.Replay(d); n != 0 || err != nil {
		t.Errorf("Replay after Shutdown queued %d (%v), want 0", n, err)
	}
}

func TestReplayOrderAcrossManyCalls(t *testing.T) {
	bot, srv := newSwitchable(t, http.StatusOK)
	const calls, perCall = 10, 20
	h := newHarness(t, notify.Config{Concurrency: 4})
	h.start()
	var all []notify.Delivery
	for c := range calls {
		for seq := int64(1); seq <= perCall; seq++ {
			all = append(all, delivery("call-"+string(rune('a'+c)), seq, srv.URL))
		}
	}
	h.outbox.Add(all...)
	var wg sync.WaitGroup
	wg.Go(func() { h.w.Enqueue(all...) })
	wg.Go(func() {
		if _, err := h.w.Replay(all...); err != nil {
			t.Errorf("Replay: %v", err)
		}
	})
	wg.Wait()
	// Whatever the interleaving, each call's sends stay one at a time (the
	// server checks), and every live delivery arrives once, in order.
	live := map[string]int64{}
	deadline := time.After(10 * time.Second)
	for n := 0; n < calls*perCall; {
		select {
		case a := <-bot.arrivals:
			if a.header.Get(notify.HeaderReplay) == "" {
				if a.seq != live[a.callID]+1 {
					t.Fatalf("call %s: live seq %d after %d", a.callID, a.seq, live[a.callID])
				}
				live[a.callID] = a.seq
				n++
			}
		case <-deadline:
			t.Fatalf("only %d live deliveries arrived", n)
		}
	}
}

func TestReplayOfDeliveryInFlight(t *testing.T) {
	arrived, release := make(chan arrival, 10), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := parse(r)
		arrived <- a
		if a.header.Get(notify.HeaderReplay) == "" {
			<-release
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{})
	h.start()
	d := delivery("c1", 1, srv.URL)
	h.commit(d)
	<-arrived // seq 1 is on the wire; the bot may have it already
	if n, err := h.w.Replay(d); n != 1 || err != nil {
		t.Fatalf("Replay of the delivery in flight queued %d (%v), want 1", n, err)
	}
	close(release)
	if a := <-arrived; a.seq != 1 || a.header.Get(notify.HeaderReplay) != "true" {
		t.Fatalf("arrival %+v, want the replay of 1 after the live attempt", a)
	}
	for range 2 {
		<-h.results
	}
}

// TestReplayOfVanishedRowIsDropped: with Config.Load a replay reads its
// row when its turn comes; a row gone by then (the retention sweep deleted
// the call) is dropped with a warning, and the call's other replays go on.
func TestReplayOfVanishedRowIsDropped(t *testing.T) {
	bot, srv := newSwitchable(t, http.StatusOK)
	h := newHarness(t, replayConfig(true))
	gone, kept := delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL)
	h.outbox.Add(kept)
	if n, err := h.w.Replay(gone, kept); n != 2 || err != nil {
		t.Fatalf("Replay = %d, %v; want 2 queued", n, err)
	}
	h.start()
	if a := <-bot.arrivals; a.seq != 2 || a.header.Get(notify.HeaderReplay) != "true" {
		t.Fatalf("arrival %+v, want the replay of 2", a)
	}
	if r := <-h.results; !r.delivered || r.d.Seq != 2 {
		t.Fatalf("result %+v, want 2 delivered", r)
	}
	h.shutdown()
	if n, _ := h.w.Replays(); n != 0 {
		t.Errorf("%d replays still counted", n)
	}
	if !strings.Contains(h.logs.String(), "replay dropped") {
		t.Errorf("no warning about the dropped replay in:\n%s", h.logs)
	}
}
