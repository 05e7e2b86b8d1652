package load

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is the bot's callback endpoint: it answers every notification
// with 202 at once and, when timing, records when each call's first
// "established" notification arrived.
type receiver struct {
	srv *http.Server
	ln  net.Listener
	uri string

	callbacks atomic.Int64
	last      atomic.Int64 // unix nanoseconds of the latest callback
	timing    bool

	mu          sync.Mutex
	established map[string]time.Time
	changed     chan struct{} // closed and replaced when established grows
	done        chan struct{}
}

// startReceiver listens on addr; timing makes it parse bodies for the
// "established" state.
func startReceiver(addr string, timing bool) (*receiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &receiver{ln: ln, uri: "http://" + ln.Addr().String() + "/callback", timing: timing,
		established: make(map[string]time.Time), changed: make(chan struct{}), done: make(chan struct{})}
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
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"resourceData"`
	} `json:"value"`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	r.callbacks.Add(1)
	r.last.Store(at.UnixNano())
	if !r.timing {
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
	for _, v := range n.Value {
		if !strings.EqualFold(v.ResourceData.State, "established") {
			continue
		}
		id := v.ResourceData.ID
		if id == "" {
			id = v.ResourceURL[strings.LastIndexByte(v.ResourceURL, '/')+1:]
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

// waitFor returns when every id in ids has been established or ctx ends,
// and reports when each arrived.
func (r *receiver) waitFor(ctx context.Context, ids []string) map[string]time.Time {
	for {
		r.mu.Lock()
		missing := false
		for _, id := range ids {
			if _, ok := r.established[id]; !ok {
				missing = true
				break
			}
		}
		changed := r.changed
		if !missing {
			out := make(map[string]time.Time, len(ids))
			for _, id := range ids {
				out[id] = r.established[id]
			}
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			r.mu.Lock()
			out := make(map[string]time.Time, len(ids))
			for _, id := range ids {
				if t, ok := r.established[id]; ok {
					out[id] = t
				}
			}
			r.mu.Unlock()
			return out
		}
	}
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
