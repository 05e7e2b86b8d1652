package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

// TestIdempotencySweep checks that reservations delete expired records as
// they go, a bounded number at a time, and leave live ones alone.
func TestIdempotencySweep(t *testing.T) {
	s := openPath(t, tempPath(t))
	t.Cleanup(func() { s.Close() })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reserve := func(key string, at time.Time) {
		t.Helper()
		rec := idempotency.Record{Scope: "t/a", Key: key, Token: "tok-" + key, RequestHash: []byte{1},
			CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if _, ok, err := s.ReserveIdempotency(t.Context(), rec, at, at.Add(-time.Minute)); err != nil || !ok {
			t.Fatalf("ReserveIdempotency(%s): %v, %v", key, ok, err)
		}
	}
	count := func() int {
		t.Helper()
		var n int
		if err := s.readDB.QueryRowContext(t.Context(), `SELECT count(*) FROM idempotency`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const old = sweepIdempotency + 10
	for i := range old {
		reserve(fmt.Sprintf("old-%d", i), t0)
	}
	reserve("live", t0.Add(30*time.Minute))
	later := t0.Add(time.Hour) // the old ones expire now; "live" does not
	reserve("new-1", later)
	if got, want := count(), old+2-sweepIdempotency; got != want {
		t.Fatalf("after one reservation past expiry: %d records, want %d", got, want)
	}
	reserve("new-2", later)
	if got := count(); got != 3 {
		t.Fatalf("after two reservations past expiry: %d records, want 3 (live, new-1, new-2)", got)
	}
}
