package notify

import (
	"context"
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

// maxRecordBatch bounds the results written by one Outbox.Record, so that
// one write does not hold the store's writer for long.
const maxRecordBatch = 512

// writeBatch writes a batch of results, in order, with one Outbox.Record
// per maxRecordBatch results: acknowledging deliveries one write each cost
// the store a request (and a savepoint) per callback.
func (w *Worker) writeBatch(ctx context.Context, batch []record) {
	for len(batch) > 0 {
		n := min(len(batch), maxRecordBatch)
		results := make([]Result, n)
		for i, r := range batch[:n] {
			results[i] = Result{CallID: r.callID, Seq: r.seq, Attempts: r.attempts, Delivered: r.delivered, At: r.at, LastError: r.lastError, GaveUp: r.gaveUp}
		}
		if err := w.cfg.Outbox.Record(ctx, results); err != nil {
			w.log.Warn("notify: record delivery results", "count", n, "error", err.Error())
		}
		batch = batch[n:]
	}
}
