// Package cluster carries requests between the nodes of a Switchboard
// cluster: a node that receives a request for a call another node owns
// forwards it there (see calls.Cluster for who owns what).
//
// A forwarded request is the client's request, body and bearer token
// unchanged, sent to the owner's advertised address with three headers
// that authenticate it as coming from a node of the same cluster: the
// forwarding node's id, the time, and an HMAC-SHA256 over both and the
// request line, keyed with the cluster's shared key (kept in the shared
// store). The owner serves a verified forwarded request itself and never
// forwards it again, so a request travels one hop at most; a request that
// claims to be forwarded and does not verify is refused.
package cluster

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// The headers of a forwarded request.
const (
	HeaderBy    = "Switchboard-Forwarded-By"
	HeaderAt    = "Switchboard-Forwarded-At"
	HeaderMAC   = "Switchboard-Forwarded-Mac"
	HeaderProto = "Switchboard-Forwarded-Proto" // the scheme the client used
	// HeaderRequestID carries the request-id the forwarding node gave the
	// request, so that the client sees one id in headers, error bodies and
	// both nodes' logs. Set by the caller of Forward.
	HeaderRequestID = "Switchboard-Forwarded-Request-Id"
)

// MaxSkew is how far a forwarded request's time may be from the
// receiver's clock.
const MaxSkew = time.Minute

// KeyLen is the length of the cluster key.
const KeyLen = 32

// ErrForged is returned by Verify for a request that claims to be
// forwarded but does not verify.
var ErrForged = errors.New("cluster: the forwarded request does not verify")

// Forwarder sends requests to other nodes and verifies those it receives.
type Forwarder struct {
	key    []byte
	self   string
	clock  clock.Clock
	log    *slog.Logger
	client http.RoundTripper
}

// NewForwarder returns a Forwarder for the node with id self, with the
// cluster's key (KeyLen bytes). transport may be nil (a plain
// http.Transport with timeouts is used).
func NewForwarder(key []byte, self string, clk clock.Clock, log *slog.Logger, transport http.RoundTripper) (*Forwarder, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("cluster: the key is %d bytes, want %d", len(key), KeyLen)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	if log == nil {
		log = slog.Default()
	}
	if transport == nil {
		transport = &http.Transport{
			Proxy:                 nil, // nodes talk directly
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		}
	}
	return &Forwarder{key: key, self: self, clock: clk, log: log, client: transport}, nil
}

// mac is the signature of a forwarded request.
func (f *Forwarder) mac(method, target, by, at string) string {
	m := hmac.New(sha256.New, f.key)
	for _, s := range []string{method, target, by, at} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Forwarded reports whether r claims to be forwarded by a node.
func Forwarded(r *http.Request) bool { return r.Header.Get(HeaderBy) != "" }

// Verify checks a request that claims to be forwarded: ErrForged unless
// its signature matches and its time is within MaxSkew. It returns the
// scheme the client used.
func (f *Forwarder) Verify(r *http.Request) (scheme string, err error) {
	by, at, got := r.Header.Get(HeaderBy), r.Header.Get(HeaderAt), r.Header.Get(HeaderMAC)
	secs, perr := strconv.ParseInt(at, 10, 64)
	if by == "" || perr != nil || !hmac.Equal([]byte(got), []byte(f.mac(r.Method, r.URL.RequestURI(), by, at))) {
		return "", ErrForged
	}
	if d := f.clock.Now().Sub(time.Unix(secs, 0)); d > MaxSkew || d < -MaxSkew {
		return "", fmt.Errorf("%w: sent %v from this node's time", ErrForged, d.Round(time.Second))
	}
	scheme = r.Header.Get(HeaderProto)
	if scheme != "https" {
		scheme = "http"
	}
	return scheme, nil
}

// Forward sends r to the node at address (a base URL such as
// http://10.0.0.5:8080) and copies its response to w. The client's Host
// header is kept, so that the links the owner writes (Location,
// @odata.context) name the address the client used. If the owner cannot
// be reached, the client gets onError's response.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, address string, onError func(http.ResponseWriter, *http.Request, error)) {
	target, err := url.Parse(address)
	if err != nil || target.Scheme == "" || target.Host == "" {
		onError(w, r, fmt.Errorf("cluster: the owner's address %q is not a base URL", address))
		return
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			pr.Out.URL.Path = strings.TrimRight(target.Path, "/") + pr.In.URL.Path
			pr.Out.URL.RawPath = ""
			pr.Out.Host = pr.In.Host
			at := strconv.FormatInt(f.clock.Now().Unix(), 10)
			pr.Out.Header.Set(HeaderBy, f.self)
			pr.Out.Header.Set(HeaderAt, at)
			pr.Out.Header.Set(HeaderProto, proto)
			pr.Out.Header.Set(HeaderMAC, f.mac(pr.Out.Method, pr.Out.URL.RequestURI(), f.self, at))
		},
		Transport: f.client,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f.log.Warn("cluster: forwarding failed", "to", address, "path", r.URL.Path, "err", err)
			onError(w, r, err)
		},
	}
	rp.ServeHTTP(w, r)
}

// Send makes a request of this node's own to the node at address, signed
// as a forward is: target is the path and query, such as
// /switchboard/internal/handOver?call=x; header (may be nil) and body
// (may be nil) go as given. The caller closes the response's body.
func (f *Forwarder) Send(ctx context.Context, address, method, target string, header http.Header, body []byte) (*http.Response, error) {
	base, err := url.Parse(address)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("cluster: the node's address %q is not a base URL", address)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(address, "/")+target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = slices.Clone(vs)
	}
	at := strconv.FormatInt(f.clock.Now().Unix(), 10)
	req.Header.Set(HeaderBy, f.self)
	req.Header.Set(HeaderAt, at)
	req.Header.Set(HeaderProto, base.Scheme)
	req.Header.Set(HeaderMAC, f.mac(method, req.URL.RequestURI(), f.self, at))
	return f.client.RoundTrip(req)
}

// verifiedKey marks a request context as carrying a verified forward.
type verifiedKey struct{}

// FromNode reports whether the request whose context is ctx was forwarded
// here by another node and verified (Accept let it through), and the
// scheme its client used.
func FromNode(ctx context.Context) (scheme string, ok bool) {
	scheme, ok = ctx.Value(verifiedKey{}).(string)
	return scheme, ok
}

// Accept is the gate for requests that claim to be forwarded, placed in
// front of everything a node serves: such a request is verified (a node
// without a Forwarder, f nil, verifies none) and then marked for FromNode,
// or refused with refuse's response. Other requests pass unmarked. The
// layers behind it trust FromNode, never the headers: a verified forward
// was already rate-limited and given its idempotency by the node the
// client reached, and is served here without going on.
func Accept(f *Forwarder, next http.Handler, refuse func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Forwarded(r) {
			next.ServeHTTP(w, r)
			return
		}
		if f == nil {
			refuse(w, r, fmt.Errorf("%w: this server is not part of a cluster", ErrForged))
			return
		}
		scheme, err := f.Verify(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), verifiedKey{}, scheme)))
	})
}
