package extapi_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// The console's list: each caller sees what it may, newest first.
func TestListCallsShowsWhatTheCallerMaySee(t *testing.T) {
	h := newHarness(t)
	who := func(id string) *model.IdentitySet { return &model.IdentitySet{User: &model.Identity{ID: id}} }
	h.store.legs = []*calls.Call{
		{ID: "call-3", TenantID: "tenant-2", AppID: "app-9", State: calls.StateEstablished, Direction: "outgoing", CreatedAt: t0},
		{ID: "call-2", TenantID: "tenant-1", AppID: "app-2", State: calls.StateTerminated, Direction: "incoming", CreatedAt: t0,
			Result: &calls.ResultInfo{Code: 200, Subcode: 5001}, Spec: model.Call{Source: &model.ParticipantInfo{Identity: who("carol")}},
			Operations: []model.CommsOperation{{ODataType: "#microsoft.graph.playPromptOperation", ID: "op-1", Status: model.OperationStatusCompleted,
				ResultInfo: &model.ResultInfo{Code: 200}}}},
		{ID: "call-1", TenantID: "tenant-1", AppID: "app-1", State: calls.StateEstablished, Direction: "outgoing", CreatedAt: t0,
			Spec: model.Call{Targets: []model.InvitationParticipantInfo{{Identity: who("bob")}}}},
	}
	h.store.owners["call-2"] = [2]string{"tenant-1", "app-2"}
	ids := func(r response) []string {
		var out []string
		for _, v := range r.body["value"].([]any) {
			out = append(out, v.(map[string]any)["id"].(string))
		}
		return out
	}
	for _, tc := range []struct {
		token string
		want  []string
	}{
		{"tenant-1/app-1", []string{"call-1"}},
		{"tenant-1/app-1/admin", []string{"call-2", "call-1"}},
		{"tenant-1/app-1/operator", []string{"call-3", "call-2", "call-1"}},
	} {
		r := h.do(t, "GET", "/switchboard/v1/calls", tc.token, "")
		if got := ids(r); r.status != http.StatusOK || len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("%s lists %v (%d), want %v", tc.token, got, r.status, tc.want)
		}
	}
	r := h.do(t, "GET", "/switchboard/v1/calls", "tenant-1/app-1", "")
	first := r.body["value"].([]any)[0].(map[string]any)
	parties := first["parties"].([]any)
	if first["state"] != "established" || first["direction"] != "outgoing" || len(parties) != 1 || first["createdDateTime"] == "" {
		t.Errorf("summary %v", first)
	}
	if r := h.do(t, "GET", "/switchboard/v1/calls?$top=0", "tenant-1/app-1", ""); r.status != http.StatusBadRequest {
		t.Errorf("$top=0: %d", r.status)
	}
	if r := h.do(t, "GET", "/switchboard/v1/calls?$filter=x", "tenant-1/app-1", ""); r.status != http.StatusBadRequest {
		t.Errorf("$filter: %d", r.status)
	}
	// One call, with its roster; another application's is not found.
	one := h.do(t, "GET", "/switchboard/v1/calls/call-2", "tenant-1/app-1/admin", "")
	if roster, _ := one.body["roster"].([]any); one.status != http.StatusOK || len(roster) != 1 || one.body["resultInfo"] == nil {
		t.Errorf("one call: %d %s", one.status, one.raw)
	}
	if ops, _ := one.body["operations"].([]any); len(ops) != 1 || ops[0].(map[string]any)["type"] != "playPromptOperation" || ops[0].(map[string]any)["status"] != "Completed" {
		t.Errorf("one call's operations: %s", one.raw)
	}
	if r := h.do(t, "GET", "/switchboard/v1/calls/call-2", "tenant-1/app-1", ""); r.status != http.StatusNotFound {
		t.Errorf("another application's call: %d %s", r.status, r.raw)
	}
}
