package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// EnumError reports a string that is not a member of a Graph enum.
type EnumError struct {
	Enum    string   // Graph name of the enum, e.g. "callState"
	Value   string   // the rejected input
	Allowed []string // canonical spellings of the accepted values
}

// Error says which value was rejected for which enum and lists the allowed ones.
func (e *EnumError) Error() string {
	return fmt.Sprintf("invalid value %q for %s; allowed: %s", e.Value, e.Enum, strings.Join(e.Allowed, ", "))
}

// parseEnum returns the member of values equal to s ignoring letter case.
func parseEnum[T ~string](enum string, values []T, s string) (T, error) {
	for _, v := range values {
		if strings.EqualFold(string(v), s) {
			return v, nil
		}
	}
	allowed := make([]string, len(values))
	for i, v := range values {
		allowed[i] = string(v)
	}
	return "", &EnumError{Enum: enum, Value: s, Allowed: allowed}
}

// parseFlagsEnum parses a comma-separated list of members of a Graph flags
// enum, returning the canonical members joined by ",".
func parseFlagsEnum[T ~string](enum string, values []T, s string) (T, error) {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		v, err := parseEnum(enum, values, strings.TrimSpace(p))
		if err != nil {
			var ee *EnumError
			if errors.As(err, &ee) {
				ee.Value = s
			}
			return "", err
		}
		parts[i] = string(v)
	}
	return T(strings.Join(parts, ",")), nil
}

// unmarshalEnum decodes a JSON string with parse. null and "" decode to the
// zero value, so that an encoded zero value decodes again; any other JSON type
// is a *json.UnmarshalTypeError naming T.
func unmarshalEnum[T ~string](data []byte, dst *T, parse func(string) (T, error)) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return &json.UnmarshalTypeError{Value: ute.Value, Type: reflect.TypeFor[T](), Offset: ute.Offset}
		}
		return err
	}
	if s == "" {
		*dst = ""
		return nil
	}
	if kept, ok := strings.CutPrefix(s, keepMark); ok {
		*dst = T(kept) // marked by DecodeStored: a newer build's value
		return nil
	}
	v, err := parse(s)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// CallState is the state of a call (Graph callState). The zero value means
// unknown or absent.
type CallState string

// CallState values. CallStateRinging is not in the v1.0 schema (beta and the
// docs have it); it is accepted on input and should not be emitted on v1.0.
const (
	CallStateIncoming           CallState = "incoming"
	CallStateEstablishing       CallState = "establishing"
	CallStateRinging            CallState = "ringing"
	CallStateEstablished        CallState = "established"
	CallStateHold               CallState = "hold"
	CallStateTransferring       CallState = "transferring"
	CallStateTransferAccepted   CallState = "transferAccepted"
	CallStateRedirecting        CallState = "redirecting"
	CallStateTerminating        CallState = "terminating"
	CallStateTerminated         CallState = "terminated"
	CallStateUnknownFutureValue CallState = "unknownFutureValue"
)

var callStates = []CallState{
	CallStateIncoming, CallStateEstablishing, CallStateRinging, CallStateEstablished, CallStateHold,
	CallStateTransferring, CallStateTransferAccepted, CallStateRedirecting, CallStateTerminating,
	CallStateTerminated, CallStateUnknownFutureValue,
}

// ParseCallState returns the canonical CallState matching s in any letter case,
// or an *EnumError.
func ParseCallState(s string) (CallState, error) { return parseEnum("callState", callStates, s) }

// String returns the wire spelling.
func (v CallState) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseCallState; null and "" give the zero value.
func (v *CallState) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseCallState) }

// CallDirection is the direction of a call (Graph callDirection). The zero
// value means unknown or absent.
type CallDirection string

// CallDirection values.
const (
	CallDirectionIncoming CallDirection = "incoming"
	CallDirectionOutgoing CallDirection = "outgoing"
)

var callDirections = []CallDirection{CallDirectionIncoming, CallDirectionOutgoing}

// ParseCallDirection returns the canonical CallDirection matching s in any
// letter case, or an *EnumError.
func ParseCallDirection(s string) (CallDirection, error) {
	return parseEnum("callDirection", callDirections, s)
}

// String returns the wire spelling.
func (v CallDirection) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseCallDirection; null and "" give the zero value.
func (v *CallDirection) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseCallDirection)
}

// Modality is a media modality (Graph modality). The zero value means unknown
// or absent.
type Modality string

// Modality values. ModalityUnknown is in the doc text and beta, not in the
// v1.0 schema.
const (
	ModalityUnknown                 Modality = "unknown"
	ModalityAudio                   Modality = "audio"
	ModalityVideo                   Modality = "video"
	ModalityVideoBasedScreenSharing Modality = "videoBasedScreenSharing"
	ModalityData                    Modality = "data"
	ModalityUnknownFutureValue      Modality = "unknownFutureValue"
)

var modalities = []Modality{
	ModalityUnknown, ModalityAudio, ModalityVideo, ModalityVideoBasedScreenSharing, ModalityData,
	ModalityUnknownFutureValue,
}

// ParseModality returns the canonical Modality matching s in any letter case,
// or an *EnumError.
func ParseModality(s string) (Modality, error) { return parseEnum("modality", modalities, s) }

// String returns the wire spelling.
func (v Modality) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseModality; null and "" give the zero value.
func (v *Modality) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseModality) }

// MediaState is the state of a media stream of a call (Graph mediaState). The
// zero value means unknown or absent.
type MediaState string

// MediaState values.
const (
	MediaStateActive             MediaState = "active"
	MediaStateInactive           MediaState = "inactive"
	MediaStateUnknownFutureValue MediaState = "unknownFutureValue"
)

var mediaStates = []MediaState{MediaStateActive, MediaStateInactive, MediaStateUnknownFutureValue}

// ParseMediaState returns the canonical MediaState matching s in any letter
// case, or an *EnumError.
func ParseMediaState(s string) (MediaState, error) { return parseEnum("mediaState", mediaStates, s) }

// String returns the wire spelling.
func (v MediaState) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseMediaState; null and "" give the zero value.
func (v *MediaState) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseMediaState) }

// MediaDirection is the direction of a media stream (Graph mediaDirection).
// The zero value means unknown or absent.
type MediaDirection string

// MediaDirection values.
const (
	MediaDirectionInactive    MediaDirection = "inactive"
	MediaDirectionSendOnly    MediaDirection = "sendOnly"
	MediaDirectionReceiveOnly MediaDirection = "receiveOnly"
	MediaDirectionSendReceive MediaDirection = "sendReceive"
)

var mediaDirections = []MediaDirection{
	MediaDirectionInactive, MediaDirectionSendOnly, MediaDirectionReceiveOnly, MediaDirectionSendReceive,
}

// ParseMediaDirection returns the canonical MediaDirection matching s in any
// letter case, or an *EnumError.
func ParseMediaDirection(s string) (MediaDirection, error) {
	return parseEnum("mediaDirection", mediaDirections, s)
}

// String returns the wire spelling.
func (v MediaDirection) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseMediaDirection; null and "" give the zero value.
func (v *MediaDirection) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseMediaDirection)
}

// EndpointType is the kind of endpoint a participant uses (Graph endpointType).
// The zero value means unknown or absent.
type EndpointType string

// EndpointType values.
const (
	EndpointTypeDefault                   EndpointType = "default"
	EndpointTypeVoicemail                 EndpointType = "voicemail"
	EndpointTypeSkypeForBusiness          EndpointType = "skypeForBusiness"
	EndpointTypeSkypeForBusinessVoipPhone EndpointType = "skypeForBusinessVoipPhone"
	EndpointTypeUnknownFutureValue        EndpointType = "unknownFutureValue"
)

var endpointTypes = []EndpointType{
	EndpointTypeDefault, EndpointTypeVoicemail, EndpointTypeSkypeForBusiness,
	EndpointTypeSkypeForBusinessVoipPhone, EndpointTypeUnknownFutureValue,
}

// ParseEndpointType returns the canonical EndpointType matching s in any
// letter case, or an *EnumError.
func ParseEndpointType(s string) (EndpointType, error) {
	return parseEnum("endpointType", endpointTypes, s)
}

// String returns the wire spelling.
func (v EndpointType) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseEndpointType; null and "" give the zero value.
func (v *EndpointType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseEndpointType)
}

// Tone is a DTMF tone (Graph tone). The zero value means unknown or absent.
type Tone string

// Tone values.
const (
	Tone0     Tone = "tone0"
	Tone1     Tone = "tone1"
	Tone2     Tone = "tone2"
	Tone3     Tone = "tone3"
	Tone4     Tone = "tone4"
	Tone5     Tone = "tone5"
	Tone6     Tone = "tone6"
	Tone7     Tone = "tone7"
	Tone8     Tone = "tone8"
	Tone9     Tone = "tone9"
	ToneStar  Tone = "star"
	TonePound Tone = "pound"
	ToneA     Tone = "a"
	ToneB     Tone = "b"
	ToneC     Tone = "c"
	ToneD     Tone = "d"
	ToneFlash Tone = "flash"
)

var tones = []Tone{
	Tone0, Tone1, Tone2, Tone3, Tone4, Tone5, Tone6, Tone7, Tone8, Tone9,
	ToneStar, TonePound, ToneA, ToneB, ToneC, ToneD, ToneFlash,
}

// ParseTone returns the canonical Tone matching s in any letter case, or an
// *EnumError.
func ParseTone(s string) (Tone, error) { return parseEnum("tone", tones, s) }

// String returns the wire spelling.
func (v Tone) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseTone; null and "" give the zero value.
func (v *Tone) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseTone) }

// ChangeType is the kind of change a notification reports (Graph changeType).
// The zero value means unknown or absent.
type ChangeType string

// ChangeType values.
const (
	ChangeTypeCreated ChangeType = "created"
	ChangeTypeUpdated ChangeType = "updated"
	ChangeTypeDeleted ChangeType = "deleted"
)

var changeTypes = []ChangeType{ChangeTypeCreated, ChangeTypeUpdated, ChangeTypeDeleted}

// ParseChangeType returns the canonical ChangeType matching s in any letter
// case, or an *EnumError.
func ParseChangeType(s string) (ChangeType, error) { return parseEnum("changeType", changeTypes, s) }

// String returns the wire spelling.
func (v ChangeType) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseChangeType; null and "" give the zero value.
func (v *ChangeType) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseChangeType) }

// ScreenSharingRole is the screen-sharing role of the bot (Graph
// screenSharingRole). The zero value means unknown or absent.
type ScreenSharingRole string

// ScreenSharingRole values.
const (
	ScreenSharingRoleViewer ScreenSharingRole = "viewer"
	ScreenSharingRoleSharer ScreenSharingRole = "sharer"
)

var screenSharingRoles = []ScreenSharingRole{ScreenSharingRoleViewer, ScreenSharingRoleSharer}

// ParseScreenSharingRole returns the canonical ScreenSharingRole matching s in
// any letter case, or an *EnumError.
func ParseScreenSharingRole(s string) (ScreenSharingRole, error) {
	return parseEnum("screenSharingRole", screenSharingRoles, s)
}

// String returns the wire spelling.
func (v ScreenSharingRole) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseScreenSharingRole; null and "" give the zero value.
func (v *ScreenSharingRole) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseScreenSharingRole)
}

// RejectReason is why an incoming call or joining participant is rejected
// (Graph rejectReason). The zero value means unknown or absent.
type RejectReason string

// RejectReason values.
const (
	RejectReasonNone               RejectReason = "none"
	RejectReasonBusy               RejectReason = "busy"
	RejectReasonForbidden          RejectReason = "forbidden"
	RejectReasonUnknownFutureValue RejectReason = "unknownFutureValue"
)

var rejectReasons = []RejectReason{
	RejectReasonNone, RejectReasonBusy, RejectReasonForbidden, RejectReasonUnknownFutureValue,
}

// ParseRejectReason returns the canonical RejectReason matching s in any
// letter case, or an *EnumError.
func ParseRejectReason(s string) (RejectReason, error) {
	return parseEnum("rejectReason", rejectReasons, s)
}

// String returns the wire spelling.
func (v RejectReason) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseRejectReason; null and "" give the zero value.
func (v *RejectReason) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseRejectReason)
}
