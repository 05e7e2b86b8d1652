package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

const (
	// A NULL limit is no limit.
	notificationsSQL = `SELECT call_id, seq, url, body, app_id, tenant_id, chain_id, created_at, attempts,
	status, last_error, delivered_at, next_attempt_at
FROM outbox WHERE call_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`

	callOwnerSQL = `SELECT tenant_id, app_id FROM calls WHERE id = $1`
)

// Notifications returns the outbox rows of the call callID whose Seq is at
// least fromSeq, in Seq order, at most limit of them (limit <= 0 means no
// limit), with their delivery state. A call without rows, or no call at all,
// gives an empty list.
func (s *Store) Notifications(ctx context.Context, callID string, fromSeq int64, limit int) ([]notify.Entry, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	var lim any
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, notificationsSQL, callID, fromSeq, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: list notifications of %s: %w", callID, err)
	}
	defer rows.Close()
	var out []notify.Entry
	for rows.Next() {
		var e notify.Entry
		var created, delivered, next *int64
		var status string
		if err := rows.Scan(&e.CallID, &e.Seq, &e.URL, &e.Body, &e.AppID, &e.TenantID, &e.ChainID, &created, &e.Attempts,
			&status, &e.LastError, &delivered, &next); err != nil {
			return nil, fmt.Errorf("postgres: list notifications of %s: %w", callID, err)
		}
		if e.Status, err = notify.ParseStatus(status); err != nil {
			return nil, fmt.Errorf("postgres: notification %s/%d: %w", callID, e.Seq, err)
		}
		e.CreatedAt, e.DeliveredAt, e.NextAttemptAt = fromNanos(created), fromNanos(delivered), fromNanos(next)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list notifications of %s: %w", callID, err)
	}
	return out, nil
}

// CallOwner returns the tenant and application of the call callID, ended
// or not, as of the last Commit that returned. For an unknown call it
// returns an error wrapping calls.ErrNotFound.
func (s *Store) CallOwner(ctx context.Context, callID string) (tenantID, appID string, err error) {
	done, err := s.use()
	if err != nil {
		return "", "", err
	}
	defer done()
	err = s.pool.QueryRow(ctx, callOwnerSQL, callID).Scan(&tenantID, &appID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", fmt.Errorf("postgres: call %s: %w", callID, calls.ErrNotFound)
	case err != nil:
		return "", "", fmt.Errorf("postgres: look up call %s: %w", callID, err)
	}
	return tenantID, appID, nil
}
