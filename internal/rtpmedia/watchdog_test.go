package rtpmedia

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

func TestWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fired atomic.Int32
		w := NewWatchdog(clock.Real{}, time.Second, func() { fired.Add(1) })
		check := func(step string, want int32) {
			t.Helper()
			synctest.Wait()
			if got := fired.Load(); got != want {
				t.Fatalf("%s: fired %d times, want %d", step, got, want)
			}
		}
		time.Sleep(5 * time.Second)
		check("before Start", 0)

		w.Start()
		for range 5 { // packets keep it quiet
			time.Sleep(900 * time.Millisecond)
			w.Feed()
		}
		check("fed", 0)
		time.Sleep(999 * time.Millisecond)
		check("just under the timeout", 0)
		time.Sleep(time.Millisecond)
		check("at the timeout", 1)
		time.Sleep(5 * time.Second)
		check("once only", 1)

		w.Start() // restarted after firing
		time.Sleep(500 * time.Millisecond)
		w.Pause()
		time.Sleep(5 * time.Second)
		check("paused", 1)
		w.Start()
		time.Sleep(999 * time.Millisecond)
		check("resumed, counting anew", 1)
		time.Sleep(time.Millisecond)
		check("resumed and quiet", 2)

		w.Start()
		w.Stop()
		w.Start()
		time.Sleep(5 * time.Second)
		check("stopped", 2)
	})
}

// A leg's timeout counts while the peer should send, and a packet resets
// it; hold pauses it.
func TestLegTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fired atomic.Int32
		l, err := New(Config{ID: "phone", Media: pcmu(), Clock: clock.Real{}, Timeout: 2 * time.Second,
			OnTimeout: func() { fired.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		silence := encode(nil, make([]int16, NarrowFrame), sdp.PCMU)
		time.Sleep(1500 * time.Millisecond)
		l.Receive(packet(0, 1, 0, false, silence), peerAddr)
		time.Sleep(1500 * time.Millisecond)
		l.Receive(packet(0, 2, 160, false, silence), otherAddr) // not the peer's: does not count
		l.Receive(packet(13, 3, 320, false, silence), peerAddr) // not negotiated: does not count
		synctest.Wait()
		if fired.Load() != 0 {
			t.Fatal("fired while packets came")
		}
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if fired.Load() != 1 {
			t.Fatal("did not fire 2 s after the last packet")
		}

		m := pcmu()
		m.Direction = sdp.SendOnly // we hold the peer: it sends nothing
		if err := l.Update(m); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if fired.Load() != 1 {
			t.Fatal("fired on hold")
		}
		m.Direction = sdp.SendRecv
		if err := l.Update(m); err != nil {
			t.Fatal(err)
		}
		l.Close()
		time.Sleep(time.Minute)
		synctest.Wait()
		if fired.Load() != 1 {
			t.Fatal("fired after Close")
		}
	})
}
