package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is the bot's callback endpoint: it answers every notification
// with 202 at once and, when parsing, records when each call's first
// "established" notification arrived and counts the media operations that
// ended; once marked (failover mode), it also records when each call's
// first notification of any kind arrived after the mark. It also serves
// the prompt of media mode, at promptPath.
type receiver struct {
	srv       *http.Server
	ln        net.Listener
	uri       string
	promptURI string

	callbacks atomic.Int64
	last      atomic.Int64 // unix nanoseconds of the latest callback
	parse     bool

	prompt        []byte
	promptFetches atomic.Int64  // prompts served to the end
	fetched       chan struct{} // closed when the first one was
	fetchedOnce   sync.Once
	opsEnded      atomic.Int64 // operations notified as completed or failed
	opsFailed     atomic.Int64 // of which failed

	mu          sync.Mutex
	established map[string]time.Time
	changed     chan struct{} // closed and replaced when established grows
	firstFail   string        // the resultInfo of the first failed operation
	terminated  map[string]bool
	firstEnd    string // the resultInfo of the first call terminated
	// marked says whether mark was called; since then, after holds when
	// each call's first notification arrived, by call id.
	marked bool
	after  map[string]time.Time
	done   chan struct{}
}

// promptPath is where the receiver serves its prompt.
const promptPath = "/prompt.wav"

// startReceiver listens on addr; parse makes it read bodies for the
// "established" state and for operations that ended. A non-nil prompt is
// served as audio/wav at promptURI.
func startReceiver(addr string, parse bool, prompt []byte) (*receiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	r := &receiver{ln: ln, uri: base + "/callback", promptURI: base + promptPath, parse: parse, prompt: prompt,
		established: make(map[string]time.Time), terminated: make(map[string]bool), changed: make(chan struct{}), fetched: make(chan struct{}), done: make(chan struct{})}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

func (r *receiver) shutdown(ctx context.Context) {
	if err := r.srv.Shutdown(ctx); err != nil {
		r.srv.Close()
	}
	<-r.done
}

// notification is the part of a commsNotifications body the receiver reads.
type notification struct {
	Value []struct {
		ResourceURL  string `json:"resourceUrl"`
		ResourceData struct {
			Type       string `json:"@odata.type"`
			ID         string `json:"id"`
			State      string `json:"state"`
			Status     string `json:"status"`
			ResultInfo *struct {
				Code    int    `json:"code"`
				Subcode int    `json:"subcode"`
				Message string `json:"message"`
			} `json:"resultInfo"`
		} `json:"resourceData"`
	} `json:"value"`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == promptPath && r.prompt != nil {
		r.servePrompt(w, req)
		return
	}
	at := time.Now()
	r.callbacks.Add(1)
	r.last.Store(at.UnixNano())
	if !r.parse {
		_, _ = io.Copy(io.Discard, req.Body)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	w.WriteHeader(http.StatusAccepted)
	var n notification
	if err != nil || json.Unmarshal(body, &n) != nil {
		return
	}
	r.mu.Lock()
	if r.marked {
		seen := false
		for _, v := range n.Value {
			if id := callOf(v.ResourceURL); id != "" {
				if _, ok := r.after[id]; !ok {
					r.after[id] = at
					seen = true
				}
			}
		}
		if seen {
			close(r.changed)
			r.changed = make(chan struct{})
		}
	}
	r.mu.Unlock()
	for _, v := range n.Value {
		if d := v.ResourceData; strings.HasSuffix(strings.ToLower(d.Type), "operation") &&
			(strings.EqualFold(d.Status, "completed") || strings.EqualFold(d.Status, "failed")) {
			r.opsEnded.Add(1)
			if strings.EqualFold(d.Status, "failed") {
				r.opsFailed.Add(1)
				r.mu.Lock()
				if r.firstFail == "" {
					r.firstFail = strings.TrimPrefix(d.Type, "#microsoft.graph.") + " failed"
					if ri := d.ResultInfo; ri != nil {
						r.firstFail += fmt.Sprintf(": %d/%d %s", ri.Code, ri.Subcode, ri.Message)
					}
				}
				r.mu.Unlock()
			}
			continue
		}
		id := v.ResourceData.ID
		if id == "" {
			id = v.ResourceURL[strings.LastIndexByte(v.ResourceURL, '/')+1:]
		}
		if strings.EqualFold(v.ResourceData.State, "terminated") {
			r.mu.Lock()
			if !r.terminated[id] {
				r.terminated[id] = true
				if r.firstEnd == "" {
					r.firstEnd = "terminated"
					if ri := v.ResourceData.ResultInfo; ri != nil {
						r.firstEnd += fmt.Sprintf(": %d/%d %s", ri.Code, ri.Subcode, ri.Message)
					}
				}
			}
			r.mu.Unlock()
			continue
		}
		if !strings.EqualFold(v.ResourceData.State, "established") {
			continue
		}
		r.mu.Lock()
		if _, seen := r.established[id]; !seen {
			r.established[id] = at
			close(r.changed)
			r.changed = make(chan struct{})
		}
		r.mu.Unlock()
	}
}

// servePrompt serves the prompt and counts the fetches that got all of it.
func (r *receiver) servePrompt(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(r.prompt)))
	if req.Method == http.MethodHead {
		return
	}
	if n, err := w.Write(r.prompt); err == nil && n == len(r.prompt) {
		r.promptFetches.Add(1)
		r.fetchedOnce.Do(func() { close(r.fetched) })
	}
}

// waitCount returns the number of calls established once it reaches n, or
// when ctx ends. Every call the receiver hears of is one of the run's.
func (r *receiver) waitCount(ctx context.Context, n int) int {
	for {
		r.mu.Lock()
		got, changed := len(r.established), r.changed
		r.mu.Unlock()
		if got >= n {
			return got
		}
		select {
		case <-changed:
		case <-ctx.Done():
			r.mu.Lock()
			defer r.mu.Unlock()
			return len(r.established)
		}
	}
}

// failure returns the resultInfo of the first operation notified as
// failed, or "".
func (r *receiver) failure() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstFail
}

// ended returns the calls notified as terminated so far, and the
// resultInfo of the first.
func (r *receiver) ended() (map[string]bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]bool, len(r.terminated))
	for id := range r.terminated {
		out[id] = true
	}
	return out, r.firstEnd
}

// waitFor returns when every id in ids has been established or ctx ends,
// and reports when each arrived.
func (r *receiver) waitFor(ctx context.Context, ids []string) map[string]time.Time {
	return r.waitIn(ctx, ids, func() map[string]time.Time { return r.established })
}

// mark makes the receiver record, from now on, when the first notification
// of each call arrives (waitAfter), and returns the time it did.
func (r *receiver) mark() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marked, r.after = true, make(map[string]time.Time)
	return time.Now()
}

// waitAfter returns when a notification of every call in ids has arrived
// since mark was called, or ctx ends, and reports when the first of each
// did.
func (r *receiver) waitAfter(ctx context.Context, ids []string) map[string]time.Time {
	return r.waitIn(ctx, ids, func() map[string]time.Time { return r.after })
}

// waitIn returns when the map that set returns (called with r.mu held)
// has every id in ids, or ctx ends, and reports their times.
func (r *receiver) waitIn(ctx context.Context, ids []string, set func() map[string]time.Time) map[string]time.Time {
	collect := func() map[string]time.Time {
		out := make(map[string]time.Time, len(ids))
		m := set()
		for _, id := range ids {
			if t, ok := m[id]; ok {
				out[id] = t
			}
		}
		return out
	}
	for {
		r.mu.Lock()
		out, changed := collect(), r.changed
		r.mu.Unlock()
		if len(out) == len(ids) {
			return out
		}
		select {
		case <-changed:
		case <-ctx.Done():
			r.mu.Lock()
			defer r.mu.Unlock()
			return collect()
		}
	}
}

// callOf returns the call id of a notification's resourceUrl,
// /communications/calls/{id} or a path below it; "" for another resource.
func callOf(resourceURL string) string {
	const prefix = "/communications/calls/"
	i := strings.Index(resourceURL, prefix)
	if i < 0 {
		return ""
	}
	id, _, _ := strings.Cut(resourceURL[i+len(prefix):], "/")
	return id
}

// quiesce returns true once no callback has arrived for idle, or false if
// ctx ends first: so that a run's backlog of callbacks is delivered to its
// own receiver instead of being retried against a closed port during the
// next run.
func (r *receiver) quiesce(ctx context.Context, idle time.Duration) bool {
	tick := time.NewTicker(idle / 5)
	defer tick.Stop()
	since := time.Now()
	for {
		last := time.Unix(0, r.last.Load())
		if last.Before(since) {
			last = since
		}
		if time.Since(last) >= idle {
			return true
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
}

var errNoReceiver = errors.New("load: established mode needs the callback receiver")
