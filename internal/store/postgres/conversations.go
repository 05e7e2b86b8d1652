package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

const (
	upsertConversationSQL = `INSERT INTO conversations (id, tenant_id, live, data, created_at, updated_at, meeting_key)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
	tenant_id = excluded.tenant_id,
	live = excluded.live,
	data = excluded.data,
	updated_at = excluded.updated_at,
	meeting_key = excluded.meeting_key`

	// A NULL spec keeps the one written before: it never changes.
	upsertCallSQL = `INSERT INTO calls (id, conversation_id, tenant_id, app_id, state, created_at, updated_at, ended_at, spec)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE SET
	conversation_id = excluded.conversation_id,
	tenant_id = excluded.tenant_id,
	app_id = excluded.app_id,
	state = excluded.state,
	updated_at = excluded.updated_at,
	ended_at = excluded.ended_at,
	spec = coalesce(excluded.spec, calls.spec)`

	insertOutboxSQL = `INSERT INTO outbox (call_id, seq, url, body, app_id, tenant_id, chain_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

	// loadLiveSQL reads each live conversation with the specs of its
	// calls, in one statement and so from one snapshot.
	loadLiveSQL = `SELECT conv.id, conv.data,
	coalesce(array_agg(calls.id) FILTER (WHERE calls.spec IS NOT NULL), '{}'),
	coalesce(array_agg(calls.spec) FILTER (WHERE calls.spec IS NOT NULL), '{}')
FROM conversations AS conv LEFT JOIN calls ON calls.conversation_id = conv.id
WHERE conv.live
GROUP BY conv.id
ORDER BY conv.created_at NULLS FIRST, conv.id`
)

// Commit writes conv, replacing any earlier version, with a calls row per
// leg that changed (with its spec the first time), and appends outbox, in
// one transaction sent in one round trip: when Commit returns nil all of
// it is committed; on error none of it was written. An outbox entry whose
// (CallID, Seq) already exists fails the Commit. The conversation is
// encoded before Commit returns, so the caller may change it afterwards.
//
// ctx counts only until the store has a connection to write on; callers
// that must know the outcome pass a context that is never cancelled.
func (s *Store) Commit(ctx context.Context, conv *calls.Conversation, outbox []calls.OutboxEntry) error {
	w, err := newConversationWrite(conv, outbox)
	if err != nil {
		return err
	}
	return s.commit(ctx, []*conversationWrite{w})
}

// CommitAll writes each change as Commit does, all in one transaction: when
// it returns nil all of it is committed; on error (such as one outbox entry
// that already exists) none of it was written.
func (s *Store) CommitAll(ctx context.Context, changes []calls.Change) error {
	ws := make([]*conversationWrite, len(changes))
	for i, c := range changes {
		w, err := newConversationWrite(c.Conversation, c.Outbox)
		if err != nil {
			return err
		}
		ws[i] = w
	}
	if len(ws) == 0 {
		return nil
	}
	return s.commit(ctx, ws)
}

// conversationWrite is a conversation to write, encoded in the caller's
// goroutine.
type conversationWrite struct {
	lease            calls.Lease // fenced on when its Node is set
	id, tenant       string
	meetingKey       string
	live             bool
	data             []byte
	created, updated any
	legs             []*calls.Call
	rows             []codec.LegRow
	outbox           []calls.OutboxEntry
}

func newConversationWrite(conv *calls.Conversation, outbox []calls.OutboxEntry) (*conversationWrite, error) {
	if conv == nil {
		return nil, errors.New("postgres: commit of a nil conversation")
	}
	if conv.ID == "" {
		return nil, errors.New("postgres: commit of a conversation without id")
	}
	data, err := codec.EncodeConversation(conv)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode conversation %s: %w", conv.ID, err)
	}
	w := &conversationWrite{
		lease:      conv.Lease,
		meetingKey: conv.MeetingKey,
		id:         conv.ID, tenant: conv.TenantID, live: conv.Live(), data: data,
		created: nanos(conv.CreatedAt), updated: nanos(conv.UpdatedAt),
		legs: conv.Legs, rows: make([]codec.LegRow, len(conv.Legs)),
		outbox: outbox,
	}
	for i, l := range conv.Legs {
		w.rows[i] = codec.RowOf(conv.ID, l)
	}
	return w, nil
}

// queue adds w's statements to b: the conversation, the calls rows that
// legs does not know as written (with the spec of each leg it does not
// know at all), and the outbox entries.
func (w *conversationWrite) queue(b *pgx.Batch, legs *codec.Legs) error {
	if w.lease.Node != "" {
		// First: a fenced commit aborts before it writes anything.
		b.Queue(fenceSQL, w.id, w.lease.Node, w.lease.Epoch, w.live)
	}
	b.Queue(upsertConversationSQL, w.id, w.tenant, w.live, w.data, w.created, w.updated, w.meetingKey)
	for i, r := range w.rows {
		known, unchanged := legs.Lookup(r)
		if unchanged {
			continue
		}
		var spec []byte // nil, NULL: keeps the spec written before
		if !known {
			var err error
			if spec, err = codec.EncodeSpec(w.legs[i]); err != nil {
				return fmt.Errorf("postgres: %w", err)
			}
		}
		b.Queue(upsertCallSQL, r.ID, w.id, r.TenantID, r.AppID, r.State, nullable(r.CreatedAt), nullable(r.UpdatedAt), nullable(r.EndedAt), spec)
	}
	for _, e := range w.outbox {
		body := e.Body
		if body == nil {
			body = []byte{} // the column is NOT NULL; nil would bind as NULL
		}
		b.Queue(insertOutboxSQL, e.CallID, e.Seq, e.URL, body, e.AppID, e.TenantID, e.ChainID, nanos(e.CreatedAt))
	}
	return nil
}

// commit writes ws in one batch, one implicit transaction. Once it is
// committed, the store remembers the calls rows it wrote; when it fails
// (or its outcome is unknown, the connection lost on the way) it forgets
// their legs, so that the next commit writes them in full.
func (s *Store) commit(ctx context.Context, ws []*conversationWrite) error {
	b := &pgx.Batch{}
	for _, w := range ws {
		if err := w.queue(b, &s.legs); err != nil {
			return err
		}
	}
	if err := s.sendBatch(ctx, b); err != nil {
		for _, w := range ws {
			for _, r := range w.rows {
				s.legs.Forget(r.ID)
			}
		}
		err = asFenced(err)
		if len(ws) == 1 {
			return fmt.Errorf("postgres: commit conversation %s: %w", ws[0].id, err)
		}
		return fmt.Errorf("postgres: commit %d conversations: %w", len(ws), err)
	}
	for _, w := range ws {
		s.legs.Wrote(w.live, w.rows...)
	}
	if s.legs.Len() > maxRememberedLegs {
		s.legs.Reset()
	}
	return nil
}

// LoadLive returns every conversation in which some leg has not ended, as of
// the last Commit that returned, oldest first.
func (s *Store) LoadLive(ctx context.Context) ([]*calls.Conversation, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, loadLiveSQL)
	if err != nil {
		return nil, fmt.Errorf("postgres: load live conversations: %w", err)
	}
	defer rows.Close()
	var out []*calls.Conversation
	for rows.Next() {
		var id string
		var data []byte
		var ids []string
		var specs [][]byte
		if err := rows.Scan(&id, &data, &ids, &specs); err != nil {
			return nil, fmt.Errorf("postgres: load live conversations: %w", err)
		}
		byID := make(map[string][]byte, len(ids))
		for i, callID := range ids {
			byID[callID] = specs[i]
		}
		c, err := codec.DecodeConversation(data, byID)
		if err != nil {
			return nil, fmt.Errorf("postgres: decode conversation %s: %w", id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: load live conversations: %w", err)
	}
	return out, nil
}
