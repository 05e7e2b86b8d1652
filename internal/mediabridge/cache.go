package mediabridge

import (
	"container/list"
	"context"
	"sync"

	"github.com/switchboard-dev/switchboard/internal/media"
)

// promptCache keeps decoded prompts within a byte budget per tenant and a
// byte budget in total, dropping the least recently used first: one
// tenant's prompts evict only its own once it reaches its budget, so with
// tenant budgets smaller than the total one tenant cannot empty the cache
// of the others. It is not safe for concurrent use (Bridge.mu guards it).
type promptCache struct {
	max, tenantMax int64
	bytes          int64
	lru            list.List // of *cachedPrompt, most recently used first
	byKey          map[promptKey]*cachedPrompt
	tenants        map[string]*tenantPrompts
}

// tenantPrompts are one tenant's cached prompts.
type tenantPrompts struct {
	bytes int64
	lru   list.List // of *cachedPrompt, most recently used first
}

type cachedPrompt struct {
	key       promptKey
	audio     media.Audio
	size      int64
	all, mine *list.Element
}

// promptOverhead is what an entry costs besides its samples, so that empty
// prompts still count.
const promptOverhead = 256

func newPromptCache(max, tenantMax int64) *promptCache {
	return &promptCache{max: max, tenantMax: tenantMax, byKey: make(map[promptKey]*cachedPrompt), tenants: make(map[string]*tenantPrompts)}
}

// promptSize is what audio cached under k costs.
func promptSize(k promptKey, a media.Audio) int64 {
	return 2*int64(cap(a.Samples)) + int64(len(k.tenant)+len(k.app)+len(k.uri)+len(k.resourceID)) + promptOverhead
}

// get returns the prompt cached under k, and makes it the most recently
// used.
func (c *promptCache) get(k promptKey) (media.Audio, bool) {
	e, ok := c.byKey[k]
	if !ok {
		return media.Audio{}, false
	}
	c.lru.MoveToFront(e.all)
	c.tenants[k.tenant].lru.MoveToFront(e.mine)
	return e.audio, true
}

// put caches a under k, evicting the tenant's least recently used prompts
// to stay within its budget, then anyone's to stay within the total. A
// prompt larger than a budget is not cached.
func (c *promptCache) put(k promptKey, a media.Audio) {
	n := promptSize(k, a)
	if n > c.tenantMax || n > c.max {
		return
	}
	if old, ok := c.byKey[k]; ok {
		c.remove(old)
	}
	if t := c.tenants[k.tenant]; t != nil {
		for t.bytes+n > c.tenantMax {
			c.remove(t.lru.Back().Value.(*cachedPrompt))
		}
	}
	for c.bytes+n > c.max {
		c.remove(c.lru.Back().Value.(*cachedPrompt))
	}
	// Looked up only now: evictions may have removed the tenant's last
	// entry, and with it the tenant.
	t := c.tenants[k.tenant]
	if t == nil {
		t = &tenantPrompts{}
		c.tenants[k.tenant] = t
	}
	e := &cachedPrompt{key: k, audio: a, size: n}
	e.all = c.lru.PushFront(e)
	e.mine = t.lru.PushFront(e)
	c.byKey[k] = e
	c.bytes += n
	t.bytes += n
}

func (c *promptCache) remove(e *cachedPrompt) {
	c.lru.Remove(e.all)
	t := c.tenants[e.key.tenant]
	t.lru.Remove(e.mine)
	t.bytes -= e.size
	c.bytes -= e.size
	delete(c.byKey, e.key)
	if t.lru.Len() == 0 {
		delete(c.tenants, e.key.tenant)
	}
}

// tenantBytes returns the bytes cached for tenant.
func (c *promptCache) tenantBytes(tenant string) int64 {
	if t := c.tenants[tenant]; t != nil {
		return t.bytes
	}
	return 0
}

// fetchSlots bounds the fetches running at once, in total and per tenant.
type fetchSlots struct {
	total     chan struct{}
	perTenant int

	mu      sync.Mutex
	tenants map[string]*tenantSlots
}

type tenantSlots struct {
	slots chan struct{}
	users int // holding or waiting for a slot
}

func newFetchSlots(total, perTenant int) *fetchSlots {
	return &fetchSlots{total: make(chan struct{}, total), perTenant: perTenant, tenants: make(map[string]*tenantSlots)}
}

// acquire waits for one of tenant's slots, then for one of the total, or
// until ctx ends. Waiting for the tenant's slot first means a tenant with
// many fetches never holds total slots it cannot use. release gives both
// back.
func (s *fetchSlots) acquire(ctx context.Context, tenant string) (release func(), err error) {
	s.mu.Lock()
	t := s.tenants[tenant]
	if t == nil {
		t = &tenantSlots{slots: make(chan struct{}, s.perTenant)}
		s.tenants[tenant] = t
	}
	t.users++
	s.mu.Unlock()
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		s.leave(tenant, t)
		return nil, ctx.Err()
	}
	select {
	case s.total <- struct{}{}:
	case <-ctx.Done():
		<-t.slots
		s.leave(tenant, t)
		return nil, ctx.Err()
	}
	return func() {
		<-s.total
		<-t.slots
		s.leave(tenant, t)
	}, nil
}

// leave forgets a tenant nobody holds or waits for a slot of.
func (s *fetchSlots) leave(tenant string, t *tenantSlots) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.users--; t.users == 0 {
		delete(s.tenants, tenant)
	}
}
