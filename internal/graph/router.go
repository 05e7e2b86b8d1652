package graph

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/cluster"
)

// Authenticator checks a request's bearer token.
type Authenticator interface {
	Authenticate(r *http.Request) (auth.Principal, error)
	// WWWAuthenticate is the WWW-Authenticate header for a refused token.
	WWWAuthenticate(err error) string
}

// Config configures the Graph API handler. Calls and Auth are required.
// Request limits are WithThrottle's, applied around the handler.
type Config struct {
	Calls   *calls.Service
	Auth    Authenticator
	Logger  *slog.Logger
	MaxBody int64 // default DefaultMaxBody
	// Forwarder, when set (several nodes), sends a request for a call
	// that another node owns to that node. The requests other nodes
	// forward here are verified by WithForwarded, outside the handler.
	Forwarder *cluster.Forwarder
}

// api holds what the handlers share.
type api struct {
	fwd     *Forwarding // nil on one node
	calls   *calls.Service
	auth    Authenticator
	log     *slog.Logger
	maxBody int64
	bodies  bodyCache // encoded calls for plain GETs
}

// request is what a handler gets besides the ResponseWriter.
type request struct {
	*http.Request
	caller  calls.Caller
	version string // "v1.0" or "beta"
	base    string // scheme://host/version, for Location and @odata.context
}

type handlerFunc func(w http.ResponseWriter, r *request) error

type route struct {
	method, pattern string
	h               handlerFunc
}

// NewHandler returns the Graph API: every route under /{version}/ where
// version is v1.0 or beta. Paths are expected in NormalizePath's form; the
// handler normalises them itself.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	a := &api{calls: cfg.Calls, auth: cfg.Auth, log: cfg.Logger, maxBody: cfg.MaxBody, fwd: NewForwarding(cfg.Forwarder, cfg.Calls, cfg.Logger)}
	mux := http.NewServeMux()
	allowed := make(map[string][]string)
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+rt.pattern, a.wrap(rt.h))
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	// Every other method on a known path is a 405 with a Graph error, not
	// the mux's plain-text one.
	for pattern, methods := range allowed {
		sort.Strings(methods)
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if !contains(methods, m) {
				mux.Handle(m+" "+pattern, a.methodNotAllowed(methods))
			}
		}
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, a.log, &Error{Status: http.StatusNotFound, Code: "BadRequest",
			Message: "Resource not found for the segment '" + lastSegment(r.URL.Path) + "'."})
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = NormalizePath(r.URL.Path)
		r.URL.RawPath = ""
		mux.ServeHTTP(w, r)
	})
}

func (a *api) methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, r, a.log, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Message: "The HTTP method '" + r.Method + "' is not allowed on this resource; allowed: " + allow + "."})
	})
}

// wrap authenticates the request, checks the version and runs h, writing
// any error it returns as a Graph error.
func (a *api) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version := r.PathValue("version")
		if version != "v1.0" && version != "beta" {
			writeError(w, r, a.log, &Error{Status: http.StatusNotFound, Code: "BadRequest",
				Message: "Invalid version: '" + version + "'. Use v1.0 or beta."})
			return
		}
		if err := checkHeaders(r.Header); err != nil {
			writeError(w, r, a.log, err)
			return
		}
		p, err := a.auth.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", a.auth.WWWAuthenticate(err))
			writeError(w, r, a.log, err)
			return
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if forwarded, ok := cluster.FromNode(r.Context()); ok {
			scheme = forwarded // as the client sent it to the node it reached
		} else if a.fwd.ToOwner(w, r, r.PathValue("id")) {
			return
		}
		req := &request{
			Request: r,
			caller:  calls.Caller{TenantID: p.TenantID, AppID: p.AppID, Roles: p.Roles},
			version: version,
			base:    scheme + "://" + r.Host + "/" + version,
		}
		if err := h(w, req); err != nil {
			writeError(w, r, a.log, err)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// MaxHeaderValue is the longest single request header value accepted. (The
// listener refuses more than 64 KiB of headers in all before any handler.)
const MaxHeaderValue = 16 << 10

// checkHeaders refuses an oversized header value, naming the header.
func checkHeaders(h http.Header) error {
	for name, vs := range h {
		for _, v := range vs {
			if len(v) > MaxHeaderValue {
				return &Error{Status: http.StatusRequestHeaderFieldsTooLarge, Code: "RequestHeaderFieldsTooLarge",
					Message: fmt.Sprintf("Header '%s' is longer than %d bytes.", name, MaxHeaderValue), Target: name}
			}
		}
	}
	return nil
}
