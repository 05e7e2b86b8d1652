package storetest

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// testRecord checks Outbox.Record: results are written in order, as
// Delivered and Attempted write them, and one that names a missing entry
// fails alone.
func testRecord(t *testing.T, h *harness) {
	s := h.store(t)
	commit(t, s, Conversation("c", base), Entry("c-call", 1, base), Entry("c-call", 2, base), Entry("c-call", 3, base), Entry("c-call", 4, base))
	err := s.Record(t.Context(), []notify.Result{
		{CallID: "c-call", Seq: 1, Attempts: 1, Delivered: true, At: base.Add(time.Second)},
		{CallID: "c-call", Seq: 2, Attempts: 1, At: base.Add(2 * time.Second), LastError: "503 Service Unavailable"},
		{CallID: "missing-call", Seq: 1, Attempts: 1, Delivered: true, At: base},
		{CallID: "c-call", Seq: 3, Attempts: 12, LastError: "410 Gone", GaveUp: true},
		{CallID: "c-call", Seq: 2, Attempts: 2, Delivered: true, At: base.Add(3 * time.Second)},
		{CallID: "c-call", Seq: 4, Attempts: 1, At: base.Add(time.Second), LastError: "timeout"},
	})
	if err == nil {
		t.Error("Record with a result for a missing entry returned nil")
	}
	want := []notify.Delivery{delivery(Entry("c-call", 4, base), 1)}
	sameDeliveries(t, pending(t, s), want)
	sameDeliveries(t, pending(t, h.reopen(t)), want)

	if err := h.cur.Record(t.Context(), nil); err != nil {
		t.Errorf("Record(nil) = %v", err)
	}
	// A late failure of a finished delivery does not bring it back.
	if err := h.cur.Record(t.Context(), []notify.Result{{CallID: "c-call", Seq: 1, Attempts: 2, At: base.Add(time.Hour), LastError: "late"}}); err != nil {
		t.Errorf("Record of a late attempt: %v", err)
	}
	sameDeliveries(t, pending(t, h.cur), want)
}
