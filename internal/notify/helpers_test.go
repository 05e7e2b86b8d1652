package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/notify/notifytest"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testClock is a clock.Fake that reports each timer it schedules, so that a
// test can wait for a retry to be armed before advancing past it.
type testClock struct {
	*clock.Fake
	scheduled chan time.Duration
}

func newTestClock() *testClock {
	return &testClock{Fake: clock.NewFake(t0), scheduled: make(chan time.Duration, 1024)}
}

func (c *testClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.Fake.AfterFunc(d, f)
	c.scheduled <- d // buffered: the worker calls this holding its lock
	return t
}

// fire waits for the next retry timer, advances the clock to it and returns
// its delay.
func (c *testClock) fire() time.Duration {
	d := <-c.scheduled
	c.Advance(d)
	return d
}

// result is one Config.OnResult call.
type result struct {
	d                 notify.Delivery
	status            int
	err               error
	delivered, gaveUp bool
}

// syncBuffer collects log output written from the worker's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	t       *testing.T
	outbox  *notifytest.MemoryOutbox
	clock   *testClock
	results chan result
	logs    *syncBuffer
	w       *notify.Worker
}

// newHarness builds a Worker over a MemoryOutbox and a testClock unless cfg
// sets them (h.outbox is cfg.Outbox when that is a MemoryOutbox). Create the receivers first, so that they close after the worker
// has shut down.
func newHarness(t *testing.T, cfg notify.Config) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		outbox:  &notifytest.MemoryOutbox{},
		clock:   newTestClock(),
		results: make(chan result, 4096),
		logs:    &syncBuffer{},
	}
	if cfg.Outbox == nil {
		cfg.Outbox = h.outbox
	} else if o, ok := cfg.Outbox.(*notifytest.MemoryOutbox); ok {
		h.outbox = o
	}
	if cfg.Clock == nil {
		cfg.Clock = h.clock
	}
	if cfg.ShutdownGrace == 0 {
		// The grace runs on the test clock, which nobody advances at
		// shutdown: tests with stuck receivers cancel them at once.
		cfg.ShutdownGrace = -1
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), h.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	onResult := cfg.OnResult
	cfg.OnResult = func(d notify.Delivery, status int, err error, delivered, gaveUp bool) {
		if onResult != nil {
			onResult(d, status, err, delivered, gaveUp)
		}
		h.results <- result{d, status, err, delivered, gaveUp}
	}
	h.w = notify.New(cfg)
	t.Cleanup(func() { h.shutdown() })
	return h
}

func (h *harness) start() {
	h.t.Helper()
	if err := h.w.Start(h.t.Context()); err != nil {
		h.t.Fatalf("Start: %v", err)
	}
}

// commit stores deliveries in the outbox and hands them to the worker, as
// the calls service does.
func (h *harness) commit(ds ...notify.Delivery) {
	h.outbox.Add(ds...)
	h.w.Enqueue(ds...)
}

// shutdown stops the worker and checks that none of its goroutines remain.
// It may be called more than once.
func (h *harness) shutdown() {
	h.t.Helper()
	if err := h.w.Shutdown(context.Background()); err != nil {
		h.t.Errorf("Shutdown: %v", err)
	}
	checkNoWorkerGoroutines(h.t)
}

func (h *harness) row(callID string, seq int64) notifytest.Row {
	h.t.Helper()
	r, ok := h.outbox.Row(callID, seq)
	if !ok {
		h.t.Fatalf("no outbox row %s/%d", callID, seq)
	}
	return r
}

// checkNoWorkerGoroutines fails if a goroutine is still running code of
// package notify. Shutdown has waited for them all, but a goroutine can still
// be returning from its last deferred call, so it yields a few times first.
func checkNoWorkerGoroutines(t *testing.T) {
	t.Helper()
	var stuck []string
	for range 1000 {
		stuck = stuck[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "/internal/notify.") {
				stuck = append(stuck, g)
			}
		}
		if len(stuck) == 0 {
			return
		}
		runtime.Gosched()
	}
	t.Errorf("%d goroutines of package notify outlived Shutdown:\n%s", len(stuck), strings.Join(stuck, "\n\n"))
}

func delivery(callID string, seq int64, url string) notify.Delivery {
	return notify.Delivery{
		CallID:    callID,
		Seq:       seq,
		URL:       url,
		Body:      fmt.Appendf(nil, `{"@odata.type":"#microsoft.graph.commsNotifications","value":[{"resourceUrl":"/communications/calls/%s","seq":%d}]}`, callID, seq),
		AppID:     "app-1",
		TenantID:  "tenant-1",
		CreatedAt: t0,
	}
}

// arrival is a callback as the bot saw it.
type arrival struct {
	callID  string
	seq     int64
	attempt int
	method  string
	path    string
	header  http.Header
	body    []byte
}

func parse(r *http.Request) arrival {
	body, _ := io.ReadAll(r.Body)
	seq, _ := strconv.ParseInt(r.Header.Get(notify.HeaderSequence), 10, 64)
	attempt, _ := strconv.Atoi(r.Header.Get(notify.HeaderAttempt))
	return arrival{
		callID:  r.Header.Get(notify.HeaderCallID),
		seq:     seq,
		attempt: attempt,
		method:  r.Method,
		path:    r.URL.Path,
		header:  r.Header.Clone(),
		body:    body,
	}
}

// recorder answers every callback with status and reports it on arrivals.
func recorder(status int, arrivals chan<- arrival) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrivals <- parse(r)
		w.WriteHeader(status)
	}
}
