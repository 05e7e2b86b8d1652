package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// callQueue is one call's deliveries. All fields are guarded by Worker.mu.
type callQueue struct {
	id string
	// app is the appKey of the call's application.
	app string
	// pending is sorted by Seq; pending[0] is the one being delivered,
	// unless a replay is.
	pending []Delivery
	// replays are the re-sends asked for with Replay, in the order asked.
	// They go before pending: they are finished rows, so they come earlier
	// in the call's sequence. replays[0] is the one being delivered while
	// there are any.
	replays []replay
	// replaying holds the Seq of every replay in replays, so that Replay
	// does not queue one twice; nil when there are none.
	replaying map[int64]struct{}
	// done is the highest Seq delivered or given up.
	done int64
	// trimmed counts the deliveries trim gave up.
	trimmed int
	// busy is true while the queue is waiting for a pool goroutine (in its
	// appQueue's ready), with one, or waiting for its retry timer.
	busy bool
	// sending is true while a pool goroutine is attempting pending[0].
	sending bool
	// running is true while a pool goroutine holds the queue, from take
	// to release: attempting (or loading) its head.
	running bool
	// forgotten is set by Forget on the queues it detaches from
	// Worker.calls: nothing more of one is sent, but a pool goroutine
	// holding it finishes its attempt and records the result.
	forgotten bool
	timer     clock.Timer
	idleSince time.Time
}

// appQueue is one application's share of the pool. All fields are guarded
// by Worker.mu.
type appQueue struct {
	key string
	// ready are the application's calls waiting for a pool goroutine, FIFO.
	ready []*callQueue
	// inflight counts the pool goroutines delivering for the application;
	// at most Config.MaxInFlightPerApp.
	inflight int
	// queued is true while the application is in Worker.runnable.
	queued bool
}

// appKey identifies the application a delivery belongs to: its client id
// in its tenant, the unit that Config.MaxInFlightPerApp bounds.
func appKey(d Delivery) string {
	return strings.ToLower(d.TenantID) + "\x00" + strings.ToLower(d.AppID)
}

// queue returns d's call queue, creating it if need be. The caller holds
// w.mu.
func (w *Worker) queue(d Delivery, now time.Time) *callQueue {
	cq := w.calls[d.CallID]
	if cq == nil {
		if len(w.calls) >= w.sweepAt {
			w.sweep(now)
		}
		cq = &callQueue{id: d.CallID, app: appKey(d), idleSince: now}
		w.calls[d.CallID] = cq
	}
	return cq
}

// add files d in its call's queue and returns the queue, or nil when d is a
// duplicate. The caller holds w.mu.
func (w *Worker) add(d Delivery, now time.Time) *callQueue {
	cq := w.queue(d, now)
	if d.Seq <= cq.done {
		return nil
	}
	i, found := slices.BinarySearchFunc(cq.pending, d.Seq, func(p Delivery, seq int64) int {
		switch {
		case p.Seq < seq:
			return -1
		case p.Seq > seq:
			return 1
		}
		return 0
	})
	if found {
		// Pending's copy of a row may know of attempts made before a restart.
		if p := &cq.pending[i]; d.Attempts > p.Attempts && (i > 0 || !cq.busy) {
			p.Attempts = d.Attempts
		}
		return nil
	}
	if i == 0 && cq.busy && len(cq.pending) > 0 {
		// The head is being delivered; a lower seq arriving now broke the
		// caller's ordering, and the least harm is to send it next.
		w.log.Warn("notify: delivery enqueued out of order", "call_id", d.CallID, "tenant", d.TenantID, "app", d.AppID, "seq", d.Seq, "in_flight", cq.pending[0].Seq)
		i = 1
	}
	cq.pending = slices.Insert(cq.pending, i, d)
	w.trim(cq)
	return cq
}

// trim gives up the oldest deliveries of cq not in flight while it holds
// more than Config.MaxPendingPerCall, so that a call whose bot does not keep
// up cannot pile up pending rows without bound. The caller holds w.mu.
func (w *Worker) trim(cq *callQueue) {
	for len(cq.pending) > w.cfg.MaxPendingPerCall {
		i := 0
		if cq.sending {
			i = 1
		}
		d := cq.pending[i]
		cq.pending = slices.Delete(cq.pending, i, i+1)
		// A later duplicate of d is not to be sent; when the delivery in
		// flight finishes, done stays at d's Seq.
		cq.done = max(cq.done, d.Seq)
		reason := fmt.Sprintf("notify: given up unsent: the call has more than %d notifications pending", w.cfg.MaxPendingPerCall)
		w.record(record{callID: d.CallID, seq: d.Seq, attempts: d.Attempts, lastError: reason, gaveUp: true})
		// One line per power of ten given up, not one per delivery.
		if cq.trimmed++; isPowerOf10(cq.trimmed) {
			w.log.Warn("notify: gave up pending deliveries of a call with too many", "call_id", d.CallID, "tenant", d.TenantID, "app", d.AppID,
				"seq", d.Seq, "given_up", cq.trimmed, "max_pending", w.cfg.MaxPendingPerCall)
		}
	}
}

func isPowerOf10(n int) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}

// sweep forgets idle calls finished long enough ago that a duplicate of their
// deliveries is no longer expected. The caller holds w.mu.
func (w *Worker) sweep(now time.Time) {
	for id, cq := range w.calls {
		if !cq.busy && len(cq.pending) == 0 && len(cq.replays) == 0 && now.Sub(cq.idleSince) >= idleRetention {
			delete(w.calls, id)
		}
	}
	w.sweepAt = max(2*len(w.calls), minSweep)
}

// wake hands an idle queue with work to the pool: it waits in its
// application's ready queue for its application's turn. The caller holds
// w.mu.
func (w *Worker) wake(cq *callQueue) {
	if cq.busy || (len(cq.pending) == 0 && len(cq.replays) == 0) || w.closed || cq.forgotten {
		return
	}
	if len(w.adopting) > 0 && w.adopting[cq.id] > 0 {
		return // Adopt wakes it once the call's backlog is in
	}
	cq.busy = true
	aq := w.apps[cq.app]
	if aq == nil {
		aq = &appQueue{key: cq.app}
		w.apps[cq.app] = aq
	}
	aq.ready = append(aq.ready, cq)
	w.offer(aq)
}

// offer puts aq at the back of the round-robin ring if it has a call
// waiting and a free slot of its share, and is not in the ring already.
// The caller holds w.mu.
func (w *Worker) offer(aq *appQueue) {
	if aq.queued || len(aq.ready) == 0 || aq.inflight >= w.cfg.MaxInFlightPerApp || w.closed {
		return
	}
	aq.queued = true
	w.runnable = append(w.runnable, aq)
	w.cond.Signal()
}

// release gives back the slot of cq's application that a pool goroutine
// took for cq, and forgets the application once it has nothing waiting or
// in flight. The caller holds w.mu.
func (w *Worker) release(cq *callQueue) {
	cq.running = false
	aq := w.apps[cq.app]
	aq.inflight--
	if aq.inflight == 0 && len(aq.ready) == 0 {
		delete(w.apps, aq.key)
		return
	}
	w.offer(aq)
}

// take blocks until an application's turn comes and returns the first of
// its ready queues with its head delivery, and whether that is a replay
// whose row must be read back first; or returns false once the worker is
// closed. The application stays in the ring, at the back, while it has
// more ready and a free slot; the caller must release the queue once the
// attempt is over.
func (w *Worker) take() (cq *callQueue, d Delivery, load, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.runnable) == 0 && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return nil, Delivery{}, false, false
	}
	aq := w.runnable[0]
	w.runnable[0] = nil
	w.runnable = w.runnable[1:]
	aq.queued = false
	cq = aq.ready[0]
	aq.ready[0] = nil
	aq.ready = aq.ready[1:]
	aq.inflight++
	w.offer(aq)
	cq.running = true
	if len(cq.replays) > 0 {
		d, load = replayDelivery(cq, cq.replays[0])
		return cq, d, load, true
	}
	cq.sending = true
	return cq, cq.pending[0], false, true
}

// work is a pool goroutine: it delivers the head of one ready queue at a time.
func (w *Worker) work(ctx context.Context) {
	for {
		cq, d, load, ok := w.take()
		if !ok {
			return
		}
		if load {
			var loaded bool
			if d, loaded = w.load(ctx, cq, d); !loaded {
				continue
			}
		}
		w.deliver(ctx, cq, d)
	}
}

// load reads back the row of d, cq's head replay, with Config.Load. If that
// fails the replay is dropped (or, when Shutdown interrupted it, left
// queued), cq is moved on and load returns false.
func (w *Worker) load(ctx context.Context, cq *callQueue, d Delivery) (Delivery, bool) {
	row, err := w.cfg.Load(ctx, d.CallID, d.Seq)
	if err == nil && (row.CallID != d.CallID || row.Seq != d.Seq) {
		err = fmt.Errorf("notify: Load returned %s/%d", row.CallID, row.Seq)
	}
	if err == nil {
		row.Attempts, row.Replay = d.Attempts, true
		return row, true
	}
	w.mu.Lock()
	cq.busy = false
	w.release(cq)
	interrupted := ctx.Err() != nil
	if !interrupted {
		w.popReplay(cq)
		cq.idleSince = w.cfg.Clock.Now()
		w.wake(cq)
	}
	w.mu.Unlock()
	if !interrupted {
		w.log.Warn("notify: replay dropped: its notification cannot be read back", "call_id", d.CallID, "seq", d.Seq, "error", err.Error())
	}
	return Delivery{}, false
}

// deliver makes one attempt at d, the head of cq (a replay if it has any),
// and moves cq on.
func (w *Worker) deliver(ctx context.Context, cq *callQueue, d Delivery) {
	d.Attempts++
	o := w.attempt(ctx, d)
	if o.err != nil && ctx.Err() != nil {
		// Interrupted by Shutdown: not an attempt, and the row stays pending.
		w.mu.Lock()
		cq.busy, cq.sending = false, false
		w.release(cq)
		w.mu.Unlock()
		return
	}
	delivered := o.err == nil
	gaveUp := !delivered && (o.permanent || d.Attempts >= w.cfg.MaxAttempts)
	if w.cfg.OnResult != nil {
		w.cfg.OnResult(d, o.status, o.err, delivered, gaveUp)
	}

	now := w.cfg.Clock.Now()
	var delay time.Duration
	w.mu.Lock()
	cq.sending = false
	w.release(cq)
	switch {
	case d.Replay:
		delay = w.replayed(cq, d, o, delivered, gaveUp, now)
	case delivered || gaveUp:
		cq.pending[0] = Delivery{}
		cq.pending = cq.pending[1:]
		cq.done = max(cq.done, d.Seq) // trim may have given up a later one
		r := record{callID: d.CallID, seq: d.Seq, attempts: d.Attempts, delivered: delivered, gaveUp: gaveUp}
		if delivered {
			r.at = now
		} else {
			r.lastError = o.err.Error()
		}
		w.record(r)
		cq.busy = false
		cq.idleSince = now
		w.wake(cq)
	default:
		cq.pending[0].Attempts = d.Attempts
		delay = w.backoff(d.Attempts, o.retryAfter)
		w.record(record{callID: d.CallID, seq: d.Seq, attempts: d.Attempts, at: now.Add(delay), lastError: o.err.Error()})
		if w.closed || cq.forgotten {
			cq.busy = false
		} else {
			w.schedule(cq, delay)
		}
	}
	w.mu.Unlock()

	attrs := []any{"call_id", d.CallID, "seq", d.Seq, "tenant", d.TenantID, "app", d.AppID, "attempt", d.Attempts, "status", o.status}
	if d.Replay {
		attrs = append(attrs, "replay", true)
	}
	switch {
	case delivered:
		w.log.Debug("notify: delivered", attrs...)
	case gaveUp:
		w.log.Warn("notify: gave up delivery", append(attrs, "url", redact(d.URL), "error", o.err.Error())...)
	default:
		w.log.Debug("notify: attempt failed", append(attrs, "url", redact(d.URL), "error", o.err.Error(), "retry_in", delay)...)
	}
}

// schedule arms cq's retry timer. The caller holds w.mu.
func (w *Worker) schedule(cq *callQueue, delay time.Duration) {
	w.wg.Add(1)
	var t clock.Timer
	t = w.cfg.Clock.AfterFunc(delay, func() {
		defer w.wg.Done()
		w.mu.Lock()
		defer w.mu.Unlock()
		// cq.timer is no longer t when Replay cut the wait short (hurry)
		// after the timer had fired but before this got the lock.
		if w.closed || cq.timer != t {
			return
		}
		cq.timer = nil
		cq.busy = false
		w.wake(cq)
	})
	cq.timer = t
}
