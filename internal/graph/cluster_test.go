package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/cluster"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// newNodeServer runs node id of a cluster on store, serving the Graph API
// on loopback with forwarding between nodes.
func newNodeServer(t *testing.T, store *callstest.Store, id string) *server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	dir, _ := sim.NewDirectory(time.Hour, nil)
	log := slog.New(slog.DiscardHandler)
	svc := calls.New(calls.Config{Store: store, Dispatcher: &callstest.Dispatcher{}, Directory: dir, AllowLoopbackHTTP: true, Logger: log,
		Cluster: store, Node: calls.Node{ID: id, Name: id, Address: "http://" + srv.Listener.Addr().String()}})
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	fwd, err := cluster.NewForwarder(bytes.Repeat([]byte{1}, cluster.KeyLen), id, nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = graph.WithRequestIDs(graph.WithRecovery(nil, graph.WithForwarded(fwd, log, graph.NewHandler(graph.Config{Calls: svc, Auth: fakeAuth{}, Logger: log, Forwarder: fwd}))))
	srv.Start()
	s := &server{Server: srv, svc: svc}
	t.Cleanup(func() { s.Close(); svc.Shutdown(context.Background()) })
	return s
}

// Any node serves any call: a request to a node that does not own the
// call is forwarded to the one that does, and answered as if asked there.
func TestRequestsForwardedToTheOwningNode(t *testing.T) {
	store := callstest.NewStore()
	a, b := newNodeServer(t, store, "a"), newNodeServer(t, store, "b")
	created := a.do(t, http.MethodPost, "/v1.0/communications/calls", "app-a", strings.NewReader(createBody))
	if created.status != http.StatusCreated {
		t.Fatalf("create on a: %d %s", created.status, created.raw)
	}
	id := created.body["id"].(string)
	got := b.do(t, http.MethodGet, "/v1.0/communications/calls/"+id, "app-a", nil)
	if got.status != http.StatusOK || got.body["id"] != id {
		t.Fatalf("get through b: %d %s", got.status, got.raw)
	}
	if ctx, _ := got.body["@odata.context"].(string); !strings.HasPrefix(ctx, b.URL) {
		t.Errorf("@odata.context %q: want the address the client used, %s", ctx, b.URL)
	}
	// Listing through either node shows every node's calls.
	for _, n := range []*server{a, b} {
		list := n.do(t, http.MethodGet, "/v1.0/communications/calls", "app-a", nil)
		if v, _ := list.body["value"].([]any); list.status != http.StatusOK || len(v) != 1 || v[0].(map[string]any)["id"] != id {
			t.Fatalf("list through %s: %d %s", n.URL, list.status, list.raw)
		}
	}
	// Another application's call is not found, through any node.
	if other := b.do(t, http.MethodGet, "/v1.0/communications/calls/"+id, "app-b", nil); other.status != http.StatusNotFound {
		t.Fatalf("another app's get through b: %d %s", other.status, other.raw)
	}
	if del := b.do(t, http.MethodDelete, "/v1.0/communications/calls/"+id, "app-a", nil); del.status != http.StatusNoContent {
		t.Fatalf("delete through b: %d %s", del.status, del.raw)
	}
	if _, err := a.svc.Get(t.Context(), calls.Caller{TenantID: "t1", AppID: "app-a"}, id); err == nil {
		t.Fatal("the call is still live on its owner after a delete through another node")
	}
	// A request that claims to be forwarded and is not signed is refused.
	forged := a.do(t, http.MethodGet, "/v1.0/communications/calls/"+id, "app-a", nil, cluster.HeaderBy, "b", cluster.HeaderAt, "1")
	if forged.status != http.StatusForbidden {
		t.Fatalf("a forged forward: %d %s", forged.status, forged.raw)
	}
}

const joinBody = `{"callbackUri":"http://127.0.0.1:9/cb","requestedModalities":["audio"],
  "mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"},
  "meetingInfo":{"@odata.type":"#microsoft.graph.joinMeetingIdMeetingInfo","joinMeetingId":"1234567"}}`

// Bots joining one meeting through different nodes are in one meeting:
// the node that does not hold it forwards the create to the one that does.
func TestMeetingJoinedThroughAnotherNode(t *testing.T) {
	store := callstest.NewStore()
	a, b := newNodeServer(t, store, "a"), newNodeServer(t, store, "b")
	first := a.do(t, http.MethodPost, "/v1.0/communications/calls", "app-a", strings.NewReader(joinBody))
	second := b.do(t, http.MethodPost, "/v1.0/communications/calls", "app-b", strings.NewReader(joinBody))
	if first.status != http.StatusCreated || second.status != http.StatusCreated {
		t.Fatalf("joins: %d %s / %d %s", first.status, first.raw, second.status, second.raw)
	}
	if loc := second.header.Get("Location"); !strings.HasPrefix(loc, b.URL) {
		t.Errorf("Location %q: want the address the client used, %s", loc, b.URL)
	}
	one, err := a.svc.Conversation(first.body["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if one.Leg(second.body["id"].(string)) == nil {
		t.Fatalf("the second bot's leg is not in the first one's meeting: %d legs", len(one.Legs))
	}
}
