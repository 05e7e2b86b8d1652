package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// deleteEndedSQL deletes, in one statement, ended conversations whose
// notifications are all finished (delivered or given up), with their
// outbox rows; their calls rows go with them (ON DELETE CASCADE). A
// conversation another node's sweep is deleting at the same time is
// skipped (SKIP LOCKED), not waited for.
const deleteEndedSQL = `WITH ended AS (
	SELECT id FROM conversations AS conv
	WHERE NOT live AND updated_at < $1
		AND NOT EXISTS (
			SELECT 1 FROM calls JOIN outbox ON outbox.call_id = calls.id
			WHERE calls.conversation_id = conv.id AND outbox.status = 'pending')
	ORDER BY updated_at LIMIT $2
	FOR UPDATE OF conv SKIP LOCKED
), outbox_rows AS (
	DELETE FROM outbox WHERE call_id IN (SELECT calls.id FROM calls JOIN ended ON calls.conversation_id = ended.id)
), deleted AS (
	DELETE FROM conversations WHERE id IN (SELECT id FROM ended) RETURNING 1
)
SELECT count(*) FROM deleted`

// DeleteEnded deletes at most limit conversations that ended before
// before, oldest first, with their calls and their outbox rows, in one
// statement; it returns how many it deleted. A conversation with a
// notification still pending is kept until it is delivered or given up.
// Live conversations are never touched. Several nodes may sweep at once:
// each deletes what the others are not deleting.
func (s *Store) DeleteEnded(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var deleted int
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.QueryRow(ctx, deleteEndedSQL, before.UnixNano(), limit).Scan(&deleted)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete ended conversations: %w", err)
	}
	return deleted, nil
}
