package telemetry

import (
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"
)

// Instrument counts the requests next serves in
// switchboard_http_requests_total and times them in
// switchboard_http_request_duration_seconds. route names the route template
// of a request as it arrives, before next sees it; "" (no route serves it)
// is counted as OtherRoute, so that the label's values stay as few as the
// routes whatever paths clients send. The time is measured on the process's
// monotonic clock, not the server's injected one: it measures the process.
// A nil Metrics returns next unchanged.
func (m *Metrics) Instrument(route func(*http.Request) string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		label := route(r)
		if label == "" {
			label = OtherRoute
		}
		method := methodLabel(r.Method)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		m.httpRequests.WithLabelValues(label, method, statusLabel(rec.status)).Inc()
		m.httpDuration.WithLabelValues(label, method).Observe(time.Since(start).Seconds())
	})
}

// methodLabel keeps the methods a route can have and folds the rest, which
// a client can invent at will, into one value.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return OtherMethod
}

func statusLabel(code int) string {
	switch code {
	case 0, http.StatusOK:
		return "200" // a handler that writes no header sends 200
	case http.StatusCreated:
		return "201"
	case http.StatusAccepted:
		return "202"
	case http.StatusNoContent:
		return "204"
	}
	return strconv.Itoa(code)
}

// statusRecorder remembers the status code a handler sends.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 { // 1xx responses are not the final status
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// RouteTable names requests after the net/http.ServeMux pattern that
// matches them, for the route label. Create it with NewRouteTable; it is
// safe for concurrent use.
type RouteTable struct {
	mux *http.ServeMux
}

// NewRouteTable returns a table of patterns in ServeMux syntax with a
// method ("GET /{tenant}/oauth2/v2.0/token"). It panics, as ServeMux does,
// on a malformed pattern or two that conflict.
func NewRouteTable(patterns ...string) *RouteTable {
	mux := http.NewServeMux()
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, p := range patterns {
		mux.Handle(p, noop)
	}
	return &RouteTable{mux: mux}
}

// Route returns the path of the pattern that matches r
// ("/{tenant}/oauth2/v2.0/token"), or "" when none does (including a known
// path with a method it does not serve).
func (t *RouteTable) Route(r *http.Request) string {
	_, pattern := t.mux.Handler(r)
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	return pattern
}

// ProfileHandler serves the net/http/pprof handlers under /debug/pprof/ on
// a mux of its own; http.DefaultServeMux, on which importing net/http/pprof
// also registers them, is never served. "/" redirects to the index.
func ProfileHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles: heap, goroutine, allocs, block, mutex ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/{$}", http.RedirectHandler("/debug/pprof/", http.StatusFound))
	return mux
}
