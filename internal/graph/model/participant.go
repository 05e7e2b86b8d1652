package model

// Participant is a member of a call's roster (Graph participant entity).
type Participant struct {
	ODataType            string                   `json:"@odata.type,omitempty"`
	ID                   string                   `json:"id,omitempty"`
	Info                 *ParticipantInfo         `json:"info,omitempty"`
	IsInLobby            *bool                    `json:"isInLobby,omitempty"`
	IsMuted              *bool                    `json:"isMuted,omitempty"`
	MediaStreams         []MediaStream            `json:"mediaStreams,omitempty"`
	Metadata             *string                  `json:"metadata,omitempty"`
	RecordingInfo        *RecordingInfo           `json:"recordingInfo,omitempty"`
	RemovedState         *RemovedState            `json:"removedState,omitempty"`
	RestrictedExperience *OnlineMeetingRestricted `json:"restrictedExperience,omitempty"`
	RosterSequenceNumber *int64                   `json:"rosterSequenceNumber,omitempty"`
}

// EffectiveType returns ODataType, or TypeParticipant when it is empty.
func (p Participant) EffectiveType() string {
	if p.ODataType != "" {
		return p.ODataType
	}
	return TypeParticipant
}

// MarshalJSON encodes the participant with its EffectiveType as "@odata.type".
func (p Participant) MarshalJSON() ([]byte, error) {
	type alias Participant
	a := alias(p)
	a.ODataType = p.EffectiveType()
	return marshal(a)
}

// ParticipantInfo describes a call party: a call's source, a participant's
// info, a transferee (Graph participantInfo). The docs sometimes label it
// "#microsoft.graph.invitationParticipantInfo"; the label is kept as received.
type ParticipantInfo struct {
	ODataType     string       `json:"@odata.type,omitempty"`
	CountryCode   *string      `json:"countryCode,omitempty"`
	EndpointType  EndpointType `json:"endpointType,omitempty"`
	Identity      *IdentitySet `json:"identity,omitempty"`
	LanguageID    *string      `json:"languageId,omitempty"`
	ParticipantID string       `json:"participantId,omitempty"`
	Region        *string      `json:"region,omitempty"`
	// PlatformID is beta-only.
	PlatformID *string `json:"platformId,omitempty"`
}

// EffectiveType returns ODataType, or TypeParticipantInfo when it is empty.
func (p ParticipantInfo) EffectiveType() string {
	if p.ODataType != "" {
		return p.ODataType
	}
	return TypeParticipantInfo
}

// MarshalJSON encodes the info with its EffectiveType as "@odata.type".
func (p ParticipantInfo) MarshalJSON() ([]byte, error) {
	type alias ParticipantInfo
	a := alias(p)
	a.ODataType = p.EffectiveType()
	return marshal(a)
}

// InvitationParticipantInfo describes a party to call, invite, redirect or
// transfer to (Graph invitationParticipantInfo). ReplacesCallID, when set,
// names the call the target currently is in (consultative transfer, invite
// that replaces a peer-to-peer call).
type InvitationParticipantInfo struct {
	ODataType                          string       `json:"@odata.type,omitempty"`
	Hidden                             *bool        `json:"hidden,omitempty"`
	Identity                           *IdentitySet `json:"identity,omitempty"`
	ParticipantID                      string       `json:"participantId,omitempty"`
	RemoveFromDefaultAudioRoutingGroup *bool        `json:"removeFromDefaultAudioRoutingGroup,omitempty"`
	ReplacesCallID                     string       `json:"replacesCallId,omitempty"`
	// EndpointType is beta-only, but the v1.0 examples send it.
	EndpointType EndpointType `json:"endpointType,omitempty"`
}

// EffectiveType returns ODataType, or TypeInvitationParticipantInfo when it is empty.
func (p InvitationParticipantInfo) EffectiveType() string {
	if p.ODataType != "" {
		return p.ODataType
	}
	return TypeInvitationParticipantInfo
}

// MarshalJSON encodes the info with its EffectiveType as "@odata.type".
func (p InvitationParticipantInfo) MarshalJSON() ([]byte, error) {
	type alias InvitationParticipantInfo
	a := alias(p)
	a.ODataType = p.EffectiveType()
	return marshal(a)
}

// RecordingInfo is a participant's recording state (Graph recordingInfo).
type RecordingInfo struct {
	ODataType       string          `json:"@odata.type,omitempty"`
	Initiator       *IdentitySet    `json:"initiator,omitempty"`
	RecordingStatus RecordingStatus `json:"recordingStatus,omitempty"`
}

// RemovedState says why a participant left the roster (Graph removedState).
type RemovedState struct {
	ODataType string  `json:"@odata.type,omitempty"`
	Reason    *string `json:"reason,omitempty"`
}

// OnlineMeetingRestricted says why media from a participant is restricted
// (Graph onlineMeetingRestricted).
type OnlineMeetingRestricted struct {
	ODataType              string                                    `json:"@odata.type,omitempty"`
	ContentSharingDisabled OnlineMeetingContentSharingDisabledReason `json:"contentSharingDisabled,omitempty"`
	VideoDisabled          OnlineMeetingVideoDisabledReason          `json:"videoDisabled,omitempty"`
}

// AudioRoutingGroup routes audio between participants of a call (Graph
// audioRoutingGroup entity). Sources and Receivers hold participant IDs; the
// client chooses ID when creating the group.
type AudioRoutingGroup struct {
	ODataType   string      `json:"@odata.type,omitempty"`
	ID          string      `json:"id,omitempty"`
	Receivers   []string    `json:"receivers,omitempty"`
	RoutingMode RoutingMode `json:"routingMode,omitempty"`
	Sources     []string    `json:"sources,omitempty"`
}

// EffectiveType returns ODataType, or TypeAudioRoutingGroup when it is empty.
func (g AudioRoutingGroup) EffectiveType() string {
	if g.ODataType != "" {
		return g.ODataType
	}
	return TypeAudioRoutingGroup
}

// MarshalJSON encodes the group with its EffectiveType as "@odata.type".
func (g AudioRoutingGroup) MarshalJSON() ([]byte, error) {
	type alias AudioRoutingGroup
	a := alias(g)
	a.ODataType = g.EffectiveType()
	return marshal(a)
}

// ContentSharingSession is a screen-sharing session in a call (Graph
// contentSharingSession entity).
type ContentSharingSession struct {
	ODataType string `json:"@odata.type,omitempty"`
	ID        string `json:"id,omitempty"`
}

// EffectiveType returns ODataType, or TypeContentSharingSession when it is empty.
func (s ContentSharingSession) EffectiveType() string {
	if s.ODataType != "" {
		return s.ODataType
	}
	return TypeContentSharingSession
}

// MarshalJSON encodes the session with its EffectiveType as "@odata.type".
func (s ContentSharingSession) MarshalJSON() ([]byte, error) {
	type alias ContentSharingSession
	a := alias(s)
	a.ODataType = s.EffectiveType()
	return marshal(a)
}
