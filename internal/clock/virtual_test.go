package clock

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestVirtualJump(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := NewVirtual(Real{})
		start := v.Now()
		var mu sync.Mutex
		var fired []string
		at := func(name string) func() {
			return func() {
				mu.Lock()
				defer mu.Unlock()
				fired = append(fired, name+"@"+v.Now().Sub(start).String())
			}
		}
		v.AfterFunc(44*time.Minute, at("c"))
		v.AfterFunc(time.Minute, at("a"))
		v.AfterFunc(46*time.Minute, at("late"))
		stopped := v.AfterFunc(20*time.Minute, at("stopped"))
		v.AfterFunc(10*time.Minute, func() {
			at("b")()
			v.AfterFunc(30*time.Minute, at("scheduled by b")) // due at 40m: within the jump
		})
		got := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(fired)
		}
		if !stopped.Stop() || stopped.Stop() {
			t.Fatal("Stop reports wrongly")
		}
		now := v.Jump(45 * time.Minute)
		if got := now.Sub(start); got != 45*time.Minute {
			t.Fatalf("the jump reached %v, want 45m", got)
		}
		want := []string{"a@1m0s", "b@10m0s", "scheduled by b@40m0s", "c@44m0s"}
		if !slices.Equal(got(), want) {
			t.Fatalf("fired %q, want %q", got(), want)
		}
		// The timer past the jump is a minute away now, on the real clock.
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if len(got()) != 4 {
			t.Fatalf("fired %q before its due time", got())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if f := got(); len(f) != 5 || f[4] != "late@46m0s" {
			t.Fatalf("fired %q; want the late timer at 46m", f)
		}
		if v.Offset() != 45*time.Minute {
			t.Fatalf("offset %v", v.Offset())
		}
	})
}

func TestVirtualRunsInRealTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := NewVirtual(Real{})
		done := make(chan time.Time, 1)
		start := v.Now()
		v.AfterFunc(3*time.Second, func() { done <- v.Now() })
		time.Sleep(3 * time.Second)
		synctest.Wait()
		select {
		case at := <-done:
			if at.Sub(start) != 3*time.Second {
				t.Fatalf("fired at %v", at.Sub(start))
			}
		default:
			t.Fatal("the timer did not fire with the passing of time")
		}
		if v.Jump(-time.Hour); v.Now().Sub(start) != 3*time.Second {
			t.Fatal("a negative jump moved the clock")
		}
	})
}
