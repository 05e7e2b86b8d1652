// Package faults makes the Graph API misbehave on cue, as Graph does on
// bad days: rules, from the configuration or the extension API, that
// answer matching requests with 429 or 503 (with Retry-After) or 500, a
// number of times or with a probability. Every fault applied is logged. It
// imports only the standard library.
package faults

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Rule is one fault: which requests it matches, how often, and its effect.
type Rule struct {
	ID    string `json:"id" yaml:"id"`
	Match Match  `json:"match" yaml:"match"`
	// Count is how many matching requests it applies to (then it stays,
	// spent, until deleted); 0 is every one.
	Count int `json:"count,omitempty" yaml:"count"`
	// Probability, in (0, 1], applies it to each matching request with
	// that chance (within Count); 0 is always.
	Probability float64 `json:"probability,omitempty" yaml:"probability"`
	Effect      Effect  `json:"effect" yaml:"effect"`
	// Applied counts the requests it answered (read-only).
	Applied int `json:"applied" yaml:"-"`
}

// Match selects Graph API requests; empty fields match anything.
type Match struct {
	App    string `json:"app,omitempty" yaml:"app"`       // the caller's client id
	Method string `json:"method,omitempty" yaml:"method"` // GET, POST, ...
	// Path is a prefix of the request's path, such as
	// /v1.0/communications/calls.
	Path string `json:"path,omitempty" yaml:"path"`
}

// Effect is what a matching request gets.
type Effect struct {
	// Status is 429, 500 or 503.
	Status int `json:"status" yaml:"status"`
	// RetryAfter, a duration such as 2s, is sent with 429 and 503
	// (default 1s).
	RetryAfter string `json:"retryAfter,omitempty" yaml:"retryAfter"`
}

// Limits of a rule set.
const (
	MaxRules    = 100
	MaxIDLength = 100
)

// Check says what is wrong with r, or nil.
func (r Rule) Check() error {
	switch {
	case r.ID == "" || len(r.ID) > MaxIDLength || strings.ContainsFunc(r.ID, func(c rune) bool { return c < ' ' || c == 0x7f || strings.ContainsRune("/?#", c) }):
		return fmt.Errorf("id: 1 to %d printable characters, without / ? #", MaxIDLength)
	case r.Count < 0:
		return fmt.Errorf("count: must not be negative")
	case r.Probability < 0 || r.Probability > 1:
		return fmt.Errorf("probability: must be in (0, 1], or 0 for always")
	case !slices.Contains([]int{429, 500, 503}, r.Effect.Status):
		return fmt.Errorf("effect.status: %d; use 429, 500 or 503", r.Effect.Status)
	}
	if r.Effect.RetryAfter != "" {
		if d, err := time.ParseDuration(r.Effect.RetryAfter); err != nil || d < 0 || d > time.Hour {
			return fmt.Errorf("effect.retryAfter: %q is not a duration between 0s and 1h", r.Effect.RetryAfter)
		}
	}
	if m := r.Match.Method; m != "" && m != strings.ToUpper(m) {
		return fmt.Errorf("match.method: %q must be upper case", m)
	}
	return nil
}

// Set is the rules in force. It is safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	rules []*Rule // in the order they were put
	rand  func() float64
}

// NewSet returns a Set with rules, which must each pass Check.
func NewSet(rules []Rule) (*Set, error) {
	s := &Set{rand: rand.Float64}
	for _, r := range rules {
		if err := s.Put(r); err != nil {
			return nil, fmt.Errorf("faults[%s]: %w", r.ID, err)
		}
	}
	return s, nil
}

// Put adds r, or replaces the rule with its id (its count starts again).
func (s *Set) Put(r Rule) error {
	if err := r.Check(); err != nil {
		return err
	}
	r.Applied = 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.rules {
		if old.ID == r.ID {
			s.rules[i] = &r
			return nil
		}
	}
	if len(s.rules) >= MaxRules {
		return fmt.Errorf("at most %d rules", MaxRules)
	}
	s.rules = append(s.rules, &r)
	return nil
}

// Delete removes rule id and reports whether it was there.
func (s *Set) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if r.ID == id {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Empty reports whether no rule is in force (nil is empty).
func (s *Set) Empty() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rules) == 0
}

// List returns copies of the rules.
func (s *Set) List() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Rule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, *r)
	}
	return out
}

// Request returns the effect for a request of app, or false: the first
// rule that matches it and has a use left (and wins its draw).
func (s *Set) Request(app, method, path string) (Rule, bool) {
	if s == nil {
		return Rule{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		m := r.Match
		switch {
		case m.App != "" && !strings.EqualFold(m.App, app),
			m.Method != "" && m.Method != method,
			m.Path != "" && !strings.HasPrefix(strings.ToLower(path), strings.ToLower(m.Path)),
			r.Count > 0 && r.Applied >= r.Count,
			r.Probability > 0 && s.rand() >= r.Probability:
			continue
		}
		r.Applied++
		return *r, true
	}
	return Rule{}, false
}

// Apply writes r's effect: the status, Retry-After, and a Graph error
// envelope that says it was injected.
func Apply(w http.ResponseWriter, r Rule) {
	status := r.Effect.Status
	code := map[int]string{429: "TooManyRequests", 500: "InternalServerError", 503: "serviceNotAvailable"}[status]
	if status != 500 {
		secs := 1
		if d, err := time.ParseDuration(r.Effect.RetryAfter); err == nil {
			secs = int((d + time.Second - 1) / time.Second)
		}
		w.Header().Set("Retry-After", fmt.Sprint(secs))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Switchboard-Fault", r.ID)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": "A fault injected by rule " + r.ID + " (switchboard simulation faults).",
		"innerError": map[string]string{"date": time.Now().UTC().Format(time.RFC3339)}}})
}
