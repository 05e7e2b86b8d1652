package calls_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
)

func ids(legs []*calls.Call) []string {
	out := make([]string, len(legs))
	for i, l := range legs {
		out[i] = l.ID
	}
	return out
}

// List and ListPage give an application's live calls oldest first, without
// its ended calls or anyone else's, and ListPage pages them.
func TestListPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		var mine []string
		for i := range 6 {
			leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
			if err != nil {
				t.Fatal(err)
			}
			mine = append(mine, leg.ID)
			if _, err := f.svc.Create(t.Context(), mallory, p2p("bob")); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				time.Sleep(time.Millisecond) // some calls share a creation time
			}
		}
		if err := f.svc.HangUp(t.Context(), alice, mine[2]); err != nil {
			t.Fatal(err)
		}
		mine = append(mine[:2:2], mine[3:]...)

		if got := ids(f.svc.List(t.Context(), alice)); !equal(got, ordered(t, f, mine)) {
			t.Fatalf("List = %v, want %v", got, ordered(t, f, mine))
		}
		want := ordered(t, f, mine)
		tests := []struct {
			name          string
			offset, limit int
			want          []string
		}{
			{"all", 0, 100, want},
			{"first two", 0, 2, want[:2]},
			{"middle", 2, 2, want[2:4]},
			{"past the end", 4, 10, want[4:]},
			{"beyond", 9, 10, nil},
			{"nothing", 1, 0, nil},
		}
		for _, tt := range tests {
			page, total := f.svc.ListPage(t.Context(), alice, tt.offset, tt.limit)
			if got := ids(page); total != len(want) || !equal(got, tt.want) {
				t.Errorf("%s: ListPage(%d, %d) = %v, %d; want %v, %d", tt.name, tt.offset, tt.limit, got, total, tt.want, len(want))
			}
		}
		if page, total := f.svc.ListPage(t.Context(), calls.Caller{TenantID: "t2", AppID: alice.AppID}, 0, 10); len(page) != 0 || total != 0 {
			t.Errorf("another tenant's ListPage = %v, %d", ids(page), total)
		}
	})
}

// ordered sorts call ids as List promises: by creation time, then id.
func ordered(t *testing.T, f *fixture, callIDs []string) []string {
	t.Helper()
	out := append([]string(nil), callIDs...)
	created := func(id string) time.Time {
		l, err := f.svc.Get(t.Context(), alice, id)
		if err != nil {
			t.Fatal(err)
		}
		return l.CreatedAt
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0; j-- {
			a, b := created(out[j-1]), created(out[j])
			if a.Before(b) || (a.Equal(b) && out[j-1] < out[j]) {
				break
			}
			out[j-1], out[j] = out[j], out[j-1]
		}
	}
	return out
}

// A leg that ends while its conversation goes on (one application leaves a
// meeting) leaves the list; the other application's leg stays.
func TestListDropsALegThatEndsInALiveConversation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		bot2 := calls.Caller{TenantID: alice.TenantID, AppID: "app-b", Roles: alice.Roles}
		a, err := f.svc.Create(t.Context(), alice, meetingSpec("777"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.Create(t.Context(), bot2, meetingSpec("777"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.HangUp(t.Context(), alice, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.svc.List(t.Context(), alice); len(got) != 0 {
			t.Errorf("List after hang-up = %v, want none", ids(got))
		}
		if got := ids(f.svc.List(t.Context(), bot2)); !equal(got, []string{b.ID}) {
			t.Errorf("other application's List = %v, want [%s]", got, b.ID)
		}
	})
}

// Calls resumed at start are listed in creation order.
func TestListAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		f := newFixture(t, store)
		var want []string
		for range 3 {
			leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, leg.ID)
			time.Sleep(time.Millisecond)
		}
		f.svc.Shutdown(t.Context())
		g := newFixture(t, store)
		if got := ids(g.svc.List(t.Context(), alice)); !equal(got, want) {
			t.Fatalf("List after restart = %v, want %v", got, want)
		}
		if page, total := g.svc.ListPage(t.Context(), alice, 1, 1); total != 3 || !equal(ids(page), want[1:2]) {
			t.Fatalf("ListPage after restart = %v, %d", ids(page), total)
		}
	})
}
