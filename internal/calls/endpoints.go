package calls

import (
	"context"
	"errors"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Endpoint kinds: how a participant that is not an application is reached
// (Participant.Endpoint).
const (
	// EndpointSimulated is a simulated person: its Behaviour, played by the
	// conversation's own persisted timers, says what it does.
	EndpointSimulated = ""
	// EndpointSIP is a SIP phone, a PBX or a trunk.
	EndpointSIP = "sip"
	// EndpointWebRTC is a browser (the console).
	EndpointWebRTC = "webrtc"
)

// Endpoints reaches the participants bound to live endpoints (SIP phones
// and trunks; later browsers). It is the one signalling port of the domain:
// the domain tells an endpoint to dial, accept, end or mute, and the
// endpoint reports back through Service.Signal. A simulated person is the
// same conversation seen from the other side: its behaviour produces the
// same signals, on the conversation's timers (see signal).
//
// Every method returns at once and must not block: it is called after the
// commit that caused it, under the conversation's lock, in commit order.
// Implementations must be safe for concurrent use.
type Endpoints interface {
	// Bind says how an identity of the tenant is reached: an endpoint kind,
	// or EndpointSimulated when no live endpoint is bound to it.
	Bind(tenantID string, id model.IdentitySet) string
	// Dial calls the participant: an outgoing call to a phone.
	Dial(ref EndpointRef, d Dial)
	// Accept connects a caller whose call an application answered.
	Accept(ref EndpointRef)
	// End releases the participant's endpoint: stop ringing it, decline its
	// unanswered call (Release says why: rejected, redirected, not answered
	// in time), or hang up once connected. Ending an endpoint that already
	// left does nothing.
	End(ref EndpointRef, why Release)
	// Mute tells the endpoint whether its audio reaches the others.
	Mute(ref EndpointRef, muted bool)
	// Hold puts the endpoint on hold (startHoldMusic: it hears hold music
	// and the others no longer hear it) or takes it off.
	Hold(ref EndpointRef, held bool)
}

// Release is why the domain releases a live endpoint.
type Release struct {
	// Result is the result of the conversation's application leg when it
	// ended, else a plain removal.
	Result ResultInfo
	// Busy is set when an application rejected the endpoint's call with
	// reason busy (a phone then hears busy rather than declined).
	Busy bool
}

// EndpointRef names a participant reached through Endpoints.
type EndpointRef struct {
	Conversation string
	Participant  string
}

// Dial is an outgoing call to a live endpoint.
type Dial struct {
	TenantID string
	Target   model.IdentitySet
	// Caller is who the phone sees calling: the application, or the
	// source the create request named.
	Caller model.IdentitySet
	// Endpoint is the kind Bind gave the target when it was called.
	Endpoint string
}

// SignalKind is what an endpoint reports.
type SignalKind string

// Signals.
const (
	SignalAnswered    SignalKind = "answered"    // a called participant answered
	SignalFailed      SignalKind = "failed"      // a called participant cannot be reached, is busy or declined (Signal.Result)
	SignalLeft        SignalKind = "left"        // a participant hung up, or its media was lost (Signal.Result)
	SignalMuted       SignalKind = "muted"       // it muted itself
	SignalUnmuted     SignalKind = "unmuted"     // it unmuted itself
	SignalSharing     SignalKind = "sharing"     // it started sharing its screen
	SignalStopSharing SignalKind = "stopSharing" // it stopped sharing its screen
)

// Signal is one report of an endpoint.
type Signal struct {
	Kind SignalKind
	// Result is why a SignalFailed call failed: ResultBusy,
	// ResultUnreachable, ResultNoAnswer or another code. With SignalLeft
	// it is optional: why a peer-to-peer call ends (ResultMediaTimeout),
	// instead of the other participant's plain hang-up.
	Result ResultInfo
}

// Signal applies what a live endpoint reports about its participant. A
// report that no longer applies (the participant left, the conversation
// ended) is ignored and returns nil.
func (s *Service) Signal(ctx context.Context, ref EndpointRef, sig Signal) error {
	s.mu.RLock()
	e := s.convs[ref.Conversation]
	s.mu.RUnlock()
	if e == nil {
		return nil
	}
	err := s.update(ctx, e, func(tx *txn) error {
		p := tx.participant(strings.ToLower(ref.Participant))
		if p == nil {
			return nil
		}
		tx.reporter = p.ID
		return tx.signal(p, sig)
	})
	if err == ErrNotFound {
		return nil
	}
	return err
}

// signal is where every endpoint's report takes effect, a live endpoint's
// (through Service.Signal) and a simulated person's (its timers and the
// control API): one set of rules for both, so that a phone and a simulated
// person behave the same in any call.
func (tx *txn) signal(p *Participant, sig Signal) error {
	conv := tx.conv
	switch sig.Kind {
	case SignalAnswered:
		if p.State != ParticipantInvited {
			return nil
		}
		tx.joined(p)
		if leg := tx.transferFor(p.ID); leg != nil {
			return tx.completeTransfer(leg)
		}
		if p.RingsFor != "" {
			tx.redirectAnswered(p)
			return nil
		}
		if conv.Kind == KindPeerToPeer {
			return tx.legsConnected()
		}
		tx.notifyRoster()
		tx.inviteSettled(p.InviteOp, p.InvitedBy)
	case SignalFailed:
		if p.State != ParticipantInvited {
			return nil
		}
		tx.removeTimers(p.ID)
		tx.setParticipant(p.ID, ParticipantLeft)
		if leg := tx.transferFor(p.ID); leg != nil {
			return tx.failTransfer(leg)
		}
		if p.RingsFor != "" {
			tx.closeBridge() // the redirected phone goes when its last target failed
			return nil
		}
		if conv.Kind != KindPeerToPeer {
			tx.inviteSettled(p.InviteOp, p.InvitedBy)
			return nil // an invitation that failed leaves the group call as it was
		}
		for _, leg := range conv.Legs {
			if err := tx.endLeg(leg, sig.Result); err != nil {
				return err
			}
		}
	case SignalLeft:
		if p.State == ParticipantLeft {
			return nil
		}
		if p.State == ParticipantInvited {
			return tx.signal(p, Signal{Kind: SignalFailed, Result: ResultNoAnswer})
		}
		return tx.participantLeft(p, sig.Result)
	case SignalMuted, SignalUnmuted:
		muted := sig.Kind == SignalMuted
		if p.State == ParticipantJoined && p.Muted != muted {
			p.Muted = muted
			tx.touch(p)
			tx.notifyRoster()
		}
	case SignalSharing:
		if p.State == ParticipantJoined {
			tx.startShare(p)
		}
	case SignalStopSharing:
		if p.State == ParticipantJoined {
			tx.stopShare(p.ID)
			tx.notifyRoster()
		}
	default:
		return invalid("signal", "unknown signal %q", sig.Kind)
	}
	tx.dirty = true
	return nil
}

// bind resolves a participant's endpoint kind when it is called or joins.
func (s *Service) bind(tenantID string, id *model.IdentitySet) string {
	if s.cfg.Endpoints == nil || id == nil {
		return EndpointSimulated
	}
	return s.cfg.Endpoints.Bind(tenantID, *id)
}

// dial calls a participant bound to a live endpoint, once committed.
func (tx *txn) dial(eps Endpoints, p *Participant, caller model.IdentitySet) {
	ref := EndpointRef{Conversation: tx.conv.ID, Participant: p.ID}
	d := Dial{TenantID: tx.conv.TenantID, Target: identityOf(p), Caller: caller, Endpoint: p.Endpoint}
	tx.afterCommit(func() { eps.Dial(ref, d) })
}

// syncEndpoints tells live endpoints what a commit did to their
// participants: those that left end (the result of the conversation's
// application leg says why, when it ended), an incoming caller whose call
// was answered is accepted, and server mutes and holds reach the endpoint; nothing
// is echoed to the reporter, the endpoint whose own signal made the
// change. Called with the conversation's lock held, after the commit.
func (s *Service) syncEndpoints(old, cur *Conversation, reporter string) {
	eps := s.cfg.Endpoints
	if eps == nil {
		return
	}
	for i := range cur.Roster {
		p := &cur.Roster[i]
		if p.Endpoint == EndpointSimulated || p.ID == reporter {
			continue
		}
		was := old.participant(p.ID)
		ref := EndpointRef{Conversation: cur.ID, Participant: p.ID}
		switch {
		case p.State == ParticipantLeft && was != nil && was.State != ParticipantLeft:
			eps.End(ref, release(cur))
		case p.State == ParticipantLeft || was == nil:
		default:
			if was.Muted != p.Muted {
				eps.Mute(ref, p.Muted)
			}
			if was.OnHold != p.OnHold {
				eps.Hold(ref, p.OnHold)
			}
		}
	}
	// A redirected caller is accepted when a target answers for it.
	for i := range cur.Roster {
		p := &cur.Roster[i]
		if was := old.participant(p.ID); p.RingsFor != "" && p.State == ParticipantJoined && was != nil && was.State == ParticipantInvited {
			eps.Accept(EndpointRef{Conversation: cur.ID, Participant: p.RingsFor})
		}
	}
	// An incoming caller is accepted when the application's leg answers.
	for _, l := range cur.Legs {
		o := old.Leg(l.ID)
		answered := l.State == StateEstablishing || l.State == StateEstablished // not redirecting, not ended
		if o == nil || o.State != StateIncoming || !answered || l.Spec.IncomingContext == nil {
			continue
		}
		if p := cur.participant(l.Spec.IncomingContext.SourceParticipantID); p != nil && p.Endpoint != EndpointSimulated && p.State == ParticipantJoined {
			eps.Accept(EndpointRef{Conversation: cur.ID, Participant: p.ID})
		}
	}
}

// release is why a conversation's live endpoints are released: its first
// application leg's result once that ended, else a plain removal.
func release(conv *Conversation) Release {
	for _, l := range conv.Legs {
		if l.Result != nil && l.State.Ended() {
			return Release{Result: *l.Result, Busy: *l.Result == rejected(model.RejectReasonBusy)}
		}
	}
	return Release{Result: ResultInfo{Code: 200, Message: "The participant was removed from the call."}}
}

// participant returns the roster entry with the id, or nil.
func (c *Conversation) participant(id string) *Participant {
	for i := range c.Roster {
		if c.Roster[i].ID == id {
			return &c.Roster[i]
		}
	}
	return nil
}

// callerOf is who a phone sees calling when the leg with the id rings it:
// the source its create request named, or the application.
func (tx *txn) callerOf(legID string) model.IdentitySet {
	leg := tx.conv.Leg(legID)
	if leg == nil {
		return model.IdentitySet{}
	}
	if src := leg.Spec.Source; src != nil && src.Identity != nil {
		return *src.Identity
	}
	return model.IdentitySet{Application: &model.Identity{ID: leg.AppID}}
}

// dropLostEndpoints ends, at start, the live endpoints a conversation had
// when the server stopped: their calls (SIP dialogs, RTP) died with the
// process. A phone that was in the call left it with its media lost; one
// that was still ringing was not reached.
func (s *Service) dropLostEndpoints(e *entry) {
	err := s.update(context.Background(), e, func(tx *txn) error {
		for i := range tx.conv.Roster {
			p := &tx.conv.Roster[i]
			if p.Endpoint == EndpointSimulated || p.State == ParticipantLeft {
				continue
			}
			sig := Signal{Kind: SignalLeft, Result: ResultMediaTimeout}
			if p.State == ParticipantInvited {
				sig = Signal{Kind: SignalFailed, Result: ResultUnreachable}
			}
			if err := tx.signal(p, sig); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.Error("calls: ending endpoints lost in a restart", append(convAttrs(e.view.Load()), "err", err)...)
	}
}
