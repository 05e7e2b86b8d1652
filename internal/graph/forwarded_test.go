package graph_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/cluster"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/throttle"
)

// A server that is not part of a cluster refuses every request that
// claims to come from another node: the claim would skip its limits.
func TestForwardClaimRefusedWithoutCluster(t *testing.T) {
	served := false
	h := graph.WithForwarded(nil, slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served = true }))
	req := httptest.NewRequest(http.MethodGet, "/v1.0/communications/calls", nil)
	req.Header.Set(cluster.HeaderBy, "node-b")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || served {
		t.Fatalf("a forward claim on a single node: %d (served %v), want 403 and not served", rec.Code, served)
	}
}

// A verified forward is not counted again by the node it reaches (the
// node the client reached counted it), while a forged one never gets
// past the gate, so claiming to be forwarded does not escape the limit.
func TestVerifiedForwardsSkipTheRateLimit(t *testing.T) {
	key := bytes.Repeat([]byte{7}, cluster.KeyLen)
	log := slog.New(slog.DiscardHandler)
	self, err := cluster.NewForwarder(key, "node-a", nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := cluster.NewForwarder(key, "node-b", nil, log, http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	limits := graph.ThrottleConfig{Auth: fakeAuth{}, Logger: log, Limiter: throttle.New(1, time.Hour, nil)}
	srv := httptest.NewServer(graph.WithRequestIDs(graph.WithForwarded(self, log, graph.WithThrottle(limits, ok))))
	defer srv.Close()
	bearer := http.Header{"Authorization": {"Bearer app-a"}}

	status := func(resp *http.Response, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	client := func() int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1.0/communications/calls", nil)
		req.Header = bearer.Clone()
		return status(http.DefaultClient.Do(req))
	}
	if got := client(); got != http.StatusNoContent {
		t.Fatalf("first client request: %d", got)
	}
	if got := client(); got != http.StatusTooManyRequests {
		t.Fatalf("second client request within the limit's period: %d, want 429", got)
	}
	for i := range 3 {
		if got := status(peer.Send(t.Context(), srv.URL, http.MethodGet, "/v1.0/communications/calls", bearer, nil)); got != http.StatusNoContent {
			t.Fatalf("verified forward %d: %d, want it served", i, got)
		}
	}
	forged := bearer.Clone()
	forged.Set(cluster.HeaderBy, "node-b")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1.0/communications/calls", nil)
	req.Header = forged
	if got := status(http.DefaultClient.Do(req)); got != http.StatusForbidden {
		t.Fatalf("forged forward: %d, want 403", got)
	}
}
