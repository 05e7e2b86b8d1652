package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

var _ idempotency.Store = (*Store)(nil)

// sweepIdempotency bounds the expired records each reservation deletes, so
// that the table is swept as it is used without any write growing large.
const sweepIdempotency = 64

const (
	// lockIdempotencyScopeSQL serialises the reservations of one scope, so
	// that the check of a key and the scope's quota hold until the
	// transaction ends (and with it the lock).
	lockIdempotencyScopeSQL = `SELECT pg_advisory_xact_lock(hashtextextended('switchboard idempotency ' || $1::text, 0))`

	// Expired records are deleted whatever their scope; one that another
	// transaction holds is left for a later sweep.
	sweepIdempotencySQL = `DELETE FROM idempotency WHERE (scope, key) IN
	(SELECT scope, key FROM idempotency WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`

	getIdempotencySQL = `SELECT request_hash, token, status, header, body, created_at, expires_at
FROM idempotency WHERE scope = $1 AND key = $2`

	countIdempotencySQL = `SELECT count(*) FROM idempotency WHERE scope = $1`

	// evictIdempotencySQL deletes a scope's oldest records that are not
	// reservations in flight: completed, expired or stale.
	evictIdempotencySQL = `DELETE FROM idempotency WHERE (scope, key) IN
	(SELECT scope, key FROM idempotency WHERE scope = $1
		AND (status IS NOT NULL OR expires_at <= $2 OR created_at IS NULL OR created_at < $3)
	ORDER BY created_at NULLS FIRST LIMIT $4)`

	reserveIdempotencySQL = `INSERT INTO idempotency (scope, key, request_hash, token, status, header, body, created_at, expires_at)
VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $5, $6)
ON CONFLICT (scope, key) DO UPDATE SET
	request_hash = excluded.request_hash,
	token = excluded.token,
	status = NULL,
	header = NULL,
	body = NULL,
	created_at = excluded.created_at,
	expires_at = excluded.expires_at`

	completeIdempotencySQL = `UPDATE idempotency SET status = $1, header = $2, body = $3
WHERE scope = $4 AND key = $5 AND token = $6 AND status IS NULL`

	releaseIdempotencySQL = `DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND token = $3 AND status IS NULL`
)

// ReserveIdempotency implements idempotency.Store: the check, the quota
// and the reservation run in one transaction holding a lock on the scope,
// so of two concurrent reservations of a key, on any nodes, exactly one
// succeeds, and a scope never holds more than quota records. Each call
// also deletes up to 64 records expired at now, so that expired keys are
// swept as keys are used, with no goroutine of its own. It takes two round
// trips, three when it must make room.
func (s *Store) ReserveIdempotency(ctx context.Context, rec idempotency.Record, now, staleBefore time.Time, quota int) (idempotency.Record, bool, error) {
	if rec.Scope == "" || rec.Key == "" || rec.Token == "" {
		return idempotency.Record{}, false, errors.New("postgres: idempotency reservation without scope, key or token")
	}
	if !rec.ExpiresAt.After(now) {
		return idempotency.Record{}, false, errors.New("postgres: idempotency reservation that expires at once")
	}
	hash := nonNilBytes(rec.RequestHash)
	var existing idempotency.Record
	var reserved bool
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		defer endTx(ctx, conn)
		var old idempotency.Record
		var found bool
		var held int
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(lockIdempotencyScopeSQL, rec.Scope)
		b.Queue(sweepIdempotencySQL, now.UnixNano(), sweepIdempotency)
		b.Queue(getIdempotencySQL, rec.Scope, rec.Key).QueryRow(func(row pgx.Row) (err error) {
			old, found, err = scanIdempotency(row)
			return err
		})
		b.Queue(countIdempotencySQL, rec.Scope).QueryRow(func(row pgx.Row) error { return row.Scan(&held) })
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: read idempotency key %q: %w", rec.Key, err)
		}
		if found && old.ExpiresAt.After(now) && (old.Response != nil || !old.CreatedAt.Before(staleBefore)) {
			old.Scope, old.Key = rec.Scope, rec.Key
			existing = old
			if _, err := conn.Exec(ctx, `COMMIT`); err != nil { // the sweep
				return fmt.Errorf("postgres: read idempotency key %q: %w", rec.Key, err)
			}
			return nil
		}
		if excess := held - quota + 1; !found && quota > 0 && excess > 0 {
			tag, err := conn.Exec(ctx, evictIdempotencySQL, rec.Scope, now.UnixNano(), staleBefore.UnixNano(), excess)
			if err != nil {
				return fmt.Errorf("postgres: evict idempotency keys of %s: %w", rec.Scope, err)
			}
			if n := int(tag.RowsAffected()); n < excess {
				return fmt.Errorf("%w: scope %s holds %d keys in flight", idempotency.ErrQuota, rec.Scope, held-n)
			}
		}
		b = &pgx.Batch{}
		b.Queue(reserveIdempotencySQL, rec.Scope, rec.Key, hash, rec.Token, nanos(rec.CreatedAt), rec.ExpiresAt.UnixNano())
		b.Queue(`COMMIT`)
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: reserve idempotency key %q: %w", rec.Key, err)
		}
		reserved = true
		return nil
	})
	if err != nil {
		return idempotency.Record{}, false, err
	}
	return existing, reserved, nil
}

// CompleteIdempotency implements idempotency.Store.
func (s *Store) CompleteIdempotency(ctx context.Context, scope, key, token string, resp idempotency.Response) error {
	if resp.Status < 100 || resp.Status > 999 {
		return fmt.Errorf("postgres: idempotency response with status %d", resp.Status)
	}
	header := resp.Header
	if header == nil {
		header = map[string][]string{}
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("postgres: encode idempotency response header: %w", err)
	}
	body := nonNilBytes(resp.Body)
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, completeIdempotencySQL, resp.Status, string(hj), body, scope, key, token)
		if err != nil {
			return fmt.Errorf("postgres: store response of idempotency key %q: %w", key, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: idempotency key %q: %w", key, idempotency.ErrNotHeld)
		}
		return nil
	})
}

// ReleaseIdempotency implements idempotency.Store.
func (s *Store) ReleaseIdempotency(ctx context.Context, scope, key, token string) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, releaseIdempotencySQL, scope, key, token)
		if err != nil {
			return fmt.Errorf("postgres: release idempotency key %q: %w", key, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: idempotency key %q: %w", key, idempotency.ErrNotHeld)
		}
		return nil
	})
}

// scanIdempotency reads one row of getIdempotencySQL; found is false for
// no row.
func scanIdempotency(row pgx.Row) (rec idempotency.Record, found bool, err error) {
	var status *int32
	var header *string
	var body []byte
	var created, expires *int64
	err = row.Scan(&rec.RequestHash, &rec.Token, &status, &header, &body, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return idempotency.Record{}, false, nil
	}
	if err != nil {
		return idempotency.Record{}, false, err
	}
	rec.CreatedAt, rec.ExpiresAt = fromNanos(created), fromNanos(expires)
	if status != nil {
		resp := &idempotency.Response{Status: int(*status), Body: bytes.Clone(body)}
		if resp.Body == nil {
			resp.Body = []byte{}
		}
		if header != nil {
			if err := json.Unmarshal([]byte(*header), &resp.Header); err != nil {
				return idempotency.Record{}, false, fmt.Errorf("decode stored header: %w", err)
			}
		}
		rec.Response = resp
	}
	return rec, true, nil
}

// endTx rolls back the transaction that a failed step left open on conn,
// before the connection goes back to the pool (which would otherwise
// close it).
func endTx(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
	}
}
