package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestAssertionIDContract(t *testing.T) {
	storetest.RunAssertionIDContract(t, func(t *testing.T) auth.AssertionIDStore {
		s := openPath(t, tempPath(t))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestAssertionIDsSurviveReopen uses an id, closes the store and opens it
// again, as a restart does: the id still counts, and the sweep deletes it
// once it has expired.
func TestAssertionIDsSurviveReopen(t *testing.T) {
	path := tempPath(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openPath(t, path)
	if first, err := s.UseAssertionID(t.Context(), "client", "jti", now.Add(time.Minute), now, 10); !first || err != nil {
		t.Fatalf("first use: %v, %v", first, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openPath(t, path)
	defer s.Close()
	if first, err := s.UseAssertionID(t.Context(), "client", "jti", now.Add(time.Minute), now.Add(time.Second), 10); first || err != nil {
		t.Fatalf("replay after reopening: first=%v, %v; want refused", first, err)
	}
	later := now.Add(time.Hour)
	if _, err := s.UseAssertionID(t.Context(), "client", "other", later.Add(time.Minute), later, 10); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.readDB.QueryRowContext(t.Context(), `SELECT count(*) FROM assertion_ids WHERE jti = 'jti'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the expired id is still stored (%d, %v) after a later use swept", n, err)
	}
}

// TestMigrateAssertionIDsOntoVersion6 upgrades a database of version 6 with
// data in it: the table exists afterwards and the data is untouched.
func TestMigrateAssertionIDsOntoVersion6(t *testing.T) {
	path := tempPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t.Context(), conn, migrations[:6], 1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO signing_keys (id, private_pem, created_at) VALUES ('k', x'00', 1)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()

	s := openPath(t, path)
	defer s.Close()
	now := time.Unix(0, 10)
	if first, err := s.UseAssertionID(t.Context(), "client", "jti", now.Add(time.Minute), now, 10); !first || err != nil {
		t.Fatalf("UseAssertionID after the upgrade: %v, %v", first, err)
	}
	keys, err := s.LoadKeys(t.Context())
	if err != nil || len(keys) != 1 || keys[0].ID != "k" {
		t.Errorf("signing keys after the upgrade: %v, %v", keys, err)
	}
}
