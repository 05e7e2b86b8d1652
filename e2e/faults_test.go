package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
)

// Faults on demand through msgraph-sdk-go: two injected 429s on create,
// with Retry-After, are retried by the SDK's own retry handler, and the
// call is created; the rule says it was applied twice. A 500 rule fails
// the request, and deleting the rule ends the faults.
func TestFaultsRetriedBySDK(t *testing.T) {
	if clusterRun() {
		t.Skip("faults are kept by each node; the single-node run covers them")
	}
	s := startServer(t, "")
	rcv := newReceiver(t)
	dev := newBot(t, s, devApp)
	client := devHTTPClient(t, s.DevCA())
	tok := fetchToken(t, client, s.HTTPS)
	put := func(id, body string) {
		t.Helper()
		resp, b := graphRequest(t, client, http.MethodPut, s.HTTPS+"/switchboard/v1/simulation/faults/"+id, tok, http.Header{"Content-Type": {"application/json"}}, []byte(body))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("put fault %s: %s %s", id, resp.Status, b)
		}
	}
	put("throttle-create", `{"match":{"app":"`+devClientID+`","method":"POST","path":"/v1.0/communications/calls"},"count":2,"effect":{"status":429,"retryAfter":"1s"}}`)

	id := str(createCall(t, dev.GraphServiceClient, callRequest(rcv.URL(), alice)).GetId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	resp, b := graphRequest(t, client, http.MethodGet, s.HTTPS+"/switchboard/v1/simulation/faults", tok, nil, nil)
	var list struct {
		Value []struct {
			ID      string
			Applied int
		}
	}
	json.Unmarshal(b, &list)
	if resp.StatusCode != http.StatusOK || len(list.Value) != 1 || list.Value[0].Applied != 2 {
		t.Fatalf("the rule after the create: %s %s; want it applied twice (the SDK retried)", resp.Status, b)
	}

	put("broken-get", `{"match":{"method":"GET","path":"/v1.0/communications/calls/"},"effect":{"status":500}}`)
	if _, err := dev.call(id).Get(t.Context(), nil); err == nil {
		t.Fatal("a GET under a 500 rule succeeded")
	}
	resp, b = graphRequest(t, client, http.MethodDelete, s.HTTPS+"/switchboard/v1/simulation/faults/broken-get", tok, nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %s %s", resp.Status, b)
	}
	if _, err := dev.call(id).Get(t.Context(), nil); err != nil {
		t.Fatalf("a GET after the rule is gone: %s", describe(err))
	}
}
