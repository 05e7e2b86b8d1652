package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

var _ calls.Cluster = (*Store)(nil)

// clusterKeyLen is the length of the key nodes sign forwarded requests
// with (cluster.KeyLen; store packages do not import the HTTP side).
const clusterKeyLen = 32

// fencedCode is the SQLSTATE switchboard_fence raises.
const fencedCode = "SB001"

// fenceSQL checks a commit's lease first thing in its transaction (see
// migration 0002).
const fenceSQL = `SELECT switchboard_fence($1, $2, $3, $4)`

// asFenced turns switchboard_fence's error into one that wraps
// calls.ErrFenced.
func asFenced(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == fencedCode {
		return fmt.Errorf("%w: %s", calls.ErrFenced, pe.Message)
	}
	return err
}

// Heartbeat implements calls.Cluster.
func (s *Store) Heartbeat(ctx context.Context, n calls.Node, first bool) error {
	var tag pgconn.CommandTag
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		var err error
		if first {
			tag, err = conn.Exec(ctx, `INSERT INTO nodes (id, name, address, expires_at, draining) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, expires_at = excluded.expires_at, draining = excluded.draining`,
				n.ID, n.Name, n.Address, n.Expires.UnixNano(), n.Draining)
		} else {
			tag, err = conn.Exec(ctx, `UPDATE nodes SET name = $2, address = $3, expires_at = $4, draining = $5 WHERE id = $1`,
				n.ID, n.Name, n.Address, n.Expires.UnixNano(), n.Draining)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: heartbeat of node %s: %w", n.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return calls.ErrNodeGone
	}
	return nil
}

// Nodes implements calls.Cluster.
func (s *Store) Nodes(ctx context.Context, now time.Time) ([]calls.Node, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, `SELECT id, name, address, expires_at, draining FROM nodes WHERE expires_at > $1 ORDER BY id`, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	return out, nil
}

func scanNode(row pgx.CollectableRow) (calls.Node, error) {
	var n calls.Node
	var expires int64
	err := row.Scan(&n.ID, &n.Name, &n.Address, &expires, &n.Draining)
	n.Expires = time.Unix(0, expires).UTC()
	return n, err
}

// claimSQL takes over, for $1, up to $3 leases held by other nodes whose
// row expired by $2 (or is gone, or released them). SKIP LOCKED lets
// several survivors claim at once without waiting on each other's rows.
const claimSQL = `WITH orphans AS (
	SELECT l.conversation_id FROM leases AS l LEFT JOIN nodes AS n ON n.id = l.node_id
	WHERE l.node_id <> $1 AND (n.id IS NULL OR n.expires_at <= $2)
	ORDER BY l.conversation_id
	LIMIT $3
	FOR UPDATE OF l SKIP LOCKED
)
UPDATE leases SET node_id = $1, epoch = leases.epoch + 1
FROM orphans WHERE leases.conversation_id = orphans.conversation_id
RETURNING leases.conversation_id, leases.epoch`

// Claim implements calls.Cluster.
func (s *Store) Claim(ctx context.Context, node string, now time.Time, limit int) ([]calls.Claimed, error) {
	var out []calls.Claimed
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		out = nil
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, claimSQL, node, now.UnixNano(), limit)
			if err != nil {
				return err
			}
			for rows.Next() {
				var c calls.Claimed
				if err := rows.Scan(&c.ConversationID, &c.Lease.Epoch); err != nil {
					rows.Close()
					return err
				}
				c.Lease.Node = node
				out = append(out, c)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `DELETE FROM nodes AS n WHERE n.expires_at <= $1 AND n.id <> $2
AND NOT EXISTS (SELECT 1 FROM leases WHERE node_id = n.id)`, now.UnixNano(), node)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim for node %s: %w", node, err)
	}
	return out, nil
}

// Release implements calls.Cluster.
func (s *Store) Release(ctx context.Context, node string, ids ...string) error {
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		var err error
		if len(ids) == 0 {
			_, err = conn.Exec(ctx, `UPDATE leases SET node_id = '' WHERE node_id = $1`, node)
		} else {
			_, err = conn.Exec(ctx, `UPDATE leases SET node_id = '' WHERE node_id = $1 AND conversation_id = ANY($2)`, node, ids)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: release for node %s: %w", node, err)
	}
	return nil
}

// HandOver implements calls.Cluster.
func (s *Store) HandOver(ctx context.Context, id string, from calls.Lease, to string) (calls.Lease, error) {
	var epoch int64
	var exists bool
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		err := conn.QueryRow(ctx, `UPDATE leases SET node_id = $4, epoch = epoch + 1
WHERE conversation_id = $1 AND node_id = $2 AND epoch = $3 RETURNING epoch`, id, from.Node, from.Epoch, to).Scan(&epoch)
		if errors.Is(err, pgx.ErrNoRows) {
			return conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM leases WHERE conversation_id = $1)`, id).Scan(&exists)
		}
		exists = err == nil
		return err
	})
	switch {
	case err != nil:
		return calls.Lease{}, fmt.Errorf("postgres: hand over %s: %w", id, err)
	case !exists:
		return calls.Lease{}, calls.ErrNotFound
	case epoch == 0:
		return calls.Lease{}, fmt.Errorf("%w: conversation %s is no longer held by node %s at epoch %d", calls.ErrFenced, id, from.Node, from.Epoch)
	}
	return calls.Lease{Node: to, Epoch: epoch}, nil
}

// Owner implements calls.Cluster.
func (s *Store) Owner(ctx context.Context, callID string) (calls.Node, string, error) {
	done, err := s.use()
	if err != nil {
		return calls.Node{}, "", err
	}
	defer done()
	var n calls.Node
	var conv string
	var id, name, address *string
	var expires *int64
	var draining *bool
	err = s.pool.QueryRow(ctx, `SELECT l.conversation_id, n.id, n.name, n.address, n.expires_at, n.draining
FROM calls AS c JOIN leases AS l ON l.conversation_id = c.conversation_id LEFT JOIN nodes AS n ON n.id = l.node_id
WHERE c.id = $1`, callID).Scan(&conv, &id, &name, &address, &expires, &draining)
	if errors.Is(err, pgx.ErrNoRows) {
		return calls.Node{}, "", calls.ErrNotFound
	}
	if err != nil {
		return calls.Node{}, "", fmt.Errorf("postgres: owner of call %s: %w", callID, err)
	}
	if id != nil {
		n = calls.Node{ID: *id, Name: *name, Address: *address, Expires: time.Unix(0, *expires).UTC(), Draining: *draining}
	}
	return n, conv, nil
}

// loadSQL reads live conversations by id with their leases and their
// calls' specs, from one snapshot.
const loadSQL = `SELECT conv.id, conv.data, coalesce(l.node_id, ''), coalesce(l.epoch, 0),
	coalesce(array_agg(calls.id) FILTER (WHERE calls.spec IS NOT NULL), '{}'),
	coalesce(array_agg(calls.spec) FILTER (WHERE calls.spec IS NOT NULL), '{}')
FROM conversations AS conv
LEFT JOIN leases AS l ON l.conversation_id = conv.id
LEFT JOIN calls ON calls.conversation_id = conv.id
WHERE conv.live AND conv.id = ANY($1)
GROUP BY conv.id, l.node_id, l.epoch`

// Load implements calls.Cluster.
func (s *Store) Load(ctx context.Context, ids []string) ([]*calls.Conversation, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, loadSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: load conversations: %w", err)
	}
	defer rows.Close()
	var out []*calls.Conversation
	for rows.Next() {
		var id, node string
		var epoch int64
		var data []byte
		var callIDs []string
		var specs [][]byte
		if err := rows.Scan(&id, &data, &node, &epoch, &callIDs, &specs); err != nil {
			return nil, fmt.Errorf("postgres: load conversations: %w", err)
		}
		byID := make(map[string][]byte, len(callIDs))
		for i, c := range callIDs {
			byID[c] = specs[i]
		}
		c, err := codec.DecodeConversation(data, byID)
		if err != nil {
			return nil, fmt.Errorf("postgres: decode conversation %s: %w", id, err)
		}
		c.Lease = calls.Lease{Node: node, Epoch: epoch}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: load conversations: %w", err)
	}
	return out, nil
}

// ClusterKey returns the key that signs requests forwarded between nodes,
// making it the first time any node asks.
func (s *Store) ClusterKey(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, clusterKeyLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var key []byte
	err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		if _, err := conn.Exec(ctx, `INSERT INTO cluster_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fresh); err != nil {
			return err
		}
		return conn.QueryRow(ctx, `SELECT key FROM cluster_key WHERE id = 1`).Scan(&key)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: cluster key: %w", err)
	}
	return key, nil
}

// listCallsSQL pages an application's live calls with their
// conversations' data and their specs, counting them all in the same
// snapshot. The calls_tenant_app_state index finds them.
const listCallsSQL = `SELECT count(*) OVER (), c.id, conv.data, c.spec
FROM calls AS c JOIN conversations AS conv ON conv.id = c.conversation_id
WHERE c.tenant_id = $1 AND c.app_id = $2 AND c.state <> 'terminated'
ORDER BY c.created_at NULLS FIRST, c.id
OFFSET $3 LIMIT $4`

// ListCalls implements calls.Cluster.
func (s *Store) ListCalls(ctx context.Context, tenantID, appID string, offset, limit int) ([]*calls.Call, int, error) {
	done, err := s.use()
	if err != nil {
		return nil, 0, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, listCallsSQL, tenantID, appID, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list calls: %w", err)
	}
	defer rows.Close()
	var out []*calls.Call
	total := 0
	for rows.Next() {
		var id string
		var data, spec []byte
		if err := rows.Scan(&total, &id, &data, &spec); err != nil {
			return nil, 0, fmt.Errorf("postgres: list calls: %w", err)
		}
		conv, err := codec.DecodeConversation(data, map[string][]byte{id: spec})
		if err != nil {
			return nil, 0, fmt.Errorf("postgres: decode conversation of call %s: %w", id, err)
		}
		if l := conv.Leg(id); l != nil {
			out = append(out, l)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("postgres: list calls: %w", err)
	}
	if len(out) == 0 && offset > 0 {
		// A page past the end has no row to carry the count.
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND app_id = $2 AND state <> 'terminated'`, tenantID, appID).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("postgres: count calls: %w", err)
		}
	}
	return out, total, nil
}

// OpenCalls implements calls.Cluster.
func (s *Store) OpenCalls(ctx context.Context, node string) (map[string]int, error) {
	done, err := s.use()
	if err != nil {
		return nil, err
	}
	defer done()
	rows, err := s.pool.Query(ctx, `SELECT lower(c.tenant_id) || '/' || lower(c.app_id), count(*)
FROM calls AS c JOIN leases AS l ON l.conversation_id = c.conversation_id
WHERE l.node_id <> $1 AND c.state <> 'terminated' GROUP BY 1`, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: count open calls: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("postgres: count open calls: %w", err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: count open calls: %w", err)
	}
	return out, nil
}

// FindMeeting implements calls.Cluster.
func (s *Store) FindMeeting(ctx context.Context, key string) (calls.Node, string, error) {
	done, err := s.use()
	if err != nil {
		return calls.Node{}, "", err
	}
	defer done()
	var conv string
	var id, name, address *string
	var expires *int64
	var draining *bool
	err = s.pool.QueryRow(ctx, `SELECT conv.id, n.id, n.name, n.address, n.expires_at, n.draining
FROM conversations AS conv JOIN leases AS l ON l.conversation_id = conv.id LEFT JOIN nodes AS n ON n.id = l.node_id
WHERE conv.live AND conv.meeting_key = $1 AND $1 <> ''`, key).Scan(&conv, &id, &name, &address, &expires, &draining)
	if errors.Is(err, pgx.ErrNoRows) {
		return calls.Node{}, "", calls.ErrNotFound
	}
	if err != nil {
		return calls.Node{}, "", fmt.Errorf("postgres: find meeting: %w", err)
	}
	var n calls.Node
	if id != nil {
		n = calls.Node{ID: *id, Name: *name, Address: *address, Expires: time.Unix(0, *expires).UTC(), Draining: *draining}
	}
	return n, conv, nil
}
