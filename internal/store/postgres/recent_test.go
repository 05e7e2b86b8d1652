package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/store/pgtest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestRecentCallsContract(t *testing.T) {
	storetest.RunRecentCallsContract(t, func(t *testing.T) storetest.RecentCallsStoreUnderTest { return openClosed(t) })
}

// TestRecentCallsExecMode runs the contract with statements that are not
// prepared, as behind a connection pooler (see TestExecMode).
func TestRecentCallsExecMode(t *testing.T) {
	storetest.RunRecentCallsContract(t, func(t *testing.T) storetest.RecentCallsStoreUnderTest {
		s := openURL(t, pgtest.Database(t)+"&default_query_exec_mode=exec", quiet)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestRecentCallsCanUseTheIndexes: each filter with a tenant, and none, can
// read the calls through its index, in the query's order, without a sort
// of the calls: with sequential scans and sorts priced out (the test's
// tables are too small for the planner to prefer an index on its own),
// the CTE's plan is a limit over a scan of that index.
func TestRecentCallsCanUseTheIndexes(t *testing.T) {
	s := openClosed(t)
	for _, tc := range []struct {
		tenant, app, index string
	}{
		{"", "", "calls_recent"},
		{"t", "", "calls_tenant_recent"},
		{"t", "a", "calls_tenant_app_recent"},
	} {
		query, args := recentCallsQuery(tc.tenant, tc.app, 10)
		var plan []string
		err := pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(t.Context(), `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			if _, err := tx.Exec(t.Context(), `SET LOCAL enable_bitmapscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(t.Context(), "EXPLAIN "+query, args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		// The CTE is the first Limit; the join and the sort of its rows
		// come above it.
		var cte []string
		for i, line := range plan {
			if strings.Contains(line, "Limit") {
				cte = plan[i:]
				break
			}
		}
		got := strings.Join(cte, "\n")
		if !strings.Contains(got, "Index Scan using "+tc.index+" on calls") || strings.Contains(got, "Sort") {
			t.Errorf("plan for tenant %q, app %q:\n%s\nwant a limit over an index scan of %s, no sort below it", tc.tenant, tc.app, strings.Join(plan, "\n"), tc.index)
		}
	}
}
