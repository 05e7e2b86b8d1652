package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

// recentCallsSQL picks the newest calls first, through the index of the
// filter (migration 0009; the filter is recentCallsQuery's) read
// backwards, so that no more calls rows are read than the limit; their
// conversations are joined after. A NULL created_at is the zero time, which
// SQLite orders first, so last here.
const recentCallsSQL = `WITH recent AS (
	SELECT id, conversation_id, spec, created_at FROM calls%s
	ORDER BY created_at DESC, id DESC
	LIMIT ?
)
SELECT recent.id, recent.conversation_id, recent.spec, conversations.data
FROM recent JOIN conversations ON conversations.id = recent.conversation_id
ORDER BY recent.created_at DESC, recent.id DESC`

// recentCallsQuery returns the query of RecentCalls and its arguments. The
// filters' expressions are those of the indexes. An application without a
// tenant has no index of its own: its calls are found by reading every
// tenant's, newest first.
func recentCallsQuery(tenantID, appID string, limit int) (string, []any) {
	var where string
	var args []any
	switch {
	case tenantID != "" && appID != "":
		where, args = ` WHERE lower(tenant_id) = lower(?) AND lower(app_id) = lower(?)`, []any{tenantID, appID}
	case tenantID != "":
		where, args = ` WHERE lower(tenant_id) = lower(?)`, []any{tenantID}
	case appID != "":
		where, args = ` WHERE lower(app_id) = lower(?)`, []any{appID}
	}
	return fmt.Sprintf(recentCallsSQL, where), append(args, codec.RecentCallsLimit(limit))
}

// RecentCalls returns the calls of tenantID (of every tenant when tenantID
// is "") and appID (of every application of the tenant when appID is ""),
// live or ended but not yet deleted (by DeleteEnded), newest first
// (created_at descending, then id descending), at most limit (1..500;
// limit <= 0 means 100, more than 500 means 500), each with its Spec, as of
// the last Commit that returned. Tenant and application ids compare
// case-insensitively.
func (s *Store) RecentCalls(ctx context.Context, tenantID, appID string, limit int) ([]*calls.Call, error) {
	done, err := s.beginRead()
	if err != nil {
		return nil, err
	}
	defer done()
	query, args := recentCallsQuery(tenantID, appID, limit)
	// One statement: the calls and their conversations are of one commit.
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list recent calls: %w", err)
	}
	defer rows.Close()
	var list codec.LegList
	for rows.Next() {
		var id, conv string
		var spec, data sql.RawBytes
		if err := rows.Scan(&id, &conv, &spec, &data); err != nil {
			return nil, fmt.Errorf("sqlite: list recent calls: %w", err)
		}
		list.Add(id, conv, spec, data)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list recent calls: %w", err)
	}
	out, err := list.Calls()
	if err != nil {
		return nil, fmt.Errorf("sqlite: list recent calls: %w", err)
	}
	return out, nil
}
