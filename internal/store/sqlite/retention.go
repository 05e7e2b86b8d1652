package sqlite

import (
	"context"
	"fmt"
	"time"
)

const (
	// endedSQL picks ended conversations whose notifications are all
	// finished (delivered or given up): one with a delivery still to make
	// waits for a later sweep.
	endedSQL = `SELECT id FROM conversations AS conv
WHERE live = 0 AND updated_at < ?
	AND NOT EXISTS (
		SELECT 1 FROM calls JOIN outbox ON outbox.call_id = calls.id
		WHERE calls.conversation_id = conv.id AND outbox.status = 'pending')
ORDER BY updated_at LIMIT ?`

	deleteOutboxSQL       = `DELETE FROM outbox WHERE call_id IN (SELECT id FROM calls WHERE conversation_id = ?)`
	deleteConversationSQL = `DELETE FROM conversations WHERE id = ?` // its calls rows go with it (ON DELETE CASCADE)
)

// DeleteEnded deletes at most limit conversations that ended before
// before, oldest first, with their calls and their outbox rows, in one
// write; it returns how many it deleted. A conversation with a notification
// still pending is kept until it is delivered or given up. Live
// conversations are never touched.
//
// The retention sweep calls it until it deletes fewer than limit; a small
// limit keeps each write short, so that commits of live calls do not wait
// behind a long delete.
func (s *Store) DeleteEnded(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var deleted int
	err := s.submit(ctx, func(w *writer) error {
		deleted = 0
		rows, err := w.conn.QueryContext(context.Background(), endedSQL, before.UnixNano(), limit)
		if err != nil {
			return fmt.Errorf("sqlite: find ended conversations: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: find ended conversations: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: find ended conversations: %w", err)
		}
		for _, id := range ids {
			if _, err := w.execSQL(deleteOutboxSQL, id); err != nil {
				return fmt.Errorf("sqlite: delete outbox of conversation %s: %w", id, err)
			}
			if _, err := w.execSQL(deleteConversationSQL, id); err != nil {
				return fmt.Errorf("sqlite: delete conversation %s: %w", id, err)
			}
		}
		deleted = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}
