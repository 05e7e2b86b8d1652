package graph

import "testing"

func TestRouteLabel(t *testing.T) {
	for _, tt := range []struct{ method, path, want string }{
		{"POST", "/v1.0/communications/calls", "/communications/calls"},
		{"GET", "/beta/communications/calls", "/communications/calls"},
		{"GET", "/v1.0/app/calls", "/communications/calls"},
		{"GET", "/v1.0/communications/calls/7b1c", "/communications/calls/{id}"},
		{"HEAD", "/v1.0/communications/calls/7b1c", "/communications/calls/{id}"},
		{"DELETE", "/v1.0/Communications/Calls/7b1c", "/communications/calls/{id}"},
		{"POST", "/v1.0/communications/calls/7b1c/playPrompt", "/communications/calls/{id}/playPrompt"},
		{"POST", "/v1.0/communications/calls/7b1c/microsoft.graph.PLAYPROMPT", "/communications/calls/{id}/playPrompt"},
		{"POST", "/v1.0/app/calls/7b1c/answer", "/communications/calls/{id}/answer"},
		{"POST", "/v1.0/communications/calls/7b1c/dance", "/communications/calls/{id}/{action}"},
		{"POST", "/v1.0/communications/calls/logTeleconferenceDeviceQuality", "/communications/calls/logTeleconferenceDeviceQuality"},
		{"POST", "/v1.0/communications/calls/7b1c/participants/invite", "/communications/calls/{id}/participants/invite"},
		{"POST", "/v1.0/communications/calls/7b1c/participants/p1/startHoldMusic", "/communications/calls/{id}/participants/{pid}/startHoldMusic"},
		{"GET", "/v1.0/communications/calls/7b1c/participants/p1", "/communications/calls/{id}/participants/{pid}"},
		{"PATCH", "/beta/communications/calls/7b1c/audioRoutingGroups/g", "/communications/calls/{id}/audioRoutingGroups/{gid}"},
		{"GET", "/v1.0/communications/calls/7b1c/contentSharingSessions", "/communications/calls/{id}/contentSharingSessions"},
		{"GET", "/v1.0/communications/calls/7b1c/operations/o", "/communications/calls/{id}/operations/{oid}"},
		// No route serves these: one label for all of them.
		{"PUT", "/v1.0/communications/calls/7b1c", ""},
		{"GET", "/v1.0/communications/calls/7b1c/nothing/here/at/all", ""},
		{"GET", "/v1.0/me", ""},
		{"GET", "/v1.0/communications/calls/", ""},
	} {
		if got := RouteLabel(tt.method, tt.path); got != tt.want {
			t.Errorf("RouteLabel(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestEveryActionHasItsLabel keeps the spelling table in step with the
// action tables: an action missing from it would share "{action}" with
// unknown ones.
func TestEveryActionHasItsLabel(t *testing.T) {
	var actions []string
	for a := range callActions {
		actions = append(actions, a)
	}
	for a := range mediaActions {
		actions = append(actions, a)
	}
	for _, a := range actions {
		if _, ok := spelled[a]; !ok {
			t.Errorf("call action %q has no spelling, so no label of its own", a)
		}
	}
	for _, rt := range (&api{}).routes() {
		if RouteLabel(rt.method, "/v1.0"+rt.pattern[len("/{version}"):]) == "" {
			t.Errorf("route %s %s has no label", rt.method, rt.pattern)
		}
	}
}
