package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/switchboard-dev/switchboard/internal/sim"
)

// This file holds what the call-control tests share: a bot (an SDK client
// whose HTTP exchanges are recorded), the simulation control API, and waits
// on the receiver for notifications that follow an action.

// exchange is one HTTP request the SDK sent and the response it got.
type exchange struct {
	Method, Path string
	Status       int
	Header       http.Header
}

// wireLog is an http.RoundTripper under the SDK's middleware that records
// every exchange: the SDK returns no status code for actions such as answer
// (202) or keepAlive (200), and a bot does not need one, but the tests
// check them.
type wireLog struct {
	next http.RoundTripper

	mu        sync.Mutex
	exchanges []exchange
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err == nil {
		w.mu.Lock()
		w.exchanges = append(w.exchanges, exchange{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Header: resp.Header.Clone()})
		w.mu.Unlock()
	}
	return resp, err
}

// status returns the status of the last exchange with method whose path ends
// with suffix (case-insensitively), or fails the test.
func (w *wireLog) status(t *testing.T, method, suffix string) int {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.exchanges) - 1; i >= 0; i-- {
		e := w.exchanges[i]
		if e.Method == method && strings.HasSuffix(strings.ToLower(e.Path), strings.ToLower(suffix)) {
			return e.Status
		}
	}
	t.Fatalf("no %s ...%s was sent", method, suffix)
	return 0
}

// wantStatus checks the status of the last exchange with method and suffix.
func (w *wireLog) wantStatus(t *testing.T, method, suffix string, want int) {
	t.Helper()
	if got := w.status(t, method, suffix); got != want {
		t.Errorf("%s ...%s: HTTP %d, want %d", method, suffix, got, want)
	}
}

// bot is a bot's Graph client, and what went over the wire.
type bot struct {
	*msgraph.GraphServiceClient
	wire *wireLog
}

// appCreds are the client credentials of a registered application.
type appCreds struct{ tenant, clientID, secret string }

var devApp = appCreds{devTenant, devClientID, devSecret}

// newBot returns an SDK client of the application over the server's HTTPS
// listener.
//
// A parallel test must create its bots before it calls t.Parallel:
// msgraph.NewGraphServiceClient sets a package-level variable of kiota (the
// backing store factory, in EnableBackingStore) that every SDK model
// constructor reads, so creating a client while another test builds models
// is a data race that -race reports.
func newBot(t *testing.T, s *server, a appCreds) *bot {
	t.Helper()
	cred := newAppCredential(t, s.HTTPS+"/", devHTTPClient(t, s.DevCA()), a.tenant, a.clientID, a.secret)
	w := &wireLog{next: devTransport(t, s.DevCA())}
	return &bot{GraphServiceClient: newGraphClientOver(t, cred, s.HTTPS+"/v1.0", w), wire: w}
}

// call returns the SDK's request builder of one call.
func (b *bot) call(id string) *communications.CallsCallItemRequestBuilder {
	return b.Communications().Calls().ByCallId(id)
}

// inspectHeaders returns a request option that makes the SDK keep the
// response headers (the SDK's HeadersInspectionHandler), for Location.
func inspectHeaders() (*khttp.HeadersInspectionOptions, []abstractions.RequestOption) {
	o := khttp.NewHeadersInspectionOptions()
	o.InspectResponseHeaders = true
	return o, []abstractions.RequestOption{o}
}

// control is the simulation control API (/switchboard/v1/simulation) as
// the dev application, which has the Switchboard.Admin role.
type control struct {
	hc    *http.Client
	base  string
	token string
}

func newControl(t *testing.T, s *server) *control {
	t.Helper()
	hc := plainClient()
	return &control{hc: hc, base: s.HTTP + "/switchboard/v1/simulation", token: fetchToken(t, hc, s.HTTP)}
}

// do sends a control request with body encoded as JSON (none when nil) and
// fails the test unless the answer has status want. It returns the body.
func (c *control) do(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	var b []byte
	h := http.Header{}
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		h.Set("Content-Type", "application/json")
	}
	resp, got := graphRequest(t, c.hc, method, c.base+path, c.token, h, b)
	if resp.StatusCode != want {
		t.Fatalf("control %s %s: %s %s, want %d", method, path, resp.Status, got, want)
	}
	return got
}

// placeIncoming makes the simulated user fromUser call the dev application,
// with the incoming call notification posted to callbackURI. It returns the
// new call's id and the caller's participant id.
func (c *control) placeIncoming(t *testing.T, callbackURI, fromUser string) (callID, callerID string) {
	t.Helper()
	body := map[string]any{
		"to":          map[string]string{"applicationId": devClientID},
		"from":        map[string]any{"user": map[string]string{"id": fromUser, "displayName": "Caller " + fromUser}},
		"callbackUri": callbackURI,
	}
	var placed struct{ CallID, CallerParticipantID string }
	if err := json.Unmarshal(c.do(t, http.MethodPost, "/incomingCalls", body, http.StatusCreated), &placed); err != nil || placed.CallID == "" {
		t.Fatalf("control: place incoming call: %v, call id %q", err, placed.CallID)
	}
	return placed.CallID, placed.CallerParticipantID
}

// act makes a simulated participant of a call do action now (answer,
// reject, hangUp, mute, unmute, shareScreen, stopSharing).
func (c *control) act(t *testing.T, callID, participantID, action string) {
	t.Helper()
	c.do(t, http.MethodPost, "/calls/"+callID+"/participants/"+participantID+"/"+action, nil, http.StatusNoContent)
}

// setIdentity sets how a simulated identity behaves from now on.
func (c *control) setIdentity(t *testing.T, r sim.Rule) {
	t.Helper()
	c.do(t, http.MethodPut, "/identities/"+r.ID, r, http.StatusOK)
}

// URLAt is a callbackUri of the receiver with another path: a bot can tell
// its calls apart by path, and the receiver still checks each call's
// sequence across paths.
func (r *receiver) URLAt(path string) string { return r.srv.URL + path }

// lastSeq is the sequence number of the last accepted notification of a
// call (0 before the first): a mark to wait for what follows an action.
func (r *receiver) lastSeq(callID string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if log := r.calls[callID]; len(log) > 0 {
		return log[len(log)-1].Seq
	}
	return 0
}

// After waits for the first notification of a call after sequence number
// mark that matches, and returns it.
func (r *receiver) After(t *testing.T, callID string, mark int64, what string, match func(notification) bool) notification {
	t.Helper()
	var got notification
	r.waitUntil(t, fmt.Sprintf("%s for call %s after #%d", what, callID, mark), func() bool {
		for _, n := range r.calls[callID] {
			if n.Seq > mark && match(n) {
				got = n
				return true
			}
		}
		return false
	})
	return got
}

// rosterAfter waits for a roster update of a call after mark that matches.
func (r *receiver) rosterAfter(t *testing.T, callID string, mark int64, what string, match func([]models.Participantable) bool) notification {
	t.Helper()
	return r.After(t, callID, mark, "a roster "+what, func(n notification) bool {
		return n.Participants != nil && match(n.Participants)
	})
}

// operationDone waits for the "deleted" notification that finishes an
// operation and checks it: resourceUrl, the Completed status (the SDK
// decodes only the PascalCase spelling) and the clientContext echoed.
func (r *receiver) operationDone(t *testing.T, callID, opID, clientContext string) notification {
	t.Helper()
	url := "/communications/calls/" + callID + "/operations/" + opID
	n := r.First(t, callID, "the completion of operation "+opID, func(n notification) bool { return n.ResourceURL == url })
	if n.ChangeType != "deleted" {
		t.Errorf("operation notification %s: changeType %q, want deleted", n, n.ChangeType)
	}
	if n.Operation == nil {
		t.Fatalf("operation notification %s: resourceData is not an operation", n)
	}
	if st := n.Operation.GetStatus(); st == nil || *st != models.COMPLETED_OPERATIONSTATUS {
		t.Errorf("operation notification %s: status %v, want Completed (PascalCase on the wire: %s)", n, st, n.Body)
	}
	if got := str(n.Operation.GetId()); got != opID {
		t.Errorf("operation notification %s: id %q, want %q", n, got, opID)
	}
	if got := str(n.Operation.GetClientContext()); got != clientContext {
		t.Errorf("operation notification %s: clientContext %q, want %q", n, got, clientContext)
	}
	return n
}

// checkResult checks the resultInfo of a call notification.
func checkResult(t *testing.T, n notification, code, subcode int32) {
	t.Helper()
	if n.Call == nil {
		t.Fatalf("notification %s: resourceData is not a call", n)
	}
	ri := n.Call.GetResultInfo()
	if ri == nil || ri.GetCode() == nil || ri.GetSubcode() == nil {
		t.Fatalf("notification %s: no resultInfo code and subcode: %s", n, n.Body)
	}
	if *ri.GetCode() != code || *ri.GetSubcode() != subcode {
		t.Errorf("notification %s: resultInfo %d/%d (%s), want %d/%d", n, *ri.GetCode(), *ri.GetSubcode(), str(ri.GetMessage()), code, subcode)
	}
}

// expectStates waits for the notifications of a call after mark and checks
// that they carry these changeType:state pairs, in order. It returns the
// last one.
func (r *receiver) expectStates(t *testing.T, callID string, mark int64, want ...string) notification {
	t.Helper()
	var n notification
	for i, w := range want {
		n = r.Nth(t, callID, int(mark)+i+1)
		changeType, state, _ := strings.Cut(w, ":")
		checkCallNotification(t, n, callID, changeType, state)
	}
	return n
}

// userIdentity is an identity set naming one user.
func userIdentity(id string) models.IdentitySetable {
	user := models.NewIdentity()
	user.SetId(&id)
	user.SetDisplayName(ptr("User " + id))
	set := models.NewIdentitySet()
	set.SetUser(user)
	return set
}

// userTarget is an invitation of one user.
func userTarget(id string) models.InvitationParticipantInfoable {
	target := models.NewInvitationParticipantInfo()
	target.SetIdentity(userIdentity(id))
	return target
}

// userOf is the user id of a participant, or "".
func userOf(p models.Participantable) string {
	if p.GetInfo() == nil || p.GetInfo().GetIdentity() == nil || p.GetInfo().GetIdentity().GetUser() == nil {
		return ""
	}
	return str(p.GetInfo().GetIdentity().GetUser().GetId())
}

// appOf is the application id of a participant, or "".
func appOf(p models.Participantable) string {
	if p.GetInfo() == nil || p.GetInfo().GetIdentity() == nil || p.GetInfo().GetIdentity().GetApplication() == nil {
		return ""
	}
	return str(p.GetInfo().GetIdentity().GetApplication().GetId())
}

// findParticipant returns the participant of a roster that matches.
func findParticipant(roster []models.Participantable, match func(models.Participantable) bool) models.Participantable {
	i := slices.IndexFunc(roster, match)
	if i < 0 {
		return nil
	}
	return roster[i]
}

func byID(id string) func(models.Participantable) bool {
	return func(p models.Participantable) bool { return str(p.GetId()) == id }
}

func byUser(id string) func(models.Participantable) bool {
	return func(p models.Participantable) bool { return userOf(p) == id }
}

// hasUsers reports whether a roster holds exactly these users (in any
// order) besides its applications.
func hasUsers(users ...string) func([]models.Participantable) bool {
	return func(roster []models.Participantable) bool {
		var got []string
		for _, p := range roster {
			if u := userOf(p); u != "" {
				got = append(got, u)
			}
		}
		want := slices.Clone(users)
		slices.Sort(got)
		slices.Sort(want)
		return slices.Equal(got, want)
	}
}

func isMuted(p models.Participantable) bool { return p.GetIsMuted() != nil && *p.GetIsMuted() }

// describeRoster renders a roster for failure messages.
func describeRoster(roster []models.Participantable) string {
	var b bytes.Buffer
	for _, p := range roster {
		fmt.Fprintf(&b, "[%s user=%q app=%q muted=%v] ", str(p.GetId()), userOf(p), appOf(p), isMuted(p))
	}
	return b.String()
}

// serverBug fails a (sub)test that found the server differing from Graph.
func serverBug(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf("server bug: "+format, args...)
}

// asODataError asserts that err is the SDK's ODataError.
func asODataError(t *testing.T, err error) *odataerrors.ODataError {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T), want an *odataerrors.ODataError", err, err)
	}
	return oe
}
