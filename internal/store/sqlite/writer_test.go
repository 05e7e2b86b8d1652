package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// holdWriter occupies the writer goroutine until the returned function is
// called, so that the test can queue requests that will then form one batch.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	taken, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.submit(context.Background(), func(*writer) error {
			close(taken)
			<-hold
			return nil
		})
	}()
	<-taken
	return func() {
		close(hold)
		if err := <-done; err != nil {
			t.Errorf("held request: %v", err)
		}
	}
}

// waitQueued waits until n requests are queued behind a held writer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for len(s.queue) < n {
		if t.Context().Err() != nil {
			t.Fatalf("%d requests queued, want %d", len(s.queue), n)
		}
		runtime.Gosched()
	}
}

// TestBatchIsolatesFailures puts good and failing requests in one
// transaction and checks that only the failing ones are rolled back.
func TestBatchIsolatesFailures(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	ctx := context.Background()
	taken := storetest.Entry("taken-call", 1, t0)
	if err := s.Commit(ctx, storetest.Conversation("taken", t0), []calls.OutboxEntry{taken}); err != nil {
		t.Fatal(err)
	}

	batchesBefore := s.batches.Load()
	release := holdWriter(t, s)
	type result struct {
		id  string
		err error
	}
	results := make(chan result)
	ids := []string{"good-1", "bad-1", "good-2", "bad-2", "good-3"}
	for i, id := range ids {
		outbox := []calls.OutboxEntry{storetest.Entry(id+"-call", 1, t0)}
		if id[:3] == "bad" {
			outbox = append(outbox, taken)
		}
		go func() {
			results <- result{id, s.Commit(ctx, storetest.Conversation(id, t0), outbox)}
		}()
		waitQueued(t, s, i+1) // keep the queue in this order
	}
	release()
	for range ids {
		r := <-results
		if bad := r.id[:3] == "bad"; bad != (r.err != nil) {
			t.Errorf("Commit(%s) = %v", r.id, r.err)
		}
	}
	// The held request's batch, then one batch for all five.
	if got := s.batches.Load() - batchesBefore; got != 2 {
		t.Errorf("the queued commits ran in %d batches, want 1 (plus the held one)", got-1)
	}

	live, err := s.LoadLive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range live {
		got[c.ID] = true
	}
	for _, id := range ids {
		if want := id[:4] == "good"; got[id] != want {
			t.Errorf("conversation %s live = %v, want %v", id, got[id], want)
		}
	}
	var rows int
	if err := s.readDB.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE conversation_id LIKE 'bad-%'`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("calls rows of failed commits: %d, %v; want none", rows, err)
	}
}

// TestCancelWhileQueued checks that a caller who gives up while its request
// is queued gets ctx's error and the request never runs.
func TestCancelWhileQueued(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	release := holdWriter(t, s)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- s.Commit(ctx, storetest.Conversation("cancelled", t0), nil)
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Commit = %v, want context.Canceled", err)
	}
	release()

	if err := s.Commit(context.Background(), storetest.Conversation("after", t0), nil); err != nil {
		t.Fatal(err)
	}
	live, err := s.LoadLive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].ID != "after" {
		t.Errorf("LoadLive = %d conversations, want only \"after\"", len(live))
	}
}

// TestCloseDrainsQueue checks that requests queued before Close are written
// and requests made after it fail with ErrClosed.
func TestCloseDrainsQueue(t *testing.T) {
	path := tempPath(t)
	s := openPath(t, path)
	release := holdWriter(t, s)

	const n = 20
	errc := make(chan error, n)
	for i := range n {
		go func() {
			errc <- s.Commit(context.Background(), storetest.Conversation(fmt.Sprintf("c%02d", i), t0), nil)
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range n {
		if err := <-errc; err != nil {
			t.Errorf("Commit queued before Close = %v", err)
		}
	}
	if err := s.Commit(context.Background(), storetest.Conversation("late", t0), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
	if _, err := s.LoadLive(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("LoadLive after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}

	s = openPath(t, path)
	defer s.Close()
	live, err := s.LoadLive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != n {
		t.Errorf("after reopening, %d conversations, want %d", len(live), n)
	}
}

// TestPragmas checks the settings that durability rests on.
func TestPragmas(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	for _, p := range []struct {
		name, want string
		db         *sql.DB
	}{
		{"journal_mode", "wal", s.readDB},
		{"synchronous", "2", s.readDB}, // FULL
		{"foreign_keys", "1", s.readDB},
		{"busy_timeout", "5000", s.readDB},
		{"query_only", "1", s.readDB},
	} {
		var got string
		if err := p.db.QueryRowContext(t.Context(), "PRAGMA "+p.name).Scan(&got); err != nil {
			t.Errorf("PRAGMA %s: %v", p.name, err)
			continue
		}
		if got != p.want {
			t.Errorf("PRAGMA %s = %s, want %s", p.name, got, p.want)
		}
	}
	// The writer's connection is busy with the writer; ask it through a
	// request.
	err := s.submit(t.Context(), func(w *writer) error {
		for name, want := range map[string]string{"synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "0", "temp_store": "2"} {
			var got string
			if err := w.conn.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&got); err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("writer PRAGMA %s = %s, want %s", name, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestRows checks the columns that exist for queries rather than for the
// domain: the calls projection and the outbox bookkeeping.
func TestRows(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	ctx := t.Context()
	c := storetest.Conversation("conv", t0)
	if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry("conv-call", 1, t0), storetest.Entry("conv-call", 2, t0)}); err != nil {
		t.Fatal(err)
	}
	var state string
	var ended sql.NullInt64
	if err := s.readDB.QueryRowContext(ctx, `SELECT state, ended_at FROM calls WHERE id = 'conv-call' AND conversation_id = 'conv' AND tenant_id = 'tenant-1' AND app_id = 'app-1'`).Scan(&state, &ended); err != nil {
		t.Fatal(err)
	}
	if state != "established" || ended.Valid {
		t.Errorf("calls row = %s, %v; want established, NULL", state, ended)
	}

	endedAt := t0.Add(time.Minute)
	c.Legs[0].State = calls.StateTerminated
	c.Legs[0].EndedAt = &endedAt
	if err := s.Commit(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.readDB.QueryRowContext(ctx, `SELECT state, ended_at FROM calls WHERE id = 'conv-call'`).Scan(&state, &ended); err != nil {
		t.Fatal(err)
	}
	if state != "terminated" || ended.Int64 != endedAt.UnixNano() {
		t.Errorf("calls row = %s, %v; want terminated, %d", state, ended, endedAt.UnixNano())
	}
	var live int
	if err := s.readDB.QueryRowContext(ctx, `SELECT live FROM conversations WHERE id = 'conv'`).Scan(&live); err != nil || live != 0 {
		t.Errorf("conversations.live = %d, %v; want 0", live, err)
	}

	next := t0.Add(2 * time.Second)
	if err := s.Attempted(ctx, "conv-call", 1, 3, next, "503", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Attempted(ctx, "conv-call", 2, 12, time.Time{}, "410", true); err != nil {
		t.Fatal(err)
	}
	type outboxRow struct {
		status    string
		attempts  int
		next      sql.NullInt64
		lastError string
		delivered sql.NullInt64
	}
	row := func(seq int) outboxRow {
		var r outboxRow
		err := s.readDB.QueryRowContext(ctx, `SELECT status, attempts, next_attempt_at, last_error, delivered_at FROM outbox WHERE call_id = 'conv-call' AND seq = ?`, seq).
			Scan(&r.status, &r.attempts, &r.next, &r.lastError, &r.delivered)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if got, want := row(1), (outboxRow{"pending", 3, sql.NullInt64{Int64: next.UnixNano(), Valid: true}, "503", sql.NullInt64{}}); got != want {
		t.Errorf("after Attempted, row = %+v, want %+v", got, want)
	}
	if got, want := row(2), (outboxRow{"gaveUp", 12, sql.NullInt64{}, "410", sql.NullInt64{}}); got != want {
		t.Errorf("after giving up, row = %+v, want %+v", got, want)
	}
	at := t0.Add(3 * time.Second)
	if err := s.Delivered(ctx, "conv-call", 1, at, 4); err != nil {
		t.Fatal(err)
	}
	if got, want := row(1), (outboxRow{"delivered", 4, sql.NullInt64{}, "503", sql.NullInt64{Int64: at.UnixNano(), Valid: true}}); got != want {
		t.Errorf("after Delivered, row = %+v, want %+v", got, want)
	}
	if err := s.Delivered(ctx, "conv-call", 9, at, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delivered of an unknown entry = %v, want ErrNotFound", err)
	}
	if err := s.Attempted(ctx, "conv-call", 9, 1, at, "x", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("Attempted of an unknown entry = %v, want ErrNotFound", err)
	}
}

func TestCommitRejectsBadInput(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	if err := s.Commit(t.Context(), nil, nil); err == nil {
		t.Error("Commit(nil) returned nil")
	}
	if err := s.Commit(t.Context(), &calls.Conversation{}, nil); err == nil {
		t.Error("Commit of a conversation without id returned nil")
	}
}

// TestBatchFailureFailsEveryRequest breaks the transaction itself and checks
// that every request in the batch gets an error and none is written.
func TestBatchFailureFailsEveryRequest(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	ctx := context.Background()
	release := holdWriter(t, s)

	errc := make(chan error, 2)
	go func() { errc <- s.Commit(ctx, storetest.Conversation("innocent", t0), nil) }()
	waitQueued(t, s, 1)
	go func() {
		errc <- s.submit(ctx, func(w *writer) error {
			// Ending the transaction under the writer's feet: its savepoint
			// is gone, so the whole batch must fail.
			_, err := w.conn.ExecContext(context.Background(), `ROLLBACK`)
			return err
		})
	}()
	waitQueued(t, s, 2)
	release()
	for range 2 {
		if err := <-errc; err == nil {
			t.Error("a request of a failed transaction returned nil")
		}
	}

	if err := s.Commit(ctx, storetest.Conversation("after", t0), nil); err != nil {
		t.Fatalf("Commit after a failed transaction: %v", err)
	}
	live, err := s.LoadLive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].ID != "after" {
		t.Errorf("LoadLive = %d conversations, want only \"after\"", len(live))
	}
}
