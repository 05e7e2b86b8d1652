package sqlite

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestRecentCallsContract runs the contract of RecentCalls on temporary
// database files.
func TestRecentCallsContract(t *testing.T) {
	storetest.RunRecentCallsContract(t, func(t *testing.T) storetest.RecentCallsStoreUnderTest {
		s := openPath(t, tempPath(t))
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

// TestRecentCallsUseTheIndexes: each filter with a tenant, and none, reads
// the calls through its index, in the index's order: no scan of the calls
// table and no sort of it (only the page, at most the limit, is sorted
// again after the join).
func TestRecentCallsUseTheIndexes(t *testing.T) {
	s := openPath(t, tempPath(t))
	t.Cleanup(func() { s.Close() })
	for _, tc := range []struct {
		tenant, app, index string
	}{
		{"", "", "SCAN calls USING INDEX calls_recent"},
		{"t", "", "SEARCH calls USING INDEX calls_tenant_recent"},
		{"t", "a", "SEARCH calls USING INDEX calls_tenant_app_recent"},
	} {
		query, args := recentCallsQuery(tc.tenant, tc.app, 10)
		rows, err := s.readDB.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
		}
		// The steps under the CTE, found by their parents.
		cte := map[int]bool{}
		var plan, inCTE []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatalf("scan plan: %v", err)
			}
			plan = append(plan, detail)
			if strings.Contains(detail, "recent") && (strings.HasPrefix(detail, "MATERIALIZE") || strings.HasPrefix(detail, "CO-ROUTINE")) || cte[parent] {
				cte[id] = true
				inCTE = append(inCTE, detail)
			}
		}
		rows.Close()
		got := strings.Join(inCTE, "; ")
		if !strings.Contains(got, tc.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan for tenant %q, app %q: %s; want %s and no sort under the CTE", tc.tenant, tc.app, strings.Join(plan, "; "), tc.index)
		}
	}
}

// TestRecentCallsSpecInsideData: a call whose spec column is NULL, as
// written before migration 0005, is listed with the spec kept inside its
// conversation's data.
func TestRecentCallsSpecInsideData(t *testing.T) {
	s := openPath(t, tempPath(t))
	t.Cleanup(func() { s.Close() })
	c := storetest.Conversation("old", encodeBase)
	data, _ := json.Marshal(c) // as older builds wrote it: specs inside
	l := c.Legs[0]
	db := rawDB(t, tempPath(t))
	if _, err := db.ExecContext(t.Context(), `INSERT INTO conversations (id, tenant_id, live, data, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)`,
		c.ID, c.TenantID, string(data), c.CreatedAt.UnixNano(), c.UpdatedAt.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO calls (id, conversation_id, tenant_id, app_id, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.ID, c.ID, l.TenantID, l.AppID, l.State.String(), l.CreatedAt.UnixNano(), l.UpdatedAt.UnixNano()); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecentCalls(t.Context(), "tenant-1", "app-1", 0)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Spec, l.Spec) {
		t.Fatalf("RecentCalls = %v, %v; want the old call with its spec", got, err)
	}
}
