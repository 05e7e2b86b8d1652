package storetest

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
)

// testAssertionIDsReopen checks that a used assertion id still counts
// after a restart, so that a replay is refused then too.
func testAssertionIDsReopen(t *testing.T, h *harness) {
	s, ok := h.store(t).(auth.AssertionIDStore)
	if !ok {
		t.Fatalf("%T does not implement auth.AssertionIDStore", h.store(t))
	}
	if first, err := s.UseAssertionID(t.Context(), "client", "jti", base.Add(time.Minute), base, 10); !first || err != nil {
		t.Fatalf("first use: %v, %v", first, err)
	}
	s = h.reopen(t).(auth.AssertionIDStore)
	if first, err := s.UseAssertionID(t.Context(), "client", "jti", base.Add(time.Minute), base.Add(time.Second), 10); first || err != nil {
		t.Errorf("replay after reopening: first=%v, %v; want refused", first, err)
	}
}

// testCommitRejectsBadInput checks that a commit of no conversation, or of
// one without an id, fails and writes nothing.
func testCommitRejectsBadInput(t *testing.T, h *harness) {
	s := h.store(t)
	if err := s.Commit(t.Context(), nil, nil); err == nil {
		t.Error("Commit(nil) returned nil")
	}
	if err := s.Commit(t.Context(), &calls.Conversation{}, []calls.OutboxEntry{Entry("x-call", 1, base)}); err == nil {
		t.Error("Commit of a conversation without id returned nil")
	}
	if err := s.CommitAll(t.Context(), []calls.Change{{Conversation: Conversation("ok", base)}, {Conversation: &calls.Conversation{}}}); err == nil {
		t.Error("CommitAll with a conversation without id returned nil")
	}
	if got := loadLive(t, s); len(got) != 0 {
		t.Errorf("LoadLive after rejected commits = %v, want none", mapKeys(got))
	}
	if got := pending(t, s); len(got) != 0 {
		t.Errorf("Pending after rejected commits = %s, want none", keys(got))
	}
	if err := s.CommitAll(t.Context(), nil); err != nil {
		t.Errorf("CommitAll(nil) = %v, want nil", err)
	}
}
