package codec

import (
	"bytes"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// The number of calls a store's RecentCalls returns: DefaultRecentCalls
// when asked for none (a limit <= 0), never more than MaxRecentCalls.
const (
	DefaultRecentCalls = 100
	MaxRecentCalls     = 500
)

// RecentCallsLimit is the number of calls RecentCalls returns at most when
// asked for limit.
func RecentCallsLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultRecentCalls
	case limit > MaxRecentCalls:
		return MaxRecentCalls
	}
	return limit
}

// LegList gathers the calls rows of a listing, each with its
// conversation's data, and decodes each conversation once however many of
// its legs are listed (a meeting may have hundreds). The zero value is
// ready for use.
type LegList struct {
	rows  []legRef
	data  map[string][]byte            // by conversation id
	specs map[string]map[string][]byte // by conversation id, then call id
}

type legRef struct{ callID, convID string }

// Add appends the leg callID of the conversation convID to the list. spec
// is its calls row's spec, nil when NULL (the spec is then still inside
// data, as a build before the spec column wrote it). data is the
// conversation's, or nil when another row of the same conversation carries
// it. Add copies what it keeps, so the caller may reuse spec and data.
func (l *LegList) Add(callID, convID string, spec, data []byte) {
	if l.data == nil {
		l.data = make(map[string][]byte)
		l.specs = make(map[string]map[string][]byte)
	}
	l.rows = append(l.rows, legRef{callID: callID, convID: convID})
	if _, ok := l.data[convID]; !ok && data != nil {
		l.data[convID] = bytes.Clone(data)
	}
	if spec != nil {
		// Only a spec that is there: an entry, even nil, would hide the
		// one inside data.
		if l.specs[convID] == nil {
			l.specs[convID] = make(map[string][]byte)
		}
		l.specs[convID][callID] = bytes.Clone(spec)
	}
}

// Calls decodes the conversations and returns their legs in the order
// they were added. A leg missing from its conversation's data is left out.
func (l *LegList) Calls() ([]*calls.Call, error) {
	decoded := make(map[string]*calls.Conversation, len(l.data))
	out := make([]*calls.Call, 0, len(l.rows))
	for _, r := range l.rows {
		conv, ok := decoded[r.convID]
		if !ok {
			data, ok := l.data[r.convID]
			if !ok {
				return nil, fmt.Errorf("conversation %s of call %s: no data", r.convID, r.callID)
			}
			var err error
			if conv, err = DecodeConversation(data, l.specs[r.convID]); err != nil {
				return nil, fmt.Errorf("decode conversation %s: %w", r.convID, err)
			}
			decoded[r.convID] = conv
		}
		if leg := conv.Leg(r.callID); leg != nil {
			out = append(out, leg)
		}
	}
	return out, nil
}
