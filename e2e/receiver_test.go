package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

// receiver is a bot's callback endpoint: an HTTP server on loopback that
// records every POST and decodes the commsNotifications in it the way a Go
// bot does. Deliveries are at least once, so it acknowledges a repeated
// sequence number without recording it again, as a bot that deduplicates
// would; a gap or a reordering is a test failure.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever something is recorded
	down    bool          // answer 503 to everything
	posts   []post
	calls   map[string][]notification // accepted notifications by call id, in sequence order
	dups    int
	faults  []string // protocol violations, reported when the test ends

	// timeout bounds each wait; zero means waitTimeout. Tests of real
	// phones, whose calls last as long as their audio, set it longer.
	timeout time.Duration
}

// post is one HTTP request the receiver got, whatever it answered.
type post struct {
	Header http.Header
	Body   []byte
	Status int // what the receiver answered
}

// notification is one accepted callback: its headers and the single
// commsNotification in it, with resourceData decoded by the SDK's models.
type notification struct {
	Seq     int64 // Switchboard-Sequence
	Attempt int   // Switchboard-Delivery-Attempt
	Header  http.Header
	Body    []byte

	Path        string // the path of the callback URL it was posted to
	ChangeType  string
	ResourceURL string
	Resource    string
	CallbackURI string
	// Call is set when resourceData is a call, Participants when it is an
	// array of participants (a roster update), Operation when the resource
	// is an operation (.../operations/{id}) and Shares when it is the
	// content sharing sessions (.../contentsharingsessions).
	Call         models.Callable
	Participants []models.Participantable
	Operation    models.CommsOperationable
	Shares       []models.ContentSharingSessionable
}

// State is the state in a call notification, or "" for any other kind.
func (n notification) State() string {
	if n.Call == nil || n.Call.GetState() == nil {
		return ""
	}
	return n.Call.GetState().String()
}

func (n notification) String() string {
	switch {
	case n.Call != nil:
		return fmt.Sprintf("#%d %s %s state=%s", n.Seq, n.ChangeType, n.ResourceURL, n.State())
	case n.Participants != nil:
		return fmt.Sprintf("#%d %s %s participants=%d", n.Seq, n.ChangeType, n.ResourceURL, len(n.Participants))
	case n.Operation != nil:
		status := "<nil>"
		if st := n.Operation.GetStatus(); st != nil {
			status = st.String()
		}
		return fmt.Sprintf("#%d %s %s %T status=%s", n.Seq, n.ChangeType, n.ResourceURL, n.Operation, status)
	case n.Shares != nil:
		return fmt.Sprintf("#%d %s %s sessions=%d", n.Seq, n.ChangeType, n.ResourceURL, len(n.Shares))
	}
	return fmt.Sprintf("#%d %s %s", n.Seq, n.ChangeType, n.ResourceURL)
}

// newReceiver starts a receiver that is closed when the test ends.
func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, changed: make(chan struct{}), calls: make(map[string][]notification)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serveHTTP))
	t.Cleanup(func() {
		r.srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, f := range r.faults {
			t.Errorf("receiver: %s", f)
		}
	})
	return r
}

// URL is the callbackUri to give Switchboard.
func (r *receiver) URL() string { return r.srv.URL + "/callback" }

// SetDown makes the receiver answer every request with 503 (true) or
// accept notifications again (false).
func (r *receiver) SetDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// envelope is the commsNotifications body. The Go SDK has no model for it,
// so a bot decodes the envelope itself and only resourceData with the SDK.
type envelope struct {
	ODataType string `json:"@odata.type"`
	Value     []struct {
		ODataType    string          `json:"@odata.type"`
		ChangeType   string          `json:"changeType"`
		Resource     string          `json:"resource"`
		ResourceURL  string          `json:"resourceUrl"`
		CallbackURI  string          `json:"callbackUri"`
		ResourceData json.RawMessage `json:"resourceData"`
	} `json:"value"`
}

func (r *receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.broadcast()
	p := post{Header: req.Header.Clone(), Body: body, Status: http.StatusOK}
	defer func() { r.posts = append(r.posts, p) }()
	if err != nil {
		p.Status = http.StatusBadRequest
		r.fault("reading a callback body: %v", err)
		http.Error(w, err.Error(), p.Status)
		return
	}
	if r.down {
		p.Status = http.StatusServiceUnavailable
		w.WriteHeader(p.Status)
		return
	}
	n, err := decodeNotification(req, body)
	if err != nil {
		r.fault("%v\nbody: %s", err, body)
		p.Status = http.StatusBadRequest // a bot would refuse it; the test fails anyway
		http.Error(w, err.Error(), p.Status)
		return
	}
	callID := req.Header.Get(notify.HeaderCallID)
	log := r.calls[callID]
	var last int64
	if len(log) > 0 {
		last = log[len(log)-1].Seq
	}
	switch {
	case n.Seq == last+1:
		r.calls[callID] = append(log, n)
	case n.Seq >= 1 && n.Seq <= last:
		// At-least-once: a redelivery after an interrupted attempt or a
		// restart. It must be the same notification.
		r.dups++
		r.t.Logf("receiver: duplicate delivery of call %s %s (attempt %d)", callID, n, n.Attempt)
		if prev := log[n.Seq-1]; !bytes.Equal(prev.Body, n.Body) {
			r.fault("call %s: sequence %d delivered twice with different bodies:\n%s\n%s", callID, n.Seq, prev.Body, n.Body)
		}
	default:
		r.fault("call %s: sequence %d after %d: want %d (a notification was lost or reordered)", callID, n.Seq, last, last+1)
		r.calls[callID] = append(log, n)
	}
	w.WriteHeader(p.Status)
}

// decodeNotification checks the headers of a callback and decodes its one
// commsNotification.
func decodeNotification(req *http.Request, body []byte) (notification, error) {
	n := notification{Header: req.Header.Clone(), Body: body, Path: req.URL.Path}
	if req.Method != http.MethodPost {
		return n, fmt.Errorf("callback with method %s, want POST", req.Method)
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return n, fmt.Errorf("callback Content-Type %q, want application/json", ct)
	}
	if a := req.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ") || len(a) == len("Bearer ") {
		return n, fmt.Errorf("callback Authorization %q, want a bearer token", a)
	}
	var err error
	if n.Seq, err = strconv.ParseInt(req.Header.Get(notify.HeaderSequence), 10, 64); err != nil {
		return n, fmt.Errorf("callback %s header: %v", notify.HeaderSequence, err)
	}
	if n.Attempt, err = strconv.Atoi(req.Header.Get(notify.HeaderAttempt)); err != nil || n.Attempt < 1 {
		return n, fmt.Errorf("callback %s header %q, want a number from 1", notify.HeaderAttempt, req.Header.Get(notify.HeaderAttempt))
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return n, fmt.Errorf("callback body is not JSON: %v", err)
	}
	if env.ODataType != "#microsoft.graph.commsNotifications" || len(env.Value) != 1 {
		return n, fmt.Errorf("callback envelope: @odata.type %q with %d notifications, want #microsoft.graph.commsNotifications with 1", env.ODataType, len(env.Value))
	}
	v := env.Value[0]
	if v.ODataType != "#microsoft.graph.commsNotification" {
		return n, fmt.Errorf("notification @odata.type %q, want #microsoft.graph.commsNotification", v.ODataType)
	}
	n.ChangeType, n.Resource, n.ResourceURL, n.CallbackURI = v.ChangeType, v.Resource, v.ResourceURL, v.CallbackURI

	callID := req.Header.Get(notify.HeaderCallID)
	if want := "/communications/calls/" + callID; callID == "" || (n.ResourceURL != want && !strings.HasPrefix(n.ResourceURL, want+"/")) {
		return n, fmt.Errorf("resourceUrl %q does not belong to the call in %s: %q", n.ResourceURL, notify.HeaderCallID, callID)
	}

	node, err := jsonserialization.NewJsonParseNode(v.ResourceData)
	if err != nil {
		return n, fmt.Errorf("resourceData: %v", err)
	}
	data := bytes.TrimSpace(v.ResourceData)
	if len(data) == 0 {
		return n, fmt.Errorf("notification without resourceData")
	}
	isOperation := strings.Contains(n.ResourceURL, "/operations/")
	isShares := strings.HasSuffix(strings.ToLower(n.ResourceURL), "/contentsharingsessions")
	switch {
	case data[0] == '{' && isOperation:
		obj, err := node.GetObjectValue(models.CreateCommsOperationFromDiscriminatorValue)
		if err != nil {
			return n, fmt.Errorf("resourceData as an operation: %v", err)
		}
		op, ok := obj.(models.CommsOperationable)
		if !ok {
			return n, fmt.Errorf("resourceData decoded as %T, want an operation", obj)
		}
		n.Operation = op
	case data[0] == '[' && isShares:
		objs, err := node.GetCollectionOfObjectValues(models.CreateContentSharingSessionFromDiscriminatorValue)
		if err != nil {
			return n, fmt.Errorf("resourceData as content sharing sessions: %v", err)
		}
		n.Shares = make([]models.ContentSharingSessionable, 0, len(objs))
		for _, o := range objs {
			s, ok := o.(models.ContentSharingSessionable)
			if !ok {
				return n, fmt.Errorf("resourceData element decoded as %T, want a contentSharingSession", o)
			}
			n.Shares = append(n.Shares, s)
		}
	case data[0] == '{':
		obj, err := node.GetObjectValue(models.CreateCallFromDiscriminatorValue)
		if err != nil {
			return n, fmt.Errorf("resourceData as a call: %v", err)
		}
		call, ok := obj.(models.Callable)
		if !ok {
			return n, fmt.Errorf("resourceData decoded as %T, want a call", obj)
		}
		n.Call = call
	case data[0] == '[':
		objs, err := node.GetCollectionOfObjectValues(models.CreateParticipantFromDiscriminatorValue)
		if err != nil {
			return n, fmt.Errorf("resourceData as participants: %v", err)
		}
		n.Participants = make([]models.Participantable, 0, len(objs))
		for _, o := range objs {
			p, ok := o.(models.Participantable)
			if !ok {
				return n, fmt.Errorf("resourceData element decoded as %T, want a participant", o)
			}
			n.Participants = append(n.Participants, p)
		}
	default:
		return n, fmt.Errorf("resourceData is neither an object nor an array: %s", v.ResourceData)
	}
	return n, nil
}

// fault records a protocol violation. The caller holds r.mu.
func (r *receiver) fault(format string, args ...any) {
	r.faults = append(r.faults, fmt.Sprintf(format, args...))
}

// broadcast wakes the waiters. The caller holds r.mu.
func (r *receiver) broadcast() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitUntil waits until cond, called with r.mu held, is true; it fails the
// test after r.timeout (default waitTimeout) or as soon as the receiver saw
// a protocol violation.
func (r *receiver) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := r.timeout
	if limit == 0 {
		limit = waitTimeout
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, faults, changed := cond(), len(r.faults), r.changed
		r.mu.Unlock()
		if faults > 0 {
			r.mu.Lock()
			msg := strings.Join(r.faults, "\n")
			r.faults = nil // reported here, not again at cleanup
			r.mu.Unlock()
			t.Fatalf("receiver: waiting for %s: %s", what, msg)
		}
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("receiver: no %s after %v; got so far:\n%s", what, limit, r.dump())
		}
	}
}

// Nth waits for the n-th (1-based) notification of a call and returns it.
func (r *receiver) Nth(t *testing.T, callID string, n int) notification {
	t.Helper()
	var got notification
	r.waitUntil(t, fmt.Sprintf("notification %d of call %s", n, callID), func() bool {
		if log := r.calls[callID]; len(log) >= n {
			got = log[n-1]
			return true
		}
		return false
	})
	return got
}

// First waits for the first notification of a call that matches and
// returns it.
func (r *receiver) First(t *testing.T, callID, what string, match func(notification) bool) notification {
	t.Helper()
	var got notification
	r.waitUntil(t, what+" for call "+callID, func() bool {
		for _, n := range r.calls[callID] {
			if match(n) {
				got = n
				return true
			}
		}
		return false
	})
	return got
}

// Notifications returns the accepted notifications of a call so far.
func (r *receiver) Notifications(callID string) []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notification(nil), r.calls[callID]...)
}

// WaitRefused waits until the receiver has refused (with 503) at least n
// requests in total and returns them.
func (r *receiver) WaitRefused(t *testing.T, n int) []post {
	t.Helper()
	var refused []post
	r.waitUntil(t, fmt.Sprintf("%d refused callbacks", n), func() bool {
		refused = refused[:0]
		for _, p := range r.posts {
			if p.Status == http.StatusServiceUnavailable {
				refused = append(refused, p)
			}
		}
		return len(refused) >= n
	})
	return refused
}

func (r *receiver) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d duplicates\n", len(r.posts), r.dups)
	for id, log := range r.calls {
		fmt.Fprintf(&b, "call %s:\n", id)
		for _, n := range log {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	return b.String()
}
