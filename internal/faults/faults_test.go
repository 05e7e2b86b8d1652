package faults

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRulesMatchAndCount(t *testing.T) {
	s, err := NewSet([]Rule{
		{ID: "twice", Match: Match{App: "app-1", Method: "POST", Path: "/v1.0/communications/calls"}, Count: 2, Effect: Effect{Status: 429, RetryAfter: "2s"}},
		{ID: "all-500", Match: Match{App: "app-2"}, Effect: Effect{Status: 500}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"twice", "twice", ""} {
		r, ok := s.Request("APP-1", "POST", "/v1.0/communications/calls/x/answer")
		if got := map[bool]string{true: r.ID}[ok]; got != want {
			t.Fatalf("request %d: %q, want %q", i, got, want)
		}
	}
	if _, ok := s.Request("app-1", "GET", "/v1.0/communications/calls"); ok {
		t.Error("a GET matched a POST rule")
	}
	if _, ok := s.Request("app-3", "POST", "/v1.0/communications/calls"); ok {
		t.Error("another app matched")
	}
	if r, ok := s.Request("app-2", "GET", "/beta/anything"); !ok || r.ID != "all-500" {
		t.Error("an unlimited rule stopped")
	}
	if l := s.List(); l[0].Applied != 2 || l[1].Applied != 1 {
		t.Errorf("applied %d and %d", l[0].Applied, l[1].Applied)
	}
	if !s.Delete("twice") || s.Delete("twice") || len(s.List()) != 1 {
		t.Error("delete")
	}

	w := httptest.NewRecorder()
	Apply(w, Rule{ID: `a"b`, Effect: Effect{Status: 429, RetryAfter: "1500ms"}})
	var env struct {
		Error struct{ Code, Message string }
	}
	if w.Code != 429 || w.Header().Get("Retry-After") != "2" || json.Unmarshal(w.Body.Bytes(), &env) != nil || env.Error.Code != "TooManyRequests" || !strings.Contains(env.Error.Message, `a"b`) {
		t.Errorf("applied: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func TestRuleChecks(t *testing.T) {
	for _, r := range []Rule{
		{ID: "", Effect: Effect{Status: 429}},
		{ID: "a/b", Effect: Effect{Status: 429}},
		{ID: "x", Effect: Effect{Status: 404}},
		{ID: "x", Count: -1, Effect: Effect{Status: 429}},
		{ID: "x", Probability: 1.5, Effect: Effect{Status: 429}},
		{ID: "x", Effect: Effect{Status: 503, RetryAfter: "soon"}},
		{ID: "x", Match: Match{Method: "post"}, Effect: Effect{Status: 500}},
	} {
		if r.Check() == nil {
			t.Errorf("%+v passed", r)
		}
	}
}

func TestProbability(t *testing.T) {
	s, _ := NewSet([]Rule{{ID: "half", Probability: 0.5, Effect: Effect{Status: 503}}})
	draws := []float64{0.7, 0.2, 0.5, 0.49}
	s.rand = func() float64 { d := draws[0]; draws = draws[1:]; return d }
	var got []bool
	for range 4 {
		_, ok := s.Request("a", "GET", "/")
		got = append(got, ok)
	}
	if want := []bool{false, true, false, true}; !equal(got, want) {
		t.Errorf("applied %v, want %v", got, want)
	}
}

func equal(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
