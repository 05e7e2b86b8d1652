package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// recordingOutbox keeps what Record is given.
type recordingOutbox struct {
	Outbox
	calls [][]Result
	err   error
}

func (o *recordingOutbox) Record(_ context.Context, results []Result) error {
	o.calls = append(o.calls, append([]Result(nil), results...))
	return o.err
}

// A batch of results is written with one Record per maxRecordBatch
// results, in the order they happened, each as it was recorded.
func TestWriteBatchRecordsInBulk(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var batch []record
	for i := range maxRecordBatch + 10 {
		r := record{callID: fmt.Sprintf("c%d", i%7), seq: int64(i/7 + 1), attempts: 1, at: at, delivered: true}
		if i%5 == 0 {
			r = record{callID: r.callID, seq: r.seq, attempts: 3, at: at.Add(time.Second), lastError: "503", gaveUp: i%10 == 0}
		}
		batch = append(batch, r)
	}
	o := &recordingOutbox{}
	w := New(Config{Outbox: o, Logger: slog.New(slog.DiscardHandler)})
	w.writeBatch(t.Context(), batch)
	if len(o.calls) != 2 || len(o.calls[0]) != maxRecordBatch || len(o.calls[1]) != 10 {
		t.Fatalf("Record calls of %v results, want %d then 10", lens(o.calls), maxRecordBatch)
	}
	i := 0
	for _, call := range o.calls {
		for _, got := range call {
			r := batch[i]
			want := Result{CallID: r.callID, Seq: r.seq, Attempts: r.attempts, Delivered: r.delivered, At: r.at, LastError: r.lastError, GaveUp: r.gaveUp}
			if got != want {
				t.Fatalf("result %d = %+v, want %+v", i, got, want)
			}
			i++
		}
	}
}

// A failing Record is logged, and the next batch is still written.
func TestWriteBatchFailureIsNotFatal(t *testing.T) {
	o := &recordingOutbox{err: errors.New("disk full")}
	w := New(Config{Outbox: o, Logger: slog.New(slog.DiscardHandler)})
	w.writeBatch(t.Context(), []record{{callID: "c1", seq: 1, delivered: true}})
	w.writeBatch(t.Context(), []record{{callID: "c1", seq: 2, delivered: true}})
	if len(o.calls) != 2 {
		t.Fatalf("%d Record calls, want 2", len(o.calls))
	}
}

func lens(calls [][]Result) []int {
	var out []int
	for _, c := range calls {
		out = append(out, len(c))
	}
	return out
}
