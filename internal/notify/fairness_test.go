package notify_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// appDelivery is a delivery of call callID of application app, to a
// callback at host.
func appDelivery(app, callID string, seq int64, host string) notify.Delivery {
	d := delivery(callID, seq, "https://"+host+"/callback")
	d.AppID = app
	return d
}

// fakeBots is a transport that serves each callback host from a function,
// and tracks how many requests each host has in flight.
type fakeBots struct {
	mu       sync.Mutex
	inflight map[string]int
	peak     map[string]int
	serve    func(r *http.Request) (*http.Response, error)
}

func (b *fakeBots) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	b.inflight[r.URL.Host]++
	b.peak[r.URL.Host] = max(b.peak[r.URL.Host], b.inflight[r.URL.Host])
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inflight[r.URL.Host]--
		b.mu.Unlock()
	}()
	return b.serve(r)
}

func newFakeBots(serve func(r *http.Request) (*http.Response, error)) *fakeBots {
	return &fakeBots{inflight: map[string]int{}, peak: map[string]int{}, serve: serve}
}

func ok() *http.Response {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}
}

// TestDeadBotDoesNotDelayOtherApps: an application whose callbacks never
// answer, with more calls than the pool has goroutines, holds only its share
// of the pool; another application's callbacks go out at once, not after
// the dead bot's request timeouts.
func TestDeadBotDoesNotDelayOtherApps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 10 * time.Second
		start := time.Now() // the bubble's clock, which the request timeouts use
		var mu sync.Mutex
		var delivered []time.Duration
		bots := newFakeBots(func(r *http.Request) (*http.Response, error) {
			if r.URL.Host == "dead.example" {
				<-r.Context().Done() // never answers
				return nil, r.Context().Err()
			}
			mu.Lock()
			delivered = append(delivered, time.Since(start))
			mu.Unlock()
			return ok(), nil
		})
		h := newHarness(t, notify.Config{
			Client: &http.Client{Transport: bots}, Concurrency: 8, MaxInFlightPerApp: 2, RequestTimeout: timeout,
		})
		h.start()
		for i := range 40 {
			h.commit(appDelivery("dead-app", fmt.Sprintf("dead-%d", i), 1, "dead.example"))
		}
		for i := range 10 {
			h.commit(appDelivery("healthy-app", fmt.Sprintf("healthy-%d", i), 1, "healthy.example"))
		}
		synctest.Wait() // everything that can happen before a timeout has happened

		mu.Lock()
		defer mu.Unlock()
		if len(delivered) != 10 {
			t.Fatalf("%d of the healthy application's 10 callbacks delivered before the dead bot's first timeout (%v)", len(delivered), timeout)
		}
		for i, d := range delivered {
			if d != 0 {
				t.Errorf("healthy callback %d delivered after %v, want at once", i, d)
			}
		}
		bots.mu.Lock()
		defer bots.mu.Unlock()
		if n := bots.peak["dead.example"]; n != 2 {
			t.Errorf("the dead bot had %d requests in flight at once, want its share of 2", n)
		}
	})
}

// TestAppsAreServedRoundRobin: an application with many calls ready does
// not make another application's call wait behind all of them.
func TestAppsAreServedRoundRobin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var order []string
		bots := newFakeBots(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			order = append(order, r.Header.Get(notify.HeaderCallID))
			first := len(order) == 1
			mu.Unlock()
			if first {
				<-release // hold the only goroutine while the others queue up
			}
			return ok(), nil
		})
		h := newHarness(t, notify.Config{Client: &http.Client{Transport: bots}, Concurrency: 1})
		h.start()
		h.commit(appDelivery("busy-app", "busy-0", 1, "busy.example"))
		synctest.Wait()
		for i := 1; i < 10; i++ {
			h.commit(appDelivery("busy-app", fmt.Sprintf("busy-%d", i), 1, "busy.example"))
		}
		h.commit(appDelivery("other-app", "other", 1, "other.example"))
		close(release)
		synctest.Wait()

		mu.Lock()
		defer mu.Unlock()
		if len(order) != 11 || order[1] != "other" {
			t.Errorf("callbacks went out in the order %v, want the other application's call second", order)
		}
	})
}
