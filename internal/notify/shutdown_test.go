package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/notify/notifytest"
)

// TestShutdownLetsInFlightDeliveriesFinish: a bot that acknowledges a
// notification while the server shuts down must not get it again after
// the restart.
func TestShutdownLetsInFlightDeliveriesFinish(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(100 * time.Millisecond) // a slow but healthy bot
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	outbox := &notifytest.MemoryOutbox{}
	outbox.Add(delivery("c1", 1, srv.URL))
	h := newHarness(t, notify.Config{Outbox: outbox, ShutdownGrace: 5 * time.Second})
	h.start()
	<-arrived
	h.shutdown()
	if r, _ := outbox.Row("c1", 1); !r.Delivered {
		t.Fatalf("row = %+v: the acknowledged delivery is still pending and would be sent again", r)
	}
}

// roundTripFunc is an http.RoundTripper in a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestShutdownGraceRunsOnTheInjectedClock: the grace that Shutdown gives a
// delivery in flight is measured by the Worker's clock, not by a timer of
// its own, so that a virtual clock decides when it is over.
func TestShutdownGraceRunsOnTheInjectedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		stuck := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			arrived <- struct{}{}
			<-r.Context().Done() // a bot that never answers
			return nil, r.Context().Err()
		})
		h := newHarness(t, notify.Config{Client: &http.Client{Transport: stuck}, ShutdownGrace: time.Minute})
		h.outbox.Add(delivery("c1", 1, "http://bot.example/callback"))
		h.start()
		<-arrived

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- h.w.Shutdown(ctx) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned (%v) before the grace was over on the Worker's clock", err)
		default:
		}

		h.clock.Advance(time.Minute)
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		default:
			t.Fatal("Shutdown still waits after the Worker's clock passed the grace: it measures the grace with another clock")
		}
		if r, _ := h.outbox.Row("c1", 1); r.Delivered {
			t.Errorf("row = %+v: the cancelled delivery is marked delivered", r)
		}
	})
}
