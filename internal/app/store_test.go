package app_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestPostgresStore runs a server on a PostgreSQL database: an application
// registered in the database gets a token and creates a call, and a
// second server on the same database, with a data directory of its own,
// finds the call and accepts the token, since both live in the database.
func TestPostgresStore(t *testing.T) {
	dbURL := strings.Replace(pgtest.Database(t), "postgres@", "postgres:s3cret@", 1) // trust auth ignores it
	cfg := app.Defaults()
	cfg.Dev = false
	cfg.Listen, cfg.ListenTLS, cfg.DataDir, cfg.Store = "127.0.0.1:0", "off", t.TempDir(), dbURL
	cfg.Simulation.AnswerDelay = 0

	// The database is migrated by the first Open, here the CLI's.
	s, err := store.Open(t.Context(), dbURL, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	reg := auth.Registration{TenantID: tenantA, DisplayName: "pg bot", Roles: []string{auth.RoleCallsInitiate}}
	registered, secret, err := auth.RegisterApp(t.Context(), s, reg, time.Now())
	if cerr := s.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}

	var logs bytes.Buffer
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, a) })
	<-a.Ready()
	base := "http://" + a.Addr("http")
	tok := appTokenWithSecret(t, base, registered.ClientID, secret)
	r := call(t, "POST", base+"/v1.0/communications/calls", tok, p2pBody(publicCallback))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	if !strings.Contains(logs.String(), "store=postgres") {
		t.Errorf("the log does not say the store is PostgreSQL:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows the database password:\n%s", logs.String())
	}

	cfg.DataDir = t.TempDir()
	b := start2(t, cfg)
	other := "http://" + b.Addr("http")
	if g := call(t, "GET", other+"/v1.0/communications/calls/"+created.ID, tok, ""); g.status != 200 || !strings.Contains(g.body, created.ID) {
		t.Errorf("the second server, with the first one's token: %d %s", g.status, g.body)
	}
	// The two are nodes of one cluster: the first owns the call, and a
	// hang-up through the second reaches it there.
	if !strings.Contains(logs.String(), "joined the cluster") {
		t.Errorf("the first server did not join a cluster:\n%s", logs.String())
	}
	// The hand-over between nodes answers only requests a node signed:
	// a client, even with a token, cannot move a call.
	handOver := other + "/switchboard/internal/handOver?call=" + created.ID + "&to=x"
	if h := call(t, "POST", handOver, tok, ""); h.status != 404 {
		t.Errorf("an unsigned hand-over: %d %s, want 404", h.status, h.body)
	}
	if h := call(t, "POST", handOver, tok, "", "Switchboard-Forwarded-By", "x", "Switchboard-Forwarded-At", "1"); h.status != 403 {
		t.Errorf("a forged hand-over: %d %s, want 403", h.status, h.body)
	}
	if d := call(t, "DELETE", other+"/v1.0/communications/calls/"+created.ID, tok, ""); d.status != 204 {
		t.Fatalf("hang up through the second server: %d %s", d.status, d.body)
	}
	if g := call(t, "GET", base+"/v1.0/communications/calls/"+created.ID, tok, ""); g.status != 200 || !strings.Contains(g.body, `"terminating"`) && !strings.Contains(g.body, `"terminated"`) {
		if g.status != 404 {
			t.Errorf("the call on its owner after a hang-up elsewhere: %d %s", g.status, g.body)
		}
	}
}

// appTokenWithSecret gets a token of clientID in tenant A with secret.
func appTokenWithSecret(t *testing.T, base, clientID, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default"}}
	r := call(t, "POST", base+"/"+tenantA+"/oauth2/v2.0/token", "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(r.body), &body)
	if body.AccessToken == "" {
		t.Fatalf("no token for %s: %d %s", clientID, r.status, r.body)
	}
	return body.AccessToken
}
