package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

var _ auth.AssertionIDStore = (*Store)(nil)

// sweepAssertionIDs bounds the expired ids each use deletes, as for
// idempotency records: the table is swept as it is used.
const sweepAssertionIDs = 64

const (
	// lockAssertionClientSQL serialises the uses of one client's ids, so
	// that the check and the quota hold until the transaction ends.
	lockAssertionClientSQL = `SELECT pg_advisory_xact_lock(hashtextextended('switchboard assertion ' || $1::text, 0))`

	sweepAssertionIDsSQL = `DELETE FROM assertion_ids WHERE (client_id, jti) IN
	(SELECT client_id, jti FROM assertion_ids WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`

	// getAssertionIDSQL reports whether the id is held unexpired, and how
	// many unexpired ids the client holds.
	getAssertionIDSQL = `SELECT
	EXISTS (SELECT 1 FROM assertion_ids WHERE client_id = $1 AND jti = $2 AND expires_at > $3),
	(SELECT count(*) FROM assertion_ids WHERE client_id = $1 AND expires_at > $3)`

	putAssertionIDSQL = `INSERT INTO assertion_ids (client_id, jti, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at`
)

// UseAssertionID implements auth.AssertionIDStore: the check, the quota and
// the record run in one transaction holding a lock on the client, so of
// two concurrent uses of an id, on any nodes, exactly one is first. Each
// call also deletes up to 64 ids expired at now. It takes two round trips.
func (s *Store) UseAssertionID(ctx context.Context, clientID, id string, expires, now time.Time, max int) (bool, error) {
	if clientID == "" || id == "" {
		return false, errors.New("postgres: assertion id without client or id")
	}
	var first bool
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		defer endTx(ctx, conn)
		var replay bool
		var held int
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(lockAssertionClientSQL, clientID)
		b.Queue(sweepAssertionIDsSQL, now.UnixNano(), sweepAssertionIDs)
		b.Queue(getAssertionIDSQL, clientID, id, now.UnixNano()).QueryRow(func(row pgx.Row) error { return row.Scan(&replay, &held) })
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: read assertion id: %w", err)
		}
		b = &pgx.Batch{}
		switch {
		case replay: // commit the sweep
		case held >= max:
			return fmt.Errorf("postgres: client %s holds %d assertion ids: %w", clientID, held, auth.ErrAssertionIDQuota)
		default:
			b.Queue(putAssertionIDSQL, clientID, id, expires.UnixNano())
		}
		b.Queue(`COMMIT`)
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: record assertion id: %w", err)
		}
		first = !replay
		return nil
	})
	if err != nil {
		return false, err
	}
	return first, nil
}
