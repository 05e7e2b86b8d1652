package notify

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

const (
	defaultMaxReplaysPerApp = 10000
	defaultMaxReplays       = 100000
)

// ErrReplayLimit is returned by Replay when the replays it would add do not
// fit under Config.MaxReplaysPerApp or Config.MaxReplays; none of them is
// queued. Replays already queued are sent and then make room.
var ErrReplayLimit = errors.New("notify: too many notifications queued for replay")

// replay is a delivery queued by Worker.Replay. It holds the row only when
// there is no Config.Load to read it back with when its turn comes.
type replay struct {
	seq int64
	// prior is the attempts the outbox had recorded before the replay.
	prior int
	// attempts counts this replay's attempts so far.
	attempts int
	// row is the delivery to send, without Config.Load; nil with it.
	row *Delivery
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
// Replay is idempotent: a delivery already queued for replay, or being
// replayed, is not queued again, so replaying a call again while a replay
// of it is pending adds nothing. It is bounded: an application has at most
// Config.MaxReplaysPerApp replays queued or in flight, and the Worker
// Config.MaxReplays; when the deliveries to add do not fit, Replay queues
// none of them and returns an error wrapping ErrReplayLimit. With
// Config.Load a queued replay holds only the row's key, and the row is read
// back when its turn comes; without it the Worker holds ds' bodies.
//
// A replay is retried with the same backoff as a live delivery, up to
// MaxAttempts. When it succeeds, the Outbox records the row as delivered
// (Delivered, with attempts counting the row's earlier attempts and the
// replay's); a failed or abandoned replay leaves the row as it was, and so
// does one whose row Config.Load no longer finds (it is dropped). Replays
// still queued at Shutdown are dropped: they are not in the outbox as
// pending. OnResult sees replays with Delivery.Replay set.
//
// Replay returns the number of deliveries queued for sending again. Before
// Start they are held until Start; after Shutdown none are queued.
func (w *Worker) Replay(ds ...Delivery) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, nil
	}
	type key struct {
		callID string
		seq    int64
	}
	// First find what is new, and whether it fits.
	fresh := make([]int, 0, len(ds))
	seen := make(map[key]bool, len(ds))
	perApp := make(map[string]int)
	for i, d := range ds {
		k := key{d.CallID, d.Seq}
		if seen[k] {
			continue
		}
		seen[k] = true
		app := appKey(d)
		if cq := w.calls[d.CallID]; cq != nil {
			app = cq.app
			if _, queued := cq.replaying[d.Seq]; queued {
				continue
			}
			// A held delivery not yet on the wire goes out after this
			// call anyway; one being sent now may have reached the bot
			// before it asked, so it is sent again.
			if j, held := slices.BinarySearchFunc(cq.pending, d.Seq, func(p Delivery, seq int64) int {
				return cmpSeq(p.Seq, seq)
			}); held && (j > 0 || !cq.sending) {
				continue
			}
		}
		fresh = append(fresh, i)
		perApp[app]++
	}
	if n := w.replayCount + len(fresh); n > w.cfg.MaxReplays {
		return 0, fmt.Errorf("%w: %d would be queued, at most %d in all", ErrReplayLimit, n, w.cfg.MaxReplays)
	}
	for app, k := range perApp {
		if n := w.replaysPerApp[app] + k; n > w.cfg.MaxReplaysPerApp {
			return 0, fmt.Errorf("%w: %d would be queued for the application, at most %d", ErrReplayLimit, n, w.cfg.MaxReplaysPerApp)
		}
	}

	now := w.cfg.Clock.Now()
	var touched []*callQueue
	for _, i := range fresh {
		d := ds[i]
		cq := w.queue(d, now)
		if !slices.Contains(touched, cq) {
			touched = append(touched, cq)
		}
		r := replay{seq: d.Seq, prior: d.Attempts}
		if w.cfg.Load == nil {
			row := d
			r.row = &row
			w.replayBytes += int64(len(d.Body))
		}
		cq.replays = append(cq.replays, r)
		if cq.replaying == nil {
			cq.replaying = make(map[int64]struct{})
		}
		cq.replaying[d.Seq] = struct{}{}
		w.replayCount++
		w.replaysPerApp[cq.app]++
	}
	if w.started {
		for _, cq := range touched {
			w.hurry(cq)
			w.wake(cq)
		}
	}
	return len(fresh), nil
}

// replayDelivery returns the delivery to attempt for r, cq's head replay,
// and whether its row must first be read back with Config.Load. The caller
// holds w.mu.
func replayDelivery(cq *callQueue, r replay) (Delivery, bool) {
	if r.row == nil {
		return Delivery{CallID: cq.id, Seq: r.seq, Attempts: r.attempts, Replay: true}, true
	}
	d := *r.row
	d.Attempts, d.Replay = r.attempts, true
	return d, false
}

// popReplay removes cq's head replay, finished or dropped, and gives back
// its room under the replay limits. The caller holds w.mu.
func (w *Worker) popReplay(cq *callQueue) replay {
	r := cq.replays[0]
	cq.replays[0] = replay{}
	cq.replays = cq.replays[1:]
	delete(cq.replaying, r.seq)
	if len(cq.replaying) == 0 {
		cq.replaying = nil // the map would keep its buckets
	}
	if r.row != nil {
		w.replayBytes -= int64(len(r.row.Body))
	}
	w.replayCount--
	if w.replaysPerApp[cq.app]--; w.replaysPerApp[cq.app] == 0 {
		delete(w.replaysPerApp, cq.app)
	}
	return r
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
		r := w.popReplay(cq)
		if delivered {
			w.record(record{callID: d.CallID, seq: d.Seq, attempts: r.prior + d.Attempts, at: now, delivered: true})
		}
		cq.busy = false
		cq.idleSince = now
		w.wake(cq)
		return 0
	}
	cq.replays[0].attempts = d.Attempts
	delay := w.backoff(d.Attempts, o.retryAfter)
	switch {
	case w.closed:
		cq.busy = false
	case cq.forgotten:
		// Forget kept this replay only for the attempt in flight.
		w.popReplay(cq)
		cq.busy = false
	default:
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
