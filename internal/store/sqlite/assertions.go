package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

var _ auth.AssertionIDStore = (*Store)(nil)

// sweepAssertionIDs bounds the expired ids each use deletes, as for
// idempotency records: the table is swept as it is used.
const sweepAssertionIDs = 64

const (
	sweepAssertionIDsSQL = `DELETE FROM assertion_ids WHERE rowid IN
	(SELECT rowid FROM assertion_ids WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`

	getAssertionIDSQL = `SELECT expires_at FROM assertion_ids WHERE client_id = ? AND jti = ?`

	countAssertionIDsSQL = `SELECT count(*) FROM assertion_ids WHERE client_id = ? AND expires_at > ?`

	putAssertionIDSQL = `INSERT INTO assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)
ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at`
)

// UseAssertionID implements auth.AssertionIDStore: the check, the quota and
// the record run in one write transaction, so of two concurrent uses of an
// id exactly one is first, on every process that opens the database. Each
// call also deletes up to 64 ids expired at now.
func (s *Store) UseAssertionID(ctx context.Context, clientID, id string, expires, now time.Time, max int) (bool, error) {
	if clientID == "" || id == "" {
		return false, errors.New("sqlite: assertion id without client or id")
	}
	var first bool
	err := s.submit(ctx, func(w *writer) error {
		first = false
		if _, err := w.execSQL(sweepAssertionIDsSQL, now.UnixNano(), sweepAssertionIDs); err != nil {
			return fmt.Errorf("sqlite: sweep assertion ids: %w", err)
		}
		var until int64
		switch err := w.queryRow(getAssertionIDSQL, clientID, id).Scan(&until); {
		case err == nil && until > now.UnixNano():
			return nil // a replay
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: read assertion id: %w", err)
		}
		var held int
		if err := w.queryRow(countAssertionIDsSQL, clientID, now.UnixNano()).Scan(&held); err != nil {
			return fmt.Errorf("sqlite: count assertion ids of %s: %w", clientID, err)
		}
		if held >= max {
			return fmt.Errorf("sqlite: client %s holds %d assertion ids: %w", clientID, held, auth.ErrAssertionIDQuota)
		}
		if _, err := w.execSQL(putAssertionIDSQL, clientID, id, expires.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: record assertion id: %w", err)
		}
		first = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return first, nil
}
