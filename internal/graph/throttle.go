package graph

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/cluster"
	"github.com/switchboard-dev/switchboard/internal/throttle"
)

// ThrottleConfig configures WithThrottle. Auth is required when Limiter is
// set.
type ThrottleConfig struct {
	// Auth identifies the application a request counts against.
	Auth Authenticator
	// Limiter, when set, throttles each application within its tenant:
	// beyond its rate a request gets Graph's 429 with Retry-After.
	Limiter *throttle.Limiter
	// Gate, when set, bounds the requests in flight: beyond it a request
	// gets 503 with Retry-After instead of queueing.
	Gate *throttle.Gate
	// Logger, if nil, is slog.Default().
	Logger *slog.Logger
}

// WithThrottle applies the request limits to every request that reaches
// next, before anything else looks at it: the Gate to all of them, and the
// Limiter to every request that carries a valid bearer token, whatever its
// path, method or version (an unknown path or a refused method counts as
// much as a known route). It must wrap the API from outside, around
// WithIdempotency too, so that a response replayed from the idempotency
// store, or a reservation written to it, also counts against the bucket.
//
// A request without a valid token is passed on without taking a token:
// next refuses it with 401, or serves it when it is public (the extension
// API's /health and /ready). Keys are the tenant and application,
// case-insensitively, as Graph throttles "per application per tenant".
func WithThrottle(cfg ThrottleConfig, next http.Handler) http.Handler {
	if cfg.Limiter != nil && cfg.Auth == nil {
		panic("graph: WithThrottle needs an Authenticator for its Limiter")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Limiter == nil && cfg.Gate == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.Gate != nil {
			if !cfg.Gate.Enter() {
				writeError(w, r, cfg.Logger, shedding())
				return
			}
			defer cfg.Gate.Leave()
		}
		// A verified forward was counted by the node the client reached.
		if _, forwarded := cluster.FromNode(r.Context()); cfg.Limiter != nil && !forwarded {
			if p, err := cfg.Auth.Authenticate(r); err == nil {
				if ok, wait := cfg.Limiter.Allow(strings.ToLower(p.TenantID) + "/" + strings.ToLower(p.AppID)); !ok {
					writeError(w, r, cfg.Logger, throttled(wait))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
