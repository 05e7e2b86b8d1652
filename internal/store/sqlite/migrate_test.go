package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/clock"
)

type appliedRow struct {
	version   int
	name      string
	appliedAt int64
}

func appliedMigrations(t *testing.T, db *sql.DB) []appliedRow {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []appliedRow
	for rows.Next() {
		var r appliedRow
		if err := rows.Scan(&r.version, &r.name, &r.appliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawDB opens the file at path with the store's pragmas but none of its
// machinery, to inspect or tamper with it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, Options{}.withDefaults(), false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateFresh(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	s, err := Open(t.Context(), tempPath(t), Options{Clock: clock.NewFake(now), Logger: quiet.Logger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	got := appliedMigrations(t, s.readDB)
	if len(got) != len(migrations) {
		t.Fatalf("schema_migrations has %d rows, want %d", len(got), len(migrations))
	}
	for i, r := range got {
		if r.version != i+1 || r.name != migrations[i].name || r.appliedAt != now.UnixNano() {
			t.Errorf("schema_migrations row %d = %+v, want version %d, name %s, applied at %d", i, r, i+1, migrations[i].name, now.UnixNano())
		}
	}
	for _, table := range []string{"conversations", "calls", "outbox", "signing_keys", "apps", "app_secrets", "app_certificates"} {
		var n int
		if err := s.readDB.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, err %v", table, n, err)
		}
	}
}

func TestMigrateReopenIsIdempotent(t *testing.T) {
	path := tempPath(t)
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(t.Context(), path, Options{Clock: clock.NewFake(first), Logger: quiet.Logger})
	if err != nil {
		t.Fatal(err)
	}
	before := appliedMigrations(t, s.readDB)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(t.Context(), path, Options{Clock: clock.NewFake(first.Add(time.Hour)), Logger: quiet.Logger})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	after := appliedMigrations(t, s.readDB)
	if len(after) != len(before) {
		t.Fatalf("reopening changed schema_migrations from %v to %v", before, after)
	}
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("reopening changed row %d from %+v to %+v", i, before[i], after[i])
		}
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	path := tempPath(t)
	if err := openPath(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	next := len(migrations) + 1
	if _, err := db.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 0)`, next); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path, quiet)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with an unknown newer migration succeeded")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open error = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "from_the_future") {
		t.Errorf("Open error %q does not name the unknown migration", err)
	}
}

// TestMigrateUpgrade applies a later migration to a database made by an
// earlier schema, as an upgrade of Switchboard would.
func TestMigrateUpgrade(t *testing.T) {
	path := tempPath(t)
	if err := openPath(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := rawDB(t, path).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	later := append(append([]migration(nil), migrations...), migration{
		version: len(migrations) + 1,
		name:    "9999_add_note",
		sql:     "ALTER TABLE signing_keys ADD COLUMN note TEXT NOT NULL DEFAULT '';\nCREATE INDEX signing_keys_note ON signing_keys (note);",
	})
	applied, err := migrate(context.Background(), conn, later, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0].name != "9999_add_note" {
		t.Fatalf("applied %v, want only 9999_add_note", applied)
	}
	var n int
	if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE name = 'signing_keys_note'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("second statement of the migration did not run: count %d, err %v", n, err)
	}

	// A migration that fails leaves neither its changes nor its row behind.
	broken := append(later, migration{version: len(later) + 1, name: "broken", sql: "CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;"})
	if _, err := migrate(context.Background(), conn, broken, 43); err == nil {
		t.Fatal("a failing migration returned nil")
	}
	if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a failed migration left its table behind: count %d, err %v", n, err)
	}
	if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations WHERE name = 'broken'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a failed migration was recorded: count %d, err %v", n, err)
	}
}

// TestMigrateAppsOntoVersion1 opens a database that a build knowing only
// 0001 made, as an upgrade does: the stored keys stay and the application
// tables arrive.
func TestMigrateAppsOntoVersion1(t *testing.T) {
	path := tempPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t.Context(), conn, migrations[:1], 1); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO signing_keys (id, private_pem, created_at) VALUES ('old', x'00', 5)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()

	s := openPath(t, path)
	defer s.Close()
	keys, err := s.LoadKeys(t.Context())
	if err != nil || len(keys) != 1 || keys[0].ID != "old" {
		t.Fatalf("after the upgrade LoadKeys = %v, %v; want the old key", keys, err)
	}
	if err := s.CreateApp(t.Context(), auth.App{ClientID: "c", TenantID: "t", Roles: []string{auth.RoleCallsInitiate}}); err != nil {
		t.Fatalf("CreateApp after the upgrade: %v", err)
	}
	if got := appliedMigrations(t, s.readDB); len(got) != len(migrations) || got[1].name != "0002_apps" {
		t.Errorf("schema_migrations = %+v", got)
	}
}

// TestAppsRejectsBadRows checks the schema's own guards, which hold even
// for a writer that bypasses the Store.
func TestAppsRejectsBadRows(t *testing.T) {
	path := tempPath(t)
	s := openPath(t, path)
	defer s.Close()
	db := rawDB(t, path)
	for _, stmt := range []string{
		`INSERT INTO apps (client_id, tenant_id, roles) VALUES ('a', 't', 'not json')`,
		`INSERT INTO apps (client_id, tenant_id, roles) VALUES ('a', 't', '{"a":1}')`,
		`INSERT INTO app_secrets (id, client_id, sha256) VALUES ('s', 'no-such-app', zeroblob(32))`,
	} {
		if _, err := db.ExecContext(t.Context(), stmt); err == nil {
			t.Errorf("%s succeeded", stmt)
		}
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO apps (client_id, tenant_id) VALUES ('a', 't')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO app_secrets (id, client_id, sha256) VALUES ('s', 'A', x'00')`); err == nil {
		t.Error("a secret hash of one byte was stored")
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr bool
	}{
		{
			name:  "ordered by number",
			files: fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}, "m/README": {}},
			want:  []string{"0001_a", "0002_b"},
		},
		{name: "gap", files: fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, wantErr: true},
		{name: "bad name", files: fstest.MapFS{"m/first.sql": {}}, wantErr: true},
		{name: "zero", files: fstest.MapFS{"m/0000_a.sql": {}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files, "m")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("loadMigrations = %v, want an error", ms)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range ms {
				names = append(names, m.name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("names = %v, want %v", names, tc.want)
			}
		})
	}
}

// TestMigrateEndedRetentionOntoVersion3 opens a database that a build
// knowing 0001 to 0003 made, holding an ended conversation: after the
// upgrade the retention sweep finds it through the new index.
func TestMigrateEndedRetentionOntoVersion3(t *testing.T) {
	path := tempPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t.Context(), conn, migrations[:3], 1); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO conversations (id, tenant_id, live, data, created_at, updated_at) VALUES ('old', 't', 0, '{"id":"old"}', 1, 2)`,
		`INSERT INTO calls (id, conversation_id, tenant_id, app_id, state, created_at, updated_at, ended_at) VALUES ('old-call', 'old', 't', 'a', 'terminated', 1, 2, 2)`,
		`INSERT INTO outbox (call_id, seq, url, body, app_id, tenant_id, chain_id, created_at, status) VALUES ('old-call', 1, 'u', x'7b7d', 'a', 't', 'c', 1, 'delivered')`,
	} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	db.Close()

	s := openPath(t, path)
	defer s.Close()
	var n int
	if err := s.readDB.QueryRowContext(t.Context(), `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'conversations_ended'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("index conversations_ended: count %d, err %v", n, err)
	}
	if n, err := s.DeleteEnded(t.Context(), time.Unix(0, 3), 10); err != nil || n != 1 {
		t.Fatalf("DeleteEnded after the upgrade = %d, %v; want the old conversation", n, err)
	}
	for _, table := range []string{"conversations", "calls", "outbox"} {
		if err := s.readDB.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after the sweep (err %v), want none", table, n, err)
		}
	}
}
