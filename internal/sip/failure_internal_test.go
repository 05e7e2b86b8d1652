package sip

import (
	"fmt"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// The calls domain's refusals reach a phone as SIP final responses; none
// is a 500 but a bug.
func TestFailureFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{calls.ErrNotFound, sip.StatusNotFound},
		{&calls.LimitError{}, sip.StatusBusyHere},
		{fmt.Errorf("%w: store down", calls.ErrUnavailable), sip.StatusServiceUnavailable},
		{&calls.ElsewhereError{Node: calls.Node{ID: "b"}}, sip.StatusServiceUnavailable},
		{&calls.ValidationError{Field: "x", Reason: "is bad"}, sip.StatusForbidden},
	} {
		if got, _ := failureFor(tc.err); got != tc.want {
			t.Errorf("failureFor(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
