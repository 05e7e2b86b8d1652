package sqlite

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// storedLeg is a leg as conversations.data holds it: without its Spec,
// which never changes once the call is created and lives in calls.spec.
// Spec catches the spec of data written before calls.spec existed.
type storedLeg struct {
	*calls.Call
	Spec json.RawMessage `json:"spec,omitempty"` // shadows calls.Call.Spec
}

// storedConversation is a conversation as conversations.data holds it.
type storedConversation struct {
	*calls.Conversation
	Legs []storedLeg `json:"legs"` // shadows calls.Conversation.Legs
}

// encodeConversation encodes conv for conversations.data, without the
// legs' specs.
func encodeConversation(conv *calls.Conversation) ([]byte, error) {
	sc := storedConversation{Conversation: conv, Legs: make([]storedLeg, len(conv.Legs))}
	for i, l := range conv.Legs {
		sc.Legs[i].Call = l
	}
	return json.Marshal(sc)
}

// decodeConversation decodes conversations.data, taking each leg's spec
// from specs (by call id), or from data itself as older builds wrote it.
func decodeConversation(data []byte, specs map[string][]byte) (*calls.Conversation, error) {
	c := new(calls.Conversation)
	sc := storedConversation{Conversation: c}
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, err
	}
	c.Legs = make([]*calls.Call, len(sc.Legs))
	for i, l := range sc.Legs {
		if l.Call == nil {
			l.Call = new(calls.Call)
		}
		spec := l.Spec
		if s, ok := specs[l.ID]; ok {
			spec = s
		}
		if len(spec) > 0 {
			if err := json.Unmarshal(spec, &l.Call.Spec); err != nil {
				return nil, fmt.Errorf("spec of call %s: %w", l.ID, err)
			}
		}
		c.Legs[i] = l.Call
	}
	return c, nil
}

// legRow is the calls-table projection of one leg, taken in the caller's
// goroutine so the writer never reads the caller's conversation.
type legRow struct {
	id, conversationID, tenantID, appID, state string
	createdAt, updatedAt, endedAt              int64 // unix nanoseconds; 0 for none
}

func rowOf(convID string, l *calls.Call) legRow {
	r := legRow{
		id: l.ID, conversationID: convID, tenantID: l.TenantID, appID: l.AppID, state: l.State.String(),
		createdAt: unixNanos(l.CreatedAt), updatedAt: unixNanos(l.UpdatedAt),
	}
	if l.EndedAt != nil {
		r.endedAt = unixNanos(*l.EndedAt)
	}
	return r
}

// unixNanos is t in unix nanoseconds, 0 for the zero time.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// nullable binds 0 as NULL, as nanos does the zero time.
func nullable(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// writtenLeg is a leg to write: its calls row, and the leg, whose spec is
// written only the first time. The writer reads the leg before Commit
// returns, while its caller waits; its spec never changes.
type writtenLeg struct {
	row legRow
	leg *calls.Call
}

// writtenLegs remembers, for each leg of a live conversation, the calls row
// its last write left, spec included: a commit writes a leg's spec only the
// first time, and its row only when it changed. A leg it does not know is
// written in full. It is forgotten whole (reset) when a write request or a
// transaction fails, since what it remembers may then have been rolled
// back. Safe for concurrent use.
type writtenLegs struct {
	mu   sync.Mutex
	rows map[string]legRow // by call id
}

// lookup reports whether the leg's spec was written, and whether r is the
// row last written for it.
func (w *writtenLegs) lookup(r legRow) (known, unchanged bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, ok := w.rows[r.id]
	return ok, ok && old == r
}

// wrote records rows just written; the legs of a conversation that ended
// are forgotten, as it is never written again.
func (w *writtenLegs) wrote(live bool, rows ...legRow) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rows == nil {
		w.rows = make(map[string]legRow)
	}
	for _, r := range rows {
		if live {
			w.rows[r.id] = r
		} else {
			delete(w.rows, r.id)
		}
	}
}

// reset forgets every leg.
func (w *writtenLegs) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rows = nil
}

// writeLegs writes the calls rows of a conversation's legs that changed,
// with the spec of each leg written for the first time. Called by the
// writer, inside the request's savepoint.
func (w *writer) writeLegs(convID string, live bool, legs []writtenLeg) error {
	for _, l := range legs {
		known, unchanged := w.legs.lookup(l.row)
		if unchanged {
			continue
		}
		var spec any // NULL keeps the spec written before
		if !known {
			b, err := json.Marshal(l.leg.Spec)
			if err != nil {
				return fmt.Errorf("sqlite: encode spec of call %s: %w", l.row.id, err)
			}
			spec = string(b)
		}
		r := l.row
		if _, err := w.exec(w.upsertCall, r.id, convID, r.tenantID, r.appID, r.state, nullable(r.createdAt), nullable(r.updatedAt), nullable(r.endedAt), spec); err != nil {
			return fmt.Errorf("sqlite: write call %s: %w", r.id, err)
		}
	}
	rows := make([]legRow, len(legs))
	for i, l := range legs {
		rows[i] = l.row
	}
	w.legs.wrote(live, rows...)
	return nil
}
