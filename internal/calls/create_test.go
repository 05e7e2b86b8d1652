package calls_test

import (
	"testing"
	"testing/synctest"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// A callee that answers at once is answered in the create's own commit: the
// 201 still shows the call establishing, the call is established as soon
// as Create returns, and the notifications are establishing then
// established, numbered 1 and 2, committed together.
func TestCreateAnsweredAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		targets []string
		want    []string
	}{
		{"peer-to-peer", []string{"bob"}, []string{"establishing", "established"}},
		// The app's leg connects first (established and a roster with
		// itself), then each callee that answers at once joins.
		{"group", []string{"bob", "dave"}, []string{"establishing", "established", "roster", "roster", "roster"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rules []sim.Rule
				spec := p2p(tt.targets[0])
				spec.Targets = nil
				for _, id := range tt.targets {
					rules = append(rules, sim.Rule{ID: id, After: "0s"})
					spec.Targets = append(spec.Targets, model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: id}}})
				}
				store := callstest.NewStore()
				f := newFixture(t, store, rules...)
				leg, err := f.svc.Create(t.Context(), alice, spec)
				if err != nil {
					t.Fatal(err)
				}
				if leg.State != calls.StateEstablishing {
					t.Fatalf("created leg is %v, want establishing", leg.State)
				}
				if n := store.Commits(); n != 1 {
					t.Fatalf("create made %d commits, want 1", n)
				}
				got, err := f.svc.Get(t.Context(), alice, leg.ID)
				if err != nil || got.State != calls.StateEstablished {
					t.Fatalf("Get after Create = %v, %v; want established", got, err)
				}
				if roster, _ := f.svc.Participants(t.Context(), alice, leg.ID); len(roster) != 1+len(tt.targets) {
					t.Fatalf("roster has %d participants, want %d", len(roster), 1+len(tt.targets))
				}
				// notifications checks the sequence numbers 1, 2, ...
				if ns := states(notifications(t, f, leg.ID)); !equal(ns, tt.want) {
					t.Fatalf("notifications = %v, want %v", ns, tt.want)
				}
				synctest.Wait() // no timer is left to answer a second time
				if n := store.Commits(); n != 1 {
					t.Fatalf("%d commits after the timers ran, want 1", n)
				}
				if ns := states(notifications(t, f, leg.ID)); !equal(ns, tt.want) {
					t.Fatalf("notifications after the timers ran = %v, want %v", ns, tt.want)
				}
			})
		})
	}
}

// A callee that answers after a delay still rings first: the create commits
// alone and the answer comes with its timer.
func TestCreateAnsweredLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		f := newFixture(t, store) // the directory's default delay is 1 s
		leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(t.Context(), alice, leg.ID); got.State != calls.StateEstablishing {
			t.Fatalf("state right after Create = %v, want establishing", got.State)
		}
		if ns := states(notifications(t, f, leg.ID)); !equal(ns, []string{"establishing"}) {
			t.Fatalf("notifications = %v, want [establishing]", ns)
		}
		if n := store.Commits(); n != 1 {
			t.Fatalf("%d commits, want 1", n)
		}
	})
}
