package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// extCallBody is a peer-to-peer call request to one user, as raw JSON.
func extCallBody(t *testing.T, callbackURI, userID string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"@odata.type": "#microsoft.graph.call",
		"callbackUri": callbackURI,
		"targets": []any{map[string]any{
			"@odata.type": "#microsoft.graph.invitationParticipantInfo",
			"identity": map[string]any{
				"@odata.type": "#microsoft.graph.identitySet",
				"user":        map[string]any{"@odata.type": "#microsoft.graph.identity", "id": userID},
			},
		}},
		"requestedModalities": []string{"audio"},
		"mediaConfig":         map[string]any{"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIdempotencyKeyCreatesOneCall retries a create call with the same
// Idempotency-Key, gzipped as the Go SDK sends it, and checks that one call
// exists and both answers are the same.
func TestIdempotencyKeyCreatesOneCall(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	hc := plainClient()
	token := fetchToken(t, hc, s.HTTP)
	body := extCallBody(t, rcv.URL(), "idem-user")
	h := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}, "Idempotency-Key": {"create-1"}}

	first, firstBody := graphRequest(t, hc, http.MethodPost, s.HTTP+"/v1.0/communications/calls", token, h, gzipped(t, body))
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("create call: %s: %s", first.Status, firstBody)
	}
	// The retry goes uncompressed: the key covers the decoded body.
	h.Del("Content-Encoding")
	second, secondBody := graphRequest(t, hc, http.MethodPost, s.HTTP+"/v1.0/communications/calls", token, h, body)
	if second.StatusCode != http.StatusCreated || !bytes.Equal(secondBody, firstBody) || second.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("retry: %s %s, want the first response %s", second.Status, secondBody, firstBody)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the retry's response is not marked Idempotent-Replayed")
	}

	list, listBody := graphRequest(t, hc, http.MethodGet, s.HTTP+"/v1.0/communications/calls?$count=true", token, nil, nil)
	var calls struct {
		Count int `json:"@odata.count"`
	}
	if err := json.Unmarshal(listBody, &calls); err != nil || list.StatusCode != http.StatusOK || calls.Count != 1 {
		t.Fatalf("list calls after a retried create: %s %s, want one call", list.Status, listBody)
	}

	other := extCallBody(t, rcv.URL(), "someone-else")
	conflict, conflictBody := graphRequest(t, hc, http.MethodPost, s.HTTP+"/v1.0/communications/calls", token, h, other)
	if conflict.StatusCode != http.StatusConflict {
		t.Errorf("the key with another body: %s %s, want 409", conflict.Status, conflictBody)
	}
}

// TestNotificationLogAndReplay reads a call's notification log through the
// extension API and has the notifications sent again.
func TestNotificationLogAndReplay(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	hc := plainClient()
	token := fetchToken(t, hc, s.HTTP)

	resp, got := graphRequest(t, hc, http.MethodPost, s.HTTP+"/v1.0/communications/calls", token,
		http.Header{"Content-Type": {"application/json"}}, extCallBody(t, rcv.URL(), "log-user"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create call: %s: %s", resp.Status, got)
	}
	var call struct{ ID string }
	json.Unmarshal(got, &call)
	established := rcv.First(t, call.ID, "established", func(n notification) bool { return n.State() == "established" })

	logURL := s.HTTP + "/switchboard/v1/calls/" + call.ID + "/notifications"
	if resp, _ := graphRequest(t, hc, http.MethodGet, logURL, "not-a-token", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("log with a bad token: %s, want 401", resp.Status)
	}
	resp, got = graphRequest(t, hc, http.MethodGet, logURL, token, nil, nil)
	var page struct {
		Value []struct {
			Sequence   int64           `json:"sequence"`
			ChangeType string          `json:"changeType"`
			Status     string          `json:"status"`
			Body       json.RawMessage `json:"body"`
		} `json:"value"`
	}
	if err := json.Unmarshal(got, &page); err != nil || resp.StatusCode != http.StatusOK || len(page.Value) < int(established.Seq) {
		t.Fatalf("notification log: %s %s, want at least %d entries", resp.Status, got, established.Seq)
	}
	for i, e := range page.Value[:established.Seq] {
		sent := rcv.Notifications(call.ID)[i]
		if e.Sequence != sent.Seq || e.ChangeType != sent.ChangeType || (e.Status != "delivered" && e.Status != "pending") {
			t.Errorf("log entry %d = %d %s %s, want seq %d %s, delivered (or not yet recorded)", i, e.Sequence, e.ChangeType, e.Status, sent.Seq, sent.ChangeType)
		}
		var logged, posted any
		json.Unmarshal(e.Body, &logged)
		json.Unmarshal(sent.Body, &posted)
		if fmt.Sprint(logged) != fmt.Sprint(posted) {
			t.Errorf("log entry %d: body %s, want what the bot got: %s", i, e.Body, sent.Body)
		}
	}

	replayURL := logURL + "/replay"
	resp, got = graphRequest(t, hc, http.MethodPost, replayURL, token, http.Header{"Content-Type": {"application/json"}}, []byte(`{"fromSequence":1}`))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("replay: %s %s", resp.Status, got)
	}
	rcv.waitUntil(t, "replays of sequences 1 to "+strconv.FormatInt(established.Seq, 10), func() bool {
		seen := map[string]bool{}
		for _, p := range rcv.posts {
			if p.Header.Get(notify.HeaderReplay) == "true" && p.Header.Get(notify.HeaderCallID) == call.ID {
				seen[p.Header.Get(notify.HeaderSequence)] = true
			}
		}
		for seq := int64(1); seq <= established.Seq; seq++ {
			if !seen[strconv.FormatInt(seq, 10)] {
				return false
			}
		}
		return true
	})
}
