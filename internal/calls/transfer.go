package calls

import (
	"context"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// Transfer hands the caller's established call to someone else (202):
// transferring, transferAccepted, then terminated with 0/7015; or, when the
// target cannot be reached, back to established with the failure in
// resultInfo. With transferTarget.replacesCallId it is a consultative
// transfer: the target is the far side of the application's other call,
// which also ends. From a group call, transferee names who is transferred.
func (s *Service) Transfer(ctx context.Context, c Caller, callID string, req model.TransferRequest) error {
	if req.TransferTarget == nil {
		return invalid("transferTarget", "is required")
	}
	if !c.has(RoleInitiate) {
		return &PermissionError{Action: "transfer", Needed: []string{RoleInitiate}}
	}
	replaces := strings.ToLower(req.TransferTarget.ReplacesCallID)
	if replaces == "" {
		if _, ok := identityKey(req.TransferTarget.Identity); !ok {
			return invalid("transferTarget.identity", "must name a user, phone or application with an id")
		}
	}
	if replaces != "" && strings.EqualFold(replaces, callID) {
		return invalid("transferTarget.replacesCallId", "names the call being transferred")
	}
	transfer := func(tx *txn, leg *Call) error {
		transferee, err := tx.transferee(leg, req.Transferee)
		if err != nil {
			return err
		}
		if err := tx.transition(leg, InputTransfer, nil); err != nil {
			return err
		}
		leg.Transfer = &Transfer{TransfereeID: transferee.ID, ReplacesCallID: replaces}
		if replaces != "" {
			// The target is already on the line: the transfer completes at once.
			return tx.completeTransfer(leg)
		}
		p := Participant{ID: newID(), Info: model.ParticipantInfo{Identity: req.TransferTarget.Identity}, State: ParticipantInvited, InvitedBy: leg.ID, Hidden: true}
		tx.conv.Roster = append(tx.conv.Roster, p)
		leg.Transfer.TargetParticipantID = p.ID
		s.ring(tx, tx.participant(p.ID), req.TransferTarget.Identity, s.cfg.RingTimeout)
		return nil
	}
	if replaces == "" {
		return s.onLeg(ctx, c, callID, transfer)
	}
	// The consultation call ends too, in its own conversation, in the same
	// commit: a crash never leaves one call transferred and the other not.
	gone := invalid("transferTarget.replacesCallId", "is not a call of this application in progress")
	return s.onLegs(ctx, c, callID, replaces, gone, transfer, func(tx *txn, leg *Call) error {
		if leg.State != StateEstablished {
			return invalid("transferTarget.replacesCallId", "names a call that is %s, not established", leg.State)
		}
		if err := tx.transition(leg, InputTransfer, nil); err != nil {
			return err
		}
		if err := tx.transition(leg, InputTransferAccepted, nil); err != nil {
			return err
		}
		return tx.endLeg(leg, ResultTransferred)
	})
}

// transferee finds who a transfer moves: the named participant of a group
// call, or the other joined participant of a peer-to-peer call.
func (tx *txn) transferee(leg *Call, info *model.ParticipantInfo) (*Participant, error) {
	if tx.conv.Kind != KindPeerToPeer {
		if info == nil || info.ParticipantID == "" {
			return nil, invalid("transferee", "is required when transferring from a group call, with its participantId")
		}
		p := tx.participant(info.ParticipantID)
		if p == nil || p.State != ParticipantJoined || p.CallID != "" {
			return nil, invalid("transferee.participantId", "is not a participant of this call")
		}
		return p, nil
	}
	for i := range tx.conv.Roster {
		p := &tx.conv.Roster[i]
		if p.ID != leg.ParticipantID && p.State == ParticipantJoined && p.CallID == "" {
			return p, nil
		}
	}
	return nil, &ValidationError{Reason: "the call has nobody to transfer"}
}

// completeTransfer finishes a transfer whose target answered: the
// transferee goes on with the target, and the application's leg ends with
// 0/7015.
func (tx *txn) completeTransfer(leg *Call) error {
	if err := tx.transition(leg, InputTransferAccepted, nil); err != nil {
		return err
	}
	t := leg.Transfer
	leg.Transfer = nil
	if t.TargetParticipantID != "" {
		if p := tx.participant(t.TargetParticipantID); p != nil {
			p.Hidden = false
		}
	}
	return tx.endLeg(leg, ResultTransferred)
}

// failTransfer returns a transferring leg to established with the failure
// in its resultInfo.
func (tx *txn) failTransfer(leg *Call) error {
	r := ResultTransferFailed
	if leg.Transfer != nil && leg.Transfer.ReplacesCallID != "" {
		r = ResultConsultTransferFailed
	}
	leg.Transfer = nil
	return tx.transition(leg, InputTransferFailed, &r)
}

// transferFor returns the leg whose transfer is calling participant pid.
func (tx *txn) transferFor(pid string) *Call {
	for _, l := range tx.conv.Legs {
		if l.Transfer != nil && l.Transfer.TargetParticipantID == pid {
			return l
		}
	}
	return nil
}
