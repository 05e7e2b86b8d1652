package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/phones"
)

var _ phones.Accounts = (*Store)(nil)

const selectSIPAccountSQL = `SELECT username, realm, ha1, ha1_sha256, identity_kind, identity_id, display_name, tenant, created_at FROM sip_accounts`

// CreateSIPAccount stores a new SIP account. It fails with
// phones.ErrAccountExists if the username (in any case) is taken. The
// account must carry its HA1 and no password, and exactly one identity.
func (s *Store) CreateSIPAccount(ctx context.Context, a phones.StoredAccount) error {
	if a.Password != "" {
		return errors.New("sqlite: a SIP account is stored with its hashes, not its password")
	}
	id := a.Identity()
	if a.Username == "" || id.ID == "" || (a.User != "" && a.Phone != "") {
		return errors.New("sqlite: a SIP account needs a username and one identity")
	}
	return s.submit(ctx, func(w *writer) error {
		var n int
		if err := w.queryRow(`SELECT count(*) FROM sip_accounts WHERE username = ?`, a.Username).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: create SIP account %s: %w", a.Username, err)
		}
		if n > 0 {
			return fmt.Errorf("sqlite: create SIP account %s: %w", a.Username, phones.ErrAccountExists)
		}
		if _, err := w.execSQL(`INSERT INTO sip_accounts (username, realm, ha1, ha1_sha256, identity_kind, identity_id, display_name, tenant, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Username, a.Realm, a.HA1, a.HA1SHA256, id.Kind.String(), id.ID, a.DisplayName, a.Tenant, nanos(a.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: create SIP account %s: %w", a.Username, err)
		}
		return nil
	})
}

// SIPAccount returns the account with the username, in any case, or an
// error matching phones.ErrNoAccount.
func (s *Store) SIPAccount(ctx context.Context, username string) (phones.StoredAccount, error) {
	as, err := s.readSIPAccounts(ctx, ` WHERE username = ?`, username)
	if err != nil {
		return phones.StoredAccount{}, err
	}
	if len(as) == 0 {
		return phones.StoredAccount{}, fmt.Errorf("sqlite: SIP account %s: %w", username, phones.ErrNoAccount)
	}
	return as[0], nil
}

// SIPAccountBound reports whether an account is bound to the identity (see
// phones.Accounts); the identity's id is compared case-insensitively, and
// a phone number must come normalised.
func (s *Store) SIPAccountBound(ctx context.Context, id phones.Identity) (bool, error) {
	done, err := s.beginRead()
	if err != nil {
		return false, err
	}
	defer done()
	var n int
	err = s.readDB.QueryRowContext(ctx, `SELECT count(*) FROM sip_accounts WHERE identity_kind = ? AND identity_id = ? AND (tenant = '' OR ? = '' OR tenant = ?)`,
		id.Kind.String(), id.ID, id.Tenant, id.Tenant).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: look up SIP accounts of %s: %w", id, err)
	}
	return n > 0, nil
}

// ListSIPAccounts returns every stored SIP account, oldest first, then by
// username.
func (s *Store) ListSIPAccounts(ctx context.Context) ([]phones.StoredAccount, error) {
	return s.readSIPAccounts(ctx, ``)
}

// DeleteSIPAccount removes the account with the username, in any case, or
// fails with phones.ErrNoAccount.
func (s *Store) DeleteSIPAccount(ctx context.Context, username string) error {
	return s.submit(ctx, func(w *writer) error {
		res, err := w.execSQL(`DELETE FROM sip_accounts WHERE username = ?`, username)
		if err != nil {
			return fmt.Errorf("sqlite: delete SIP account %s: %w", username, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: delete SIP account %s: %w", username, err)
		} else if n == 0 {
			return fmt.Errorf("sqlite: delete SIP account %s: %w", username, phones.ErrNoAccount)
		}
		return nil
	})
}

func (s *Store) readSIPAccounts(ctx context.Context, where string, args ...any) ([]phones.StoredAccount, error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.readDB.QueryContext(ctx, selectSIPAccountSQL+where+` ORDER BY created_at, username`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read SIP accounts: %w", err)
	}
	defer rows.Close()
	var out []phones.StoredAccount
	for rows.Next() {
		var a phones.StoredAccount
		var kind, id string
		var created sql.NullInt64
		if err := rows.Scan(&a.Username, &a.Realm, &a.HA1, &a.HA1SHA256, &kind, &id, &a.DisplayName, &a.Tenant, &created); err != nil {
			return nil, fmt.Errorf("sqlite: read SIP accounts: %w", err)
		}
		k, err := phones.ParseIdentityKind(kind)
		if err != nil {
			return nil, fmt.Errorf("sqlite: SIP account %s: %w", a.Username, err)
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
		return nil, fmt.Errorf("sqlite: read SIP accounts: %w", err)
	}
	return out, nil
}
