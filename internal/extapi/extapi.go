package extapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

// Prefix is where the extension API lives on the listener.
const Prefix = "/switchboard/v1"

// Store is what the extension API reads.
type Store interface {
	// Notifications returns the outbox rows of callID with Seq >= fromSeq,
	// in Seq order, at most limit (<= 0: all).
	Notifications(ctx context.Context, callID string, fromSeq int64, limit int) ([]notify.Entry, error)
	// CallOwner returns the tenant and application of a call, ended or not;
	// an error matching calls.ErrNotFound if there is none.
	CallOwner(ctx context.Context, callID string) (tenantID, appID string, err error)
	// RecentCalls returns the calls of tenantID (every tenant's when "")
	// and appID (every application's of the tenant when ""), live or
	// ended and not yet deleted, newest first, at most limit, with their
	// Spec.
	RecentCalls(ctx context.Context, tenantID, appID string, limit int) ([]*calls.Call, error)
	// CallConversation returns the conversation holding callID, live or
	// ended and not yet deleted; an error matching calls.ErrNotFound if
	// there is none.
	CallConversation(ctx context.Context, callID string) (*calls.Conversation, error)
}

// Replayer sends notifications again; *notify.Worker is one. Replay
// returns how many it queued, or an error wrapping notify.ErrReplayLimit
// (having queued none) when they do not fit under its limits.
type Replayer interface {
	Replay(ds ...notify.Delivery) (int, error)
}

// route is one entry of the route table.
type route struct {
	method, pattern string
	h               http.Handler
}

// Config configures the extension API. Auth, Store and Replayer are
// required.
type Config struct {
	// Auth checks bearer tokens, as for the Graph API.
	Auth     graph.Authenticator
	Store    Store
	Replayer Replayer
	// Ready is closed once the server accepts requests; until then
	// /ready answers 503. Nil means ready from the start.
	Ready <-chan struct{}
	// Version is reported by /health.
	Version string
	// Logger, if nil, is slog.Default().
	Logger *slog.Logger
	// Sim, when set, enables simulation control under /simulation.
	Sim *Simulation
	// Forwarding, on a node of a cluster, sends a request about a call
	// another node owns (a path with /calls/{id}) to that node, and a
	// simulated join of a meeting to the node holding the meeting.
	Forwarding *graph.Forwarding
}

type api struct {
	cfg Config
	log *slog.Logger
}

// handlerFunc is an authenticated endpoint; an error it returns is written
// as a Graph error.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// New returns the extension API handler. It serves paths under Prefix and
// answers anything else with a Graph 404.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &api{cfg: cfg, log: cfg.Logger}
	mux := http.NewServeMux()
	allowed := make(map[string][]string)
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+rt.pattern, rt.h)
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	for pattern, methods := range allowed {
		slices.Sort(methods)
		allow := strings.Join(methods, ", ")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if !slices.Contains(methods, m) {
				mux.Handle(m+" "+pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Allow", allow)
					graph.WriteError(w, r, a.log, graph.NewError(http.StatusMethodNotAllowed, "MethodNotAllowed",
						"The HTTP method '"+r.Method+"' is not allowed on this resource; allowed: "+allow+"."))
				}))
			}
		}
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		graph.WriteError(w, r, a.log, graph.NewError(http.StatusNotFound, "BadRequest",
			"There is no extension API endpoint at '"+r.URL.Path+"'; docs/openapi/switchboard-extension.yaml lists them."))
	}))
	return mux
}

// routes is the extension API's route table.
func (a *api) routes() []route {
	return append([]route{
		{"GET", Prefix + "/health", http.HandlerFunc(a.health)},
		{"GET", Prefix + "/ready", http.HandlerFunc(a.ready)},
		{"GET", Prefix + "/calls", a.authed(a.listCalls)},
		{"GET", Prefix + "/calls/{id}", a.authed(a.getCall)},
		{"GET", Prefix + "/calls/{id}/notifications", a.authed(a.listNotifications)},
		{"POST", Prefix + "/calls/{id}/notifications/replay", a.authed(a.replayNotifications)},
	}, a.simRoutes()...)
}

// Routes returns the request patterns the extension API serves, in
// net/http.ServeMux syntax ("GET /switchboard/v1/calls/{id}/notifications"),
// for the route label of the HTTP metrics. The slice is new on each call.
func Routes() []string {
	var ps []string
	for _, rt := range (&api{}).routes() {
		ps = append(ps, rt.method+" "+rt.pattern)
	}
	return ps
}

// authed authenticates the request and runs h with the caller.
func (a *api) authed(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.cfg.Auth.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", a.cfg.Auth.WWWAuthenticate(err))
			graph.WriteError(w, r, a.log, err)
			return
		}
		if strings.Contains(r.Pattern, "/calls/{id}") && a.cfg.Forwarding.ToOwner(w, r, r.PathValue("id")) {
			return // served by the node that owns the call
		}
		if err := h(w, r, p); err != nil {
			graph.WriteError(w, r, a.log, err)
		}
	})
}

// errCallNotFound answers for a call that does not exist and for one the
// caller may not see alike, so that nobody learns of others' calls.
var errCallNotFound = graph.NewError(http.StatusNotFound, "itemNotFound", "The call does not exist.")

// authorizeCall returns nil if p may see call callID: p's application owns
// it, or p administers the call's tenant (isAdmin and inTenant).
// Switchboard.Admin does not reach into other tenants: their calls are
// errCallNotFound, like a missing one.
func (a *api) authorizeCall(ctx context.Context, p auth.Principal, callID string) error {
	tenant, app, err := a.cfg.Store.CallOwner(ctx, callID)
	switch {
	case errors.Is(err, calls.ErrNotFound):
		return errCallNotFound
	case err != nil:
		return err
	case !inTenant(p, tenant):
		return errCallNotFound
	case isAdmin(p) || (strings.EqualFold(app, p.AppID) && strings.EqualFold(tenant, p.TenantID)):
		return nil
	}
	return errCallNotFound
}

// isAdmin reports whether p holds Switchboard.Admin or Switchboard.Operator,
// the extension API's administrative roles; where they reach is inTenant's
// business.
func isAdmin(p auth.Principal) bool {
	return p.Has(auth.RoleAdmin) || p.Has(auth.RoleOperator)
}

// inTenant reports whether p may act in tenant: p's own tenant, or any
// tenant for Switchboard.Operator. Tenant ids compare case-insensitively.
func inTenant(p auth.Principal, tenant string) bool {
	return p.Has(auth.RoleOperator) || strings.EqualFold(tenant, p.TenantID)
}

// GET /switchboard/v1/health
func (a *api) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": a.cfg.Version})
}

// GET /switchboard/v1/ready
func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Ready != nil {
		select {
		case <-a.cfg.Ready:
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
