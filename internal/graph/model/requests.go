package model

// Request bodies of the call and participant actions. They are action
// parameter sets, not Graph types, so they carry no "@odata.type". Optional
// parameters are pointers or omitted when empty; the HTTP layer checks the
// required ones.

// AnswerRequest is the body of POST /communications/calls/{id}/answer.
// AcceptedModalities and MediaConfig are required; ParticipantCapacity is
// for policy-based recording.
type AnswerRequest struct {
	CallbackURI         string       `json:"callbackUri,omitempty"`
	AcceptedModalities  []Modality   `json:"acceptedModalities,omitempty"`
	MediaConfig         *MediaConfig `json:"mediaConfig,omitempty"`
	CallOptions         *CallOptions `json:"callOptions,omitempty"`
	ParticipantCapacity *int32       `json:"participantCapacity,omitempty"`
}

// RejectRequest is the body of POST /communications/calls/{id}/reject.
type RejectRequest struct {
	Reason      RejectReason `json:"reason,omitempty"`
	CallbackURI string       `json:"callbackUri,omitempty"`
}

// RedirectRequest is the body of POST /communications/calls/{id}/redirect.
// Targets is required; Timeout is in seconds. MaskCallee, MaskCaller and
// TargetDisposition are beta parameters; RoutingPolicies is a beta call
// property that one v1.0 example sends with redirect.
type RedirectRequest struct {
	Targets           []InvitationParticipantInfo `json:"targets,omitempty"`
	Timeout           *int32                      `json:"timeout,omitempty"`
	CallbackURI       string                      `json:"callbackUri,omitempty"`
	MaskCallee        *bool                       `json:"maskCallee,omitempty"`
	MaskCaller        *bool                       `json:"maskCaller,omitempty"`
	TargetDisposition CallDisposition             `json:"targetDisposition,omitempty"`
	RoutingPolicies   []RoutingPolicy             `json:"routingPolicies,omitempty"`
}

// TransferRequest is the body of POST /communications/calls/{id}/transfer.
// TransferTarget is required; Transferee only when transferring from a group
// call. ClientContext is not in the CSDL signature but the PSTN examples send it.
type TransferRequest struct {
	TransferTarget *InvitationParticipantInfo `json:"transferTarget,omitempty"`
	Transferee     *ParticipantInfo           `json:"transferee,omitempty"`
	ClientContext  *string                    `json:"clientContext,omitempty"`
}

// PlayPromptRequest is the body of POST /communications/calls/{id}/playPrompt.
// Loop is a beta parameter.
type PlayPromptRequest struct {
	Prompts       []Prompt `json:"prompts,omitempty"`
	ClientContext *string  `json:"clientContext,omitempty"`
	Loop          *bool    `json:"loop,omitempty"`
}

// RecordResponseRequest is the body of POST
// /communications/calls/{id}/recordResponse. Unset optional parameters take
// the Graph defaults (timeouts 5 s, playBeep true, bargeInAllowed false).
// StopTones holds DTMF characters ("#", "1", "*"), not Tone names.
type RecordResponseRequest struct {
	Prompts                        []Prompt `json:"prompts,omitempty"`
	BargeInAllowed                 *bool    `json:"bargeInAllowed,omitempty"`
	InitialSilenceTimeoutInSeconds *int32   `json:"initialSilenceTimeoutInSeconds,omitempty"`
	MaxSilenceTimeoutInSeconds     *int32   `json:"maxSilenceTimeoutInSeconds,omitempty"`
	MaxRecordDurationInSeconds     *int32   `json:"maxRecordDurationInSeconds,omitempty"`
	PlayBeep                       *bool    `json:"playBeep,omitempty"`
	StopTones                      []string `json:"stopTones,omitempty"`
	ClientContext                  *string  `json:"clientContext,omitempty"`
}

// CancelMediaProcessingRequest is the body of POST
// /communications/calls/{id}/cancelMediaProcessing.
type CancelMediaProcessingRequest struct {
	ClientContext *string `json:"clientContext,omitempty"`
}

// SubscribeToToneRequest is the body of POST
// /communications/calls/{id}/subscribeToTone.
type SubscribeToToneRequest struct {
	ClientContext *string `json:"clientContext,omitempty"`
}

// SendDtmfTonesRequest is the body of POST
// /communications/calls/{id}/sendDtmfTones. Tones is required.
type SendDtmfTonesRequest struct {
	Tones               []Tone  `json:"tones,omitempty"`
	DelayBetweenTonesMs *int32  `json:"delayBetweenTonesMs,omitempty"`
	ClientContext       *string `json:"clientContext,omitempty"`
}

// MuteRequest is the body of POST /communications/calls/{id}/mute and of
// POST /communications/calls/{id}/participants/{pid}/mute.
type MuteRequest struct {
	ClientContext *string `json:"clientContext,omitempty"`
}

// UnmuteRequest is the body of POST /communications/calls/{id}/unmute.
type UnmuteRequest struct {
	ClientContext *string `json:"clientContext,omitempty"`
}

// ChangeScreenSharingRoleRequest is the body of POST
// /communications/calls/{id}/changeScreenSharingRole. Role is required.
type ChangeScreenSharingRoleRequest struct {
	Role ScreenSharingRole `json:"role,omitempty"`
}

// UpdateRecordingStatusRequest is the body of POST
// /communications/calls/{id}/updateRecordingStatus. Status is required.
type UpdateRecordingStatusRequest struct {
	Status        RecordingStatus `json:"status,omitempty"`
	ClientContext *string         `json:"clientContext,omitempty"`
}

// AddLargeGalleryViewRequest is the body of POST
// /communications/calls/{id}/addLargeGalleryView.
type AddLargeGalleryViewRequest struct {
	ClientContext *string `json:"clientContext,omitempty"`
}

// LogTeleconferenceDeviceQualityRequest is the body of POST
// /communications/calls/logTeleconferenceDeviceQuality. Quality is required.
type LogTeleconferenceDeviceQualityRequest struct {
	Quality *TeleconferenceDeviceQuality `json:"quality,omitempty"`
}

// InviteParticipantsRequest is the body of POST
// /communications/calls/{id}/participants/invite. Participants is required.
type InviteParticipantsRequest struct {
	Participants  []InvitationParticipantInfo `json:"participants,omitempty"`
	ClientContext *string                     `json:"clientContext,omitempty"`
}

// StartHoldMusicRequest is the body of POST
// /communications/calls/{id}/participants/{pid}/startHoldMusic.
type StartHoldMusicRequest struct {
	CustomPrompt  *Prompt `json:"customPrompt,omitempty"`
	ClientContext *string `json:"clientContext,omitempty"`
}

// StopHoldMusicRequest is the body of POST
// /communications/calls/{id}/participants/{pid}/stopHoldMusic.
type StopHoldMusicRequest struct {
	ClientContext *string `json:"clientContext,omitempty"`
}
