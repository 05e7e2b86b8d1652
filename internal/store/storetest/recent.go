package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// RecentCallsStoreUnderTest is a store that lists the live and recent
// calls of a tenant or an application, for the console.
type RecentCallsStoreUnderTest interface {
	calls.Store
	Retention
	// RecentCalls returns the calls of tenantID (of every tenant when
	// tenantID is "") and appID (of every application when appID is ""),
	// live or ended but not yet deleted, newest first (created_at
	// descending, then id descending), at most limit (1..500; limit <= 0
	// means 100, more than 500 means 500), each with its Spec. Tenant and
	// application ids compare case-insensitively.
	RecentCalls(ctx context.Context, tenantID, appID string, limit int) ([]*calls.Call, error)
	// CallConversation returns the conversation holding callID, live or
	// ended and not yet deleted, with its legs' specs; an error matching
	// calls.ErrNotFound when there is none.
	CallConversation(ctx context.Context, callID string) (*calls.Conversation, error)
}

// RunRecentCallsContract runs the contract of RecentCalls as subtests of
// t. open must return an open store on an independent, empty database for
// each t; the suite does not close it (open registers that with
// t.Cleanup).
func RunRecentCallsContract(t *testing.T, open func(t *testing.T) RecentCallsStoreUnderTest) {
	tests := []struct {
		name string
		run  func(t *testing.T, s RecentCallsStoreUnderTest)
	}{
		{"EmptyStore", testRecentEmpty},
		{"ByTenantAndApplication", testRecentFilters},
		{"LegsOfOneConversation", testRecentLegs},
		{"NewestFirstThenIDDescending", testRecentOrder},
		{"Limit", testRecentLimit},
		{"DefaultAndMaximumLimit", testRecentLimitBounds},
		{"DeletedCallsAreGone", testRecentDeleted},
		{"CallConversationLiveAndEnded", testCallConversation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// recentConversation is Conversation(id, at) in tenant and app: its one
// leg, id+"-call", is created at at, and its spec's subject names it.
func recentConversation(id, tenant, app string, at time.Time) *calls.Conversation {
	c := Conversation(id, at)
	c.TenantID = tenant
	l := c.Legs[0]
	l.TenantID, l.AppID = tenant, app
	l.Spec.TenantID = tenant
	l.Spec.Subject = ptr("subject of " + l.ID)
	return c
}

func recentCalls(t *testing.T, s RecentCallsStoreUnderTest, tenantID, appID string, limit int) []*calls.Call {
	t.Helper()
	got, err := s.RecentCalls(t.Context(), tenantID, appID, limit)
	if err != nil {
		t.Fatalf("RecentCalls(%q, %q, %d): %v", tenantID, appID, limit, err)
	}
	return got
}

func callIDs(cs []*calls.Call) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// sameCalls checks that got are want, in order, each leg as committed
// (state, direction, spec, times, result...).
func sameCalls(t *testing.T, what string, got, want []*calls.Call) {
	t.Helper()
	if !slices.Equal(callIDs(got), callIDs(want)) {
		t.Fatalf("%s: calls %v, want %v", what, callIDs(got), callIDs(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.MarshalIndent(got[i], "", "  ")
			w, _ := json.MarshalIndent(want[i], "", "  ")
			t.Errorf("%s: call %s is not as committed:\ngot:  %s\nwant: %s", what, want[i].ID, g, w)
		}
	}
}

// testRecentEmpty: an empty store lists nothing, whatever the filter.
func testRecentEmpty(t *testing.T, s RecentCallsStoreUnderTest) {
	for _, f := range [][2]string{{"", ""}, {"tenant-1", ""}, {"tenant-1", "app-1"}, {"", "app-1"}} {
		if got := recentCalls(t, s, f[0], f[1], 0); len(got) != 0 {
			t.Errorf("RecentCalls(%q, %q) on an empty store = %v", f[0], f[1], callIDs(got))
		}
	}
}

// testRecentFilters: calls of several tenants and applications, live and
// ended, stored with ids in any case, are listed by tenant and
// application, by tenant, by application or all, newest first, each as
// committed (its spec included); the filter's ids match in any case.
func testRecentFilters(t *testing.T, s RecentCallsStoreUnderTest) {
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	a1 := recentConversation("a1", "tenant-1", "app-1", at(1))
	a2 := recentConversation("a2", "TENANT-1", "App-1", at(3))
	a3 := recentConversation("a3", "tenant-1", "app-1", at(5))
	b1 := recentConversation("b1", "Tenant-1", "app-2", at(2))
	c1 := recentConversation("c1", "tenant-2", "app-1", at(4))
	d1 := recentConversation("d1", "tenant-2", "app-3", at(6))
	for _, c := range []*calls.Conversation{a1, a2, a3, b1, c1, d1} {
		commit(t, s, c)
	}
	// a3 and c1 ended; they are listed until they are deleted.
	a3 = end(a3, at(10))
	c1 = end(c1, at(11))
	commit(t, s, a3)
	commit(t, s, c1)
	leg := func(c *calls.Conversation) *calls.Call { return c.Legs[0] }

	for _, tc := range []struct {
		tenant, app string
		want        []*calls.Call
	}{
		{"tenant-1", "app-1", []*calls.Call{leg(a3), leg(a2), leg(a1)}},
		{"TENANT-1", "APP-1", []*calls.Call{leg(a3), leg(a2), leg(a1)}},
		{"Tenant-1", "aPP-1", []*calls.Call{leg(a3), leg(a2), leg(a1)}},
		{"tenant-1", "app-2", []*calls.Call{leg(b1)}},
		{"tenant-1", "", []*calls.Call{leg(a3), leg(a2), leg(b1), leg(a1)}},
		{"tEnAnT-1", "", []*calls.Call{leg(a3), leg(a2), leg(b1), leg(a1)}},
		{"tenant-2", "", []*calls.Call{leg(d1), leg(c1)}},
		{"tenant-2", "app-1", []*calls.Call{leg(c1)}},
		{"", "app-1", []*calls.Call{leg(a3), leg(c1), leg(a2), leg(a1)}},
		{"", "", []*calls.Call{leg(d1), leg(a3), leg(c1), leg(a2), leg(b1), leg(a1)}},
		{"tenant-2", "app-2", nil},
		{"tenant-3", "", nil},
		{"tenant", "", nil},
		{"tenant-1", "app", nil},
	} {
		got := recentCalls(t, s, tc.tenant, tc.app, 0)
		sameCalls(t, fmt.Sprintf("RecentCalls(%q, %q)", tc.tenant, tc.app), got, tc.want)
	}

	ended := recentCalls(t, s, "tenant-1", "app-1", 1)
	if len(ended) != 1 || ended[0].State != calls.StateTerminated || ended[0].Result == nil || ended[0].Spec.Subject == nil ||
		*ended[0].Spec.Subject != "subject of a3-call" || ended[0].Spec.Source == nil || len(ended[0].Spec.Targets) != 1 {
		t.Fatalf("the ended call is not listed with its state, result and spec: %+v", ended)
	}
}

// testRecentLegs: the legs of one conversation are listed each on its own,
// in their applications, with their own specs, between the calls of other
// conversations as their times say.
func testRecentLegs(t *testing.T, s RecentCallsStoreUnderTest) {
	m := recentConversation("m", "tenant-1", "app-1", base.Add(time.Second))
	second := *m.Legs[0]
	second.ID, second.AppID, second.ParticipantID = "m-call-2", "app-2", "p-m-2"
	second.Direction = "incoming"
	second.Spec.Subject = ptr("subject of m-call-2")
	second.CreatedAt = base.Add(3 * time.Second)
	m.Legs = append(m.Legs, &second)
	x := recentConversation("x", "tenant-1", "app-1", base.Add(2*time.Second))
	commit(t, s, m)
	commit(t, s, x)

	sameCalls(t, "by tenant", recentCalls(t, s, "tenant-1", "", 0), []*calls.Call{&second, x.Legs[0], m.Legs[0]})
	sameCalls(t, "by app-1", recentCalls(t, s, "tenant-1", "app-1", 0), []*calls.Call{x.Legs[0], m.Legs[0]})
	sameCalls(t, "by app-2", recentCalls(t, s, "tenant-1", "app-2", 0), []*calls.Call{&second})
	sameCalls(t, "limit 2", recentCalls(t, s, "", "", 2), []*calls.Call{&second, x.Legs[0]})
}

// testRecentOrder: newest first by creation, not by the last change; calls
// created at the same time come by id, descending; a call without a
// creation time (the zero time) is the oldest.
func testRecentOrder(t *testing.T, s RecentCallsStoreUnderTest) {
	var convs []*calls.Conversation
	for _, p := range []struct {
		id  string
		sec int
	}{{"o1", 1}, {"o3", 3}, {"o2", 3}, {"o4", 3}, {"o0", 0}, {"o5", 5}} {
		c := recentConversation(p.id, "tenant-1", "app-1", base.Add(time.Duration(p.sec)*time.Second))
		if p.id == "o0" {
			c.Legs[0].CreatedAt = time.Time{}
		}
		convs = append(convs, c)
		commit(t, s, c)
	}
	// A later change of o1 does not make it newer.
	o1 := convs[0]
	o1.Legs[0].State = calls.StateHold
	o1.Legs[0].UpdatedAt = base.Add(time.Hour)
	o1.UpdatedAt = base.Add(time.Hour)
	commit(t, s, o1)

	want := []string{"o5-call", "o4-call", "o3-call", "o2-call", "o1-call", "o0-call"}
	for _, f := range [][2]string{{"", ""}, {"tenant-1", ""}, {"tenant-1", "app-1"}, {"", "app-1"}} {
		if got := callIDs(recentCalls(t, s, f[0], f[1], 0)); !slices.Equal(got, want) {
			t.Errorf("RecentCalls(%q, %q) = %v, want %v", f[0], f[1], got, want)
		}
	}
	for _, c := range recentCalls(t, s, "tenant-1", "app-1", 0) {
		if c.ID == "o1-call" && c.State != calls.StateHold {
			t.Errorf("o1-call listed in state %v, want its last commit's (hold)", c.State)
		}
	}
}

// testRecentLimit: at most limit calls, the newest, whatever the filter.
func testRecentLimit(t *testing.T, s RecentCallsStoreUnderTest) {
	for i := range 6 {
		app := "app-1"
		if i%2 == 1 {
			app = "app-2"
		}
		commit(t, s, recentConversation(fmt.Sprintf("l%d", i), "tenant-1", app, base.Add(time.Duration(i)*time.Second)))
	}
	for _, tc := range []struct {
		tenant, app string
		limit       int
		want        []string
	}{
		{"", "", 1, []string{"l5-call"}},
		{"", "", 4, []string{"l5-call", "l4-call", "l3-call", "l2-call"}},
		{"tenant-1", "", 2, []string{"l5-call", "l4-call"}},
		{"tenant-1", "app-1", 2, []string{"l4-call", "l2-call"}},
		{"tenant-1", "app-2", 5, []string{"l5-call", "l3-call", "l1-call"}},
		{"", "app-1", 1, []string{"l4-call"}},
	} {
		if got := callIDs(recentCalls(t, s, tc.tenant, tc.app, tc.limit)); !slices.Equal(got, tc.want) {
			t.Errorf("RecentCalls(%q, %q, %d) = %v, want %v", tc.tenant, tc.app, tc.limit, got, tc.want)
		}
	}
}

// testRecentLimitBounds: a limit <= 0 means 100; more than 500 means 500.
func testRecentLimitBounds(t *testing.T, s RecentCallsStoreUnderTest) {
	const n = 501
	changes := make([]calls.Change, n)
	for i := range n {
		changes[i] = calls.Change{Conversation: recentConversation(fmt.Sprintf("b%03d", i), "tenant-1", "app-1", base.Add(time.Duration(i)*time.Millisecond))}
	}
	if err := s.CommitAll(t.Context(), changes); err != nil {
		t.Fatalf("CommitAll: %v", err)
	}
	newest := func(k int) []string {
		ids := make([]string, k)
		for i := range ids {
			ids[i] = fmt.Sprintf("b%03d-call", n-1-i)
		}
		return ids
	}
	// Each listing decodes its conversations (slow under the race
	// detector): each bound once, each filter at the maximum.
	for _, tc := range []struct {
		tenant, app string
		limit, want int
	}{
		{"tenant-1", "app-1", 0, 100}, {"tenant-1", "app-1", -1, 100}, {"tenant-1", "app-1", 101, 101},
		{"", "", 501, 500}, {"tenant-1", "", 1 << 30, 500}, {"tenant-1", "app-1", 500, 500},
	} {
		if got := callIDs(recentCalls(t, s, tc.tenant, tc.app, tc.limit)); !slices.Equal(got, newest(tc.want)) {
			t.Errorf("RecentCalls(%q, %q, %d) gave %d calls, want the newest %d", tc.tenant, tc.app, tc.limit, len(got), tc.want)
		}
	}
}

// testRecentDeleted: the calls of a conversation the retention sweep
// deleted are no longer listed; the others are.
func testRecentDeleted(t *testing.T, s RecentCallsStoreUnderTest) {
	old := recentConversation("old", "tenant-1", "app-1", base)
	commit(t, s, old)
	commit(t, s, end(old, base.Add(time.Minute)))
	kept := recentConversation("kept", "tenant-1", "app-1", base.Add(time.Second))
	commit(t, s, kept)
	commit(t, s, end(kept, base.Add(2*time.Hour)))
	live := recentConversation("live", "tenant-1", "app-1", base.Add(2*time.Second))
	commit(t, s, live)

	want := []string{"live-call", "kept-call", "old-call"}
	if got := callIDs(recentCalls(t, s, "tenant-1", "app-1", 0)); !slices.Equal(got, want) {
		t.Fatalf("before the sweep: %v, want %v", got, want)
	}
	if n, err := s.DeleteEnded(t.Context(), base.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("DeleteEnded = %d, %v; want 1 deleted", n, err)
	}
	want = want[:2]
	for _, f := range [][2]string{{"", ""}, {"tenant-1", ""}, {"tenant-1", "app-1"}} {
		if got := callIDs(recentCalls(t, s, f[0], f[1], 0)); !slices.Equal(got, want) {
			t.Errorf("RecentCalls(%q, %q) after the sweep = %v, want %v", f[0], f[1], got, want)
		}
	}
}

func testCallConversation(t *testing.T, s RecentCallsStoreUnderTest) {
	ctx := t.Context()
	c := recentConversation("conv-1", "tenant-1", "app-1", time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	if err := s.Commit(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.CallConversation(ctx, c.Legs[0].ID)
	if err != nil || got.ID != c.ID || len(got.Legs) != 1 || got.Legs[0].Spec.Subject == nil || *got.Legs[0].Spec.Subject != "subject of "+c.Legs[0].ID {
		t.Fatalf("CallConversation of a live call: %+v, %v", got, err)
	}
	c.Legs[0].State = calls.StateTerminated
	if err := s.Commit(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CallConversation(ctx, c.Legs[0].ID); err != nil || got.Legs[0].State != calls.StateTerminated {
		t.Fatalf("CallConversation of an ended call: %+v, %v", got, err)
	}
	if _, err := s.CallConversation(ctx, "no-such-call"); !errors.Is(err, calls.ErrNotFound) {
		t.Fatalf("CallConversation of an unknown call: %v, want ErrNotFound", err)
	}
}
