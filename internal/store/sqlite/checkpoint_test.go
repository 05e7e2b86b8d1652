package sqlite

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// The writer's commits never checkpoint: SQLite's automatic checkpoint is
// off on its connection, and the checkpointer runs them instead, from its
// own connection, every checkpointEvery transactions.
func TestCheckpointsAreOffTheCommitPath(t *testing.T) {
	path := tempPath(t)
	s := openPath(t, path)
	var auto int
	if err := s.w.conn.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	n := 3 * checkpointEvery
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("conv-%d", i)
		if err := s.Commit(t.Context(), storetest.Conversation(id, now), []calls.OutboxEntry{storetest.Entry(id+"-call", 1, now)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := s.checkpoints.Load(); got < 1 {
		t.Errorf("%d transactions made %d checkpoints, want at least one", n, got)
	}
	// The last connection to close checkpoints the rest and removes the WAL.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("WAL left with %d bytes after Close", fi.Size())
	}
	s = openPath(t, path)
	defer s.Close()
	live, err := s.LoadLive(t.Context())
	if err != nil || len(live) != n {
		t.Fatalf("after reopening LoadLive = %d conversations, %v; want %d", len(live), err, n)
	}
}
