package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

var _ auth.KeyStore = (*Store)(nil)

const (
	upsertKeySQL = `INSERT INTO signing_keys (id, private_pem, created_at) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET private_pem = excluded.private_pem, created_at = excluded.created_at`

	loadKeysSQL = `SELECT id, private_pem, created_at FROM signing_keys ORDER BY created_at NULLS FIRST, id`
)

// LoadKeys returns every stored signing key, oldest first.
func (s *Store) LoadKeys(ctx context.Context) ([]auth.StoredKey, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, loadKeysSQL)
	if err != nil {
		return nil, fmt.Errorf("postgres: load signing keys: %w", err)
	}
	defer rows.Close()
	var out []auth.StoredKey
	for rows.Next() {
		var k auth.StoredKey
		var created *int64
		if err := rows.Scan(&k.ID, &k.PrivateKeyPEM, &created); err != nil {
			return nil, fmt.Errorf("postgres: load signing keys: %w", err)
		}
		k.CreatedAt = fromNanos(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: load signing keys: %w", err)
	}
	return out, nil
}

// SaveKey stores k, replacing a stored key with the same ID.
func (s *Store) SaveKey(ctx context.Context, k auth.StoredKey) error {
	if k.ID == "" {
		return fmt.Errorf("postgres: signing key without id")
	}
	pem := k.PrivateKeyPEM
	if pem == nil {
		pem = []byte{}
	}
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		if _, err := conn.Exec(ctx, upsertKeySQL, k.ID, pem, nanos(k.CreatedAt)); err != nil {
			return fmt.Errorf("postgres: save signing key %s: %w", k.ID, err)
		}
		return nil
	})
}

// DeleteKey removes the signing key with the given id; a key that is not
// stored is no error.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		if _, err := conn.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id); err != nil {
			return fmt.Errorf("postgres: delete signing key %s: %w", id, err)
		}
		return nil
	})
}
