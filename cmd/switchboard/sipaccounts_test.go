package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/store/sqlite"
)

func TestSIPAccountsHelp(t *testing.T) {
	_, errOut, err := sb(t, "help", "sip-accounts")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("help sip-accounts: %v", err)
	}
	for _, want := range []string{"create", "list", "delete", "SWITCHBOARD_DATA", "docs/sip.md"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("sip-accounts help does not mention %s", want)
		}
	}
	for cmd, wants := range map[string][]string{
		"create": {"-username", "-user", "-display-name", "-phone", "-tenant", "-realm", "-password-stdin", "-data", "once", "HA1"},
		"list":   {"-json", "-data"},
		"delete": {"USERNAME"},
	} {
		_, errOut, err := sb(t, "sip-accounts", cmd, "--help")
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("sip-accounts %s --help: %v", cmd, err)
		}
		for _, want := range wants {
			if !strings.Contains(errOut, want) {
				t.Errorf("sip-accounts %s --help does not mention %s", cmd, want)
			}
		}
	}
	if out, _, _ := sb(t, "help"); !strings.Contains(out, "switchboard sip-accounts") {
		t.Error("the main usage does not list sip-accounts")
	}
}

func withStdin(t *testing.T, s string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

func TestSIPAccountsLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, errOut := mustSB(t, "sip-accounts", "create", "--data", dir, "--username", "bob", "--user", "U-Bob", "--display-name", "Bob")
	m := regexp.MustCompile(`Password\s+(\S+)`).FindStringSubmatch(out)
	if m == nil || len(m[1]) < 20 || !strings.Contains(errOut, "shown this once") {
		t.Fatalf("create printed %q, %q; want a generated password, once", out, errOut)
	}
	generated := m[1]
	withStdin(t, "desk secret\n")
	out, _ = mustSB(t, "sip-accounts", "create", "--data", dir, "--username", "desk", "--phone", "+1 555 000 1234", "--password-stdin")
	if strings.Contains(out, "Password") || strings.Contains(out, "desk secret") {
		t.Errorf("create with --password-stdin printed the password: %q", out)
	}

	// What was stored is what the registrar needs, and no password.
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "switchboard.db"), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for user, pass := range map[string]string{"bob": generated, "desk": "desk secret"} {
		a, err := s.SIPAccount(t.Context(), user)
		ha1, sha := phones.HashPassword(user, "switchboard", pass)
		if err != nil || a.HA1 != ha1 || a.HA1SHA256 != sha || a.Password != "" || a.Realm != "switchboard" {
			t.Errorf("stored %s = %+v, %v", user, a, err)
		}
	}
	if a, _ := s.SIPAccount(t.Context(), "desk"); a.Phone != "+15550001234" {
		t.Errorf("stored phone %q, want it normalised", a.Phone)
	}
	s.Close()

	out, _ = mustSB(t, "sip-accounts", "list", "--data", dir)
	for _, want := range []string{"bob", "user U-Bob (Bob)", "desk", "phone +15550001234", "(any)"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	out, _ = mustSB(t, "sip-accounts", "list", "--data", dir, "--json")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list --json = %s, %v", out, err)
	}
	if strings.Contains(out, "ha1") || strings.Contains(out, generated) {
		t.Errorf("list --json shows a hash or a password: %s", out)
	}

	if _, _, err := sb(t, "sip-accounts", "create", "--data", dir, "--username", "BOB", "--user", "x"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second BOB: %v", err)
	}
	mustSB(t, "sip-accounts", "delete", "BOB", "--data", dir)
	if _, _, err := sb(t, "sip-accounts", "delete", "bob", "--data", dir); err == nil || !strings.Contains(err.Error(), "no such SIP account") {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestSIPAccountsRefuseBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--user", "u"}, "--username: required"},
		{[]string{"create", "--username", "bob"}, "--user: required"},
		{[]string{"create", "--username", "bob", "--user", "u", "--phone", "+1555"}, "not both"},
		{[]string{"create", "--username", "bob", "--phone", "5551234"}, "--phone"},
		{[]string{"create", "--username", "b@b", "--user", "u"}, "--username"},
		{[]string{"create", "--username", "bob", "--user", "u", "--realm", `a"b`}, "sip.realm"},
		{[]string{"create", "--username", "bob", "--user", "u", "--password-stdin"}, "no password"},
		{[]string{"delete"}, "USERNAME"},
		{[]string{"list", "extra"}, "unexpected argument"},
		{[]string{"fly"}, "unknown command"},
		{nil, "no command"},
	} {
		withStdin(t, "")
		_, _, err := sb(t, append(append([]string{"sip-accounts"}, tc.args...), "--data", dir)...)
		if tc.args == nil {
			_, _, err = sb(t, "sip-accounts")
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sip-accounts %v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	// Nothing was created by the refusals, and list needs a database.
	if _, _, err := sb(t, "sip-accounts", "list", "--data", dir); err == nil || !strings.Contains(err.Error(), "no Switchboard database") {
		t.Errorf("list of a missing database: %v", err)
	}
}
