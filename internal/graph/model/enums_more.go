package model

// OperationStatus is the status of a commsOperation (Graph operationStatus).
// The zero value means unknown or absent.
//
// The canonical spellings are PascalCase, as in the v1.0 CSDL: the official Go
// SDK decodes only those, although the docs' examples write lowercase.
type OperationStatus string

// OperationStatus values.
const (
	OperationStatusNotStarted OperationStatus = "NotStarted"
	OperationStatusRunning    OperationStatus = "Running"
	OperationStatusCompleted  OperationStatus = "Completed"
	OperationStatusFailed     OperationStatus = "Failed"
)

var operationStatuses = []OperationStatus{
	OperationStatusNotStarted, OperationStatusRunning, OperationStatusCompleted, OperationStatusFailed,
}

// ParseOperationStatus returns the canonical OperationStatus matching s in any
// letter case ("running" gives "Running"), or an *EnumError.
func ParseOperationStatus(s string) (OperationStatus, error) {
	return parseEnum("operationStatus", operationStatuses, s)
}

// String returns the wire spelling.
func (v OperationStatus) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseOperationStatus; null and "" give the zero value.
func (v *OperationStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseOperationStatus)
}

// IsFinal reports whether the status is Completed or Failed, after which Graph
// sends no further notification for the operation.
func (v OperationStatus) IsFinal() bool {
	return v == OperationStatusCompleted || v == OperationStatusFailed
}

// RecordingStatus is the recording status of a participant or call (Graph
// recordingStatus). The zero value means unknown or absent.
type RecordingStatus string

// RecordingStatus values.
const (
	RecordingStatusUnknown            RecordingStatus = "unknown"
	RecordingStatusNotRecording       RecordingStatus = "notRecording"
	RecordingStatusRecording          RecordingStatus = "recording"
	RecordingStatusFailed             RecordingStatus = "failed"
	RecordingStatusUnknownFutureValue RecordingStatus = "unknownFutureValue"
)

var recordingStatuses = []RecordingStatus{
	RecordingStatusUnknown, RecordingStatusNotRecording, RecordingStatusRecording, RecordingStatusFailed,
	RecordingStatusUnknownFutureValue,
}

// ParseRecordingStatus returns the canonical RecordingStatus matching s in any
// letter case, or an *EnumError.
func ParseRecordingStatus(s string) (RecordingStatus, error) {
	return parseEnum("recordingStatus", recordingStatuses, s)
}

// String returns the wire spelling.
func (v RecordingStatus) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseRecordingStatus; null and "" give the zero value.
func (v *RecordingStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseRecordingStatus)
}

// RoutingType is how a call was retargeted (Graph routingType). The zero value
// means unknown or absent.
type RoutingType string

// RoutingType values.
const (
	RoutingTypeForwarded          RoutingType = "forwarded"
	RoutingTypeLookup             RoutingType = "lookup"
	RoutingTypeSelfFork           RoutingType = "selfFork"
	RoutingTypeUnknownFutureValue RoutingType = "unknownFutureValue"
)

var routingTypes = []RoutingType{
	RoutingTypeForwarded, RoutingTypeLookup, RoutingTypeSelfFork, RoutingTypeUnknownFutureValue,
}

// ParseRoutingType returns the canonical RoutingType matching s in any letter
// case, or an *EnumError.
func ParseRoutingType(s string) (RoutingType, error) {
	return parseEnum("routingType", routingTypes, s)
}

// String returns the wire spelling.
func (v RoutingType) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseRoutingType; null and "" give the zero value.
func (v *RoutingType) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseRoutingType) }

// RoutingMode is the mode of an audio routing group (Graph routingMode). The
// zero value means unknown or absent.
type RoutingMode string

// RoutingMode values.
const (
	RoutingModeOneToOne           RoutingMode = "oneToOne"
	RoutingModeMulticast          RoutingMode = "multicast"
	RoutingModeUnknownFutureValue RoutingMode = "unknownFutureValue"
)

var routingModes = []RoutingMode{RoutingModeOneToOne, RoutingModeMulticast, RoutingModeUnknownFutureValue}

// ParseRoutingMode returns the canonical RoutingMode matching s in any letter
// case, or an *EnumError.
func ParseRoutingMode(s string) (RoutingMode, error) {
	return parseEnum("routingMode", routingModes, s)
}

// String returns the wire spelling.
func (v RoutingMode) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseRoutingMode; null and "" give the zero value.
func (v *RoutingMode) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, v, ParseRoutingMode) }

// CallTranscriptionState is the transcription state of a call (Graph
// callTranscriptionState). The zero value means unknown or absent.
type CallTranscriptionState string

// CallTranscriptionState values.
const (
	CallTranscriptionStateNotStarted         CallTranscriptionState = "notStarted"
	CallTranscriptionStateActive             CallTranscriptionState = "active"
	CallTranscriptionStateInactive           CallTranscriptionState = "inactive"
	CallTranscriptionStateUnknownFutureValue CallTranscriptionState = "unknownFutureValue"
)

var callTranscriptionStates = []CallTranscriptionState{
	CallTranscriptionStateNotStarted, CallTranscriptionStateActive, CallTranscriptionStateInactive,
	CallTranscriptionStateUnknownFutureValue,
}

// ParseCallTranscriptionState returns the canonical CallTranscriptionState
// matching s in any letter case, or an *EnumError.
func ParseCallTranscriptionState(s string) (CallTranscriptionState, error) {
	return parseEnum("callTranscriptionState", callTranscriptionStates, s)
}

// String returns the wire spelling.
func (v CallTranscriptionState) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseCallTranscriptionState; null and "" give the zero value.
func (v *CallTranscriptionState) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseCallTranscriptionState)
}

// SendDtmfCompletionReason is how a sendDtmfTones operation ended (Graph
// sendDtmfCompletionReason). The zero value means unknown or absent.
type SendDtmfCompletionReason string

// SendDtmfCompletionReason values.
const (
	SendDtmfCompletionReasonUnknown                SendDtmfCompletionReason = "unknown"
	SendDtmfCompletionReasonCompletedSuccessfully  SendDtmfCompletionReason = "completedSuccessfully"
	SendDtmfCompletionReasonMediaOperationCanceled SendDtmfCompletionReason = "mediaOperationCanceled"
	SendDtmfCompletionReasonUnknownFutureValue     SendDtmfCompletionReason = "unknownFutureValue"
)

var sendDtmfCompletionReasons = []SendDtmfCompletionReason{
	SendDtmfCompletionReasonUnknown, SendDtmfCompletionReasonCompletedSuccessfully,
	SendDtmfCompletionReasonMediaOperationCanceled, SendDtmfCompletionReasonUnknownFutureValue,
}

// ParseSendDtmfCompletionReason returns the canonical SendDtmfCompletionReason
// matching s in any letter case, or an *EnumError.
func ParseSendDtmfCompletionReason(s string) (SendDtmfCompletionReason, error) {
	return parseEnum("sendDtmfCompletionReason", sendDtmfCompletionReasons, s)
}

// String returns the wire spelling.
func (v SendDtmfCompletionReason) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseSendDtmfCompletionReason; null and "" give the zero value.
func (v *SendDtmfCompletionReason) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseSendDtmfCompletionReason)
}

// RecordCompletionReason is how a recordResponse operation ended (beta Graph
// recordCompletionReason). The zero value means unknown or absent.
type RecordCompletionReason string

// RecordCompletionReason values.
const (
	RecordCompletionReasonOperationCanceled        RecordCompletionReason = "operationCanceled"
	RecordCompletionReasonStopToneDetected         RecordCompletionReason = "stopToneDetected"
	RecordCompletionReasonMaxRecordDurationReached RecordCompletionReason = "maxRecordDurationReached"
	RecordCompletionReasonInitialSilenceTimeout    RecordCompletionReason = "initialSilenceTimeout"
	RecordCompletionReasonMaxSilenceTimeout        RecordCompletionReason = "maxSilenceTimeout"
	RecordCompletionReasonPlayPromptFailed         RecordCompletionReason = "playPromptFailed"
	RecordCompletionReasonPlayBeepFailed           RecordCompletionReason = "playBeepFailed"
	RecordCompletionReasonMediaReceiveTimeout      RecordCompletionReason = "mediaReceiveTimeout"
	RecordCompletionReasonUnspecifiedError         RecordCompletionReason = "unspecifiedError"
	RecordCompletionReasonNone                     RecordCompletionReason = "none"
)

var recordCompletionReasons = []RecordCompletionReason{
	RecordCompletionReasonOperationCanceled, RecordCompletionReasonStopToneDetected,
	RecordCompletionReasonMaxRecordDurationReached, RecordCompletionReasonInitialSilenceTimeout,
	RecordCompletionReasonMaxSilenceTimeout, RecordCompletionReasonPlayPromptFailed,
	RecordCompletionReasonPlayBeepFailed, RecordCompletionReasonMediaReceiveTimeout,
	RecordCompletionReasonUnspecifiedError, RecordCompletionReasonNone,
}

// ParseRecordCompletionReason returns the canonical RecordCompletionReason
// matching s in any letter case, or an *EnumError.
func ParseRecordCompletionReason(s string) (RecordCompletionReason, error) {
	return parseEnum("recordCompletionReason", recordCompletionReasons, s)
}

// String returns the wire spelling.
func (v RecordCompletionReason) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseRecordCompletionReason; null and "" give the zero value.
func (v *RecordCompletionReason) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseRecordCompletionReason)
}

// PlayPromptCompletionReason is how a playPrompt operation ended (beta Graph
// playPromptCompletionReason). The zero value means unknown or absent.
type PlayPromptCompletionReason string

// PlayPromptCompletionReason values.
const (
	PlayPromptCompletionReasonUnknown                PlayPromptCompletionReason = "unknown"
	PlayPromptCompletionReasonCompletedSuccessfully  PlayPromptCompletionReason = "completedSuccessfully"
	PlayPromptCompletionReasonMediaOperationCanceled PlayPromptCompletionReason = "mediaOperationCanceled"
	PlayPromptCompletionReasonUnknownFutureValue     PlayPromptCompletionReason = "unknownFutureValue"
)

var playPromptCompletionReasons = []PlayPromptCompletionReason{
	PlayPromptCompletionReasonUnknown, PlayPromptCompletionReasonCompletedSuccessfully,
	PlayPromptCompletionReasonMediaOperationCanceled, PlayPromptCompletionReasonUnknownFutureValue,
}

// ParsePlayPromptCompletionReason returns the canonical
// PlayPromptCompletionReason matching s in any letter case, or an *EnumError.
func ParsePlayPromptCompletionReason(s string) (PlayPromptCompletionReason, error) {
	return parseEnum("playPromptCompletionReason", playPromptCompletionReasons, s)
}

// String returns the wire spelling.
func (v PlayPromptCompletionReason) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParsePlayPromptCompletionReason; null and "" give the zero value.
func (v *PlayPromptCompletionReason) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParsePlayPromptCompletionReason)
}

// OnlineMeetingContentSharingDisabledReason says why shared content from a
// participant is disabled (Graph onlineMeetingContentSharingDisabledReason, a
// flags enum: the value may be a comma-separated list). The zero value means
// unknown or absent.
type OnlineMeetingContentSharingDisabledReason string

// OnlineMeetingContentSharingDisabledReason values.
const (
	OnlineMeetingContentSharingDisabledReasonWatermarkProtection OnlineMeetingContentSharingDisabledReason = "watermarkProtection"
	OnlineMeetingContentSharingDisabledReasonUnknownFutureValue  OnlineMeetingContentSharingDisabledReason = "unknownFutureValue"
)

var onlineMeetingContentSharingDisabledReasons = []OnlineMeetingContentSharingDisabledReason{
	OnlineMeetingContentSharingDisabledReasonWatermarkProtection,
	OnlineMeetingContentSharingDisabledReasonUnknownFutureValue,
}

// ParseOnlineMeetingContentSharingDisabledReason canonicalizes each
// comma-separated member of s, matched in any letter case, or returns an
// *EnumError.
func ParseOnlineMeetingContentSharingDisabledReason(s string) (OnlineMeetingContentSharingDisabledReason, error) {
	return parseFlagsEnum("onlineMeetingContentSharingDisabledReason", onlineMeetingContentSharingDisabledReasons, s)
}

// String returns the wire spelling.
func (v OnlineMeetingContentSharingDisabledReason) String() string { return string(v) }

// UnmarshalJSON decodes a string with
// ParseOnlineMeetingContentSharingDisabledReason; null and "" give the zero value.
func (v *OnlineMeetingContentSharingDisabledReason) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseOnlineMeetingContentSharingDisabledReason)
}

// OnlineMeetingVideoDisabledReason says why video from a participant is
// disabled (Graph onlineMeetingVideoDisabledReason, a flags enum: the value
// may be a comma-separated list). The zero value means unknown or absent.
type OnlineMeetingVideoDisabledReason string

// OnlineMeetingVideoDisabledReason values.
const (
	OnlineMeetingVideoDisabledReasonWatermarkProtection OnlineMeetingVideoDisabledReason = "watermarkProtection"
	OnlineMeetingVideoDisabledReasonUnknownFutureValue  OnlineMeetingVideoDisabledReason = "unknownFutureValue"
)

var onlineMeetingVideoDisabledReasons = []OnlineMeetingVideoDisabledReason{
	OnlineMeetingVideoDisabledReasonWatermarkProtection, OnlineMeetingVideoDisabledReasonUnknownFutureValue,
}

// ParseOnlineMeetingVideoDisabledReason canonicalizes each comma-separated
// member of s, matched in any letter case, or returns an *EnumError.
func ParseOnlineMeetingVideoDisabledReason(s string) (OnlineMeetingVideoDisabledReason, error) {
	return parseFlagsEnum("onlineMeetingVideoDisabledReason", onlineMeetingVideoDisabledReasons, s)
}

// String returns the wire spelling.
func (v OnlineMeetingVideoDisabledReason) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseOnlineMeetingVideoDisabledReason;
// null and "" give the zero value.
func (v *OnlineMeetingVideoDisabledReason) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseOnlineMeetingVideoDisabledReason)
}

// RoutingPolicy is a routing policy of a call (beta Graph routingPolicy). The
// zero value means unknown or absent.
type RoutingPolicy string

// RoutingPolicy values.
const (
	RoutingPolicyNone                         RoutingPolicy = "none"
	RoutingPolicyNoMissedCall                 RoutingPolicy = "noMissedCall"
	RoutingPolicyDisableForwardingExceptPhone RoutingPolicy = "disableForwardingExceptPhone"
	RoutingPolicyDisableForwarding            RoutingPolicy = "disableForwarding"
	RoutingPolicyPreferSkypeForBusiness       RoutingPolicy = "preferSkypeForBusiness"
	RoutingPolicyUnknownFutureValue           RoutingPolicy = "unknownFutureValue"
)

var routingPolicies = []RoutingPolicy{
	RoutingPolicyNone, RoutingPolicyNoMissedCall, RoutingPolicyDisableForwardingExceptPhone,
	RoutingPolicyDisableForwarding, RoutingPolicyPreferSkypeForBusiness, RoutingPolicyUnknownFutureValue,
}

// ParseRoutingPolicy returns the canonical RoutingPolicy matching s in any
// letter case, or an *EnumError.
func ParseRoutingPolicy(s string) (RoutingPolicy, error) {
	return parseEnum("routingPolicy", routingPolicies, s)
}

// String returns the wire spelling.
func (v RoutingPolicy) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseRoutingPolicy; null and "" give the zero value.
func (v *RoutingPolicy) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseRoutingPolicy)
}

// CallDisposition is the deprecated beta redirect targetDisposition (Graph
// callDisposition). The zero value means unknown or absent.
type CallDisposition string

// CallDisposition values.
const (
	CallDispositionDefault          CallDisposition = "default"
	CallDispositionSimultaneousRing CallDisposition = "simultaneousRing"
	CallDispositionForward          CallDisposition = "forward"
)

var callDispositions = []CallDisposition{
	CallDispositionDefault, CallDispositionSimultaneousRing, CallDispositionForward,
}

// ParseCallDisposition returns the canonical CallDisposition matching s in any
// letter case, or an *EnumError.
func ParseCallDisposition(s string) (CallDisposition, error) {
	return parseEnum("callDisposition", callDispositions, s)
}

// String returns the wire spelling.
func (v CallDisposition) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseCallDisposition; null and "" give the zero value.
func (v *CallDisposition) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseCallDisposition)
}

// AutoAdmittedUsersType says who is admitted to a meeting without the lobby
// (beta Graph autoAdmittedUsersType). The zero value means unknown or absent.
type AutoAdmittedUsersType string

// AutoAdmittedUsersType values.
const (
	AutoAdmittedUsersTypeEveryoneInCompany AutoAdmittedUsersType = "everyoneInCompany"
	AutoAdmittedUsersTypeEveryone          AutoAdmittedUsersType = "everyone"
)

var autoAdmittedUsersTypes = []AutoAdmittedUsersType{
	AutoAdmittedUsersTypeEveryoneInCompany, AutoAdmittedUsersTypeEveryone,
}

// ParseAutoAdmittedUsersType returns the canonical AutoAdmittedUsersType
// matching s in any letter case, or an *EnumError.
func ParseAutoAdmittedUsersType(s string) (AutoAdmittedUsersType, error) {
	return parseEnum("autoAdmittedUsersType", autoAdmittedUsersTypes, s)
}

// String returns the wire spelling.
func (v AutoAdmittedUsersType) String() string { return string(v) }

// UnmarshalJSON decodes a string with ParseAutoAdmittedUsersType; null and "" give the zero value.
func (v *AutoAdmittedUsersType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, ParseAutoAdmittedUsersType)
}
