package graph

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/cluster"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

// Headers of Idempotency-Key support.
const (
	// HeaderIdempotencyKey names the client's key for a POST.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderIdempotentReplayed is "true" on a response sent again for a
	// retry rather than produced by running the request.
	HeaderIdempotentReplayed = "Idempotent-Replayed"
)

// Defaults of IdempotencyConfig.
const (
	DefaultIdempotencyTTL      = 24 * time.Hour
	DefaultIdempotencyInFlight = 2 * time.Minute
	// DefaultIdempotencyMaxKeys bounds the keys one application holds.
	DefaultIdempotencyMaxKeys = 5000
	// DefaultIdempotencyMaxResponse bounds a remembered response body. A
	// Graph POST answers with a call or an operation of a few KiB.
	DefaultIdempotencyMaxResponse = 64 << 10
)

// maxIdempotencyKey is the longest key accepted, in bytes.
const maxIdempotencyKey = 255

// replayedHeaders are the response headers remembered with a response and
// sent again; the others (request-id, Date...) belong to each request.
var replayedHeaders = []string{"Content-Type", "Location", "Allow"}

// IdempotencyConfig configures WithIdempotency. Store and Scope are
// required.
type IdempotencyConfig struct {
	// Store remembers the keys and their responses.
	Store idempotency.Store
	// Scope names whose key a request's is: keys of different scopes are
	// independent. PrincipalScope gives one scope per tenant and
	// application. An error means the caller is not known; the request is
	// then passed on untouched, for next to refuse, and nothing is kept.
	Scope func(r *http.Request) (string, error)
	// Clock stamps and expires records; nil means clock.Real.
	Clock clock.Clock
	// TTL is how long after the first request a key replays its response;
	// zero means DefaultIdempotencyTTL.
	TTL time.Duration
	// InFlight is how long a request may run before its key counts as
	// abandoned (its process died) and a retry may run the request again;
	// zero means DefaultIdempotencyInFlight. Keep it above the server's
	// WriteTimeout.
	InFlight time.Duration
	// MaxBody bounds the (decompressed) body that is hashed; a larger body
	// is passed on untouched for next to refuse. Zero means DefaultMaxBody;
	// keep it equal to the Graph API's Config.MaxBody.
	MaxBody int64
	// MaxKeys is the quota of keys one scope (application) holds: beyond
	// it, the scope's oldest remembered responses are forgotten to make
	// room, so that one application cannot fill the store and never
	// touches another's keys. Zero means DefaultIdempotencyMaxKeys.
	MaxKeys int
	// MaxResponse bounds the body of a response that is remembered; a
	// longer response is sent but not kept, and its key is released, so a
	// retry runs the request again as if it had no key. Zero means
	// DefaultIdempotencyMaxResponse.
	MaxResponse int
	// Logger, if nil, is slog.Default().
	Logger *slog.Logger
}

// WithIdempotency gives every POST that carries an Idempotency-Key header
// the semantics bots need to retry safely:
//
//   - The first request with a key runs; its response is remembered for TTL
//     with a SHA-256 of the request (method, normalised path, query and body,
//     the body gunzipped when Content-Encoding is gzip, as the Go SDK sends
//     it).
//   - A retry with the same key and the same request gets the remembered
//     response (status, Content-Type, Location, Allow and body) with
//     Idempotent-Replayed: true, and next does not run.
//   - The same key with a different request is refused with 409 Conflict.
//   - A retry that arrives while the first request is still running is
//     refused at once with 409 Conflict and Retry-After: 1, rather than
//     made to wait: the client's retry loop already knows how to wait. A
//     request running longer than InFlight is taken to be abandoned.
//   - Only outcomes a retry would repeat are remembered: 2xx and 4xx
//     responses except 401, 408, 425 and 429, which a retry may well
//     change. After a 5xx, a panic or one of those, the key is released and
//     a retry runs the request again.
//   - A key must be 1 to 255 printable ASCII characters, sent once;
//     anything else is a 400.
//   - Each scope holds at most MaxKeys keys: a new key makes room by
//     forgetting the scope's oldest remembered responses (a retry of one
//     of those runs afresh). If all MaxKeys are requests still running,
//     a new key is refused with 429 and Retry-After.
//   - A response body longer than MaxResponse is not remembered (the key
//     is released), so no record holds more than MaxResponse bytes.
//
// Requests of other methods, and POSTs without the header, go straight to
// next. Keys belong to cfg.Scope: two applications may use the same key.
// If the store fails, the request is refused with 503 rather than run
// without protection. WithIdempotency panics if cfg.Store or cfg.Scope is
// nil.
func WithIdempotency(cfg IdempotencyConfig, next http.Handler) http.Handler {
	if cfg.Store == nil || cfg.Scope == nil {
		panic("graph: WithIdempotency needs a Store and a Scope")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultIdempotencyTTL
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = DefaultIdempotencyInFlight
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultIdempotencyMaxKeys
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultIdempotencyMaxResponse
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &idempotent{cfg: cfg, next: next}
	return http.HandlerFunc(m.serveHTTP)
}

// PrincipalScope returns a Scope for IdempotencyConfig that authenticates
// the request with a and scopes its keys to the caller's tenant and
// application, case-insensitively.
func PrincipalScope(a Authenticator) func(r *http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		p, err := a.Authenticate(r)
		if err != nil {
			return "", err
		}
		return strings.ToLower(p.TenantID) + "/" + strings.ToLower(p.AppID), nil
	}
}

type idempotent struct {
	cfg  IdempotencyConfig
	next http.Handler
}

func (m *idempotent) serveHTTP(w http.ResponseWriter, r *http.Request) {
	vals := r.Header.Values(HeaderIdempotencyKey)
	// A verified forward carries the key the node the client reached
	// already holds for it: served once, there.
	if _, forwarded := cluster.FromNode(r.Context()); r.Method != http.MethodPost || len(vals) == 0 || forwarded {
		m.next.ServeHTTP(w, r)
		return
	}
	key, err := parseIdempotencyKey(vals)
	if err != nil {
		writeError(w, r, m.cfg.Logger, err)
		return
	}
	scope, err := m.cfg.Scope(r)
	if err != nil {
		m.next.ServeHTTP(w, r)
		return
	}
	hash, ok := hashRequest(r, m.cfg.MaxBody)
	if !ok {
		m.next.ServeHTTP(w, r)
		return
	}

	now := m.cfg.Clock.Now()
	rec := idempotency.Record{
		Scope: scope, Key: key, RequestHash: hash, Token: newRequestID(),
		CreatedAt: now, ExpiresAt: now.Add(m.cfg.TTL),
	}
	existing, reserved, err := m.cfg.Store.ReserveIdempotency(r.Context(), rec, now, now.Add(-m.cfg.InFlight), m.cfg.MaxKeys)
	if errors.Is(err, idempotency.ErrQuota) {
		writeError(w, r, m.cfg.Logger, &Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Target: HeaderIdempotencyKey,
			Message:    fmt.Sprintf("This application has %d requests with an Idempotency-Key running, the most the server keeps; retry after the interval in Retry-After.", m.cfg.MaxKeys),
			RetryAfter: time.Second})
		return
	}
	if err != nil {
		m.cfg.Logger.Error("graph: idempotency store failed", "scope", scope, "path", r.URL.Path, "err", err)
		writeError(w, r, m.cfg.Logger, &Error{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
			Message: "The Idempotency-Key could not be checked; retry after the interval in Retry-After.", RetryAfter: time.Second})
		return
	}
	switch {
	case reserved:
		m.run(w, r, rec)
	case !bytes.Equal(existing.RequestHash, hash):
		writeError(w, r, m.cfg.Logger, &Error{Status: http.StatusConflict, Code: "Conflict", Target: HeaderIdempotencyKey,
			Message: "The Idempotency-Key '" + key + "' was used with a different request (method, path or body); use a new key for a new request."})
	case existing.Response == nil:
		w.Header().Set("Retry-After", "1")
		writeError(w, r, m.cfg.Logger, &Error{Status: http.StatusConflict, Code: "Conflict", Target: HeaderIdempotencyKey,
			Message: "A request with this Idempotency-Key is in progress; retry after it has completed."})
	default:
		m.cfg.Logger.Debug("graph: idempotent replay", "scope", scope, "key", key, "method", r.Method, "path", r.URL.Path, "status", existing.Response.Status)
		replayResponse(w, *existing.Response)
	}
}

// run runs the request that reserved rec's key and remembers its response,
// or releases the key when the response is not one to repeat.
func (m *idempotent) run(w http.ResponseWriter, r *http.Request, rec idempotency.Record) {
	// The outcome is written even if the client has gone: the request ran.
	ctx := context.WithoutCancel(r.Context())
	finished := false
	defer func() {
		if !finished { // a panic: WithRecovery answers it, and a retry runs afresh
			m.release(ctx, rec)
		}
	}()
	cw := &captureWriter{ResponseWriter: w, max: m.cfg.MaxResponse}
	m.next.ServeHTTP(cw, r)
	finished = true

	status, header := cw.result()
	if !remembered(status) || cw.overflow {
		m.release(ctx, rec)
		return
	}
	resp := idempotency.Response{Status: status, Header: header, Body: cw.body.Bytes()}
	if err := m.cfg.Store.CompleteIdempotency(ctx, rec.Scope, rec.Key, rec.Token, resp); err != nil {
		m.cfg.Logger.Warn("graph: remember idempotent response", "scope", rec.Scope, "key", rec.Key, "path", r.URL.Path, "err", err)
	}
}

func (m *idempotent) release(ctx context.Context, rec idempotency.Record) {
	if err := m.cfg.Store.ReleaseIdempotency(ctx, rec.Scope, rec.Key, rec.Token); err != nil {
		m.cfg.Logger.Warn("graph: release idempotency key", "scope", rec.Scope, "key", rec.Key, "err", err)
	}
}

// remembered reports whether a response with status is kept for retries:
// those a retry of the same request would get again.
func remembered(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status == http.StatusUnauthorized, status == http.StatusRequestTimeout,
		status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return false
	case status >= 400 && status < 500:
		return true
	}
	return false
}

// parseIdempotencyKey checks the header's values: one value of 1 to 255
// printable ASCII characters.
func parseIdempotencyKey(vals []string) (string, error) {
	if len(vals) != 1 {
		return "", &Error{Status: http.StatusBadRequest, Code: "BadRequest", Target: HeaderIdempotencyKey,
			Message: "The Idempotency-Key header is given more than once; send one key."}
	}
	k := vals[0]
	ok := len(k) >= 1 && len(k) <= maxIdempotencyKey
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] >= 0x20 && k[i] <= 0x7e
	}
	if !ok {
		return "", &Error{Status: http.StatusBadRequest, Code: "BadRequest", Target: HeaderIdempotencyKey,
			Message: fmt.Sprintf("The Idempotency-Key must be 1 to %d printable ASCII characters.", maxIdempotencyKey)}
	}
	return k, nil
}

// hashRequest returns the SHA-256 of r's method, normalised path, query and
// body, the body gunzipped when Content-Encoding is gzip (and the gzip is
// valid and within limit; otherwise next refuses it anyway, and the raw
// bytes stand in). It leaves r.Body to be read again from the start. It
// reports false, hashing nothing, when the raw body is over limit or cannot
// be read.
func hashRequest(r *http.Request, limit int64) ([]byte, bool) {
	orig := r.Body
	raw, err := io.ReadAll(io.LimitReader(orig, limit+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(raw), orig), orig}
	if err != nil || int64(len(raw)) > limit {
		return nil, false
	}
	body := raw
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
			if dec, err := io.ReadAll(io.LimitReader(zr, limit+1)); err == nil && int64(len(dec)) <= limit {
				body = dec
			}
		}
	}
	h := sha256.New()
	for _, part := range []string{r.Method, NormalizePath(r.URL.Path), r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil), true
}

type readCloser struct {
	io.Reader
	io.Closer
}

// replayResponse sends a remembered response again.
func replayResponse(w http.ResponseWriter, resp idempotency.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	h.Set(HeaderIdempotentReplayed, "true")
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

// captureWriter passes a response through and keeps a copy of its status,
// replayed headers and body (up to max bytes).
type captureWriter struct {
	http.ResponseWriter
	max      int
	status   int
	header   map[string][]string
	body     bytes.Buffer
	overflow bool
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 && code >= 200 { // 1xx responses are interim
		c.status = code
		c.header = pickHeaders(c.ResponseWriter.Header())
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if !c.overflow {
		if c.body.Len()+len(p) > c.max {
			c.overflow = true
			c.body = bytes.Buffer{}
		} else {
			c.body.Write(p)
		}
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// result is the status and headers the client got; a handler that wrote
// nothing sent 200.
func (c *captureWriter) result() (int, map[string][]string) {
	if c.status == 0 {
		return http.StatusOK, pickHeaders(c.ResponseWriter.Header())
	}
	return c.status, c.header
}

func pickHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string)
	for _, k := range replayedHeaders {
		if vs := h.Values(k); len(vs) > 0 {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}
