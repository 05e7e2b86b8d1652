package sip

import (
	"context"
	"testing"
)

func TestWaitAnswerSurvivesAPanicWhileCancelling(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := waitAnswer(ctx, func(context.Context) error {
		var r *struct{ code int }
		_ = r.code // what sipgo's CANCEL path does with a nil response
		return nil
	})
	if err == nil {
		t.Fatal("a cancelled dial whose CANCEL panicked returned no error")
	}
}

func TestWaitAnswerLetsOtherPanicsThrough(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a panic while not cancelling was swallowed")
		}
	}()
	_ = waitAnswer(t.Context(), func(context.Context) error { panic("not a cancel") })
}
