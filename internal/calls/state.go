package calls

import (
	"fmt"
	"strings"
	"sync"
)

// State is the state of one call leg. The zero value is StateUnknown, the
// state of a leg that does not exist yet.
type State int

// The call states of Graph's callState enum, in CSDL order.
const (
	StateUnknown State = iota
	StateIncoming
	StateEstablishing
	StateEstablished
	StateHold
	StateTransferring
	StateTransferAccepted
	StateRedirecting
	StateTerminating
	StateTerminated
)

var stateNames = [...]string{
	StateUnknown:          "unknown",
	StateIncoming:         "incoming",
	StateEstablishing:     "establishing",
	StateEstablished:      "established",
	StateHold:             "hold",
	StateTransferring:     "transferring",
	StateTransferAccepted: "transferAccepted",
	StateRedirecting:      "redirecting",
	StateTerminating:      "terminating",
	StateTerminated:       "terminated",
}

// String returns the Graph spelling of s.
func (s State) String() string {
	if name, ok := foreignStates.name(s); ok {
		return name
	}
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// foreignStates keeps the call states this build does not know but met in
// a stored conversation (written by a newer node of a cluster, say): the
// conversation still loads, and each such state is written back as it was
// read. No command applies to a leg in such a state (Transition refuses
// it), and it does not count as ended.
var foreignStates = &stateRegistry{byName: make(map[string]State)}

// firstForeignState is the first State value given to a foreign state.
const firstForeignState State = 1 << 20

// maxForeignStates bounds the registry: a store full of garbage must not
// grow it without end. Past it, a foreign state reads as an error.
const maxForeignStates = 64

type stateRegistry struct {
	mu     sync.RWMutex
	names  []string
	byName map[string]State
}

func (r *stateRegistry) name(s State) (string, bool) {
	if s < firstForeignState {
		return "", false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if i := int(s - firstForeignState); i < len(r.names) {
		return r.names[i], true
	}
	return "", false
}

func (r *stateRegistry) intern(name string) (State, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.byName[name]; ok {
		return s, true
	}
	if len(r.names) == maxForeignStates {
		return StateUnknown, false
	}
	s := firstForeignState + State(len(r.names))
	r.names = append(r.names, name)
	r.byName[name] = s
	return s, true
}

// ParseState parses a Graph callState in any letter case. It is the inverse
// of String.
func ParseState(v string) (State, error) {
	for i, n := range stateNames {
		if strings.EqualFold(n, v) {
			return State(i), nil
		}
	}
	return StateUnknown, fmt.Errorf("calls: unknown call state %q", v)
}

// Ended reports whether no command can change s any more.
func (s State) Ended() bool { return s == StateTerminated }

// Input is something that happens to a call leg: a command from the
// application or an event from the conversation's other side.
type Input int

// The inputs of the state machine.
const (
	InputUnknown          Input = iota
	InputCreate                 // the application creates an outgoing call (POST /calls)
	InputIncoming               // someone calls the application
	InputAnswer                 // the application answers an incoming call
	InputReject                 // the application rejects an incoming call
	InputRedirect               // the application redirects an incoming call
	InputConnected              // media and signalling are up: the callee answered, or the group call was joined
	InputTransfer               // the application transfers the call
	InputTransferAccepted       // the transfer target accepted
	InputTransferFailed         // the transfer failed; the call goes on
	InputHangUp                 // the application hangs up its leg (DELETE /calls/{id})
	InputCleared                // the hang-up finished
	InputEnded                  // the far side ended the call, or it failed or timed out
)

var inputNames = [...]string{
	InputUnknown:          "unknown",
	InputCreate:           "create",
	InputIncoming:         "incoming",
	InputAnswer:           "answer",
	InputReject:           "reject",
	InputRedirect:         "redirect",
	InputConnected:        "connected",
	InputTransfer:         "transfer",
	InputTransferAccepted: "transferAccepted",
	InputTransferFailed:   "transferFailed",
	InputHangUp:           "hangUp",
	InputCleared:          "cleared",
	InputEnded:            "ended",
}

// String returns the name of in.
func (in Input) String() string {
	if in < 0 || int(in) >= len(inputNames) {
		return fmt.Sprintf("Input(%d)", int(in))
	}
	return inputNames[in]
}

// Transition is the call state machine: the state a leg in state from moves
// to when in happens, or an error wrapping ErrCallEnded (the leg is over) or
// ErrInvalidState (the input makes no sense in that state). It is pure.
//
// The edges follow the Graph docs (reference §3.1): a created call is
// "establishing" until the callee answers; an incoming call must be answered,
// rejected or redirected while "incoming"; "DELETE ... Notifications:
// terminating, then terminated"; "When a call transfer fails, the call state
// will be established".
func Transition(from State, in Input) (State, error) {
	if from == StateTerminated {
		return from, fmt.Errorf("%w: %s after the call ended", ErrCallEnded, in)
	}
	switch in {
	case InputCreate:
		if from == StateUnknown { // POST /communications/calls: 201 with state establishing
			return StateEstablishing, nil
		}
	case InputIncoming:
		if from == StateUnknown { // incoming call notification: state incoming
			return StateIncoming, nil
		}
	case InputAnswer:
		if from == StateIncoming { // answer: establishing -> established follow
			return StateEstablishing, nil
		}
	case InputReject:
		if from == StateIncoming { // reject: the call is gone (deleted notification)
			return StateTerminated, nil
		}
	case InputRedirect:
		if from == StateIncoming { // redirect: "only for an incoming call not yet answered or rejected"
			return StateRedirecting, nil
		}
	case InputConnected:
		if from == StateEstablishing {
			return StateEstablished, nil
		}
	case InputTransfer:
		if from == StateEstablished { // transfer: "on an active P2P or group call"
			return StateTransferring, nil
		}
	case InputTransferAccepted:
		if from == StateTransferring {
			return StateTransferAccepted, nil
		}
	case InputTransferFailed:
		if from == StateTransferring || from == StateTransferAccepted { // "the call state will be established"
			return StateEstablished, nil
		}
	case InputHangUp:
		switch from {
		case StateUnknown:
		case StateTerminating: // a second DELETE while hanging up changes nothing
			return StateTerminating, nil
		default: // delete: "any non-ended state"
			return StateTerminating, nil
		}
	case InputCleared:
		if from == StateTerminating {
			return StateTerminated, nil
		}
	case InputEnded:
		if from != StateUnknown { // remote hang-up, failure or timeout: terminated with a resultInfo
			return StateTerminated, nil
		}
	}
	return from, fmt.Errorf("%w: cannot %s a call that is %s", ErrInvalidState, in, from)
}

// MarshalText encodes s by its Graph spelling, so stored conversations stay
// readable and independent of the constants' order.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state written by MarshalText. A state this
// build does not know is kept as it is (see foreignStates), not refused:
// stored conversations are read tolerantly.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		name := string(b)
		if name == "" || len(name) > 64 {
			return err
		}
		var ok bool
		if v, ok = foreignStates.intern(name); !ok {
			return err
		}
	}
	*s = v
	return nil
}
