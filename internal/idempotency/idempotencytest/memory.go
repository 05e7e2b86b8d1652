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
func (m *MemoryStore) ReserveIdempotency(ctx context.Context, rec idempotency.Record, now, staleBefore time.Time, quota int) (idempotency.Record, bool, error) {
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
	if _, replacing := m.recs[k]; !replacing && quota > 0 {
		if err := m.makeRoomLocked(rec.Scope, quota, staleBefore); err != nil {
			return idempotency.Record{}, false, err
		}
	}
	rec.Response = nil
	m.recs[k] = clone(rec)
	return idempotency.Record{}, true, nil
}

// makeRoomLocked deletes scope's oldest records that are not in flight
// until it holds fewer than quota, or fails with ErrQuota.
func (m *MemoryStore) makeRoomLocked(scope string, quota int, staleBefore time.Time) error {
	var held int
	var evictable []key
	for k, r := range m.recs {
		if k.scope != scope {
			continue
		}
		held++
		if r.Response != nil || r.CreatedAt.Before(staleBefore) {
			evictable = append(evictable, k)
		}
	}
	excess := held - quota + 1
	if excess <= 0 {
		return nil
	}
	if len(evictable) < excess {
		return fmt.Errorf("%w: scope %s holds %d keys in flight", idempotency.ErrQuota, scope, held-len(evictable))
	}
	slices.SortFunc(evictable, func(a, b key) int { return m.recs[a].CreatedAt.Compare(m.recs[b].CreatedAt) })
	for _, k := range evictable[:excess] {
		delete(m.recs, k)
	}
	return nil
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
