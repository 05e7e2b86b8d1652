package notify

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// callQueue is one call's deliveries. All fields are guarded by Worker.mu.
type callQueue struct {
	id string
	// pending is sorted by Seq; pending[0] is the one being delivered,
	// unless a replay is.
	pending []Delivery
	// replays are the re-sends asked for with Replay, in the order asked.
	// They go before pending: they are finished rows, so they come earlier
	// in the call's sequence. replays[0] is the one being delivered while
	// there are any.
	replays []replay
	// done is the highest Seq delivered or given up.
	done int64
	// busy is true while the queue is in Worker.ready, with a pool goroutine,
	// or waiting for its retry timer.
	busy bool
	// sending is true while a pool goroutine is attempting pending[0].
	sending   bool
	timer     clock.Timer
	idleSince time.Time
}

// add files d in its call's queue and returns the queue, or nil when d is a
// duplicate. The caller holds w.mu.
func (w *Worker) add(d Delivery, now time.Time) *callQueue {
	cq := w.calls[d.CallID]
	if cq == nil {
		if len(w.calls) >= w.sweepAt {
			w.sweep(now)
		}
		cq = &callQueue{id: d.CallID, idleSince: now}
		w.calls[d.CallID] = cq
	}
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
	return cq
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

// wake hands an idle queue with work to the pool. The caller holds w.mu.
func (w *Worker) wake(cq *callQueue) {
	if cq.busy || (len(cq.pending) == 0 && len(cq.replays) == 0) || w.closed {
		return
	}
	cq.busy = true
	w.ready = append(w.ready, cq)
	w.cond.Signal()
}

// take blocks until a queue is ready and returns it with its head delivery,
// or returns false once the worker is closed.
func (w *Worker) take() (*callQueue, Delivery, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.ready) == 0 && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return nil, Delivery{}, false
	}
	cq := w.ready[0]
	w.ready[0] = nil
	w.ready = w.ready[1:]
	if len(cq.replays) > 0 {
		return cq, cq.replays[0].d, true
	}
	cq.sending = true
	return cq, cq.pending[0], true
}

// work is a pool goroutine: it delivers the head of one ready queue at a time.
func (w *Worker) work(ctx context.Context) {
	for {
		cq, d, ok := w.take()
		if !ok {
			return
		}
		w.deliver(ctx, cq, d)
	}
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
	switch {
	case d.Replay:
		delay = w.replayed(cq, d, o, delivered, gaveUp, now)
	case delivered || gaveUp:
		cq.pending[0] = Delivery{}
		cq.pending = cq.pending[1:]
		cq.done = d.Seq
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
		if w.closed {
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
