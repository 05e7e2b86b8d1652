package notify_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

func TestBacklogCountsUnfinishedDeliveries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{})
	h.commit(delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL), delivery("c2", 1, srv.URL))
	h.commit(delivery("c1", 2, srv.URL)) // a duplicate is not counted twice
	if n := h.w.Backlog(); n != 3 {
		t.Fatalf("Backlog before Start = %d, want 3", n)
	}
	h.start()
	for range 3 {
		if r := <-h.results; !r.delivered {
			t.Fatalf("result %+v, want delivered", r)
		}
	}
	h.shutdown() // waits for the last delivery to leave its queue
	if n := h.w.Backlog(); n != 0 {
		t.Fatalf("Backlog after every delivery = %d, want 0", n)
	}
}
