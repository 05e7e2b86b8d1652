package phones

import (
	"container/list"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Authentication failures a source may make: 10 a minute, all at once.
const (
	authFailureBurst = 10
	authFailureRate  = authFailureBurst / 60.0
)

// Origin is where an INVITE comes from. The zero value is unknown.
type Origin uint8

// Origins.
const (
	OriginUnknown Origin = iota // neither a trunk nor a registered phone's address
	OriginTrunk                 // a trunk, by its allowFrom list
	OriginPhone                 // the address a live registration came from
)

// String returns "trunk", "phone" or "unknown".
func (o Origin) String() string {
	switch o {
	case OriginTrunk:
		return "trunk"
	case OriginPhone:
		return "phone"
	}
	return "unknown"
}

// Admission is the verdict on an INVITE's source.
type Admission struct {
	Origin Origin
	// Trunk is the trunk's name (OriginTrunk).
	Trunk string
	// Account is the username of a registration from the source's address
	// (OriginPhone). An address is no proof: several phones may share one
	// behind NAT, and addresses are forged over UDP; authenticate the
	// INVITE (Authenticate with ProxyAuthenticate) to know who calls.
	Account string
	// Allowed is false when the source has sent INVITEs faster than
	// Limits allow; the server should answer 503 with Retry-After, or
	// drop the request.
	Allowed    bool
	RetryAfter time.Duration
}

// Admit tells where an INVITE from source comes from, and spends one of
// the source's INVITE tokens (Limits: per address, an IPv6 address by its
// /64). A trunk's INVITEs are not rate limited: Acquire bounds its calls.
func (d *Directory) Admit(source netip.AddrPort) Admission {
	addr := sourceAddr(source)
	for i := range d.cfg.Trunks {
		t := &d.cfg.Trunks[i]
		for _, p := range t.allow {
			if p.Contains(addr) {
				return Admission{Origin: OriginTrunk, Trunk: t.Name, Allowed: true}
			}
		}
	}
	now := d.clock.Now()
	ad := Admission{Origin: OriginUnknown}
	if user, ok := d.registeredFrom(addr, now); ok {
		ad.Origin, ad.Account = OriginPhone, user
	}
	ad.Allowed, ad.RetryAfter = d.invites.allow(addr, now)
	return ad
}

// registeredFrom returns the newest live registration made from addr.
func (d *Directory) registeredFrom(addr netip.Addr, now time.Time) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var user string
	var newest time.Time
	for u, reg := range d.regs {
		for _, b := range reg.bindings {
			if sourceAddr(b.Source) == addr && now.Before(b.Expires) && (user == "" || b.Registered.After(newest)) {
				user, newest = u, b.Registered
			}
		}
	}
	return user, user != ""
}

// Acquire takes one of the trunk's call slots (Trunk.MaxCalls). It returns
// false for an unknown trunk or one whose slots are all taken; otherwise
// release frees the slot, and calling it again does nothing.
func (d *Directory) Acquire(trunk string) (release func(), ok bool) {
	g := d.gates[strings.ToLower(trunk)]
	if g == nil || !g.Enter() {
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(g.Leave) }, true
}

// sourceLimiter is a token bucket per source address that remembers at
// most max addresses: a new address beyond them makes it forget the one
// seen least recently, so that forged sources cannot grow its memory.
// Forgetting an address gives it a full bucket again, which costs a flood
// from forged addresses nothing it did not have. It is safe for concurrent
// use.
type sourceLimiter struct {
	rate  float64 // tokens a second
	burst float64
	max   int

	mu    sync.Mutex
	byKey map[netip.Addr]*list.Element
	lru   list.List // of *sourceBucket, most recent first
}

type sourceBucket struct {
	key    netip.Addr
	tokens float64
	last   time.Time
}

func newSourceLimiter(rate float64, burst, max int) *sourceLimiter {
	return &sourceLimiter{rate: rate, burst: float64(burst), max: max, byKey: map[netip.Addr]*list.Element{}}
}

// limitKey is the key of an address: itself, or its /64 for IPv6, since
// one host commonly holds a whole /64.
func limitKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// allow takes a token of addr's bucket, or reports how long until one is
// there.
func (l *sourceLimiter) allow(addr netip.Addr, now time.Time) (bool, time.Duration) {
	k := limitKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *sourceBucket
	if e, ok := l.byKey[k]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*sourceBucket)
	} else {
		if l.lru.Len() >= l.max {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.byKey, old.Value.(*sourceBucket).key)
		}
		b = &sourceBucket{key: k, tokens: l.burst, last: now}
		l.byKey[k] = l.lru.PushFront(b)
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b.tokens)
}

// peek reports whether allow would succeed, without taking a token or
// remembering addr.
func (l *sourceLimiter) peek(addr netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byKey[limitKey(addr)]
	if !ok {
		return true, 0
	}
	b := *e.Value.(*sourceBucket)
	l.refill(&b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b.tokens)
}

func (l *sourceLimiter) refill(b *sourceBucket, now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
}

func (l *sourceLimiter) wait(tokens float64) time.Duration {
	return time.Duration(math.Ceil((1 - tokens) / l.rate * float64(time.Second)))
}

// len is how many sources the limiter remembers.
func (l *sourceLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byKey)
}
