package auth

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// ErrAssertionIDQuota is returned by AssertionIDStore.UseAssertionID when
// the client already holds its quota of unexpired assertion ids.
var ErrAssertionIDQuota = errors.New("auth: quota of client assertion ids reached")

// DefaultAssertionIDsPerClient bounds the unexpired assertion ids one
// client holds: with assertions valid for at most 10 minutes, about 15
// token requests a second, far beyond a bot that caches its token.
const DefaultAssertionIDsPerClient = 10_000

// maxAssertionIDLength bounds the jti of a client assertion; MSAL's is a
// UUID.
const maxAssertionIDLength = 256

// AssertionIDStore remembers the ids (jti) of the client assertions
// already used, so that an assertion is accepted once only: across a
// restart, and on every node that shares the store. Implementations must be
// safe for concurrent use, and UseAssertionID must be atomic: of two
// concurrent uses of one id exactly one is first.
type AssertionIDStore interface {
	// UseAssertionID records id for clientID until expires and reports
	// true, unless the same (clientID, id) is recorded and has not expired
	// at now: then it reports false. A clientID that holds max unexpired
	// ids already gets an error wrapping ErrAssertionIDQuota, and nothing
	// is recorded; the ids of other clients never make room, so no client
	// can push another's ids out. Ids expired at now may be deleted
	// whenever the store likes. Client ids are compared exactly; callers
	// pass them in one case.
	UseAssertionID(ctx context.Context, clientID, id string, expires, now time.Time, max int) (first bool, err error)
}

// MemoryAssertionIDs is an AssertionIDStore kept in memory: the ids are
// lost on restart. Its zero value is empty and ready to use; it is safe
// for concurrent use.
type MemoryAssertionIDs struct {
	mu       sync.Mutex
	byClient map[string]map[string]time.Time // client -> id -> expires
}

// UseAssertionID implements AssertionIDStore. A client's expired ids are
// deleted when it reaches max.
func (m *MemoryAssertionIDs) UseAssertionID(ctx context.Context, clientID, id string, expires, now time.Time, max int) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byClient == nil {
		m.byClient = make(map[string]map[string]time.Time)
	}
	ids := m.byClient[clientID]
	if ids == nil {
		ids = make(map[string]time.Time)
		m.byClient[clientID] = ids
	}
	if t, ok := ids[id]; ok && now.Before(t) {
		return false, nil
	}
	if _, ok := ids[id]; !ok && len(ids) >= max {
		maps.DeleteFunc(ids, func(_ string, t time.Time) bool { return !now.Before(t) })
		if len(ids) >= max {
			return false, ErrAssertionIDQuota
		}
	}
	ids[id] = expires
	return true, nil
}
