package extapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/extapi"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeAuth accepts "Bearer <tenant>/<app>", "Bearer <tenant>/<app>/admin"
// and "Bearer <tenant>/<app>/operator".
type fakeAuth struct{}

func (fakeAuth) Authenticate(r *http.Request) (auth.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return auth.Principal{}, auth.ErrMissingToken
	}
	parts := strings.Split(tok, "/")
	if len(parts) < 2 {
		return auth.Principal{}, auth.ErrInvalidToken
	}
	p := auth.Principal{TenantID: parts[0], AppID: parts[1], Roles: []string{auth.RoleCallsInitiate}}
	if len(parts) == 3 && parts[2] == "admin" {
		p.Roles = append(p.Roles, auth.RoleAdmin)
	}
	if len(parts) == 3 && parts[2] == "operator" {
		p.Roles = append(p.Roles, auth.RoleOperator)
	}
	return p, nil
}

func (fakeAuth) WWWAuthenticate(error) string { return `Bearer error="invalid_token"` }

// fakeStore holds the outbox rows of calls owned by tenant-1/app-1 unless
// owners says otherwise. It remembers the largest limit it was asked for.
type fakeStore struct {
	legs     []*calls.Call // newest first, for RecentCalls
	owners   map[string][2]string
	entries  map[string][]notify.Entry
	maxLimit atomic.Int64
}

func (s *fakeStore) Notifications(_ context.Context, callID string, from int64, limit int) ([]notify.Entry, error) {
	if limit <= 0 {
		s.maxLimit.Store(math.MaxInt64)
	} else if int64(limit) > s.maxLimit.Load() {
		s.maxLimit.Store(int64(limit))
	}
	var out []notify.Entry
	for _, e := range s.entries[callID] {
		if e.Seq >= from && (limit <= 0 || len(out) < limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *fakeStore) CallOwner(_ context.Context, callID string) (string, string, error) {
	o, ok := s.owners[callID]
	if !ok {
		return "", "", fmt.Errorf("fake: %s: %w", callID, calls.ErrNotFound)
	}
	return o[0], o[1], nil
}

// RecentCalls filters legs as the stores do (case-insensitively).
func (s *fakeStore) RecentCalls(_ context.Context, tenantID, appID string, limit int) ([]*calls.Call, error) {
	var out []*calls.Call
	for _, l := range s.legs {
		if (tenantID == "" || strings.EqualFold(l.TenantID, tenantID)) && (appID == "" || strings.EqualFold(l.AppID, appID)) && len(out) < limit {
			out = append(out, l)
		}
	}
	return out, nil
}

func (s *fakeStore) CallConversation(_ context.Context, callID string) (*calls.Conversation, error) {
	for _, l := range s.legs {
		if l.ID == callID {
			return &calls.Conversation{ID: "conv-" + callID, Legs: []*calls.Call{l},
				Roster: []calls.Participant{{ID: "p-" + callID, State: calls.ParticipantJoined, Muted: true}}}, nil
		}
	}
	return nil, fmt.Errorf("fake: %s: %w", callID, calls.ErrNotFound)
}

// fakeReplayer records what it was asked to replay and queues all of it,
// up to limit deliveries in all when limit is set.
type fakeReplayer struct {
	mu    sync.Mutex
	ds    []notify.Delivery
	limit int
}

func (f *fakeReplayer) Replay(ds ...notify.Delivery) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limit > 0 && len(f.ds)+len(ds) > f.limit {
		return 0, fmt.Errorf("%w: %d would be queued for the application, at most %d", notify.ErrReplayLimit, len(f.ds)+len(ds), f.limit)
	}
	f.ds = append(f.ds, ds...)
	return len(ds), nil
}

func body(callID string, seq int64, state string) []byte {
	return fmt.Appendf(nil, `{"@odata.type":"#microsoft.graph.commsNotifications","value":[{"@odata.type":"#microsoft.graph.commsNotification","changeType":"updated","resourceUrl":"/communications/calls/%s","resourceData":{"state":%q,"seq":%d}}]}`, callID, state, seq)
}

// entries returns n rows of callID: the first delivered, the second given
// up, the rest pending.
func entries(callID, url string, n int) []notify.Entry {
	var out []notify.Entry
	for i := 1; i <= n; i++ {
		e := notify.Entry{Delivery: notify.Delivery{
			CallID: callID, Seq: int64(i), URL: url, Body: body(callID, int64(i), "established"),
			AppID: "app-1", TenantID: "tenant-1", ChainID: "chain", CreatedAt: t0.Add(time.Duration(i) * time.Second),
		}, Status: notify.StatusPending}
		switch i {
		case 1:
			e.Status, e.Attempts, e.DeliveredAt = notify.StatusDelivered, 1, t0.Add(time.Minute)
		case 2:
			e.Status, e.Attempts, e.LastError = notify.StatusGaveUp, 12, "notify: callback answered 500 Internal Server Error"
		}
		out = append(out, e)
	}
	return out
}

type harness struct {
	*httptest.Server
	store    *fakeStore
	replayer *fakeReplayer
	ready    chan struct{}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		store: &fakeStore{
			owners:  map[string][2]string{"call-1": {"tenant-1", "app-1"}, "call-empty": {"tenant-1", "app-1"}},
			entries: map[string][]notify.Entry{"call-1": entries("call-1", "https://bot.example/cb", 5)},
		},
		replayer: &fakeReplayer{},
		ready:    make(chan struct{}),
	}
	h.Server = httptest.NewServer(extapi.New(extapi.Config{
		Auth: fakeAuth{}, Store: h.store, Replayer: h.replayer, Ready: h.ready, Version: "9.9.9",
		Logger: slog.New(slog.DiscardHandler),
	}))
	t.Cleanup(h.Close)
	return h
}

type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (h *harness) do(t *testing.T, method, path, token, reqBody string) response {
	t.Helper()
	var rd io.Reader
	if reqBody != "" {
		rd = strings.NewReader(reqBody)
	}
	url := path
	if !strings.HasPrefix(url, "http") {
		url = h.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		t.Fatalf("%s %s: %d, body is not a JSON object: %s", method, path, res.StatusCode, b)
	}
	if r.status >= 400 && !strings.HasSuffix(path, "/ready") { // readiness answers probes, not clients
		e, _ := r.body["error"].(map[string]any)
		if e == nil || e["code"] == "" || e["message"] == "" {
			t.Fatalf("%s %s: %d without a Graph error envelope: %s", method, path, r.status, b)
		}
	}
	return r
}

func (r response) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) target() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["target"].(string)
	return c
}

func TestHealthAndReady(t *testing.T) {
	h := newHarness(t)
	if r := h.do(t, "GET", "/switchboard/v1/health", "", ""); r.status != 200 || r.body["status"] != "ok" || r.body["version"] != "9.9.9" {
		t.Errorf("health = %d %s", r.status, r.raw)
	}
	if r := h.do(t, "GET", "/switchboard/v1/ready", "", ""); r.status != 503 || r.body["status"] != "starting" {
		t.Errorf("ready before Ready closed = %d %s, want 503 starting", r.status, r.raw)
	}
	close(h.ready)
	if r := h.do(t, "GET", "/switchboard/v1/ready", "", ""); r.status != 200 || r.body["status"] != "ready" {
		t.Errorf("ready = %d %s, want 200 ready", r.status, r.raw)
	}
}

func TestListNotifications(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "GET", "/switchboard/v1/calls/call-1/notifications", "tenant-1/app-1", "")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if _, ok := r.body["@odata.nextLink"]; ok {
		t.Error("nextLink on a complete page")
	}
	var page struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal([]byte(r.raw), &page)
	if len(page.Value) != 5 {
		t.Fatalf("%d entries, want 5", len(page.Value))
	}
	want := map[string]any{
		"sequence": 1.0, "changeType": "updated", "resourceUrl": "/communications/calls/call-1",
		"status": "delivered", "attempts": 1.0, "lastError": nil,
		"createdDateTime": "2026-03-01T12:00:01Z", "deliveredDateTime": "2026-03-01T12:01:00Z", "nextAttemptDateTime": nil,
		"callbackUri": "https://bot.example/cb",
	}
	first := page.Value[0]
	for k, v := range want {
		if got, ok := first[k]; !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("entry 1: %s = %#v, want %#v", k, got, v)
		}
	}
	b, _ := first["body"].(map[string]any)
	if b["@odata.type"] != "#microsoft.graph.commsNotifications" || len(b["value"].([]any)) != 1 {
		t.Errorf("entry 1: body is not the commsNotifications object: %#v", first["body"])
	}
	second := page.Value[1]
	if second["status"] != "gaveUp" || second["attempts"] != 12.0 || second["lastError"] != "notify: callback answered 500 Internal Server Error" || second["deliveredDateTime"] != nil {
		t.Errorf("entry 2 = %v, want gaveUp after 12 attempts with its error", second)
	}
	if page.Value[4]["status"] != "pending" || page.Value[4]["sequence"] != 5.0 {
		t.Errorf("entry 5 = %v, want pending seq 5", page.Value[4])
	}

	if r := h.do(t, "GET", "/switchboard/v1/calls/call-empty/notifications", "tenant-1/app-1", ""); r.status != 200 || r.raw != `{"value":[]}` {
		t.Errorf("call without notifications = %d %s, want an empty list", r.status, r.raw)
	}
}

func TestListNotificationsPages(t *testing.T) {
	h := newHarness(t)
	var seqs []float64
	next := "/switchboard/v1/calls/call-1/notifications?fromSequence=2&$top=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := h.do(t, "GET", next, "tenant-1/app-1", "")
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", next, r.status, r.raw)
		}
		for _, v := range r.body["value"].([]any) {
			seqs = append(seqs, v.(map[string]any)["sequence"].(float64))
		}
		next, _ = r.body["@odata.nextLink"].(string)
		if next != "" && !strings.HasPrefix(next, h.URL+"/switchboard/v1/calls/call-1/notifications?") {
			t.Fatalf("nextLink %q is not an absolute link to the log", next)
		}
	}
	if !reflect.DeepEqual(seqs, []float64{2, 3, 4, 5}) {
		t.Errorf("pages gave sequences %v, want 2..5", seqs)
	}
}

func TestListNotificationsBadQuery(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ query, target string }{
		{"$top=0", "$top"},
		{"$top=1001", "$top"},
		{"$top=x", "$top"},
		{"fromSequence=-1", "fromSequence"},
		{"fromSequence=1.5", "fromSequence"},
		{"fromSequence=1&fromSequence=2", "fromSequence"},
		{"$skip=1", "$skip"},
		{"from=1", "from"},
		{"%zz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := h.do(t, "GET", "/switchboard/v1/calls/call-1/notifications?"+tt.query, "tenant-1/app-1", "")
			if r.status != 400 || r.code() != "BadRequest" || r.target() != tt.target {
				t.Errorf("status %d %s, want 400 BadRequest on %q", r.status, r.raw, tt.target)
			}
		})
	}
}

func TestIsolation(t *testing.T) {
	h := newHarness(t)
	missing := h.do(t, "GET", "/switchboard/v1/calls/no-such-call/notifications", "tenant-1/app-1", "")
	if missing.status != 404 || missing.code() != "itemNotFound" {
		t.Fatalf("missing call: %d %s", missing.status, missing.raw)
	}
	tests := []struct {
		name, token string
		want        int
	}{
		{"owner", "tenant-1/app-1", 200},
		{"owner in other case", "TENANT-1/App-1", 200},
		{"other app of the tenant", "tenant-1/app-2", 404},
		{"same app id in another tenant", "tenant-2/app-1", 404},
		{"admin of the tenant", "tenant-1/app-9/admin", 200},
		{"admin of the tenant in other case", "TENANT-1/app-9/admin", 200},
		// Switchboard.Admin does not reach across tenants (issue 9): a
		// foreign tenant's call is as missing to it as to anyone.
		{"admin of another tenant", "tenant-2/app-9/admin", 404},
		// Switchboard.Operator, granted only by the configuration, does.
		{"operator of another tenant", "tenant-2/app-9/operator", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, req := range []struct{ method, path, body string }{
				{"GET", "/switchboard/v1/calls/call-1/notifications", ""},
				{"POST", "/switchboard/v1/calls/call-1/notifications/replay", `{"fromSequence":1}`},
			} {
				r := h.do(t, req.method, req.path, tt.token, req.body)
				if r.status/100 != tt.want/100 {
					t.Errorf("%s %s: status %d %s, want %d", req.method, req.path, r.status, r.raw, tt.want)
				}
				if tt.want == 404 {
					e, _ := r.body["error"].(map[string]any)
					m := missing.body["error"].(map[string]any)
					if e == nil || e["code"] != m["code"] || e["message"] != m["message"] {
						t.Errorf("refusal %s differs from a missing call's %s", r.raw, missing.raw)
					}
				}
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "GET", "/switchboard/v1/calls/call-1/notifications", "", "")
	if r.status != 401 || r.code() != "InvalidAuthenticationToken" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d %s, want 401 with WWW-Authenticate", r.status, r.raw)
	}
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "DELETE", "/switchboard/v1/calls/call-1/notifications", "tenant-1/app-1", "")
	if r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Errorf("DELETE on the log: %d Allow %q, want 405 Allow GET", r.status, r.header.Get("Allow"))
	}
	if r := h.do(t, "GET", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", ""); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Errorf("GET on replay: %d Allow %q, want 405 Allow POST", r.status, r.header.Get("Allow"))
	}
	if r := h.do(t, "GET", "/switchboard/v1/nothing", "tenant-1/app-1", ""); r.status != 404 {
		t.Errorf("unknown path: %d, want 404", r.status)
	}
}

func TestReplay(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", `{"fromSequence":2}`)
	if r.status != 202 {
		t.Fatalf("status %d %s, want 202", r.status, r.raw)
	}
	if want := `{"fromSequence":2,"toSequence":5,"count":4,"more":false}`; r.raw != want {
		t.Errorf("body %s, want %s", r.raw, want)
	}
	var seqs []int64
	for _, d := range h.replayer.ds {
		seqs = append(seqs, d.Seq)
		if d.CallID != "call-1" || d.URL != "https://bot.example/cb" || len(d.Body) == 0 {
			t.Errorf("replayed delivery %+v lacks its row's fields", d)
		}
	}
	if !reflect.DeepEqual(seqs, []int64{2, 3, 4, 5}) {
		t.Errorf("replayed sequences %v, want 2..5 in order", seqs)
	}
	if h.replayer.ds[0].Attempts != 12 {
		t.Errorf("replayed delivery carries %d attempts, want the recorded 12", h.replayer.ds[0].Attempts)
	}

	r = h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", `{"fromSequence":6}`)
	if want := `{"fromSequence":6,"toSequence":null,"count":0,"more":false}`; r.status != 202 || r.raw != want {
		t.Errorf("replay past the end: %d %s, want 202 %s", r.status, r.raw, want)
	}
}

// TestReplayReadsInPages: a replay reads the log a page of 1,000 rows at a
// time, so that one request never holds 10,000 notification bodies, and
// still replays up to 10,000 of them.
func TestReplayReadsInPages(t *testing.T) {
	h := newHarness(t)
	h.store.entries["call-1"] = entries("call-1", "https://bot.example/cb", 10050)
	r := h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", `{"fromSequence":1}`)
	if want := `{"fromSequence":1,"toSequence":10000,"count":10000,"more":true}`; r.status != 202 || r.raw != want {
		t.Errorf("replay of 10,050: %d %s, want 202 %s", r.status, r.raw, want)
	}
	if n := h.store.maxLimit.Load(); n > 1000 {
		t.Errorf("the replay read %d rows at once, want pages of at most 1,000", n)
	}
	r = h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", `{"fromSequence":10001}`)
	if want := `{"fromSequence":10001,"toSequence":10050,"count":50,"more":false}`; r.status != 202 || r.raw != want {
		t.Errorf("replay of the rest: %d %s, want 202 %s", r.status, r.raw, want)
	}
	if len(h.replayer.ds) != 10050 || h.replayer.ds[10049].Seq != 10050 {
		t.Errorf("replayed %d notifications, want all 10,050 once", len(h.replayer.ds))
	}
}

// TestReplayLimit: when the Replayer's limit refuses a replay outright the
// answer is a Graph 429 with Retry-After that says why; when it refuses a
// later page the pages before it stay queued and more says to ask again.
func TestReplayLimit(t *testing.T) {
	h := newHarness(t)
	h.replayer.limit = 1500
	h.store.entries["call-1"] = entries("call-1", "https://bot.example/cb", 2500)
	r := h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", `{"fromSequence":1}`)
	if want := `{"fromSequence":1,"toSequence":1000,"count":1000,"more":true}`; r.status != 202 || r.raw != want {
		t.Errorf("replay up to the limit: %d %s, want 202 %s", r.status, r.raw, want)
	}
	r = h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", `{"fromSequence":1001}`)
	e, _ := r.body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if r.status != 429 || r.code() != "TooManyRequests" || r.header.Get("Retry-After") != "10" ||
		!strings.Contains(msg, "queued for replay") || !strings.Contains(msg, "at most 1500") {
		t.Errorf("replay beyond the limit: %d Retry-After %q %s, want 429 TooManyRequests with Retry-After 10 naming the limit",
			r.status, r.header.Get("Retry-After"), r.raw)
	}
	if len(h.replayer.ds) != 1000 {
		t.Errorf("%d notifications queued, want the first request's 1,000", len(h.replayer.ds))
	}
}

func TestReplayBadBody(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ name, body, target string }{
		{"empty object", `{}`, "fromSequence"},
		{"null", `{"fromSequence":null}`, "fromSequence"},
		{"negative", `{"fromSequence":-1}`, "fromSequence"},
		{"fraction", `{"fromSequence":1.5}`, "fromSequence"},
		{"string", `{"fromSequence":"1"}`, "fromSequence"},
		{"callbackUri override", `{"fromSequence":1,"callbackUri":"https://elsewhere.example/"}`, "callbackUri"},
		{"unknown property", `{"fromSequence":1,"toSequence":3}`, "toSequence"},
		{"array", `[1]`, ""},
		{"not json", `fromSequence=1`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, "POST", "/switchboard/v1/calls/call-1/notifications/replay", "tenant-1/app-1", tt.body)
			if r.status != 400 || r.code() != "BadRequest" || r.target() != tt.target {
				t.Errorf("status %d %s, want 400 BadRequest on %q", r.status, r.raw, tt.target)
			}
		})
	}
	if len(h.replayer.ds) != 0 {
		t.Errorf("a refused request replayed %d notifications", len(h.replayer.ds))
	}
}

func FuzzListQuery(f *testing.F) {
	for _, s := range []string{"", "fromSequence=3&$top=2", "$top=1000", "fromSequence=-1", "%zz", "$top=1&$top=2", "fromSequence=99999999999999999999"} {
		f.Add(s)
	}
	store := &fakeStore{owners: map[string][2]string{"c": {"t", "a"}}, entries: map[string][]notify.Entry{"c": entries("c", "https://bot.example/cb", 3)}}
	h := extapi.New(extapi.Config{Auth: fakeAuth{}, Store: store, Replayer: &fakeReplayer{}, Logger: slog.New(slog.DiscardHandler)})
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "/switchboard/v1/calls/c/notifications", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer t/a")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("query %q: status %d %s", query, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("query %q: body is not JSON: %s", query, rec.Body)
		}
	})
}
