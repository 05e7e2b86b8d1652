package sim

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// DefaultAnswerDelay is how long a simulated identity rings before it
// answers, unless configured otherwise.
const DefaultAnswerDelay = 500 * time.Millisecond

// Rule is the configured behaviour of one identity. Durations are written
// like "1.5s"; an empty one means the default (After) or never (the rest).
type Rule struct {
	// ID is the identity's id (user object id, phone number, ...), matched
	// case-insensitively against every identity kind of a target.
	ID string `yaml:"id" json:"id"`
	// DisplayName is shown in rosters when the identity joins a meeting by
	// itself.
	DisplayName string `yaml:"displayName" json:"displayName,omitempty"`
	// Behaviour when called: "answer" (default), "noAnswer", "busy"
	// (declines) or "unreachable".
	Behaviour string `yaml:"behaviour" json:"behaviour,omitempty"`
	// After is the delay before answering, declining or being found
	// unreachable.
	After string `yaml:"after" json:"after,omitempty"`
	// HangUpAfter, MuteAfter and ShareScreenAfter schedule what the
	// identity does once in a call, counted from when it joined.
	HangUpAfter      string `yaml:"hangUpAfter" json:"hangUpAfter,omitempty"`
	MuteAfter        string `yaml:"muteAfter" json:"muteAfter,omitempty"`
	ShareScreenAfter string `yaml:"shareScreenAfter" json:"shareScreenAfter,omitempty"`
	// JoinMeeting makes the identity join, by itself, every meeting with
	// this join meeting id, thread id or token, JoinAfter after it starts.
	JoinMeeting string `yaml:"joinMeeting" json:"joinMeeting,omitempty"`
	JoinAfter   string `yaml:"joinAfter" json:"joinAfter,omitempty"`
	// Say is what the identity says once in a call's audio (a call with
	// service-hosted media, or an app-hosted one's media stream): DTMF keys
	// or a WAV file, each at an offset from joining.
	Say []Say `yaml:"say" json:"say,omitempty"`
}

// Say is one step of a simulated identity's speech.
type Say struct {
	At   string `yaml:"at" json:"at"`               // such as "2s"
	Keys string `yaml:"keys" json:"keys,omitempty"` // DTMF keys pressed in-band, such as "1234#"
	WAV  string `yaml:"wav" json:"wav,omitempty"`   // a WAV file to say
}

// Directory maps identities to simulated behaviours. Rules can be changed
// at run time with Set; it is safe for concurrent use.
type Directory struct {
	mu       sync.RWMutex
	def      calls.Behaviour
	rules    map[string]calls.Behaviour
	raw      map[string]Rule           // the rules as given, by lower-case id
	meetings map[string][]calls.Member // by meeting key
}

// NewDirectory builds a directory in which every identity without a rule
// answers after defaultDelay.
func NewDirectory(defaultDelay time.Duration, rules []Rule) (*Directory, error) {
	d := &Directory{
		def:      calls.Behaviour{Outcome: calls.OutcomeAnswer, After: defaultDelay},
		rules:    make(map[string]calls.Behaviour),
		raw:      make(map[string]Rule),
		meetings: make(map[string][]calls.Member),
	}
	for i, r := range rules {
		if err := d.add(r); err != nil {
			return nil, fmt.Errorf("sim: identities[%d]: %w", i, err)
		}
	}
	return d, nil
}

// Set adds or replaces the rule of r.ID. Calls already ringing keep the
// behaviour they were given.
func (d *Directory) Set(r Rule) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.raw[strings.ToLower(r.ID)]; ok && old.JoinMeeting != "" {
		d.dropMember(old)
	}
	return d.add(r)
}

// Rules returns the configured rules, in no particular order.
func (d *Directory) Rules() []Rule {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Rule, 0, len(d.raw))
	for _, r := range d.raw {
		out = append(out, r)
	}
	return out
}

func (d *Directory) dropMember(r Rule) {
	for key, ms := range d.meetings {
		kept := ms[:0:0]
		for _, m := range ms {
			if k, _ := identityID(m.Identity); !strings.EqualFold(k, r.ID) {
				kept = append(kept, m)
			}
		}
		d.meetings[key] = kept
	}
}

func identityID(s model.IdentitySet) (string, bool) {
	for _, x := range []*model.Identity{s.User, s.Phone} {
		if x != nil {
			return x.ID, true
		}
	}
	return "", false
}

// add validates and installs one rule. Called with d.mu held, or before d
// is shared.
func (d *Directory) add(r Rule) error {
	defaultDelay := d.def.After
	if r.ID == "" {
		return fmt.Errorf("id is required")
	}
	b := calls.Behaviour{After: defaultDelay}
	switch strings.ToLower(r.Behaviour) {
	case "", "answer":
		b.Outcome = calls.OutcomeAnswer
	case "noanswer":
		b.Outcome = calls.OutcomeNoAnswer
	case "busy", "reject":
		b.Outcome = calls.OutcomeBusy
	case "unreachable":
		b.Outcome = calls.OutcomeUnreachable
		b.After = 0
	default:
		return fmt.Errorf("%s: unknown behaviour %q; use answer, noAnswer, busy or unreachable", r.ID, r.Behaviour)
	}
	for _, f := range []struct {
		name, v string
		dst     *time.Duration
	}{
		{"after", r.After, &b.After}, {"hangUpAfter", r.HangUpAfter, &b.HangUpAfter},
		{"muteAfter", r.MuteAfter, &b.MuteAfter}, {"shareScreenAfter", r.ShareScreenAfter, &b.ShareAfter},
	} {
		if f.v == "" {
			continue
		}
		v, err := time.ParseDuration(f.v)
		if err != nil || v < 0 {
			return fmt.Errorf("%s: %s %q is not a duration such as 1.5s", r.ID, f.name, f.v)
		}
		*f.dst = v
	}
	for i, st := range r.Say {
		at, err := time.ParseDuration(st.At)
		if st.At == "" {
			at, err = 0, nil
		}
		if err != nil || at < 0 {
			return fmt.Errorf("%s: say[%d].at %q is not a duration", r.ID, i, st.At)
		}
		if (st.Keys == "") == (st.WAV == "") {
			return fmt.Errorf("%s: say[%d] needs exactly one of keys or wav", r.ID, i)
		}
		if strings.Trim(st.Keys, "0123456789*#ABCDabcd") != "" {
			return fmt.Errorf("%s: say[%d].keys %q are not DTMF keys", r.ID, i, st.Keys)
		}
		b.Script = append(b.Script, calls.Step{At: at, Keys: strings.ToUpper(st.Keys), WAV: st.WAV})
	}
	d.rules[strings.ToLower(r.ID)] = b
	d.raw[strings.ToLower(r.ID)] = r
	if r.JoinMeeting != "" {
		join := time.Duration(0)
		if r.JoinAfter != "" {
			v, err := time.ParseDuration(r.JoinAfter)
			if err != nil || v < 0 {
				return fmt.Errorf("%s: joinAfter %q is not a duration", r.ID, r.JoinAfter)
			}
			join = v
		}
		id := model.Identity{ID: r.ID}
		if r.DisplayName != "" {
			name := r.DisplayName
			id.DisplayName = &name
		}
		set := model.IdentitySet{User: &id}
		if strings.HasPrefix(r.ID, "+") {
			set = model.IdentitySet{Phone: &id}
		}
		m := calls.Member{Identity: set, After: join}
		digits := strings.Join(strings.Fields(r.JoinMeeting), "")
		for _, key := range []string{"jmid:" + digits, "thread:" + strings.ToLower(r.JoinMeeting), "token:" + r.JoinMeeting} {
			d.meetings[key] = append(d.meetings[key], m)
		}
	}
	return nil
}

// Behaviour returns the rule of the first identity in id that has one, or
// the default.
func (d *Directory) Behaviour(id model.IdentitySet) calls.Behaviour {
	d.mu.RLock()
	defer d.mu.RUnlock()
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

// MeetingMembers lists the identities configured to join the meeting with
// this key by themselves.
func (d *Directory) MeetingMembers(key string) []calls.Member {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return append([]calls.Member(nil), d.meetings[key]...)
}
