package auth

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/throttle"
)

// FailureLimit bounds the failed requests of the token endpoint, as a
// token bucket: Attempts failures at once, refilled at Attempts per Period.
type FailureLimit struct {
	Attempts int
	Period   time.Duration
}

// Defaults of the token endpoint's limits.
var (
	// DefaultFailureLimit allows 10 failed token requests a minute from one
	// source address, and as many for one client id.
	DefaultFailureLimit = FailureLimit{Attempts: 10, Period: time.Minute}
	// DefaultRefusalLogLimit allows 10 log lines about refused token
	// requests a minute; the others are counted in the next line.
	DefaultRefusalLogLimit = FailureLimit{Attempts: 10, Period: time.Minute}
)

// familiarFor is how long a source address that obtained a token for a
// client stays exempt from that client's failure limit.
const familiarFor = 24 * time.Hour

// maxFamiliarSources bounds the source addresses remembered per client.
const maxFamiliarSources = 16

// failureLimiter keeps the failure budgets of the token endpoint: one per
// source address (an IPv4 address, or the /64 of an IPv6 one) and one per
// registered client id. A source or client whose budget is spent is refused
// before its credentials are looked at, so that guessing a secret, or
// flooding the log and the CPU with assertions to verify, goes no faster
// than the budget. A client's budget does not bind a source that obtained
// a token for that client within familiarFor, so that an attacker who
// knows a client id cannot lock its bot out from elsewhere (as Entra's
// smart lockout tells familiar locations from others). It is safe for
// concurrent use.
type failureLimiter struct {
	clock    clock.Clock
	bySource *throttle.Limiter
	byClient *throttle.Limiter

	mu       sync.Mutex
	familiar map[string]map[string]time.Time // client -> source -> last success
}

func newFailureLimiter(c clock.Clock, l FailureLimit) *failureLimiter {
	return &failureLimiter{
		clock:    c,
		bySource: throttle.New(l.Attempts, l.Period, c),
		byClient: throttle.New(l.Attempts, l.Period, c),
		familiar: make(map[string]map[string]time.Time),
	}
}

// sourceBlocked reports whether src has spent its budget, and for how long.
func (f *failureLimiter) sourceBlocked(src string) (bool, time.Duration) {
	ok, wait := f.bySource.Peek(src)
	return !ok, wait
}

// clientBlocked reports whether client has spent its budget and src is not
// one of its familiar sources.
func (f *failureLimiter) clientBlocked(client, src string) (bool, time.Duration) {
	ok, wait := f.byClient.Peek(client)
	if ok || f.isFamiliar(client, src) {
		return false, 0
	}
	return true, wait
}

// failed spends one failure of src's budget and, if it names a registered
// client, of that client's (unless src is familiar to it).
func (f *failureLimiter) failed(src, client string) {
	f.bySource.Allow(src)
	if client != "" && !f.isFamiliar(client, src) {
		f.byClient.Allow(client)
	}
}

// succeeded remembers src as a familiar source of client.
func (f *failureLimiter) succeeded(client, src string) {
	now := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	srcs := f.familiar[client]
	if srcs == nil {
		srcs = make(map[string]time.Time)
		f.familiar[client] = srcs
	}
	if _, ok := srcs[src]; !ok && len(srcs) >= maxFamiliarSources {
		oldest, at := "", now
		for s, t := range srcs {
			if !t.After(at) {
				oldest, at = s, t
			}
		}
		delete(srcs, oldest)
	}
	srcs[src] = now
}

func (f *failureLimiter) isFamiliar(client, src string) bool {
	now := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.familiar[client][src]
	return ok && now.Sub(t) < familiarFor
}

// sourceOf is the address a token request counts against: the peer's IP
// address (never a forwarding header, which the client writes), IPv4 in
// full and IPv6 by its /64, the block one host is usually given.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return strings.ToLower(host)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// refusalLog writes the log lines about refused token requests at a
// bounded rate: beyond its budget lines are dropped and counted, and the
// next line written carries the count as "suppressed". It is safe for
// concurrent use.
type refusalLog struct {
	log        *slog.Logger
	budget     *throttle.Limiter
	suppressed atomic.Int64
}

func newRefusalLog(log *slog.Logger, c clock.Clock, l FailureLimit) *refusalLog {
	return &refusalLog{log: log, budget: throttle.New(l.Attempts, l.Period, c)}
}

// refused logs one refused token request, if the budget allows.
func (l *refusalLog) refused(r *http.Request, e *oauthError, src, correlationID string) {
	if ok, _ := l.budget.Allow(""); !ok {
		l.suppressed.Add(1)
		return
	}
	attrs := []slog.Attr{
		slog.String("error", e.code), slog.Int("aadsts", e.aadsts), slog.String("path", r.URL.Path),
		slog.String("source", src), slog.String("correlation_id", correlationID),
	}
	if n := l.suppressed.Swap(0); n > 0 {
		attrs = append(attrs, slog.Int64("suppressed", n))
	}
	l.log.LogAttrs(r.Context(), slog.LevelInfo, "auth: token request refused", attrs...)
}
