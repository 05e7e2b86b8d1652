package sqlite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var encodeBase = time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)

func column(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	var v *string
	if err := s.readDB.QueryRowContext(t.Context(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if v == nil {
		return "NULL"
	}
	return *v
}

// A leg's spec is written once, to its calls row, and not inside the
// conversation's data; a calls row is written again only when the leg
// changed, also after the store is reopened.
func TestSpecWrittenOnceAndRowsOnlyWhenChanged(t *testing.T) {
	path := tempPath(t)
	s := openPath(t, path)
	c := storetest.Conversation("conv-1", encodeBase)
	callID := c.Legs[0].ID
	if err := s.Commit(t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(c.Legs[0].Spec)
	if got := column(t, s, `SELECT spec FROM calls WHERE id = ?`, callID); got != string(want) {
		t.Fatalf("calls.spec = %s, want %s", got, want)
	}
	if data := column(t, s, `SELECT data FROM conversations WHERE id = 'conv-1'`); bytes.Contains([]byte(data), []byte(`"spec"`)) {
		t.Fatalf("conversations.data still holds the spec: %s", data)
	}

	// Behind the store's back: a row the store believes unchanged is not
	// written again, and a changed one is.
	tamper := func() {
		t.Helper()
		if _, err := rawDB(t, path).ExecContext(t.Context(), `UPDATE calls SET state = 'tampered' WHERE id = ?`, callID); err != nil {
			t.Fatal(err)
		}
	}
	tamper()
	c.RosterSeq++ // the conversation changes, the leg does not
	if err := s.Commit(t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	if got := column(t, s, `SELECT state FROM calls WHERE id = ?`, callID); got != "tampered" {
		t.Fatalf("unchanged leg's row was written again: state %s", got)
	}
	c.Legs[0].State, c.Legs[0].UpdatedAt = calls.StateTerminating, encodeBase.Add(time.Minute)
	if err := s.Commit(t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	if got := column(t, s, `SELECT state FROM calls WHERE id = ?`, callID); got != "terminating" {
		t.Fatalf("changed leg's row: state %s, want terminating", got)
	}
	if got := column(t, s, `SELECT spec FROM calls WHERE id = ?`, callID); got != string(want) {
		t.Fatalf("calls.spec after more commits = %s, want %s", got, want)
	}

	// After reopening, the rows loaded with LoadLive count as written.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openPath(t, path)
	defer s.Close()
	live, err := s.LoadLive(t.Context())
	if err != nil || len(live) != 1 || !reflect.DeepEqual(live[0].Legs[0].Spec, c.Legs[0].Spec) {
		t.Fatalf("LoadLive after reopening = %v, %v", live, err)
	}
	tamper()
	c.RosterSeq++
	if err := s.Commit(t.Context(), c, nil); err != nil {
		t.Fatal(err)
	}
	if got := column(t, s, `SELECT state FROM calls WHERE id = ?`, callID); got != "tampered" {
		t.Fatalf("after reopening, an unchanged leg's row was written again: state %s", got)
	}
}

// TestMigrateCallSpecOntoVersion4 opens a database that a build knowing
// 0001 to 0004 made, whose conversation holds its legs' specs in data: they
// load as before, and the next commit moves the spec to the calls row.
func TestMigrateCallSpecOntoVersion4(t *testing.T) {
	path := tempPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t.Context(), conn, migrations[:4], 1); err != nil {
		t.Fatal(err)
	}
	c := storetest.Conversation("old", encodeBase)
	data, _ := json.Marshal(c) // as older builds wrote it: specs inside
	l := c.Legs[0]
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO conversations (id, tenant_id, live, data, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)`,
		c.ID, c.TenantID, string(data), c.CreatedAt.UnixNano(), c.UpdatedAt.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO calls (id, conversation_id, tenant_id, app_id, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.ID, c.ID, l.TenantID, l.AppID, l.State.String(), l.CreatedAt.UnixNano(), l.UpdatedAt.UnixNano()); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()

	s := openPath(t, path)
	defer s.Close()
	live, err := s.LoadLive(t.Context())
	if err != nil || len(live) != 1 || !reflect.DeepEqual(live[0].Legs[0].Spec, l.Spec) {
		t.Fatalf("LoadLive after the upgrade = %v, %v; want the old conversation with its spec", live, err)
	}
	if got := column(t, s, `SELECT spec FROM calls WHERE id = ?`, l.ID); got != "NULL" {
		t.Fatalf("calls.spec before any commit = %s", got)
	}
	if err := s.Commit(t.Context(), live[0], nil); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(l.Spec)
	if got := column(t, s, `SELECT spec FROM calls WHERE id = ?`, l.ID); got != string(want) {
		t.Fatalf("calls.spec after a commit = %s, want %s", got, want)
	}
	live, err = s.LoadLive(t.Context())
	if err != nil || len(live) != 1 || !reflect.DeepEqual(live[0].Legs[0].Spec, l.Spec) {
		t.Fatalf("LoadLive after the commit = %v, %v", live, err)
	}
}

// A request that fails after writing a leg's row rolls the row back; the
// next commit of the same leg writes it again, not trusting what the failed
// one wrote.
func TestFailedCommitForgetsWrittenRows(t *testing.T) {
	s := openPath(t, tempPath(t))
	defer s.Close()
	c := storetest.Conversation("conv-1", encodeBase)
	callID := c.Legs[0].ID
	if err := s.Commit(t.Context(), c, []calls.OutboxEntry{storetest.Entry(callID, 1, encodeBase)}); err != nil {
		t.Fatal(err)
	}
	c.Legs[0].State, c.Legs[0].UpdatedAt = calls.StateTerminating, encodeBase.Add(time.Minute)
	// The repeated outbox entry fails the commit after the calls row was
	// written in it.
	if err := s.Commit(t.Context(), c, []calls.OutboxEntry{storetest.Entry(callID, 1, encodeBase)}); err == nil {
		t.Fatal("commit with a repeated outbox entry succeeded")
	}
	if got := column(t, s, `SELECT state FROM calls WHERE id = ?`, callID); got != "established" {
		t.Fatalf("after the failed commit: state %s, want established", got)
	}
	if err := s.Commit(t.Context(), c, []calls.OutboxEntry{storetest.Entry(callID, 2, encodeBase)}); err != nil {
		t.Fatal(err)
	}
	if got := column(t, s, `SELECT state FROM calls WHERE id = ?`, callID); got != "terminating" {
		t.Fatalf("after the retried commit: state %s, want terminating", got)
	}
}
