package calls

import (
	"context"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// KeepAliveWindow is how long a call lives without a keepAlive request:
// "A call that does not receive this request within 45 minutes is
// considered inactive and will subsequently end."
const KeepAliveWindow = 45 * time.Minute

// AnswerWindow is how long an incoming call waits for answer, reject or
// redirect: "The current timeout value is 15 seconds".
const AnswerWindow = 15 * time.Second

// onLeg runs fn on the caller's live leg, under its conversation's lock, as
// one command: fn's changes and notifications commit together or not at all.
func (s *Service) onLeg(ctx context.Context, c Caller, callID string, fn func(tx *txn, leg *Call) error) error {
	e, _, err := s.lookup(c, callID)
	if err != nil {
		return err
	}
	return s.update(ctx, e, func(tx *txn) error {
		leg := tx.conv.Leg(strings.ToLower(callID))
		if leg == nil || !owns(c, leg) || leg.State.Ended() {
			return ErrNotFound
		}
		return fn(tx, leg)
	})
}

// KeepAlive keeps the caller's call from being ended as inactive for
// another KeepAliveWindow. An ended call is ErrNotFound, as Graph documents.
func (s *Service) KeepAlive(ctx context.Context, c Caller, callID string) error {
	return s.onLeg(ctx, c, callID, func(tx *txn, leg *Call) error {
		tx.armKeepAlive(leg)
		return nil
	})
}

// armKeepAlive (re)starts a leg's keepAlive deadline.
func (tx *txn) armKeepAlive(leg *Call) {
	tx.removeTimer(Timer{Kind: TimerKeepAlive, Ref: leg.ID, Due: leg.KeepAliveDue})
	leg.KeepAliveDue = tx.now.Add(KeepAliveWindow)
	tx.addTimer(TimerKeepAlive, leg.ID, leg.KeepAliveDue)
}

// endLeg ends an application's leg for a reason other than its own hang-up:
// it leaves the roster, its timers stop, and a peer-to-peer conversation
// whose application leg ended is over for everyone in it.
func (tx *txn) endLeg(leg *Call, result ResultInfo) error {
	if leg.State.Ended() {
		return nil
	}
	if err := tx.transition(leg, InputEnded, &result); err != nil {
		return err
	}
	tx.setParticipant(leg.ParticipantID, ParticipantLeft)
	tx.removeTimers(leg.ID)
	tx.afterLegLeft()
	return nil
}

// afterLegLeft tells the others that the roster changed, or, when no
// application leg is left (and no phones are bridged), lets everyone else
// leave too.
func (tx *txn) afterLegLeft() {
	if !tx.closeBridge() {
		tx.notifyRoster()
	}
}

// participantLeft handles a simulated participant leaving: in a
// peer-to-peer call the application's legs end ("Call ended by the other
// participant in peer-to-peer call"); in a group call the roster changes.
//
// why, when set, is the result the application's legs end with instead of
// the plain one.
func (tx *txn) participantLeft(p *Participant, why ResultInfo) error {
	tx.setParticipant(p.ID, ParticipantLeft)
	tx.removeTimers(p.ID)
	tx.stopShare(p.ID)
	if tx.conv.Kind == KindPeerToPeer {
		for _, leg := range tx.conv.Legs {
			if !leg.State.Ended() && leg.State != StateIncoming {
				r := ResultRemoteEnded
				if why.Code != 0 {
					r = why
				}
				if err := tx.endLeg(leg, r); err != nil {
					return err
				}
			} else if leg.State == StateIncoming {
				if err := tx.endLeg(leg, ResultCallerHungUp); err != nil {
					return err
				}
			}
		}
		tx.closeBridge()
		return nil
	}
	if !tx.closeBridge() {
		tx.notifyRoster()
	}
	return nil
}

// closeBridge ends a conversation that has no application left and no
// two live endpoints talking to each other: whoever is still in it leaves
// (a phone hears a BYE). It reports whether the conversation is over.
func (tx *txn) closeBridge() bool {
	if tx.conv.Live() {
		return false
	}
	for i := range tx.conv.Roster {
		if tx.conv.Roster[i].State != ParticipantLeft {
			tx.setParticipant(tx.conv.Roster[i].ID, ParticipantLeft)
		}
	}
	return true
}

// joined makes an invited participant join and schedules what its
// behaviour does next.
func (tx *txn) joined(p *Participant) {
	tx.removeTimers(p.ID)
	tx.setParticipant(p.ID, ParticipantJoined)
	b := p.Behaviour
	if b.HangUpAfter > 0 {
		tx.addTimer(TimerHangUp, p.ID, tx.now.Add(b.HangUpAfter))
	}
	if b.MuteAfter > 0 {
		tx.addTimer(TimerMute, p.ID, tx.now.Add(b.MuteAfter))
	}
	if b.ShareAfter > 0 {
		tx.addTimer(TimerShare, p.ID, tx.now.Add(b.ShareAfter))
	}
}

// legsConnected moves every establishing application leg of a peer-to-peer
// conversation to established once the far side answered.
func (tx *txn) legsConnected() error {
	for _, leg := range tx.conv.Legs {
		if leg.State == StateEstablishing {
			if err := tx.transition(leg, InputConnected, nil); err != nil {
				return err
			}
			tx.setParticipant(leg.ParticipantID, ParticipantJoined)
		}
	}
	return nil
}

// checkClientContext enforces Graph's documented limit.
func checkClientContext(v *string) error {
	if v != nil && len(*v) > MaxClientContext {
		return invalid("clientContext", "is longer than %d characters", MaxClientContext)
	}
	return nil
}

// MaxClientContext is the longest clientContext: "Max limit is 256 chars".
const MaxClientContext = 256

// groupOnly refuses an action that Graph supports in group calls only.
func groupOnly(conv *Conversation, action string) error {
	if conv.Kind == KindPeerToPeer {
		return invalid("", "%s is supported only in group calls and meetings, and this is a peer-to-peer call", action)
	}
	return nil
}

// identityOf returns the identity set of a participant, never nil.
func identityOf(p *Participant) model.IdentitySet {
	if p.Info.Identity == nil {
		return model.IdentitySet{}
	}
	return *p.Info.Identity
}
