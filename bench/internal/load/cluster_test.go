package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/bench/internal/baseline"
)

// counting serves h and counts the requests of each method.
type counting struct {
	h              http.Handler
	posts, gets    atomic.Int64
	otherRequests  atomic.Int64
	tokenRequested atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/token"):
		c.tokenRequested.Add(1)
	case r.Method == http.MethodPost:
		c.posts.Add(1)
	case r.Method == http.MethodGet:
		c.gets.Add(1)
	default:
		c.otherRequests.Add(1)
	}
	c.h.ServeHTTP(w, r)
}

// TestSeveralTargets runs create and get mode against three "nodes" that
// share one baseline's calls: every node gets requests, and the token comes
// from the first.
func TestSeveralTargets(t *testing.T) {
	shared := baseline.New().Handler()
	var nodes [3]*counting
	var urls []string
	for i := range nodes {
		nodes[i] = &counting{h: shared}
		srv := httptest.NewServer(nodes[i])
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL+"/")
	}
	for _, mode := range []Mode{ModeCreate, ModeGet} {
		cfg := quick(mode, strings.Join(urls, " , "))
		cfg.Concurrency, cfg.Calls = 4, 30
		if mode == ModeCreate {
			cfg.CallbackURI = "http://127.0.0.1:9/callback"
		}
		res, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if res.OK == 0 || res.OK != res.Requests || res.Errors != nil {
			t.Errorf("%s: requests %d, ok %d, errors %v; want all ok", mode, res.Requests, res.OK, res.Errors)
		}
		if want := strings.Join([]string{urls[0][:len(urls[0])-1], urls[1][:len(urls[1])-1], urls[2][:len(urls[2])-1]}, ","); res.Target != want {
			t.Errorf("%s: target %q, want %q", mode, res.Target, want)
		}
	}
	for i, n := range nodes {
		// 30 pre-created calls are spread 10 a node; the loops send each
		// worker's requests to the nodes in turn.
		if n.posts.Load() < 10 || n.gets.Load() == 0 || n.otherRequests.Load() != 0 {
			t.Errorf("node %d: %d POSTs, %d GETs, %d others; want POSTs and GETs on every node", i, n.posts.Load(), n.gets.Load(), n.otherRequests.Load())
		}
		if got, want := n.tokenRequested.Load(), int64(0); i == 0 {
			if got != 2 {
				t.Errorf("node 0 served %d token requests, want one a run", got)
			}
		} else if got != want {
			t.Errorf("node %d served %d token requests, want none", i, got)
		}
	}
}

func TestTargetsConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{"not a URL", func(c *Config) { c.Target = "http://127.0.0.1:1,127.0.0.1:2" }, "several separated by commas"},
		{"several in idle mode", func(c *Config) { c.Mode, c.ServerPIDs = ModeIdle, []int{1} }, "takes one target"},
		{"failover with one target", func(c *Config) {
			c.Mode, c.Target, c.KillPID, c.Callee = ModeFailover, "http://127.0.0.1:1", 1, "u"
		}, "at least one other"},
		{"failover without a pid", func(c *Config) { c.Mode, c.Callee = ModeFailover, "u" }, "-kill-pid"},
		{"failover without a callee", func(c *Config) { c.Mode, c.KillPID = ModeFailover, 1 }, "-callee"},
		{"kill pid in another mode", func(c *Config) { c.KillPID = 1 }, "-kill-pid is for failover mode"},
		{"bad server pid", func(c *Config) { c.ServerPIDs = []int{1, 0} }, "must be positive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quick(ModeCreate, "http://127.0.0.1:1,http://127.0.0.1:2")
			tt.edit(&cfg)
			if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("validate: %v, want an error with %q", err, tt.err)
			}
		})
	}
	if DefaultCalls(ModeFailover) != DefaultFailoverCalls {
		t.Errorf("DefaultCalls(failover) = %d, want %d", DefaultCalls(ModeFailover), DefaultFailoverCalls)
	}
}

func TestCounters(t *testing.T) {
	got, err := parseCounters(" xacts=12\nxids=3.5 ")
	if err != nil || len(got) != 2 || got["xacts"] != 12 || got["xids"] != 3.5 {
		t.Errorf("parseCounters = %v, %v", got, err)
	}
	for _, bad := range []string{"", "xacts", "xacts=many", "=3"} {
		if got, err := parseCounters(bad); err == nil {
			t.Errorf("parseCounters(%q) = %v, want an error", bad, got)
		}
	}
	if g := grown(map[string]float64{"a": 1, "b": 2}, map[string]float64{"a": 5, "c": 1}); len(g) != 1 || g["a"] != 4 {
		t.Errorf("grown = %v, want a +4 only", g)
	}
	if _, err := readCounters(t.Context(), "echo n=1; exit 3"); err == nil {
		t.Error("readCounters of a failing command succeeded")
	}
	// A create run against the baseline, with a command whose counter
	// grows by one between the window's ends.
	file := t.TempDir() + "/n"
	srv := httptest.NewServer(baseline.New().Handler())
	t.Cleanup(srv.Close)
	cfg := quick(ModeCreate, srv.URL)
	cfg.CallbackURI = "http://127.0.0.1:9/callback"
	cfg.WindowCmd = fmt.Sprintf("echo x >> %s; echo \"runs=$(wc -l < %s)\"", file, file)
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counters["runs"] != 1 || res.CounterNote != "" {
		t.Errorf("counters %v (%q), want runs +1", res.Counters, res.CounterNote)
	}
	var out bytes.Buffer
	Report(&out, []*Result{res})
	if want := "↳ counters: runs +1 ("; !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}
}

func TestCallOf(t *testing.T) {
	for in, want := range map[string]string{
		"/communications/calls/abc":                   "abc",
		"/communications/calls/abc/participants":      "abc",
		"/communications/calls/abc/operations/x":      "abc",
		"/communications/onlineMeetings/m":            "",
		"https://h/v1.0/communications/calls/ABC?x=1": "ABC?x=1",
	} {
		if got := callOf(in); got != want {
			t.Errorf("callOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeCluster is three nodes of a cluster that a failover test kills the
// first of: calls are created through node 0 and notified as established
// (every fifth call to flakyCallee also as terminated, before its 201, as
// if it hung up before the kill). Until victim exits, nodes 1 and 2 answer a GET of a
// call 503, as a node that cannot reach the owner; then they serve it, and
// the "new owner" notifies every call still up as terminated.
func fakeCluster(t *testing.T, victim *exec.Cmd) []string {
	t.Helper()
	var (
		mu    sync.Mutex
		calls = make(map[string]string) // id → callbackUri, of calls up
		seq   atomic.Int64
		taken atomic.Bool
	)
	post := func(uri, id, state string) {
		body := fmt.Sprintf(`{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/%s","resourceData":{"id":%q,"state":%q}}]}`, id, id, state)
		if resp, err := http.Post(uri, "application/json", strings.NewReader(body)); err == nil {
			resp.Body.Close()
		}
	}
	go func() {
		victim.Wait()
		taken.Store(true)
		mu.Lock()
		defer mu.Unlock()
		for id, uri := range calls {
			go post(uri, id, "terminated")
		}
	}()
	var urls []string
	for node := range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				if node != 0 && !taken.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Write([]byte(`{}`))
				return
			}
			if node != 0 {
				t.Errorf("node %d got %s %s; failover mode creates through the first", node, r.Method, r.URL.Path)
			}
			var spec struct {
				CallbackURI string `json:"callbackUri"`
				Targets     []struct {
					Identity struct {
						User struct {
							ID string `json:"id"`
						} `json:"user"`
					} `json:"identity"`
				} `json:"targets"`
			}
			json.NewDecoder(r.Body).Decode(&spec)
			n := seq.Add(1)
			id := fmt.Sprintf("call-%d", n)
			if spec.Targets[0].Identity.User.ID == flakyCallee && n%5 == 0 {
				// Both notifications reach the receiver before the 201
				// reaches sbload: so before it looks for calls up.
				post(spec.CallbackURI, id, "terminated")
				post(spec.CallbackURI, id, "established")
			} else {
				mu.Lock()
				calls[id] = spec.CallbackURI
				mu.Unlock()
				go post(spec.CallbackURI, id, "established")
			}
			w.Header().Set("Location", "http://"+r.Host+"/v1.0/communications/calls/"+id)
			w.WriteHeader(http.StatusCreated)
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	return urls
}

func TestFailover(t *testing.T) {
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		t.Skipf("no process to kill: %v", err)
	}
	t.Cleanup(func() { victim.Process.Kill() })
	cfg := quick(ModeFailover, strings.Join(fakeCluster(t, victim), ","))
	cfg.Token, cfg.KillPID, cfg.Callee, cfg.Calls = NoToken, victim.Process.Pid, flakyCallee, 20
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := res.Failover
	// Calls 5, 10, 15 and 20 hung up before the kill.
	if f == nil || f.Calls != 20 || f.Established != 20 || f.Live != 16 || f.KilledPID != victim.Process.Pid {
		t.Fatalf("failover %+v; want 20 calls established, 16 up at the kill", f)
	}
	if f.Missing != 0 || f.Callbacks.N != 16 || f.FirstCallback <= 0 || f.FirstCallback != f.Callbacks.Min || f.KilledAfter < 0 {
		t.Errorf("callbacks %+v, first %v, missing %d; want one for each of the 16 after the kill", f.Callbacks, f.FirstCallback, f.Missing)
	}
	if f.ServedStatus != http.StatusOK || f.Served <= 0 || f.Polls < 1 {
		t.Errorf("served %v ms with %d after %d polls; want a 200 after the kill", f.Served, f.ServedStatus, f.Polls)
	}
	var out bytes.Buffer
	Report(&out, []*Result{res})
	if want := "failover (failover): first callback from the new owner"; !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}
}
