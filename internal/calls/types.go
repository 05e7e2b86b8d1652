package calls

import (
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Kind says what sort of conversation a call belongs to.
type Kind string

// Conversation kinds.
const (
	KindPeerToPeer Kind = "peerToPeer" // exactly one target
	KindGroup      Kind = "group"      // several targets, or none: an ad hoc group call
	KindMeeting    Kind = "meeting"    // joined by chatInfo/meetingInfo
)

// Caller is who sends a command: an application within a tenant, with the
// application permissions (app roles) its token carries.
type Caller struct {
	TenantID string
	AppID    string
	Roles    []string
}

func (c Caller) has(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Application permissions (app roles) that the calls API checks.
const (
	RoleInitiate          = "Calls.Initiate.All"
	RoleInitiateGroupCall = "Calls.InitiateGroupCall.All"
	RoleJoinGroupCall     = "Calls.JoinGroupCall.All"
	RoleJoinAsGuest       = "Calls.JoinGroupCallAsGuest.All"
	RoleAccessMedia       = "Calls.AccessMedia.All"
)

// Conversation is a real-world call: its legs (one per application that is
// in it), its roster and its pending timers. It is the unit of locking and of
// persistence: a command reads and writes one conversation.
//
// Values reachable from a Conversation are replaced, never mutated in place,
// once committed; clone copies the mutable parts.
type Conversation struct {
	ID         string        `json:"id"`
	Kind       Kind          `json:"kind"`
	TenantID   string        `json:"tenantId"`
	MeetingKey string        `json:"meetingKey,omitempty"` // meetings: what joiners name it by
	Passcode   string        `json:"passcode,omitempty"`   // meetings joined by joinMeetingId
	Shares     []Share       `json:"shares,omitempty"`     // content sharing sessions
	Legs       []*Call       `json:"legs"`
	Roster     []Participant `json:"roster"`
	RosterSeq  int64         `json:"rosterSeq"`
	Timers     []Timer       `json:"timers,omitempty"`
	// Lease is the hold on the conversation its commits are made under
	// (see Cluster); not part of the stored record, which the lease row
	// keeps beside it. Empty on a single node.
	Lease     Lease     `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Live reports whether any leg of the conversation has not ended, or, with
// every application gone, a live endpoint is still talking to someone
// (bridged: a phone transferred to another phone or to a simulated person).
func (c *Conversation) Live() bool {
	for _, l := range c.Legs {
		if !l.State.Ended() {
			return true
		}
	}
	return c.bridged()
}

// bridged reports whether a participant reached through a live endpoint
// (a phone, say) is in the conversation with someone else, or with someone
// ringing for it (a redirect's targets): they go on without an
// application, as Graph's transferee and transfer target do. Simulated
// people alone do not keep a conversation going.
func (c *Conversation) bridged() bool {
	joined, live, ringing := 0, false, false
	for i := range c.Roster {
		switch p := &c.Roster[i]; {
		case p.State == ParticipantJoined:
			joined++
			live = live || p.Endpoint != EndpointSimulated
		case p.State == ParticipantInvited && p.RingsFor != "":
			ringing = true
		}
	}
	return live && (joined >= 2 || ringing)
}

// Leg returns the leg with the given call id, or nil.
func (c *Conversation) Leg(callID string) *Call {
	for _, l := range c.Legs {
		if l.ID == callID {
			return l
		}
	}
	return nil
}

// clone returns a copy whose slices and legs can be changed without touching c.
func (c *Conversation) clone() *Conversation {
	n := *c
	n.Legs = make([]*Call, len(c.Legs))
	for i, l := range c.Legs {
		lc := *l
		n.Legs[i] = &lc
	}
	n.Roster = append([]Participant(nil), c.Roster...)
	n.Timers = append([]Timer(nil), c.Timers...)
	n.Shares = append([]Share(nil), c.Shares...)
	return &n
}

// Call is one application's leg in a conversation: the Graph call resource.
type Call struct {
	ID            string                 `json:"id"`
	AppID         string                 `json:"appId"`
	TenantID      string                 `json:"tenantId"`
	State         State                  `json:"state"`
	ParticipantID string                 `json:"participantId"` // myParticipantId
	ChainID       string                 `json:"chainId"`
	CallbackURI   string                 `json:"callbackUri"`
	Direction     string                 `json:"direction"`
	Spec          model.Call             `json:"spec"` // what the application asked for, echoed back; never mutated after creation
	Result        *ResultInfo            `json:"result,omitempty"`
	NotifySeq     int64                  `json:"notifySeq"` // last notification sequence number used for this leg
	CreatedAt     time.Time              `json:"createdAt"`
	UpdatedAt     time.Time              `json:"updatedAt"`
	EndedAt       *time.Time             `json:"endedAt,omitempty"`
	Operations    []model.CommsOperation `json:"operations,omitempty"`
	// KeepAliveDue is when the call ends unless keepAlive is called.
	KeepAliveDue time.Time `json:"keepAliveDue,omitempty"`
	// Transfer is the transfer in progress, if any.
	Transfer *Transfer `json:"transfer,omitempty"`
	// RoutingGroups are the call's audio routing groups.
	RoutingGroups []model.AudioRoutingGroup `json:"routingGroups,omitempty"`
	// Muted is the application's own server mute (mute/unmute).
	Muted bool `json:"muted,omitempty"`
	// ToneSeq is the sequenceId of the last toneInfo notified.
	ToneSeq int64 `json:"toneSeq,omitempty"`
	// ScreenSharingRole is viewer or sharer (changeScreenSharingRole).
	ScreenSharingRole string `json:"screenSharingRole,omitempty"`
}

// Transfer is a transfer in progress on a leg.
type Transfer struct {
	TargetParticipantID string `json:"targetParticipantId"` // the target, rung in the conversation
	TransfereeID        string `json:"transfereeId"`        // the participant being transferred
	ReplacesCallID      string `json:"replacesCallId,omitempty"`
}

// Share is a content sharing session: a participant sharing a screen.
type Share struct {
	ID            string `json:"id"`
	ParticipantID string `json:"participantId"`
}

// ResultInfo is a Graph resultInfo: why something ended or failed.
type ResultInfo struct {
	Code    int32  `json:"code"`
	Subcode int32  `json:"subcode"`
	Message string `json:"message"`
}

// ParticipantState is where a roster entry stands.
type ParticipantState string

// Participant states.
const (
	ParticipantInvited ParticipantState = "invited" // being called; not in the roster that Graph shows
	ParticipantJoined  ParticipantState = "joined"
	ParticipantLeft    ParticipantState = "left"
)

// Participant is an entry of a conversation's roster: an application's leg
// (CallID set) or a person or phone reached through an endpoint.
type Participant struct {
	ID         string                `json:"id"`
	CallID     string                `json:"callId,omitempty"` // set for application legs
	Info       model.ParticipantInfo `json:"info"`
	State      ParticipantState      `json:"state"`
	Muted      bool                  `json:"muted"`
	Modalities []model.Modality      `json:"modalities,omitempty"`
	Seq        int64                 `json:"seq"` // roster sequence number of its last change
	// Endpoint is how the participant is reached when it is not an
	// application: EndpointSimulated (its Behaviour) or a live kind
	// (EndpointSIP), fixed when it was called or joined.
	Endpoint string `json:"endpoint,omitempty"`
	// Behaviour is what a simulated endpoint does, fixed when it was called.
	Behaviour Behaviour `json:"behaviour,omitempty"`
	OnHold    bool      `json:"onHold,omitempty"`
	Sharing   bool      `json:"sharing,omitempty"` // sending video-based screen sharing
	Hidden    bool      `json:"hidden,omitempty"`
	Recording string    `json:"recording,omitempty"` // recordingStatus set by updateRecordingStatus
	// RingsFor is the participant (a phone whose call an application
	// redirected) this one is being called for: the first of them to
	// answer is connected to it, and the others stop ringing.
	RingsFor string `json:"ringsFor,omitempty"`
	// InviteOp is the invite operation that is calling this participant.
	InviteOp string `json:"inviteOp,omitempty"`
	// InvitedBy is the leg that invited this participant.
	InvitedBy string `json:"invitedBy,omitempty"`
}

// TimerKind names what happens when a conversation timer falls due.
type TimerKind string

// Timer kinds.
const (
	TimerConnect      TimerKind = "connect"      // an application leg of a group call is connected
	TimerAnswer       TimerKind = "answer"       // a simulated endpoint answers (Ref: participant id)
	TimerUnreachable  TimerKind = "unreachable"  // a target turns out to be unreachable (Ref: participant id)
	TimerRingTimeout  TimerKind = "ringTimeout"  // nobody answered in time (Ref: participant id)
	TimerCleared      TimerKind = "cleared"      // a hanging-up leg is terminated (Ref: call id)
	TimerAnswerWindow TimerKind = "answerWindow" // an incoming call nobody acted on ends (Ref: call id)
	TimerKeepAlive    TimerKind = "keepAlive"    // a call without keepAlive ends (Ref: call id)
	TimerHangUp       TimerKind = "hangUp"       // a simulated participant hangs up (Ref: participant id)
	TimerMute         TimerKind = "mute"         // a simulated participant mutes itself (Ref: participant id)
	TimerShare        TimerKind = "share"        // a simulated participant shares its screen (Ref: participant id)
	TimerReject       TimerKind = "reject"       // a simulated callee declines (Ref: participant id)
	TimerOperation    TimerKind = "operation"    // an asynchronous operation completes (Ref: call id + "/" + operation id)
	TimerRedirected   TimerKind = "redirected"   // a redirected call's leg is gone (Ref: call id)
)

// Timer is a persisted deadline of a conversation.
type Timer struct {
	Kind TimerKind `json:"kind"`
	Ref  string    `json:"ref"`
	Due  time.Time `json:"due"`
}

// OutboxEntry is one notification to deliver: a complete commsNotifications
// body for one leg, numbered per leg. It is committed with the state change
// that caused it.
type OutboxEntry struct {
	CallID    string
	Seq       int64
	URL       string
	Body      []byte
	AppID     string
	TenantID  string
	ChainID   string
	CreatedAt time.Time
}
