package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

var _ idempotency.Store = (*Store)(nil)

// sweepIdempotency bounds the expired records each reservation deletes, so
// that the table is swept as it is used without any write growing large.
const sweepIdempotency = 64

const (
	sweepIdempotencySQL = `DELETE FROM idempotency WHERE rowid IN
	(SELECT rowid FROM idempotency WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`

	getIdempotencySQL = `SELECT request_hash, token, status, header, body, created_at, expires_at
FROM idempotency WHERE scope = ? AND key = ?`

	reserveIdempotencySQL = `INSERT INTO idempotency (scope, key, request_hash, token, status, header, body, created_at, expires_at)
VALUES (?, ?, ?, ?, NULL, NULL, NULL, ?, ?)
ON CONFLICT (scope, key) DO UPDATE SET
	request_hash = excluded.request_hash,
	token = excluded.token,
	status = NULL,
	header = NULL,
	body = NULL,
	created_at = excluded.created_at,
	expires_at = excluded.expires_at`

	completeIdempotencySQL = `UPDATE idempotency SET status = ?, header = ?, body = ?
WHERE scope = ? AND key = ? AND token = ? AND status IS NULL`

	releaseIdempotencySQL = `DELETE FROM idempotency WHERE scope = ? AND key = ? AND token = ? AND status IS NULL`

	countIdempotencySQL = `SELECT count(*) FROM idempotency WHERE scope = ?`

	// evictIdempotencySQL deletes a scope's oldest records that are not
	// reservations in flight: completed, expired or stale.
	evictIdempotencySQL = `DELETE FROM idempotency WHERE rowid IN
	(SELECT rowid FROM idempotency WHERE scope = ?
		AND (status IS NOT NULL OR expires_at <= ? OR created_at IS NULL OR created_at < ?)
	ORDER BY created_at LIMIT ?)`
)

// ReserveIdempotency implements idempotency.Store: the check, the quota
// and the reservation run in one write transaction, so of two concurrent
// reservations of a key exactly one succeeds, and a scope never holds more
// than quota records. Each call also deletes up to 64 records expired at
// now, so that expired keys are swept as keys are used, with no goroutine
// of its own.
func (s *Store) ReserveIdempotency(ctx context.Context, rec idempotency.Record, now, staleBefore time.Time, quota int) (idempotency.Record, bool, error) {
	if rec.Scope == "" || rec.Key == "" || rec.Token == "" {
		return idempotency.Record{}, false, errors.New("sqlite: idempotency reservation without scope, key or token")
	}
	if !rec.ExpiresAt.After(now) {
		return idempotency.Record{}, false, errors.New("sqlite: idempotency reservation that expires at once")
	}
	hash := bytes.Clone(rec.RequestHash)
	if hash == nil {
		hash = []byte{}
	}
	var existing idempotency.Record
	var reserved bool
	err := s.submit(ctx, func(w *writer) error {
		existing, reserved = idempotency.Record{}, false
		bg := context.Background() // the writer's work is never cancelled half-way
		if _, err := w.conn.ExecContext(bg, sweepIdempotencySQL, now.UnixNano(), sweepIdempotency); err != nil {
			return fmt.Errorf("sqlite: sweep idempotency records: %w", err)
		}
		old, found, err := scanIdempotency(w.conn.QueryRowContext(bg, getIdempotencySQL, rec.Scope, rec.Key))
		if err != nil {
			return fmt.Errorf("sqlite: read idempotency key %q: %w", rec.Key, err)
		}
		if found && old.ExpiresAt.After(now) && (old.Response != nil || !old.CreatedAt.Before(staleBefore)) {
			old.Scope, old.Key = rec.Scope, rec.Key
			existing = old
			return nil
		}
		if !found && quota > 0 {
			if err := makeIdempotencyRoom(w, rec.Scope, quota, now, staleBefore); err != nil {
				return err
			}
		}
		if _, err := w.conn.ExecContext(bg, reserveIdempotencySQL, rec.Scope, rec.Key, hash, rec.Token, nanos(rec.CreatedAt), rec.ExpiresAt.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: reserve idempotency key %q: %w", rec.Key, err)
		}
		reserved = true
		return nil
	})
	if err != nil {
		return idempotency.Record{}, false, err
	}
	return existing, reserved, nil
}

// makeIdempotencyRoom deletes scope's oldest records that are not in
// flight until it holds fewer than quota, or fails with ErrQuota.
func makeIdempotencyRoom(w *writer, scope string, quota int, now, staleBefore time.Time) error {
	bg := context.Background()
	var held int
	if err := w.conn.QueryRowContext(bg, countIdempotencySQL, scope).Scan(&held); err != nil {
		return fmt.Errorf("sqlite: count idempotency keys of %s: %w", scope, err)
	}
	excess := held - quota + 1
	if excess <= 0 {
		return nil
	}
	res, err := w.conn.ExecContext(bg, evictIdempotencySQL, scope, now.UnixNano(), staleBefore.UnixNano(), excess)
	if err != nil {
		return fmt.Errorf("sqlite: evict idempotency keys of %s: %w", scope, err)
	}
	if n, err := res.RowsAffected(); err != nil || n < int64(excess) {
		return fmt.Errorf("%w: scope %s holds %d keys in flight", idempotency.ErrQuota, scope, held-int(n))
	}
	return nil
}

// CompleteIdempotency implements idempotency.Store.
func (s *Store) CompleteIdempotency(ctx context.Context, scope, key, token string, resp idempotency.Response) error {
	if resp.Status < 100 || resp.Status > 999 {
		return fmt.Errorf("sqlite: idempotency response with status %d", resp.Status)
	}
	header := resp.Header
	if header == nil {
		header = map[string][]string{}
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("sqlite: encode idempotency response header: %w", err)
	}
	body := bytes.Clone(resp.Body)
	if body == nil {
		body = []byte{}
	}
	return s.submit(ctx, func(w *writer) error {
		res, err := w.conn.ExecContext(context.Background(), completeIdempotencySQL, resp.Status, string(hj), body, scope, key, token)
		if err != nil {
			return fmt.Errorf("sqlite: store response of idempotency key %q: %w", key, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("sqlite: idempotency key %q: %w", key, idempotency.ErrNotHeld)
		}
		return nil
	})
}

// ReleaseIdempotency implements idempotency.Store.
func (s *Store) ReleaseIdempotency(ctx context.Context, scope, key, token string) error {
	return s.submit(ctx, func(w *writer) error {
		res, err := w.conn.ExecContext(context.Background(), releaseIdempotencySQL, scope, key, token)
		if err != nil {
			return fmt.Errorf("sqlite: release idempotency key %q: %w", key, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("sqlite: idempotency key %q: %w", key, idempotency.ErrNotHeld)
		}
		return nil
	})
}

// scanIdempotency reads one row of getIdempotencySQL; found is false for
// no row.
func scanIdempotency(row *sql.Row) (rec idempotency.Record, found bool, err error) {
	var status sql.NullInt64
	var header sql.NullString
	var body []byte
	var created, expires sql.NullInt64
	err = row.Scan(&rec.RequestHash, &rec.Token, &status, &header, &body, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return idempotency.Record{}, false, nil
	}
	if err != nil {
		return idempotency.Record{}, false, err
	}
	rec.CreatedAt, rec.ExpiresAt = fromNanos(created), fromNanos(expires)
	if status.Valid {
		resp := &idempotency.Response{Status: int(status.Int64), Body: body}
		if resp.Body == nil {
			resp.Body = []byte{}
		}
		if header.Valid {
			if err := json.Unmarshal([]byte(header.String), &resp.Header); err != nil {
				return idempotency.Record{}, false, fmt.Errorf("decode stored header: %w", err)
			}
		}
		rec.Response = resp
	}
	return rec, true, nil
}
