package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestObserveBatch checks that each write transaction is reported once,
// with the number of requests it carried.
func TestObserveBatch(t *testing.T) {
	sizes := make(chan int, 16)
	opts := quiet
	opts.ObserveBatch = func(n int, took time.Duration) {
		if took < 0 {
			t.Errorf("batch of %d took %v", n, took)
		}
		sizes <- n
	}
	s, err := Open(t.Context(), tempPath(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := holdWriter(t, s)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			id := fmt.Sprintf("conv-%d", i)
			errs <- s.Commit(context.Background(), storetest.Conversation(id, t0), []calls.OutboxEntry{storetest.Entry(id+"-call", 1, t0)})
		}()
	}
	waitQueued(t, s, 3)
	release()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{1, 3} { // the held request's batch, then the three queued behind it
		select {
		case n := <-sizes:
			if n != want {
				t.Fatalf("batch of %d requests observed, want %d", n, want)
			}
		case <-t.Context().Done():
			t.Fatalf("no batch of %d observed", want)
		}
	}
}
