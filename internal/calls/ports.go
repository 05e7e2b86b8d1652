package calls

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Store persists conversations. Implementations must be safe for concurrent
// use.
type Store interface {
	// Commit writes the conversation (all its legs) and appends the outbox
	// entries, in one transaction: either all of it is durable when Commit
	// returns nil, or none of it is.
	Commit(ctx context.Context, conv *Conversation, outbox []OutboxEntry) error
	// CommitAll commits several conversations, each with its outbox
	// entries, in one transaction: either all of it is durable when
	// CommitAll returns nil, or none of it is. A command that moves a
	// participant from one conversation to another (an invite with
	// replacesCallId, a consultative transfer) commits both sides with
	// it, so that a crash never leaves half a move.
	CommitAll(ctx context.Context, changes []Change) error
	// LoadLive returns every conversation in which some leg has not ended.
	LoadLive(ctx context.Context) ([]*Conversation, error)
}

// Change is one conversation of a CommitAll, with the notifications its
// change causes.
type Change struct {
	Conversation *Conversation
	Outbox       []OutboxEntry
}

// Dispatcher learns about notifications once they are committed. Enqueue
// must not block for long; delivery happens elsewhere.
type Dispatcher interface {
	Enqueue(entries ...OutboxEntry)
}

// Outcome is what an endpoint does when it is called.
type Outcome string

// Outcomes of calling an endpoint.
const (
	OutcomeAnswer      Outcome = "answer"      // answers after Behaviour.After
	OutcomeNoAnswer    Outcome = "noAnswer"    // rings until the ring timeout
	OutcomeUnreachable Outcome = "unreachable" // cannot be reached; found out after Behaviour.After
	OutcomeBusy        Outcome = "busy"        // declines as busy after Behaviour.After
)

// Behaviour is how the endpoint bound to an identity responds to a call,
// and what it does once in it. Zero durations mean "never" for the actions
// after answering.
type Behaviour struct {
	Outcome     Outcome       `json:"outcome,omitempty"`
	After       time.Duration `json:"after,omitempty"`
	HangUpAfter time.Duration `json:"hangUpAfter,omitempty"` // hangs up this long after joining
	MuteAfter   time.Duration `json:"muteAfter,omitempty"`   // mutes itself this long after joining
	ShareAfter  time.Duration `json:"shareAfter,omitempty"`  // starts sharing its screen this long after joining
	// Script is what it says once in the call (service-hosted media).
	Script []Step `json:"script,omitempty"`
}

// Step is one thing a simulated participant says, At after it joined: DTMF
// Keys pressed in-band, or a WAV file spoken.
type Step struct {
	At   time.Duration `json:"at"`
	Keys string        `json:"keys,omitempty"`
	WAV  string        `json:"wav,omitempty"`
}

// Directory binds identities to endpoints. Implementations must be safe for
// concurrent use.
type Directory interface {
	// Behaviour says how the endpoint of the identity responds when called.
	Behaviour(id model.IdentitySet) Behaviour
	// MeetingMembers lists the simulated identities configured to join the
	// meeting with this key, and when, counted from the meeting's start.
	MeetingMembers(meetingKey string) []Member
}

// Member is a simulated identity that joins a meeting by itself.
type Member struct {
	Identity model.IdentitySet
	After    time.Duration
}
