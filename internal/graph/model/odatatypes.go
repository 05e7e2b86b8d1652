package model

import "strings"

// Discriminator values ("@odata.type") of every Graph type in this package,
// spelled exactly as Graph and the official SDKs expect them.
const (
	TypeCall                      = "#microsoft.graph.call"
	TypeParticipant               = "#microsoft.graph.participant"
	TypeParticipantInfo           = "#microsoft.graph.participantInfo"
	TypeInvitationParticipantInfo = "#microsoft.graph.invitationParticipantInfo"
	TypeAudioRoutingGroup         = "#microsoft.graph.audioRoutingGroup"
	TypeContentSharingSession     = "#microsoft.graph.contentSharingSession"

	TypeIdentitySet               = "#microsoft.graph.identitySet"
	TypeCommunicationsIdentitySet = "#microsoft.graph.communicationsIdentitySet"

	TypeIdentity                                  = "#microsoft.graph.identity"
	TypeCommunicationsUserIdentity                = "#microsoft.graph.communicationsUserIdentity"
	TypeCommunicationsApplicationIdentity         = "#microsoft.graph.communicationsApplicationIdentity"
	TypeCommunicationsApplicationInstanceIdentity = "#microsoft.graph.communicationsApplicationInstanceIdentity"
	TypeCommunicationsPhoneIdentity               = "#microsoft.graph.communicationsPhoneIdentity"
	TypeCommunicationsGuestIdentity               = "#microsoft.graph.communicationsGuestIdentity"
	TypeCommunicationsEncryptedIdentity           = "#microsoft.graph.communicationsEncryptedIdentity"
	TypeAzureCommunicationServicesUserIdentity    = "#microsoft.graph.azureCommunicationServicesUserIdentity"

	TypeMediaConfig              = "#microsoft.graph.mediaConfig"
	TypeAppHostedMediaConfig     = "#microsoft.graph.appHostedMediaConfig"
	TypeServiceHostedMediaConfig = "#microsoft.graph.serviceHostedMediaConfig"
	TypeMediaInfo                = "#microsoft.graph.mediaInfo"
	TypePrompt                   = "#microsoft.graph.prompt"
	TypeMediaPrompt              = "#microsoft.graph.mediaPrompt"
	TypeCallMediaState           = "#microsoft.graph.callMediaState"
	TypeMediaStream              = "#microsoft.graph.mediaStream"
	TypeToneInfo                 = "#microsoft.graph.toneInfo"

	TypeCallOptions         = "#microsoft.graph.callOptions"
	TypeIncomingCallOptions = "#microsoft.graph.incomingCallOptions"
	TypeOutgoingCallOptions = "#microsoft.graph.outgoingCallOptions"

	TypeChatInfo                 = "#microsoft.graph.chatInfo"
	TypeMeetingInfo              = "#microsoft.graph.meetingInfo"
	TypeOrganizerMeetingInfo     = "#microsoft.graph.organizerMeetingInfo"
	TypeTokenMeetingInfo         = "#microsoft.graph.tokenMeetingInfo"
	TypeJoinMeetingIDMeetingInfo = "#microsoft.graph.joinMeetingIdMeetingInfo"
	TypeMeetingCapability        = "#microsoft.graph.meetingCapability"

	TypeCallRoute               = "#microsoft.graph.callRoute"
	TypeIncomingContext         = "#microsoft.graph.incomingContext"
	TypeCallTranscriptionInfo   = "#microsoft.graph.callTranscriptionInfo"
	TypeResultInfo              = "#microsoft.graph.resultInfo"
	TypeRecordingInfo           = "#microsoft.graph.recordingInfo"
	TypeRemovedState            = "#microsoft.graph.removedState"
	TypeOnlineMeetingRestricted = "#microsoft.graph.onlineMeetingRestricted"

	TypeCommsOperation                 = "#microsoft.graph.commsOperation"
	TypeAddLargeGalleryViewOperation   = "#microsoft.graph.addLargeGalleryViewOperation"
	TypeCancelMediaProcessingOperation = "#microsoft.graph.cancelMediaProcessingOperation"
	TypeInviteParticipantsOperation    = "#microsoft.graph.inviteParticipantsOperation"
	TypeMuteParticipantOperation       = "#microsoft.graph.muteParticipantOperation"
	TypePlayPromptOperation            = "#microsoft.graph.playPromptOperation"
	TypeRecordOperation                = "#microsoft.graph.recordOperation"
	TypeSendDtmfTonesOperation         = "#microsoft.graph.sendDtmfTonesOperation"
	TypeStartHoldMusicOperation        = "#microsoft.graph.startHoldMusicOperation"
	TypeStopHoldMusicOperation         = "#microsoft.graph.stopHoldMusicOperation"
	TypeSubscribeToToneOperation       = "#microsoft.graph.subscribeToToneOperation"
	TypeUnmuteParticipantOperation     = "#microsoft.graph.unmuteParticipantOperation"
	TypeUpdateRecordingStatusOperation = "#microsoft.graph.updateRecordingStatusOperation"

	TypeCommsNotifications             = "#microsoft.graph.commsNotifications"
	TypeCommsNotification              = "#microsoft.graph.commsNotification"
	TypeParticipantJoiningNotification = "#microsoft.graph.participantJoiningNotification"
	TypeParticipantLeftNotification    = "#microsoft.graph.participantLeftNotification"
	TypeParticipantJoiningResponse     = "#microsoft.graph.participantJoiningResponse"
	TypeAcceptJoinResponse             = "#microsoft.graph.acceptJoinResponse"
	TypeRejectJoinResponse             = "#microsoft.graph.rejectJoinResponse"
	TypeInviteNewBotResponse           = "#microsoft.graph.inviteNewBotResponse"

	TypeTeleconferenceDeviceQuality              = "#microsoft.graph.teleconferenceDeviceQuality"
	TypeTeleconferenceDeviceMediaQuality         = "#microsoft.graph.teleconferenceDeviceMediaQuality"
	TypeTeleconferenceDeviceAudioQuality         = "#microsoft.graph.teleconferenceDeviceAudioQuality"
	TypeTeleconferenceDeviceVideoQuality         = "#microsoft.graph.teleconferenceDeviceVideoQuality"
	TypeTeleconferenceDeviceScreenSharingQuality = "#microsoft.graph.teleconferenceDeviceScreenSharingQuality"
)

// operationTypes lists every commsOperation discriminator, base type first.
var operationTypes = []string{
	TypeCommsOperation,
	TypeAddLargeGalleryViewOperation,
	TypeCancelMediaProcessingOperation,
	TypeInviteParticipantsOperation,
	TypeMuteParticipantOperation,
	TypePlayPromptOperation,
	TypeRecordOperation,
	TypeSendDtmfTonesOperation,
	TypeStartHoldMusicOperation,
	TypeStopHoldMusicOperation,
	TypeSubscribeToToneOperation,
	TypeUnmuteParticipantOperation,
	TypeUpdateRecordingStatusOperation,
}

// MatchesType reports whether the discriminator got names the type want. The
// comparison ignores letter case and a missing leading "#", because clients
// write "microsoft.graph.call" as often as "#microsoft.graph.call".
func MatchesType(got, want string) bool {
	return strings.EqualFold(strings.TrimPrefix(got, "#"), strings.TrimPrefix(want, "#"))
}

// IsOperationType reports whether t names commsOperation or one of its subtypes.
func IsOperationType(t string) bool {
	for _, op := range operationTypes {
		if MatchesType(t, op) {
			return true
		}
	}
	return false
}
