package calls

import (
	"context"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// SimAction is something a simulated participant can be told to do now.
type SimAction string

// Simulated participant actions.
const (
	SimAnswer    SimAction = "answer"      // an invited participant answers
	SimReject    SimAction = "reject"      // an invited participant declines as busy
	SimHangUp    SimAction = "hangUp"      // a participant in the call leaves
	SimMute      SimAction = "mute"        // mutes itself
	SimUnmute    SimAction = "unmute"      // unmutes itself
	SimShare     SimAction = "shareScreen" // starts sharing its screen
	SimStopShare SimAction = "stopSharing" // stops sharing its screen
)

// ParseSimAction parses an action name in any letter case.
func ParseSimAction(s string) (SimAction, bool) {
	for _, a := range []SimAction{SimAnswer, SimReject, SimHangUp, SimMute, SimUnmute, SimShare, SimStopShare} {
		if strings.EqualFold(string(a), s) {
			return a, true
		}
	}
	return "", false
}

// lookupAny finds a live call whoever owns it (the administrator's view).
func (s *Service) lookupAny(callID string) (*entry, error) {
	s.mu.RLock()
	e := s.byCall[strings.ToLower(callID)]
	s.mu.RUnlock()
	if e == nil {
		return nil, ErrNotFound
	}
	return e, nil
}

// Simulate makes a simulated participant of the call's conversation act
// now, whatever its configured behaviour: the control API's way to script
// a scenario step by step. Application legs cannot be driven this way.
func (s *Service) Simulate(ctx context.Context, callID, participantID string, action SimAction) error {
	e, err := s.lookupAny(callID)
	if err != nil {
		return err
	}
	return s.update(ctx, e, func(tx *txn) error {
		p := tx.participant(strings.ToLower(participantID))
		if p == nil || p.State == ParticipantLeft {
			return ErrNoSuchItem
		}
		if p.CallID != "" {
			return invalid("participantId", "is an application's leg; applications act through the Graph API")
		}
		if p.Endpoint != EndpointSimulated {
			return invalid("participantId", "is a live %s endpoint; it acts by itself", p.Endpoint)
		}
		tx.dirty = true
		var sig Signal
		switch action {
		case SimAnswer, SimReject:
			if p.State != ParticipantInvited {
				return &ValidationError{Field: "participantId", Reason: "is not being called"}
			}
			tx.removeTimers(p.ID)
			sig = Signal{Kind: SignalAnswered}
			if action == SimReject {
				sig = Signal{Kind: SignalFailed, Result: ResultBusy}
			}
			return tx.signal(p, sig)
		case SimHangUp:
			sig = Signal{Kind: SignalLeft}
		case SimMute:
			sig = Signal{Kind: SignalMuted}
		case SimUnmute:
			sig = Signal{Kind: SignalUnmuted}
		case SimShare:
			sig = Signal{Kind: SignalSharing}
		case SimStopShare:
			sig = Signal{Kind: SignalStopSharing}
		default:
			return invalid("action", "unknown action %q", action)
		}
		if p.State != ParticipantJoined {
			return &ValidationError{Field: "participantId", Reason: "is not in the call"}
		}
		return tx.signal(p, sig)
	})
}

// JoinMeeting makes a simulated identity join the tenant's live meeting
// named by spec's meetingInfo/chatInfo (as a create request names it), and
// returns its participant id.
func (s *Service) JoinMeeting(ctx context.Context, tenantID string, spec model.Call, who model.IdentitySet) (string, error) {
	ref, err := s.JoinMeetingAs(ctx, tenantID, spec, who, EndpointSimulated)
	return ref.Participant, err
}

// JoinMeetingAs is JoinMeeting for an identity reached through an endpoint
// of the given kind: a live one (a phone dialling in) brings its own media
// and acts by itself. On a node of a cluster, a meeting another node holds
// is an *ElsewhereError naming that node (the request belongs there).
func (s *Service) JoinMeetingAs(ctx context.Context, tenantID string, spec model.Call, who model.IdentitySet, endpoint string) (EndpointRef, error) {
	key, passcode, err := MeetingKey(&spec)
	if err != nil {
		return EndpointRef{}, err
	}
	if _, ok := identityKey(&who); !ok {
		return EndpointRef{}, invalid("identity", "must name a user, phone or guest with an id")
	}
	scoped := strings.ToLower(tenantID) + "|" + key
	s.mu.RLock()
	e := s.meetings[scoped]
	s.mu.RUnlock()
	if e == nil && s.clustered() {
		// Another node may hold the meeting: an ElsewhereError names it.
		if err := s.meetingElsewhere(ctx, scoped); err != nil {
			return EndpointRef{}, err
		}
		s.mu.RLock()
		e = s.meetings[scoped]
		s.mu.RUnlock()
	}
	if e == nil {
		return EndpointRef{}, ErrNotFound
	}
	var ref EndpointRef
	err = s.update(ctx, e, func(tx *txn) error {
		if tx.conv.Passcode != "" && tx.conv.Passcode != passcode {
			return invalid("meetingInfo.passcode", "does not match the meeting's passcode")
		}
		p := Participant{ID: newID(), Info: model.ParticipantInfo{Identity: &who}, State: ParticipantInvited,
			Modalities: []model.Modality{model.ModalityAudio}, Endpoint: endpoint}
		if endpoint == EndpointSimulated {
			p.Behaviour = s.cfg.Directory.Behaviour(who)
		}
		tx.conv.Roster = append(tx.conv.Roster, p)
		ref = EndpointRef{Conversation: tx.conv.ID, Participant: p.ID}
		tx.joined(&tx.conv.Roster[len(tx.conv.Roster)-1])
		tx.notifyRoster()
		return nil
	})
	return ref, err
}

// Conversation returns the conversation of a live call, whoever owns it:
// the administrator's view of legs and roster.
func (s *Service) Conversation(callID string) (*Conversation, error) {
	e, err := s.lookupAny(callID)
	if err != nil {
		return nil, err
	}
	return e.view.Load(), nil
}
