package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrderAndStops(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFake(start)
	fired := make(chan string, 3)
	c.AfterFunc(2*time.Second, func() { fired <- "b" })
	c.AfterFunc(time.Second, func() { fired <- "a" })
	stopped := c.AfterFunc(time.Second, func() { fired <- "never" })
	if !stopped.Stop() {
		t.Fatal("Stop on a pending timer reported false")
	}
	c.Advance(500 * time.Millisecond)
	if got := c.Pending(); got != 2 {
		t.Fatalf("Pending = %d, want 2", got)
	}
	c.Advance(2 * time.Second)
	got := map[string]bool{<-fired: true, <-fired: true}
	if !got["a"] || !got["b"] {
		t.Fatalf("fired %v, want a and b", got)
	}
	if c.Now() != start.Add(2500*time.Millisecond) {
		t.Fatalf("Now = %v", c.Now())
	}
	select {
	case f := <-fired:
		t.Fatalf("stopped timer fired: %s", f)
	default:
	}
}
