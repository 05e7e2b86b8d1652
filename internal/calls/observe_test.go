package calls_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// observed records what an Observer hears.
type observed struct {
	mu  sync.Mutex
	got []string
}

func (c *observed) CallChanged(from calls.State, call *calls.Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := fmt.Sprintf("%s %v->%v", call.Direction, from, call.State)
	if call.Result != nil {
		s += fmt.Sprintf(" %d/%d", call.Result.Code, call.Result.Subcode)
	}
	c.got = append(c.got, s)
}

func TestObserverHearsEveryCommittedChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, err := sim.NewDirectory(time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		obs := &observed{}
		svc := calls.New(calls.Config{Store: callstest.NewStore(), Dispatcher: &callstest.Dispatcher{}, Directory: dir,
			AllowLoopbackHTTP: true, Logger: slog.New(slog.DiscardHandler), Observer: obs})
		if err := svc.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer svc.Shutdown(context.Background())

		leg, err := svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		if got := svc.CountByState(); got[calls.StateEstablishing] != 1 || len(got) != 1 {
			t.Fatalf("CountByState after create = %v", got)
		}
		time.Sleep(time.Second) // bob answers
		synctest.Wait()
		if got := svc.CountByState(); got[calls.StateEstablished] != 1 || len(got) != 1 {
			t.Fatalf("CountByState after answer = %v", got)
		}
		if err := svc.HangUp(t.Context(), alice, leg.ID); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := svc.CountByState(); len(got) != 0 {
			t.Fatalf("CountByState after hang-up = %v, want no call", got)
		}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		// A hang-up commits terminating and terminated together (two
		// notifications, one commit): the observer hears the commit.
		want := []string{"outgoing unknown->establishing", "outgoing establishing->established", "outgoing established->terminated 200/5001"}
		if fmt.Sprint(obs.got) != fmt.Sprint(want) {
			t.Fatalf("observer heard %q, want %q", obs.got, want)
		}
	})
}
