package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

const (
	upsertConversationSQL = `INSERT INTO conversations (id, tenant_id, live, data, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	tenant_id = excluded.tenant_id,
	live = excluded.live,
	data = excluded.data,
	updated_at = excluded.updated_at`

	// A NULL spec keeps the one written before: it never changes.
	upsertCallSQL = `INSERT INTO calls (id, conversation_id, tenant_id, app_id, state, created_at, updated_at, ended_at, spec)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	conversation_id = excluded.conversation_id,
	tenant_id = excluded.tenant_id,
	app_id = excluded.app_id,
	state = excluded.state,
	updated_at = excluded.updated_at,
	ended_at = excluded.ended_at,
	spec = coalesce(excluded.spec, calls.spec)`

	insertOutboxSQL = `INSERT INTO outbox (call_id, seq, url, body, app_id, tenant_id, chain_id, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

	loadLiveSQL = `SELECT id, data FROM conversations WHERE live = 1 ORDER BY created_at, id`

	loadLiveSpecsSQL = `SELECT calls.id, calls.spec FROM conversations JOIN calls ON calls.conversation_id = conversations.id
WHERE conversations.live = 1 AND calls.spec IS NOT NULL`
)

// Commit writes conv, replacing any earlier version, with a calls row per
// leg that changed (with its spec the first time), and appends outbox, in
// one transaction: when Commit returns nil all of
// it is durable (fsynced); on error none of it was written. An outbox entry
// whose (CallID, Seq) already exists fails the Commit. The conversation is
// encoded before Commit returns, so the caller may change it afterwards.
//
// ctx is honoured only while the write is queued; callers that must know
// the outcome pass a context that is never cancelled.
func (s *Store) Commit(ctx context.Context, conv *calls.Conversation, outbox []calls.OutboxEntry) error {
	apply, err := conversationWrite(conv, outbox)
	if err != nil {
		return err
	}
	return s.submit(ctx, apply)
}

// CommitAll writes each change as Commit does, all in one transaction: when
// it returns nil all of it is durable; on error (such as one outbox entry
// that already exists) none of it was written.
func (s *Store) CommitAll(ctx context.Context, changes []calls.Change) error {
	applies := make([]func(w *writer) error, len(changes))
	for i, c := range changes {
		apply, err := conversationWrite(c.Conversation, c.Outbox)
		if err != nil {
			return err
		}
		applies[i] = apply
	}
	// One request is one savepoint of the writer's batch: a failing write
	// rolls back the changes written before it too.
	return s.submit(ctx, func(w *writer) error {
		for _, apply := range applies {
			if err := apply(w); err != nil {
				return err
			}
		}
		return nil
	})
}

// conversationWrite encodes conv and outbox at once, and returns the
// writer's work that stores them.
func conversationWrite(conv *calls.Conversation, outbox []calls.OutboxEntry) (func(w *writer) error, error) {
	if conv == nil {
		return nil, errors.New("sqlite: commit of a nil conversation")
	}
	if conv.ID == "" {
		return nil, errors.New("sqlite: commit of a conversation without id")
	}
	data, err := codec.EncodeConversation(conv)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode conversation %s: %w", conv.ID, err)
	}
	live := 0
	if conv.Live() {
		live = 1
	}
	legs := make([]writtenLeg, len(conv.Legs))
	for i, l := range conv.Legs {
		legs[i] = writtenLeg{row: codec.RowOf(conv.ID, l), leg: l}
	}
	entries := append([]calls.OutboxEntry(nil), outbox...)
	id, tenant, created, updated := conv.ID, conv.TenantID, conv.CreatedAt, conv.UpdatedAt

	return func(w *writer) error {
		if _, err := w.exec(w.upsertConversation, id, tenant, live, string(data), nanos(created), nanos(updated)); err != nil {
			return fmt.Errorf("sqlite: write conversation %s: %w", id, err)
		}
		if err := w.writeLegs(id, live == 1, legs); err != nil {
			return err
		}
		for _, e := range entries {
			body := e.Body
			if body == nil {
				body = []byte{} // the column is NOT NULL; nil would bind as NULL
			}
			if _, err := w.exec(w.insertOutbox, e.CallID, e.Seq, e.URL, body, e.AppID, e.TenantID, e.ChainID, nanos(e.CreatedAt)); err != nil {
				return fmt.Errorf("sqlite: append outbox entry %s/%d: %w", e.CallID, e.Seq, err)
			}
		}
		return nil
	}, nil
}

// LoadLive returns every conversation in which some leg has not ended, as of
// the last Commit that returned, oldest first.
func (s *Store) LoadLive(ctx context.Context) ([]*calls.Conversation, error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	// Both reads in one transaction, so that specs and conversations are of
	// the same commit.
	tx, err := s.readDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: load live conversations: %w", err)
	}
	defer tx.Rollback()
	specs, err := liveSpecs(ctx, tx.StmtContext(ctx, s.read.loadLiveSpecs))
	if err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, s.read.loadLive).QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load live conversations: %w", err)
	}
	defer rows.Close()
	var out []*calls.Conversation
	for rows.Next() {
		var id string
		var data sql.RawBytes
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("sqlite: load live conversations: %w", err)
		}
		c, err := codec.DecodeConversation(data, specs)
		if err != nil {
			return nil, fmt.Errorf("sqlite: decode conversation %s: %w", id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load live conversations: %w", err)
	}
	// Their calls rows are as the last commit left them: commits need not
	// write them again until they change. (A leg whose spec is still in
	// data, as an older build wrote it, is not known, and gets it written.)
	for _, c := range out {
		for _, l := range c.Legs {
			if _, ok := specs[l.ID]; ok {
				s.w.legs.Wrote(true, codec.RowOf(c.ID, l))
			}
		}
	}
	return out, nil
}

// liveSpecs returns the specs of the calls of live conversations, by call id.
func liveSpecs(ctx context.Context, st *sql.Stmt) (map[string][]byte, error) {
	rows, err := st.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load specs of live calls: %w", err)
	}
	defer rows.Close()
	specs := make(map[string][]byte)
	for rows.Next() {
		var id string
		var spec []byte
		if err := rows.Scan(&id, &spec); err != nil {
			return nil, fmt.Errorf("sqlite: load specs of live calls: %w", err)
		}
		specs[id] = spec
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load specs of live calls: %w", err)
	}
	return specs, nil
}

// beginRead fails a read after Close has begun; otherwise it makes Close
// wait until the read calls done, so a read never meets a closed database.
func (s *Store) beginRead() (done func(), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	return s.mu.RUnlock, nil
}

// readStmts are the prepared statements of the read pool.
type readStmts struct {
	stmts []*sql.Stmt

	loadLive, loadLiveSpecs, pending, loadKeys *sql.Stmt
}

func (r *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&r.loadLive, loadLiveSQL},
		{&r.loadLiveSpecs, loadLiveSpecsSQL},
		{&r.pending, pendingSQL},
		{&r.loadKeys, loadKeysSQL},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", p.sql, err)
		}
		*p.dst = st
		r.stmts = append(r.stmts, st)
	}
	return nil
}

func (r *readStmts) close() {
	for _, st := range r.stmts {
		st.Close()
	}
	r.stmts = nil
}
