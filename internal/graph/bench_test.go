package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// discard is a ResponseWriter that keeps nothing, so that benchmarks
// measure the handlers and not a recorder.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(status int)      { d.status = status }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

// benchHandler is the Graph handler as the server mounts it, over a calls
// service holding live calls of app-a, whose ids it returns.
func benchHandler(b *testing.B, live int) (http.Handler, []string) {
	b.Helper()
	dir, _ := sim.NewDirectory(time.Hour, nil) // callees ring for the whole benchmark
	svc := calls.New(calls.Config{Store: callstest.NewStore(), Dispatcher: &callstest.Dispatcher{}, Directory: dir,
		AllowLoopbackHTTP: true, MaxOpenCalls: live + 1, Logger: slog.New(slog.DiscardHandler)})
	if err := svc.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Shutdown(context.Background()) })
	caller := calls.Caller{TenantID: "t1", AppID: "app-a", Roles: []string{calls.RoleInitiate}}
	spec := model.Call{
		CallbackURI:         "http://127.0.0.1:9/cb",
		Targets:             []model.InvitationParticipantInfo{{Identity: &model.IdentitySet{User: &model.Identity{ID: "bob"}}}},
		RequestedModalities: []model.Modality{model.ModalityAudio},
		MediaConfig:         &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig},
	}
	ids := make([]string, live)
	for i := range ids {
		leg, err := svc.Create(b.Context(), caller, spec)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = leg.ID
	}
	h := graph.WithRequestIDs(graph.WithRecovery(nil, graph.NewHandler(graph.Config{Calls: svc, Auth: fakeAuth{}, MaxBody: 4096, Logger: slog.New(slog.DiscardHandler)})))
	return h, ids
}

func serve(b *testing.B, h http.Handler, w *discard, r *http.Request) {
	clear(w.h)
	w.status, w.n = 0, 0
	h.ServeHTTP(w, r)
	if w.status != http.StatusOK {
		b.Fatalf("%s: status %d", r.URL, w.status)
	}
}

// BenchmarkGetCall measures the handler chain of a plain GET of a call, the
// request the load test repeats, without the network.
func BenchmarkGetCall(b *testing.B) {
	h, ids := benchHandler(b, 1000)
	reqs := make([]*http.Request, len(ids))
	for i, id := range ids {
		reqs[i], _ = http.NewRequest(http.MethodGet, "http://127.0.0.1/v1.0/communications/calls/"+id, nil)
		reqs[i].Header.Set("Authorization", "Bearer app-a")
	}
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		serve(b, h, w, reqs[i%len(reqs)])
	}
}

// BenchmarkListCalls measures a first page of 100 calls: its cost should
// not depend on how many calls are live.
func BenchmarkListCalls(b *testing.B) {
	for _, live := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			h, _ := benchHandler(b, live)
			r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/v1.0/communications/calls", nil)
			r.Header.Set("Authorization", "Bearer app-a")
			w := &discard{h: make(http.Header)}
			serve(b, h, w, r)
			if !strings.Contains(w.h.Get("Content-Type"), "json") || w.n < 100*500 {
				b.Fatalf("first page: %d bytes", w.n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				serve(b, h, w, r)
			}
		})
	}
}
