package sqlite

import (
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

// A conversation is stored as store/codec encodes it: conversations.data
// holds it without its legs' specs, and each leg's calls row holds its
// spec, written once.

// nullable binds 0 as NULL, as nanos does the zero time.
func nullable(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// writtenLeg is a leg to write: its calls row, taken in the caller's
// goroutine so the writer never reads the caller's conversation, and the
// leg, whose spec is written only the first time. The writer reads the
// leg's spec before Commit returns, while its caller waits; it never
// changes.
type writtenLeg struct {
	row codec.LegRow
	leg *calls.Call
}

// writeLegs writes the calls rows of a conversation's legs that changed,
// with the spec of each leg written for the first time. Called by the
// writer, inside the request's savepoint. The writer's cache (w.legs)
// records the rows at once and is reset when the request or its batch
// fails, since they are rolled back then.
func (w *writer) writeLegs(convID string, live bool, legs []writtenLeg) error {
	for _, l := range legs {
		known, unchanged := w.legs.Lookup(l.row)
		if unchanged {
			continue
		}
		var spec any // NULL keeps the spec written before
		if !known {
			b, err := codec.EncodeSpec(l.leg)
			if err != nil {
				return fmt.Errorf("sqlite: %w", err)
			}
			spec = string(b)
		}
		r := l.row
		if _, err := w.exec(w.upsertCall, r.ID, convID, r.TenantID, r.AppID, r.State, nullable(r.CreatedAt), nullable(r.UpdatedAt), nullable(r.EndedAt), spec); err != nil {
			return fmt.Errorf("sqlite: write call %s: %w", r.ID, err)
		}
	}
	rows := make([]codec.LegRow, len(legs))
	for i, l := range legs {
		rows[i] = l.row
	}
	w.legs.Wrote(live, rows...)
	return nil
}
