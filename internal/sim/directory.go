package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// DefaultAnswerDelay is how long a simulated identity rings before it
// answers, unless configured otherwise.
const DefaultAnswerDelay = 500 * time.Millisecond

// Rule is the configured behaviour of one identity.
type Rule struct {
	// ID is the identity's id (user object id, phone number, ...), matched
	// case-insensitively against every identity kind of a target.
	ID string `yaml:"id" json:"id"`
	// Behaviour: "answer" (default), "noAnswer" or "unreachable".
	Behaviour string `yaml:"behaviour" json:"behaviour"`
	// After is the delay before answering or before the call is found to be
	// unreachable, for example "2s". Empty: the directory's default delay.
	After string `yaml:"after" json:"after"`
}

// Directory maps identities to simulated behaviours. It is immutable after
// NewDirectory and safe for concurrent use.
type Directory struct {
	def   calls.Behaviour
	rules map[string]calls.Behaviour
}

// NewDirectory builds a directory in which every identity without a rule
// answers after defaultDelay.
func NewDirectory(defaultDelay time.Duration, rules []Rule) (*Directory, error) {
	d := &Directory{def: calls.Behaviour{Outcome: calls.OutcomeAnswer, After: defaultDelay}, rules: make(map[string]calls.Behaviour)}
	for i, r := range rules {
		if r.ID == "" {
			return nil, fmt.Errorf("sim: identities[%d]: id is required", i)
		}
		b := calls.Behaviour{After: defaultDelay}
		switch strings.ToLower(r.Behaviour) {
		case "", "answer":
			b.Outcome = calls.OutcomeAnswer
		case "noanswer":
			b.Outcome = calls.OutcomeNoAnswer
		case "unreachable":
			b.Outcome = calls.OutcomeUnreachable
			b.After = 0
		default:
			return nil, fmt.Errorf("sim: identities[%d] (%s): unknown behaviour %q; use answer, noAnswer or unreachable", i, r.ID, r.Behaviour)
		}
		if r.After != "" {
			after, err := time.ParseDuration(r.After)
			if err != nil || after < 0 {
				return nil, fmt.Errorf("sim: identities[%d] (%s): after %q is not a duration such as 1.5s", i, r.ID, r.After)
			}
			b.After = after
		}
		d.rules[strings.ToLower(r.ID)] = b
	}
	return d, nil
}

// Behaviour returns the rule of the first identity in id that has one, or
// the default.
func (d *Directory) Behaviour(id model.IdentitySet) calls.Behaviour {
	for _, x := range []*model.Identity{id.User, id.Phone, id.Guest, id.Application, id.ApplicationInstance,
		id.AzureCommunicationServicesUser, id.OnPremises, id.Encrypted} {
		if x == nil || x.ID == "" {
			continue
		}
		if b, ok := d.rules[strings.ToLower(x.ID)]; ok {
			return b
		}
	}
	return d.def
}
