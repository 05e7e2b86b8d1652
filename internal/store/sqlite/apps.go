package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

var _ auth.AppStore = (*Store)(nil)

const (
	selectAppSQL = `SELECT client_id, tenant_id, display_name, roles, webhook_url, created_at FROM apps`

	selectSecretsSQL = `SELECT client_id, id, sha256, hint, created_at, expires_at FROM app_secrets`

	selectCertificatesSQL = `SELECT client_id, x5t, x5t_s256, pem, created_at FROM app_certificates`
)

// CreateApp stores a new application with its secrets and certificates, in
// one transaction. It fails with auth.ErrAppExists if the client id (in any
// case) is registered.
func (s *Store) CreateApp(ctx context.Context, a auth.App) error {
	if a.ClientID == "" {
		return errors.New("sqlite: application without client id")
	}
	roles, err := json.Marshal(nonNil(a.Roles))
	if err != nil {
		return fmt.Errorf("sqlite: encode roles: %w", err)
	}
	a.Secrets = cloneSecrets(a.Secrets)
	a.Certificates = cloneCertificates(a.Certificates)
	return s.submit(ctx, func(w *writer) error {
		if _, err := existingClientID(w, a.ClientID); err == nil {
			return fmt.Errorf("sqlite: create app %s: %w", a.ClientID, auth.ErrAppExists)
		} else if !errors.Is(err, auth.ErrAppNotFound) {
			return err
		}
		if _, err := w.execSQL(`INSERT INTO apps (client_id, tenant_id, display_name, roles, webhook_url, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			a.ClientID, a.TenantID, a.DisplayName, string(roles), a.WebhookURL, nanos(a.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: create app %s: %w", a.ClientID, err)
		}
		for _, sec := range a.Secrets {
			if err := insertSecret(w, a.ClientID, sec); err != nil {
				return err
			}
		}
		for _, c := range a.Certificates {
			if err := insertCertificate(w, a.ClientID, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetApp returns the application with its secrets and certificates, read in
// one snapshot, or an error matching auth.ErrAppNotFound.
func (s *Store) GetApp(ctx context.Context, clientID string) (auth.App, error) {
	apps, err := s.readApps(ctx, ` WHERE client_id = ?`, clientID)
	if err != nil {
		return auth.App{}, err
	}
	if len(apps) == 0 {
		return auth.App{}, fmt.Errorf("sqlite: app %s: %w", clientID, auth.ErrAppNotFound)
	}
	return apps[0], nil
}

// ListApps returns every application, oldest first, then by client id.
func (s *Store) ListApps(ctx context.Context) ([]auth.App, error) {
	return s.readApps(ctx, ``)
}

// readApps reads the applications matching where (a WHERE clause on
// client_id, or empty for all) with their secrets and certificates, in one
// read transaction so that the three queries agree.
func (s *Store) readApps(ctx context.Context, where string, args ...any) (out []auth.App, err error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	tx, err := s.readDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read apps: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose

	byID := map[string]int{} // client id as stored -> index in out
	err = queryRows(ctx, tx, selectAppSQL+where+` ORDER BY created_at, client_id`, args, func(rows *sql.Rows) error {
		var a auth.App
		var roles string
		var created sql.NullInt64
		if err := rows.Scan(&a.ClientID, &a.TenantID, &a.DisplayName, &roles, &a.WebhookURL, &created); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(roles), &a.Roles); err != nil {
			return fmt.Errorf("app %s: roles: %w", a.ClientID, err)
		}
		a.CreatedAt = fromNanos(created)
		byID[a.ClientID] = len(out)
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read apps: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	err = queryRows(ctx, tx, selectSecretsSQL+where+` ORDER BY created_at, id`, args, func(rows *sql.Rows) error {
		var clientID string
		var sec auth.Secret
		var created, expires sql.NullInt64
		if err := rows.Scan(&clientID, &sec.ID, &sec.Hash, &sec.Hint, &created, &expires); err != nil {
			return err
		}
		sec.CreatedAt, sec.ExpiresAt = fromNanos(created), fromNanos(expires)
		if i, ok := byID[clientID]; ok {
			out[i].Secrets = append(out[i].Secrets, sec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read app secrets: %w", err)
	}
	err = queryRows(ctx, tx, selectCertificatesSQL+where+` ORDER BY created_at, x5t_s256`, args, func(rows *sql.Rows) error {
		var clientID, pem string
		var c auth.Certificate
		var created sql.NullInt64
		if err := rows.Scan(&clientID, &c.X5T, &c.X5TS256, &pem, &created); err != nil {
			return err
		}
		c.PEM, c.CreatedAt = []byte(pem), fromNanos(created)
		if i, ok := byID[clientID]; ok {
			out[i].Certificates = append(out[i].Certificates, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read app certificates: %w", err)
	}
	return out, nil
}

// queryRows runs query in tx and calls scan for each row.
func queryRows(ctx context.Context, tx *sql.Tx, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DeleteApp removes the application; its secrets and certificates go with
// it (ON DELETE CASCADE).
func (s *Store) DeleteApp(ctx context.Context, clientID string) error {
	return s.submit(ctx, func(w *writer) error {
		res, err := w.execSQL(`DELETE FROM apps WHERE client_id = ?`, clientID)
		if err != nil {
			return fmt.Errorf("sqlite: delete app %s: %w", clientID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: delete app %s: %w", clientID, err)
		} else if n == 0 {
			return fmt.Errorf("sqlite: delete app %s: %w", clientID, auth.ErrAppNotFound)
		}
		return nil
	})
}

// AddSecret adds a secret to the application.
func (s *Store) AddSecret(ctx context.Context, clientID string, sec auth.Secret) error {
	sec = cloneSecrets([]auth.Secret{sec})[0]
	return s.submit(ctx, func(w *writer) error {
		id, err := existingClientID(w, clientID)
		if err != nil {
			return err
		}
		return insertSecret(w, id, sec)
	})
}

// RemoveSecrets removes the application's secrets except those whose ID is
// in except, and returns how many it removed.
func (s *Store) RemoveSecrets(ctx context.Context, clientID string, except ...string) (int, error) {
	keep, err := json.Marshal(nonNil(except))
	if err != nil {
		return 0, fmt.Errorf("sqlite: encode secret ids: %w", err)
	}
	var removed int64
	err = s.submit(ctx, func(w *writer) error {
		removed = 0
		id, err := existingClientID(w, clientID)
		if err != nil {
			return err
		}
		res, err := w.execSQL(`DELETE FROM app_secrets WHERE client_id = ? AND id NOT IN (SELECT value FROM json_each(?))`, id, string(keep))
		if err != nil {
			return fmt.Errorf("sqlite: remove secrets of app %s: %w", clientID, err)
		}
		removed, err = res.RowsAffected()
		return err
	})
	return int(removed), err
}

// AddCertificate adds a certificate to the application; it fails with
// auth.ErrCertificateExists if the application has one with the same
// X5TS256.
func (s *Store) AddCertificate(ctx context.Context, clientID string, c auth.Certificate) error {
	c = cloneCertificates([]auth.Certificate{c})[0]
	return s.submit(ctx, func(w *writer) error {
		id, err := existingClientID(w, clientID)
		if err != nil {
			return err
		}
		var n int
		if err := w.queryRow(`SELECT count(*) FROM app_certificates WHERE client_id = ? AND x5t_s256 = ?`, id, c.X5TS256).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: add certificate to app %s: %w", clientID, err)
		}
		if n > 0 {
			return fmt.Errorf("sqlite: add certificate to app %s: %w", clientID, auth.ErrCertificateExists)
		}
		return insertCertificate(w, id, c)
	})
}

// existingClientID returns the client id as stored of the application that
// clientID names in any case, or an error matching auth.ErrAppNotFound.
func existingClientID(w *writer, clientID string) (string, error) {
	var id string
	err := w.queryRow(`SELECT client_id FROM apps WHERE client_id = ?`, clientID).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("sqlite: app %s: %w", clientID, auth.ErrAppNotFound)
	case err != nil:
		return "", fmt.Errorf("sqlite: look up app %s: %w", clientID, err)
	}
	return id, nil
}

func insertSecret(w *writer, clientID string, sec auth.Secret) error {
	if _, err := w.execSQL(`INSERT INTO app_secrets (id, client_id, sha256, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		sec.ID, clientID, sec.Hash, sec.Hint, nanos(sec.CreatedAt), nanos(sec.ExpiresAt)); err != nil {
		return fmt.Errorf("sqlite: add secret to app %s: %w", clientID, err)
	}
	return nil
}

func insertCertificate(w *writer, clientID string, c auth.Certificate) error {
	if _, err := w.execSQL(`INSERT INTO app_certificates (client_id, x5t, x5t_s256, pem, created_at) VALUES (?, ?, ?, ?, ?)`,
		clientID, c.X5T, c.X5TS256, string(c.PEM), nanos(c.CreatedAt)); err != nil {
		return fmt.Errorf("sqlite: add certificate to app %s: %w", clientID, err)
	}
	return nil
}

// cloneSecrets copies secrets so that a caller changing its slices after a
// write is queued cannot change what is written.
func cloneSecrets(in []auth.Secret) []auth.Secret {
	out := make([]auth.Secret, len(in))
	for i, sec := range in {
		sec.Hash = append([]byte(nil), sec.Hash...)
		out[i] = sec
	}
	return out
}

func cloneCertificates(in []auth.Certificate) []auth.Certificate {
	out := make([]auth.Certificate, len(in))
	for i, c := range in {
		c.PEM = append([]byte(nil), c.PEM...)
		out[i] = c
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
