package app_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
)

// hook records the notifications it receives.
type hook struct {
	mu     sync.Mutex
	bodies []string
	got    chan struct{}
}

func newHook(t *testing.T) (*hook, string) {
	h := &hook{got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(b))
		h.mu.Unlock()
		h.got <- struct{}{}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

// wait returns once n notifications arrived, or fails after a generous
// timeout.
func (h *hook) wait(t *testing.T, n int) []string {
	t.Helper()
	for {
		h.mu.Lock()
		if len(h.bodies) >= n {
			out := append([]string(nil), h.bodies...)
			h.mu.Unlock()
			return out
		}
		h.mu.Unlock()
		select {
		case <-h.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("waited for %d notifications, have %d: %s", n, len(h.bodies), strings.Join(h.bodies, "\n"))
		}
	}
}

// TestSimulationControlDrivesAnIncomingCall places an incoming call
// through the control API, answers it through the Graph API, and makes the
// caller hang up through the control API.
func TestSimulationControlDrivesAnIncomingCall(t *testing.T) {
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", t.TempDir()
	a := start2(t, cfg)
	base := "http://" + a.Addr("http")
	tok := token(t, http.DefaultClient, base)
	h, hookURL := newHook(t)

	r := call(t, "POST", base+"/switchboard/v1/simulation/incomingCalls", tok,
		`{"to":{"applicationId":"`+auth.DevClientID+`"},"from":{"phone":{"id":"+15550123"}},"callbackUri":"`+hookURL+`/webhook",
		  "chatInfo":{"threadId":"19:meeting_x@thread.v2"},"meetingInfo":{"@odata.type":"#microsoft.graph.organizerMeetingInfo","organizer":{"user":{"id":"org"}}}}`)
	if r.status != 201 {
		t.Fatalf("place incoming: %d %s", r.status, r.body)
	}
	var placed struct{ CallID, CallerParticipantID string }
	json.Unmarshal([]byte(r.body), &placed)
	first := h.wait(t, 1)[0]
	if !strings.Contains(first, `"changeType":"created"`) || !strings.Contains(first, `"state":"incoming"`) || !strings.Contains(first, `+15550123`) ||
		!strings.Contains(first, `"threadId":"19:meeting_x@thread.v2"`) || !strings.Contains(first, `organizerMeetingInfo`) {
		t.Fatalf("incoming notification: %s", first)
	}
	r = call(t, "POST", base+"/v1.0/communications/calls/"+placed.CallID+"/answer", tok,
		`{"callbackUri":"`+hookURL+`/call","acceptedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`)
	if r.status != 202 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	got := h.wait(t, 3)
	if !strings.Contains(got[2], `"state":"established"`) {
		t.Fatalf("after answer: %v", got)
	}
	r = call(t, "POST", base+"/switchboard/v1/simulation/calls/"+placed.CallID+"/participants/"+placed.CallerParticipantID+"/hangUp", tok, "")
	if r.status != 204 {
		t.Fatalf("hang up: %d %s", r.status, r.body)
	}
	got = h.wait(t, 4)
	if !strings.Contains(got[3], `"state":"terminated"`) || !strings.Contains(got[3], `4521`) {
		t.Fatalf("after the caller hung up: %s", got[3])
	}
	if r := call(t, "POST", base+"/switchboard/v1/simulation/calls/"+placed.CallID+"/participants/x/dance", tok, ""); r.status != 400 && r.status != 404 {
		t.Fatalf("unknown action on an ended call: %d", r.status)
	}
	r = call(t, "PUT", base+"/switchboard/v1/simulation/identities/bob", tok, `{"behaviour":"busy"}`)
	if r.status != 200 {
		t.Fatalf("set identity: %d %s", r.status, r.body)
	}
	if r := call(t, "PUT", base+"/switchboard/v1/simulation/identities/bob", tok, `{"behaviour":"dance"}`); r.status != 400 {
		t.Fatalf("bad behaviour: %d", r.status)
	}
}

func TestSimulationControlNeedsAdmin(t *testing.T) {
	base := prodServer(t, nil)
	tok := appToken(t, base, tenantA, "a1")
	r := call(t, "POST", base+"/switchboard/v1/simulation/incomingCalls", tok, `{"to":{"applicationId":"a1"},"from":{"user":{"id":"x"}}}`)
	if r.status != 403 || !strings.Contains(r.body, "Switchboard.Admin") {
		t.Fatalf("without admin: %d %s", r.status, r.body)
	}
}

func start2(t *testing.T, cfg app.Config, opts ...app.Option) *app.App {
	t.Helper()
	a, err := app.New(cfg, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, a) })
	<-a.Ready()
	return a
}

// waitFor returns the first notification that pred accepts, waiting for it
// up to a generous timeout.
func (h *hook) waitFor(t *testing.T, what string, pred func(string) bool) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		for _, b := range h.bodies {
			if pred(b) {
				h.mu.Unlock()
				return b
			}
		}
		h.mu.Unlock()
		select {
		case <-h.got:
		case <-timeout:
			h.mu.Lock()
			defer h.mu.Unlock()
			t.Fatalf("no notification %s among: %s", what, strings.Join(h.bodies, "\n"))
		}
	}
}

func has(subs ...string) func(string) bool {
	return func(b string) bool {
		for _, s := range subs {
			if !strings.Contains(b, s) {
				return false
			}
		}
		return true
	}
}
