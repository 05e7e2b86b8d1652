package calls

import (
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// MaxStoredOperations bounds the operations a leg remembers; the oldest
// finished ones are forgotten first.
const MaxStoredOperations = 100

// newOperation records an operation of type typ on the leg and returns it.
// Operations that finish at once are created Completed and produce no
// notification ("there won't be any subsequent operation via the
// notification channel").
func (tx *txn) newOperation(leg *Call, typ string, clientContext *string, status model.OperationStatus) model.CommsOperation {
	op := model.CommsOperation{ODataType: typ, ID: newID(), Status: status, ClientContext: clientContext}
	if status == model.OperationStatusCompleted {
		op.ResultInfo = ResultOperationOK.model()
	}
	tx.putOperation(leg, op)
	return op
}

// putOperation stores op, replacing one with the same id.
func (tx *txn) putOperation(leg *Call, op model.CommsOperation) {
	tx.dirty = true
	ops := make([]model.CommsOperation, 0, len(leg.Operations)+1)
	for _, o := range leg.Operations {
		if o.ID != op.ID {
			ops = append(ops, o)
		}
	}
	ops = append(ops, op)
	for len(ops) > MaxStoredOperations {
		i := 0
		for i < len(ops)-1 && !finished(ops[i]) {
			i++
		}
		ops = append(ops[:i], ops[i+1:]...)
	}
	leg.Operations = ops
}

func finished(op model.CommsOperation) bool {
	return op.Status == model.OperationStatusCompleted || op.Status == model.OperationStatusFailed
}

// operation returns a leg's operation by id, or nil.
func operation(leg *Call, id string) *model.CommsOperation {
	for i := range leg.Operations {
		if strings.EqualFold(leg.Operations[i].ID, id) {
			return &leg.Operations[i]
		}
	}
	return nil
}

// finishOperation completes or fails a running operation and notifies the
// application with a "deleted" notification on the operation (reference
// §3.3). mutate may set type-specific fields.
func (tx *txn) finishOperation(leg *Call, id string, ok bool, result ResultInfo, mutate func(*model.CommsOperation)) {
	op := operation(leg, id)
	if op == nil || finished(*op) {
		return
	}
	done := *op
	done.Status = model.OperationStatusFailed
	if ok {
		done.Status = model.OperationStatusCompleted
	}
	done.ResultInfo = result.model()
	if mutate != nil {
		mutate(&done)
	}
	tx.putOperation(leg, done)
	if leg.State.Ended() {
		return
	}
	tx.notify(leg, model.ChangeTypeDeleted, callPath(leg.ID)+"/operations/"+done.ID, done)
}

// completeLater finishes a running operation successfully after d, as a
// timer, so the application first gets its 200/202 and then the
// notification.
func (tx *txn) completeLater(leg *Call, opID string, d time.Duration) {
	tx.addTimer(TimerOperation, leg.ID+"/"+opID, tx.now.Add(d))
}

// Operation returns one of the caller's call's operations.
func (s *Service) Operation(c Caller, callID, opID string) (model.CommsOperation, error) {
	_, leg, err := s.lookup(c, callID)
	if err != nil {
		return model.CommsOperation{}, err
	}
	if op := operation(leg, opID); op != nil {
		return *op, nil
	}
	return model.CommsOperation{}, ErrNoSuchItem
}
