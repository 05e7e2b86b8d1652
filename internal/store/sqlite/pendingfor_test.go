package sqlite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestPendingForContract runs the contract of notify.PendingForCalls on
// temporary database files.
func TestPendingForContract(t *testing.T) {
	storetest.RunPendingForContract(t, func(t *testing.T) storetest.PendingForStoreUnderTest {
		s := openPath(t, tempPath(t))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

// TestPendingForUsesTheIndex: the query of PendingFor looks each call up in
// the partial index of pending entries, which gives the order too: no scan
// of the outbox, no sort.
func TestPendingForUsesTheIndex(t *testing.T) {
	s := openPath(t, tempPath(t))
	t.Cleanup(func() { s.Close() })
	for _, n := range []int{1, pendingForChunk} {
		args := make([]any, n)
		for i := range args {
			args[i] = fmt.Sprintf("call-%d", i)
		}
		query := fmt.Sprintf(pendingForSQL, strings.TrimSuffix(strings.Repeat("?,", n), ","))
		rows, err := s.readDB.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatalf("scan plan: %v", err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "USING INDEX outbox_pending") || strings.Contains(got, "TEMP B-TREE") || strings.Contains(got, "SCAN outbox") {
			t.Errorf("plan for %d calls: %s; want a search of outbox_pending and no sort", n, got)
		}
	}
}
