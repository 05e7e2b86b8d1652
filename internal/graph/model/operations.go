package model

// CommsOperation is Graph commsOperation flattened with all its subtypes
// (playPromptOperation, recordOperation, sendDtmfTonesOperation,
// inviteParticipantsOperation, ...). ODataType says which operation it is;
// the subtype fields are set only for the subtypes that define them.
type CommsOperation struct {
	ODataType string `json:"@odata.type,omitempty"`
	// ODataID and ODataEtag appear on operations inside notifications.
	ODataID   string `json:"@odata.id,omitempty"`
	ODataEtag string `json:"@odata.etag,omitempty"`

	ID            string          `json:"id,omitempty"`
	ClientContext *string         `json:"clientContext,omitempty"`
	Status        OperationStatus `json:"status,omitempty"`
	ResultInfo    *ResultInfo     `json:"resultInfo,omitempty"`

	// RecordingLocation and RecordingAccessToken belong to recordOperation.
	// The docs send "" for both when a recording is canceled, so they are
	// pointers: "" and absent differ.
	RecordingLocation    *string `json:"recordingLocation,omitempty"`
	RecordingAccessToken *string `json:"recordingAccessToken,omitempty"`

	// CompletionReason belongs to sendDtmfTonesOperation
	// (SendDtmfCompletionReason) and, in beta, to recordOperation
	// (RecordCompletionReason) and playPromptOperation
	// (PlayPromptCompletionReason). It is kept as received; the accessors
	// below parse it.
	CompletionReason string `json:"completionReason,omitempty"`

	// Participants belongs to inviteParticipantsOperation.
	Participants []InvitationParticipantInfo `json:"participants,omitempty"`
}

// EffectiveType returns ODataType or, when it is empty, the subtype the
// fields imply (invite when Participants is set, record when a recording
// field is set), falling back to the base TypeCommsOperation.
func (o CommsOperation) EffectiveType() string {
	switch {
	case o.ODataType != "":
		return o.ODataType
	case len(o.Participants) > 0:
		return TypeInviteParticipantsOperation
	case o.RecordingLocation != nil || o.RecordingAccessToken != nil:
		return TypeRecordOperation
	default:
		return TypeCommsOperation
	}
}

// MarshalJSON encodes the operation with its EffectiveType as "@odata.type".
func (o CommsOperation) MarshalJSON() ([]byte, error) {
	type alias CommsOperation
	a := alias(o)
	a.ODataType = o.EffectiveType()
	return marshal(a)
}

// SendDtmfCompletionReason parses CompletionReason as a sendDtmfTones
// completion reason; an empty CompletionReason gives the zero value.
func (o CommsOperation) SendDtmfCompletionReason() (SendDtmfCompletionReason, error) {
	if o.CompletionReason == "" {
		return "", nil
	}
	return ParseSendDtmfCompletionReason(o.CompletionReason)
}

// RecordCompletionReason parses CompletionReason as a recordResponse
// completion reason; an empty CompletionReason gives the zero value.
func (o CommsOperation) RecordCompletionReason() (RecordCompletionReason, error) {
	if o.CompletionReason == "" {
		return "", nil
	}
	return ParseRecordCompletionReason(o.CompletionReason)
}

// PlayPromptCompletionReason parses CompletionReason as a playPrompt
// completion reason; an empty CompletionReason gives the zero value.
func (o CommsOperation) PlayPromptCompletionReason() (PlayPromptCompletionReason, error) {
	if o.CompletionReason == "" {
		return "", nil
	}
	return ParsePlayPromptCompletionReason(o.CompletionReason)
}
