package sim

import (
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

func TestDirectory(t *testing.T) {
	d, err := NewDirectory(time.Second, []Rule{
		{ID: "+15550100", Behaviour: "unreachable"},
		{ID: "Bob", Behaviour: "noAnswer"},
		{ID: "carol", After: "3s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) *model.Identity { return &model.Identity{ID: s} }
	tests := []struct {
		name string
		set  model.IdentitySet
		want calls.Behaviour
	}{
		{"default", model.IdentitySet{User: id("alice")}, calls.Behaviour{Outcome: calls.OutcomeAnswer, After: time.Second}},
		{"phone unreachable", model.IdentitySet{Phone: id("+15550100")}, calls.Behaviour{Outcome: calls.OutcomeUnreachable}},
		{"case-insensitive", model.IdentitySet{User: id("bob")}, calls.Behaviour{Outcome: calls.OutcomeNoAnswer, After: time.Second}},
		{"own delay", model.IdentitySet{User: id("CAROL")}, calls.Behaviour{Outcome: calls.OutcomeAnswer, After: 3 * time.Second}},
		{"no id", model.IdentitySet{User: &model.Identity{}}, calls.Behaviour{Outcome: calls.OutcomeAnswer, After: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.Behaviour(tt.set); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Behaviour = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDirectoryRejectsBadRules(t *testing.T) {
	for _, r := range []Rule{{}, {ID: "x", Behaviour: "dance"}, {ID: "x", After: "soon"}, {ID: "x", After: "-1s"}} {
		if _, err := NewDirectory(0, []Rule{r}); err == nil {
			t.Errorf("NewDirectory accepted %+v", r)
		}
	}
}
