package graph

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/cluster"
)

// WithForwarded is the gate for requests that claim to come from another
// node of the cluster (cluster.Accept): verified ones go on marked for
// cluster.FromNode, others get 403 Forbidden. fwd is nil on a single node,
// which refuses every such claim. It belongs outside the throttle and the
// idempotency layers, which let verified forwards through (the node the
// client reached applied them).
func WithForwarded(fwd *cluster.Forwarder, log *slog.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return cluster.Accept(fwd, next, func(w http.ResponseWriter, r *http.Request, err error) {
		log.Warn("graph: refused a forwarded request", "path", r.URL.Path, "by", r.Header.Get(cluster.HeaderBy), "err", err)
		writeError(w, r, log, &Error{Status: http.StatusForbidden, Code: "Forbidden",
			Message: "The request claims to come from another node of this cluster and does not verify."})
	})
}

// Forwarding sends a request that another node must serve to that node:
// one for a call that node owns, or a create that joins a meeting it
// holds. Both APIs use it. A nil *Forwarding (one node) forwards nothing,
// and no request that was itself forwarded goes on (one hop at most).
type Forwarding struct {
	fwd   *cluster.Forwarder
	calls *calls.Service
	log   *slog.Logger
}

// NewForwarding returns the Forwarding of a node, or nil when fwd is nil.
func NewForwarding(fwd *cluster.Forwarder, svc *calls.Service, log *slog.Logger) *Forwarding {
	if fwd == nil {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	return &Forwarding{fwd: fwd, calls: svc, log: log}
}

// ToOwner forwards r to the node that owns call id, when another node
// does, and reports whether it did (the response is then written).
func (f *Forwarding) ToOwner(w http.ResponseWriter, r *http.Request, id string) bool {
	if f == nil || id == "" {
		return false
	}
	if _, ok := cluster.FromNode(r.Context()); ok {
		return false
	}
	owner, ok := f.calls.Locate(r.Context(), id)
	if !ok {
		return false
	}
	f.send(w, r, owner, "call")
	return true
}

// WithBody forwards r, whose body the handler already read, to node with
// that body, and reports whether it did. what names the resource for the
// client when the node cannot be reached ("meeting").
func (f *Forwarding) WithBody(w http.ResponseWriter, r *http.Request, body []byte, node calls.Node, what string) bool {
	if f == nil {
		return false
	}
	if _, ok := cluster.FromNode(r.Context()); ok {
		return false
	}
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.Header.Del("Content-Encoding") // the body read is decoded
	out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	f.send(w, out, node, what)
	return true
}

// send forwards r to node with this node's request-id; if the node cannot
// be reached the client gets 503 about the call or meeting (what).
func (f *Forwarding) send(w http.ResponseWriter, r *http.Request, node calls.Node, what string) {
	r.Header.Set(cluster.HeaderRequestID, requestIDs(r).requestID)
	f.fwd.Forward(w, r, node.Address, func(w http.ResponseWriter, r *http.Request, err error) {
		writeError(w, r, f.log, &Error{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
			Message: "The node serving this " + what + " cannot be reached. Retry after the interval in Retry-After."})
	})
}

// Broadcast sends a copy of r, with body, to every other live node, for
// a change that each node keeps in memory (a simulated identity's
// behaviour), and waits for each to accept it. Nothing is sent for a
// request that was itself forwarded, nor by a nil *Forwarding. A node
// that does not accept it makes an error naming it.
func (f *Forwarding) Broadcast(r *http.Request, body []byte) error {
	if f == nil {
		return nil
	}
	if _, ok := cluster.FromNode(r.Context()); ok {
		return nil
	}
	peers, err := f.calls.Peers(r.Context())
	if err != nil {
		return err
	}
	header := r.Header.Clone()
	header.Del("Content-Encoding") // the body read is decoded
	header.Set(cluster.HeaderRequestID, requestIDs(r).requestID)
	for _, n := range peers {
		resp, err := f.fwd.Send(r.Context(), n.Address, r.Method, r.URL.RequestURI(), header, body)
		if err != nil {
			return &Error{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
				Message: "Node " + n.Name + " of the cluster cannot be reached; the change reached only some nodes. Retry."}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return &Error{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
				Message: "Node " + n.Name + " of the cluster refused the change (" + resp.Status + "); it reached only some nodes. Retry."}
		}
	}
	return nil
}
