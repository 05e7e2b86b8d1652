package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

var (
	_ notify.Outbox          = (*Store)(nil)
	_ notify.PendingForCalls = (*Store)(nil)
)

const (
	pendingSQL = `SELECT call_id, seq, url, body, app_id, tenant_id, chain_id, created_at, attempts
FROM outbox WHERE status = 'pending' ORDER BY call_id, seq`

	deliveredSQL = `UPDATE outbox SET status = 'delivered', delivered_at = ?, attempts = ?, next_attempt_at = NULL
WHERE call_id = ? AND seq = ?`

	attemptedSQL = `UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?,
	status = CASE WHEN ? THEN 'gaveUp' ELSE status END
WHERE call_id = ? AND seq = ? AND status = 'pending'`

	outboxStatusSQL = `SELECT status FROM outbox WHERE call_id = ? AND seq = ?`

	// pendingForSQL is completed with one placeholder per call id. The
	// partial index outbox_pending (call_id, seq) serves both the lookup
	// and the order.
	pendingForSQL = `SELECT call_id, seq, url, body, app_id, tenant_id, chain_id, created_at, attempts
FROM outbox WHERE status = 'pending' AND call_id IN (%s) ORDER BY call_id, seq`
)

// pendingForChunk bounds the call ids of one PendingFor query, well under
// SQLite's limit on the parameters of a statement.
const pendingForChunk = 500

// Pending returns every outbox entry neither delivered nor given up, ordered
// by CallID then Seq, with the attempts made so far.
func (s *Store) Pending(ctx context.Context) ([]notify.Delivery, error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.read.pending.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load pending outbox: %w", err)
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		var d notify.Delivery
		var created sql.NullInt64
		if err := rows.Scan(&d.CallID, &d.Seq, &d.URL, &d.Body, &d.AppID, &d.TenantID, &d.ChainID, &created, &d.Attempts); err != nil {
			return nil, fmt.Errorf("sqlite: load pending outbox: %w", err)
		}
		d.CreatedAt = fromNanos(created)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load pending outbox: %w", err)
	}
	return out, nil
}

// PendingFor returns the outbox entries of the calls callIDs neither
// delivered nor given up, ordered by CallID then Seq, with the attempts
// made so far: the backlog of calls a node takes over. Unknown calls
// contribute nothing; no calls give an empty result. The entries are read
// in one read transaction, a consistent snapshot however many calls there
// are.
func (s *Store) PendingFor(ctx context.Context, callIDs []string) ([]notify.Delivery, error) {
	if len(callIDs) == 0 {
		return nil, nil
	}
	// Sorted chunks, each read in order, give the whole in order.
	ids := slices.Clone(callIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)

	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	tx, err := s.readDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: load pending outbox of %d calls: %w", len(ids), err)
	}
	defer tx.Rollback()
	var out []notify.Delivery
	for chunk := range slices.Chunk(ids, pendingForChunk) {
		if out, err = pendingFor(ctx, tx, chunk, out); err != nil {
			return nil, fmt.Errorf("sqlite: load pending outbox of %d calls: %w", len(ids), err)
		}
	}
	return out, nil
}

// pendingFor appends the pending entries of the calls ids to out.
func pendingFor(ctx context.Context, tx *sql.Tx, ids []string, out []notify.Delivery) ([]notify.Delivery, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	query := fmt.Sprintf(pendingForSQL, strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","))
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d notify.Delivery
		var created sql.NullInt64
		if err := rows.Scan(&d.CallID, &d.Seq, &d.URL, &d.Body, &d.AppID, &d.TenantID, &d.ChainID, &created, &d.Attempts); err != nil {
			return nil, err
		}
		d.CreatedAt = fromNanos(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delivered records that the entry (callID, seq) was acknowledged at at,
// after attempts attempts; it is no longer pending. It returns an error
// wrapping ErrNotFound if there is no such entry.
func (s *Store) Delivered(ctx context.Context, callID string, seq int64, at time.Time, attempts int) error {
	return s.submit(ctx, func(w *writer) error {
		return w.recordDelivered(callID, seq, at, attempts)
	})
}

func (w *writer) recordDelivered(callID string, seq int64, at time.Time, attempts int) error {
	res, err := w.exec(w.delivered, nanos(at), attempts, callID, seq)
	if err != nil {
		return fmt.Errorf("sqlite: record delivery %s/%d: %w", callID, seq, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: %s/%d", ErrNotFound, callID, seq)
	}
	return nil
}

// Record writes delivery results, in order, each as Delivered or Attempted
// would, in one write request: the notify worker acknowledges a batch of
// callbacks with one request instead of one request (and savepoint) each. A
// result whose entry does not exist is skipped and reported, wrapping
// ErrNotFound, in the joined error; the others are written.
func (s *Store) Record(ctx context.Context, results []notify.Result) error {
	if len(results) == 0 {
		return nil
	}
	var failed []error
	err := s.submit(ctx, func(w *writer) error {
		failed = failed[:0]
		for _, r := range results {
			var err error
			if r.Delivered {
				err = w.recordDelivered(r.CallID, r.Seq, r.At, r.Attempts)
			} else {
				err = w.recordAttempt(r.CallID, r.Seq, r.Attempts, r.At, r.LastError, r.GaveUp)
			}
			switch {
			case errors.Is(err, ErrNotFound):
				failed = append(failed, err)
			case err != nil:
				return err // the request rolls back as a whole
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(failed...)
}

// Attempted records a failed attempt at the entry (callID, seq): the
// attempts so far, when to try next (zero for never), and the error. gaveUp
// finishes the entry without success; it is no longer pending. An entry that
// is already delivered or given up is left as it is. It returns an error
// wrapping ErrNotFound if there is no such entry.
func (s *Store) Attempted(ctx context.Context, callID string, seq int64, attempts int, nextAttempt time.Time, lastError string, gaveUp bool) error {
	return s.submit(ctx, func(w *writer) error {
		return w.recordAttempt(callID, seq, attempts, nextAttempt, lastError, gaveUp)
	})
}

func (w *writer) recordAttempt(callID string, seq int64, attempts int, nextAttempt time.Time, lastError string, gaveUp bool) error {
	res, err := w.exec(w.attempted, attempts, nanos(nextAttempt), lastError, gaveUp, callID, seq)
	if err != nil {
		return fmt.Errorf("sqlite: record attempt %s/%d: %w", callID, seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return nil
	}
	var status string
	err = w.outboxStatus.QueryRowContext(context.Background(), callID, seq).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s/%d", ErrNotFound, callID, seq)
	}
	if err != nil {
		return fmt.Errorf("sqlite: record attempt %s/%d: %w", callID, seq, err)
	}
	return nil
}
