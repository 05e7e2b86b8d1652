package calls

import (
	"fmt"
	"strings"
)

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
		p := tx.participant(t.Ref)
		if p == nil || p.State != ParticipantInvited {
			return nil
		}
		tx.joined(p)
		if leg := tx.transferFor(p.ID); leg != nil {
			return tx.completeTransfer(leg)
		}
		if conv.Kind == KindPeerToPeer {
			return tx.legsConnected()
		}
		tx.notifyRoster()
		tx.inviteSettled(p.InviteOp, p.InvitedBy)
	case TimerUnreachable, TimerRingTimeout, TimerReject:
		p := tx.participant(t.Ref)
		if p == nil || p.State != ParticipantInvited {
			return nil
		}
		tx.removeTimers(p.ID)
		tx.setParticipant(p.ID, ParticipantLeft)
		if leg := tx.transferFor(p.ID); leg != nil {
			return tx.failTransfer(leg)
		}
		if conv.Kind != KindPeerToPeer {
			tx.inviteSettled(p.InviteOp, p.InvitedBy)
			return nil // an invitation that failed leaves the group call as it was
		}
		r := map[TimerKind]ResultInfo{TimerUnreachable: ResultUnreachable, TimerRingTimeout: ResultNoAnswer, TimerReject: ResultBusy}[t.Kind]
		for _, leg := range conv.Legs {
			if err := tx.endLeg(leg, r); err != nil {
				return err
			}
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
		if p := tx.participant(t.Ref); p != nil && p.State == ParticipantJoined {
			return tx.participantLeft(p)
		}
	case TimerMute:
		if p := tx.participant(t.Ref); p != nil && p.State == ParticipantJoined && !p.Muted {
			p.Muted = true
			tx.touch(p)
			tx.notifyRoster()
		}
	case TimerShare:
		if p := tx.participant(t.Ref); p != nil && p.State == ParticipantJoined {
			tx.startShare(p)
		}
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
