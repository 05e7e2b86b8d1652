// Package idempotencytest provides a hand-written in-memory
// idempotency.Store for tests of its users.
package idempotencytest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

var _ idempotency.Store = (*MemoryStore)(nil)

type key struct{ scope, key string }

// MemoryStore is an idempotency.Store kept in memory. Its zero value is an
// empty store ready to use; it is safe for concurrent use. It deletes
// expired records on each reservation.
type MemoryStore struct {
	mu   sync.Mutex
	recs map[key]idempotency.Record
}

// ReserveIdempotency implements idempotency.Store.
func (m *MemoryStore) ReserveIdempotency(ctx context.Context, rec idempotency.Record, now, staleBefore time.Time) (idempotency.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return idempotency.Record{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = make(map[key]idempotency.Record)
	}
	maps.DeleteFunc(m.recs, func(_ key, r idempotency.Record) bool { return !r.ExpiresAt.After(now) })
	k := key{rec.Scope, rec.Key}
	if old, ok := m.recs[k]; ok && (old.Response != nil || !old.CreatedAt.Before(staleBefore)) {
		return clone(old), false, nil
	}
	rec.Response = nil
	m.recs[k] = clone(rec)
	return idempotency.Record{}, true, nil
}

// CompleteIdempotency implements idempotency.Store.
func (m *MemoryStore) CompleteIdempotency(ctx context.Context, scope, k, token string, resp idempotency.Response) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key{scope, k}]
	if !ok || r.Token != token || r.Response != nil {
		return fmt.Errorf("%w: %s", idempotency.ErrNotHeld, k)
	}
	r.Response = &resp
	m.recs[key{scope, k}] = clone(r)
	return nil
}

// ReleaseIdempotency implements idempotency.Store.
func (m *MemoryStore) ReleaseIdempotency(ctx context.Context, scope, k, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key{scope, k}]
	if !ok || r.Token != token || r.Response != nil {
		return fmt.Errorf("%w: %s", idempotency.ErrNotHeld, k)
	}
	delete(m.recs, key{scope, k})
	return nil
}

// Len returns the number of records held, expired ones included.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}

func clone(r idempotency.Record) idempotency.Record {
	r.RequestHash = bytes.Clone(r.RequestHash)
	if r.Response != nil {
		resp := *r.Response
		resp.Body = bytes.Clone(resp.Body)
		resp.Header = make(map[string][]string, len(r.Response.Header))
		for k, v := range r.Response.Header {
			resp.Header[k] = slices.Clone(v)
		}
		r.Response = &resp
	}
	return r
}
