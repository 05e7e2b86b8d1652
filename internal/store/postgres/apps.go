package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

var _ auth.AppStore = (*Store)(nil)

// Client ids compare case-insensitively: every lookup goes through
// lower(), which the unique index apps_client_id_lower serves.
const (
	insertAppSQL = `INSERT INTO apps (client_id, tenant_id, display_name, roles, webhook_url, created_at) VALUES ($1, $2, $3, $4, $5, $6)`

	insertSecretSQL = `INSERT INTO app_secrets (id, client_id, sha256, hint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`

	insertCertificateSQL = `INSERT INTO app_certificates (client_id, x5t, x5t_s256, pem, created_at) VALUES ($1, $2, $3, $4, $5)`

	// addSecretSQL inserts the secret under the client id as stored, and
	// nothing when there is no such application.
	addSecretSQL = `INSERT INTO app_secrets (id, client_id, sha256, hint, created_at, expires_at)
SELECT $1, client_id, $3, $4, $5, $6 FROM apps WHERE lower(client_id) = lower($2::text COLLATE "C")`

	addCertificateSQL = `INSERT INTO app_certificates (client_id, x5t, x5t_s256, pem, created_at)
SELECT client_id, $2, $3, $4, $5 FROM apps WHERE lower(client_id) = lower($1::text COLLATE "C")`

	// removeSecretsSQL reports whether the application exists and how many
	// secrets it removed.
	removeSecretsSQL = `WITH app AS (
	SELECT client_id FROM apps WHERE lower(client_id) = lower($1::text COLLATE "C")
), removed AS (
	DELETE FROM app_secrets WHERE client_id IN (SELECT client_id FROM app) AND NOT (id = ANY ($2::text[]))
	RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM app), (SELECT count(*) FROM removed)`

	deleteAppSQL = `DELETE FROM apps WHERE lower(client_id) = lower($1::text COLLATE "C")`

	// The reads take a WHERE clause on client_id, or none.
	whereApp      = ` WHERE lower(client_id) = lower($1::text COLLATE "C")`
	whereAppOwns  = ` WHERE client_id IN (SELECT client_id FROM apps` + whereApp + `)`
	selectAppsSQL = `SELECT client_id, tenant_id, display_name, roles, webhook_url, created_at FROM apps`

	selectSecretsSQL = `SELECT client_id, id, sha256, hint, created_at, expires_at FROM app_secrets`

	selectCertificatesSQL = `SELECT client_id, x5t, x5t_s256, pem, created_at FROM app_certificates`
)

// CreateApp stores a new application with its secrets and certificates, in
// one transaction sent in one round trip. It fails with auth.ErrAppExists
// if the client id (in any case) is registered.
func (s *Store) CreateApp(ctx context.Context, a auth.App) error {
	if a.ClientID == "" {
		return errors.New("postgres: application without client id")
	}
	roles, err := json.Marshal(nonNil(a.Roles))
	if err != nil {
		return fmt.Errorf("postgres: encode roles: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(insertAppSQL, a.ClientID, a.TenantID, a.DisplayName, string(roles), a.WebhookURL, nanos(a.CreatedAt))
	for _, sec := range a.Secrets {
		b.Queue(insertSecretSQL, sec.ID, a.ClientID, nonNilBytes(sec.Hash), sec.Hint, nanos(sec.CreatedAt), nanos(sec.ExpiresAt))
	}
	for _, c := range a.Certificates {
		b.Queue(insertCertificateSQL, a.ClientID, c.X5T, c.X5TS256, string(c.PEM), nanos(c.CreatedAt))
	}
	err = s.sendBatch(ctx, b)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.TableName == "apps" {
		return fmt.Errorf("postgres: create app %s: %w", a.ClientID, auth.ErrAppExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: create app %s: %w", a.ClientID, err)
	}
	return nil
}

// GetApp returns the application with its secrets and certificates, read in
// one snapshot, or an error matching auth.ErrAppNotFound.
func (s *Store) GetApp(ctx context.Context, clientID string) (auth.App, error) {
	apps, err := s.readApps(ctx, &clientID)
	if err != nil {
		return auth.App{}, err
	}
	if len(apps) == 0 {
		return auth.App{}, fmt.Errorf("postgres: app %s: %w", clientID, auth.ErrAppNotFound)
	}
	return apps[0], nil
}

// ListApps returns every application, oldest first, then by client id.
func (s *Store) ListApps(ctx context.Context) ([]auth.App, error) {
	return s.readApps(ctx, nil)
}

// readApps reads the application clientID names (in any case), or every
// application when clientID is nil, with their secrets and certificates:
// three queries in one repeatable-read transaction, so that they agree,
// sent in one round trip.
func (s *Store) readApps(ctx context.Context, clientID *string) ([]auth.App, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	var where, whereOwned string
	var args []any
	if clientID != nil {
		where, whereOwned, args = whereApp, whereAppOwns, []any{*clientID}
	}
	var out []auth.App
	byID := map[string]int{} // client id as stored -> index in out
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	b.Queue(selectAppsSQL+where+` ORDER BY created_at NULLS FIRST, client_id`, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var a auth.App
			var roles string
			var created *int64
			if err := rows.Scan(&a.ClientID, &a.TenantID, &a.DisplayName, &roles, &a.WebhookURL, &created); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(roles), &a.Roles); err != nil {
				return fmt.Errorf("app %s: roles: %w", a.ClientID, err)
			}
			a.CreatedAt = fromNanos(created)
			byID[a.ClientID] = len(out)
			out = append(out, a)
		}
		return rows.Err()
	})
	b.Queue(selectSecretsSQL+whereOwned+` ORDER BY created_at NULLS FIRST, id`, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var clientID string
			var sec auth.Secret
			var created, expires *int64
			if err := rows.Scan(&clientID, &sec.ID, &sec.Hash, &sec.Hint, &created, &expires); err != nil {
				return err
			}
			sec.CreatedAt, sec.ExpiresAt = fromNanos(created), fromNanos(expires)
			if i, ok := byID[clientID]; ok {
				out[i].Secrets = append(out[i].Secrets, sec)
			}
		}
		return rows.Err()
	})
	b.Queue(selectCertificatesSQL+whereOwned+` ORDER BY created_at NULLS FIRST, x5t_s256`, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var clientID, pem string
			var c auth.Certificate
			var created *int64
			if err := rows.Scan(&clientID, &c.X5T, &c.X5TS256, &pem, &created); err != nil {
				return err
			}
			c.PEM, c.CreatedAt = []byte(pem), fromNanos(created)
			if i, ok := byID[clientID]; ok {
				out[i].Certificates = append(out[i].Certificates, c)
			}
		}
		return rows.Err()
	})
	// Ending the transaction in the batch saves a round trip; the deferred
	// Rollback then only returns the connection, unless the batch failed
	// half-way and left the transaction open.
	b.Queue(`COMMIT`)
	br := s.pool.SendBatch(ctx, b)
	defer br.Tx().Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to lose
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("postgres: read apps: %w", err)
	}
	return out, nil
}

// DeleteApp removes the application; its secrets and certificates go with
// it (ON DELETE CASCADE).
func (s *Store) DeleteApp(ctx context.Context, clientID string) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, deleteAppSQL, clientID)
		if err != nil {
			return fmt.Errorf("postgres: delete app %s: %w", clientID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: delete app %s: %w", clientID, auth.ErrAppNotFound)
		}
		return nil
	})
}

// AddSecret adds a secret to the application.
func (s *Store) AddSecret(ctx context.Context, clientID string, sec auth.Secret) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, addSecretSQL, sec.ID, clientID, nonNilBytes(sec.Hash), sec.Hint, nanos(sec.CreatedAt), nanos(sec.ExpiresAt))
		if err != nil {
			return fmt.Errorf("postgres: add secret to app %s: %w", clientID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: app %s: %w", clientID, auth.ErrAppNotFound)
		}
		return nil
	})
}

// RemoveSecrets removes the application's secrets except those whose ID is
// in except, and returns how many it removed.
func (s *Store) RemoveSecrets(ctx context.Context, clientID string, except ...string) (int, error) {
	var found bool
	var removed int
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.QueryRow(ctx, removeSecretsSQL, clientID, nonNil(except)).Scan(&found, &removed)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: remove secrets of app %s: %w", clientID, err)
	}
	if !found {
		return 0, fmt.Errorf("postgres: app %s: %w", clientID, auth.ErrAppNotFound)
	}
	return removed, nil
}

// AddCertificate adds a certificate to the application; it fails with
// auth.ErrCertificateExists if the application has one with the same
// X5TS256.
func (s *Store) AddCertificate(ctx context.Context, clientID string, c auth.Certificate) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, addCertificateSQL, clientID, c.X5T, c.X5TS256, string(c.PEM), nanos(c.CreatedAt))
		switch {
		case isUniqueViolation(err):
			return fmt.Errorf("postgres: add certificate to app %s: %w", clientID, auth.ErrCertificateExists)
		case err != nil:
			return fmt.Errorf("postgres: add certificate to app %s: %w", clientID, err)
		case tag.RowsAffected() == 0:
			return fmt.Errorf("postgres: app %s: %w", clientID, auth.ErrAppNotFound)
		}
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nonNilBytes keeps an empty value from binding as NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
