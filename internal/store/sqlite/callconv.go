package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

// callConversationSQL reads the conversation holding a call, with the
// specs of its calls.
const callConversationSQL = `SELECT conversations.data, c2.id, c2.spec
FROM calls AS c1 JOIN conversations ON conversations.id = c1.conversation_id
JOIN calls AS c2 ON c2.conversation_id = conversations.id
WHERE c1.id = ?`

// CallConversation returns the conversation holding callID, live or ended
// and not yet deleted (DeleteEnded), as of the last Commit that returned;
// an error matching calls.ErrNotFound when there is none.
func (s *Store) CallConversation(ctx context.Context, callID string) (*calls.Conversation, error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.readDB.QueryContext(ctx, callConversationSQL, callID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: conversation of call %s: %w", callID, err)
	}
	defer rows.Close()
	var data []byte
	specs := map[string][]byte{}
	for rows.Next() {
		var id string
		var d, spec sql.RawBytes
		if err := rows.Scan(&d, &id, &spec); err != nil {
			return nil, fmt.Errorf("sqlite: conversation of call %s: %w", callID, err)
		}
		if data == nil {
			data = append([]byte(nil), d...)
		}
		if spec != nil {
			specs[id] = append([]byte(nil), spec...)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: conversation of call %s: %w", callID, err)
	}
	if data == nil {
		return nil, fmt.Errorf("sqlite: call %s: %w", callID, calls.ErrNotFound)
	}
	conv, err := codec.DecodeConversation(data, specs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: decode the conversation of call %s: %w", callID, err)
	}
	return conv, nil
}
