package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/sim"
	"github.com/switchboard-dev/switchboard/internal/store/sqlite"
)

// scopedServer runs, with its data in dir, a development server (so callbacks may go to a
// loopback receiver) with, besides the development application:
//
//	adminA: tenant A, Switchboard.Admin
//	a1:     tenant A, calls permissions (a bot)
//	adminB: tenant B, Switchboard.Admin
//	b1:     tenant B, calls permissions
//	opB:    tenant B, Switchboard.Operator, granted by the configuration
func scopedServer(t *testing.T, dir string, opts ...app.Option) (*app.App, string) {
	t.Helper()
	calls := []string{auth.RoleCallsInitiate, auth.RoleCallsAccessMedia}
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", dir
	cfg.Simulation.AnswerDelay = 0
	cfg.Simulation.Identities = []sim.Rule{{ID: "caller", Say: []sim.Say{{At: "200ms", Keys: "1"}, {At: "1500ms", Keys: "#"}}}}
	cfg.Apps = []app.AppConfig{
		{ClientID: "adminA", TenantID: tenantA, Secret: "secret-adminA", Roles: []string{auth.RoleAdmin}},
		{ClientID: "a1", TenantID: tenantA, Secret: "secret-a1", Roles: calls},
		{ClientID: "adminB", TenantID: tenantB, Secret: "secret-adminB", Roles: []string{auth.RoleAdmin}},
		{ClientID: "b1", TenantID: tenantB, Secret: "secret-b1", Roles: calls},
		{ClientID: "opB", TenantID: tenantB, Secret: "secret-opB", Roles: []string{auth.RoleOperator}},
	}
	a := start2(t, cfg, opts...)
	return a, "http://" + a.Addr("http")
}

// TestAdminPlacesIncomingCallsInItsTenantOnly: placing an incoming call
// makes the server sign a callback token for the target application and
// tenant, so Switchboard.Admin may call only applications that exist in
// its own tenant; Switchboard.Operator may call any that exists.
func TestAdminPlacesIncomingCallsInItsTenantOnly(t *testing.T) {
	_, base := scopedServer(t, t.TempDir())
	_, hookURL := newHook(t)
	toks := map[string]string{}
	for _, c := range []struct{ tenant, client string }{{tenantA, "adminA"}, {tenantB, "adminB"}, {tenantB, "opB"}, {tenantA, "a1"}} {
		toks[c.client] = appToken(t, base, c.tenant, c.client)
	}
	place := func(tok, to string) result {
		t.Helper()
		return call(t, "POST", base+"/switchboard/v1/simulation/incomingCalls", tok,
			`{"to":`+to+`,"from":{"phone":{"id":"+15550123"}},"callbackUri":"`+hookURL+`/webhook"}`)
	}
	for _, tt := range []struct {
		name, who, to string
		status        int
		says          string
	}{
		{"admin into another tenant", "adminB", `{"applicationId":"a1","tenantId":"` + tenantA + `"}`, 403, "Switchboard.Operator"},
		{"admin names another tenant's app as its own", "adminB", `{"applicationId":"a1"}`, 400, "to.applicationId"},
		{"admin calls an unknown app", "adminB", `{"applicationId":"no-such-app"}`, 400, "to.applicationId"},
		{"admin calls an unknown app in its tenant, named", "adminA", `{"applicationId":"b1","tenantId":"` + tenantA + `"}`, 400, "to.applicationId"},
		{"a bot without the role", "a1", `{"applicationId":"a1"}`, 403, "Switchboard.Admin"},
		{"admin in its tenant", "adminA", `{"applicationId":"a1"}`, 201, ""},
		{"admin in its tenant, named", "adminB", `{"applicationId":"b1","tenantId":"` + strings.ToUpper(tenantB) + `"}`, 201, ""},
		{"operator into another tenant", "opB", `{"applicationId":"a1","tenantId":"` + tenantA + `"}`, 201, ""},
		{"operator calls an unknown app", "opB", `{"applicationId":"no-such-app","tenantId":"` + tenantA + `"}`, 400, "to.applicationId"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := place(toks[tt.who], tt.to)
			if r.status != tt.status || !strings.Contains(r.body, tt.says) {
				t.Fatalf("%d %s, want %d mentioning %q", r.status, r.body, tt.status, tt.says)
			}
		})
	}
}

// TestAdminSimulationStaysInItsTenant: another tenant's administrator
// cannot see, drive, listen to or download the recordings of a call; the
// call's own tenant's administrator and the operator can.
func TestAdminSimulationStaysInItsTenant(t *testing.T) {
	a, base := scopedServer(t, t.TempDir(), app.WithManualMedia())
	h, hookURL := newHook(t)
	bot := appToken(t, base, tenantA, "a1")
	adminA, adminB, opB := appToken(t, base, tenantA, "adminA"), appToken(t, base, tenantB, "adminB"), appToken(t, base, tenantB, "opB")

	r := call(t, "POST", base+"/v1.0/communications/calls", bot, `{"callbackUri":"`+hookURL+`/cb","targets":[{"identity":{"user":{"id":"caller"}}}],
		"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	h.waitFor(t, "established", has(`"state":"established"`))
	if r := call(t, "POST", base+"/v1.0/communications/calls/"+created.ID+"/recordResponse", bot,
		`{"playBeep":false,"stopTones":["#"],"maxRecordDurationInSeconds":20,"initialSilenceTimeoutInSeconds":10}`); r.status != 200 {
		t.Fatalf("recordResponse: %d %s", r.status, r.body)
	}
	if err := a.StepMedia(t.Context(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	recorded := h.waitFor(t, "completing recordResponse", has(`recordOperation`, `"status":"Completed"`))
	var env struct {
		Value []struct {
			ResourceData struct{ RecordingLocation, RecordingAccessToken string }
		}
	}
	json.Unmarshal([]byte(recorded), &env)
	rec := env.Value[0].ResourceData
	if rec.RecordingLocation == "" || rec.RecordingAccessToken == "" {
		t.Fatalf("no recording: %s", recorded)
	}

	// The caller's participant id, as the call's own administrator sees it.
	sim := base + "/switchboard/v1/simulation/calls/" + created.ID
	r = call(t, "GET", sim, adminA, "")
	var conv struct {
		Roster []struct {
			ID     string
			CallID string
		}
	}
	json.Unmarshal([]byte(r.body), &conv)
	var caller string
	for _, p := range conv.Roster {
		if p.CallID == "" {
			caller = p.ID
		}
	}
	if r.status != 200 || caller == "" {
		t.Fatalf("the call's administrator sees: %d %s", r.status, r.body)
	}

	for _, tt := range []struct{ method, path, body string }{
		{"GET", sim, ""},
		{"GET", sim + "/participants/" + caller + "/heard", ""},
		{"POST", sim + "/participants/" + caller + "/pressTones", `{"keys":"1"}`},
		{"POST", sim + "/participants/" + caller + "/mute", ""},
		{"GET", base + "/switchboard/v1/calls/" + created.ID + "/notifications", ""},
	} {
		if r := call(t, tt.method, tt.path, adminB, tt.body); r.status != 404 {
			t.Errorf("%s %s by another tenant's admin: %d %.200q, want 404", tt.method, strings.TrimPrefix(tt.path, base), r.status, r.body)
		}
	}
	if r := call(t, "POST", base+"/switchboard/v1/simulation/meetings/join", adminB,
		`{"tenantId":"`+tenantA+`","chatInfo":{"threadId":"19:x@thread.v2"},"identity":{"user":{"id":"eve"}},
		  "meetingInfo":{"@odata.type":"#microsoft.graph.organizerMeetingInfo","organizer":{"user":{"id":"org"}}}}`); r.status != 403 {
		t.Errorf("joining another tenant's meeting: %d %s, want 403", r.status, r.body)
	}
	// The recording itself needs its own token, which only tenant A's
	// notifications carry.
	if res, err := http.Get(rec.RecordingLocation); err != nil || res.StatusCode != 404 {
		t.Errorf("recording without its token: %v %v", res.StatusCode, err)
	}

	for _, who := range []string{adminA, opB} {
		if r := call(t, "GET", sim+"/participants/"+caller+"/heard", who, ""); r.status != 200 {
			t.Errorf("heard by the call's tenant admin or the operator: %d %.200q", r.status, r.body)
		}
		if r := call(t, "GET", base+"/switchboard/v1/calls/"+created.ID+"/notifications", who, ""); r.status != 200 || !strings.Contains(r.body, rec.RecordingAccessToken) {
			t.Errorf("notification log for the call's tenant admin or the operator: %d", r.status)
		}
	}
}

// TestOperatorIsGrantedOnlyByConfiguration: `switchboard apps` cannot
// register an application with Switchboard.Operator.
func TestOperatorIsGrantedOnlyByConfiguration(t *testing.T) {
	if err := auth.ValidateRoles([]string{auth.RoleOperator}); err == nil || !strings.Contains(err.Error(), "configuration") {
		t.Fatalf("ValidateRoles(Operator) = %v, want a refusal pointing at the configuration file", err)
	}
}

// TestStoredAppNeverCarriesOperator: an application in the database with
// Switchboard.Operator among its roles (written around `switchboard apps`,
// which refuses it) gets tokens without it, so it stays in its tenant.
func TestStoredAppNeverCarriesOperator(t *testing.T) {
	dir := t.TempDir()
	_, base := scopedServer(t, dir)
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, app.DatabaseFile), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	err = store.CreateApp(t.Context(), auth.App{ClientID: "sneaky", TenantID: tenantB, DisplayName: "sneaky",
		Roles: []string{auth.RoleAdmin, auth.RoleOperator}, Secrets: []auth.Secret{auth.StaticSecret(auth.HashSecret("secret-sneaky"))}})
	if err != nil {
		t.Fatal(err)
	}
	tok := appToken(t, base, tenantB, "sneaky")
	_, hookURL := newHook(t)
	r := call(t, "POST", base+"/switchboard/v1/simulation/incomingCalls", tok,
		`{"to":{"applicationId":"a1","tenantId":"`+tenantA+`"},"from":{"phone":{"id":"+15550123"}},"callbackUri":"`+hookURL+`/webhook"}`)
	if r.status != 403 {
		t.Fatalf("a stored app claiming Switchboard.Operator: %d %s, want 403", r.status, r.body)
	}
}
