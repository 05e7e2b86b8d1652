package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// TestCommandsOnPostgres: with --store (or SWITCHBOARD_STORE), apps and
// sip-accounts work on a PostgreSQL database, and leave --data alone.
func TestCommandsOnPostgres(t *testing.T) {
	dbURL := pgtest.Database(t)
	dir := filepath.Join(t.TempDir(), "never-made")
	out, _ := mustSB(t, "apps", "create", "--store", dbURL, "--data", dir, "--tenant", testTenant, "--name", "pg bot",
		"--roles", "Calls.Initiate.All", "--json")
	var created createdApp
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ClientID == "" {
		t.Fatalf("apps create printed %q: %v", out, err)
	}
	t.Setenv("SWITCHBOARD_STORE", dbURL)
	out, _ = mustSB(t, "apps", "list", "--data", dir)
	if !strings.Contains(out, created.ClientID) || !strings.Contains(out, "pg bot") {
		t.Errorf("apps list = %q, want the app created on PostgreSQL", out)
	}
	mustSB(t, "sip-accounts", "create", "--username", "bob", "--user", "U-Bob")
	if out, _ = mustSB(t, "sip-accounts", "list"); !strings.Contains(out, "bob") {
		t.Errorf("sip-accounts list = %q, want bob", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the data directory was made (%v) although --store names the database", err)
	}
	if _, _, err := sb(t, "apps", "list", "--store", "postgres://u:s3cret@db:port/x"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("apps list with a bad --store: %v; want an error without the password", err)
	}
}
