package rtpmedia

import (
	"net/netip"
	"sync"
	"testing"
)

// collector is a Writer that keeps what it is given, and can hold its
// writes until released.
type collector struct {
	mu   sync.Mutex
	got  []string
	gate chan struct{}
}

func (c *collector) WriteTo(b []byte, _ netip.AddrPort) error {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	c.got = append(c.got, string(b))
	c.mu.Unlock()
	return nil
}

func TestSenderSendsCopiesInOrder(t *testing.T) {
	s := NewSender(1, 8)
	c := &collector{}
	w := s.Writer(c)
	b := []byte("one")
	if err := w.WriteTo(b, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	copy(b, "xxx") // the caller reuses its buffer at once
	if err := w.WriteTo([]byte("two"), netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	for {
		c.mu.Lock()
		n := len(c.got)
		c.mu.Unlock()
		if n == 2 {
			break
		}
	}
	s.Close()
	if c.got[0] != "one" || c.got[1] != "two" {
		t.Fatalf("sent %q; want one, two", c.got)
	}
}

func TestSenderDropsWhenFull(t *testing.T) {
	s := NewSender(1, 2)
	c := &collector{gate: make(chan struct{})}
	w := s.Writer(c)
	var dropped int
	for range 10 {
		if w.WriteTo([]byte("p"), netip.AddrPort{}) == ErrSendQueueFull {
			dropped++
		}
	}
	// One packet is with the worker, two wait in the queue: the rest drop.
	if dropped < 7 || s.Dropped() != uint64(dropped) {
		t.Fatalf("dropped %d (counted %d) of 10 with a queue of 2; want at least 7", dropped, s.Dropped())
	}
	close(c.gate)
	s.Close()
	if err := w.WriteTo([]byte("late"), netip.AddrPort{}); err != ErrSendQueueFull {
		t.Fatalf("a write after Close: %v; want it dropped", err)
	}
}
