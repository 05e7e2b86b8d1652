package calls

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestTransitionTable lists every legal edge of the call state machine;
// every other (state, input) pair must be refused, with ErrCallEnded from
// terminated and ErrInvalidState elsewhere.
func TestTransitionTable(t *testing.T) {
	legal := map[State]map[Input]State{
		StateUnknown: {InputCreate: StateEstablishing, InputIncoming: StateIncoming},
		StateIncoming: {
			InputAnswer: StateEstablishing, InputReject: StateTerminated, InputRedirect: StateRedirecting,
			InputHangUp: StateTerminating, InputEnded: StateTerminated,
		},
		StateEstablishing:     {InputConnected: StateEstablished, InputHangUp: StateTerminating, InputEnded: StateTerminated},
		StateEstablished:      {InputTransfer: StateTransferring, InputHangUp: StateTerminating, InputEnded: StateTerminated},
		StateHold:             {InputHangUp: StateTerminating, InputEnded: StateTerminated},
		StateTransferring:     {InputTransferAccepted: StateTransferAccepted, InputTransferFailed: StateEstablished, InputHangUp: StateTerminating, InputEnded: StateTerminated},
		StateTransferAccepted: {InputTransferFailed: StateEstablished, InputHangUp: StateTerminating, InputEnded: StateTerminated},
		StateRedirecting:      {InputHangUp: StateTerminating, InputEnded: StateTerminated},
		StateTerminating:      {InputHangUp: StateTerminating, InputCleared: StateTerminated, InputEnded: StateTerminated},
		StateTerminated:       {},
	}
	for from := StateUnknown; from <= StateTerminated; from++ {
		for in := InputUnknown; in <= InputEnded; in++ {
			t.Run(from.String()+"/"+in.String(), func(t *testing.T) {
				got, err := Transition(from, in)
				want, ok := legal[from][in]
				switch {
				case ok && err != nil:
					t.Fatalf("Transition(%s, %s) = error %v, want %s", from, in, err, want)
				case ok && got != want:
					t.Fatalf("Transition(%s, %s) = %s, want %s", from, in, got, want)
				case !ok && err == nil:
					t.Fatalf("Transition(%s, %s) = %s, want an error", from, in, got)
				case !ok && from == StateTerminated && !errors.Is(err, ErrCallEnded):
					t.Fatalf("Transition(terminated, %s) error = %v, want ErrCallEnded", in, err)
				case !ok && from != StateTerminated && !errors.Is(err, ErrInvalidState):
					t.Fatalf("Transition(%s, %s) error = %v, want ErrInvalidState", from, in, err)
				case !ok && got != from:
					t.Fatalf("refused Transition(%s, %s) changed the state to %s", from, in, got)
				}
			})
		}
	}
}

func TestStateStringParseRoundTrip(t *testing.T) {
	for s := StateUnknown; s <= StateTerminated; s++ {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	if got, err := ParseState("ESTABLISHED"); err != nil || got != StateEstablished {
		t.Errorf("ParseState is case-sensitive: %v, %v", got, err)
	}
	if _, err := ParseState("ringing-ish"); err == nil {
		t.Error("ParseState accepted an unknown state")
	}
	if s := State(99).String(); s != "State(99)" {
		t.Errorf("State(99).String() = %q", s)
	}
}

// A state this build does not know (a newer node wrote it) is read, kept
// and written back as it was; the leg is not ended, can be hung up, and
// refuses what needs a known state.
func TestForeignStateIsKept(t *testing.T) {
	var leg struct {
		State State `json:"state"`
	}
	if err := json.Unmarshal([]byte(`{"state":"parkedInOrbit"}`), &leg); err != nil {
		t.Fatalf("a foreign state failed to decode: %v", err)
	}
	if leg.State.Ended() || leg.State.String() != "parkedInOrbit" {
		t.Fatalf("foreign state: %v, ended %v", leg.State, leg.State.Ended())
	}
	b, err := json.Marshal(leg)
	if err != nil || string(b) != `{"state":"parkedInOrbit"}` {
		t.Fatalf("written back as %s, %v", b, err)
	}
	var again struct {
		State State `json:"state"`
	}
	if err := json.Unmarshal(b, &again); err != nil || again.State != leg.State {
		t.Fatalf("read twice: %v, %v; want the same value", again.State, err)
	}
	if _, err := Transition(leg.State, InputAnswer); err == nil {
		t.Fatal("answering a call in a foreign state succeeded")
	}
	if next, err := Transition(leg.State, InputHangUp); err != nil || next != StateTerminating {
		t.Fatalf("hang-up of a call in a foreign state: %v, %v", next, err)
	}
	if err := json.Unmarshal([]byte(`{"state":""}`), &leg); err == nil {
		t.Fatal("an empty state decoded")
	}
}
