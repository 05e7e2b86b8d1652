package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/phones"
)

var _ phones.Accounts = (*Store)(nil)

// Usernames, identity ids and tenants compare case-insensitively, through
// lower() (ASCII letters, as the columns are COLLATE "C").
const (
	selectSIPAccountSQL = `SELECT username, realm, ha1, ha1_sha256, identity_kind, identity_id, display_name, tenant, created_at FROM sip_accounts`

	insertSIPAccountSQL = `INSERT INTO sip_accounts (username, realm, ha1, ha1_sha256, identity_kind, identity_id, display_name, tenant, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

	whereSIPUsername = ` WHERE lower(username) = lower($1::text COLLATE "C")`

	sipAccountBoundSQL = `SELECT EXISTS (SELECT 1 FROM sip_accounts
WHERE identity_kind = $1 AND lower(identity_id) = lower($2::text COLLATE "C")
	AND (tenant = '' OR $3 = '' OR lower(tenant) = lower($3::text COLLATE "C")))`
)

// CreateSIPAccount stores a new SIP account. It fails with
// phones.ErrAccountExists if the username (in any case) is taken. The
// account must carry its HA1 and no password, and exactly one identity.
func (s *Store) CreateSIPAccount(ctx context.Context, a phones.StoredAccount) error {
	if a.Password != "" {
		return errors.New("postgres: a SIP account is stored with its hashes, not its password")
	}
	id := a.Identity()
	if a.Username == "" || id.ID == "" || (a.User != "" && a.Phone != "") {
		return errors.New("postgres: a SIP account needs a username and one identity")
	}
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		_, err := conn.Exec(ctx, insertSIPAccountSQL,
			a.Username, a.Realm, a.HA1, a.HA1SHA256, id.Kind.String(), id.ID, a.DisplayName, a.Tenant, nanos(a.CreatedAt))
		switch {
		case isUniqueViolation(err):
			return fmt.Errorf("postgres: create SIP account %s: %w", a.Username, phones.ErrAccountExists)
		case err != nil:
			return fmt.Errorf("postgres: create SIP account %s: %w", a.Username, err)
		}
		return nil
	})
}

// SIPAccount returns the account with the username, in any case, or an
// error matching phones.ErrNoAccount.
func (s *Store) SIPAccount(ctx context.Context, username string) (phones.StoredAccount, error) {
	as, err := s.readSIPAccounts(ctx, whereSIPUsername, username)
	if err != nil {
		return phones.StoredAccount{}, err
	}
	if len(as) == 0 {
		return phones.StoredAccount{}, fmt.Errorf("postgres: SIP account %s: %w", username, phones.ErrNoAccount)
	}
	return as[0], nil
}

// SIPAccountBound reports whether an account is bound to the identity (see
// phones.Accounts); the identity's id is compared case-insensitively, and
// a phone number must come normalised.
func (s *Store) SIPAccountBound(ctx context.Context, id phones.Identity) (bool, error) {
	done, err := s.use()
	if err != nil {
		return false, err
	}
	defer done()
	var bound bool
	if err := s.pool.QueryRow(ctx, sipAccountBoundSQL, id.Kind.String(), id.ID, id.Tenant).Scan(&bound); err != nil {
		return false, fmt.Errorf("postgres: look up SIP accounts of %s: %w", id, err)
	}
	return bound, nil
}

// ListSIPAccounts returns every stored SIP account, oldest first, then by
// username.
func (s *Store) ListSIPAccounts(ctx context.Context) ([]phones.StoredAccount, error) {
	return s.readSIPAccounts(ctx, ``)
}

// DeleteSIPAccount removes the account with the username, in any case, or
// fails with phones.ErrNoAccount.
func (s *Store) DeleteSIPAccount(ctx context.Context, username string) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tag, err := conn.Exec(ctx, `DELETE FROM sip_accounts`+whereSIPUsername, username)
		if err != nil {
			return fmt.Errorf("postgres: delete SIP account %s: %w", username, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: delete SIP account %s: %w", username, phones.ErrNoAccount)
		}
		return nil
	})
}

func (s *Store) readSIPAccounts(ctx context.Context, where string, args ...any) ([]phones.StoredAccount, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, selectSIPAccountSQL+where+` ORDER BY created_at NULLS FIRST, username`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read SIP accounts: %w", err)
	}
	defer rows.Close()
	var out []phones.StoredAccount
	for rows.Next() {
		var a phones.StoredAccount
		var kind, id string
		var created *int64
		if err := rows.Scan(&a.Username, &a.Realm, &a.HA1, &a.HA1SHA256, &kind, &id, &a.DisplayName, &a.Tenant, &created); err != nil {
			return nil, fmt.Errorf("postgres: read SIP accounts: %w", err)
		}
		k, err := phones.ParseIdentityKind(kind)
		if err != nil {
			return nil, fmt.Errorf("postgres: SIP account %s: %w", a.Username, err)
		}
		if k == phones.IdentityPhone {
			a.Phone = id
		} else {
			a.User = id
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read SIP accounts: %w", err)
	}
	return out, nil
}
