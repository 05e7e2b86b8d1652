package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

// PendingForStoreUnderTest is a store whose outbox can load the pending
// deliveries of some calls only, as a clustered node does when it takes
// calls over.
type PendingForStoreUnderTest interface {
	calls.Store
	notify.Outbox
	notify.PendingForCalls
}

// RunPendingForContract runs the contract of notify.PendingForCalls as
// subtests of t. open must return an open store on an independent, empty
// database for each t; the suite does not close it (open registers that
// with t.Cleanup).
func RunPendingForContract(t *testing.T, open func(t *testing.T) PendingForStoreUnderTest) {
	tests := []struct {
		name string
		run  func(t *testing.T, s PendingForStoreUnderTest)
	}{
		{"OnlyTheCallsAskedFor", testPendingForSome},
		{"FinishedDeliveriesLeftOut", testPendingForFinished},
		{"UnknownCallsGiveNothing", testPendingForUnknown},
		{"NoCallsGiveNothing", testPendingForNone},
		{"ManyCalls", testPendingForMany},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func pendingFor(t *testing.T, s notify.PendingForCalls, callIDs ...string) []notify.Delivery {
	t.Helper()
	ds, err := s.PendingFor(t.Context(), callIDs)
	if err != nil {
		t.Fatalf("PendingFor(%v): %v", callIDs, err)
	}
	return ds
}

// testPendingForSome: the deliveries of the calls asked for, and no
// other's, ordered by call then Seq (as a number), whatever the order of
// the list and of the commits, and once each however often a call is
// named.
func testPendingForSome(t *testing.T, s PendingForStoreUnderTest) {
	a1, a2 := Entry("a-call", 1, base), Entry("a-call", 2, base.Add(time.Millisecond))
	b1, b2, b3 := Entry("b-call", 1, base), Entry("b-call", 2, base), Entry("b-call", 3, base)
	b10 := Entry("b-call", 10, base.Add(time.Second))
	c1 := Entry("c-call", 1, base)
	commit(t, s, Conversation("conv-b", base), b10, b2)
	commit(t, s, Conversation("conv-a", base), a2, a1)
	commit(t, s, Conversation("conv-c", base), c1)
	commit(t, s, Conversation("conv-b", base), b3, b1)

	sameDeliveries(t, pendingFor(t, s, "c-call", "a-call"), []notify.Delivery{delivery(a1, 0), delivery(a2, 0), delivery(c1, 0)})
	sameDeliveries(t, pendingFor(t, s, "b-call", "b-call"), []notify.Delivery{delivery(b1, 0), delivery(b2, 0), delivery(b3, 0), delivery(b10, 0)})
	sameDeliveries(t, pendingFor(t, s, "c-call", "b-call", "a-call"), pending(t, s))
}

// testPendingForFinished: delivered and given-up deliveries are left out;
// a failed attempt leaves its delivery pending, with its attempts.
func testPendingForFinished(t *testing.T, s PendingForStoreUnderTest) {
	e1, e2, e3, e4 := Entry("c-call", 1, base), Entry("c-call", 2, base), Entry("c-call", 3, base), Entry("c-call", 4, base)
	o1 := Entry("other-call", 1, base)
	commit(t, s, Conversation("c", base), e1, e2, e3, e4, o1)
	err := s.Record(t.Context(), []notify.Result{
		{CallID: "c-call", Seq: 1, Attempts: 1, Delivered: true, At: base.Add(time.Second)},
		{CallID: "c-call", Seq: 2, Attempts: 12, LastError: "410 Gone", GaveUp: true},
		{CallID: "c-call", Seq: 3, Attempts: 2, At: base.Add(time.Minute), LastError: "503 Service Unavailable"},
		{CallID: "other-call", Seq: 1, Attempts: 1, Delivered: true, At: base.Add(time.Second)},
	})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	sameDeliveries(t, pendingFor(t, s, "c-call", "other-call"), []notify.Delivery{delivery(e3, 2), delivery(e4, 0)})
	if got := pendingFor(t, s, "other-call"); len(got) != 0 {
		t.Errorf("PendingFor of a call with every delivery finished = %s, want none", keys(got))
	}
}

// testPendingForUnknown: a call with no outbox entries gives nothing, and
// takes nothing from the known calls named with it.
func testPendingForUnknown(t *testing.T, s PendingForStoreUnderTest) {
	if got := pendingFor(t, s, "nope-call"); len(got) != 0 {
		t.Errorf("PendingFor on an empty store = %s, want none", keys(got))
	}
	e1 := Entry("c-call", 1, base)
	commit(t, s, Conversation("c", base), e1)
	if got := pendingFor(t, s, "nope-call", "c-call-2", "c"); len(got) != 0 {
		t.Errorf("PendingFor of unknown calls = %s, want none", keys(got))
	}
	sameDeliveries(t, pendingFor(t, s, "a-call", "c-call", "z-call"), []notify.Delivery{delivery(e1, 0)})
}

// testPendingForNone: no calls give no deliveries, without error.
func testPendingForNone(t *testing.T, s PendingForStoreUnderTest) {
	commit(t, s, Conversation("c", base), Entry("c-call", 1, base))
	for _, ids := range [][]string{nil, {}} {
		if got := pendingFor(t, s, ids...); len(got) != 0 {
			t.Errorf("PendingFor(%#v) = %s, want none", ids, keys(got))
		}
	}
}

// testPendingForMany: more calls than a store would put in one query, named
// in no particular order, still give each asked-for call's deliveries,
// ordered by call then Seq.
func testPendingForMany(t *testing.T, s PendingForStoreUnderTest) {
	const n = 1500
	var entries []calls.OutboxEntry
	var ask []string
	var want []notify.Delivery
	for i := range n {
		id := fmt.Sprintf("m%04d-call", i)
		e1, e2 := Entry(id, 1, base), Entry(id, 2, base)
		entries = append(entries, e2, e1)
		if i%3 != 0 {
			ask = append(ask, id)
			want = append(want, delivery(e1, 0), delivery(e2, 0))
		}
	}
	commit(t, s, Conversation("many", base), entries...)
	// Newest first, with unknown calls mixed in.
	slices.Reverse(ask)
	for i := range 100 {
		ask = append(ask, fmt.Sprintf("m%04d-unknown", i*7))
	}
	sameDeliveries(t, pendingFor(t, s, ask...), want)
}
