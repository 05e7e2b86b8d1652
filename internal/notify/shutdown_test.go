package notify_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
