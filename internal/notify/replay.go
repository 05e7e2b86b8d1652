package notify

import (
	"slices"
	"time"
)

// replay is a delivery queued by Worker.Replay.
type replay struct {
	// d has Replay set; its Attempts counts this replay's attempts.
	d Delivery
	// prior is the attempts the outbox had recorded before the replay.
	prior int
}

// Replay sends deliveries again that were sent before, delivered or given
// up, for a bot that lost them: say it was down, or it restarted without
// state. Each keeps its Seq and carries HeaderReplay. ds are outbox rows
// (with the Attempts recorded for them) in the order to send them, which for
// one call should be Seq order.
//
// Replays share their call's queue with live deliveries, so a call still
// has at most one delivery in flight. They go before the call's live
// deliveries not yet in flight: those are later in the call's sequence. A
// delivery the Worker holds and has not begun to send is not replayed, since
// it goes out after this call anyway (one being sent at this moment is
// replayed too: the bot may have had it before it asked); and a call whose
// live delivery is waiting out a backoff is retried at once after its
// replays, as the bot asking is evidently up again.
//
// A replay is retried with the same backoff as a live delivery, up to
// MaxAttempts. When it succeeds, the Outbox records the row as delivered
// (Delivered, with attempts counting the row's earlier attempts and the
// replay's); a failed or abandoned replay leaves the row as it was. Replays
// still queued at Shutdown are dropped: they are not in the outbox as
// pending. OnResult sees replays with Delivery.Replay set.
//
// Replay returns the number of deliveries queued for sending again. Before
// Start they are held until Start; after Shutdown none are queued.
func (w *Worker) Replay(ds ...Delivery) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0
	}
	now := w.cfg.Clock.Now()
	n := 0
	var touched []*callQueue
	for _, d := range ds {
		cq := w.queue(d, now)
		if !slices.Contains(touched, cq) {
			touched = append(touched, cq)
		}
		// A held delivery not yet on the wire goes out after this call
		// anyway; one being sent now may have reached the bot before it
		// asked, so it is sent again.
		if i, held := slices.BinarySearchFunc(cq.pending, d.Seq, func(p Delivery, seq int64) int {
			return cmpSeq(p.Seq, seq)
		}); held && (i > 0 || !cq.sending) {
			continue
		}
		prior := d.Attempts
		d.Attempts, d.Replay = 0, true
		cq.replays = append(cq.replays, replay{d: d, prior: prior})
		n++
	}
	if !w.started {
		return n
	}
	for _, cq := range touched {
		w.hurry(cq)
		w.wake(cq)
	}
	return n
}

// hurry cuts short the backoff cq is waiting out, if any, so that it is
// woken now. The caller holds w.mu.
func (w *Worker) hurry(cq *callQueue) {
	if cq.timer == nil {
		return
	}
	if cq.timer.Stop() {
		w.wg.Done() // the callback will never run to do it
	}
	// If Stop was too late, the callback is waiting for w.mu; it will find
	// that cq.timer is no longer its timer and leave the queue alone.
	cq.timer = nil
	cq.busy = false
}

// replayed moves cq on after an attempt at d, its head replay, and returns
// the delay before the next attempt (zero when d is finished). The caller
// holds w.mu.
func (w *Worker) replayed(cq *callQueue, d Delivery, o outcome, delivered, gaveUp bool, now time.Time) time.Duration {
	if delivered || gaveUp {
		prior := cq.replays[0].prior
		cq.replays[0] = replay{}
		cq.replays = cq.replays[1:]
		if delivered {
			w.record(record{callID: d.CallID, seq: d.Seq, attempts: prior + d.Attempts, at: now, delivered: true})
		}
		cq.busy = false
		cq.idleSince = now
		w.wake(cq)
		return 0
	}
	cq.replays[0].d.Attempts = d.Attempts
	delay := w.backoff(d.Attempts, o.retryAfter)
	if w.closed {
		cq.busy = false
	} else {
		w.schedule(cq, delay)
	}
	return delay
}

func cmpSeq(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
