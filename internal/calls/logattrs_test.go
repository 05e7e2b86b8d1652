package calls_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// TestLogLinesNameTheCall checks that a failure about a call is logged with
// its call_id, tenant and app.
func TestLogLinesNameTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, err := sim.NewDirectory(time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		store := callstest.NewStore()
		svc := calls.New(calls.Config{Store: store, Dispatcher: &callstest.Dispatcher{}, Directory: dir,
			AllowLoopbackHTTP: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if err := svc.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer svc.Shutdown(context.Background())
		leg, err := svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		store.FailNext(1)
		if err := svc.HangUp(t.Context(), alice, leg.ID); err == nil {
			t.Fatal("hang-up committed through a failing store")
		}
		var failed map[string]any
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "calls: commit failed" {
				failed = m
			}
		}
		if failed == nil || failed["call_id"] != leg.ID || failed["tenant"] != alice.TenantID || failed["app"] != alice.AppID {
			t.Fatalf("commit failure logged as %v; want call_id, tenant and app of %s", failed, leg.ID)
		}
	})
}

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
