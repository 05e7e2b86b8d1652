package model

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
)

// Call is the Graph call entity as it travels in requests, responses and
// notifications. Notifications carry only the properties that changed, so
// every property is optional; the zero value is an empty call.
//
// RingingTimeoutInSeconds, AnsweredBy, ActiveModalities, RoutingPolicies,
// TerminationReason and MeetingCapability exist in beta only; StripBeta
// clears them.
type Call struct {
	ODataType string `json:"@odata.type,omitempty"`
	ODataID   string `json:"@odata.id,omitempty"`
	ODataEtag string `json:"@odata.etag,omitempty"`

	ID                     string                      `json:"id,omitempty"`
	State                  CallState                   `json:"state,omitempty"`
	Direction              CallDirection               `json:"direction,omitempty"`
	CallbackURI            string                      `json:"callbackUri,omitempty"`
	CallChainID            string                      `json:"callChainId,omitempty"`
	MyParticipantID        string                      `json:"myParticipantId,omitempty"`
	TenantID               string                      `json:"tenantId,omitempty"`
	Subject                *string                     `json:"subject,omitempty"`
	Source                 *ParticipantInfo            `json:"source,omitempty"`
	Targets                []InvitationParticipantInfo `json:"targets,omitempty"`
	RequestedModalities    []Modality                  `json:"requestedModalities,omitempty"`
	MediaConfig            *MediaConfig                `json:"mediaConfig,omitempty"`
	MediaState             *CallMediaState             `json:"mediaState,omitempty"`
	CallOptions            *CallOptions                `json:"callOptions,omitempty"`
	ChatInfo               *ChatInfo                   `json:"chatInfo,omitempty"`
	MeetingInfo            *MeetingInfo                `json:"meetingInfo,omitempty"`
	IncomingContext        *IncomingContext            `json:"incomingContext,omitempty"`
	CallRoutes             []CallRoute                 `json:"callRoutes,omitempty"`
	ResultInfo             *ResultInfo                 `json:"resultInfo,omitempty"`
	ToneInfo               *ToneInfo                   `json:"toneInfo,omitempty"`
	Transcription          *CallTranscriptionInfo      `json:"transcription,omitempty"`
	Participants           []Participant               `json:"participants,omitempty"`
	Operations             []CommsOperation            `json:"operations,omitempty"`
	AudioRoutingGroups     []AudioRoutingGroup         `json:"audioRoutingGroups,omitempty"`
	ContentSharingSessions []ContentSharingSession     `json:"contentSharingSessions,omitempty"`

	// Beta-only properties.
	RingingTimeoutInSeconds *int32             `json:"ringingTimeoutInSeconds,omitempty"`
	AnsweredBy              *ParticipantInfo   `json:"answeredBy,omitempty"`
	ActiveModalities        []Modality         `json:"activeModalities,omitempty"`
	RoutingPolicies         []RoutingPolicy    `json:"routingPolicies,omitempty"`
	TerminationReason       *string            `json:"terminationReason,omitempty"`
	MeetingCapability       *MeetingCapability `json:"meetingCapability,omitempty"`
}

// EffectiveType returns ODataType, or TypeCall when it is empty.
func (c Call) EffectiveType() string {
	if c.ODataType != "" {
		return c.ODataType
	}
	return TypeCall
}

// MarshalJSON encodes the call with its EffectiveType as "@odata.type".
func (c Call) MarshalJSON() ([]byte, error) {
	type alias Call
	a := alias(c)
	a.ODataType = c.EffectiveType()
	return marshal(a)
}

// StripBeta clears the properties that exist only in the beta schema, so that
// a call rendered for /v1.0 carries v1.0 properties only. It does not touch
// State: mapping CallStateRinging is the caller's decision.
func (c *Call) StripBeta() {
	c.RingingTimeoutInSeconds = nil
	c.AnsweredBy = nil
	c.ActiveModalities = nil
	c.RoutingPolicies = nil
	c.TerminationReason = nil
	c.MeetingCapability = nil
}

// CallOptions is Graph callOptions flattened with incomingCallOptions (sent
// with answer) and outgoingCallOptions (sent with create).
type CallOptions struct {
	ODataType                           string `json:"@odata.type,omitempty"`
	HideBotAfterEscalation              *bool  `json:"hideBotAfterEscalation,omitempty"`
	IsContentSharingNotificationEnabled *bool  `json:"isContentSharingNotificationEnabled,omitempty"`
	IsDeltaRosterEnabled                *bool  `json:"isDeltaRosterEnabled,omitempty"`
	IsInteractiveRosterEnabled          *bool  `json:"isInteractiveRosterEnabled,omitempty"`
}

// EffectiveType returns ODataType, or the base TypeCallOptions when it is
// empty: the fields do not tell incoming from outgoing options.
func (o CallOptions) EffectiveType() string {
	if o.ODataType != "" {
		return o.ODataType
	}
	return TypeCallOptions
}

// MarshalJSON encodes the options with their EffectiveType as "@odata.type".
func (o CallOptions) MarshalJSON() ([]byte, error) {
	type alias CallOptions
	a := alias(o)
	a.ODataType = o.EffectiveType()
	return marshal(a)
}

// ChatInfo identifies the Teams chat thread of a meeting (Graph chatInfo).
type ChatInfo struct {
	ODataType           string  `json:"@odata.type,omitempty"`
	ThreadID            string  `json:"threadId,omitempty"`
	MessageID           string  `json:"messageId,omitempty"`
	ReplyChainMessageID *string `json:"replyChainMessageId,omitempty"`
}

// MeetingInfo is Graph meetingInfo flattened with organizerMeetingInfo
// (Organizer), tokenMeetingInfo (Token) and joinMeetingIdMeetingInfo
// (JoinMeetingID, Passcode).
type MeetingInfo struct {
	ODataType string `json:"@odata.type,omitempty"`
	// Organizer belongs to organizerMeetingInfo.
	Organizer *IdentitySet `json:"organizer,omitempty"`
	// AllowConversationWithoutHost belongs to beta organizerMeetingInfo; the
	// v1.0 examples send it too.
	AllowConversationWithoutHost *bool `json:"allowConversationWithoutHost,omitempty"`
	// Token belongs to tokenMeetingInfo.
	Token string `json:"token,omitempty"`
	// JoinMeetingID and Passcode belong to joinMeetingIdMeetingInfo.
	JoinMeetingID string  `json:"joinMeetingId,omitempty"`
	Passcode      *string `json:"passcode,omitempty"`
}

// EffectiveType returns ODataType or, when it is empty, the subtype the
// fields imply (join meeting ID, then token, then organizer), falling back to
// the base TypeMeetingInfo.
func (m MeetingInfo) EffectiveType() string {
	switch {
	case m.ODataType != "":
		return m.ODataType
	case m.JoinMeetingID != "":
		return TypeJoinMeetingIDMeetingInfo
	case m.Token != "":
		return TypeTokenMeetingInfo
	case m.Organizer != nil:
		return TypeOrganizerMeetingInfo
	default:
		return TypeMeetingInfo
	}
}

// MarshalJSON encodes the meeting info with its EffectiveType as "@odata.type".
func (m MeetingInfo) MarshalJSON() ([]byte, error) {
	type alias MeetingInfo
	a := alias(m)
	a.ODataType = m.EffectiveType()
	return marshal(a)
}

// MeetingCapability is the beta-only capability set of a meeting (Graph
// meetingCapability).
type MeetingCapability struct {
	ODataType                         string                `json:"@odata.type,omitempty"`
	AllowAnonymousUsersToDialOut      *bool                 `json:"allowAnonymousUsersToDialOut,omitempty"`
	AllowAnonymousUsersToStartMeeting *bool                 `json:"allowAnonymousUsersToStartMeeting,omitempty"`
	AutoAdmittedUsers                 AutoAdmittedUsersType `json:"autoAdmittedUsers,omitempty"`
}

// CallRoute says how a call was retargeted (Graph callRoute).
type CallRoute struct {
	ODataType   string       `json:"@odata.type,omitempty"`
	Final       *IdentitySet `json:"final,omitempty"`
	Original    *IdentitySet `json:"original,omitempty"`
	RoutingType RoutingType  `json:"routingType,omitempty"`
}

// IncomingContext is the context of an incoming call (Graph incomingContext).
type IncomingContext struct {
	ODataType             string       `json:"@odata.type,omitempty"`
	ObservedParticipantID string       `json:"observedParticipantId,omitempty"`
	OnBehalfOf            *IdentitySet `json:"onBehalfOf,omitempty"`
	SourceParticipantID   string       `json:"sourceParticipantId,omitempty"`
	Transferor            *IdentitySet `json:"transferor,omitempty"`
}

// CallTranscriptionInfo is the transcription state of a call (Graph
// callTranscriptionInfo). LastModifiedDateTime is RFC 3339 on the wire.
type CallTranscriptionInfo struct {
	ODataType            string                 `json:"@odata.type,omitempty"`
	LastModifiedDateTime *time.Time             `json:"lastModifiedDateTime,omitempty"`
	State                CallTranscriptionState `json:"state,omitempty"`
}

// UnmarshalJSON decodes the info; a lastModifiedDateTime that is not a JSON
// string is a *json.UnmarshalTypeError (time.Time alone reports a plain error).
func (t *CallTranscriptionInfo) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || data[0] != '{' {
		return &json.UnmarshalTypeError{Value: jsonKind(data), Type: reflect.TypeFor[CallTranscriptionInfo]()}
	}
	type alias CallTranscriptionInfo
	var w struct {
		*alias
		LastModifiedDateTime json.RawMessage `json:"lastModifiedDateTime"`
	}
	w.alias = (*alias)(t)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	t.LastModifiedDateTime = nil
	switch raw := w.LastModifiedDateTime; {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		var ts time.Time
		if err := ts.UnmarshalJSON(raw); err != nil {
			return err
		}
		t.LastModifiedDateTime = &ts
	default:
		return &json.UnmarshalTypeError{
			Value: jsonKind(raw), Type: reflect.TypeFor[time.Time](), Field: "lastModifiedDateTime",
		}
	}
	return nil
}
