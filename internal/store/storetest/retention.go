package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

// Retention is what the sweep of ended calls needs of a store.
type Retention interface {
	// DeleteEnded deletes at most limit conversations that ended before
	// before, with their calls and outbox rows, and returns how many; a
	// conversation with a notification still pending is kept.
	DeleteEnded(ctx context.Context, before time.Time, limit int) (int, error)
}

// testRetention checks that DeleteEnded removes only ended conversations
// older than the cut-off whose notifications are all finished, and all of
// what belongs to them.
func testRetention(t *testing.T, h *harness) {
	s := h.store(t)
	r, ok := s.(Retention)
	if !ok {
		t.Fatalf("%T does not implement storetest.Retention", s)
	}
	log, _ := s.(NotificationLog)
	cutoff := base.Add(time.Hour)

	// old1 and old2 ended before the cut-off with every notification
	// finished; pending ended before it too but still has a delivery to
	// make; recent ended after the cut-off; live never ended.
	ended := func(id string, at time.Time) {
		c := Conversation(id, base)
		commit(t, s, c, Entry(id+"-call", 1, base))
		commit(t, s, end(c, at), Entry(id+"-call", 2, at))
	}
	ended("old1", base.Add(time.Minute))
	ended("old2", base.Add(2*time.Minute))
	ended("pending", base.Add(time.Minute))
	ended("recent", cutoff.Add(time.Minute))
	commit(t, s, Conversation("live", base), Entry("live-call", 1, base))
	finish := []notify.Result{
		{CallID: "old1-call", Seq: 1, Attempts: 1, Delivered: true, At: base},
		{CallID: "old1-call", Seq: 2, Attempts: 1, Delivered: true, At: base},
		{CallID: "old2-call", Seq: 1, Attempts: 1, Delivered: true, At: base},
		{CallID: "old2-call", Seq: 2, Attempts: 12, GaveUp: true, LastError: "410 Gone"},
		{CallID: "pending-call", Seq: 1, Attempts: 1, Delivered: true, At: base},
		{CallID: "recent-call", Seq: 1, Attempts: 1, Delivered: true, At: base},
		{CallID: "recent-call", Seq: 2, Attempts: 1, Delivered: true, At: base},
		{CallID: "live-call", Seq: 1, Attempts: 1, Delivered: true, At: base},
	}
	if err := s.Record(t.Context(), finish); err != nil {
		t.Fatal(err)
	}

	del := func(limit int) int {
		t.Helper()
		n, err := r.DeleteEnded(t.Context(), cutoff, limit)
		if err != nil {
			t.Fatalf("DeleteEnded: %v", err)
		}
		return n
	}
	if n := del(1); n != 1 {
		t.Fatalf("DeleteEnded(limit 1) deleted %d", n)
	}
	if n := del(10); n != 1 {
		t.Fatalf("second DeleteEnded deleted %d, want the other old conversation", n)
	}
	if n := del(10); n != 0 {
		t.Fatalf("third DeleteEnded deleted %d, want nothing left to delete", n)
	}
	if got := loadLive(t, s); len(got) != 1 || got["live"] == nil {
		t.Fatalf("LoadLive = %v, want [live]", mapKeys(got))
	}
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(Entry("pending-call", 2, base.Add(time.Minute)), 0)})
	if log != nil {
		for id, kept := range map[string]bool{"old1": false, "old2": false, "pending": true, "recent": true, "live": true} {
			_, _, err := log.CallOwner(t.Context(), id+"-call")
			if kept != (err == nil) || (!kept && !errors.Is(err, calls.ErrNotFound)) {
				t.Errorf("CallOwner(%s-call) = %v, want kept %v", id, err, kept)
			}
			if es := listLog(t, log, id+"-call", 0, 0); kept != (len(es) > 0) {
				t.Errorf("notifications of %s-call: %d left, want kept %v", id, len(es), kept)
			}
		}
	}

	// Once its last delivery is finished, the pending one goes too.
	if err := s.Record(t.Context(), []notify.Result{{CallID: "pending-call", Seq: 2, Attempts: 1, Delivered: true, At: base}}); err != nil {
		t.Fatal(err)
	}
	if n := del(10); n != 1 {
		t.Fatalf("DeleteEnded after the last delivery deleted %d, want 1", n)
	}
	h.reopen(t)
	if n, err := h.cur.(Retention).DeleteEnded(t.Context(), cutoff.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("DeleteEnded after reopening, later cut-off = %d, %v; want the recent conversation", n, err)
	}
	if got := loadLive(t, h.cur); len(got) != 1 || got["live"] == nil {
		t.Fatalf("LoadLive after the sweeps = %v, want [live]", mapKeys(got))
	}
}
