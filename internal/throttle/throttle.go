// Package throttle limits request rates with token buckets, one per key
// (Switchboard keys them by tenant and application, as Graph throttles "per
// application per tenant"), and sheds load when too many requests are in
// flight. It imports only the standard library and internal/clock.
package throttle

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Limiter is a set of token buckets, one per key, each refilled at the same
// rate up to the same burst. The zero value is not usable; use New. It is
// safe for concurrent use.
type Limiter struct {
	rate   float64 // tokens per second
	burst  float64
	clock  clock.Clock
	seed   maphash.Seed
	shards [64]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Limiter that allows limit requests per period for each key,
// all of them at once if they come together (burst = limit), like Graph's
// "50,000 requests in a 15-second period". A nil clock means the wall clock.
func New(limit int, period time.Duration, c clock.Clock) *Limiter {
	if c == nil {
		c = clock.Real{}
	}
	l := &Limiter{rate: float64(limit) / period.Seconds(), burst: float64(limit), clock: c, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*bucket)
	}
	return l
}

// Allow takes one token from key's bucket. When the bucket is empty it
// returns false and how long until a token is available.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.clock.Now()
	s := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	l.sweepLocked(s, now)
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		s.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// Peek reports whether Allow(key) would succeed now, and if not how long
// until it would, without taking a token. A key never seen, or whose bucket
// has refilled, has its whole burst; Peek does not create its bucket, so
// peeking at arbitrary keys costs no memory.
func (l *Limiter) Peek(key string) (bool, time.Duration) {
	now := l.clock.Now()
	s := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[key]
	if b == nil {
		return true, 0
	}
	tokens := b.tokens
	if el := now.Sub(b.last).Seconds(); el > 0 {
		tokens = math.Min(l.burst, tokens+el*l.rate)
	}
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / l.rate * float64(time.Second))
}

// sweepLocked drops buckets that have refilled completely, so idle keys do
// not accumulate. It runs at most once a minute per shard.
func (l *Limiter) sweepLocked(s *shard, now time.Time) {
	if now.Sub(s.sweep) < time.Minute {
		return
	}
	s.sweep = now
	for k, b := range s.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(s.buckets, k)
		}
	}
}

// Gate counts requests in flight and refuses new ones beyond a maximum.
// The zero value is not usable; use NewGate. It is safe for concurrent use.
type Gate struct {
	slots chan struct{}
}

// NewGate returns a Gate admitting at most max requests at once.
func NewGate(max int) *Gate { return &Gate{slots: make(chan struct{}, max)} }

// Enter admits a request if a slot is free; the caller must call Leave
// after an admitted request.
func (g *Gate) Enter() bool {
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Leave frees the slot taken by Enter.
func (g *Gate) Leave() { <-g.slots }
