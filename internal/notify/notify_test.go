package notify_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/notify/notifytest"
)

func TestOrderPerCallAcrossManyCalls(t *testing.T) {
	const calls, perCall = 40, 25
	var (
		mu       sync.Mutex
		got      = map[string][]int64{}
		inflight = map[string]bool{}
		arrived  = make(chan struct{}, calls*perCall)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := parse(r)
		mu.Lock()
		if inflight[a.callID] {
			t.Errorf("call %s: seq %d sent while another delivery was in flight", a.callID, a.seq)
		}
		inflight[a.callID] = true
		got[a.callID] = append(got[a.callID], a.seq)
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
		inflight[a.callID] = false
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{Concurrency: 8})
	h.start()

	var producers sync.WaitGroup
	for p := range 4 {
		producers.Go(func() {
			for seq := int64(1); seq <= perCall; seq++ {
				for c := p; c < calls; c += 4 {
					h.commit(delivery("call-"+strconv.Itoa(c), seq, srv.URL))
				}
			}
		})
	}
	producers.Wait()
	for range calls * perCall {
		<-arrived
		if r := <-h.results; !r.delivered {
			t.Fatalf("result %+v, want delivered", r)
		}
	}
	h.shutdown()

	mu.Lock()
	defer mu.Unlock()
	for c := range calls {
		id := "call-" + strconv.Itoa(c)
		seqs := got[id]
		if len(seqs) != perCall {
			t.Errorf("%s: got %d deliveries, want %d", id, len(seqs), perCall)
			continue
		}
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Errorf("%s: delivery %d has seq %d; order %v", id, i, s, seqs)
				break
			}
		}
	}
	if n := len(h.clock.scheduled); n != 0 {
		t.Errorf("%d timers scheduled with no failure: the worker must not poll", n)
	}
	if pending, _ := h.outbox.Pending(context.Background()); len(pending) != 0 {
		t.Errorf("%d deliveries still pending in the outbox after Shutdown", len(pending))
	}
}

func TestRetryThenSuccess(t *testing.T) {
	statuses := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusNoContent}
	arrivals := make(chan arrival, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := parse(r)
		arrivals <- a
		w.WriteHeader(statuses[min(a.attempt, len(statuses))-1])
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{BaseBackoff: time.Second, MaxBackoff: time.Minute})
	h.start()

	h.commit(delivery("c1", 1, srv.URL))
	wantDelay := []struct{ lo, hi time.Duration }{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}}
	for i, want := range wantDelay {
		if a := <-arrivals; a.attempt != i+1 {
			t.Fatalf("attempt header %d, want %d", a.attempt, i+1)
		}
		if r := <-h.results; r.delivered || r.gaveUp || r.status != statuses[i] {
			t.Fatalf("attempt %d result %+v, want a retryable %d", i+1, r, statuses[i])
		}
		if d := h.clock.fire(); d < want.lo || d > want.hi {
			t.Errorf("retry %d scheduled after %v, want in [%v, %v]", i+1, d, want.lo, want.hi)
		}
	}
	if a := <-arrivals; a.attempt != 3 {
		t.Fatalf("attempt header %d, want 3", a.attempt)
	}
	if r := <-h.results; !r.delivered || r.d.Attempts != 3 {
		t.Fatalf("final result %+v, want delivered after 3 attempts", r)
	}
	h.shutdown()
	if r := h.row("c1", 1); !r.Delivered || r.Attempts != 3 || !r.DeliveredAt.Equal(h.clock.Now()) {
		t.Errorf("outbox row %+v, want delivered at %v after 3 attempts", r, h.clock.Now())
	}
}

func TestGiveUpThenNextSeq(t *testing.T) {
	arrivals := make(chan arrival, 10)
	mux := http.NewServeMux()
	mux.Handle("/fail", recorder(http.StatusInternalServerError, arrivals))
	mux.Handle("/ok", recorder(http.StatusOK, arrivals))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{MaxAttempts: 3})
	h.start()

	h.commit(delivery("c1", 1, srv.URL+"/fail"), delivery("c1", 2, srv.URL+"/ok"))
	for i := range 3 {
		if a := <-arrivals; a.seq != 1 || a.attempt != i+1 {
			t.Fatalf("arrival %+v, want seq 1 attempt %d", a, i+1)
		}
		r := <-h.results
		if last := i == 2; r.gaveUp != last || r.delivered {
			t.Fatalf("attempt %d: result %+v, want gaveUp=%v", i+1, r, last)
		}
		if i < 2 {
			h.clock.fire()
		}
	}
	if a := <-arrivals; a.seq != 2 || a.path != "/ok" || a.attempt != 1 {
		t.Fatalf("after giving up, arrival %+v, want seq 2 on /ok", a)
	}
	<-h.results
	h.shutdown()

	if r := h.row("c1", 1); !r.GaveUp || r.Delivered || r.Attempts != 3 || !strings.Contains(r.LastError, "500") {
		t.Errorf("row 1 = %+v, want given up after 3 attempts with the 500 as last error", r)
	}
	if r := h.row("c1", 2); !r.Delivered {
		t.Errorf("row 2 = %+v, want delivered", r)
	}
	if n := len(h.clock.scheduled); n != 0 {
		t.Errorf("%d timers scheduled after giving up", n)
	}
	logs := h.logs.String()
	for _, want := range []string{"level=WARN", "gave up delivery", "call_id=c1", "seq=1", "url=" + srv.URL + "/fail", "error="} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		lo, hi     time.Duration
	}{
		{"429 honoured", http.StatusTooManyRequests, "120", 120 * time.Second, 120 * time.Second},
		{"503 honoured", http.StatusServiceUnavailable, "7", 7 * time.Second, 7 * time.Second},
		{"shorter than backoff", http.StatusTooManyRequests, "0", 125 * time.Millisecond, 250 * time.Millisecond},
		{"ignored on 500", http.StatusInternalServerError, "120", 125 * time.Millisecond, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(tt.status)
					return
				}
				w.WriteHeader(http.StatusOK)
			}))
			t.Cleanup(srv.Close)
			h := newHarness(t, notify.Config{BaseBackoff: 250 * time.Millisecond})
			h.start()

			h.commit(delivery("c1", 1, srv.URL))
			if r := <-h.results; r.status != tt.status {
				t.Fatalf("first result %+v, want status %d", r, tt.status)
			}
			if d := h.clock.fire(); d < tt.lo || d > tt.hi {
				t.Errorf("retry scheduled after %v, want in [%v, %v]", d, tt.lo, tt.hi)
			}
			if r := <-h.results; !r.delivered {
				t.Fatalf("second result %+v, want delivered", r)
			}
		})
	}
}

func TestRedirectFollowed(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			arrivals := make(chan arrival, 10)
			final := httptest.NewServer(recorder(http.StatusAccepted, arrivals))
			t.Cleanup(final.Close)
			mux := http.NewServeMux()
			mux.HandleFunc("/bot/start", func(w http.ResponseWriter, r *http.Request) {
				arrivals <- parse(r)
				w.Header().Set("Location", "next") // relative: /bot/next
				w.WriteHeader(code)
			})
			mux.HandleFunc("/bot/next", func(w http.ResponseWriter, r *http.Request) {
				arrivals <- parse(r)
				http.Redirect(w, r, final.URL+"/region/callback", code)
			})
			first := httptest.NewServer(mux)
			t.Cleanup(first.Close)

			var checked []string
			var mu sync.Mutex
			h := newHarness(t, notify.Config{
				Signer: signer{},
				CheckURL: func(u *url.URL) error {
					mu.Lock()
					defer mu.Unlock()
					checked = append(checked, u.String())
					return nil
				},
			})
			h.start()
			d := delivery("c1", 1, first.URL+"/bot/start")
			h.commit(d)

			hops := []arrival{<-arrivals, <-arrivals, <-arrivals}
			for i, want := range []string{"/bot/start", "/bot/next", "/region/callback"} {
				a := hops[i]
				if a.path != want || a.method != http.MethodPost || !bytes.Equal(a.body, d.Body) {
					t.Errorf("hop %d: %s %s body %q, want POST %s with the body", i, a.method, a.path, a.body, want)
				}
				for _, k := range []string{notify.HeaderSequence, notify.HeaderMessageID, notify.HeaderAttempt} {
					if a.header.Get(k) != hops[0].header.Get(k) || a.header.Get(k) == "" {
						t.Errorf("hop %d: header %s = %q, want %q as on the first hop", i, k, a.header.Get(k), hops[0].header.Get(k))
					}
				}
				// The last hop is another origin: it gets no token
				// (TestRedirectAuthorizationStaysWithItsOrigin).
				if got, sameOrigin := a.header.Get("Authorization"), i < 2; (got != "") != sameOrigin || sameOrigin && got != hops[0].header.Get("Authorization") {
					t.Errorf("hop %d: Authorization %q, want it only on the callback's origin", i, got)
				}
			}
			if r := <-h.results; !r.delivered || r.status != http.StatusAccepted {
				t.Fatalf("result %+v, want delivered with 202", r)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{first.URL + "/bot/start", first.URL + "/bot/next", final.URL + "/region/callback"}
			if strings.Join(checked, " ") != strings.Join(want, " ") {
				t.Errorf("CheckURL saw %v, want %v", checked, want)
			}
		})
	}
}

func TestRedirectBounded(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{MaxAttempts: 1})
	h.start()

	h.commit(delivery("c1", 1, srv.URL+"/loop"))
	r := <-h.results
	if !r.gaveUp || !errors.Is(r.err, notify.ErrTooManyRedirects) || r.status != http.StatusFound {
		t.Fatalf("result %+v, want given up with ErrTooManyRedirects", r)
	}
	if n := requests.Load(); n != 6 {
		t.Errorf("%d requests, want 6 (the attempt and 5 redirects)", n)
	}
}

func TestCheckURLRefusal(t *testing.T) {
	tests := []struct {
		name         string
		path         string
		wantRequests int32
	}{
		{"callback url", "/private/callback", 0},
		{"redirect target", "/start", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			arrivals := make(chan arrival, 10)
			mux := http.NewServeMux()
			mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				http.Redirect(w, r, "/private/callback", http.StatusTemporaryRedirect)
			})
			mux.HandleFunc("/private/", func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("refused url %s was requested", r.URL)
			})
			mux.Handle("/ok", recorder(http.StatusOK, arrivals))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			errPrivate := errors.New("private address")
			h := newHarness(t, notify.Config{CheckURL: func(u *url.URL) error {
				if strings.HasPrefix(u.Path, "/private/") {
					return errPrivate
				}
				return nil
			}})
			h.start()

			h.commit(delivery("c1", 1, srv.URL+tt.path), delivery("c1", 2, srv.URL+"/ok"))
			r := <-h.results
			if !r.gaveUp || r.d.Attempts != 1 || !errors.Is(r.err, notify.ErrRefused) || !errors.Is(r.err, errPrivate) {
				t.Fatalf("result %+v, want given up on the first attempt with ErrRefused wrapping the policy error", r)
			}
			if a := <-arrivals; a.seq != 2 {
				t.Fatalf("next arrival seq %d, want 2", a.seq)
			}
			if n := requests.Load(); n != tt.wantRequests {
				t.Errorf("/start requested %d times, want %d", n, tt.wantRequests)
			}
			if n := len(h.clock.scheduled); n != 0 {
				t.Errorf("%d retries scheduled for a refused url", n)
			}
		})
	}
}

func TestInvalidURLGivesUp(t *testing.T) {
	h := newHarness(t, notify.Config{})
	h.start()
	for i, u := range []string{"", "ftp://example.com/cb", "/relative", "http://%zz"} {
		h.commit(delivery("c1", int64(i+1), u))
		if r := <-h.results; !r.gaveUp || !errors.Is(r.err, notify.ErrRefused) {
			t.Errorf("url %q: result %+v, want given up with ErrRefused", u, r)
		}
	}
}

func TestRestartResendsPending(t *testing.T) {
	arrivals := make(chan arrival, 20)
	var blocked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := parse(r)
		arrivals <- a
		if a.seq == 2 && blocked.CompareAndSwap(false, true) {
			<-r.Context().Done() // the first worker gives up waiting at Shutdown
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	outbox := &notifytest.MemoryOutbox{}
	outbox.Add(delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL), delivery("c1", 3, srv.URL))

	first := newHarness(t, notify.Config{Outbox: outbox})
	first.start()
	if a := <-arrivals; a.seq != 1 {
		t.Fatalf("first arrival seq %d, want 1", a.seq)
	}
	if a := <-arrivals; a.seq != 2 {
		t.Fatalf("second arrival seq %d, want 2", a.seq)
	}
	first.shutdown()
	if r, _ := outbox.Row("c1", 1); !r.Delivered {
		t.Errorf("row 1 = %+v, want recorded as delivered by Shutdown", r)
	}
	if r, _ := outbox.Row("c1", 2); r.Delivered || r.GaveUp || r.Attempts != 0 {
		t.Errorf("row 2 = %+v, want still pending with the interrupted attempt not counted", r)
	}
	if n := len(first.results); n != 1 {
		t.Errorf("%d results reported, want 1: an interrupted attempt is not a result", n)
	}

	second := newHarness(t, notify.Config{Outbox: outbox})
	second.start()
	for _, seq := range []int64{2, 3} {
		if a := <-arrivals; a.seq != seq || a.attempt != 1 {
			t.Fatalf("after restart, arrival seq %d attempt %d, want seq %d attempt 1", a.seq, a.attempt, seq)
		}
	}
	// The calls service may hand over rows the restart already loaded.
	second.commit(delivery("c1", 2, srv.URL), delivery("c1", 3, srv.URL), delivery("c1", 4, srv.URL))
	if a := <-arrivals; a.seq != 4 {
		t.Fatalf("arrival seq %d, want 4: duplicates must be ignored", a.seq)
	}
	for range 3 {
		if r := <-second.results; !r.delivered {
			t.Fatalf("result %+v, want delivered", r)
		}
	}
	second.shutdown()
	if n := len(arrivals); n != 0 {
		t.Errorf("%d unexpected extra arrivals", n)
	}
	if pending, _ := outbox.Pending(context.Background()); len(pending) != 0 {
		t.Errorf("pending after restart and Shutdown: %+v", pending)
	}
}

func TestEnqueueBeforeStartMergesWithPending(t *testing.T) {
	arrivals := make(chan arrival, 20)
	srv := httptest.NewServer(recorder(http.StatusOK, arrivals))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{})
	h.outbox.Add(delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL))
	h.commit(delivery("c1", 2, srv.URL), delivery("c1", 3, srv.URL))
	h.start()
	for _, seq := range []int64{1, 2, 3} {
		if a := <-arrivals; a.seq != seq {
			t.Fatalf("arrival seq %d, want %d", a.seq, seq)
		}
	}
	h.shutdown()
	if n := len(arrivals); n != 0 {
		t.Errorf("%d duplicate arrivals", n)
	}
}

func TestStuckCallDoesNotDelayOthers(t *testing.T) {
	arrivals := make(chan arrival, 20)
	stuck := make(chan struct{}, 1)
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/stuck", func(w http.ResponseWriter, r *http.Request) {
		stuck <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.Handle("/fast", recorder(http.StatusOK, arrivals))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// Both calls are of one application: its share must leave the fast
	// call a slot (TestDeadBotDoesNotDelayOtherApps covers other apps).
	h := newHarness(t, notify.Config{Concurrency: 2, MaxInFlightPerApp: 2})
	t.Cleanup(func() { close(release) })
	h.start()

	h.commit(delivery("slow", 1, srv.URL+"/stuck"), delivery("slow", 2, srv.URL+"/fast"))
	<-stuck
	for seq := int64(1); seq <= 10; seq++ {
		h.commit(delivery("fast", seq, srv.URL+"/fast"))
	}
	for seq := int64(1); seq <= 10; seq++ {
		if a := <-arrivals; a.callID != "fast" || a.seq != seq {
			t.Fatalf("arrival %s/%d, want fast/%d while the slow call is stuck", a.callID, a.seq, seq)
		}
	}
}

func TestFailingCallHoldsNoSlot(t *testing.T) {
	arrivals := make(chan arrival, 20)
	mux := http.NewServeMux()
	mux.Handle("/fail", recorder(http.StatusServiceUnavailable, arrivals))
	mux.Handle("/ok", recorder(http.StatusOK, arrivals))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{Concurrency: 1})
	h.start()

	h.commit(delivery("failing", 1, srv.URL+"/fail"))
	<-arrivals
	<-h.clock.scheduled // failing is now waiting out its backoff
	for seq := int64(1); seq <= 5; seq++ {
		h.commit(delivery("healthy", seq, srv.URL+"/ok"))
		if a := <-arrivals; a.callID != "healthy" || a.seq != seq {
			t.Fatalf("arrival %s/%d, want healthy/%d", a.callID, a.seq, seq)
		}
	}
}

// gatedOutbox blocks Record until release is closed or its ctx ends.
type gatedOutbox struct {
	*notifytest.MemoryOutbox
	entered chan struct{}
	release chan struct{}
}

func (o *gatedOutbox) Record(ctx context.Context, results []notify.Result) error {
	select {
	case o.entered <- struct{}{}:
	default:
	}
	select {
	case <-o.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return o.MemoryOutbox.Record(ctx, results)
}

func TestRecordingIsOffTheCriticalPath(t *testing.T) {
	arrivals := make(chan arrival, 20)
	srv := httptest.NewServer(recorder(http.StatusOK, arrivals))
	t.Cleanup(srv.Close)
	outbox := &gatedOutbox{MemoryOutbox: &notifytest.MemoryOutbox{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := newHarness(t, notify.Config{Outbox: outbox})
	h.outbox = outbox.MemoryOutbox
	h.start()

	h.commit(delivery("c1", 1, srv.URL), delivery("c1", 2, srv.URL), delivery("c1", 3, srv.URL))
	<-outbox.entered
	for seq := int64(1); seq <= 3; seq++ {
		if a := <-arrivals; a.seq != seq {
			t.Fatalf("arrival seq %d, want %d", a.seq, seq)
		}
		if r := <-h.results; !r.delivered {
			t.Fatalf("result %+v, want delivered", r)
		}
	}
	close(outbox.release)
	h.shutdown()
	for seq := int64(1); seq <= 3; seq++ {
		if r := h.row("c1", seq); !r.Delivered {
			t.Errorf("row %d not recorded as delivered after Shutdown", seq)
		}
	}
}

func TestShutdownDeadlineDropsUnrecordedResults(t *testing.T) {
	arrivals := make(chan arrival, 20)
	srv := httptest.NewServer(recorder(http.StatusOK, arrivals))
	t.Cleanup(srv.Close)
	outbox := &gatedOutbox{MemoryOutbox: &notifytest.MemoryOutbox{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := newHarness(t, notify.Config{Outbox: outbox})
	h.outbox = outbox.MemoryOutbox
	h.start()

	h.commit(delivery("c1", 1, srv.URL))
	<-arrivals
	<-outbox.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.w.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	checkNoWorkerGoroutines(t)
	if pending, _ := outbox.Pending(context.Background()); len(pending) != 1 {
		t.Errorf("pending = %+v, want the unrecorded delivery, to be sent again", pending)
	}
}

type signer struct{}

func (signer) CallbackToken(appID, tenantID string) (string, error) {
	return "tok." + appID + "." + tenantID, nil
}

func TestRequestHeaders(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tests := []struct {
		name      string
		cfg       notify.Config
		chainID   string
		wantAuth  string
		wantAgent string
	}{
		{"signed with chain id", notify.Config{Signer: signer{}}, "chain-9", "Bearer tok.app-1.tenant-1", "Switchboard"},
		{"unsigned custom agent", notify.Config{UserAgent: "Microsoft-Skype/3.0,(Calling/1.0)"}, "", "", "Microsoft-Skype/3.0,(Calling/1.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arrivals := make(chan arrival, 1)
			srv := httptest.NewServer(recorder(http.StatusAccepted, arrivals))
			t.Cleanup(srv.Close)
			h := newHarness(t, tt.cfg)
			h.start()
			d := delivery("call-7", 1, srv.URL+"/callback?x=1")
			d.ChainID = tt.chainID
			h.commit(d)
			a := <-arrivals

			want := map[string]string{
				"Content-Type":        "application/json",
				"Accept":              "application/json",
				"User-Agent":          tt.wantAgent,
				"Authorization":       tt.wantAuth,
				notify.HeaderSequence: "1",
				notify.HeaderCallID:   "call-7",
				notify.HeaderAttempt:  "1",
				notify.HeaderChainID:  tt.chainID,
			}
			for k, v := range want {
				if got := a.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
				if _, present := a.header[http.CanonicalHeaderKey(k)]; v == "" && present {
					t.Errorf("header %s present, want absent", k)
				}
			}
			for _, k := range []string{notify.HeaderMessageID, notify.HeaderScenarioID} {
				if !uuid.MatchString(a.header.Get(k)) {
					t.Errorf("header %s = %q, want a UUID", k, a.header.Get(k))
				}
			}
			if a.method != http.MethodPost || a.path != "/callback" || !bytes.Equal(a.body, d.Body) {
				t.Errorf("got %s %s %q, want POST /callback with the envelope", a.method, a.path, a.body)
			}
		})
	}
}

type failingOutbox struct{ notifytest.MemoryOutbox }

func (*failingOutbox) Pending(context.Context) ([]notify.Delivery, error) {
	return nil, errors.New("database is locked")
}

func TestStartAndShutdownLifecycle(t *testing.T) {
	t.Run("nil outbox", func(t *testing.T) {
		if err := notify.New(notify.Config{}).Start(t.Context()); err == nil {
			t.Error("Start without an Outbox succeeded")
		}
	})
	t.Run("pending fails", func(t *testing.T) {
		w := notify.New(notify.Config{Outbox: &failingOutbox{}})
		if err := w.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "database is locked") {
			t.Errorf("Start = %v, want the Pending error", err)
		}
		if err := w.Shutdown(t.Context()); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	})
	t.Run("twice", func(t *testing.T) {
		h := newHarness(t, notify.Config{})
		h.start()
		if err := h.w.Start(t.Context()); !errors.Is(err, notify.ErrStarted) {
			t.Errorf("second Start = %v, want ErrStarted", err)
		}
		h.shutdown()
		h.shutdown()
		if err := h.w.Start(t.Context()); !errors.Is(err, notify.ErrClosed) {
			t.Errorf("Start after Shutdown = %v, want ErrClosed", err)
		}
		h.w.Enqueue(delivery("c1", 1, "http://127.0.0.1:1/"))
		if n := len(h.results); n != 0 {
			t.Errorf("%d attempts after Shutdown", n)
		}
	})
	t.Run("shutdown with retries armed", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(srv.Close)
		h := newHarness(t, notify.Config{})
		h.start()
		for c := range 5 {
			h.commit(delivery("c"+strconv.Itoa(c), 1, srv.URL))
		}
		for range 5 {
			<-h.clock.scheduled
		}
		h.shutdown()
		if n := h.clock.Pending(); n != 0 {
			t.Errorf("%d retry timers still armed after Shutdown", n)
		}
		h.clock.Advance(time.Hour)
		checkNoWorkerGoroutines(t)
		if pending, _ := h.outbox.Pending(context.Background()); len(pending) != 5 {
			t.Errorf("%d pending, want 5 left for the next start", len(pending))
		}
	})
}

func TestAttemptsCarryAcrossRestart(t *testing.T) {
	arrivals := make(chan arrival, 5)
	srv := httptest.NewServer(recorder(http.StatusInternalServerError, arrivals))
	t.Cleanup(srv.Close)
	h := newHarness(t, notify.Config{MaxAttempts: 3})
	d := delivery("c1", 1, srv.URL)
	d.Attempts = 2
	h.outbox.Add(d)
	h.w.Enqueue(delivery("c1", 1, srv.URL)) // the hand-off knows of no attempts
	h.start()
	if a := <-arrivals; a.attempt != 3 {
		t.Errorf("attempt header %d, want 3", a.attempt)
	}
	if r := <-h.results; !r.gaveUp {
		t.Errorf("result %+v, want given up at MaxAttempts", r)
	}
}
