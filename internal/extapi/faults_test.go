package extapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/extapi"
	"github.com/switchboard-dev/switchboard/internal/faults"
)

// Fault rules: Switchboard.Operator only, development mode only, checked.
func TestFaultRules(t *testing.T) {
	serve := func(set *faults.Set) http.Handler {
		return extapi.New(extapi.Config{Auth: fakeAuth{}, Store: &fakeStore{}, Replayer: &fakeReplayer{}, Logger: slog.New(slog.DiscardHandler),
			Sim: &extapi.Simulation{Faults: set}})
	}
	do := func(h http.Handler, method, path, tok, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/switchboard/v1/simulation/faults"+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	set, _ := faults.NewSet(nil)
	h := serve(set)
	rule := `{"match":{"method":"POST"},"count":1,"effect":{"status":503,"retryAfter":"2s"}}`
	if w := do(h, "PUT", "/r1", "tenant-1/app-1/admin", rule); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Switchboard.Operator") {
		t.Errorf("an administrator of one tenant sets a rule: %d %s", w.Code, w.Body)
	}
	if w := do(h, "PUT", "/r1", "tenant-1/app-1/operator", `{"effect":{"status":404}}`); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "effect.status") {
		t.Errorf("a rule with status 404: %d %s", w.Code, w.Body)
	}
	if w := do(h, "PUT", "/r1", "tenant-1/app-1/operator", rule); w.Code != http.StatusOK {
		t.Fatalf("an operator sets a rule: %d %s", w.Code, w.Body)
	}
	if _, ok := set.Request("app-9", "POST", "/v1.0/communications/calls"); !ok {
		t.Error("the rule set through the API does not apply")
	}
	if w := do(h, "GET", "", "tenant-1/app-1/operator", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"applied":1`) {
		t.Errorf("list: %d %s", w.Code, w.Body)
	}
	if w := do(h, "DELETE", "/r1", "tenant-1/app-1/operator", ""); w.Code != http.StatusNoContent {
		t.Errorf("delete: %d %s", w.Code, w.Body)
	}
	if w := do(h, "DELETE", "/r1", "tenant-1/app-1/operator", ""); w.Code != http.StatusNotFound {
		t.Errorf("delete again: %d %s", w.Code, w.Body)
	}
	if w := do(serve(nil), "GET", "", "tenant-1/app-1/operator", ""); w.Code != http.StatusConflict {
		t.Errorf("outside development mode: %d %s", w.Code, w.Body)
	}
}
