package model

// TeleconferenceDeviceQuality is the media quality report a Cloud Video
// Interop device logs (Graph teleconferenceDeviceQuality). CallChainID,
// ParticipantID and MediaLegID are GUIDs on the wire.
type TeleconferenceDeviceQuality struct {
	ODataType                         string                             `json:"@odata.type,omitempty"`
	CallChainID                       string                             `json:"callChainId,omitempty"`
	CloudServiceDeploymentEnvironment *string                            `json:"cloudServiceDeploymentEnvironment,omitempty"`
	CloudServiceDeploymentID          *string                            `json:"cloudServiceDeploymentId,omitempty"`
	CloudServiceInstanceName          *string                            `json:"cloudServiceInstanceName,omitempty"`
	CloudServiceName                  *string                            `json:"cloudServiceName,omitempty"`
	DeviceDescription                 string                             `json:"deviceDescription,omitempty"`
	DeviceName                        string                             `json:"deviceName,omitempty"`
	MediaLegID                        string                             `json:"mediaLegId,omitempty"`
	MediaQualityList                  []TeleconferenceDeviceMediaQuality `json:"mediaQualityList,omitempty"`
	ParticipantID                     string                             `json:"participantId,omitempty"`
}

// TeleconferenceDeviceMediaQuality is Graph teleconferenceDeviceMediaQuality
// flattened with its audio, video and screen-sharing subtypes; the bit and
// frame rates belong to the video and screen-sharing subtypes. Durations are
// ISO 8601 strings ("PT0.03S"), kept as received.
type TeleconferenceDeviceMediaQuality struct {
	ODataType string `json:"@odata.type,omitempty"`

	AverageInboundJitter                      *string  `json:"averageInboundJitter,omitempty"`
	AverageInboundPacketLossRateInPercentage  *float64 `json:"averageInboundPacketLossRateInPercentage,omitempty"`
	AverageInboundRoundTripDelay              *string  `json:"averageInboundRoundTripDelay,omitempty"`
	AverageOutboundJitter                     *string  `json:"averageOutboundJitter,omitempty"`
	AverageOutboundPacketLossRateInPercentage *float64 `json:"averageOutboundPacketLossRateInPercentage,omitempty"`
	AverageOutboundRoundTripDelay             *string  `json:"averageOutboundRoundTripDelay,omitempty"`
	// ChannelIndex counts from 1 per modality; Graph requires it.
	ChannelIndex                              int32    `json:"channelIndex"`
	InboundPackets                            *int64   `json:"inboundPackets,omitempty"`
	LocalIPAddress                            *string  `json:"localIPAddress,omitempty"`
	LocalPort                                 *int32   `json:"localPort,omitempty"`
	MaximumInboundJitter                      *string  `json:"maximumInboundJitter,omitempty"`
	MaximumInboundPacketLossRateInPercentage  *float64 `json:"maximumInboundPacketLossRateInPercentage,omitempty"`
	MaximumInboundRoundTripDelay              *string  `json:"maximumInboundRoundTripDelay,omitempty"`
	MaximumOutboundJitter                     *string  `json:"maximumOutboundJitter,omitempty"`
	MaximumOutboundPacketLossRateInPercentage *float64 `json:"maximumOutboundPacketLossRateInPercentage,omitempty"`
	MaximumOutboundRoundTripDelay             *string  `json:"maximumOutboundRoundTripDelay,omitempty"`
	MediaDuration                             *string  `json:"mediaDuration,omitempty"`
	NetworkLinkSpeedInBytes                   *int64   `json:"networkLinkSpeedInBytes,omitempty"`
	OutboundPackets                           *int64   `json:"outboundPackets,omitempty"`
	RemoteIPAddress                           *string  `json:"remoteIPAddress,omitempty"`
	RemotePort                                *int32   `json:"remotePort,omitempty"`

	// Video and screen-sharing subtypes.
	AverageInboundBitRate    *float64 `json:"averageInboundBitRate,omitempty"`
	AverageInboundFrameRate  *float64 `json:"averageInboundFrameRate,omitempty"`
	AverageOutboundBitRate   *float64 `json:"averageOutboundBitRate,omitempty"`
	AverageOutboundFrameRate *float64 `json:"averageOutboundFrameRate,omitempty"`
}

// EffectiveType returns ODataType or, when it is empty, the video subtype if
// a bit or frame rate is set and the base TypeTeleconferenceDeviceMediaQuality
// otherwise (audio and base share their fields).
func (q TeleconferenceDeviceMediaQuality) EffectiveType() string {
	switch {
	case q.ODataType != "":
		return q.ODataType
	case q.AverageInboundBitRate != nil || q.AverageInboundFrameRate != nil ||
		q.AverageOutboundBitRate != nil || q.AverageOutboundFrameRate != nil:
		return TypeTeleconferenceDeviceVideoQuality
	default:
		return TypeTeleconferenceDeviceMediaQuality
	}
}

// MarshalJSON encodes the quality with its EffectiveType as "@odata.type".
func (q TeleconferenceDeviceMediaQuality) MarshalJSON() ([]byte, error) {
	type alias TeleconferenceDeviceMediaQuality
	a := alias(q)
	a.ODataType = q.EffectiveType()
	return marshal(a)
}
