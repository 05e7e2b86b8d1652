package graph_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/idempotency/idempotencytest"
)

var idemT0 = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

// idemServer is WithIdempotency in front of a handler that creates a
// numbered resource per request it runs, answering as the handler in
// status says, so that the tests can count side effects.
type idemServer struct {
	*httptest.Server
	store  *idempotencytest.MemoryStore
	clock  *clock.Fake
	runs   atomic.Int32
	status atomic.Int32 // the inner handler's status; 0 means 201
	// gate, when set, holds the inner handler until it is closed.
	gate    chan struct{}
	entered chan struct{}
	panics  atomic.Bool
}

// idemScope scopes keys by the X-App header; no header is an unknown caller.
func idemScope(r *http.Request) (string, error) {
	app := r.Header.Get("X-App")
	if app == "" {
		return "", errors.New("no app")
	}
	return "tenant/" + app, nil
}

// newIdemServer serves WithIdempotency with store (nil: a MemoryStore),
// its configuration changed by mods.
func newIdemServer(t *testing.T, store idempotency.Store, mods ...func(*graph.IdempotencyConfig)) *idemServer {
	t.Helper()
	s := &idemServer{store: &idempotencytest.MemoryStore{}, clock: clock.NewFake(idemT0), entered: make(chan struct{}, 16)}
	if store == nil {
		store = s.store
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.entered <- struct{}{}:
		default:
		}
		if s.gate != nil {
			<-s.gate
		}
		if s.panics.Load() {
			panic("boom")
		}
		body, err := graph.ReadBody(w, r, 4096)
		if err != nil {
			graph.WriteError(w, r, nil, err)
			return
		}
		n := s.runs.Add(1)
		status := int(s.status.Load())
		if status == 0 {
			status = http.StatusCreated
		}
		w.Header().Set("Location", "/things/"+string(rune('0'+n)))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Not-Replayed", "1")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"run": n, "echo": string(body), "path": r.URL.Path})
	})
	cfg := graph.IdempotencyConfig{Store: store, Scope: idemScope, Clock: s.clock, MaxBody: 4096, Logger: slog.New(slog.DiscardHandler)}
	for _, mod := range mods {
		mod(&cfg)
	}
	h := graph.WithRequestIDs(graph.WithRecovery(slog.New(slog.DiscardHandler), graph.WithIdempotency(cfg, inner)))
	s.Server = httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

type idemResponse struct {
	status int
	header http.Header
	body   string
}

// post sends body (gzipped if zip) to path as app with key ("" for none).
func (s *idemServer) post(t *testing.T, path, app, key, body string, zip bool) idemResponse {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if zip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(body))
		zw.Close()
		rd = &buf
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if zip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if app != "" {
		req.Header.Set("X-App", app)
	}
	if key != "" {
		req.Header.Set(graph.HeaderIdempotencyKey, key)
	}
	return s.send(t, req)
}

func (s *idemServer) send(t *testing.T, req *http.Request) idemResponse {
	t.Helper()
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return idemResponse{status: res.StatusCode, header: res.Header, body: string(b)}
}

// errorCode returns the Graph error code of r, failing t if r is not a
// Graph error envelope.
func (r idemResponse) errorCode(t *testing.T) string {
	t.Helper()
	var env struct {
		Error struct {
			Code, Message, Target string
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("status %d: not a Graph error envelope: %s", r.status, r.body)
	}
	return env.Error.Code
}

func TestIdempotencyReplaysFirstResponse(t *testing.T) {
	s := newIdemServer(t, nil)
	const body = `{"callbackUri":"https://bot.example/cb"}`
	first := s.post(t, "/v1.0/communications/calls", "app-a", "key-1", body, false)
	second := s.post(t, "/v1.0/communications/calls", "app-a", "key-1", body, false)

	if n := s.runs.Load(); n != 1 {
		t.Fatalf("the handler ran %d times, want once", n)
	}
	if first.status != http.StatusCreated || second.status != first.status {
		t.Fatalf("statuses %d then %d, want 201 twice", first.status, second.status)
	}
	if second.body != first.body {
		t.Errorf("replayed body differs:\nfirst:  %s\nsecond: %s", first.body, second.body)
	}
	for _, h := range []string{"Location", "Content-Type"} {
		if second.header.Get(h) == "" || second.header.Get(h) != first.header.Get(h) {
			t.Errorf("replayed %s = %q, want %q", h, second.header.Get(h), first.header.Get(h))
		}
	}
	if first.header.Get(graph.HeaderIdempotentReplayed) != "" {
		t.Error("the first response is marked as replayed")
	}
	if second.header.Get(graph.HeaderIdempotentReplayed) != "true" {
		t.Errorf("%s = %q on the replay, want true", graph.HeaderIdempotentReplayed, second.header.Get(graph.HeaderIdempotentReplayed))
	}
	if second.header.Get("X-Not-Replayed") != "" {
		t.Error("a header outside the replayed set was replayed")
	}
	if second.header.Get("request-id") == "" || second.header.Get("request-id") == first.header.Get("request-id") {
		t.Error("the replay does not carry a request-id of its own")
	}
}

func TestIdempotencyHashesDecodedBody(t *testing.T) {
	s := newIdemServer(t, nil)
	const body = `{"a":1}`
	first := s.post(t, "/v1.0/communications/calls", "app-a", "k", body, true)
	if !strings.Contains(first.body, `"echo":"{\"a\":1}"`) {
		t.Fatalf("the handler did not get the gzipped body intact: %s", first.body)
	}
	second := s.post(t, "/v1.0/communications/calls", "app-a", "k", body, false)
	if s.runs.Load() != 1 || second.header.Get(graph.HeaderIdempotentReplayed) != "true" {
		t.Errorf("the same body sent plain after gzipped ran again (runs %d, status %d)", s.runs.Load(), second.status)
	}
	// Path segments compare as the router matches them.
	third := s.post(t, "/v1.0/app/CALLS", "app-a", "k", body, true)
	if s.runs.Load() != 1 || third.body != first.body {
		t.Errorf("the legacy path alias of the same request ran again (status %d)", third.status)
	}
}

func TestIdempotencyRefusesDifferentRequest(t *testing.T) {
	tests := []struct {
		name, path, body string
	}{
		{"different body", "/v1.0/communications/calls", `{"a":2}`},
		{"different path", "/v1.0/communications/calls/x/answer", `{"a":1}`},
		{"different version", "/beta/communications/calls", `{"a":1}`},
		{"different query", "/v1.0/communications/calls?x=1", `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdemServer(t, nil)
			s.post(t, "/v1.0/communications/calls", "app-a", "k", `{"a":1}`, false)
			r := s.post(t, tt.path, "app-a", "k", tt.body, false)
			if r.status != http.StatusConflict || r.errorCode(t) != "Conflict" {
				t.Errorf("status %d %s, want 409 Conflict", r.status, r.body)
			}
			if !strings.Contains(r.body, "different request") {
				t.Errorf("message does not say why: %s", r.body)
			}
			if n := s.runs.Load(); n != 1 {
				t.Errorf("the handler ran %d times, want once", n)
			}
		})
	}
}

func TestIdempotencyKeysAreScoped(t *testing.T) {
	s := newIdemServer(t, nil)
	a := s.post(t, "/v1.0/communications/calls", "app-a", "shared", `{}`, false)
	b := s.post(t, "/v1.0/communications/calls", "app-b", "shared", `{}`, false)
	if s.runs.Load() != 2 || a.body == b.body || b.header.Get(graph.HeaderIdempotentReplayed) != "" {
		t.Fatalf("two apps' equal keys were not independent: runs %d\na: %s\nb: %s", s.runs.Load(), a.body, b.body)
	}
	// Each app still gets its own response back.
	if r := s.post(t, "/v1.0/communications/calls", "app-b", "shared", `{}`, false); r.body != b.body {
		t.Errorf("app-b's retry got %s, want %s", r.body, b.body)
	}
}

func TestIdempotencyExpires(t *testing.T) {
	s := newIdemServer(t, nil)
	first := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false)
	s.clock.Advance(24*time.Hour - time.Second)
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false); r.body != first.body || s.runs.Load() != 1 {
		t.Fatalf("replay just before the day is out: runs %d", s.runs.Load())
	}
	s.clock.Advance(time.Second)
	r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{"other":true}`, false)
	if s.runs.Load() != 2 || r.status != http.StatusCreated || r.header.Get(graph.HeaderIdempotentReplayed) != "" {
		t.Fatalf("after 24 h the key was not free: runs %d, status %d", s.runs.Load(), r.status)
	}
	if n := s.store.Len(); n != 1 {
		t.Errorf("the store holds %d records after the expired one was replaced, want 1", n)
	}
}

// TestIdempotencyQuotaPerApplication floods the store with one
// application's keys: it never holds more than the quota of them, the
// flood forgets only that application's oldest keys, and another
// application's key still replays.
func TestIdempotencyQuotaPerApplication(t *testing.T) {
	const quota = 4
	s := newIdemServer(t, nil, func(c *graph.IdempotencyConfig) { c.MaxKeys = quota })
	victim := s.post(t, "/v1.0/communications/calls", "app-b", "mine", `{}`, false)
	for i := range 50 {
		s.clock.Advance(time.Second)
		if r := s.post(t, "/v1.0/communications/calls", "app-a", fmt.Sprintf("k%d", i), `{}`, false); r.status != http.StatusCreated {
			t.Fatalf("flood request %d: %d %s", i, r.status, r.body)
		}
	}
	if n := s.store.Len(); n != quota+1 {
		t.Errorf("the store holds %d records after the flood, want app-a's quota of %d and app-b's one", n, quota)
	}
	if r := s.post(t, "/v1.0/communications/calls", "app-b", "mine", `{}`, false); r.body != victim.body || r.header.Get(graph.HeaderIdempotentReplayed) != "true" {
		t.Errorf("another application's key was forgotten: %d %s", r.status, r.body)
	}
	// The newest keys of the flood still replay; the oldest run again.
	runs := s.runs.Load()
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k49", `{}`, false); r.header.Get(graph.HeaderIdempotentReplayed) != "true" || s.runs.Load() != runs {
		t.Errorf("the newest key did not replay: %d", r.status)
	}
}

// TestIdempotencyQuotaOfRunningRequests fills an application's quota with
// requests still running: another key is refused with 429 and Retry-After,
// not stored, while another application goes on.
func TestIdempotencyQuotaOfRunningRequests(t *testing.T) {
	s := newIdemServer(t, nil, func(c *graph.IdempotencyConfig) { c.MaxKeys = 1 })
	s.gate = make(chan struct{})
	done := make(chan idemResponse)
	go func() { done <- s.post(t, "/v1.0/communications/calls", "app-a", "slow", `{}`, false) }()
	<-s.entered
	r := s.post(t, "/v1.0/communications/calls", "app-a", "other", `{}`, false)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.errorCode(t) != "TooManyRequests" {
		t.Errorf("a key beyond the quota of running requests: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	close(s.gate)
	if first := <-done; first.status != http.StatusCreated {
		t.Fatalf("the running request: %d", first.status)
	}
	if r := s.post(t, "/v1.0/communications/calls", "app-b", "other", `{}`, false); r.status != http.StatusCreated {
		t.Errorf("another application: %d", r.status)
	}
}

// TestIdempotencyResponseSizeCap answers with a body longer than
// MaxResponse: the client gets it whole, the store keeps nothing of it, and
// a retry runs the request again.
func TestIdempotencyResponseSizeCap(t *testing.T) {
	s := newIdemServer(t, nil, func(c *graph.IdempotencyConfig) { c.MaxResponse = 512 })
	big := `{"pad":"` + strings.Repeat("x", 600) + `"}`
	first := s.post(t, "/v1.0/communications/calls", "app-a", "k", big, false)
	if first.status != http.StatusCreated || !strings.Contains(first.body, strings.Repeat("x", 600)) {
		t.Fatalf("the large response did not reach the client whole: %d (%d bytes)", first.status, len(first.body))
	}
	if n := s.store.Len(); n != 0 {
		t.Errorf("the store holds %d records after a response over the cap, want 0", n)
	}
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k", big, false); r.header.Get(graph.HeaderIdempotentReplayed) != "" || s.runs.Load() != 2 {
		t.Errorf("a retry of an unremembered response: replayed %q, runs %d; want a second run", r.header.Get(graph.HeaderIdempotentReplayed), s.runs.Load())
	}
	small := s.post(t, "/v1.0/communications/calls", "app-a", "k2", `{}`, false)
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k2", `{}`, false); r.body != small.body {
		t.Errorf("a response under the cap was not replayed")
	}
}

func TestIdempotencyRemembersOnlyRepeatableOutcomes(t *testing.T) {
	tests := []struct {
		status   int
		remember bool
	}{
		{http.StatusOK, true},
		{http.StatusAccepted, true},
		{http.StatusNoContent, true},
		{http.StatusBadRequest, true},
		{http.StatusNotFound, true},
		{http.StatusConflict, true},
		{http.StatusUnauthorized, false},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s := newIdemServer(t, nil)
			s.status.Store(int32(tt.status))
			first := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false)
			if first.status != tt.status {
				t.Fatalf("status %d, want %d", first.status, tt.status)
			}
			s.status.Store(http.StatusCreated)
			second := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false)
			replayed := second.header.Get(graph.HeaderIdempotentReplayed) == "true"
			if replayed != tt.remember {
				t.Fatalf("after %d the retry was replayed: %v, want %v (runs %d)", tt.status, replayed, tt.remember, s.runs.Load())
			}
			if tt.remember && (second.status != tt.status || second.body != first.body) {
				t.Errorf("replay = %d %s, want %d %s", second.status, second.body, tt.status, first.body)
			}
			if !tt.remember && second.status != http.StatusCreated {
				t.Errorf("retry after %d = %d, want the request run again (201)", tt.status, second.status)
			}
		})
	}
}

func TestIdempotencyInFlightConflict(t *testing.T) {
	s := newIdemServer(t, nil)
	s.gate = make(chan struct{})
	var wg sync.WaitGroup
	var first idemResponse
	wg.Go(func() { first = s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false) })
	<-s.entered

	r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false)
	if r.status != http.StatusConflict || r.errorCode(t) != "Conflict" || !strings.Contains(r.body, "in progress") {
		t.Errorf("duplicate in flight: %d %s, want 409 Conflict in progress", r.status, r.body)
	}
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
	close(s.gate)
	wg.Wait()
	if again := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false); again.body != first.body {
		t.Errorf("after completion the retry got %d %s, want the first response", again.status, again.body)
	}
	if n := s.runs.Load(); n != 1 {
		t.Errorf("the handler ran %d times, want once", n)
	}
}

func TestIdempotencyAbandonedReservationIsTakenOver(t *testing.T) {
	s := newIdemServer(t, nil)
	// A process that died mid-request left a reservation behind.
	_, ok, err := s.store.ReserveIdempotency(context.Background(), idempotency.Record{
		Scope: "tenant/app-a", Key: "k", Token: "dead", RequestHash: []byte("whatever"),
		CreatedAt: idemT0, ExpiresAt: idemT0.Add(24 * time.Hour),
	}, idemT0, idemT0, 0)
	if err != nil || !ok {
		t.Fatalf("ReserveIdempotency: %v, %v", ok, err)
	}
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false); r.status != http.StatusConflict {
		t.Fatalf("a fresh reservation did not block: status %d", r.status)
	}
	s.clock.Advance(graph.DefaultIdempotencyInFlight + time.Second)
	// The abandoned request's hash differs; a takeover still runs the new one.
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false); r.status != http.StatusCreated || s.runs.Load() != 1 {
		t.Fatalf("after the in-flight limit: status %d, runs %d; want the request run", r.status, s.runs.Load())
	}
}

func TestIdempotencyPanicReleasesKey(t *testing.T) {
	s := newIdemServer(t, nil)
	s.panics.Store(true)
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false); r.status != http.StatusInternalServerError {
		t.Fatalf("panicking handler: status %d, want 500", r.status)
	}
	<-s.entered
	s.panics.Store(false)
	if r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false); r.status != http.StatusCreated {
		t.Fatalf("retry after a panic: status %d, want the request run (201)", r.status)
	}
}

func TestIdempotencyBadKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"empty", []string{""}},
		{"too long", []string{strings.Repeat("k", 256)}},
		{"control character", []string{"a\tb"}},
		{"not ascii", []string{"clé"}},
		{"twice", []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdemServer(t, nil)
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1.0/communications/calls", strings.NewReader(`{}`))
			req.Header.Set("X-App", "app-a")
			req.Header[graph.HeaderIdempotencyKey] = tt.keys
			r := s.send(t, req)
			if r.status != http.StatusBadRequest || r.errorCode(t) != "BadRequest" || !strings.Contains(r.body, `"target":"Idempotency-Key"`) {
				t.Errorf("status %d %s, want 400 BadRequest on Idempotency-Key", r.status, r.body)
			}
			if s.runs.Load() != 0 {
				t.Error("the handler ran")
			}
		})
	}
	t.Run("longest and widest", func(t *testing.T) {
		s := newIdemServer(t, nil)
		var k strings.Builder
		for c := byte(0x20); c <= 0x7e; c++ {
			k.WriteByte(c)
		}
		key := (k.String() + strings.Repeat("z", 255))[:255]
		if r := s.post(t, "/v1.0/communications/calls", "app-a", key, `{}`, false); r.status != http.StatusCreated {
			t.Errorf("a 255-character printable key: status %d %s", r.status, r.body)
		}
	})
}

func TestIdempotencyPassesThrough(t *testing.T) {
	t.Run("no key", func(t *testing.T) {
		s := newIdemServer(t, nil)
		s.post(t, "/v1.0/communications/calls", "app-a", "", `{}`, false)
		s.post(t, "/v1.0/communications/calls", "app-a", "", `{}`, false)
		if s.runs.Load() != 2 || s.store.Len() != 0 {
			t.Errorf("runs %d, records %d; want 2 runs and nothing stored", s.runs.Load(), s.store.Len())
		}
	})
	t.Run("not a POST", func(t *testing.T) {
		s := newIdemServer(t, nil)
		for range 2 {
			req, _ := http.NewRequest(http.MethodPatch, s.URL+"/v1.0/communications/calls/x", strings.NewReader(`{}`))
			req.Header.Set("X-App", "app-a")
			req.Header.Set(graph.HeaderIdempotencyKey, "k")
			s.send(t, req)
		}
		if s.runs.Load() != 2 || s.store.Len() != 0 {
			t.Errorf("runs %d, records %d; want 2 runs and nothing stored", s.runs.Load(), s.store.Len())
		}
	})
	t.Run("unknown caller", func(t *testing.T) {
		s := newIdemServer(t, nil)
		s.post(t, "/v1.0/communications/calls", "", "k", `{}`, false)
		s.post(t, "/v1.0/communications/calls", "", "k", `{}`, false)
		if s.runs.Load() != 2 || s.store.Len() != 0 {
			t.Errorf("runs %d, records %d; want 2 runs and nothing stored", s.runs.Load(), s.store.Len())
		}
	})
	t.Run("body over the limit", func(t *testing.T) {
		s := newIdemServer(t, nil)
		r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{"x":"`+strings.Repeat("y", 5000)+`"}`, false)
		if r.status != http.StatusRequestEntityTooLarge || s.store.Len() != 0 {
			t.Errorf("status %d, records %d; want the handler's 413 and nothing stored", r.status, s.store.Len())
		}
	})
}

// failingStore fails every call.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) ReserveIdempotency(context.Context, idempotency.Record, time.Time, time.Time, int) (idempotency.Record, bool, error) {
	return idempotency.Record{}, false, errStoreDown
}
func (failingStore) CompleteIdempotency(context.Context, string, string, string, idempotency.Response) error {
	return errStoreDown
}
func (failingStore) ReleaseIdempotency(context.Context, string, string, string) error {
	return errStoreDown
}

func TestIdempotencyStoreFailureRefuses(t *testing.T) {
	s := newIdemServer(t, failingStore{})
	r := s.post(t, "/v1.0/communications/calls", "app-a", "k", `{}`, false)
	if r.status != http.StatusServiceUnavailable || r.errorCode(t) != "serviceNotAvailable" || r.header.Get("Retry-After") == "" {
		t.Errorf("status %d %s, want 503 with Retry-After", r.status, r.body)
	}
	if s.runs.Load() != 0 {
		t.Error("the request ran without idempotency protection")
	}
}

// idemAuth accepts any bearer token as Tenant-X's APP-x.
type idemAuth struct{}

func (idemAuth) Authenticate(r *http.Request) (auth.Principal, error) {
	if r.Header.Get("Authorization") == "" {
		return auth.Principal{}, auth.ErrMissingToken
	}
	return auth.Principal{TenantID: "Tenant-X", AppID: "APP-x"}, nil
}

func (idemAuth) WWWAuthenticate(error) string { return "Bearer" }

func TestPrincipalScope(t *testing.T) {
	scope := graph.PrincipalScope(idemAuth{})
	req := httptest.NewRequest(http.MethodPost, "/v1.0/communications/calls", nil)
	if _, err := scope(req); err == nil {
		t.Error("a request without a token got a scope")
	}
	req.Header.Set("Authorization", "Bearer x")
	if got, err := scope(req); err != nil || got != "tenant-x/app-x" {
		t.Errorf("scope = %q, %v; want tenant-x/app-x", got, err)
	}
}
