package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

var (
	_ notify.Outbox          = (*Store)(nil)
	_ notify.PendingForCalls = (*Store)(nil)
)

const (
	pendingSQL = `SELECT call_id, seq, url, body, app_id, tenant_id, chain_id, created_at, attempts
FROM outbox WHERE status = 'pending' ORDER BY call_id, seq`

	// pendingForSQL reads the pending entries of a list of calls in one
	// statement, however long the list: the partial index outbox_pending
	// (call_id, seq) serves the lookup and the order.
	pendingForSQL = `SELECT call_id, seq, url, body, app_id, tenant_id, chain_id, created_at, attempts
FROM outbox WHERE status = 'pending' AND call_id = ANY ($1::text[]) ORDER BY call_id, seq`

	deliveredSQL = `UPDATE outbox SET status = 'delivered', delivered_at = $1, attempts = $2, next_attempt_at = NULL
WHERE call_id = $3 AND seq = $4`

	// attemptedSQL updates a pending entry and reports whether the entry
	// exists at all: one that is delivered or given up is left as it is.
	attemptedSQL = `WITH updated AS (
	UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3,
		status = CASE WHEN $4::boolean THEN 'gaveUp' ELSE status END
	WHERE call_id = $5 AND seq = $6 AND status = 'pending'
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM updated) OR EXISTS (SELECT 1 FROM outbox WHERE call_id = $5 AND seq = $6)`
)

// Pending returns every outbox entry neither delivered nor given up, ordered
// by CallID then Seq, with the attempts made so far.
func (s *Store) Pending(ctx context.Context) ([]notify.Delivery, error) {
	out, err := s.pending(ctx, pendingSQL)
	if err != nil {
		return nil, fmt.Errorf("postgres: load pending outbox: %w", err)
	}
	return out, nil
}

// PendingFor returns the outbox entries of the calls callIDs neither
// delivered nor given up, ordered by CallID then Seq, with the attempts
// made so far: the backlog of calls a node takes over. Unknown calls
// contribute nothing; no calls give an empty result. The entries are read
// in one statement, a consistent snapshot however many calls there are.
func (s *Store) PendingFor(ctx context.Context, callIDs []string) ([]notify.Delivery, error) {
	if len(callIDs) == 0 {
		return nil, nil
	}
	out, err := s.pending(ctx, pendingForSQL, callIDs)
	if err != nil {
		return nil, fmt.Errorf("postgres: load pending outbox of %d calls: %w", len(callIDs), err)
	}
	return out, nil
}

// pending runs query, one of pendingSQL and pendingForSQL.
func (s *Store) pending(ctx context.Context, query string, args ...any) ([]notify.Delivery, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		var d notify.Delivery
		var created *int64
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
	return s.Record(ctx, []notify.Result{{CallID: callID, Seq: seq, At: at, Attempts: attempts, Delivered: true}})
}

// Attempted records a failed attempt at the entry (callID, seq): the
// attempts so far, when to try next (zero for never), and the error. gaveUp
// finishes the entry without success; it is no longer pending. An entry that
// is already delivered or given up is left as it is. It returns an error
// wrapping ErrNotFound if there is no such entry.
func (s *Store) Attempted(ctx context.Context, callID string, seq int64, attempts int, nextAttempt time.Time, lastError string, gaveUp bool) error {
	return s.Record(ctx, []notify.Result{{CallID: callID, Seq: seq, Attempts: attempts, At: nextAttempt, LastError: lastError, GaveUp: gaveUp}})
}

// Record writes delivery results, in order, each as Delivered or Attempted
// would, in one transaction sent in one round trip. A result whose entry
// does not exist is skipped and reported, wrapping ErrNotFound, in the
// joined error; the others are written.
func (s *Store) Record(ctx context.Context, results []notify.Result) error {
	if len(results) == 0 {
		return nil
	}
	var missing []error
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		missing = missing[:0]
		b := &pgx.Batch{}
		for _, r := range results {
			notFound := func() { missing = append(missing, fmt.Errorf("%w: %s/%d", ErrNotFound, r.CallID, r.Seq)) }
			if r.Delivered {
				b.Queue(deliveredSQL, nanos(r.At), r.Attempts, r.CallID, r.Seq).Exec(func(tag pgconn.CommandTag) error {
					if tag.RowsAffected() == 0 {
						notFound()
					}
					return nil
				})
				continue
			}
			b.Queue(attemptedSQL, r.Attempts, nanos(r.At), r.LastError, r.GaveUp, r.CallID, r.Seq).QueryRow(func(row pgx.Row) error {
				var found bool
				if err := row.Scan(&found); err != nil {
					return err
				}
				if !found {
					notFound()
				}
				return nil
			})
		}
		return conn.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: record %d delivery results: %w", len(results), err)
	}
	return errors.Join(missing...)
}
