package mediabridge

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/media"
)

// check verifies the cache's books: every entry is in both lists, and the
// byte counts are the sums of the entries.
func (c *promptCache) check(t *testing.T) {
	t.Helper()
	var total int64
	per := map[string]int64{}
	for e := c.lru.Front(); e != nil; e = e.Next() {
		p := e.Value.(*cachedPrompt)
		total += p.size
		per[p.key.tenant] += p.size
		if c.byKey[p.key] != p {
			t.Fatalf("%v is in the list but not in the index", p.key)
		}
	}
	if total != c.bytes || len(c.byKey) != c.lru.Len() {
		t.Fatalf("cache counts %d bytes in %d entries; the list holds %d bytes in %d", c.bytes, len(c.byKey), total, c.lru.Len())
	}
	for tenant, n := range per {
		if got := c.tenantBytes(tenant); got != n || c.tenants[tenant].lru.Len() == 0 {
			t.Fatalf("tenant %s counts %d bytes; its entries hold %d", tenant, got, n)
		}
	}
	if len(per) != len(c.tenants) {
		t.Fatalf("%d tenants counted, %d hold entries", len(c.tenants), len(per))
	}
}

func samples(n int) media.Audio { return media.Audio{Samples: make([]int16, n)} }

// A put that evicts, to stay within the total, the last entry of the very
// tenant it is putting for keeps that tenant's books.
func TestPromptCacheEvictsOwnTenantsLastEntry(t *testing.T) {
	c := newPromptCache(3000, 3000)
	a1, b1, a2, b2 := promptKey{tenant: "a", uri: "1"}, promptKey{tenant: "b", uri: "1"}, promptKey{tenant: "a", uri: "2"}, promptKey{tenant: "b", uri: "2"}
	c.put(a1, samples(200))
	c.put(b1, samples(500))
	c.check(t)
	c.put(a2, samples(700)) // evicts a1, tenant a's only entry
	c.check(t)
	if _, ok := c.get(a1); ok {
		t.Fatal("a1 was not evicted")
	}
	if _, ok := c.get(a2); !ok {
		t.Fatal("a2 is not cached")
	}
	c.put(b2, samples(1000)) // evicts b1 and a2
	c.check(t)
	if c.bytes > c.max {
		t.Fatalf("%d bytes cached, more than %d", c.bytes, c.max)
	}
}

// A tenant at its budget evicts its own least recently used prompt, not
// another tenant's; a prompt over the budget is not kept; putting a key
// again replaces it.
func TestPromptCacheTenantBudget(t *testing.T) {
	c := newPromptCache(100_000, 5000)
	a1, a2, a3, b1 := promptKey{tenant: "a", uri: "1"}, promptKey{tenant: "a", uri: "2"}, promptKey{tenant: "a", uri: "3"}, promptKey{tenant: "b", uri: "1"}
	c.put(b1, samples(2000))
	c.put(a1, samples(1000))
	c.put(a2, samples(1000))
	c.get(a1) // a2 is now tenant a's least recently used
	c.put(a3, samples(1000))
	c.check(t)
	if _, ok := c.get(a2); ok {
		t.Fatal("a2, tenant a's least recently used, was kept")
	}
	for _, k := range []promptKey{a1, a3, b1} {
		if _, ok := c.get(k); !ok {
			t.Fatalf("%v was evicted", k)
		}
	}
	c.put(a1, samples(10)) // replaced, smaller
	c.put(promptKey{tenant: "a", uri: "big"}, samples(3000))
	c.check(t)
	if a, _ := c.get(a1); len(a.Samples) != 10 {
		t.Fatalf("a1 holds %d samples after it was put again, want 10", len(a.Samples))
	}
	if _, ok := c.get(promptKey{tenant: "a", uri: "big"}); ok {
		t.Fatal("a prompt over the tenant budget was kept")
	}
}
