package calls

import "github.com/switchboard-dev/switchboard/internal/graph/model"

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
		streams := make([]model.MediaStream, 0, len(p.Modalities))
		for _, m := range p.Modalities {
			streams = append(streams, model.MediaStream{
				ODataType: model.TypeMediaStream, MediaType: m, Direction: model.MediaDirectionSendReceive,
				SourceID: "1", ServerMuted: &muted,
			})
		}
		out = append(out, model.Participant{
			ODataType: model.TypeParticipant, ID: p.ID, Info: &info, IsMuted: &muted, IsInLobby: &lobby,
			MediaStreams: streams, RosterSequenceNumber: &seq,
		})
	}
	return out
}
