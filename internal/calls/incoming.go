package calls

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Limits of redirect (reference §1.3 #7).
const (
	MaxRedirectTargets = 25
	MinRedirectTimeout = 15
	MaxRedirectTimeout = 90
	// DefaultRedirectTimeout is how long a redirect's targets ring when
	// the request gives no timeout: Graph documents 55 s.
	DefaultRedirectTimeout = 55 * time.Second
)

// IncomingCall describes a simulated person or phone calling an
// application.
type IncomingCall struct {
	TenantID    string // the application's tenant
	AppID       string // the application called
	CallbackURI string // where the "incoming" notification goes: the application's webhook
	From        model.IdentitySet
	Modalities  []model.Modality // default audio
	// Behaviour is what the caller does once the call is answered
	// (HangUpAfter, MuteAfter, ShareAfter); its Outcome is ignored.
	Behaviour Behaviour
	// ChatInfo and MeetingInfo, when set, make the call an invitation to a
	// meeting: the incoming notification carries them, as Graph's does.
	ChatInfo    *model.ChatInfo
	MeetingInfo *model.MeetingInfo
	// Endpoint is the caller's endpoint kind: EndpointSimulated, or a live
	// kind (EndpointSIP) whose endpoint brings its own media and acts by
	// itself (Behaviour is then ignored).
	Endpoint string
	// ParticipantID, when set, is the caller's participant id: a live
	// endpoint chooses it so that it is ready for the domain's calls
	// before the call exists. It must be unique; empty means a new one.
	ParticipantID string
}

// PlaceIncoming makes a simulated identity call an application: the
// application's webhook gets a "created" notification for a call in state
// incoming, which it must answer, reject or redirect within AnswerWindow.
func (s *Service) PlaceIncoming(ctx context.Context, in IncomingCall) (*Call, error) {
	leg, _, err := s.Incoming(ctx, in)
	return leg, err
}

// Incoming is PlaceIncoming that also returns the caller's participant, for
// the live endpoint that placed the call.
func (s *Service) Incoming(ctx context.Context, in IncomingCall) (*Call, EndpointRef, error) {
	if in.TenantID == "" || in.AppID == "" {
		return nil, EndpointRef{}, invalid("to", "must name an application and its tenant")
	}
	if _, ok := identityKey(&in.From); !ok {
		return nil, EndpointRef{}, invalid("from", "must name a user, phone or guest with an id")
	}
	if err := s.validateCallback(ctx, in.CallbackURI); err != nil {
		return nil, EndpointRef{}, err
	}
	if len(in.Modalities) == 0 {
		in.Modalities = []model.Modality{model.ModalityAudio}
	}
	c := Caller{TenantID: in.TenantID, AppID: in.AppID}
	if err := s.reserve(c); err != nil {
		return nil, EndpointRef{}, err
	}
	now := s.cfg.Clock.Now().UTC()
	from := in.From
	// The caller behaves as its directory rule says (its script, say),
	// with the request's after-answer actions on top.
	var b Behaviour
	if in.Endpoint == EndpointSimulated {
		b = s.cfg.Directory.Behaviour(from)
	}
	if in.Behaviour.HangUpAfter > 0 {
		b.HangUpAfter = in.Behaviour.HangUpAfter
	}
	if in.Behaviour.MuteAfter > 0 {
		b.MuteAfter = in.Behaviour.MuteAfter
	}
	if in.Behaviour.ShareAfter > 0 {
		b.ShareAfter = in.Behaviour.ShareAfter
	}
	if in.ParticipantID == "" {
		in.ParticipantID = newID()
	}
	caller := Participant{ID: in.ParticipantID, Info: model.ParticipantInfo{Identity: &from}, State: ParticipantJoined, Modalities: in.Modalities, Behaviour: b, Endpoint: in.Endpoint}
	appID := in.AppID
	leg := &Call{
		ID: newID(), AppID: in.AppID, TenantID: in.TenantID, ParticipantID: newID(), ChainID: newID(),
		CallbackURI: in.CallbackURI, Direction: "incoming", CreatedAt: now, UpdatedAt: now,
		Spec: model.Call{
			Source:              &model.ParticipantInfo{Identity: &from, ParticipantID: caller.ID},
			Targets:             []model.InvitationParticipantInfo{{Identity: &model.IdentitySet{Application: &model.Identity{ID: appID}}}},
			RequestedModalities: in.Modalities,
			TenantID:            in.TenantID,
			IncomingContext:     &model.IncomingContext{SourceParticipantID: caller.ID},
			ChatInfo:            in.ChatInfo,
			MeetingInfo:         in.MeetingInfo,
		},
	}
	conv := &Conversation{ID: newID(), Kind: KindPeerToPeer, TenantID: in.TenantID, Legs: []*Call{leg}, CreatedAt: now, UpdatedAt: now}
	conv.Roster = []Participant{caller, {ID: leg.ParticipantID, CallID: leg.ID, Info: model.ParticipantInfo{Identity: leg.Spec.Targets[0].Identity}, State: ParticipantInvited, Modalities: in.Modalities}}
	tx := &txn{conv: conv, now: now, dirty: true}
	next, err := Transition(StateUnknown, InputIncoming)
	if err != nil {
		s.release(c)
		return nil, EndpointRef{}, err
	}
	leg.State = next
	// The incoming call notification: changeType created, the whole call.
	res := leg.Resource()
	tx.notify(leg, model.ChangeTypeCreated, callPath(leg.ID), res)
	tx.addTimer(TimerAnswerWindow, leg.ID, now.Add(AnswerWindow))
	if err := s.commitNew(ctx, tx); err != nil {
		s.release(c)
		return nil, EndpointRef{}, err
	}
	s.log.Info("calls: incoming call placed", "call_id", leg.ID, "tenant", in.TenantID, "app", in.AppID)
	return leg, EndpointRef{Conversation: conv.ID, Participant: caller.ID}, nil
}

// commitNew commits a new conversation, tx's working copy, and makes it
// live.
func (s *Service) commitNew(ctx context.Context, tx *txn) error {
	conv := tx.conv
	e := &entry{conv: &Conversation{ID: conv.ID}, timers: make(map[Timer]clock.Timer)}
	e.mu.Lock()
	defer e.mu.Unlock()
	s.mu.RLock()
	closed := s.closed || s.draining
	s.mu.RUnlock()
	if closed {
		return ErrUnavailable
	}
	conv.Lease = s.newLease()
	if err := s.cfg.Store.Commit(context.WithoutCancel(ctx), conv, tx.outbox); err != nil {
		return s.commitFailed(nil, conv, err)
	}
	s.settle(e, tx)
	return nil
}

// Answer answers an incoming call (202): establishing, then established.
// Notifications go to req.CallbackURI from now on when it is set.
func (s *Service) Answer(ctx context.Context, c Caller, callID string, req model.AnswerRequest) error {
	if req.MediaConfig == nil {
		return invalid("mediaConfig", "is required: a serviceHostedMediaConfig or an appHostedMediaConfig")
	}
	if err := s.checkMediaConfig(req.MediaConfig); err != nil {
		return err
	}
	if len(req.AcceptedModalities) == 0 {
		return invalid("acceptedModalities", "is required and must not be empty")
	}
	if req.CallbackURI != "" {
		if err := s.validateCallback(ctx, req.CallbackURI); err != nil {
			return err
		}
	}
	if req.MediaConfig.IsAppHosted() && !c.has(RoleAccessMedia) {
		return &PermissionError{Action: "answering with app-hosted media", Needed: []string{RoleAccessMedia}}
	}
	if err := s.checkMediaBlob(req.MediaConfig); err != nil {
		return err
	}
	return s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if leg.State == StateIncoming && req.CallbackURI != "" {
			leg.CallbackURI = req.CallbackURI
		}
		if err := tx.transition(leg, InputAnswer, nil); err != nil {
			return err
		}
		tx.removeTimers(leg.ID)
		leg.Spec.MediaConfig = req.MediaConfig
		leg.Spec.RequestedModalities = req.AcceptedModalities
		if req.CallOptions != nil {
			leg.Spec.CallOptions = req.CallOptions
		}
		tx.armKeepAlive(leg)
		tx.addTimer(TimerConnect, leg.ID, tx.now)
		return nil
	})
}

// Reject declines an incoming call (202); the caller hears it declined.
func (s *Service) Reject(ctx context.Context, c Caller, callID string, req model.RejectRequest) error {
	if req.CallbackURI != "" {
		if err := s.validateCallback(ctx, req.CallbackURI); err != nil {
			return err
		}
	}
	return s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if leg.State == StateIncoming && req.CallbackURI != "" {
			leg.CallbackURI = req.CallbackURI
		}
		r := rejected(req.Reason)
		if err := tx.transition(leg, InputReject, &r); err != nil {
			return err
		}
		tx.setParticipant(leg.ParticipantID, ParticipantLeft)
		tx.removeTimers(leg.ID)
		tx.afterLegLeft()
		return nil
	})
}

// rejected is the result of an incoming call rejected for the reason.
func rejected(reason model.RejectReason) ResultInfo {
	r := ResultRejected
	if reason != "" {
		r.Message = "The call was rejected by the bot: " + string(reason) + "."
	}
	return r
}

// Redirect sends an incoming call on to other targets (202), ringing them
// all at once; the application's leg ends.
func (s *Service) Redirect(ctx context.Context, c Caller, callID string, req model.RedirectRequest) error {
	if len(req.Targets) == 0 {
		return invalid("targets", "is required and must not be empty")
	}
	if len(req.Targets) > MaxRedirectTargets {
		return invalid("targets", "can ring at most %d targets at once, got %d", MaxRedirectTargets, len(req.Targets))
	}
	for i, t := range req.Targets {
		if _, ok := identityKey(t.Identity); !ok {
			return invalid(fmtIndex("targets", i)+".identity", "must name a user, phone, application or guest with an id")
		}
	}
	if req.Timeout != nil && (*req.Timeout < MinRedirectTimeout || *req.Timeout > MaxRedirectTimeout) {
		return invalid("timeout", "must be between %d and %d seconds", MinRedirectTimeout, MaxRedirectTimeout)
	}
	if !c.has(RoleInitiate) {
		return &PermissionError{Action: "redirect", Needed: []string{RoleInitiate}}
	}
	if req.CallbackURI != "" {
		if err := s.validateCallback(ctx, req.CallbackURI); err != nil {
			return err
		}
	}
	return s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if leg.State == StateIncoming && req.CallbackURI != "" {
			leg.CallbackURI = req.CallbackURI
		}
		if err := tx.transition(leg, InputRedirect, nil); err != nil {
			return err
		}
		tx.removeTimers(leg.ID)
		// A phone that calls is connected to whichever target answers
		// first; a simulated caller's call just goes (it has nobody to
		// talk to once the application is gone).
		caller := tx.participant(leg.Spec.IncomingContext.SourceParticipantID)
		live := caller != nil && caller.Endpoint != EndpointSimulated && caller.State == ParticipantJoined
		ringFor := DefaultRedirectTimeout
		if req.Timeout != nil {
			ringFor = time.Duration(*req.Timeout) * time.Second
		}
		for _, t := range req.Targets {
			p := Participant{ID: newID(), Info: model.ParticipantInfo{Identity: t.Identity}, State: ParticipantInvited, InvitedBy: leg.ID}
			if live {
				p.RingsFor = caller.ID
			}
			tx.conv.Roster = append(tx.conv.Roster, p)
			if live {
				s.ring(tx, &tx.conv.Roster[len(tx.conv.Roster)-1], t.Identity, ringFor)
			}
		}
		tx.addTimer(TimerRedirected, leg.ID, tx.now)
		return nil
	})
}

// redirectAnswered connects a redirected phone to the target that
// answered for it: the other targets stop ringing. (The phone itself is
// accepted by syncEndpoints, after the commit.)
func (tx *txn) redirectAnswered(p *Participant) {
	for i := range tx.conv.Roster {
		if o := &tx.conv.Roster[i]; o.ID != p.ID && o.RingsFor == p.RingsFor && o.State == ParticipantInvited {
			tx.removeTimers(o.ID)
			tx.setParticipant(o.ID, ParticipantLeft)
		}
	}
}
