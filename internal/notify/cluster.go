package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// adoption is an Adopt in progress. Guarded by Worker.mu.
type adoption struct {
	// calls are the calls whose loaded deliveries are to be queued; Forget
	// removes the calls it drops meanwhile.
	calls map[string]struct{}
}

// Adopt takes over the deliveries of calls whose conversations this node
// has just taken over from another (Config.Clustered): it loads their
// pending deliveries from the Outbox, which must implement PendingForCalls,
// and queues them as Start queues the pending deliveries it loads. They
// merge with what the Worker holds (a delivery it holds or has finished is
// ignored, as Enqueue ignores it), a call keeps at most
// Config.MaxPendingPerCall of them (the oldest beyond are given up), and
// each call's go out in Seq order, one at a time. ctx bounds the loading
// only.
//
// While Adopt loads, the Worker sends nothing more of these calls: a
// delivery that Enqueue adds meanwhile waits, and goes out after the older
// ones loaded. A delivery of one of these calls already on the wire when
// Adopt is called cannot be held back, and may go out before the older
// ones: call Adopt before the adopted conversations can commit anything. A
// call that Forget drops while Adopt loads gets none of the loaded
// deliveries.
//
// Before Start, the loaded deliveries are held until Start, as Enqueue's
// are. After Shutdown Adopt returns ErrClosed and queues nothing; the
// deliveries stay pending in the outbox. If loading fails, Adopt returns
// the error and queues nothing; it may be called again.
func (w *Worker) Adopt(ctx context.Context, callIDs []string) error {
	if w.cfg.Outbox == nil {
		return errors.New("notify: Config.Outbox is nil")
	}
	pf, ok := w.cfg.Outbox.(PendingForCalls)
	if !ok {
		return fmt.Errorf("notify: cannot adopt calls: the outbox (%T) does not implement notify.PendingForCalls", w.cfg.Outbox)
	}
	a := &adoption{calls: make(map[string]struct{}, len(callIDs))}
	ids := make([]string, 0, len(callIDs))
	for _, id := range callIDs {
		if _, dup := a.calls[id]; !dup && id != "" {
			a.calls[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.adoptions[a] = struct{}{}
	for _, id := range ids {
		w.adopting[id]++
	}
	w.mu.Unlock()

	pending, err := pf.PendingFor(ctx, ids)

	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.adoptions, a)
	for _, id := range ids {
		if w.adopting[id]--; w.adopting[id] <= 0 {
			delete(w.adopting, id)
		}
	}
	switch {
	case err != nil:
		err = fmt.Errorf("notify: load pending deliveries of adopted calls: %w", err)
	case w.closed:
		err = ErrClosed
	default:
		now := w.cfg.Clock.Now()
		for _, d := range pending {
			if _, ok := a.calls[d.CallID]; ok {
				w.add(d, now)
			}
		}
		w.log.Debug("notify: adopted calls", "calls", len(ids), "pending", len(pending))
	}
	// Whatever Enqueue added while the loading held these calls back goes
	// now, even if the loading failed.
	if w.started {
		for _, id := range ids {
			if cq := w.calls[id]; cq != nil {
				w.wake(cq)
			}
		}
	}
	return err
}

// Forget drops the calls callIDs, which this node no longer owns: another
// node took their conversations over, or this one gave them up
// (Config.Clustered). Their queued deliveries, their pending retries and
// their queued replays are dropped, and the Worker sends none of them again
// unless they are handed to it anew, by Enqueue or Adopt (when the node
// takes a call back, say). The Outbox is not written: the rows stay pending
// for the new owner.
//
// An attempt already in flight is not interrupted: it finishes, OnResult
// hears of it and its result is recorded in the Outbox like any other, but
// it is not retried. Delivery stays at-least-once, with two consequences
// across a change of owner: the new owner may send that delivery again (it
// loaded the row while it was still pending), and this node's POST may
// reach the bot after the new owner's later ones, out of Seq order (bots
// tell by HeaderSequence).
//
// Enqueue and Adopt serve a forgotten call again, as a new one: hand the
// Worker a call's deliveries only while the node owns the call (a commit
// that succeeded before the call was lost must not be enqueued after
// Forget). Forget of a call the Worker does not hold does nothing, and
// after Shutdown Forget does nothing at all.
func (w *Worker) Forget(callIDs ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	var waiting []*callQueue // forgotten while in their application's ready
	dropped := 0
	for _, id := range callIDs {
		for a := range w.adoptions {
			delete(a.calls, id)
		}
		cq := w.calls[id]
		if cq == nil {
			continue
		}
		delete(w.calls, id)
		cq.forgotten = true
		w.hurry(cq) // stops a retry timer
		keepPending, keepReplays := 0, 0
		switch {
		case cq.running && cq.sending:
			keepPending = 1
		case cq.running:
			keepReplays = 1 // a replay is being loaded or attempted
		case cq.busy:
			waiting = append(waiting, cq)
			cq.busy = false
		}
		keepPending = min(keepPending, len(cq.pending))
		keepReplays = min(keepReplays, len(cq.replays))
		dropped += len(cq.pending) - keepPending + len(cq.replays) - keepReplays
		clear(cq.pending[keepPending:])
		cq.pending = cq.pending[:keepPending]
		w.dropReplays(cq, keepReplays)
	}
	w.unready(waiting)
	if dropped > 0 {
		w.log.Debug("notify: forgot calls owned elsewhere now", "calls", len(callIDs), "dropped", dropped)
	}
}

// dropReplays drops cq's replays after the first keep and gives back their
// room under the replay limits. The caller holds w.mu.
func (w *Worker) dropReplays(cq *callQueue, keep int) {
	for _, r := range cq.replays[keep:] {
		delete(cq.replaying, r.seq)
		if r.row != nil {
			w.replayBytes -= int64(len(r.row.Body))
		}
		w.replayCount--
		if w.replaysPerApp[cq.app]--; w.replaysPerApp[cq.app] <= 0 {
			delete(w.replaysPerApp, cq.app)
		}
	}
	clear(cq.replays[keep:])
	cq.replays = cq.replays[:keep]
	if len(cq.replaying) == 0 {
		cq.replaying = nil
	}
}

// unready takes queues out of their applications' ready queues, and
// applications left with nothing ready out of the round-robin ring (and
// forgets those with nothing in flight either). The caller holds w.mu.
func (w *Worker) unready(cqs []*callQueue) {
	if len(cqs) == 0 {
		return
	}
	apps := make(map[*appQueue]struct{})
	for _, cq := range cqs {
		if aq := w.apps[cq.app]; aq != nil {
			apps[aq] = struct{}{}
		}
	}
	for aq := range apps {
		aq.ready = slices.DeleteFunc(aq.ready, func(cq *callQueue) bool { return cq.forgotten })
		if len(aq.ready) > 0 {
			continue
		}
		if aq.queued {
			aq.queued = false
			w.runnable = slices.DeleteFunc(w.runnable, func(r *appQueue) bool { return r == aq })
		}
		if aq.inflight == 0 {
			delete(w.apps, aq.key)
		}
	}
}
