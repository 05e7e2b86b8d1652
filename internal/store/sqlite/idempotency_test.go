package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
		if _, ok, err := s.ReserveIdempotency(t.Context(), rec, at, at.Add(-time.Minute), 0); err != nil || !ok {
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

// TestMigrateIdempotencyQuotaOntoVersion5 upgrades a database holding
// idempotency records of two scopes: the quota index exists afterwards, and
// a reservation with a quota evicts the oldest record of its own scope.
func TestMigrateIdempotencyQuotaOntoVersion5(t *testing.T) {
	path := tempPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t.Context(), conn, migrations[:5], 1); err != nil {
		t.Fatal(err)
	}
	const far = 1 << 62
	for _, row := range []struct {
		scope, key string
		created    int64
	}{{"t/a", "a-old", 1}, {"t/a", "a-new", 3}, {"t/b", "b-oldest", 0}} {
		if _, err := conn.ExecContext(t.Context(), `INSERT INTO idempotency (scope, key, request_hash, token, status, header, body, created_at, expires_at)
VALUES (?, ?, x'01', 'tok', 201, '{}', x'', ?, ?)`, row.scope, row.key, row.created, far); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	db.Close()

	s := openPath(t, path)
	defer s.Close()
	var n int
	if err := s.readDB.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'idempotency_scope_created'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("index idempotency_scope_created: count %d, err %v", n, err)
	}
	now := time.Unix(0, 10)
	rec := idempotency.Record{Scope: "t/a", Key: "a-newest", Token: "tok-n", RequestHash: []byte{1}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, ok, err := s.ReserveIdempotency(t.Context(), rec, now, now.Add(-time.Minute), 2); err != nil || !ok {
		t.Fatalf("ReserveIdempotency with a quota of 2: %v, %v", ok, err)
	}
	var keys []string
	rows, err := s.readDB.QueryContext(t.Context(), `SELECT key FROM idempotency ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if got := strings.Join(keys, ","); got != "a-new,a-newest,b-oldest" {
		t.Errorf("keys after the reservation: %s, want a-old evicted and t/b untouched", got)
	}
}
