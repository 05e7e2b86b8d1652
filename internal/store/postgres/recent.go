package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

// recentCallsSQL picks the newest calls first, through the index of the
// filter (migration 0005; the filter is recentCallsQuery's), so that no
// more calls rows are read than the limit ($1); their conversations are
// joined after. A conversation's data comes with one of its rows only
// (the others carry NULL), so that a meeting with many listed legs is sent
// once.
const recentCallsSQL = `WITH recent AS (
	SELECT id, conversation_id, spec, created_at FROM calls%s
	ORDER BY created_at DESC NULLS LAST, id DESC
	LIMIT $1
)
SELECT r.id, r.conversation_id, r.spec,
	CASE WHEN row_number() OVER (PARTITION BY r.conversation_id) = 1 THEN conv.data END
FROM recent AS r JOIN conversations AS conv ON conv.id = r.conversation_id
ORDER BY r.created_at DESC NULLS LAST, r.id DESC`

// recentCallsQuery returns the query of RecentCalls and its arguments. The
// filters' expressions are those of the indexes. An application without a
// tenant has no index of its own: its calls are found by reading every
// tenant's, newest first.
func recentCallsQuery(tenantID, appID string, limit int) (string, []any) {
	const (
		tenant = `lower(tenant_id COLLATE "C") = lower($2::text COLLATE "C")`
		app    = `lower(app_id COLLATE "C") = lower($%d::text COLLATE "C")`
	)
	var where string
	args := []any{codec.RecentCallsLimit(limit)}
	switch {
	case tenantID != "" && appID != "":
		where, args = " WHERE "+tenant+" AND "+fmt.Sprintf(app, 3), append(args, tenantID, appID)
	case tenantID != "":
		where, args = " WHERE "+tenant, append(args, tenantID)
	case appID != "":
		where, args = " WHERE "+fmt.Sprintf(app, 2), append(args, appID)
	}
	return fmt.Sprintf(recentCallsSQL, where), args
}

// RecentCalls returns the calls of tenantID (of every tenant when tenantID
// is "") and appID (of every application of the tenant when appID is ""),
// live or ended but not yet deleted (by DeleteEnded), newest first
// (created_at descending, then id descending), at most limit (1..500;
// limit <= 0 means 100, more than 500 means 500), each with its Spec.
// Tenant and application ids compare case-insensitively.
func (s *Store) RecentCalls(ctx context.Context, tenantID, appID string, limit int) ([]*calls.Call, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	query, args := recentCallsQuery(tenantID, appID, limit)
	// One statement: the calls and their conversations are of one snapshot.
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list recent calls: %w", err)
	}
	defer rows.Close()
	var list codec.LegList
	for rows.Next() {
		var id, conv string
		// Valid until the next row: Add copies what it keeps.
		var spec, data pgtype.DriverBytes
		if err := rows.Scan(&id, &conv, &spec, &data); err != nil {
			return nil, fmt.Errorf("postgres: list recent calls: %w", err)
		}
		list.Add(id, conv, spec, data)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list recent calls: %w", err)
	}
	out, err := list.Calls()
	if err != nil {
		return nil, fmt.Errorf("postgres: list recent calls: %w", err)
	}
	return out, nil
}
