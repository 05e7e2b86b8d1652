package throttle

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

func TestLimiterBurstThenRecovers(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(10, 5*time.Second, c) // 2 per second, burst 10
	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow("t1/app-a"); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, wait := l.Allow("t1/app-a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("11th request: ok=%v wait=%v, want refused with a wait of at most 500ms", ok, wait)
	}
	if ok, _ := l.Allow("t1/app-b"); !ok {
		t.Fatal("another application shares the bucket")
	}
	c.Advance(wait)
	if ok, _ := l.Allow("t1/app-a"); !ok {
		t.Fatal("not allowed after waiting Retry-After")
	}
	if ok, _ := l.Allow("t1/app-a"); ok {
		t.Fatal("allowed twice after one token refilled")
	}
	c.Advance(time.Hour)
	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow("t1/app-a"); !ok {
			t.Fatal("the bucket did not refill to its burst")
		}
	}
}

// TestLimiterPeek checks that Peek answers as Allow would without taking
// a token: a key is refused by Peek exactly when Allow would refuse it, for
// as long, and peeking never drains or creates a bucket.
func TestLimiterPeek(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(2, 10*time.Second, c) // one token per 5 s, burst 2
	for range 5 {
		if ok, _ := l.Peek("k"); !ok {
			t.Fatal("Peek refused a fresh key")
		}
	}
	l.Allow("k")
	l.Allow("k")
	ok, wait := l.Peek("k")
	if ok || wait != 5*time.Second {
		t.Fatalf("Peek of an empty bucket: ok=%v wait=%v, want refused for 5s", ok, wait)
	}
	if ok, again := l.Allow("k"); ok || again != wait {
		t.Fatalf("Allow after Peek: ok=%v wait=%v, want what Peek said", ok, again)
	}
	c.Advance(5 * time.Second)
	if ok, _ := l.Peek("k"); !ok {
		t.Fatal("Peek refused once a token refilled")
	}
	if ok, _ := l.Peek("k"); !ok {
		t.Fatal("Peek took the token it looked at")
	}
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("Allow refused the token Peek saw")
	}
	for i := range 1000 {
		l.Peek(string(rune('a' + i%26)))
	}
	if n := l.keys(); n != 1 {
		t.Errorf("the limiter holds %d buckets after peeking at new keys, want 1", n)
	}
}

func TestLimiterConcurrentExact(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(1000, time.Hour, c)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if ok, _ := l.Allow("k"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 1000 {
		t.Fatalf("allowed %d of 4000, want exactly the burst of 1000", allowed)
	}
}

func TestGate(t *testing.T) {
	g := NewGate(2)
	if !g.Enter() || !g.Enter() {
		t.Fatal("gate refused within its size")
	}
	if g.Enter() {
		t.Fatal("gate admitted beyond its size")
	}
	g.Leave()
	if !g.Enter() {
		t.Fatal("gate did not free a slot")
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(1<<30, time.Second, nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow("tenant/app")
		}
	})
}

// keys counts the buckets l holds.
func (l *Limiter) keys() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].buckets)
		l.shards[i].mu.Unlock()
	}
	return n
}
