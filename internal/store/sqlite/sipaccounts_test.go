package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var sipAccount = storetest.SIPAccount

// TestSIPAccountContract runs the SIP accounts contract on temporary
// database files.
func TestSIPAccountContract(t *testing.T) {
	storetest.RunSIPAccountContract(t, func(t *testing.T) storetest.SIPAccountStore {
		s := openPath(t, tempPath(t))
		t.Cleanup(func() { s.Close() })
		return s
	})
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
