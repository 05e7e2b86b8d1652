package codec

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// storedLeg is a leg as a conversation's data holds it: without its Spec,
// which never changes once the call is created and is stored beside the
// leg's calls row. Spec catches the spec of data written before it moved
// out.
type storedLeg struct {
	*calls.Call
	Spec json.RawMessage `json:"spec,omitempty"` // shadows calls.Call.Spec
}

// storedConversation is a conversation as its data holds it.
type storedConversation struct {
	// Version is the record's format, FormatVersion when written by this
	// build; absent (0) in records written before it was. A reader
	// accepts any version: fields it does not know are skipped, and
	// values it does not know are kept where the domain allows it (a
	// call's state), so nodes of two builds can share a store during an
	// upgrade.
	Version int `json:"v,omitempty"`
	*calls.Conversation
	Legs []storedLeg `json:"legs"` // shadows calls.Conversation.Legs
}

// FormatVersion is the version of the stored conversation this build
// writes. Raise it when the format changes in a way a reader must know.
const FormatVersion = 1

// EncodeConversation encodes conv for its conversations row: the JSON of
// the conversation without the legs' specs (see EncodeSpec). It does not
// change conv.
func EncodeConversation(conv *calls.Conversation) ([]byte, error) {
	sc := storedConversation{Version: FormatVersion, Conversation: conv, Legs: make([]storedLeg, len(conv.Legs))}
	for i, l := range conv.Legs {
		sc.Legs[i].Call = l
	}
	return json.Marshal(sc)
}

// DecodeConversation decodes what EncodeConversation made, taking each
// leg's spec from specs (by call id, as EncodeSpec made it), or, for a leg
// that specs lacks, from data itself, as builds before specs moved out
// wrote it. A leg with neither has the zero spec.
func DecodeConversation(data []byte, specs map[string][]byte) (*calls.Conversation, error) {
	c := new(calls.Conversation)
	sc := storedConversation{Conversation: c}
	if err := model.DecodeStored(data, &sc); err != nil {
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
			if err := model.DecodeStored(spec, &l.Call.Spec); err != nil {
				return nil, fmt.Errorf("spec of call %s: %w", l.ID, err)
			}
		}
		c.Legs[i] = l.Call
	}
	return c, nil
}

// EncodeSpec encodes the spec of leg l, for its calls row.
func EncodeSpec(l *calls.Call) ([]byte, error) {
	b, err := json.Marshal(l.Spec)
	if err != nil {
		return nil, fmt.Errorf("encode spec of call %s: %w", l.ID, err)
	}
	return b, nil
}

// LegRow is the calls row of one leg: the projection of the leg that
// queries read, without its spec. Times are unix nanoseconds, 0 for none
// (a store writes 0 as NULL). It is comparable: two equal rows need one
// write.
type LegRow struct {
	ID, ConversationID, TenantID, AppID, State string
	CreatedAt, UpdatedAt, EndedAt              int64
}

// RowOf returns the calls row of leg l of the conversation convID. It reads
// l at once, so that the caller may change l afterwards.
func RowOf(convID string, l *calls.Call) LegRow {
	r := LegRow{
		ID: l.ID, ConversationID: convID, TenantID: l.TenantID, AppID: l.AppID, State: l.State.String(),
		CreatedAt: UnixNanos(l.CreatedAt), UpdatedAt: UnixNanos(l.UpdatedAt),
	}
	if l.EndedAt != nil {
		r.EndedAt = UnixNanos(*l.EndedAt)
	}
	return r
}

// UnixNanos is t in unix nanoseconds, 0 for the zero time. Every store
// keeps times so, which round-trips a time.Time to the nanosecond (in UTC).
func UnixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNanos is the time UnixNanos made n from, in UTC: the zero time for 0.
func FromUnixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
