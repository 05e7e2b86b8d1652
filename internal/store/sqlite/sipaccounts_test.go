package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/phones"
)

func sipAccount(username string, id phones.Identity) phones.StoredAccount {
	ha1, sha := phones.HashPassword(username, "switchboard", "pw")
	a := phones.StoredAccount{Account: phones.Account{Username: username, HA1: ha1, HA1SHA256: sha, Tenant: id.Tenant},
		Realm: "switchboard", CreatedAt: time.Unix(1700000000, 5).UTC()}
	if id.Kind == phones.IdentityPhone {
		a.Phone = id.ID
	} else {
		a.User, a.DisplayName = id.ID, "Bob Example"
	}
	return a
}

func TestSIPAccounts(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	ctx := t.Context()
	bob := sipAccount("Bob", phones.Identity{Kind: phones.IdentityUser, ID: "U-Bob", Tenant: "contoso"})
	desk := sipAccount("desk", phones.Phone("+15550001234"))
	desk.CreatedAt = bob.CreatedAt.Add(time.Second)
	for _, a := range []phones.StoredAccount{bob, desk} {
		if err := s.CreateSIPAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSIPAccount(ctx, sipAccount("BOB", phones.User("x"))); !errors.Is(err, phones.ErrAccountExists) {
		t.Errorf("a second BOB: %v, want ErrAccountExists", err)
	}
	withPassword := sipAccount("carol", phones.User("c"))
	withPassword.Password = "pw"
	if err := s.CreateSIPAccount(ctx, withPassword); err == nil {
		t.Error("an account with a plain-text password was stored")
	}

	got, err := s.SIPAccount(ctx, "bob")
	if err != nil || got != bob {
		t.Errorf("SIPAccount(bob) = %+v, %v; want %+v", got, err, bob)
	}
	if _, err := s.SIPAccount(ctx, "nobody"); !errors.Is(err, phones.ErrNoAccount) {
		t.Errorf("SIPAccount(nobody): %v, want ErrNoAccount", err)
	}
	for _, tc := range []struct {
		id   phones.Identity
		want bool
	}{
		{phones.User("u-bob"), true},
		{phones.Identity{Kind: phones.IdentityUser, ID: "U-BOB", Tenant: "Contoso"}, true},
		{phones.Identity{Kind: phones.IdentityUser, ID: "U-Bob", Tenant: "fabrikam"}, false},
		{phones.Phone("+15550001234"), true},
		{phones.Identity{Kind: phones.IdentityPhone, ID: "+15550001234", Tenant: "any"}, true},
		{phones.Phone("U-Bob"), false},
	} {
		if ok, err := s.SIPAccountBound(ctx, tc.id); err != nil || ok != tc.want {
			t.Errorf("SIPAccountBound(%+v) = %v, %v; want %v", tc.id, ok, err, tc.want)
		}
	}
	list, err := s.ListSIPAccounts(ctx)
	if err != nil || len(list) != 2 || list[0] != bob || list[1] != desk {
		t.Errorf("ListSIPAccounts = %+v, %v", list, err)
	}
	if err := s.DeleteSIPAccount(ctx, "BOB"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSIPAccount(ctx, "bob"); !errors.Is(err, phones.ErrNoAccount) {
		t.Errorf("deleting twice: %v, want ErrNoAccount", err)
	}
	if _, err := s.SIPAccount(ctx, "bob"); !errors.Is(err, phones.ErrNoAccount) {
		t.Errorf("SIPAccount after delete: %v", err)
	}
}

// TestSIPAccountsServeTheDirectory registers a phone of a stored account
// through a phones.Directory, as the running server does.
func TestSIPAccountsServeTheDirectory(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	d, err := phones.New(phones.Config{}, phones.Options{Accounts: s})
	if err != nil {
		t.Fatal(err)
	}
	id := phones.User("U-Bob")
	if ok, _ := d.Bound(t.Context(), id); ok {
		t.Fatal("bound before the account exists")
	}
	if err := s.CreateSIPAccount(t.Context(), sipAccount("bob", id)); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Bound(t.Context(), id); !ok || err != nil {
		t.Errorf("Bound after CreateSIPAccount = %v, %v", ok, err)
	}
}

// TestMigrateSIPAccountsOntoVersion7 opens a database a build knowing 0001
// to 0007 made, holding an application: it stays, and SIP accounts arrive.
func TestMigrateSIPAccountsOntoVersion7(t *testing.T) {
	path := tempPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t.Context(), conn, migrations[:7], 1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO apps (client_id, tenant_id) VALUES ('old', 't')`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()

	s := openPath(t, path)
	defer s.Close()
	if _, err := s.GetApp(t.Context(), "old"); err != nil {
		t.Errorf("the application before the upgrade: %v", err)
	}
	if err := s.CreateSIPAccount(t.Context(), sipAccount("bob", phones.User("u"))); err != nil {
		t.Errorf("CreateSIPAccount after the upgrade: %v", err)
	}
	raw := rawDB(t, path)
	for _, stmt := range []string{
		`INSERT INTO sip_accounts (username, realm, ha1, identity_kind, identity_id) VALUES ('a', 'r', 'short', 'user', 'u')`,
		`INSERT INTO sip_accounts (username, realm, ha1, identity_kind, identity_id) VALUES ('a', 'r', '0123456789abcdef0123456789abcdef', 'robot', 'u')`,
		`INSERT INTO sip_accounts (username, realm, ha1, identity_kind, identity_id) VALUES ('a', 'r', '0123456789abcdef0123456789abcdef', 'user', '')`,
		`INSERT INTO sip_accounts (username, realm, ha1, ha1_sha256, identity_kind, identity_id) VALUES ('a', 'r', '0123456789abcdef0123456789abcdef', 'x', 'user', 'u')`,
	} {
		if _, err := raw.ExecContext(t.Context(), stmt); err == nil {
			t.Errorf("%s succeeded", stmt)
		}
	}
}
