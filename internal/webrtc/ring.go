package webrtc

import (
	"context"
	"strings"
	"sync"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/rtpmedia"
)

// A browser can take an identity (a user of its tenant): calls to that
// user then ring in the page, which answers with an offer or declines.

// Ring is what a reachable browser hears of a call to its identity.
type Ring struct {
	// Kind is "ring" (a call rings: answer or decline it) or "ringEnded"
	// (it stopped ringing: answered elsewhere, cancelled, timed out).
	Kind           string            `json:"kind"`
	ParticipantID  string            `json:"participantId"`
	ConversationID string            `json:"conversationId"`
	From           model.IdentitySet `json:"from"`
}

// Reachable is a browser that took an identity.
type Reachable struct {
	tenant, user string
	notify       func(Ring)
}

// registry holds the reachable browsers and the calls ringing them.
type registry struct {
	mu      sync.Mutex
	byUser  map[string]*Reachable  // tenant|user, lower case
	ringing map[string]ringingCall // by participant id
}

type ringingCall struct {
	ref   calls.EndpointRef
	where *Reachable
}

func userKey(tenant, user string) string {
	return strings.ToLower(tenant) + "|" + strings.ToLower(user)
}

// TakeIdentity makes calls to user of tenant ring through notify (from any
// goroutine; it must not block), until the returned function is called. A
// later browser taking the same identity takes it over.
func (s *Server) TakeIdentity(tenant, user string, notify func(Ring)) (release func()) {
	r := &Reachable{tenant: tenant, user: user, notify: notify}
	k := userKey(tenant, user)
	s.reg.mu.Lock()
	if s.reg.byUser == nil {
		s.reg.byUser, s.reg.ringing = map[string]*Reachable{}, map[string]ringingCall{}
	}
	s.reg.byUser[k] = r
	s.reg.mu.Unlock()
	return func() {
		s.reg.mu.Lock()
		if s.reg.byUser[k] == r {
			delete(s.reg.byUser, k)
		}
		var declined []calls.EndpointRef
		for pid, c := range s.reg.ringing {
			if c.where == r {
				declined = append(declined, c.ref)
				delete(s.reg.ringing, pid)
			}
		}
		s.reg.mu.Unlock()
		for _, ref := range declined {
			go s.signal(ref, calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultUnreachable})
		}
	}
}

// Bind implements calls.Endpoints: a user a browser took is reached there.
func (s *Server) Bind(tenantID string, id model.IdentitySet) string {
	if id.User == nil || id.User.ID == "" {
		return calls.EndpointSimulated
	}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	if s.reg.byUser[userKey(tenantID, id.User.ID)] != nil {
		return calls.EndpointWebRTC
	}
	return calls.EndpointSimulated
}

// Dial implements calls.Endpoints: the call rings in the browser that
// took the identity (or fails as unreachable when it has gone since).
func (s *Server) Dial(ref calls.EndpointRef, d calls.Dial) {
	var where *Reachable
	if d.Target.User != nil {
		s.reg.mu.Lock()
		where = s.reg.byUser[userKey(d.TenantID, d.Target.User.ID)]
		if where != nil {
			s.reg.ringing[ref.Participant] = ringingCall{ref: ref, where: where}
		}
		s.reg.mu.Unlock()
	}
	if where == nil {
		go s.signal(ref, calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultUnreachable})
		return
	}
	where.notify(Ring{Kind: "ring", ParticipantID: ref.Participant, ConversationID: ref.Conversation, From: d.Caller})
}

// takeRinging removes and returns the call ringing participant pid.
func (s *Server) takeRinging(pid string) (ringingCall, bool) {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	c, ok := s.reg.ringing[pid]
	delete(s.reg.ringing, pid)
	return c, ok
}

// stopRinging tells the browser a call no longer rings; it reports
// whether the participant was ringing.
func (s *Server) stopRinging(pid string) bool {
	c, ok := s.takeRinging(pid)
	if ok {
		c.where.notify(Ring{Kind: "ringEnded", ParticipantID: pid, ConversationID: c.ref.Conversation})
	}
	return ok
}

// AnswerRing answers a call ringing in the browser with its offer: the
// browser is in the call at once; calls.ErrNotFound when it no longer
// rings.
func (s *Server) AnswerRing(ctx context.Context, pid, offer string) (string, error) {
	c, ok := s.takeRinging(pid)
	if !ok {
		return "", calls.ErrNotFound
	}
	peer, answer, err := s.api.Answer(ctx, pid, offer)
	if err != nil {
		s.reg.mu.Lock()
		s.reg.ringing[pid] = c // still ringing: the page may try again
		s.reg.mu.Unlock()
		return "", err
	}
	b := &browser{ref: c.ref, peer: peer, ep: rtpmedia.NewEndpoint(peer.Leg)}
	s.mu.Lock()
	s.peers[pid] = b
	s.mu.Unlock()
	s.Accept(c.ref)
	go s.watch(b)
	s.signal(c.ref, calls.Signal{Kind: calls.SignalAnswered})
	return answer, nil
}

// DeclineRing declines a call ringing in the browser.
func (s *Server) DeclineRing(pid string) bool {
	c, ok := s.takeRinging(pid)
	if ok {
		s.signal(c.ref, calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultDeclined})
	}
	return ok
}

// signal reports to the domain, logging a failure.
func (s *Server) signal(ref calls.EndpointRef, sig calls.Signal) {
	s.mu.Lock()
	domain := s.calls
	s.mu.Unlock()
	if domain == nil {
		return
	}
	if err := domain.Signal(context.Background(), ref, sig); err != nil {
		s.log.Warn("webrtc: reporting to the call failed", "participant", ref.Participant, "signal", sig.Kind, "err", err)
	}
}
