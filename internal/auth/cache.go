package auth

import (
	"sync"
	"time"
)

// verifiedCacheSize bounds the tokens remembered by Authenticate.
const verifiedCacheSize = 10_000

// verifiedCache remembers tokens that passed validation until their exp. It
// is safe for concurrent use.
type verifiedCache struct {
	max int
	mu  sync.RWMutex
	m   map[string]verifiedEntry
}

type verifiedEntry struct {
	p   Principal
	exp time.Time
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, m: make(map[string]verifiedEntry)}
}

// get returns the principal of a token verified before, if the token has
// not expired at now. The Principal's Roles are shared and must not be
// modified.
func (c *verifiedCache) get(token string, now time.Time) (Principal, bool) {
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if !ok {
		return Principal{}, false
	}
	if !now.Before(e.exp) {
		c.mu.Lock()
		if cur, ok := c.m[token]; ok && cur.exp.Equal(e.exp) {
			delete(c.m, token)
		}
		c.mu.Unlock()
		return Principal{}, false
	}
	return e.p, true
}

// put remembers a token verified at now until exp. When the cache is full
// it drops expired entries and, if that is not enough, arbitrary ones down
// to nine tenths of the bound, so that sweeping is amortised.
func (c *verifiedCache) put(token string, p Principal, exp, now time.Time) {
	if !now.Before(exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[token]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, k)
			}
		}
		target := c.max - c.max/10 - 1
		for k := range c.m {
			if len(c.m) <= target {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[token] = verifiedEntry{p: p, exp: exp}
}

func (c *verifiedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
