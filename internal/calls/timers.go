package calls

import (
	"fmt"
	"strings"
)

// simulated applies what a simulated person's behaviour does now: the same
// signal a live endpoint would send. A behaviour step whose moment passed
// (the person already left, or already answered) does nothing.
func (tx *txn) simulated(pid string, sig Signal) error {
	p := tx.participant(pid)
	if p == nil {
		return nil
	}
	switch sig.Kind {
	case SignalAnswered, SignalFailed:
		if p.State != ParticipantInvited {
			return nil
		}
	default:
		if p.State != ParticipantJoined {
			return nil
		}
	}
	return tx.signal(p, sig)
}

// onTimer handles a timer that fell due. Called inside update, on the
// conversation's working copy.
func (s *Service) onTimer(tx *txn, t Timer) error {
	conv := tx.conv
	switch t.Kind {
	case TimerConnect:
		leg := conv.Leg(t.Ref)
		if leg == nil || leg.State != StateEstablishing {
			return nil
		}
		if err := tx.transition(leg, InputConnected, nil); err != nil {
			return err
		}
		tx.setParticipant(leg.ParticipantID, ParticipantJoined)
		tx.notifyRoster()
	case TimerAnswer:
		return tx.simulated(t.Ref, Signal{Kind: SignalAnswered})
	case TimerUnreachable:
		return tx.simulated(t.Ref, Signal{Kind: SignalFailed, Result: ResultUnreachable})
	case TimerReject:
		return tx.simulated(t.Ref, Signal{Kind: SignalFailed, Result: ResultBusy})
	case TimerRingTimeout:
		// The domain's own deadline, for simulated and live endpoints
		// alike: a live one is then told to stop ringing (CANCEL).
		if p := tx.participant(t.Ref); p != nil && p.State == ParticipantInvited {
			return tx.signal(p, Signal{Kind: SignalFailed, Result: ResultNoAnswer})
		}
	case TimerAnswerWindow:
		if leg := conv.Leg(t.Ref); leg != nil && leg.State == StateIncoming {
			return tx.endLeg(leg, ResultAnswerTimeout)
		}
	case TimerKeepAlive:
		if leg := conv.Leg(t.Ref); leg != nil && !leg.State.Ended() && !t.Due.Before(leg.KeepAliveDue) {
			return tx.endLeg(leg, ResultKeepAlive)
		}
	case TimerRedirected:
		if leg := conv.Leg(t.Ref); leg != nil && leg.State == StateRedirecting {
			return tx.endLeg(leg, ResultRedirected)
		}
	case TimerHangUp:
		return tx.simulated(t.Ref, Signal{Kind: SignalLeft})
	case TimerMute:
		return tx.simulated(t.Ref, Signal{Kind: SignalMuted})
	case TimerShare:
		return tx.simulated(t.Ref, Signal{Kind: SignalSharing})
	case TimerOperation:
		legID, opID, _ := strings.Cut(t.Ref, "/")
		if leg := conv.Leg(legID); leg != nil {
			tx.finishOperation(leg, opID, true, ResultOperationOK, nil)
		}
	case TimerCleared:
		// Written by early versions; hang-ups now terminate at once.
	default:
		return fmt.Errorf("calls: unknown timer kind %q", t.Kind)
	}
	return nil
}
