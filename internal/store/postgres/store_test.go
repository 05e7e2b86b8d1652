package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/recordings"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// column reads one value of a query on s's database, as text ("NULL" for
// NULL).
func column(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	var v *string
	if err := s.pool.QueryRow(t.Context(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if v == nil {
		return "NULL"
	}
	return *v
}

// Several nodes starting at once on a new database apply each migration
// once, and all open.
func TestMigrateConcurrently(t *testing.T) {
	url := testURL(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for range nodes {
		wg.Go(func() {
			s, err := Open(context.Background(), url, quiet)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s := openClosed(t)
	want := fmt.Sprint(len(migrations))
	if got := column(t, s, `SELECT count(*)::text FROM schema_migrations`); got != want {
		t.Errorf("schema_migrations has %s rows, want %s", got, want)
	}
	var names []string
	for _, m := range migrations {
		names = append(names, m.name)
	}
	if got, want := column(t, s, `SELECT string_agg(name, ',' ORDER BY version) FROM schema_migrations`), strings.Join(names, ","); got != want {
		t.Errorf("applied %s, want %s", got, want)
	}
}

// A database migrated by a newer build is refused, and left alone.
func TestSchemaTooNew(t *testing.T) {
	s := openTest(t)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(t.Context(), testURL(t), quiet)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "0999_future") {
		t.Fatalf("Open of a newer database = %v, want ErrSchemaTooNew naming 0999_future", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://sb:s3cret@db.example:5432/switchboard?sslmode=require": "postgres://sb:xxxxx@db.example:5432/switchboard?sslmode=require",
		"postgresql://sb@db/switchboard":                                   "postgresql://sb@db/switchboard",
		"postgres://db/switchboard?password=s3cret&sslmode=verify-full":    "postgres://db/switchboard?password=xxxxx&sslmode=verify-full",
		"host=db password=s3cret":                                          "(connection string)",
		"postgres://sb:s3cret@db:port/x":                                   "(unparsable postgres URL)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Errors of Open name the database without its password.
func TestOpenErrorsHidePassword(t *testing.T) {
	for _, url := range []string{
		"postgres://sb:s3cret@127.0.0.1:1/switchboard?sslmode=disable&connect_timeout=30", // nothing listens on port 1
		"postgres://sb:s3cret@127.0.0.1:1/switchboard?sslmode=bogus",
	} {
		_, err := Open(t.Context(), url, quiet)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", Redact(url))
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open's error shows the password: %v", err)
		}
	}
}

// A leg's spec is written once, to its calls row, and not inside the
// conversation's data; a calls row is written again only when the leg
// changed; a failed commit makes the next one write its legs again.
func TestLegRowsWrittenWhenChanged(t *testing.T) {
	s := openClosed(t)
	ctx := t.Context()
	c := storetest.Conversation("conv-1", t0)
	callID := c.Legs[0].ID
	if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(callID, 1, t0)}); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(c.Legs[0].Spec)
	if got := column(t, s, `SELECT convert_from(spec, 'UTF8') FROM calls WHERE id = $1`, callID); got != string(want) {
		t.Fatalf("calls.spec = %s, want %s", got, want)
	}
	if data := column(t, s, `SELECT convert_from(data, 'UTF8') FROM conversations WHERE id = 'conv-1'`); strings.Contains(data, `"spec"`) {
		t.Fatalf("conversations.data holds the spec: %s", data)
	}

	// Behind the store's back: a row the store believes unchanged is not
	// written again, and a changed one is.
	tamper := func() {
		t.Helper()
		if _, err := s.pool.Exec(ctx, `UPDATE calls SET state = 'tampered' WHERE id = $1`, callID); err != nil {
			t.Fatal(err)
		}
	}
	state := func() string { t.Helper(); return column(t, s, `SELECT state FROM calls WHERE id = $1`, callID) }
	tamper()
	c.RosterSeq++ // the conversation changes, the leg does not
	if err := s.Commit(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "tampered" {
		t.Fatalf("an unchanged leg's row was written again: state %s", got)
	}
	c.Legs[0].State, c.Legs[0].UpdatedAt = calls.StateTerminating, t0.Add(time.Minute)
	if err := s.Commit(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "terminating" {
		t.Fatalf("a changed leg's row: state %s, want terminating", got)
	}
	if got := column(t, s, `SELECT convert_from(spec, 'UTF8') FROM calls WHERE id = $1`, callID); got != string(want) {
		t.Fatalf("calls.spec after more commits = %s, want %s", got, want)
	}

	// A commit that fails (its outbox entry exists) after writing the row
	// leaves it as it was, and the next commit of the same leg writes it.
	c.Legs[0].State, c.Legs[0].UpdatedAt = calls.StateHold, t0.Add(2*time.Minute)
	if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(callID, 1, t0)}); err == nil {
		t.Fatal("a commit with a repeated outbox entry succeeded")
	}
	if got := state(); got != "terminating" {
		t.Fatalf("after the failed commit: state %s, want terminating", got)
	}
	tamper()
	if err := s.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry(callID, 2, t0)}); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "hold" {
		t.Fatalf("after the retried commit: state %s, want hold", got)
	}
}

// counter counts what a store sends the server: batches and queries sent
// on their own, each a round trip once its statements are prepared.
type counter struct {
	batches, queries atomic.Int64
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (c *counter) reset() (batches, queries int64) { return c.batches.Swap(0), c.queries.Swap(0) }

// A commit, of one conversation or several, is one batch and nothing else:
// one round trip to the server once its statements are prepared.
func TestCommitIsOneRoundTrip(t *testing.T) {
	var n counter
	opts := quiet
	opts.tracer, opts.MaxConns = &n, 1 // one connection: its statements stay prepared
	s := openURL(t, testURL(t), opts)
	defer s.Close()
	ctx := t.Context()
	for i := range 3 {
		id := fmt.Sprintf("conv-%d", i)
		n.reset()
		if err := s.Commit(ctx, storetest.Conversation(id, t0), []calls.OutboxEntry{storetest.Entry(id+"-call", 1, t0)}); err != nil {
			t.Fatal(err)
		}
		if b, q := n.reset(); b != 1 || q != 0 {
			t.Errorf("Commit %d: %d batches and %d queries, want 1 batch", i, b, q)
		}
	}
	from, to := storetest.Conversation("conv-0", t0), storetest.Conversation("conv-1", t0)
	from.RosterSeq, to.RosterSeq = 7, 7
	err := s.CommitAll(ctx, []calls.Change{
		{Conversation: from, Outbox: []calls.OutboxEntry{storetest.Entry("conv-0-call", 2, t0)}},
		{Conversation: to, Outbox: []calls.OutboxEntry{storetest.Entry("conv-1-call", 2, t0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, q := n.reset(); b != 1 || q != 0 {
		t.Errorf("CommitAll: %d batches and %d queries, want 1 batch", b, q)
	}
}

// Every method fails with ErrClosed once Close has begun; Close may be
// called again.
func TestClosed(t *testing.T) {
	s := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Commit(ctx, storetest.Conversation("late", t0), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v", err)
	}
	if _, err := s.LoadLive(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("LoadLive after Close = %v", err)
	}
	if _, err := s.Pending(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Pending after Close = %v", err)
	}
	if _, err := s.GetApp(ctx, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("GetApp after Close = %v", err)
	}
	if _, err := s.UseAssertionID(ctx, "c", "j", t0.Add(time.Minute), t0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("UseAssertionID after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// Two stores on one database, as two nodes: each sees what the other
// wrote, and the writes that must happen once happen once across them.
func TestTwoNodes(t *testing.T) {
	a, b := openClosed(t), openURL(t, testURL(t), quiet)
	defer b.Close()
	ctx := t.Context()

	c := storetest.Conversation("from-a", t0)
	if err := a.Commit(ctx, c, []calls.OutboxEntry{storetest.Entry("from-a-call", 1, t0)}); err != nil {
		t.Fatal(err)
	}
	live, err := b.LoadLive(ctx)
	if err != nil || len(live) != 1 || !reflect.DeepEqual(live[0], c) {
		t.Fatalf("B's LoadLive = %v, %v; want A's conversation", live, err)
	}
	if err := b.Delivered(ctx, "from-a-call", 1, t0, 1); err != nil {
		t.Fatalf("B records a delivery of A's notification: %v", err)
	}
	if ds, err := a.Pending(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("A's Pending after B's delivery = %v, %v", ds, err)
	}
	if err := a.CreateApp(ctx, storetest.App("bot", t0)); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateApp(ctx, storetest.App("BOT", t0)); !errors.Is(err, auth.ErrAppExists) {
		t.Errorf("B creates A's app in another case: %v, want ErrAppExists", err)
	}

	// Reservations of one key, and uses of one assertion id, from both
	// nodes at once: exactly one wins.
	const each = 8
	var wg sync.WaitGroup
	var reserved, firsts atomic.Int64
	for i := range 2 * each {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			rec := idempotency.Record{Scope: "t/a", Key: "k", Token: fmt.Sprintf("tok-%d", i), RequestHash: []byte{1},
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			_, ok, err := s.ReserveIdempotency(context.Background(), rec, t0, t0.Add(-time.Minute), 100)
			if err != nil {
				t.Errorf("ReserveIdempotency: %v", err)
			}
			if ok {
				reserved.Add(1)
			}
			first, err := s.UseAssertionID(context.Background(), "client", "jti", t0.Add(time.Minute), t0, 100)
			if err != nil {
				t.Errorf("UseAssertionID: %v", err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if reserved.Load() != 1 || firsts.Load() != 1 {
		t.Errorf("%d reservations of one key and %d first uses of one id across two nodes, want 1 and 1", reserved.Load(), firsts.Load())
	}

	// Both nodes sweep at once: each ended conversation is deleted once.
	const ended = 20
	for i := range ended {
		id := fmt.Sprintf("ended-%02d", i)
		conv := storetest.Conversation(id, t0)
		conv.Legs[0].State, conv.Legs[0].EndedAt = calls.StateTerminated, &t0
		if err := a.Commit(ctx, conv, nil); err != nil {
			t.Fatal(err)
		}
	}
	var deleted atomic.Int64
	for _, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for {
				n, err := s.DeleteEnded(context.Background(), t0.Add(time.Hour), 3)
				if err != nil {
					t.Errorf("DeleteEnded: %v", err)
					return
				}
				deleted.Add(int64(n))
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if deleted.Load() != ended {
		t.Errorf("the sweeps deleted %d conversations, want %d", deleted.Load(), ended)
	}
	if got := column(t, a, `SELECT count(*)::text FROM conversations WHERE NOT live`); got != "0" {
		t.Errorf("%s ended conversations left", got)
	}
}

// The recordings' metadata: any node reads what another wrote, and
// expired rows are swept.
func TestRecordingsIndex(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	m := recordings.Meta{ID: "0123456789abcdef0123456789abcdef", TokenSHA256: "ab", TenantID: "t", AppID: "a", CallID: "c",
		OperationID: "o", Node: "http://10.0.0.5:8080", Expires: t0.Add(time.Hour)}
	if err := s.PutRecording(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRecording(ctx, m.ID); err != nil || got != m {
		t.Fatalf("GetRecording = %+v, %v; want %+v", got, err, m)
	}
	if _, err := s.GetRecording(ctx, "ffffffffffffffffffffffffffffffff"); !errors.Is(err, recordings.ErrNotFound) {
		t.Fatalf("an unknown recording: %v, want ErrNotFound", err)
	}
	if n, err := s.SweepRecordings(ctx, t0.Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("sweep before expiry: %d, %v", n, err)
	}
	if n, err := s.SweepRecordings(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep at expiry: %d, %v", n, err)
	}
}
