package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// callRequest is a create-call body as a bot builds it with the SDK: service
// hosted media, audio, and one target user per id (one: a peer-to-peer call;
// several: a group call).
func callRequest(callbackURI string, userIDs ...string) *models.Call {
	targets := make([]models.InvitationParticipantInfoable, 0, len(userIDs))
	for _, id := range userIDs {
		user := models.NewIdentity()
		user.SetId(&id)
		user.SetDisplayName(ptr("User " + id))
		identity := models.NewIdentitySet()
		identity.SetUser(user)
		target := models.NewInvitationParticipantInfo()
		target.SetIdentity(identity)
		targets = append(targets, target)
	}
	call := models.NewCall()
	call.SetCallbackUri(&callbackURI)
	call.SetTargets(targets)
	call.SetRequestedModalities([]models.Modality{models.AUDIO_MODALITY})
	call.SetMediaConfig(models.NewServiceHostedMediaConfig())
	return call
}

func ptr[T any](v T) *T { return &v }

// str dereferences an SDK string property; nil reads as "".
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// createCall creates a call with the SDK and checks the 201 response.
func createCall(t *testing.T, client *msgraph.GraphServiceClient, body *models.Call) models.Callable {
	t.Helper()
	call, err := client.Communications().Calls().Post(t.Context(), body, nil)
	if err != nil {
		t.Fatalf("create call: %s", describe(err))
	}
	if call == nil || str(call.GetId()) == "" {
		t.Fatalf("create call: no call id in the response: %+v", call)
	}
	return call
}

// describe renders an SDK error with the Graph error inside it.
func describe(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe.GetErrorEscaped() != nil {
		e := oe.GetErrorEscaped()
		return fmt.Sprintf("%d %s: %s", oe.ResponseStatusCode, str(e.GetCode()), str(e.GetMessage()))
	}
	return err.Error()
}

// graphError asserts that err is an ODataError with the given HTTP status
// and code and a message, and returns it.
func graphError(t *testing.T, err error, status int, code string) odataerrors.MainErrorable {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T), want an *odataerrors.ODataError", err, err)
	}
	if oe.ResponseStatusCode != status {
		t.Errorf("HTTP status %d, want %d", oe.ResponseStatusCode, status)
	}
	e := oe.GetErrorEscaped()
	if e == nil {
		t.Fatalf("ODataError without an error object")
	}
	if got := str(e.GetCode()); got != code {
		t.Errorf("error code %q, want %q", got, code)
	}
	if str(e.GetMessage()) == "" {
		t.Errorf("error %s without a message", str(e.GetCode()))
	}
	return e
}

// checkCallNotification checks a call state notification.
func checkCallNotification(t *testing.T, n notification, callID, changeType, state string) {
	t.Helper()
	if n.Call == nil {
		t.Fatalf("notification %s: resourceData is not a call", n)
	}
	if n.ChangeType != changeType || n.State() != state {
		t.Errorf("notification %s: want %s with state %s", n, changeType, state)
	}
	if want := "/communications/calls/" + callID; n.ResourceURL != want {
		t.Errorf("notification %s: resourceUrl %q, want %q", n, n.ResourceURL, want)
	}
	if got := str(n.Call.GetId()); got != callID {
		t.Errorf("notification %s: resourceData.id %q, want %q", n, got, callID)
	}
	if n.Header.Get(notify.HeaderCallID) != callID {
		t.Errorf("notification %s: %s %q, want %q", n, notify.HeaderCallID, n.Header.Get(notify.HeaderCallID), callID)
	}
}

// TestSDKCallLifecycle is a bot's first peer-to-peer call: create, the
// establishing and established notifications, get, list, hang up, the
// terminating and terminated notifications, and the call gone.
func TestSDKCallLifecycle(t *testing.T) {
	ctx := t.Context()
	s := startServer(t, "")
	rcv := newReceiver(t)
	client, _ := sdkClient(t, s)

	call := createCall(t, client, callRequest(rcv.URL(), "8f6a1c52-0d3b-4e8e-9a7f-2b4c6d8e0f11"))
	id := str(call.GetId())
	if st := call.GetState(); st == nil || *st != models.ESTABLISHING_CALLSTATE {
		t.Errorf("created call state %v, want establishing", st)
	}
	if d := call.GetDirection(); d == nil || *d != models.OUTGOING_CALLDIRECTION {
		t.Errorf("created call direction %v, want outgoing", d)
	}
	if str(call.GetMyParticipantId()) == "" {
		t.Error("created call has no myParticipantId")
	}
	chain := str(call.GetCallChainId())
	if chain == "" {
		t.Error("created call has no callChainId")
	}
	if got := str(call.GetCallbackUri()); got != rcv.URL() {
		t.Errorf("created call callbackUri %q, want %q", got, rcv.URL())
	}
	if _, ok := call.GetMediaConfig().(models.ServiceHostedMediaConfigable); !ok {
		t.Errorf("created call mediaConfig is %T, want the service-hosted subtype (@odata.type)", call.GetMediaConfig())
	}

	n := rcv.Nth(t, id, 1)
	checkCallNotification(t, n, id, "updated", "establishing")
	if got := n.Header.Get(notify.HeaderChainID); got != chain {
		t.Errorf("notification %s: %s %q, want the callChainId %q", n, notify.HeaderChainID, got, chain)
	}
	checkCallNotification(t, rcv.Nth(t, id, 2), id, "updated", "established")

	got, err := client.Communications().Calls().ByCallId(id).Get(ctx, nil)
	if err != nil {
		t.Fatalf("get call: %s", describe(err))
	}
	if st := got.GetState(); st == nil || *st != models.ESTABLISHED_CALLSTATE {
		t.Errorf("get call: state %v, want established", st)
	}
	if str(got.GetMyParticipantId()) != str(call.GetMyParticipantId()) || str(got.GetCallChainId()) != chain {
		t.Errorf("get call: myParticipantId/callChainId %q/%q, want %q/%q",
			str(got.GetMyParticipantId()), str(got.GetCallChainId()), str(call.GetMyParticipantId()), chain)
	}

	list, err := client.Communications().Calls().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list calls: %s", describe(err))
	}
	if !slices.ContainsFunc(list.GetValue(), func(c models.Callable) bool { return str(c.GetId()) == id }) {
		t.Errorf("list calls: %d calls, none with id %s", len(list.GetValue()), id)
	}

	if err := client.Communications().Calls().ByCallId(id).Delete(ctx, nil); err != nil {
		t.Fatalf("delete call: %s", describe(err))
	}
	checkCallNotification(t, rcv.Nth(t, id, 3), id, "updated", "terminating")
	n = rcv.Nth(t, id, 4)
	checkCallNotification(t, n, id, "deleted", "terminated")
	checkHangUpResult(t, n)

	_, err = client.Communications().Calls().ByCallId(id).Get(ctx, nil)
	if err == nil {
		t.Fatal("get call after hang-up: no error, want 404")
	}
	graphError(t, err, http.StatusNotFound, "itemNotFound")

	err = client.Communications().Calls().ByCallId(id).Delete(ctx, nil)
	if err == nil {
		t.Fatal("second delete: no error, want 404")
	}
	graphError(t, err, http.StatusNotFound, "itemNotFound")

	list, err = client.Communications().Calls().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list calls after hang-up: %s", describe(err))
	}
	if slices.ContainsFunc(list.GetValue(), func(c models.Callable) bool { return str(c.GetId()) == id }) {
		t.Errorf("list calls after hang-up: the ended call %s is still listed", id)
	}
}

// checkHangUpResult checks the resultInfo of the terminated notification
// after DELETE: 200/5001 "The conversation has ended." in the Graph docs.
func checkHangUpResult(t *testing.T, n notification) {
	t.Helper()
	ri := n.Call.GetResultInfo()
	if ri == nil || ri.GetCode() == nil || ri.GetSubcode() == nil {
		t.Fatalf("notification %s: no resultInfo code and subcode", n)
	}
	if *ri.GetCode() != 200 || *ri.GetSubcode() != 5001 {
		t.Errorf("notification %s: resultInfo %d/%d, want 200/5001", n, *ri.GetCode(), *ri.GetSubcode())
	}
}

// TestSDKGroupCallRoster creates a group call with two targets: the bot
// gets roster updates (arrays of participants) as they join, and
// Participants().Get lists the same roster.
func TestSDKGroupCallRoster(t *testing.T) {
	ctx := t.Context()
	s := startServer(t, "")
	rcv := newReceiver(t)
	client, _ := sdkClient(t, s)
	users := []string{"1b0a7c2e-4d1f-4a57-8d43-6c1e2f9a0b01", "1b0a7c2e-4d1f-4a57-8d43-6c1e2f9a0b02"}

	call := createCall(t, client, callRequest(rcv.URL(), users...))
	id := str(call.GetId())
	checkCallNotification(t, rcv.Nth(t, id, 1), id, "updated", "establishing")
	checkCallNotification(t, rcv.Nth(t, id, 2), id, "updated", "established")

	// The bot's own leg plus both users.
	roster := rcv.First(t, id, "a roster with 3 participants", func(n notification) bool { return len(n.Participants) == 3 })
	if roster.ChangeType != "updated" {
		t.Errorf("roster notification %s: changeType %q, want updated", roster, roster.ChangeType)
	}
	if want := "/communications/calls/" + id + "/participants"; roster.ResourceURL != want {
		t.Errorf("roster notification %s: resourceUrl %q, want %q", roster, roster.ResourceURL, want)
	}
	for _, n := range rcv.Notifications(id)[2:] {
		if n.Participants == nil {
			t.Errorf("notification %s after established: want roster updates only", n)
		}
	}
	notified := participantIDs(t, roster.Participants, str(call.GetMyParticipantId()), users)

	list, err := client.Communications().Calls().ByCallId(id).Participants().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list participants: %s", describe(err))
	}
	listed := participantIDs(t, list.GetValue(), str(call.GetMyParticipantId()), users)
	if !slices.Equal(notified, listed) {
		t.Errorf("participant ids: notified %v, listed %v", notified, listed)
	}
}

// participantIDs checks that a roster holds the bot's own participant and
// one participant per user, and returns the sorted participant ids.
func participantIDs(t *testing.T, roster []models.Participantable, mine string, users []string) []string {
	t.Helper()
	var ids, gotUsers []string
	haveMine := false
	for _, p := range roster {
		id := str(p.GetId())
		if id == "" {
			t.Errorf("participant without an id")
		}
		ids = append(ids, id)
		if id == mine {
			haveMine = true
		}
		if p.GetInfo() == nil || p.GetInfo().GetIdentity() == nil {
			t.Errorf("participant %s without info.identity", id)
			continue
		}
		if u := p.GetInfo().GetIdentity().GetUser(); u != nil {
			gotUsers = append(gotUsers, str(u.GetId()))
		}
	}
	if !haveMine {
		t.Errorf("roster %v lacks the call's own participant %s", ids, mine)
	}
	slices.Sort(gotUsers)
	if !slices.Equal(gotUsers, users) {
		t.Errorf("roster users %v, want %v", gotUsers, users)
	}
	slices.Sort(ids)
	return ids
}

// TestSDKErrors checks that errors reach the SDK as ODataErrors with a
// status, a code and a message.
func TestSDKErrors(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	client, _ := sdkClient(t, s)

	tests := []struct {
		name    string
		do      func() error
		status  int
		code    string
		mention string // a word the message must contain
	}{
		{
			name: "create without mediaConfig",
			do: func() error {
				body := callRequest(rcv.URL(), "2c9d5e1f-3a4b-4c6d-8e7f-9a0b1c2d3e4f")
				body.SetMediaConfig(nil)
				_, err := client.Communications().Calls().Post(t.Context(), body, nil)
				return err
			},
			status: http.StatusBadRequest, code: "BadRequest", mention: "mediaConfig",
		},
		{
			name: "get unknown call",
			do: func() error {
				_, err := client.Communications().Calls().ByCallId("3a1f0000-0000-4000-8000-000000000000").Get(t.Context(), nil)
				return err
			},
			status: http.StatusNotFound, code: "itemNotFound",
		},
		{
			name: "delete unknown call",
			do: func() error {
				return client.Communications().Calls().ByCallId("3a1f0000-0000-4000-8000-000000000000").Delete(t.Context(), nil)
			},
			status: http.StatusNotFound, code: "itemNotFound",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil {
				t.Fatalf("no error, want %d %s", tt.status, tt.code)
			}
			e := graphError(t, err, tt.status, tt.code)
			if !strings.Contains(str(e.GetMessage()), tt.mention) {
				t.Errorf("message %q does not mention %q", str(e.GetMessage()), tt.mention)
			}
		})
	}
}

// TestSDKQuickStartPlainHTTP is the shortest set-up: over the plain-HTTP
// listener on 127.0.0.1 the SDK's own constructor is enough (the
// azure-identity authentication provider allows http:// for loopback
// only), as long as the valid hosts name 127.0.0.1. Tokens still come from
// the HTTPS token service.
func TestSDKQuickStartPlainHTTP(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	cred := newCredential(t, s.HTTPS+"/", devHTTPClient(t, s.DevCA()))
	client, err := msgraph.NewGraphServiceClientWithCredentialsAndHosts(cred, graphScopes, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	client.GetAdapter().SetBaseUrl(s.HTTP + "/v1.0")

	call := createCall(t, client, callRequest(rcv.URL(), "4d2e6f70-8192-4a3b-9c4d-5e6f708192a3"))
	checkCallNotification(t, rcv.Nth(t, str(call.GetId()), 1), str(call.GetId()), "updated", "establishing")
	if _, err := client.Communications().Calls().Get(t.Context(), nil); err != nil {
		t.Fatalf("list calls: %s", describe(err))
	}
}

// fetchToken gets an access token from the token service at base with a
// plain form POST, as any OAuth client can.
func fetchToken(t *testing.T, httpClient *http.Client, base string) string {
	t.Helper()
	return fetchAppToken(t, httpClient, base, devApp)
}

// fetchAppToken is fetchToken for any registered application.
func fetchAppToken(t *testing.T, httpClient *http.Client, base string, a appCreds) string {
	t.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {a.clientID},
		"client_secret": {a.secret},
		"scope":         {graphScopes[0]},
	}
	resp, err := httpClient.PostForm(base+"/"+a.tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token request: %s, %v, token %q", resp.Status, err, tok.AccessToken)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Errorf("token_type %q, want Bearer", tok.TokenType)
	}
	return tok.AccessToken
}

// plainClient is an HTTP client for the plain-HTTP listener.
func plainClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DisableKeepAlives = clusterRun() // each request to the next node
	return &http.Client{Transport: tr}
}

// graphRequest sends a Graph request with a bearer token and returns the
// status, the response and its body.
func graphRequest(t *testing.T, httpClient *http.Client, method, url, token string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, b
}

// TestRawHTTPGzipCreate creates a call without the SDK, with a
// gzip-compressed body as the SDK would send it.
func TestRawHTTPGzipCreate(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	hc := plainClient()
	token := fetchToken(t, hc, s.HTTP)

	body, err := json.Marshal(map[string]any{
		"@odata.type": "#microsoft.graph.call",
		"callbackUri": rcv.URL(),
		"targets": []any{map[string]any{
			"@odata.type": "#microsoft.graph.invitationParticipantInfo",
			"identity": map[string]any{
				"@odata.type": "#microsoft.graph.identitySet",
				"user":        map[string]any{"@odata.type": "#microsoft.graph.identity", "displayName": "John", "id": "112f7296-5fa4-42ca-bae8-6a692b15d4b8"},
			},
		}},
		"requestedModalities": []string{"audio"},
		"mediaConfig":         map[string]any{"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	h := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}
	resp, got := graphRequest(t, hc, http.MethodPost, s.HTTP+"/v1.0/communications/calls", token, h, gz.Bytes())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create call: %s: %s", resp.Status, got)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var call struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal(got, &call); err != nil || call.ID == "" || call.State != "establishing" {
		t.Fatalf("create call: body %s (%v), want an establishing call with an id", got, err)
	}
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/v1.0/communications/calls/"+call.ID) {
		t.Errorf("Location %q, want the call's URL", loc)
	}
	checkCallNotification(t, rcv.Nth(t, call.ID, 1), call.ID, "updated", "establishing")
}
