package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/recordings"
)

var _ recordings.Index = (*Store)(nil)

// PutRecording implements recordings.Index.
func (s *Store) PutRecording(ctx context.Context, m recordings.Meta) error {
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO recordings (id, token_sha256, tenant_id, app_id, call_id, operation_id, node_address, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.ID, m.TokenSHA256, m.TenantID, m.AppID, m.CallID, m.OperationID, m.Node, m.Expires.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: put recording %s: %w", m.ID, err)
	}
	return nil
}

// GetRecording implements recordings.Index.
func (s *Store) GetRecording(ctx context.Context, id string) (recordings.Meta, error) {
	done, err := s.use()
	if err != nil {
		return recordings.Meta{}, err
	}
	defer done()
	m := recordings.Meta{ID: id}
	var expires int64
	err = s.pool.QueryRow(ctx, `SELECT token_sha256, tenant_id, app_id, call_id, operation_id, node_address, expires_at
FROM recordings WHERE id = $1`, id).Scan(&m.TokenSHA256, &m.TenantID, &m.AppID, &m.CallID, &m.OperationID, &m.Node, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return recordings.Meta{}, recordings.ErrNotFound
	}
	if err != nil {
		return recordings.Meta{}, fmt.Errorf("postgres: get recording %s: %w", id, err)
	}
	m.Expires = time.Unix(0, expires).UTC()
	return m, nil
}

// SweepRecordings implements recordings.Index.
func (s *Store) SweepRecordings(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, `DELETE FROM recordings WHERE expires_at <= $1`, now.UnixNano())
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: sweep recordings: %w", err)
	}
	return int(n), nil
}
