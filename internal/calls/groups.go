package calls

import (
	"context"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// MaxRoutingGroups bounds the audio routing groups of one call.
const MaxRoutingGroups = 50

// AudioRoutingGroups lists the caller's call's audio routing groups.
func (s *Service) AudioRoutingGroups(c Caller, callID string) ([]model.AudioRoutingGroup, error) {
	_, leg, err := s.lookup(c, callID)
	if err != nil {
		return nil, err
	}
	return append([]model.AudioRoutingGroup{}, leg.RoutingGroups...), nil
}

// AudioRoutingGroup returns one audio routing group.
func (s *Service) AudioRoutingGroup(c Caller, callID, id string) (model.AudioRoutingGroup, error) {
	groups, err := s.AudioRoutingGroups(c, callID)
	if err != nil {
		return model.AudioRoutingGroup{}, err
	}
	for _, g := range groups {
		if strings.EqualFold(g.ID, id) {
			return g, nil
		}
	}
	return model.AudioRoutingGroup{}, ErrNoSuchItem
}

// CreateAudioRoutingGroup adds an audio routing group; the client may pick
// its id (the docs' examples do), else one is generated. Sources and
// receivers must be participants of the call.
func (s *Service) CreateAudioRoutingGroup(ctx context.Context, c Caller, callID string, g model.AudioRoutingGroup) (model.AudioRoutingGroup, error) {
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		if g.ID == "" {
			g.ID = newID()
		}
		for _, x := range leg.RoutingGroups {
			if strings.EqualFold(x.ID, g.ID) {
				return &conflictError{"an audio routing group with id '" + g.ID + "' exists"}
			}
		}
		if len(leg.RoutingGroups) >= MaxRoutingGroups {
			return &LimitError{What: "audio routing groups", Limit: MaxRoutingGroups}
		}
		if err := tx.checkRoutingGroup(&g); err != nil {
			return err
		}
		leg.RoutingGroups = append(append([]model.AudioRoutingGroup{}, leg.RoutingGroups...), g)
		tx.dirty = true
		return nil
	})
	return g, err
}

// UpdateAudioRoutingGroup changes a group's routingMode, sources or
// receivers (PATCH: properties left out keep their value).
func (s *Service) UpdateAudioRoutingGroup(ctx context.Context, c Caller, callID, id string, patch model.AudioRoutingGroup, has func(string) bool) (model.AudioRoutingGroup, error) {
	var out model.AudioRoutingGroup
	err := s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		groups := append([]model.AudioRoutingGroup{}, leg.RoutingGroups...)
		for i := range groups {
			if !strings.EqualFold(groups[i].ID, id) {
				continue
			}
			g := groups[i]
			if has("routingMode") {
				g.RoutingMode = patch.RoutingMode
			}
			if has("sources") {
				g.Sources = patch.Sources
			}
			if has("receivers") {
				g.Receivers = patch.Receivers
			}
			if err := tx.checkRoutingGroup(&g); err != nil {
				return err
			}
			groups[i] = g
			leg.RoutingGroups = groups
			tx.dirty = true
			out = g
			return nil
		}
		return ErrNoSuchItem
	})
	return out, err
}

// DeleteAudioRoutingGroup removes a group.
func (s *Service) DeleteAudioRoutingGroup(ctx context.Context, c Caller, callID, id string) error {
	return s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		for i, g := range leg.RoutingGroups {
			if strings.EqualFold(g.ID, id) {
				leg.RoutingGroups = append(append([]model.AudioRoutingGroup{}, leg.RoutingGroups[:i]...), leg.RoutingGroups[i+1:]...)
				tx.dirty = true
				return nil
			}
		}
		return ErrNoSuchItem
	})
}

// checkRoutingGroup validates a group against the roster: oneToOne routes
// one source to one receiver; every id must be a participant of the call.
func (tx *txn) checkRoutingGroup(g *model.AudioRoutingGroup) error {
	g.ODataType = model.TypeAudioRoutingGroup
	if g.RoutingMode == "" {
		return invalid("routingMode", "is required: oneToOne or multicast")
	}
	if len(g.Sources) == 0 || len(g.Receivers) == 0 {
		return invalid("sources", "and receivers are required and must not be empty")
	}
	if g.RoutingMode == model.RoutingModeOneToOne && (len(g.Sources) != 1 || len(g.Receivers) != 1) {
		return invalid("routingMode", "oneToOne routes exactly one source to exactly one receiver")
	}
	for field, ids := range map[string][]string{"sources": g.Sources, "receivers": g.Receivers} {
		for i, id := range ids {
			if p := tx.participant(strings.ToLower(id)); p == nil || p.State == ParticipantLeft {
				return invalid(fmtIndex(field, i), "'%s' is not a participant of this call", id)
			}
		}
	}
	return nil
}

type conflictError struct{ msg string }

func (e *conflictError) Error() string        { return "calls: " + e.msg }
func (e *conflictError) Is(target error) bool { return target == ErrConflict }

// ContentSharingSessions lists the screens being shared in the caller's
// call's conversation.
func (s *Service) ContentSharingSessions(c Caller, callID string) ([]model.ContentSharingSession, error) {
	e, _, err := s.lookup(c, callID)
	if err != nil {
		return nil, err
	}
	conv := e.view.Load()
	out := make([]model.ContentSharingSession, 0, len(conv.Shares))
	for _, sh := range conv.Shares {
		out = append(out, model.ContentSharingSession{ODataType: model.TypeContentSharingSession, ID: sh.ID})
	}
	return out, nil
}

// startShare makes a participant share its screen: a content sharing
// session is created (notified to legs that asked for it) and the roster
// shows the screen-sharing stream.
func (tx *txn) startShare(p *Participant) {
	if p.Sharing {
		return
	}
	p.Sharing = true
	tx.touch(p)
	sh := Share{ID: newID(), ParticipantID: p.ID}
	tx.conv.Shares = append(tx.conv.Shares, sh)
	tx.notifyShares(model.ChangeTypeCreated, sh)
	tx.notifyRoster()
}

// stopShare ends a participant's content sharing session, if any.
func (tx *txn) stopShare(pid string) {
	for i, sh := range tx.conv.Shares {
		if sh.ParticipantID == pid {
			tx.conv.Shares = append(tx.conv.Shares[:i:i], tx.conv.Shares[i+1:]...)
			if p := tx.participant(pid); p != nil {
				p.Sharing = false
				tx.touch(p)
			}
			tx.notifyShares(model.ChangeTypeDeleted, sh)
			return
		}
	}
}

// notifyShares tells every established leg that enabled
// isContentSharingNotificationEnabled about a session change (reference
// §4.4: resourceUrl .../contentsharingsessions, an array of sessions).
func (tx *txn) notifyShares(change model.ChangeType, sh Share) {
	data := []model.ContentSharingSession{{ODataType: model.TypeContentSharingSession, ID: sh.ID}}
	for _, leg := range tx.conv.Legs {
		o := leg.Spec.CallOptions
		if leg.State == StateEstablished && o != nil && o.IsContentSharingNotificationEnabled != nil && *o.IsContentSharingNotificationEnabled {
			tx.notify(leg, change, callPath(leg.ID)+"/contentsharingsessions", data)
		}
	}
}

// LogTeleconferenceDeviceQuality accepts a Cloud Video Interop quality
// report. Switchboard validates and logs it; there is nothing to store.
func (s *Service) LogTeleconferenceDeviceQuality(_ context.Context, c Caller, q *model.TeleconferenceDeviceQuality) error {
	if q == nil {
		return invalid("quality", "is required")
	}
	if q.CallChainID == "" || q.ParticipantID == "" || q.MediaLegID == "" {
		return invalid("quality", "needs callChainId, participantId and mediaLegId")
	}
	if !c.has(RoleAccessMedia) {
		return &PermissionError{Action: "logTeleconferenceDeviceQuality", Needed: []string{RoleAccessMedia}}
	}
	s.log.Info("calls: teleconference device quality", "tenant", c.TenantID, "app", c.AppID, "call_chain_id", q.CallChainID,
		"participant_id", q.ParticipantID, "media_leg_id", q.MediaLegID, "device", q.DeviceName, "qualities", len(q.MediaQualityList))
	return nil
}
