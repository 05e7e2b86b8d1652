package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Virtual is a base clock (the wall clock, in a server) plus an offset
// that Jump moves forward: time travel for development servers. Its
// timers run on their virtual due time: as time passes they fire when
// the base clock reaches it; a Jump fires every timer that falls due in
// the span it jumps, one after the other in due order, each while Now
// reads its due time, timers that those schedule within the span
// included. Time never goes back. It is safe for concurrent use.
type Virtual struct {
	base Clock

	jump sync.Mutex // one Jump at a time

	mu     sync.Mutex
	offset time.Duration
	timers virtualHeap
	seq    uint64 // orders timers due at the same time by creation
}

// NewVirtual returns a Virtual clock over base, with no offset.
func NewVirtual(base Clock) *Virtual { return &Virtual{base: base} }

type virtualTimer struct {
	v     *Virtual
	due   time.Time
	seq   uint64
	f     func()
	index int   // in the heap; -1 once fired or stopped
	real  Timer // on the base clock
}

// Now returns the base clock's time plus the offset.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.nowLocked()
}

func (v *Virtual) nowLocked() time.Time { return v.base.Now().Add(v.offset) }

// Offset is how far Jump has moved the clock ahead of its base.
func (v *Virtual) Offset() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.offset
}

// AfterFunc calls f in its own goroutine once d has elapsed on this clock
// (or, during a Jump that passes its due time, in the Jump's goroutine).
func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	t := &virtualTimer{v: v, due: v.nowLocked().Add(d), seq: v.seq, f: f}
	heap.Push(&v.timers, t)
	v.armLocked(t)
	return t
}

// armLocked schedules t's firing on the base clock.
func (v *Virtual) armLocked(t *virtualTimer) {
	t.real = v.base.AfterFunc(t.due.Sub(v.nowLocked()), func() {
		v.mu.Lock()
		if t.index < 0 {
			v.mu.Unlock()
			return
		}
		heap.Remove(&v.timers, t.index)
		v.mu.Unlock()
		t.f()
	})
}

// Stop cancels the timer if it has not fired.
func (t *virtualTimer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.v.timers, t.index)
	t.real.Stop()
	return true
}

// Jump moves the clock forward by d (d <= 0 does nothing): its offset
// grows by exactly d. It fires the timers that fall due on the way as the
// type's doc says, and returns the time it reached once every timer it
// fired has returned.
func (v *Virtual) Jump(d time.Duration) time.Time {
	v.jump.Lock()
	defer v.jump.Unlock()
	v.mu.Lock()
	final := v.offset + max(d, 0) // the offset grows by exactly d
	for len(v.timers) > 0 && !v.timers[0].due.After(v.base.Now().Add(final)) {
		t := heap.Pop(&v.timers).(*virtualTimer)
		t.real.Stop()
		if need := t.due.Sub(v.base.Now()); need > v.offset {
			v.offset = min(need, final) // Now reads its due time while it runs
		}
		v.mu.Unlock()
		t.f()
		v.mu.Lock()
	}
	v.offset = final
	// The timers left are due sooner, on the base clock, than when they
	// were armed.
	for _, t := range v.timers {
		t.real.Stop()
		v.armLocked(t)
	}
	now := v.nowLocked()
	v.mu.Unlock()
	return now
}

// virtualHeap orders pending timers by due time, then creation.
type virtualHeap []*virtualTimer

func (h virtualHeap) Len() int { return len(h) }
func (h virtualHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h virtualHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *virtualHeap) Push(x any) {
	t := x.(*virtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *virtualHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
