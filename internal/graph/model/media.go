package model

// MediaConfig is Graph mediaConfig flattened with appHostedMediaConfig and
// serviceHostedMediaConfig. Blob is set for app-hosted media, PreFetchMedia
// for service-hosted media.
type MediaConfig struct {
	ODataType string `json:"@odata.type,omitempty"`
	// Blob is the opaque media session configuration of app-hosted media.
	Blob *string `json:"blob,omitempty"`
	// PreFetchMedia lists prompts service-hosted media should cache; each
	// is checked as a playPrompt prompt (calls.MaxPreFetchMedia at most).
	PreFetchMedia []MediaInfo `json:"preFetchMedia,omitempty"`
	// RemoveFromDefaultAudioGroup is beta-only, but the v1.0 examples send it.
	RemoveFromDefaultAudioGroup *bool `json:"removeFromDefaultAudioGroup,omitempty"`
}

// EffectiveType returns ODataType or, when it is empty, the subtype the
// fields imply: app-hosted when Blob is set, service-hosted otherwise (a media
// configuration without a blob cannot describe app-hosted media).
func (m MediaConfig) EffectiveType() string {
	switch {
	case m.ODataType != "":
		return m.ODataType
	case m.Blob != nil:
		return TypeAppHostedMediaConfig
	default:
		return TypeServiceHostedMediaConfig
	}
}

// IsServiceHosted reports whether the configuration is serviceHostedMediaConfig.
func (m MediaConfig) IsServiceHosted() bool {
	return MatchesType(m.EffectiveType(), TypeServiceHostedMediaConfig)
}

// IsAppHosted reports whether the configuration is appHostedMediaConfig.
func (m MediaConfig) IsAppHosted() bool {
	return MatchesType(m.EffectiveType(), TypeAppHostedMediaConfig)
}

// MarshalJSON encodes the configuration with its EffectiveType as "@odata.type".
func (m MediaConfig) MarshalJSON() ([]byte, error) {
	type alias MediaConfig
	a := alias(m)
	a.ODataType = m.EffectiveType()
	return marshal(a)
}

// MediaInfo names a media file (Graph mediaInfo): a WAV prompt to play or to
// pre-fetch.
type MediaInfo struct {
	ODataType string `json:"@odata.type,omitempty"`
	// URI is where the file is; required by Graph.
	URI string `json:"uri,omitempty"`
	// ResourceID, when set, names the file for caching: "the prompt uri
	// is cached against this resourceId as a key". It means something
	// only within one application and for one URI.
	ResourceID *string `json:"resourceId,omitempty"`
}

// Prompt is Graph prompt flattened with its only subtype, mediaPrompt.
type Prompt struct {
	ODataType string     `json:"@odata.type,omitempty"`
	MediaInfo *MediaInfo `json:"mediaInfo,omitempty"`
}

// EffectiveType returns ODataType, or TypeMediaPrompt when it is empty.
func (p Prompt) EffectiveType() string {
	if p.ODataType != "" {
		return p.ODataType
	}
	return TypeMediaPrompt
}

// MarshalJSON encodes the prompt with its EffectiveType as "@odata.type".
func (p Prompt) MarshalJSON() ([]byte, error) {
	type alias Prompt
	a := alias(p)
	a.ODataType = p.EffectiveType()
	return marshal(a)
}

// CallMediaState is the media state of a call (Graph callMediaState).
type CallMediaState struct {
	ODataType string     `json:"@odata.type,omitempty"`
	Audio     MediaState `json:"audio,omitempty"`
}

// MediaStream is one media stream of a participant (Graph mediaStream).
type MediaStream struct {
	ODataType   string         `json:"@odata.type,omitempty"`
	Direction   MediaDirection `json:"direction,omitempty"`
	Label       *string        `json:"label,omitempty"`
	MediaType   Modality       `json:"mediaType,omitempty"`
	ServerMuted *bool          `json:"serverMuted,omitempty"`
	SourceID    string         `json:"sourceId,omitempty"`
}

// ToneInfo is one DTMF event received on a call (Graph toneInfo).
type ToneInfo struct {
	ODataType string `json:"@odata.type,omitempty"`
	// SequenceID orders the events of a call; Graph always sends it.
	SequenceID int64 `json:"sequenceId"`
	Tone       Tone  `json:"tone,omitempty"`
}
