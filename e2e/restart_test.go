package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// TestRestartLosesNothing restarts the server on the same data directory
// under an established call: the call, the tokens issued before and the
// notification sequence all survive.
func TestRestartLosesNothing(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)

	s1 := startServer(t, dir)
	client1, cred1 := sdkClient(t, s1)
	hc := plainClient()
	rawToken := fetchToken(t, hc, s1.HTTP)

	call := createCall(t, client1, callRequest(rcv.URL(), "5e7f8091-a2b3-4c4d-9e5f-60718293a4b5"))
	id := str(call.GetId())
	checkCallNotification(t, rcv.Nth(t, id, 1), id, "updated", "establishing")
	checkCallNotification(t, rcv.Nth(t, id, 2), id, "updated", "established")

	s1.stop(t)
	s2 := startServer(t, dir) // new ports, same data
	if !bytes.Equal(s1.DevCA(), s2.DevCA()) {
		t.Error("the development CA changed across the restart: bots that trust it would break")
	}

	// A token issued before the restart, over plain HTTP.
	resp, body := graphRequest(t, hc, http.MethodGet, s2.HTTP+"/v1.0/communications/calls/"+id, rawToken, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get call with a token from before the restart: %s: %s", resp.Status, body)
	}
	var raw struct{ State string }
	if err := json.Unmarshal(body, &raw); err != nil || raw.State != "established" {
		t.Errorf("get call after the restart: %s (%v), want state established", body, err)
	}

	// The SDK with the old credential: its cached token came from the old
	// server, whose address is gone.
	old := newGraphClient(t, cred1, s2.HTTPS+"/v1.0", s2.DevCA())
	got, err := old.Communications().Calls().ByCallId(id).Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("get call with the credential from before the restart: %s", describe(err))
	}
	if st := got.GetState(); st == nil || *st != models.ESTABLISHED_CALLSTATE {
		t.Errorf("get call after the restart: state %v, want established", st)
	}
	if str(got.GetMyParticipantId()) != str(call.GetMyParticipantId()) || str(got.GetCallChainId()) != str(call.GetCallChainId()) {
		t.Errorf("get call after the restart: myParticipantId/callChainId %q/%q, want %q/%q",
			str(got.GetMyParticipantId()), str(got.GetCallChainId()), str(call.GetMyParticipantId()), str(call.GetCallChainId()))
	}

	// A bot that starts afresh against the new server.
	client2, _ := sdkClient(t, s2)
	list, err := client2.Communications().Calls().Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("list calls after the restart: %s", describe(err))
	}
	if !slices.ContainsFunc(list.GetValue(), func(c models.Callable) bool { return str(c.GetId()) == id }) {
		t.Errorf("list calls after the restart: the call %s is missing", id)
	}

	if err := client2.Communications().Calls().ByCallId(id).Delete(t.Context(), nil); err != nil {
		t.Fatalf("delete call after the restart: %s", describe(err))
	}
	n3 := rcv.Nth(t, id, 3)
	checkCallNotification(t, n3, id, "updated", "terminating")
	n4 := rcv.Nth(t, id, 4)
	checkCallNotification(t, n4, id, "deleted", "terminated")
	checkHangUpResult(t, n4)
	if n3.Seq != 3 || n4.Seq != 4 {
		t.Errorf("sequence numbers after the restart %d, %d, want 3, 4", n3.Seq, n4.Seq)
	}
}

// TestRestartWhileReceiverDown creates a call while the bot's endpoint
// answers 503, restarts the server while the notifications are still
// undelivered, and then brings the endpoint back: every notification
// arrives, in order, and the attempt count carries across the restart.
func TestRestartWhileReceiverDown(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	rcv.SetDown(true)

	s1 := startServer(t, dir)
	client1, _ := sdkClient(t, s1)
	call := createCall(t, client1, callRequest(rcv.URL(), "6f8091a2-b3c4-4d5e-8f60-718293a4b5c6"))
	id := str(call.GetId())

	// The notify worker retries: two refused attempts before the restart.
	refused := rcv.WaitRefused(t, 2)
	s1.stop(t)
	lastBefore := attemptOf(t, refused[len(refused)-1])

	s2 := startServer(t, dir)
	// It retries after the restart too, still refused ...
	rcv.WaitRefused(t, len(refused)+1)
	// ... until the bot is back.
	rcv.SetDown(false)

	n1 := rcv.Nth(t, id, 1)
	checkCallNotification(t, n1, id, "updated", "establishing")
	checkCallNotification(t, rcv.Nth(t, id, 2), id, "updated", "established")
	// Attempts made before the restart still count. (An attempt that
	// Shutdown interrupts may be made again under the same number, hence
	// only "after the last number seen before the restart".)
	if n1.Attempt <= lastBefore {
		t.Errorf("the first notification arrived as attempt %d; before the restart attempt %d had already been refused", n1.Attempt, lastBefore)
	}
	for _, p := range rcv.WaitRefused(t, 0) {
		if p.Header.Get(notify.HeaderSequence) != "1" {
			t.Errorf("refused delivery of sequence %s before sequence 1 was delivered", p.Header.Get(notify.HeaderSequence))
		}
	}

	client2, _ := sdkClient(t, s2)
	if err := client2.Communications().Calls().ByCallId(id).Delete(t.Context(), nil); err != nil {
		t.Fatalf("delete call after the restart: %s", describe(err))
	}
	checkCallNotification(t, rcv.Nth(t, id, 3), id, "updated", "terminating")
	n4 := rcv.Nth(t, id, 4)
	checkCallNotification(t, n4, id, "deleted", "terminated")
	checkHangUpResult(t, n4)
}

// attemptOf reads the delivery attempt number of a callback request.
func attemptOf(t *testing.T, p post) int {
	t.Helper()
	n, err := strconv.Atoi(p.Header.Get(notify.HeaderAttempt))
	if err != nil {
		t.Fatalf("%s header: %v", notify.HeaderAttempt, err)
	}
	return n
}
