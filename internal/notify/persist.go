package notify

import (
	"context"
	"sync"
	"time"
)

// record is a delivery result waiting to be written to the Outbox.
type record struct {
	callID    string
	seq       int64
	attempts  int
	at        time.Time // delivered at, or the next attempt
	lastError string
	delivered bool
	gaveUp    bool
}

// record queues r for the persister. Results of one call are queued in the
// order they happened, and the persister keeps that order.
func (w *Worker) record(r record) {
	w.pmu.Lock()
	w.records = append(w.records, r)
	w.pmu.Unlock()
	select {
	case w.persistWake <- struct{}{}:
	default:
	}
}

func (w *Worker) takeRecords() []record {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	rs := w.records
	w.records = nil
	return rs
}

// persist writes queued results to the Outbox, a batch at a time, until
// Shutdown closes persistStop and nothing is left. Once ctx is cancelled the
// remaining results are dropped: their deliveries are sent again at restart.
func (w *Worker) persist(ctx context.Context) {
	defer close(w.persistDone)
	for {
		batch := w.takeRecords()
		if len(batch) == 0 {
			select {
			case <-w.persistWake:
				continue
			case <-w.persistStop:
				if batch = w.takeRecords(); len(batch) == 0 {
					return
				}
			}
		}
		if ctx.Err() != nil {
			w.log.Warn("notify: dropped unrecorded delivery results; they will be sent again", "count", len(batch))
			continue
		}
		w.writeBatch(ctx, batch)
	}
}

// persistParallel bounds the writes in flight at once. The store commits
// concurrent writes in one transaction, so writing a batch in parallel costs
// about one commit instead of one per result.
const persistParallel = 64

// writeBatch writes a batch of results: the results of one call in order,
// different calls concurrently.
func (w *Worker) writeBatch(ctx context.Context, batch []record) {
	var order []string
	byCall := make(map[string][]record)
	for _, r := range batch {
		if _, ok := byCall[r.callID]; !ok {
			order = append(order, r.callID)
		}
		byCall[r.callID] = append(byCall[r.callID], r)
	}
	sem := make(chan struct{}, persistParallel)
	var wg sync.WaitGroup
	for _, id := range order {
		rs := byCall[id]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, r := range rs {
				w.write(ctx, r)
			}
		}()
	}
	wg.Wait()
}

func (w *Worker) write(ctx context.Context, r record) {
	var err error
	if r.delivered {
		err = w.cfg.Outbox.Delivered(ctx, r.callID, r.seq, r.at, r.attempts)
	} else {
		err = w.cfg.Outbox.Attempted(ctx, r.callID, r.seq, r.attempts, r.at, r.lastError, r.gaveUp)
	}
	if err != nil {
		w.log.Warn("notify: record delivery result", "call_id", r.callID, "seq", r.seq, "delivered", r.delivered, "gave_up", r.gaveUp, "error", err.Error())
	}
}
