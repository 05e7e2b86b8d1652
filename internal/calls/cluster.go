package calls

import (
	"context"
	"errors"
	"time"
)

// Several nodes can serve one store (PostgreSQL). Each live conversation —
// its timers, its media room, its command queue — is owned by exactly one
// node at a time, through a lease: a row naming the node and an epoch.
// Every commit of the conversation carries the lease it was made under
// (Conversation.Lease) and the store refuses it (ErrFenced) unless the row
// still names that node and epoch, in the same transaction as the write.
// Taking a conversation over bumps the epoch, so a node that was presumed
// dead and comes back cannot write what it no longer owns.
//
// A lease is valid while its node is alive: each node renews one row of
// its own (Heartbeat) well within the lease TTL, rather than a row per
// conversation. When a node's row expires, the others Claim its
// conversations. Times come from the nodes' clocks (the injected Clock),
// which must agree to well within the TTL.
//
// No advisory locks: they are held by a database session, which a
// connection pooler in front of PostgreSQL does not keep.

// ErrFenced is returned by a commit made under a lease that is no longer
// the conversation's: another node took it over. Nothing was written.
var ErrFenced = errors.New("calls: the conversation is owned by another node")

// Lease is a node's hold on a conversation.
type Lease struct {
	// Node is the owner: a node's id, unique to one run of one process.
	Node string
	// Epoch counts the owners the conversation has had; the first is 1.
	Epoch int64
}

// Node is one running Switchboard process sharing the store.
type Node struct {
	// ID is unique to this run of the process: a restarted node is a new
	// node, which must claim its predecessor's conversations like anyone.
	ID string
	// Name is the operator's name for the machine (--node-name), for logs
	// and metrics.
	Name string
	// Address is the base URL the other nodes forward requests to, such as
	// http://10.0.0.5:8080.
	Address string
	// Expires is when the node is presumed dead unless it renews.
	Expires time.Time
	// Draining is set once the node stopped taking new conversations.
	Draining bool
}

// Claimed is a conversation a node took over, with its new lease.
type Claimed struct {
	ConversationID string
	Lease          Lease
}

// Cluster is the store's side of ownership: the nodes, and the leases of
// live conversations. A store implements it beside Store. Commit and
// CommitAll fence on Conversation.Lease when its Node is set:
//
//   - a new conversation (no lease row yet) is written only with Epoch 1,
//     and its lease row is created in the same transaction;
//   - an existing one only when its lease row names the same Node and
//     Epoch;
//   - a conversation that is no longer Live has its lease row removed.
//
// Otherwise the commit fails with an error that wraps ErrFenced and
// writes nothing.
type Cluster interface {
	// Heartbeat creates or renews the node's row until n.Expires, with its
	// address and draining flag. It fails with ErrNodeGone when the node's
	// row was removed because others found it expired: the node must stop.
	Heartbeat(ctx context.Context, n Node, first bool) error
	// Nodes returns the nodes whose rows have not expired at now.
	Nodes(ctx context.Context, now time.Time) ([]Node, error)
	// Claim takes over, for node, at most limit live conversations whose
	// owner is another node whose row expired by now (or was removed, or
	// released them),
	// bumping each one's epoch, and returns them. Nodes that hold no
	// lease any more and expired are forgotten.
	Claim(ctx context.Context, node string, now time.Time, limit int) ([]Claimed, error)
	// Release gives up node's leases of the conversations (all of them
	// when ids is empty): the other nodes may claim them at once.
	Release(ctx context.Context, node string, ids ...string) error
	// HandOver moves the lease of live conversation id from lease from
	// (its node and epoch) straight to node to, with the next epoch, and
	// returns the new lease: a live node giving one conversation to
	// another that needs it (a consultative transfer between calls on
	// two nodes), which no third node can claim in between. It fails with
	// an error wrapping ErrFenced unless the row still holds from, and
	// with ErrNotFound when the conversation is not live.
	HandOver(ctx context.Context, id string, from Lease, to string) (Lease, error)
	// Owner returns the node owning the live conversation that holds the
	// call, and that conversation's id; ErrNotFound when no live
	// conversation holds it.
	Owner(ctx context.Context, callID string) (Node, string, error)
	// Load returns the live conversations with these ids (those that are
	// not live, or do not exist, are left out), with their leases.
	Load(ctx context.Context, ids []string) ([]*Conversation, error)
	// FindMeeting returns the node owning the live meeting with the
	// (tenant-scoped) key, and the meeting's conversation id; ErrNotFound
	// when no live meeting has it. Two live meetings never share a key:
	// the commit that would start the second fails.
	FindMeeting(ctx context.Context, key string) (Node, string, error)
	// OpenCalls counts the calls in progress of each application (keyed
	// "tenant/app", both lowercased) in live conversations that node does
	// not own: what the other nodes hold, for the per-application limit.
	OpenCalls(ctx context.Context, node string) (map[string]int, error)
	// ListCalls returns a page of the application's calls that have not
	// ended, whichever node owns them, in the order they were created
	// (then by id), and how many there are in all.
	ListCalls(ctx context.Context, tenantID, appID string, offset, limit int) ([]*Call, int, error)
}

// ErrNodeGone is returned by Heartbeat when the node's row is gone.
var ErrNodeGone = errors.New("calls: this node was presumed dead and its conversations were taken over")
