package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

// Request states: a queued request is taken by the writer or abandoned by its
// waiter, whichever comes first.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// request is one write waiting for the writer goroutine. apply runs inside
// the batch transaction, under a savepoint of its own.
type request struct {
	apply func(w *writer) error
	done  chan error // buffered: the writer never blocks on an answer
	state atomic.Int32
}

// writer is the one connection that writes, with its prepared statements.
// Only the writer goroutine uses it once Open has returned.
type writer struct {
	conn  *sql.Conn
	stmts []*sql.Stmt

	begin, commit, rollback               *sql.Stmt
	savepoint, rollbackSavepoint, release *sql.Stmt
	upsertConversation, upsertCall        *sql.Stmt
	insertOutbox, delivered, attempted    *sql.Stmt
	outboxStatus, upsertKey               *sql.Stmt

	// legs knows the calls rows that commits need not write again.
	legs codec.Legs
}

func newWriter(ctx context.Context, conn *sql.Conn) (*writer, error) {
	w := &writer{conn: conn}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		{&w.savepoint, `SAVEPOINT request`},
		{&w.rollbackSavepoint, `ROLLBACK TO request`},
		{&w.release, `RELEASE request`},
		{&w.upsertConversation, upsertConversationSQL},
		{&w.upsertCall, upsertCallSQL},
		{&w.insertOutbox, insertOutboxSQL},
		{&w.delivered, deliveredSQL},
		{&w.attempted, attemptedSQL},
		{&w.outboxStatus, outboxStatusSQL},
		{&w.upsertKey, upsertKeySQL},
	} {
		st, err := conn.PrepareContext(ctx, p.sql)
		if err != nil {
			w.closeStmts()
			return nil, fmt.Errorf("sqlite: prepare %q: %w", p.sql, err)
		}
		*p.dst = st
		w.stmts = append(w.stmts, st)
	}
	return w, nil
}

func (w *writer) closeStmts() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts = nil
}

func (w *writer) close() error {
	w.closeStmts()
	return w.conn.Close()
}

// exec runs a prepared statement of the writer. The writer's work is never
// cancelled half-way: a request taken into a batch completes with the batch.
func (w *writer) exec(st *sql.Stmt, args ...any) (sql.Result, error) {
	return st.ExecContext(context.Background(), args...)
}

// execSQL runs a statement that is not prepared, for rare writes such as
// registering an application, inside the writer's transaction.
func (w *writer) execSQL(query string, args ...any) (sql.Result, error) {
	return w.conn.ExecContext(context.Background(), query, args...)
}

// queryRow runs a query inside the writer's transaction, so that a check
// and the write that depends on it see the same database.
func (w *writer) queryRow(query string, args ...any) *sql.Row {
	return w.conn.QueryRowContext(context.Background(), query, args...)
}

// submit queues apply for the writer and waits for its result. ctx is
// honoured only while the request is queued: once the writer has taken it,
// submit returns the result of its batch.
func (s *Store) submit(ctx context.Context, apply func(w *writer) error) error {
	r := &request{apply: apply, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()

	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		return <-r.done
	}
}

// run is the writer goroutine: it takes whatever is queued, up to maxBatch
// requests, and runs it as one transaction, until Close closes the queue and
// it has drained it.
func (s *Store) run(maxBatch int) {
	defer close(s.writerDone)
	batch := make([]*request, 0, maxBatch)
	errs := make([]error, 0, maxBatch)
	for r := range s.queue {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch, errs)
		clear(batch) // let the requests' closures be collected
	}
}

// runBatch runs the requests in one IMMEDIATE transaction, each under its own
// savepoint, so that a failing request is rolled back alone and its
// neighbours still commit. If the transaction as a whole fails (BEGIN, a
// savepoint, or COMMIT), every request in it gets that error.
func (s *Store) runBatch(batch []*request, errs []error) {
	taken := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			taken = append(taken, r)
		}
	}
	if len(taken) == 0 {
		return
	}
	errs = errs[:len(taken)]
	clear(errs)
	w := s.w
	s.batches.Add(1)
	s.batched.Add(int64(len(taken)))
	if s.observeBatch != nil {
		defer s.observed(len(taken), time.Now())
	}

	fail := func(err error) {
		w.legs.Reset() // what the batch wrote is rolled back
		if _, rerr := w.exec(w.rollback); rerr != nil && !isNoTransaction(rerr) {
			s.log.Error("sqlite: rollback failed", "err", rerr)
		}
		for _, r := range taken {
			r.done <- err
		}
	}

	if _, err := w.exec(w.begin); err != nil {
		fail(fmt.Errorf("sqlite: begin: %w", err))
		return
	}
	for i, r := range taken {
		if _, err := w.exec(w.savepoint); err != nil {
			fail(fmt.Errorf("sqlite: savepoint: %w", err))
			return
		}
		if err := runRequest(r, w); err != nil {
			errs[i] = err
			w.legs.Reset() // what the request wrote is rolled back
			// Some errors (disk full, I/O) roll back the whole transaction;
			// then the savepoint is gone and so is the batch.
			if _, rerr := w.exec(w.rollbackSavepoint); rerr != nil {
				fail(fmt.Errorf("sqlite: batch aborted: %w", errors.Join(err, rerr)))
				return
			}
		}
		if _, err := w.exec(w.release); err != nil {
			fail(fmt.Errorf("sqlite: release savepoint: %w", err))
			return
		}
	}
	if _, err := w.exec(w.commit); err != nil {
		fail(fmt.Errorf("sqlite: commit: %w", err))
		return
	}
	for i, r := range taken {
		r.done <- errs[i]
	}
	if s.batches.Load()%checkpointEvery == 0 {
		s.ckpt.poke()
	}
}

// observed reports a batch of n requests that began at start.
func (s *Store) observed(n int, start time.Time) { s.observeBatch(n, time.Since(start)) }

// runRequest runs r's work, turning a panic into r's error: the writer goroutine
// serves every caller, so one bad request must not take it down.
func runRequest(r *request, w *writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: write request panicked: %v", p)
		}
	}()
	return r.apply(w)
}

// isNoTransaction reports whether err says there was no transaction to roll
// back, which happens when SQLite already rolled it back itself.
func isNoTransaction(err error) bool {
	return strings.Contains(err.Error(), "no transaction is active")
}
