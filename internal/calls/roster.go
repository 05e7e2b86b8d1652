package calls

import (
	"context"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// MaxInvite is the most participants one invite may call: "At most 5".
const MaxInvite = 5

// Invite calls up to MaxInvite more participants into a group call or
// meeting. It returns a Running inviteParticipantsOperation; the operation
// completes (with a notification) once every invitee has joined or failed,
// and each join is a roster update.
func (s *Service) Invite(ctx context.Context, c Caller, callID string, req model.InviteParticipantsRequest) (model.CommsOperation, error) {
	if len(req.Participants) == 0 {
		return model.CommsOperation{}, invalid("participants", "is required and must not be empty")
	}
	if len(req.Participants) > MaxInvite {
		return model.CommsOperation{}, invalid("participants", "can invite at most %d participants at once, got %d", MaxInvite, len(req.Participants))
	}
	if err := checkClientContext(req.ClientContext); err != nil {
		return model.CommsOperation{}, err
	}
	for i, p := range req.Participants {
		if _, ok := identityKey(p.Identity); !ok {
			return model.CommsOperation{}, invalid(fmtIndex("participants", i)+".identity", "must name a user, phone, application or guest with an id")
		}
		if err := checkIdentityLengths(fmtIndex("participants", i)+".identity", p.Identity); err != nil {
			return model.CommsOperation{}, err
		}
	}
	if !c.has(RoleInitiateGroupCall) && !c.has(RoleJoinGroupCall) {
		return model.CommsOperation{}, &PermissionError{Action: "invite", Needed: []string{RoleInitiateGroupCall}}
	}
	// With replacesCallId the one participant of the application's other,
	// peer-to-peer call moves into this call ("only 1 participant when
	// replacesCallId is set; the rest are ignored"), and that call ends.
	replaces := strings.ToLower(req.Participants[0].ReplacesCallID)
	if replaces != "" {
		req.Participants = req.Participants[:1]
		if strings.EqualFold(replaces, callID) {
			return model.CommsOperation{}, invalid("participants[0].replacesCallId", "names the call being invited into")
		}
	}
	var op model.CommsOperation
	invite := func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "invite"); err != nil {
			return err
		}
		if leg.State != StateEstablished {
			return notEstablished(leg, "invite")
		}
		for i, inv := range req.Participants {
			key, _ := identityKey(inv.Identity)
			for _, p := range tx.conv.Roster {
				if k, ok := identityKey(p.Info.Identity); ok && k == key && p.State != ParticipantLeft {
					return invalid(fmtIndex("participants", i)+".identity", "is already in the call or being invited")
				}
			}
		}
		op = tx.newOperation(leg, model.TypeInviteParticipantsOperation, req.ClientContext, model.OperationStatusRunning)
		op.Participants = req.Participants
		tx.putOperation(leg, op)
		for _, inv := range req.Participants {
			tx.conv.Roster = append(tx.conv.Roster, Participant{
				ID: newID(), Info: model.ParticipantInfo{Identity: inv.Identity}, State: ParticipantInvited,
				InviteOp: op.ID, InvitedBy: leg.ID, Modalities: []model.Modality{model.ModalityAudio},
				Hidden: inv.Hidden != nil && *inv.Hidden,
			})
			p := &tx.conv.Roster[len(tx.conv.Roster)-1]
			if replaces != "" {
				// Already on a call with the application: joins at once.
				p.Behaviour = s.cfg.Directory.Behaviour(*inv.Identity)
				tx.addTimer(TimerAnswer, p.ID, tx.now)
				continue
			}
			s.ring(tx, p, inv.Identity, s.cfg.RingTimeout)
		}
		return nil
	}
	if replaces == "" {
		err := s.onLeg(ctx, c, callID, invite)
		return op, err
	}
	// The peer-to-peer call is dropped once its participant moved, in the
	// same commit: a crash never leaves the participant in both calls.
	notEstablishedCall := invalid("participants[0].replacesCallId", "is not an established call of this application")
	err := s.onLegs(ctx, c, callID, replaces, notEstablishedCall, invite, func(tx *txn, leg *Call) error {
		if leg.State != StateEstablished {
			return notEstablishedCall
		}
		return tx.endLeg(leg, ResultEscalated)
	})
	return op, err
}

// inviteSettled completes an invite operation once none of its invitees is
// still ringing.
func (tx *txn) inviteSettled(opID, legID string) {
	if opID == "" {
		return
	}
	joined := false
	for _, p := range tx.conv.Roster {
		if p.InviteOp != opID {
			continue
		}
		switch p.State {
		case ParticipantInvited:
			return
		case ParticipantJoined:
			joined = true
		}
	}
	leg := tx.conv.Leg(legID)
	if leg == nil {
		return
	}
	if joined {
		tx.finishOperation(leg, opID, true, ResultOperationOK, nil)
	} else {
		tx.finishOperation(leg, opID, false, ResultInviteNoAnswer, nil)
	}
}

// MuteParticipant server-mutes another participant of a group call; the
// returned muteParticipantOperation is Completed and every leg gets a
// roster update.
func (s *Service) MuteParticipant(ctx context.Context, c Caller, callID, pid string, req model.MuteRequest) (model.CommsOperation, error) {
	if err := checkClientContext(req.ClientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "mute participant"); err != nil {
			return err
		}
		p, err := tx.joinedParticipant(pid)
		if err != nil {
			return err
		}
		if !p.Muted {
			p.Muted = true
			tx.touch(p)
			tx.notifyRoster()
		}
		op = tx.newOperation(leg, model.TypeMuteParticipantOperation, req.ClientContext, model.OperationStatusCompleted)
		return nil
	})
	return op, err
}

// SetSelfMute mutes or unmutes the application itself in a group call
// (mute/unmute). The operation is Completed; every leg gets a roster update.
func (s *Service) SetSelfMute(ctx context.Context, c Caller, callID string, mute bool, clientContext *string) (model.CommsOperation, error) {
	if err := checkClientContext(clientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		action, typ := "mute", model.TypeMuteParticipantOperation
		if !mute {
			action, typ = "unmute", model.TypeUnmuteParticipantOperation
		}
		if err := groupOnly(tx.conv, action); err != nil {
			return err
		}
		if leg.State != StateEstablished {
			return notEstablished(leg, action)
		}
		if p := tx.participant(leg.ParticipantID); p != nil && p.Muted != mute {
			p.Muted = mute
			leg.Muted = mute
			tx.touch(p)
			tx.notifyRoster()
		}
		op = tx.newOperation(leg, typ, clientContext, model.OperationStatusCompleted)
		return nil
	})
	return op, err
}

// RemoveParticipant drops a participant from a group call at once, or
// cancels its pending invitation. Another application's leg removed this
// way ends with 200/5300.
func (s *Service) RemoveParticipant(ctx context.Context, c Caller, callID, pid string) error {
	var other string
	var otherAttrs []any
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "removing a participant"); err != nil {
			return err
		}
		p := tx.participant(strings.ToLower(pid))
		if p == nil || p.State == ParticipantLeft || p.Hidden && p.State == ParticipantInvited {
			return ErrNoSuchItem
		}
		if p.CallID == leg.ID {
			return invalid("", "an application cannot remove itself; hang up with DELETE on the call instead")
		}
		if p.CallID != "" {
			other = p.CallID
			otherAttrs = legAttrs(tx.conv, p.CallID)
			if l := tx.conv.Leg(p.CallID); l != nil {
				return tx.endLeg(l, ResultRemovedByApp)
			}
			return nil
		}
		if p.State == ParticipantInvited {
			tx.setParticipant(p.ID, ParticipantLeft)
			tx.removeTimers(p.ID)
			tx.inviteSettled(p.InviteOp, p.InvitedBy)
			return nil
		}
		return tx.participantLeft(p, ResultInfo{})
	})
	if err == nil && other != "" {
		s.log.Info("calls: application leg removed by another participant", append(otherAttrs, "by", callID)...)
	}
	return err
}

// Hold music: "Only one participant can be placed on hold at any given time".

// StartHoldMusic puts a participant of a group call on hold (202 with a
// Running startHoldMusicOperation that completes with a notification).
func (s *Service) StartHoldMusic(ctx context.Context, c Caller, callID, pid string, req model.StartHoldMusicRequest) (model.CommsOperation, error) {
	if err := checkClientContext(req.ClientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "startHoldMusic"); err != nil {
			return err
		}
		p, err := tx.joinedParticipant(pid)
		if err != nil {
			return err
		}
		if p.CallID == leg.ID {
			return invalid("", "an application cannot put itself on hold")
		}
		for _, o := range tx.conv.Roster {
			if o.OnHold {
				if o.ID == p.ID {
					return &ValidationError{Reason: "the participant is already on hold"}
				}
				return &ValidationError{Reason: "another participant is on hold; only one participant can be on hold at a time"}
			}
		}
		p.OnHold = true
		tx.touch(p)
		op = tx.newOperation(leg, model.TypeStartHoldMusicOperation, req.ClientContext, model.OperationStatusRunning)
		tx.completeLater(leg, op.ID, 0)
		return nil
	})
	return op, err
}

// StopHoldMusic takes a participant off hold (202 with a Completed
// stopHoldMusicOperation).
func (s *Service) StopHoldMusic(ctx context.Context, c Caller, callID, pid string, req model.StopHoldMusicRequest) (model.CommsOperation, error) {
	if err := checkClientContext(req.ClientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "stopHoldMusic"); err != nil {
			return err
		}
		p, err := tx.joinedParticipant(pid)
		if err != nil {
			return err
		}
		if !p.OnHold {
			return &ValidationError{Reason: "the participant is not on hold"}
		}
		p.OnHold = false
		tx.touch(p)
		op = tx.newOperation(leg, model.TypeStopHoldMusicOperation, req.ClientContext, model.OperationStatusCompleted)
		return nil
	})
	return op, err
}

// ChangeScreenSharingRole makes the application a screen-sharing viewer or
// sharer (202). Graph: "Only supported for group calls that use App-Hosted
// Media"; every leg gets a roster update.
func (s *Service) ChangeScreenSharingRole(ctx context.Context, c Caller, callID string, role model.ScreenSharingRole) error {
	if role == "" {
		return invalid("role", "is required: viewer or sharer")
	}
	return s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "changeScreenSharingRole"); err != nil {
			return err
		}
		if leg.Spec.MediaConfig == nil || !leg.Spec.MediaConfig.IsAppHosted() {
			return invalid("", "changeScreenSharingRole is supported only for calls with app-hosted media")
		}
		if leg.State != StateEstablished {
			return notEstablished(leg, "changeScreenSharingRole")
		}
		leg.ScreenSharingRole = string(role)
		if p := tx.participant(leg.ParticipantID); p != nil {
			p.Sharing = role == model.ScreenSharingRoleSharer
			tx.touch(p)
		}
		tx.notifyRoster()
		return nil
	})
}

// UpdateRecordingStatus records whether the application records the call;
// the operation is Completed and every leg gets a roster update with the
// application's recordingInfo.
func (s *Service) UpdateRecordingStatus(ctx context.Context, c Caller, callID string, req model.UpdateRecordingStatusRequest) (model.CommsOperation, error) {
	if req.Status == "" {
		return model.CommsOperation{}, invalid("status", "is required: notRecording, recording or failed")
	}
	if err := checkClientContext(req.ClientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if leg.State != StateEstablished {
			return notEstablished(leg, "updateRecordingStatus")
		}
		if p := tx.participant(leg.ParticipantID); p != nil {
			p.Recording = string(req.Status)
			tx.touch(p)
		}
		tx.notifyRoster()
		op = tx.newOperation(leg, model.TypeUpdateRecordingStatusOperation, req.ClientContext, model.OperationStatusCompleted)
		return nil
	})
	return op, err
}

// AddLargeGalleryView adds the large gallery view participant to a group
// call (202 with a Running operation that completes with a notification).
func (s *Service) AddLargeGalleryView(ctx context.Context, c Caller, callID string, req model.AddLargeGalleryViewRequest) (model.CommsOperation, error) {
	if err := checkClientContext(req.ClientContext); err != nil {
		return model.CommsOperation{}, err
	}
	var op model.CommsOperation
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if err := groupOnly(tx.conv, "addLargeGalleryView"); err != nil {
			return err
		}
		if leg.State != StateEstablished {
			return notEstablished(leg, "addLargeGalleryView")
		}
		op = tx.newOperation(leg, model.TypeAddLargeGalleryViewOperation, req.ClientContext, model.OperationStatusRunning)
		lgv := "largeGalleryView"
		name := "Large gallery view"
		tx.conv.Roster = append(tx.conv.Roster, Participant{
			ID: newID(), InvitedBy: leg.ID, State: ParticipantInvited, InviteOp: op.ID,
			Info:       model.ParticipantInfo{Identity: &model.IdentitySet{Application: &model.Identity{ID: lgv, DisplayName: &name}}},
			Modalities: []model.Modality{model.ModalityVideo},
		})
		tx.addTimer(TimerAnswer, tx.conv.Roster[len(tx.conv.Roster)-1].ID, tx.now)
		return nil
	})
	return op, err
}

// joinedParticipant finds a participant that is in the call now.
func (tx *txn) joinedParticipant(pid string) (*Participant, error) {
	p := tx.participant(strings.ToLower(pid))
	if p == nil || p.State != ParticipantJoined || p.Hidden {
		return nil, ErrNoSuchItem
	}
	return p, nil
}

// touch marks a participant changed in the roster sequence.
func (tx *txn) touch(p *Participant) {
	tx.conv.RosterSeq++
	p.Seq = tx.conv.RosterSeq
	tx.dirty = true
}

func notEstablished(leg *Call, action string) error {
	return &stateError{action: action, state: leg.State}
}

type stateError struct {
	action string
	state  State
}

func (e *stateError) Error() string {
	return "calls: " + e.action + " needs an established call; this one is " + e.state.String()
}

func (e *stateError) Is(target error) bool { return target == ErrInvalidState }
