// Package storetest is the contract every store implementation keeps: one
// suite, RunStoreContract, with the suites of single ports beside it
// (RunAppStoreContract, RunIdempotencyContract, RunAssertionIDContract,
// RunSIPAccountContract), that the SQLite and the PostgreSQL stores both
// run, so the domain cannot tell them apart.
//
// It imports the port declarations (calls, notify, auth, idempotency,
// phones) and the standard library's testing, never a store
// implementation.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

// StoreUnderTest is what a store implementation offers: the ports it
// implements, and Close.
type StoreUnderTest interface {
	calls.Store
	notify.Outbox
	auth.KeyStore
	auth.AppStore
	Close() error
}

// RunStoreContract runs the contract suite as subtests of t.
//
// Beyond StoreUnderTest, the store must implement the notification log
// (NotificationLog), Retention, idempotency.Store, auth.AssertionIDStore
// and SIPAccountStore: the suite checks what of them needs a reopen, and
// the store's own tests run RunAssertionIDContract and
// RunSIPAccountContract for the rest.
//
// open is called with each subtest's t and must return an open store. Calls
// with different t's must reach independent, empty databases; a second call
// with the same t, made after the suite closed the first store, must reach
// the same database again (that is how the suite checks durability across a
// restart). The suite closes every store it opens.
func RunStoreContract(t *testing.T, open func(t *testing.T) StoreUnderTest) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"Empty", testEmpty},
		{"CommitLoadLiveRoundTrip", testRoundTrip},
		{"CommitReplacesConversation", testReplace},
		{"EndedConversationLeavesLoadLive", testNotLive},
		{"OutboxPendingOrder", testPendingOrder},
		{"DeliveredLeavesPending", testDelivered},
		{"AttemptedPersistsAndGiveUpLeavesPending", testAttempted},
		{"RecordWritesResultsInOrder", testRecord},
		{"DeleteEndedKeepsWhatIsStillNeeded", testRetention},
		{"UnknownDeliveryFails", testUnknownDelivery},
		{"KeysRoundTrip", testKeys},
		{"ReopenLosesNothing", testReopen},
		{"ConcurrentCommitsAreDurable", testConcurrent},
		{"DuplicateOutboxFailsOnlyItsCommit", testDuplicateOutbox},
		{"FailingCommitDoesNotFailNeighbours", testFailingNeighbour},
		{"CommitAllWritesEveryConversation", testCommitAll},
		{"CommitAllIsAllOrNothing", testCommitAllAtomic},
		{"DeleteKey", testDeleteKey},
		{"AppsSurviveReopen", testAppsReopen},
		{"NotificationLogAndIdempotency", testExtensions},
		{"CommitRejectsBadInput", testCommitRejectsBadInput},
		{"AssertionIDsSurviveReopen", testAssertionIDsReopen},
		{"SIPAccountsSurviveReopen", testSIPAccountsReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, &harness{open: open})
		})
	}
	for _, tc := range appTests {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{open: open}
			tc.run(t, h.store(t))
		})
	}
}

// harness opens, closes and reopens the store of one subtest.
type harness struct {
	open func(t *testing.T) StoreUnderTest
	cur  StoreUnderTest
}

// store returns the subtest's open store, opening it the first time.
func (h *harness) store(t *testing.T) StoreUnderTest {
	t.Helper()
	if h.cur == nil {
		h.cur = h.open(t)
		t.Cleanup(func() {
			if h.cur != nil {
				if err := h.cur.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		})
	}
	return h.cur
}

// reopen closes the current store and opens the same database again.
func (h *harness) reopen(t *testing.T) StoreUnderTest {
	t.Helper()
	s := h.store(t)
	h.cur = nil
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h.cur = h.open(t)
	return h.cur
}

// base is a time with nanoseconds, in UTC, so that equality checks catch a
// store that truncates or shifts times.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func ptr[T any](v T) *T { return &v }

// Conversation returns a live peer-to-peer conversation with one
// established leg whose spec fills nested Graph types. Every model value
// carries its "@odata.type" explicitly, as a decoded request does, so that
// the value survives a JSON round trip unchanged. The leg's id is id+"-call".
func Conversation(id string, at time.Time) *calls.Conversation {
	callID := id + "-call"
	app := &model.IdentitySet{
		ODataType:   model.TypeIdentitySet,
		Application: &model.Identity{ODataType: model.TypeIdentity, ID: "app-1", DisplayName: ptr("Bot")},
	}
	target := &model.IdentitySet{
		ODataType: model.TypeIdentitySet,
		User:      &model.Identity{ODataType: model.TypeIdentity, ID: "user-1", DisplayName: ptr("Ada"), TenantID: ptr("tenant-1")},
	}
	spec := model.Call{
		ODataType:           model.TypeCall,
		Direction:           model.CallDirection("outgoing"),
		CallbackURI:         "https://bot.example/callback",
		CallChainID:         "chain-" + id,
		TenantID:            "tenant-1",
		Subject:             ptr("status review"),
		Source:              &model.ParticipantInfo{ODataType: model.TypeParticipantInfo, Identity: app, LanguageID: ptr("en-US")},
		Targets:             []model.InvitationParticipantInfo{{ODataType: model.TypeInvitationParticipantInfo, Identity: target}},
		RequestedModalities: []model.Modality{model.ModalityAudio},
		MediaConfig: &model.MediaConfig{
			ODataType:     model.TypeServiceHostedMediaConfig,
			PreFetchMedia: []model.MediaInfo{{ODataType: model.TypeMediaInfo, URI: "https://cdn.example/hello.wav", ResourceID: ptr("hello")}},
		},
		RingingTimeoutInSeconds: ptr(int32(45)),
	}
	return &calls.Conversation{
		ID:       id,
		Kind:     calls.KindPeerToPeer,
		TenantID: "tenant-1",
		Legs: []*calls.Call{{
			ID:            callID,
			AppID:         "app-1",
			TenantID:      "tenant-1",
			State:         calls.StateEstablished,
			ParticipantID: "p-" + id,
			ChainID:       "chain-" + id,
			CallbackURI:   "https://bot.example/callback",
			Direction:     "outgoing",
			Spec:          spec,
			NotifySeq:     2,
			CreatedAt:     at,
			UpdatedAt:     at.Add(time.Second),
			Operations: []model.CommsOperation{{
				ODataType:     model.TypePlayPromptOperation,
				ID:            "op-1",
				ClientContext: ptr("ctx-1"),
				Status:        model.OperationStatusRunning,
			}},
		}},
		Roster: []calls.Participant{
			{ID: "p-" + id, CallID: callID, Info: model.ParticipantInfo{ODataType: model.TypeParticipantInfo, Identity: app}, State: calls.ParticipantJoined, Modalities: []model.Modality{model.ModalityAudio}, Seq: 1},
			{ID: "p-ada", Info: model.ParticipantInfo{ODataType: model.TypeParticipantInfo, Identity: target}, State: calls.ParticipantJoined, Muted: true, Seq: 2},
		},
		RosterSeq: 2,
		Timers:    []calls.Timer{{Kind: calls.TimerRingTimeout, Ref: "p-ada", Due: at.Add(45 * time.Second)}},
		CreatedAt: at,
		UpdatedAt: at.Add(time.Second),
	}
}

// end returns a copy of c with every leg terminated at at.
func end(c *calls.Conversation, at time.Time) *calls.Conversation {
	n := *c
	n.Legs = nil
	for _, l := range c.Legs {
		n.Legs = append(n.Legs, endLeg(l, at))
	}
	n.Timers = nil
	n.UpdatedAt = at
	return &n
}

// endLeg returns a copy of l terminated at at.
func endLeg(l *calls.Call, at time.Time) *calls.Call {
	n := *l
	n.State = calls.StateTerminated
	n.EndedAt = ptr(at)
	n.UpdatedAt = at
	n.Result = &calls.ResultInfo{Code: 200, Subcode: 5001, Message: "hung up"}
	return &n
}

// Entry returns outbox entry seq of callID.
func Entry(callID string, seq int64, at time.Time) calls.OutboxEntry {
	return calls.OutboxEntry{
		CallID:    callID,
		Seq:       seq,
		URL:       "https://bot.example/callback",
		Body:      fmt.Appendf(nil, `{"value":[{"seq":%d,"call":%q}]}`, seq, callID),
		AppID:     "app-1",
		TenantID:  "tenant-1",
		ChainID:   "chain-" + callID,
		CreatedAt: at,
	}
}

func commit(t *testing.T, s calls.Store, c *calls.Conversation, outbox ...calls.OutboxEntry) {
	t.Helper()
	if err := s.Commit(t.Context(), c, outbox); err != nil {
		t.Fatalf("Commit(%s): %v", c.ID, err)
	}
}

func loadLive(t *testing.T, s calls.Store) map[string]*calls.Conversation {
	t.Helper()
	convs, err := s.LoadLive(t.Context())
	if err != nil {
		t.Fatalf("LoadLive: %v", err)
	}
	m := make(map[string]*calls.Conversation, len(convs))
	for _, c := range convs {
		if _, dup := m[c.ID]; dup {
			t.Fatalf("LoadLive returned conversation %s twice", c.ID)
		}
		m[c.ID] = c
	}
	return m
}

func pending(t *testing.T, s notify.Outbox) []notify.Delivery {
	t.Helper()
	ds, err := s.Pending(t.Context())
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	return ds
}

// sameConversation fails t unless got deep-equals want, showing both as
// JSON when they differ.
func sameConversation(t *testing.T, got, want *calls.Conversation) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("conversation %s differs after the round trip\ngot:  %s\nwant: %s", want.ID, g, w)
}

// delivery is the Delivery that the outbox entry e becomes.
func delivery(e calls.OutboxEntry, attempts int) notify.Delivery {
	return notify.Delivery{
		CallID: e.CallID, Seq: e.Seq, URL: e.URL, Body: e.Body,
		AppID: e.AppID, TenantID: e.TenantID, ChainID: e.ChainID,
		CreatedAt: e.CreatedAt, Attempts: attempts,
	}
}

func sameDeliveries(t *testing.T, got, want []notify.Delivery) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("Pending returned %d deliveries, want %d:\ngot:  %s\nwant: %s", len(got), len(want), keys(got), keys(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("delivery %d (%s/%d): CreatedAt = %v, want %v", i, w.CallID, w.Seq, g.CreatedAt, w.CreatedAt)
		}
		g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("delivery %d:\ngot:  %+v\nwant: %+v", i, g, w)
		}
	}
}

func keys(ds []notify.Delivery) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%s/%d", d.CallID, d.Seq))
	}
	return fmt.Sprint(s)
}

func testEmpty(t *testing.T, h *harness) {
	s := h.store(t)
	if got := loadLive(t, s); len(got) != 0 {
		t.Errorf("LoadLive on a new store returned %d conversations", len(got))
	}
	if got := pending(t, s); len(got) != 0 {
		t.Errorf("Pending on a new store returned %d deliveries", len(got))
	}
	ks, err := s.LoadKeys(t.Context())
	if err != nil || len(ks) != 0 {
		t.Errorf("LoadKeys on a new store = %d keys, %v; want none", len(ks), err)
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	s := h.store(t)
	want := Conversation("conv-1", base)
	commit(t, s, want)
	got := loadLive(t, s)
	if len(got) != 1 {
		t.Fatalf("LoadLive returned %d conversations, want 1", len(got))
	}
	sameConversation(t, got["conv-1"], want)
}

func testReplace(t *testing.T, h *harness) {
	s := h.store(t)
	v1 := Conversation("conv-1", base)
	commit(t, s, v1)
	v2 := Conversation("conv-1", base)
	v2.Legs[0].State = calls.StateHold
	v2.Legs[0].NotifySeq = 3
	v2.RosterSeq = 3
	v2.Timers = nil
	v2.UpdatedAt = base.Add(time.Minute)
	commit(t, s, v2)
	got := loadLive(t, s)
	if len(got) != 1 {
		t.Fatalf("LoadLive returned %d conversations, want 1", len(got))
	}
	sameConversation(t, got["conv-1"], v2)
}

func testNotLive(t *testing.T, h *harness) {
	s := h.store(t)
	a := Conversation("conv-a", base)
	b := Conversation("conv-b", base.Add(time.Millisecond))
	commit(t, s, a)
	commit(t, s, b)
	commit(t, s, end(a, base.Add(time.Minute)))

	// A conversation with one ended and one live leg is still live.
	c := Conversation("conv-c", base)
	second := *c.Legs[0]
	second.ID, second.AppID = "conv-c-call-2", "app-2"
	c.Legs = append(c.Legs, &second)
	c.Legs[0] = endLeg(c.Legs[0], base.Add(time.Minute))
	commit(t, s, c)

	// Born ended: never live.
	commit(t, s, end(Conversation("conv-d", base), base))

	got := loadLive(t, s)
	if _, ok := got["conv-a"]; ok {
		t.Error("LoadLive returned conv-a after all its legs ended")
	}
	if _, ok := got["conv-d"]; ok {
		t.Error("LoadLive returned conv-d, committed with all legs ended")
	}
	if len(got) != 2 || got["conv-b"] == nil || got["conv-c"] == nil {
		t.Fatalf("LoadLive returned %v, want conv-b and conv-c", mapKeys(got))
	}
	sameConversation(t, got["conv-c"], c)
}

func mapKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func testPendingOrder(t *testing.T, h *harness) {
	s := h.store(t)
	b1, b2 := Entry("b-call", 1, base), Entry("b-call", 2, base.Add(time.Millisecond))
	a1, a2 := Entry("a-call", 1, base.Add(2*time.Millisecond)), Entry("a-call", 2, base.Add(3*time.Millisecond))
	b3 := Entry("b-call", 3, base.Add(4*time.Millisecond))
	b10 := Entry("b-call", 10, base.Add(5*time.Millisecond))
	commit(t, s, Conversation("conv-b", base), b2, b1)
	commit(t, s, Conversation("conv-a", base), a2, a1)
	commit(t, s, Conversation("conv-b", base), b10, b3)

	want := []notify.Delivery{delivery(a1, 0), delivery(a2, 0), delivery(b1, 0), delivery(b2, 0), delivery(b3, 0), delivery(b10, 0)}
	sameDeliveries(t, pending(t, s), want)
}

func testDelivered(t *testing.T, h *harness) {
	s := h.store(t)
	e1, e2, e3 := Entry("c-call", 1, base), Entry("c-call", 2, base), Entry("c-call", 3, base)
	commit(t, s, Conversation("c", base), e1, e2, e3)
	if err := s.Delivered(t.Context(), "c-call", 2, base.Add(time.Second), 1); err != nil {
		t.Fatalf("Delivered: %v", err)
	}
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(e1, 0), delivery(e3, 0)})
	if err := s.Delivered(t.Context(), "c-call", 1, base.Add(time.Second), 4); err != nil {
		t.Fatalf("Delivered: %v", err)
	}
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(e3, 0)})
}

func testAttempted(t *testing.T, h *harness) {
	s := h.store(t)
	e1, e2 := Entry("c-call", 1, base), Entry("c-call", 2, base)
	commit(t, s, Conversation("c", base), e1, e2)
	ctx := t.Context()
	if err := s.Attempted(ctx, "c-call", 1, 1, base.Add(time.Second), "connection refused", false); err != nil {
		t.Fatalf("Attempted: %v", err)
	}
	if err := s.Attempted(ctx, "c-call", 1, 2, base.Add(3*time.Second), "503 Service Unavailable", false); err != nil {
		t.Fatalf("Attempted: %v", err)
	}
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(e1, 2), delivery(e2, 0)})

	h.reopen(t)
	sameDeliveries(t, pending(t, h.cur), []notify.Delivery{delivery(e1, 2), delivery(e2, 0)})

	if err := h.cur.Attempted(ctx, "c-call", 1, 12, time.Time{}, "410 Gone", true); err != nil {
		t.Fatalf("Attempted(gaveUp): %v", err)
	}
	sameDeliveries(t, pending(t, h.cur), []notify.Delivery{delivery(e2, 0)})
	// A late attempt at a finished delivery does not bring it back.
	if err := h.cur.Attempted(ctx, "c-call", 1, 13, base.Add(time.Hour), "late", false); err != nil {
		t.Fatalf("Attempted after giving up: %v", err)
	}
	sameDeliveries(t, pending(t, h.cur), []notify.Delivery{delivery(e2, 0)})
}

func testUnknownDelivery(t *testing.T, h *harness) {
	s := h.store(t)
	commit(t, s, Conversation("c", base), Entry("c-call", 1, base))
	if err := s.Delivered(t.Context(), "c-call", 2, base, 1); err == nil {
		t.Error("Delivered of an unknown seq returned nil")
	}
	if err := s.Attempted(t.Context(), "nope", 1, 1, base, "x", false); err == nil {
		t.Error("Attempted of an unknown call returned nil")
	}
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(Entry("c-call", 1, base), 0)})
}

func testKeys(t *testing.T, h *harness) {
	s := h.store(t)
	k1 := auth.StoredKey{ID: "kid-1", PrivateKeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), CreatedAt: base}
	k2 := auth.StoredKey{ID: "kid-2", PrivateKeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n"), CreatedAt: base.Add(time.Hour)}
	for _, k := range []auth.StoredKey{k2, k1} {
		if err := s.SaveKey(t.Context(), k); err != nil {
			t.Fatalf("SaveKey(%s): %v", k.ID, err)
		}
	}
	checkKeys(t, s, k1, k2)
	h.reopen(t)
	checkKeys(t, h.cur, k1, k2)
}

func checkKeys(t *testing.T, s auth.KeyStore, want ...auth.StoredKey) {
	t.Helper()
	got, err := s.LoadKeys(t.Context())
	if err != nil {
		t.Fatalf("LoadKeys: %v", err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	if len(got) != len(want) {
		t.Fatalf("LoadKeys returned %d keys, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || string(g.PrivateKeyPEM) != string(w.PrivateKeyPEM) || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("key %d = %+v, want %+v", i, g, w)
		}
	}
}

func testReopen(t *testing.T, h *harness) {
	s := h.store(t)
	live := Conversation("live", base)
	ended := Conversation("ended", base)
	e1, e2 := Entry("live-call", 1, base), Entry("live-call", 2, base)
	commit(t, s, live, e1, e2)
	commit(t, s, ended, Entry("ended-call", 1, base))
	commit(t, s, end(ended, base.Add(time.Minute)), Entry("ended-call", 2, base))
	if err := s.Delivered(t.Context(), "ended-call", 1, base, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Attempted(t.Context(), "ended-call", 2, 5, time.Time{}, "gone", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Attempted(t.Context(), "live-call", 1, 1, base.Add(time.Second), "timeout", false); err != nil {
		t.Fatal(err)
	}
	key := auth.StoredKey{ID: "kid", PrivateKeyPEM: []byte("pem"), CreatedAt: base}
	if err := s.SaveKey(t.Context(), key); err != nil {
		t.Fatal(err)
	}

	s = h.reopen(t)
	got := loadLive(t, s)
	if len(got) != 1 {
		t.Fatalf("after reopening, LoadLive returned %v, want [live]", mapKeys(got))
	}
	sameConversation(t, got["live"], live)
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(e1, 1), delivery(e2, 0)})
	checkKeys(t, s, key)
}

func testConcurrent(t *testing.T, h *harness) {
	s := h.store(t)
	const workers, each = 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range each {
				id := fmt.Sprintf("w%02d-%02d", w, i)
				c := Conversation(id, base.Add(time.Duration(w*each+i)*time.Millisecond))
				if err := s.Commit(context.WithoutCancel(t.Context()), c, []calls.OutboxEntry{Entry(id+"-call", 1, base)}); err != nil {
					errs <- fmt.Errorf("Commit(%s): %w", id, err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	check := func(s StoreUnderTest) {
		t.Helper()
		got := loadLive(t, s)
		if len(got) != workers*each {
			t.Errorf("LoadLive returned %d conversations, want %d", len(got), workers*each)
		}
		for id, c := range got {
			if c.ID != id || len(c.Legs) != 1 || c.Legs[0].ID != id+"-call" {
				t.Errorf("conversation %s came back mangled: %+v", id, c)
			}
		}
		if n := len(pending(t, s)); n != workers*each {
			t.Errorf("Pending returned %d deliveries, want %d", n, workers*each)
		}
	}
	check(s)
	check(h.reopen(t))
}

func testDuplicateOutbox(t *testing.T, h *harness) {
	s := h.store(t)
	v1 := Conversation("conv", base)
	first := Entry("conv-call", 1, base)
	commit(t, s, v1, first)

	// An update whose outbox repeats an existing (call, seq) fails whole:
	// the conversation stays at v1 and the other entry is not appended.
	v2 := end(v1, base.Add(time.Minute))
	dup := Entry("conv-call", 1, base.Add(time.Minute))
	dup.Body = []byte(`{"duplicate":true}`)
	if err := s.Commit(t.Context(), v2, []calls.OutboxEntry{Entry("conv-call", 2, base), dup}); err == nil {
		t.Fatal("Commit with a duplicate outbox entry returned nil")
	}
	// A new conversation whose own outbox repeats a seq fails too, and is
	// not written at all.
	other := Conversation("other", base)
	if err := s.Commit(t.Context(), other, []calls.OutboxEntry{Entry("other-call", 1, base), Entry("other-call", 1, base)}); err == nil {
		t.Fatal("Commit with a seq repeated within its outbox returned nil")
	}

	got := loadLive(t, s)
	if len(got) != 1 {
		t.Fatalf("LoadLive returned %v, want [conv]", mapKeys(got))
	}
	sameConversation(t, got["conv"], v1)
	sameDeliveries(t, pending(t, s), []notify.Delivery{delivery(first, 0)})

	// The store still works after the failures.
	commit(t, s, v2, Entry("conv-call", 2, base))
	if got := loadLive(t, s); len(got) != 0 {
		t.Errorf("LoadLive returned %v after conv ended, want none", mapKeys(got))
	}
}

func testFailingNeighbour(t *testing.T, h *harness) {
	s := h.store(t)
	taken := Entry("taken-call", 1, base)
	commit(t, s, Conversation("taken", base), taken)

	// Many commits at once, so that implementations that group writes put
	// the failing ones in a batch with good ones.
	const n = 64
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			id := fmt.Sprintf("conv-%02d", i)
			outbox := []calls.OutboxEntry{Entry(id+"-call", 1, base)}
			if i%4 == 0 { // a bad one: it steals an existing (call, seq)
				outbox = append(outbox, taken)
			}
			results[i] = s.Commit(context.WithoutCancel(t.Context()), Conversation(id, base), outbox)
		})
	}
	close(start)
	wg.Wait()

	got := loadLive(t, s)
	var want []notify.Delivery
	for i, err := range results {
		id := fmt.Sprintf("conv-%02d", i)
		_, live := got[id]
		switch bad := i%4 == 0; {
		case bad && err == nil:
			t.Errorf("Commit(%s) with a duplicate entry returned nil", id)
		case bad && live:
			t.Errorf("Commit(%s) failed but its conversation was written", id)
		case !bad && err != nil:
			t.Errorf("Commit(%s) failed alongside a bad neighbour: %v", id, err)
		case !bad && !live:
			t.Errorf("Commit(%s) returned nil but its conversation is missing", id)
		case !bad:
			want = append(want, delivery(Entry(id+"-call", 1, base), 0))
		}
	}
	want = append(want, delivery(taken, 0))
	sameDeliveries(t, pending(t, s), want)
}

func testCommitAll(t *testing.T, h *harness) {
	s := h.store(t)
	from, to := Conversation("from", base), Conversation("to", base)
	commit(t, s, from, Entry("from-call", 1, base))
	commit(t, s, to, Entry("to-call", 1, base))

	// A move: one conversation ends, the other changes, with a
	// notification each.
	ended := end(from, base.Add(time.Minute))
	grown := Conversation("to", base)
	grown.Roster[1].Muted, grown.Roster[1].Seq = false, 3
	grown.RosterSeq, grown.UpdatedAt = 3, base.Add(time.Minute)
	err := s.CommitAll(t.Context(), []calls.Change{
		{Conversation: ended, Outbox: []calls.OutboxEntry{Entry("from-call", 2, base.Add(time.Minute))}},
		{Conversation: grown, Outbox: []calls.OutboxEntry{Entry("to-call", 2, base.Add(time.Minute))}},
	})
	if err != nil {
		t.Fatalf("CommitAll: %v", err)
	}
	check := func(s StoreUnderTest) {
		t.Helper()
		got := loadLive(t, s)
		if len(got) != 1 || got["to"] == nil {
			t.Fatalf("LoadLive returned %v, want [to]", mapKeys(got))
		}
		sameConversation(t, got["to"], grown)
		sameDeliveries(t, pending(t, s), []notify.Delivery{
			delivery(Entry("from-call", 1, base), 0), delivery(Entry("from-call", 2, base.Add(time.Minute)), 0),
			delivery(Entry("to-call", 1, base), 0), delivery(Entry("to-call", 2, base.Add(time.Minute)), 0),
		})
	}
	check(s)
	check(h.reopen(t))
}

func testCommitAllAtomic(t *testing.T, h *harness) {
	s := h.store(t)
	from, to := Conversation("from", base), Conversation("to", base)
	commit(t, s, from, Entry("from-call", 1, base))
	commit(t, s, to, Entry("to-call", 1, base))
	want := []notify.Delivery{delivery(Entry("from-call", 1, base), 0), delivery(Entry("to-call", 1, base), 0)}

	// The second change fails (its notification repeats an existing one):
	// the first, written before it in the same transaction, is undone.
	ended := end(from, base.Add(time.Minute))
	grown := Conversation("to", base)
	grown.RosterSeq, grown.UpdatedAt = 3, base.Add(time.Minute)
	err := s.CommitAll(t.Context(), []calls.Change{
		{Conversation: ended, Outbox: []calls.OutboxEntry{Entry("from-call", 2, base.Add(time.Minute))}},
		{Conversation: grown, Outbox: []calls.OutboxEntry{Entry("to-call", 1, base.Add(time.Minute))}},
	})
	if err == nil {
		t.Fatal("CommitAll whose second change repeats an outbox entry returned nil")
	}
	check := func(s StoreUnderTest) {
		t.Helper()
		got := loadLive(t, s)
		if len(got) != 2 {
			t.Fatalf("LoadLive returned %v, want [from to]: half of a failed CommitAll was written", mapKeys(got))
		}
		sameConversation(t, got["from"], from)
		sameConversation(t, got["to"], to)
		sameDeliveries(t, pending(t, s), want)
	}
	check(s)
	s = h.reopen(t)
	check(s)

	// A nil conversation fails the whole CommitAll before anything is
	// written, and the store still works afterwards.
	if err := s.CommitAll(t.Context(), []calls.Change{{Conversation: ended}, {}}); err == nil {
		t.Fatal("CommitAll with a nil conversation returned nil")
	}
	check(s)
	if err := s.CommitAll(t.Context(), []calls.Change{{Conversation: ended, Outbox: []calls.OutboxEntry{Entry("from-call", 2, base)}}}); err != nil {
		t.Fatalf("CommitAll after failures: %v", err)
	}
	if got := loadLive(t, s); len(got) != 1 || got["to"] == nil {
		t.Errorf("LoadLive returned %v, want [to]", mapKeys(got))
	}
}
