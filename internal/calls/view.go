package calls

import (
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Resource returns the leg as the Graph call resource: what the application
// asked for, with the properties the server owns filled in.
func (l *Call) Resource() model.Call {
	r := l.Spec
	r.ODataType = model.TypeCall
	r.ID = l.ID
	r.State = model.CallState(l.State.String())
	r.Direction = model.CallDirection(l.Direction)
	r.CallbackURI = l.CallbackURI
	r.CallChainID = l.ChainID
	r.MyParticipantID = l.ParticipantID
	if r.TenantID == "" {
		r.TenantID = l.TenantID
	}
	if l.Result != nil {
		r.ResultInfo = l.Result.model()
	}
	return r
}

// rosterView renders the joined participants of a conversation as Graph
// participants.
func rosterView(conv *Conversation) []model.Participant {
	out := make([]model.Participant, 0, len(conv.Roster))
	for _, p := range conv.Roster {
		if p.State != ParticipantJoined {
			continue
		}
		info := p.Info
		info.ODataType = model.TypeParticipantInfo
		info.ParticipantID = p.ID
		muted, lobby, seq := p.Muted, false, p.Seq
		mp := model.Participant{
			ODataType: model.TypeParticipant, ID: p.ID, Info: &info, IsMuted: &muted, IsInLobby: &lobby,
			MediaStreams: mediaStreams(p), RosterSequenceNumber: &seq,
		}
		if p.Recording != "" {
			mp.RecordingInfo = &model.RecordingInfo{ODataType: model.TypeRecordingInfo, RecordingStatus: model.RecordingStatus(p.Recording)}
		}
		out = append(out, mp)
	}
	return out
}

// mediaStreams renders a participant's streams: its modalities, sending and
// receiving, except screen sharing, which it receives unless it is the one
// sharing (then it only sends).
func mediaStreams(p Participant) []model.MediaStream {
	muted := p.Muted
	streams := make([]model.MediaStream, 0, len(p.Modalities)+1)
	add := func(m model.Modality, dir model.MediaDirection) {
		streams = append(streams, model.MediaStream{ODataType: model.TypeMediaStream, MediaType: m, Direction: dir, SourceID: fmt.Sprint(len(streams) + 1), ServerMuted: &muted})
	}
	shared := false
	for _, m := range p.Modalities {
		switch {
		case m == model.ModalityVideoBasedScreenSharing && p.Sharing:
			add(m, model.MediaDirectionSendOnly)
			shared = true
		case m == model.ModalityVideoBasedScreenSharing:
			add(m, model.MediaDirectionReceiveOnly)
		default:
			add(m, model.MediaDirectionSendReceive)
		}
	}
	if p.Sharing && !shared {
		add(model.ModalityVideoBasedScreenSharing, model.MediaDirectionSendOnly)
	}
	return streams
}
