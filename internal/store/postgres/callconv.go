package postgres

import (
	"context"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

// callConversationSQL reads the conversation holding a call, with the
// specs of its calls.
const callConversationSQL = `SELECT conv.data, c2.id, c2.spec
FROM calls AS c1 JOIN conversations AS conv ON conv.id = c1.conversation_id
JOIN calls AS c2 ON c2.conversation_id = conv.id
WHERE c1.id = $1`

// CallConversation returns the conversation holding callID, live or ended
// and not yet deleted (DeleteEnded); an error matching calls.ErrNotFound
// when there is none.
func (s *Store) CallConversation(ctx context.Context, callID string) (*calls.Conversation, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, callConversationSQL, callID)
	if err != nil {
		return nil, fmt.Errorf("postgres: conversation of call %s: %w", callID, err)
	}
	defer rows.Close()
	var data []byte
	specs := map[string][]byte{}
	for rows.Next() {
		var id string
		var d, spec []byte
		if err := rows.Scan(&d, &id, &spec); err != nil {
			return nil, fmt.Errorf("postgres: conversation of call %s: %w", callID, err)
		}
		if data == nil {
			data = d
		}
		if len(spec) > 0 {
			specs[id] = spec
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: conversation of call %s: %w", callID, err)
	}
	if data == nil {
		return nil, fmt.Errorf("postgres: call %s: %w", callID, calls.ErrNotFound)
	}
	conv, err := codec.DecodeConversation(data, specs)
	if err != nil {
		return nil, fmt.Errorf("postgres: decode the conversation of call %s: %w", callID, err)
	}
	return conv, nil
}
