package console

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/clock"
)

// cookieName is the session cookie; csrfHeader carries the CSRF token.
const (
	cookieName = "switchboard_console"
	csrfHeader = "X-CSRF-Token"
)

// session is one signed-in browser: the application's access token,
// held here and never sent to the browser, and the CSRF token the page
// must echo. It ends when the token does.
type session struct {
	id, token, csrf string
	principal       auth.Principal
	expires         time.Time
	dev             bool
}

func (s *session) view() sessionView {
	return sessionView{TenantID: s.principal.TenantID, ClientID: s.principal.AppID, Roles: slices.Clone(s.principal.Roles),
		Admin: s.admin(), CSRFToken: s.csrf, Expires: s.expires.UTC().Format(time.RFC3339), Dev: s.dev}
}

// admin reports whether the session's application administers its
// tenant (or, as an operator, every tenant).
func (s *session) admin() bool {
	return s.principal.Has(auth.RoleAdmin) || s.principal.Has(auth.RoleOperator)
}

// checkCSRF reports whether r carries the session's CSRF token.
func (s *session) checkCSRF(r *http.Request) bool {
	return equalSecret(r.Header.Get(csrfHeader), s.csrf)
}

// sees reports whether the session may see a call of tenant and app: its
// own application's, its tenant's as an administrator, any as an
// operator. Ids compare case-insensitively.
func (s *session) sees(tenant, app string) bool {
	p := s.principal
	switch {
	case p.Has(auth.RoleOperator):
		return true
	case !strings.EqualFold(tenant, p.TenantID):
		return false
	case p.Has(auth.RoleAdmin):
		return true
	}
	return strings.EqualFold(app, p.AppID)
}

// sessions holds the live sessions, at most max: the oldest is dropped
// for a new one. They live in this process: a restart (or another node
// of a cluster) asks the browser to sign in again.
type sessions struct {
	mu    sync.Mutex
	clock clock.Clock
	max   int
	byID  map[string]*session
	order []string // ids, oldest first
}

func newSessions(c clock.Clock, max int) *sessions {
	return &sessions{clock: c, max: max, byID: make(map[string]*session)}
}

// open starts a session for the token's application.
func (ss *sessions) open(tok Token, p auth.Principal, dev bool) *session {
	s := &session{id: randomID(), token: tok.AccessToken, csrf: randomID(), principal: p, expires: tok.Expires, dev: dev}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for len(ss.order) >= ss.max {
		delete(ss.byID, ss.order[0])
		ss.order = ss.order[1:]
	}
	ss.byID[s.id] = s
	ss.order = append(ss.order, s.id)
	return s
}

// get returns the live session id, or nil (dropping it once expired).
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[id]
	if s == nil {
		return nil
	}
	if !ss.clock.Now().Before(s.expires) {
		ss.dropLocked(id)
		return nil
	}
	return s
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.dropLocked(id)
}

func (ss *sessions) dropLocked(id string) {
	delete(ss.byID, id)
	if i := slices.Index(ss.order, id); i >= 0 {
		ss.order = slices.Delete(ss.order, i, i+1)
	}
}
