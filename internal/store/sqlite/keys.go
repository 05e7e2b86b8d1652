package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

var _ auth.KeyStore = (*Store)(nil)

const (
	upsertKeySQL = `INSERT INTO signing_keys (id, private_pem, created_at) VALUES (?, ?, ?)
ON CONFLICT (id) DO UPDATE SET private_pem = excluded.private_pem, created_at = excluded.created_at`

	loadKeysSQL = `SELECT id, private_pem, created_at FROM signing_keys ORDER BY created_at, id`
)

// LoadKeys returns every stored signing key, oldest first.
func (s *Store) LoadKeys(ctx context.Context) ([]auth.StoredKey, error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.read.loadKeys.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load signing keys: %w", err)
	}
	defer rows.Close()
	var out []auth.StoredKey
	for rows.Next() {
		var k auth.StoredKey
		var created sql.NullInt64
		if err := rows.Scan(&k.ID, &k.PrivateKeyPEM, &created); err != nil {
			return nil, fmt.Errorf("sqlite: load signing keys: %w", err)
		}
		k.CreatedAt = fromNanos(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load signing keys: %w", err)
	}
	return out, nil
}

// SaveKey stores k durably, replacing a stored key with the same ID.
func (s *Store) SaveKey(ctx context.Context, k auth.StoredKey) error {
	if k.ID == "" {
		return fmt.Errorf("sqlite: signing key without id")
	}
	pem := k.PrivateKeyPEM
	if pem == nil {
		pem = []byte{}
	}
	pem = append([]byte(nil), pem...)
	return s.submit(ctx, func(w *writer) error {
		if _, err := w.exec(w.upsertKey, k.ID, pem, nanos(k.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: save signing key %s: %w", k.ID, err)
		}
		return nil
	})
}

// DeleteKey removes the signing key with the given id; a key that is not
// stored is no error.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	return s.submit(ctx, func(w *writer) error {
		if _, err := w.execSQL(`DELETE FROM signing_keys WHERE id = ?`, id); err != nil {
			return fmt.Errorf("sqlite: delete signing key %s: %w", id, err)
		}
		return nil
	})
}
