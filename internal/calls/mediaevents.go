package calls

import (
	"context"
	"errors"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// ErrMediaCanceled is what a Media reports for a play that
// cancelMediaProcessing (or a barge-in) stopped.
var ErrMediaCanceled = errors.New("calls: media operation canceled")

// MediaRecording is a finished recordResponse, as the Media reports it.
type MediaRecording struct {
	WAV    []byte                       // 16 kHz 16-bit mono; empty when nothing was recorded
	Reason model.RecordCompletionReason // how it ended
}

// MediaPlayFinished completes a playPrompt operation: Completed, or Failed
// with 400/8508 when canceled and 400/8522 when a prompt could not be
// fetched or decoded.
func (s *Service) MediaPlayFinished(room, legID, opID string, err error) {
	s.mediaUpdate(room, legID, func(tx *txn, leg *Call) {
		switch {
		case err == nil:
			tx.finishOperation(leg, opID, true, ResultOperationOK, nil)
		case errors.Is(err, ErrMediaCanceled):
			tx.finishOperation(leg, opID, false, ResultMediaCanceled, nil)
		default:
			r := ResultPromptFailed
			r.Message += " " + err.Error()
			tx.finishOperation(leg, opID, false, r, nil)
		}
	})
}

// recordResults maps how a recording ended to its resultInfo and whether
// the operation succeeded.
var recordResults = map[model.RecordCompletionReason]struct {
	r  ResultInfo
	ok bool
}{
	model.RecordCompletionReasonStopToneDetected:         {ResultStopTone, true},
	model.RecordCompletionReasonMaxRecordDurationReached: {ResultMaxDuration, true},
	model.RecordCompletionReasonMaxSilenceTimeout:        {ResultMaxSilence, true},
	model.RecordCompletionReasonInitialSilenceTimeout:    {ResultInitialSilence, false},
	model.RecordCompletionReasonOperationCanceled:        {ResultMediaCanceled, false},
	model.RecordCompletionReasonPlayPromptFailed:         {ResultPromptFailed, false},
}

// MediaRecordFinished completes a recordResponse operation. What was
// recorded is saved first and outlives the call; the notification carries
// recordingLocation and recordingAccessToken.
//
// The order is deliberate. The WAV is written (and synced) before the
// command runs, outside the conversation's lock, so that a slow disk holds
// up no other command of the call; the notification that names it commits
// only afterwards, so that a bot never fetches a recording that does not
// exist yet. When the command then finds the call ended, or its commit
// fails, the file is left unnamed until the retention sweep deletes it.
func (s *Service) MediaRecordFinished(room, legID, opID string, rec MediaRecording) {
	res, ok := recordResults[rec.Reason]
	if !ok {
		res.r = ResultInfo{Code: 500, Subcode: 8500, Message: "Action failed: " + string(rec.Reason) + "."}
	}
	var location, token string
	if res.ok && len(rec.WAV) > 0 && s.cfg.Recordings != nil {
		if leg, err := s.legOf(room, legID); err == nil {
			location, token, err = s.cfg.Recordings.Save(context.Background(), leg.TenantID, leg.AppID, leg.ID, opID, rec.WAV)
			if err != nil {
				s.log.Error("calls: saving a recording failed", "call_id", leg.ID, "tenant", leg.TenantID, "app", leg.AppID, "operation", opID, "err", err)
				res = struct {
					r  ResultInfo
					ok bool
				}{ResultInfo{Code: 500, Subcode: 8500, Message: "Action failed, the recording could not be saved."}, false}
			}
		}
	}
	s.mediaUpdate(room, legID, func(tx *txn, leg *Call) {
		tx.finishOperation(leg, opID, res.ok, res.r, func(op *model.CommsOperation) {
			op.RecordingLocation, op.RecordingAccessToken = &location, &token
			reason := string(rec.Reason)
			op.CompletionReason = reason
		})
	})
}

// MediaTonesSent completes a sendDtmfTones operation.
func (s *Service) MediaTonesSent(room, legID, opID string, canceled bool) {
	s.mediaUpdate(room, legID, func(tx *txn, leg *Call) {
		reason := string(model.SendDtmfCompletionReasonCompletedSuccessfully)
		ok, r := true, ResultOperationOK
		if canceled {
			reason, ok, r = string(model.SendDtmfCompletionReasonMediaOperationCanceled), false, ResultMediaCanceled
		}
		tx.finishOperation(leg, opID, ok, r, func(op *model.CommsOperation) { op.CompletionReason = reason })
	})
}

// MediaToneDetected tells a subscribed leg that a DTMF key was pressed: an
// "updated" call notification with toneInfo (reference §3.5), and, as a
// Switchboard extension, who pressed it: the participant id in the OData
// instance annotation toneInfo@switchboard.participantId. toneInfo is a
// closed type in Graph's schema, so the extension stays outside it.
func (s *Service) MediaToneDetected(room, legID string, key rune, from string) {
	s.mediaUpdate(room, legID, func(tx *txn, leg *Call) {
		leg.ToneSeq++
		tx.dirty = true
		info := toneInfo{ODataType: model.TypeToneInfo, SequenceID: leg.ToneSeq, Tone: keyTone(key)}
		data := toneCall{ODataType: model.TypeCall, ODataID: callPath(leg.ID), ID: leg.ID, State: model.CallState(leg.State.String()), PressedBy: from, ToneInfo: info}
		tx.notify(leg, model.ChangeTypeUpdated, callPath(leg.ID), data)
	})
}

type toneInfo struct {
	ODataType  string     `json:"@odata.type"`
	SequenceID int64      `json:"sequenceId"`
	Tone       model.Tone `json:"tone"`
}

// ToneParticipantAnnotation is the instance annotation, on a tone
// notification's toneInfo property, that names the participant who pressed
// the key.
const ToneParticipantAnnotation = "toneInfo@switchboard.participantId"

type toneCall struct {
	ODataType string          `json:"@odata.type"`
	ODataID   string          `json:"@odata.id"`
	ID        string          `json:"id"`
	State     model.CallState `json:"state"`
	// PressedBy annotates ToneInfo (ToneParticipantAnnotation); OData
	// puts a property's annotations just before it.
	PressedBy string   `json:"toneInfo@switchboard.participantId,omitempty"`
	ToneInfo  toneInfo `json:"toneInfo"`
}

// legOf finds a live leg by conversation and call id.
func (s *Service) legOf(room, legID string) (*Call, error) {
	s.mu.RLock()
	e := s.convs[room]
	s.mu.RUnlock()
	if e == nil {
		return nil, ErrNotFound
	}
	if l := e.view.Load().Leg(strings.ToLower(legID)); l != nil {
		return l, nil
	}
	return nil, ErrNotFound
}

// mediaUpdate runs a media event as a command on its conversation. Events
// about conversations that ended meanwhile are dropped.
func (s *Service) mediaUpdate(room, legID string, fn func(tx *txn, leg *Call)) {
	s.mu.RLock()
	e := s.convs[room]
	s.mu.RUnlock()
	if e == nil {
		return
	}
	err := s.update(context.Background(), e, func(tx *txn) error {
		leg := tx.conv.Leg(strings.ToLower(legID))
		if leg == nil || leg.State.Ended() {
			return nil
		}
		fn(tx, leg)
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.Error("calls: media event failed", append(legAttrs(e.view.Load(), legID), "err", err)...)
	}
}

// inMedia says whether a leg takes part in the room's audio.
func inMedia(l *Call) bool {
	if l == nil || (l.Spec.MediaConfig != nil && l.Spec.MediaConfig.IsAppHosted()) {
		return false
	}
	switch l.State {
	case StateEstablished, StateTransferring, StateTransferAccepted:
		return true
	}
	return false
}

// roomLive says whether any application leg of conv is in its audio: a
// service-hosted leg, or an app-hosted one, whose bot hears the call
// through its media stream.
func roomLive(conv *Conversation) bool {
	for _, l := range conv.Legs {
		if inMedia(l) || l.InStream() {
			return true
		}
	}
	return false
}

// InStream says whether l is an app-hosted leg in the call, where its
// media stream (internal/mediastream) takes part in the audio.
func (l *Call) InStream() bool {
	if l == nil || l.Spec.MediaConfig == nil || !l.Spec.MediaConfig.IsAppHosted() {
		return false
	}
	switch l.State {
	case StateEstablished, StateTransferring, StateTransferAccepted:
		return true
	}
	return false
}

// syncMedia tells the Media who entered and left a conversation's audio
// between two committed states.
func (s *Service) syncMedia(old, cur *Conversation) {
	m := s.cfg.Media
	if m == nil {
		return
	}
	for _, l := range cur.Legs {
		was, is := inMedia(old.Leg(l.ID)), inMedia(l)
		switch {
		case is && !was:
			m.AddLeg(cur.ID, l.ID)
			if mc := l.Spec.MediaConfig; mc != nil && len(mc.PreFetchMedia) > 0 {
				m.Prefetch(mediaScope(l), mc.PreFetchMedia)
			}
		case was && !is:
			m.RemoveLeg(cur.ID, l.ID)
		}
	}
	// A simulated person's voice joins the room once an application leg
	// is in it (so an incoming caller's script starts when the call is
	// answered), and leaves when the person leaves.
	oldVoiced := make(map[string]bool, len(old.Roster))
	oldMuted := make(map[string]bool, len(old.Roster))
	if roomLive(old) {
		for _, p := range old.Roster {
			oldVoiced[p.ID] = p.CallID == "" && p.Endpoint == EndpointSimulated && p.State == ParticipantJoined
			oldMuted[p.ID] = p.Muted
		}
	}
	live := roomLive(cur)
	for _, p := range cur.Roster {
		if p.CallID != "" || p.Endpoint != EndpointSimulated {
			continue // live endpoints bring their own media
		}
		is := live && p.State == ParticipantJoined
		switch {
		case is && !oldVoiced[p.ID]:
			m.AddPerson(cur.ID, p.ID, p.Behaviour)
			if p.Muted {
				m.MutePerson(cur.ID, p.ID, true)
			}
		case !is && oldVoiced[p.ID]:
			m.RemovePerson(cur.ID, p.ID)
		case is && p.Muted != oldMuted[p.ID]:
			m.MutePerson(cur.ID, p.ID, p.Muted)
		}
	}
	if old.Live() && !cur.Live() {
		m.CloseRoom(cur.ID)
	}
}

// mediaOperationTypes are the operations that run in the Media and end
// with its events.
var mediaOperationTypes = map[string]bool{
	model.TypePlayPromptOperation: true, model.TypeRecordOperation: true, model.TypeSendDtmfTonesOperation: true,
}

// ResultMediaInterrupted ends media operations that were running when the
// server stopped: the audio they were playing or recording is gone.
var ResultMediaInterrupted = ResultInfo{Code: 500, Subcode: 8500, Message: "Action failed, the server restarted while it was running."}

// failInterruptedMedia fails, with a notification, every media operation
// that was running when the server stopped.
func (s *Service) failInterruptedMedia(e *entry) {
	err := s.update(context.Background(), e, func(tx *txn) error {
		for _, leg := range tx.conv.Legs {
			for _, op := range leg.Operations {
				if mediaOperationTypes[op.ODataType] && !finished(op) {
					tx.finishOperation(leg, op.ID, false, ResultMediaInterrupted, nil)
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.Error("calls: failing interrupted media operations", "err", err)
	}
}
