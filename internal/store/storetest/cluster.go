package storetest

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// ClusterStoreUnderTest is a store that several nodes can share: the
// calls.Store whose commits fence on leases, and the calls.Cluster.
type ClusterStoreUnderTest interface {
	calls.Store
	calls.Cluster
}

// RunClusterContract runs the contract of calls.Cluster, and of the lease
// fencing of Commit and CommitAll, as subtests of t. open must return an
// open store on an independent, empty database for each t; the suite does
// not close it (open registers that with t.Cleanup).
func RunClusterContract(t *testing.T, open func(t *testing.T) ClusterStoreUnderTest) {
	tests := []struct {
		name string
		run  func(t *testing.T, s ClusterStoreUnderTest)
	}{
		{"NewConversationTakesItsLease", testLeaseCreated},
		{"CommitsAreFencedOnTheLease", testFenced},
		{"CommitAllIsFencedWhole", testFencedAll},
		{"ExpiredNodesConversationsAreClaimed", testClaim},
		{"ClaimRespectsItsLimit", testClaimLimit},
		{"ReleasedConversationsAreClaimedAtOnce", testRelease},
		{"HandOverMovesOneLeaseToANamedNode", testHandOver},
		{"EndedConversationDropsItsLease", testLeaseEnded},
		{"ForgottenNodeCannotComeBack", testNodeGone},
		{"ListCallsSeesEveryNodesCalls", testListCalls},
		{"MeetingsAreFoundAndStartedOnce", testMeetings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var clusterBase = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

// ttl is the lease TTL the tests' nodes renew for.
const ttl = 10 * time.Second

func node(id string, at time.Time) calls.Node {
	return calls.Node{ID: id, Name: "name-" + id, Address: "http://" + id + ".example:8080", Expires: at.Add(ttl)}
}

// join registers nodes, alive until clusterBase+ttl.
func join(t *testing.T, s ClusterStoreUnderTest, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Heartbeat(t.Context(), node(id, clusterBase), true); err != nil {
			t.Fatalf("heartbeat %s: %v", id, err)
		}
	}
}

// leased is a live conversation under a lease.
func leased(id, owner string, epoch int64) *calls.Conversation {
	c := Conversation(id, clusterBase)
	c.Lease = calls.Lease{Node: owner, Epoch: epoch}
	return c
}

func mustCommit(t *testing.T, s ClusterStoreUnderTest, c *calls.Conversation) {
	t.Helper()
	if err := s.Commit(t.Context(), c, nil); err != nil {
		t.Fatalf("commit %s under %+v: %v", c.ID, c.Lease, err)
	}
}

func wantFenced(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, calls.ErrFenced) {
		t.Fatalf("%s: %v, want ErrFenced", what, err)
	}
}

// loadOne loads a conversation that must be live.
func loadOne(t *testing.T, s ClusterStoreUnderTest, id string) *calls.Conversation {
	t.Helper()
	got, err := s.Load(t.Context(), []string{id})
	if err != nil || len(got) != 1 {
		t.Fatalf("load %s: %d conversations, %v", id, len(got), err)
	}
	return got[0]
}

func testLeaseCreated(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a")
	mustCommit(t, s, leased("c1", "a", 1))
	n, conv, err := s.Owner(t.Context(), "c1-call")
	if err != nil || n.ID != "a" || n.Address != "http://a.example:8080" || conv != "c1" {
		t.Fatalf("owner of c1-call: %+v %q %v; want node a, conversation c1", n, conv, err)
	}
	if got := loadOne(t, s, "c1"); got.Lease != (calls.Lease{Node: "a", Epoch: 1}) || got.Legs[0].ID != "c1-call" {
		t.Fatalf("loaded %+v with lease %+v", got.ID, got.Lease)
	}
	if _, _, err := s.Owner(t.Context(), "no-such-call"); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("owner of an unknown call: %v, want ErrNotFound", err)
	}
	// A new conversation starts at epoch 1, nowhere else.
	wantFenced(t, s.Commit(t.Context(), leased("c2", "a", 2), nil), "a new conversation at epoch 2")
	if got, err := s.Load(t.Context(), []string{"c2"}); err != nil || len(got) != 0 {
		t.Fatalf("a fenced new conversation was written: %d, %v", len(got), err)
	}
}

func testFenced(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	c := leased("c1", "a", 1)
	mustCommit(t, s, c)
	for _, l := range []calls.Lease{{Node: "b", Epoch: 1}, {Node: "a", Epoch: 2}, {Node: "b", Epoch: 2}} {
		other := leased("c1", l.Node, l.Epoch)
		other.RosterSeq = 99
		wantFenced(t, s.Commit(t.Context(), other, []calls.OutboxEntry{Entry("c1-call", 3, clusterBase)}), "commit under "+l.Node)
	}
	if got := loadOne(t, s, "c1"); got.RosterSeq == 99 {
		t.Fatal("a fenced commit changed the conversation")
	}
	// The owner still writes, and its outbox entry is not taken by a fenced
	// commit's.
	c.RosterSeq = 7
	if err := s.Commit(t.Context(), c, []calls.OutboxEntry{Entry("c1-call", 3, clusterBase)}); err != nil {
		t.Fatalf("the owner's commit after fenced ones: %v", err)
	}
	if got := loadOne(t, s, "c1"); got.RosterSeq != 7 {
		t.Fatalf("rosterSeq %d, want 7", got.RosterSeq)
	}
}

func testFencedAll(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	mustCommit(t, s, leased("c1", "a", 1))
	mustCommit(t, s, leased("c2", "b", 1))
	one, two := leased("c1", "a", 1), leased("c2", "a", 1) // c2 is b's
	one.RosterSeq, two.RosterSeq = 5, 5
	err := s.CommitAll(t.Context(), []calls.Change{{Conversation: one}, {Conversation: two}})
	wantFenced(t, err, "a move into another node's conversation")
	if got := loadOne(t, s, "c1"); got.RosterSeq == 5 {
		t.Fatal("half of a fenced CommitAll was written")
	}
}

func testClaim(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	mustCommit(t, s, leased("c1", "a", 1))
	mustCommit(t, s, leased("c2", "b", 1))
	// Both alive: nothing to claim.
	if got, err := s.Claim(t.Context(), "b", clusterBase.Add(ttl/2), 100); err != nil || len(got) != 0 {
		t.Fatalf("claim while every node is alive: %+v, %v", got, err)
	}
	// b renews, a does not.
	later := clusterBase.Add(ttl / 2)
	if err := s.Heartbeat(t.Context(), node("b", later), false); err != nil {
		t.Fatal(err)
	}
	now := clusterBase.Add(ttl + time.Second)
	nodes, err := s.Nodes(t.Context(), now)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "b" || nodes[0].Name != "name-b" {
		t.Fatalf("nodes alive after a expired: %+v, %v", nodes, err)
	}
	got, err := s.Claim(t.Context(), "b", now, 100)
	if err != nil || len(got) != 1 || got[0] != (calls.Claimed{ConversationID: "c1", Lease: calls.Lease{Node: "b", Epoch: 2}}) {
		t.Fatalf("b claims a's conversations: %+v, %v", got, err)
	}
	if n, _, err := s.Owner(t.Context(), "c1-call"); err != nil || n.ID != "b" {
		t.Fatalf("owner after the claim: %+v, %v", n, err)
	}
	// a, back from a pause, cannot write; b can.
	wantFenced(t, s.Commit(t.Context(), leased("c1", "a", 1), nil), "the old owner's commit")
	mustCommit(t, s, leased("c1", "b", 2))
	if again, err := s.Claim(t.Context(), "b", now, 100); err != nil || len(again) != 0 {
		t.Fatalf("a second claim: %+v, %v", again, err)
	}
}

func testClaimLimit(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	for _, id := range []string{"c1", "c2", "c3"} {
		mustCommit(t, s, leased(id, "a", 1))
	}
	now := clusterBase.Add(ttl + time.Second)
	if err := s.Heartbeat(t.Context(), node("b", now), false); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, want := range []int{2, 1, 0} {
		got, err := s.Claim(t.Context(), "b", now, 2)
		if err != nil || len(got) != want {
			t.Fatalf("claim with limit 2: %+v, %v; want %d", got, err, want)
		}
		for _, c := range got {
			if seen[c.ConversationID] {
				t.Fatalf("%s claimed twice", c.ConversationID)
			}
			seen[c.ConversationID] = true
		}
	}
}

func testRelease(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	mustCommit(t, s, leased("c1", "a", 1))
	mustCommit(t, s, leased("c2", "a", 1))
	if err := s.Release(t.Context(), "a", "c1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(t.Context(), "b", clusterBase, 100) // a is alive
	if err != nil || len(got) != 1 || got[0] != (calls.Claimed{ConversationID: "c1", Lease: calls.Lease{Node: "b", Epoch: 2}}) {
		t.Fatalf("claim of a released conversation: %+v, %v", got, err)
	}
	wantFenced(t, s.Commit(t.Context(), leased("c1", "a", 1), nil), "a commit after releasing")
	// Releasing everything (a drain).
	if err := s.Release(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(t.Context(), "b", clusterBase, 100); err != nil || len(got) != 1 || got[0].ConversationID != "c2" {
		t.Fatalf("claim after a released all: %+v, %v", got, err)
	}
}

func testHandOver(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b", "c")
	mustCommit(t, s, leased("c1", "a", 1))
	got, err := s.HandOver(t.Context(), "c1", calls.Lease{Node: "a", Epoch: 1}, "b")
	if err != nil || got != (calls.Lease{Node: "b", Epoch: 2}) {
		t.Fatalf("hand over c1 from a to b: %+v, %v; want b at epoch 2", got, err)
	}
	if n, conv, err := s.Owner(t.Context(), "c1-call"); err != nil || n.ID != "b" || conv != "c1" {
		t.Fatalf("owner after the hand-over: %+v %q %v; want b", n, conv, err)
	}
	wantFenced(t, s.Commit(t.Context(), leased("c1", "a", 1), nil), "a commit by the node that handed over")
	mustCommit(t, s, leased("c1", "b", 2))
	// Nobody else may claim it in between: b is alive.
	if got, err := s.Claim(t.Context(), "c", clusterBase, 100); err != nil || len(got) != 0 {
		t.Fatalf("c claimed a handed-over conversation: %+v, %v", got, err)
	}
	// A stale lease hands nothing over.
	if _, err := s.HandOver(t.Context(), "c1", calls.Lease{Node: "a", Epoch: 1}, "c"); !errors.Is(err, calls.ErrFenced) {
		t.Fatalf("hand over with a stale lease: %v, want ErrFenced", err)
	}
	if _, err := s.HandOver(t.Context(), "nope", calls.Lease{Node: "a", Epoch: 1}, "b"); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("hand over of an unknown conversation: %v, want ErrNotFound", err)
	}
}

func testLeaseEnded(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	c := leased("c1", "a", 1)
	mustCommit(t, s, c)
	c.Legs[0].State = calls.StateTerminated
	if c.Live() {
		t.Fatal("the fixture is still live with its leg terminated")
	}
	mustCommit(t, s, c)
	if _, _, err := s.Owner(t.Context(), "c1-call"); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("owner of an ended conversation's call: %v, want ErrNotFound", err)
	}
	if got, err := s.Claim(t.Context(), "b", clusterBase.Add(ttl+time.Second), 100); err != nil || len(got) != 0 {
		t.Fatalf("an ended conversation was claimed: %+v, %v", got, err)
	}
	if got, err := s.Load(t.Context(), []string{"c1"}); err != nil || len(got) != 0 {
		t.Fatalf("Load returned an ended conversation: %d, %v", len(got), err)
	}
}

func testNodeGone(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	mustCommit(t, s, leased("c1", "a", 1))
	now := clusterBase.Add(ttl + time.Second)
	if err := s.Heartbeat(t.Context(), node("b", now), false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(t.Context(), "b", now, 100); err != nil {
		t.Fatal(err)
	}
	// a held nothing more and expired: the claim forgot it.
	err := s.Heartbeat(t.Context(), node("a", now), false)
	if !errors.Is(err, calls.ErrNodeGone) {
		t.Fatalf("heartbeat of a forgotten node: %v, want ErrNodeGone", err)
	}
	if err := s.Heartbeat(t.Context(), node("c", now), false); !errors.Is(err, calls.ErrNodeGone) {
		t.Fatalf("a renewal of a node that never joined: %v, want ErrNodeGone", err)
	}
}

func testListCalls(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	var want []string
	for i, owner := range []string{"a", "b", "a"} {
		c := leased(fmt.Sprintf("c%d", i), owner, 1)
		c.Legs[0].CreatedAt = clusterBase.Add(time.Duration(i) * time.Second)
		mustCommit(t, s, c)
		want = append(want, c.Legs[0].ID)
	}
	ended := leased("c9", "a", 1)
	ended.Legs[0].State = calls.StateTerminated
	mustCommit(t, s, ended)
	other := leased("c8", "b", 1)
	other.Legs[0].AppID = "app-2"
	mustCommit(t, s, other)

	// What the other nodes hold, for the per-application limit.
	for node, want := range map[string]map[string]int{
		"a": {"tenant-1/app-1": 1, "tenant-1/app-2": 1},
		"b": {"tenant-1/app-1": 2},
	} {
		if got, err := s.OpenCalls(t.Context(), node); err != nil || !maps.Equal(got, want) {
			t.Fatalf("open calls not on node %s: %v, %v; want %v", node, got, err, want)
		}
	}

	page, total, err := s.ListCalls(t.Context(), "tenant-1", "app-1", 1, 5)
	if err != nil || total != 3 || len(page) != 2 || page[0].ID != want[1] || page[1].ID != want[2] {
		ids := make([]string, len(page))
		for i, l := range page {
			ids[i] = l.ID
		}
		t.Fatalf("page from 1: %v of %d, %v; want %v of 3", ids, total, err, want[1:])
	}
	if page[0].Spec.CallbackURI != "https://bot.example/callback" || page[0].State != calls.StateEstablished {
		t.Fatalf("a listed call lacks its spec or state: %+v", page[0])
	}
	if page, total, err := s.ListCalls(t.Context(), "tenant-1", "app-1", 5, 5); err != nil || total != 3 || len(page) != 0 {
		t.Fatalf("past the end: %d of %d, %v", len(page), total, err)
	}
	if page, total, err := s.ListCalls(t.Context(), "tenant-2", "app-1", 0, 5); err != nil || total != 0 || len(page) != 0 {
		t.Fatalf("another tenant: %d of %d, %v", len(page), total, err)
	}
}

func testMeetings(t *testing.T, s ClusterStoreUnderTest) {
	join(t, s, "a", "b")
	m := leased("m1", "a", 1)
	m.Kind, m.MeetingKey = calls.KindMeeting, "tenant-1|join:123"
	mustCommit(t, s, m)
	n, conv, err := s.FindMeeting(t.Context(), "tenant-1|join:123")
	if err != nil || n.ID != "a" || conv != "m1" {
		t.Fatalf("find the meeting: %+v %q %v; want node a, m1", n, conv, err)
	}
	if _, _, err := s.FindMeeting(t.Context(), "tenant-1|join:999"); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("an unknown meeting: %v, want ErrNotFound", err)
	}
	// b starting the same meeting at the same time fails, writing nothing.
	dup := leased("m2", "b", 1)
	dup.Kind, dup.MeetingKey = calls.KindMeeting, "tenant-1|join:123"
	if err := s.Commit(t.Context(), dup, nil); err == nil {
		t.Fatal("a second live meeting with the same key was committed")
	}
	if got, err := s.Load(t.Context(), []string{"m2"}); err != nil || len(got) != 0 {
		t.Fatalf("the refused meeting was written: %d, %v", len(got), err)
	}
	// Once it ended, the key is free again.
	m.Legs[0].State = calls.StateTerminated
	mustCommit(t, s, m)
	if _, _, err := s.FindMeeting(t.Context(), "tenant-1|join:123"); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("an ended meeting is found: %v", err)
	}
	mustCommit(t, s, dup)
}
