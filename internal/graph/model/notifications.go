package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrUnknownResource is returned by DecodeResource when neither the item's
// "@odata.type" nor the notification's resource URL names a known entity.
var ErrUnknownResource = errors.New("model: unknown notification resource")

// CommsNotifications is the envelope Graph POSTs to a bot's callback URI
// (Graph commsNotifications).
type CommsNotifications struct {
	ODataType string              `json:"@odata.type,omitempty"`
	Value     []CommsNotification `json:"value"`
}

// EffectiveType returns ODataType, or TypeCommsNotifications when it is empty.
func (n CommsNotifications) EffectiveType() string {
	if n.ODataType != "" {
		return n.ODataType
	}
	return TypeCommsNotifications
}

// MarshalJSON encodes the envelope with its EffectiveType as "@odata.type";
// a nil Value encodes as [].
func (n CommsNotifications) MarshalJSON() ([]byte, error) {
	type alias CommsNotifications
	a := alias(n)
	a.ODataType = n.EffectiveType()
	if a.Value == nil {
		a.Value = []CommsNotification{}
	}
	return marshal(a)
}

// CommsNotification reports one change of a call resource (Graph
// commsNotification). ResourceData is an entity object or an array of them;
// ResourceItems and DecodeResource take it apart. Resource is the legacy
// "/app/calls/..." path some payloads still carry.
type CommsNotification struct {
	ODataType    string          `json:"@odata.type,omitempty"`
	ChangeType   ChangeType      `json:"changeType,omitempty"`
	Resource     string          `json:"resource,omitempty"`
	ResourceURL  string          `json:"resourceUrl,omitempty"`
	CallbackURI  string          `json:"callbackUri,omitempty"`
	ResourceData json.RawMessage `json:"resourceData,omitempty"`
}

// NewCommsNotification returns a notification whose ResourceData is data
// encoded as JSON (an entity, or a slice of entities for collections).
func NewCommsNotification(change ChangeType, resourceURL string, data any) (CommsNotification, error) {
	raw, err := marshal(data)
	if err != nil {
		return CommsNotification{}, fmt.Errorf("model: encode resourceData: %w", err)
	}
	return CommsNotification{ChangeType: change, ResourceURL: resourceURL, ResourceData: raw}, nil
}

// EffectiveType returns ODataType, or TypeCommsNotification when it is empty.
func (n CommsNotification) EffectiveType() string {
	if n.ODataType != "" {
		return n.ODataType
	}
	return TypeCommsNotification
}

// MarshalJSON encodes the notification with its EffectiveType as "@odata.type".
func (n CommsNotification) MarshalJSON() ([]byte, error) {
	type alias CommsNotification
	a := alias(n)
	a.ODataType = n.EffectiveType()
	return marshal(a)
}

// ResourceItems splits ResourceData into entity objects: an object gives one
// item, an array its elements, absent or null none. Any other JSON value is a
// *json.UnmarshalTypeError.
func (n CommsNotification) ResourceItems() ([]json.RawMessage, error) {
	data := bytes.TrimSpace(n.ResourceData)
	switch {
	case len(data) == 0 || string(data) == "null":
		return nil, nil
	case data[0] == '{':
		return []json.RawMessage{data}, nil
	case data[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, err
		}
		return items, nil
	default:
		return nil, &json.UnmarshalTypeError{
			Value: jsonKind(data), Type: reflect.TypeFor[json.RawMessage](), Field: "resourceData",
		}
	}
}

// Resources decodes every item of ResourceData with DecodeResource.
func (n CommsNotification) Resources() ([]any, error) {
	items, err := n.ResourceItems()
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	for _, item := range items {
		v, err := DecodeResource(item, n.ResourceURL)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// DecodeResource decodes one resourceData item into the entity its
// "@odata.type" names or, when it has none, the entity resourceURL points at.
// The result is a *Call, *Participant, *CommsOperation,
// *ContentSharingSession, *AudioRoutingGroup, *ParticipantJoiningNotification
// or *ParticipantLeftNotification; anything else is ErrUnknownResource.
func DecodeResource(item json.RawMessage, resourceURL string) (any, error) {
	kind := ODataTypeOf(item)
	if kind == "" {
		kind = typeFromResourceURL(resourceURL)
	}
	var v any
	switch {
	case MatchesType(kind, TypeCall):
		v = &Call{}
	case MatchesType(kind, TypeParticipant):
		v = &Participant{}
	case IsOperationType(kind):
		v = &CommsOperation{}
	case MatchesType(kind, TypeContentSharingSession):
		v = &ContentSharingSession{}
	case MatchesType(kind, TypeAudioRoutingGroup):
		v = &AudioRoutingGroup{}
	case MatchesType(kind, TypeParticipantJoiningNotification):
		v = &ParticipantJoiningNotification{}
	case MatchesType(kind, TypeParticipantLeftNotification):
		v = &ParticipantLeftNotification{}
	default:
		return nil, fmt.Errorf("%w: type %q, resource %q", ErrUnknownResource, kind, resourceURL)
	}
	if err := json.Unmarshal(item, v); err != nil {
		return nil, err
	}
	return v, nil
}

// ODataTypeOf returns the "@odata.type" of a JSON object, or "" when data is
// not an object or has none.
func ODataTypeOf(data json.RawMessage) string {
	var probe struct {
		ODataType string `json:"@odata.type"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return ""
	}
	return probe.ODataType
}

// typeFromResourceURL maps a notification resource path to the discriminator
// of the entity it addresses, or "" when the path is not a calls resource.
func typeFromResourceURL(resourceURL string) string {
	var segs []string
	for s := range strings.SplitSeq(resourceURL, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	calls := -1
	for i, s := range segs {
		if strings.EqualFold(s, "calls") {
			calls = i
		}
	}
	if calls < 0 || calls+1 >= len(segs) {
		return ""
	}
	rest := segs[calls+1:]
	if len(rest) == 1 {
		return TypeCall
	}
	switch strings.ToLower(rest[1]) {
	case "participants":
		return TypeParticipant
	case "operations":
		return TypeCommsOperation
	case "contentsharingsessions":
		return TypeContentSharingSession
	case "audioroutinggroups":
		return TypeAudioRoutingGroup
	}
	return ""
}

// ParticipantJoiningNotification announces, in policy-based recording, a
// participant joining a call the bot already records (Graph
// participantJoiningNotification). The bot answers in the HTTP response body
// with a ParticipantJoiningResponse.
type ParticipantJoiningNotification struct {
	ODataType string `json:"@odata.type,omitempty"`
	ID        string `json:"id,omitempty"`
	Call      *Call  `json:"call,omitempty"`
}

// EffectiveType returns ODataType, or TypeParticipantJoiningNotification when it is empty.
func (n ParticipantJoiningNotification) EffectiveType() string {
	if n.ODataType != "" {
		return n.ODataType
	}
	return TypeParticipantJoiningNotification
}

// MarshalJSON encodes the notification with its EffectiveType as "@odata.type".
func (n ParticipantJoiningNotification) MarshalJSON() ([]byte, error) {
	type alias ParticipantJoiningNotification
	a := alias(n)
	a.ODataType = n.EffectiveType()
	return marshal(a)
}

// ParticipantLeftNotification announces, in policy-based recording, that a
// recorded participant left (Graph participantLeftNotification).
type ParticipantLeftNotification struct {
	ODataType     string `json:"@odata.type,omitempty"`
	ID            string `json:"id,omitempty"`
	ParticipantID string `json:"participantId,omitempty"`
	Call          *Call  `json:"call,omitempty"`
}

// EffectiveType returns ODataType, or TypeParticipantLeftNotification when it is empty.
func (n ParticipantLeftNotification) EffectiveType() string {
	if n.ODataType != "" {
		return n.ODataType
	}
	return TypeParticipantLeftNotification
}

// MarshalJSON encodes the notification with its EffectiveType as "@odata.type".
func (n ParticipantLeftNotification) MarshalJSON() ([]byte, error) {
	type alias ParticipantLeftNotification
	a := alias(n)
	a.ODataType = n.EffectiveType()
	return marshal(a)
}

// ParticipantJoiningResponse is Graph participantJoiningResponse flattened
// with acceptJoinResponse (no fields), rejectJoinResponse (Reason) and
// inviteNewBotResponse (InviteURI): the bot's answer to a
// ParticipantJoiningNotification.
type ParticipantJoiningResponse struct {
	ODataType string       `json:"@odata.type,omitempty"`
	Reason    RejectReason `json:"reason,omitempty"`
	InviteURI *string      `json:"inviteUri,omitempty"`
}

// EffectiveType returns ODataType or, when it is empty, the subtype the
// fields imply: inviteNewBotResponse with InviteURI, rejectJoinResponse with
// Reason, acceptJoinResponse otherwise.
func (r ParticipantJoiningResponse) EffectiveType() string {
	switch {
	case r.ODataType != "":
		return r.ODataType
	case r.InviteURI != nil:
		return TypeInviteNewBotResponse
	case r.Reason != "":
		return TypeRejectJoinResponse
	default:
		return TypeAcceptJoinResponse
	}
}

// MarshalJSON encodes the response with its EffectiveType as "@odata.type".
func (r ParticipantJoiningResponse) MarshalJSON() ([]byte, error) {
	type alias ParticipantJoiningResponse
	a := alias(r)
	a.ODataType = r.EffectiveType()
	return marshal(a)
}
