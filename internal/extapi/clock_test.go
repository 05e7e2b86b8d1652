package extapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/extapi"
)

// Only Switchboard.Operator moves a virtual clock; on the real clock the
// jump is a 409; the advance is checked.
func TestClockJump(t *testing.T) {
	serve := func(c extapi.Clock) http.Handler {
		return extapi.New(extapi.Config{Auth: fakeAuth{}, Store: &fakeStore{}, Replayer: &fakeReplayer{}, Logger: slog.New(slog.DiscardHandler),
			Sim: &extapi.Simulation{Clock: c}})
	}
	do := func(h http.Handler, tok, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/switchboard/v1/simulation/clock", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	v := clock.NewVirtual(clock.NewFake(t0))
	h := serve(v)
	if w := do(h, "tenant-1/app-1/admin", `{"advance":"45m"}`); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Switchboard.Operator") {
		t.Errorf("an administrator of one tenant jumps: %d %s", w.Code, w.Body)
	}
	for body, want := range map[string]string{`{}`: "required", `{"advance":"soon"}`: "duration", `{"advance":"-1m"}`: "positive", `{"advance":"9000h"}`: "at most"} {
		if w := do(h, "tenant-1/app-1/operator", body); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s, want a 400 saying %q", body, w.Code, w.Body, want)
		}
	}
	if v.Offset() != 0 {
		t.Fatalf("refused jumps moved the clock by %v", v.Offset())
	}
	if w := do(h, "tenant-1/app-1/operator", `{"advance":"+1h30m"}`); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"offset":"1h30m0s"`) || v.Offset() != 90*time.Minute {
		t.Errorf("an operator jumps: %d %s (offset %v)", w.Code, w.Body, v.Offset())
	}
	if w := do(serve(nil), "tenant-1/app-1/operator", `{"advance":"1m"}`); w.Code != http.StatusConflict {
		t.Errorf("a jump on the real clock: %d %s", w.Code, w.Body)
	}
}
