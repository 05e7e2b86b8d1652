package calls

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Get returns the caller's call. Ended calls and other applications' calls
// are ErrNotFound.
func (s *Service) Get(_ context.Context, c Caller, callID string) (*Call, error) {
	_, leg, err := s.lookup(c, callID)
	return leg, err
}

// List returns the caller's calls that have not ended, oldest first.
func (s *Service) List(ctx context.Context, c Caller) []*Call {
	if s.clustered() {
		if page, _ := s.ListPage(ctx, c, 0, s.cfg.MaxOpenCalls*maxClusterNodes); page != nil {
			return page
		}
	}
	return s.sortedLegs(c)
}

// maxClusterNodes bounds List with several nodes: each node counts the
// others' calls against MaxOpenCalls only as of its last heartbeat, so an
// application may briefly hold more.
const maxClusterNodes = 64

// Participants returns the roster of the conversation the caller's call is
// in, as Graph shows it: the participants that have joined.
func (s *Service) Participants(_ context.Context, c Caller, callID string) ([]model.Participant, error) {
	e, _, err := s.lookup(c, callID)
	if err != nil {
		return nil, err
	}
	return rosterView(e.view.Load()), nil
}

// HangUp ends the caller's leg, as DELETE /communications/calls/{id} does:
// "terminating", then "terminated" notifications. In a group call the other
// legs go on.
func (s *Service) HangUp(ctx context.Context, c Caller, callID string) error {
	e, _, err := s.lookup(c, callID)
	if err != nil {
		return err
	}
	return s.update(ctx, e, func(tx *txn) error {
		leg := tx.conv.Leg(callID)
		if leg == nil || !owns(c, leg) || leg.State.Ended() {
			return ErrNotFound
		}
		if err := tx.transition(leg, InputHangUp, nil); err != nil {
			return err
		}
		tx.leave(leg)
		return nil
	})
}

// leave ends a hanging-up leg: it leaves the roster and is terminated; a
// conversation left with no application leg ends.
func (tx *txn) leave(leg *Call) {
	r := ResultHungUp
	_ = tx.transition(leg, InputCleared, &r)
	tx.setParticipant(leg.ParticipantID, ParticipantLeft)
	tx.removeTimers(leg.ID)
	tx.afterLegLeft()
}

// transition moves a leg through the state machine and queues the state
// notification. result, when set, becomes the leg's resultInfo.
func (tx *txn) transition(leg *Call, in Input, result *ResultInfo) error {
	next, err := Transition(leg.State, in)
	if err != nil {
		return err
	}
	tx.dirty = true
	if next == leg.State {
		return nil
	}
	leg.State = next
	leg.UpdatedAt = tx.now
	if result != nil {
		r := *result
		leg.Result = &r
	}
	if next.Ended() {
		t := tx.now
		leg.EndedAt = &t
	}
	tx.notifyState(leg)
	return nil
}

func (tx *txn) participant(id string) *Participant {
	for i := range tx.conv.Roster {
		if tx.conv.Roster[i].ID == id {
			return &tx.conv.Roster[i]
		}
	}
	return nil
}

func (tx *txn) setParticipant(id string, st ParticipantState) {
	if p := tx.participant(id); p != nil && p.State != st {
		tx.conv.RosterSeq++
		p.State = st
		p.Seq = tx.conv.RosterSeq
		tx.dirty = true
	}
}

// notifyState queues a call notification for one leg: "updated" with the
// new state, or "deleted" once terminated (reference §4.4).
func (tx *txn) notifyState(leg *Call) {
	data := model.Call{
		ODataType:   model.TypeCall,
		ODataID:     callPath(leg.ID),
		ID:          leg.ID,
		State:       model.CallState(leg.State.String()),
		Direction:   model.CallDirection(leg.Direction),
		CallChainID: leg.ChainID,
		ChatInfo:    leg.Spec.ChatInfo,
		MeetingInfo: leg.Spec.MeetingInfo,
	}
	if leg.Result != nil {
		data.ResultInfo = leg.Result.model()
	}
	change := model.ChangeTypeUpdated
	if leg.State.Ended() {
		change = model.ChangeTypeDeleted
	}
	tx.notify(leg, change, callPath(leg.ID), data)
}

// notifyRoster queues the roster, as an array of participants, to every
// connected leg of a group call or meeting (reference §4.4). Peer-to-peer
// calls get call state notifications only.
func (tx *txn) notifyRoster() {
	if tx.conv.Kind == KindPeerToPeer {
		return
	}
	roster := rosterView(tx.conv)
	for _, leg := range tx.conv.Legs {
		if leg.State == StateEstablished {
			tx.notify(leg, model.ChangeTypeUpdated, callPath(leg.ID)+"/participants", roster)
		}
	}
}

// notify queues one commsNotifications envelope for a leg.
func (tx *txn) notify(leg *Call, change model.ChangeType, resourceURL string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic("calls: notification payload does not encode: " + err.Error()) // model types always encode
	}
	body, err := json.Marshal(model.CommsNotifications{
		ODataType: model.TypeCommsNotifications,
		Value: []model.CommsNotification{{
			ODataType:    model.TypeCommsNotification,
			ChangeType:   change,
			Resource:     "/app/calls/" + resourceURL[len("/communications/calls/"):],
			ResourceURL:  resourceURL,
			CallbackURI:  leg.CallbackURI,
			ResourceData: raw,
		}},
	})
	if err != nil {
		panic("calls: notification envelope does not encode: " + err.Error())
	}
	leg.NotifySeq++
	tx.dirty = true
	tx.outbox = append(tx.outbox, OutboxEntry{
		CallID: leg.ID, Seq: leg.NotifySeq, URL: leg.CallbackURI, Body: body,
		AppID: leg.AppID, TenantID: leg.TenantID, ChainID: leg.ChainID, CreatedAt: tx.now,
	})
}

func callPath(id string) string { return "/communications/calls/" + id }

func (r *ResultInfo) model() *model.ResultInfo {
	m := r.Message
	return &model.ResultInfo{ODataType: model.TypeResultInfo, Code: r.Code, Subcode: r.Subcode, Message: &m}
}

func fmtIndex(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
