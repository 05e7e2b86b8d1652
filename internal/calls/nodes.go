package calls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// This file is the Service's side of running as one node of several (see
// cluster.go for the model). With Config.Cluster set, a Service holds in
// memory only the conversations it owns: those it created and those it
// claimed from nodes that died or drained. It renews its node row every
// LeaseTTL/3, claims orphans at the same pace, and drops a conversation
// from memory the moment a commit finds it fenced.

// DefaultLeaseTTL is the default of Config.LeaseTTL: how long a node may
// go without renewing before the others take its conversations over.
const DefaultLeaseTTL = 15 * time.Second

// claimBatch is how many conversations one claim takes at most: a node
// adopts a dead node's conversations a batch per heartbeat, and the
// survivors share them.
const claimBatch = 200

// ErrElsewhere is returned (wrapped in an *ElsewhereError) for a call whose
// conversation another node owns: the request belongs there.
var ErrElsewhere = errors.New("calls: the call is served by another node")

// ElsewhereError names the node that owns a call's conversation.
type ElsewhereError struct {
	Node Node
}

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("calls: the call is served by node %s (%s)", e.Node.Name, e.Node.Address)
}

func (e *ElsewhereError) Unwrap() error { return ErrElsewhere }

// clustered reports whether the Service shares its store with other nodes.
func (s *Service) clustered() bool { return s.cfg.Cluster != nil }

// newLease is the lease of a conversation this node creates.
func (s *Service) newLease() Lease {
	if !s.clustered() {
		return Lease{}
	}
	return Lease{Node: s.cfg.Node.ID, Epoch: 1}
}

// node is this node's row as it renews it now.
func (s *Service) node() Node {
	n := s.cfg.Node
	n.Expires = s.cfg.Clock.Now().UTC().Add(s.cfg.LeaseTTL)
	s.mu.RLock()
	n.Draining = s.draining
	s.mu.RUnlock()
	return n
}

// startNode joins the cluster and adopts what it can claim at once.
func (s *Service) startNode(ctx context.Context) error {
	if s.cfg.Node.ID == "" {
		return errors.New("calls: a clustered service needs Config.Node.ID")
	}
	if err := s.cfg.Cluster.Heartbeat(ctx, s.node(), true); err != nil {
		return fmt.Errorf("calls: joining the cluster: %w", err)
	}
	s.log.Info("calls: joined the cluster", "node", s.cfg.Node.ID, "name", s.cfg.Node.Name, "address", s.cfg.Node.Address, "lease_ttl", s.cfg.LeaseTTL)
	s.claimAndAdopt(ctx)
	s.countElsewhere(ctx)
	s.scheduleBeat()
	return nil
}

// scheduleBeat arms the next heartbeat, a third of the TTL away.
func (s *Service) scheduleBeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.beat = s.cfg.Clock.AfterFunc(s.cfg.LeaseTTL/3, s.heartbeat)
}

// heartbeat renews the node's row, then claims and adopts orphans.
func (s *Service) heartbeat() {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return
	}
	s.running.Add(1)
	s.mu.RUnlock()
	defer s.running.Done()
	ctx := context.Background()
	err := s.cfg.Cluster.Heartbeat(ctx, s.node(), false)
	switch {
	case errors.Is(err, ErrNodeGone):
		// Presumed dead: everything this node held is someone else's now.
		s.log.Error("calls: this node was presumed dead and lost its conversations; it serves none until restarted", "node", s.cfg.Node.ID)
		s.evictAll(slog.LevelWarn)
		return
	case err != nil:
		// The store is unreachable: keep trying; if it lasts past the TTL
		// the others take over and the commits here fail as fenced.
		s.log.Error("calls: heartbeat failed", "node", s.cfg.Node.ID, "err", err)
	default:
		s.claimAndAdopt(ctx)
		s.countElsewhere(ctx)
	}
	s.scheduleBeat()
}

// countElsewhere refreshes the count of the other nodes' calls in
// progress, which the per-application limit adds to this node's. On
// failure the last count stays.
func (s *Service) countElsewhere(ctx context.Context) {
	counts, err := s.cfg.Cluster.OpenCalls(ctx, s.cfg.Node.ID)
	if err != nil {
		s.log.Warn("calls: counting the other nodes' calls failed", "node", s.cfg.Node.ID, "err", err)
		return
	}
	s.mu.Lock()
	s.elsewhere = counts
	s.mu.Unlock()
}

// claimAndAdopt claims orphaned conversations and takes them into memory.
func (s *Service) claimAndAdopt(ctx context.Context) {
	s.mu.RLock()
	draining := s.draining
	s.mu.RUnlock()
	if draining {
		return
	}
	claimed, err := s.cfg.Cluster.Claim(ctx, s.cfg.Node.ID, s.cfg.Clock.Now().UTC(), claimBatch)
	if err != nil {
		s.log.Error("calls: claiming conversations failed", "node", s.cfg.Node.ID, "err", err)
		return
	}
	if len(claimed) == 0 {
		return
	}
	ids := make([]string, len(claimed))
	leases := make(map[string]Lease, len(claimed))
	for i, c := range claimed {
		ids[i], leases[c.ConversationID] = c.ConversationID, c.Lease
	}
	convs, err := s.cfg.Cluster.Load(ctx, ids)
	if err != nil {
		// They stay claimed by this node, which will not hold them: release
		// them so that another (or this one, next beat) adopts them.
		s.log.Error("calls: loading claimed conversations failed", "node", s.cfg.Node.ID, "err", err)
		if rerr := s.cfg.Cluster.Release(ctx, s.cfg.Node.ID, ids...); rerr != nil {
			s.log.Error("calls: releasing conversations failed", "node", s.cfg.Node.ID, "err", rerr)
		}
		return
	}
	for _, c := range convs {
		c.Lease = leases[c.ID]
	}
	// The undelivered notifications are this node's to send, first: before
	// the conversations resume and commit new ones after them.
	if s.cfg.Adopted != nil {
		var callIDs []string
		for _, c := range convs {
			for _, l := range c.Legs {
				callIDs = append(callIDs, l.ID)
			}
		}
		if err := s.cfg.Adopted(ctx, callIDs); err != nil {
			s.log.Error("calls: taking over notifications failed; releasing the conversations", "node", s.cfg.Node.ID, "err", err)
			if rerr := s.cfg.Cluster.Release(ctx, s.cfg.Node.ID, ids...); rerr != nil {
				s.log.Error("calls: releasing conversations failed", "node", s.cfg.Node.ID, "err", rerr)
			}
			return
		}
	}
	s.adopt(convs)
	s.log.Info("calls: took conversations over", "node", s.cfg.Node.ID, "count", len(convs))
}

// adopt takes live conversations into memory and resumes them, at start
// or when taking them over from another node: their timers run (those
// that fell due fire at once), their media rooms open, and what lived in
// the process they come from ends cleanly: operations on media in
// progress fail, live endpoints (a SIP leg's RTP) leave with the
// media-failure result.
func (s *Service) adopt(convs []*Conversation) {
	entries := make([]*entry, len(convs))
	s.mu.Lock()
	for i, c := range convs {
		e := &entry{conv: c, timers: make(map[Timer]clock.Timer)}
		e.view.Store(c)
		s.index(e)
		for _, l := range c.Legs {
			if !l.State.Ended() {
				s.open[openKey(l.TenantID, l.AppID)]++
			}
		}
		entries[i] = e
	}
	s.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		s.indexLegs(e, &Conversation{}, e.conv)
		s.schedule(e)
		s.syncMedia(&Conversation{ID: e.conv.ID}, e.conv)
		s.observeConversation(e.conv) // app-hosted legs' media streams start here
		e.mu.Unlock()
		s.failInterruptedMedia(e)
		s.dropLostEndpoints(e)
	}
}

// evict drops a conversation this node no longer owns from memory,
// without ending anything: its owner carries on. Called with e.mu held.
func (s *Service) evict(e *entry) { s.evictAs(e, slog.LevelWarn) }

// evictAs is evict, logged at level: a drain hands conversations over on
// purpose, a fenced commit finds out it lost one.
func (s *Service) evictAs(e *entry, level slog.Level) {
	if e.gone {
		return
	}
	s.log.Log(context.Background(), level, "calls: another node owns the conversation now", append(convAttrs(e.conv), "node", s.cfg.Node.ID)...)
	e.gone = true
	for k, t := range e.timers {
		t.Stop()
		delete(e.timers, k)
	}
	if s.cfg.Evicted != nil {
		ids := make([]string, len(e.conv.Legs))
		for i, l := range e.conv.Legs {
			ids[i] = l.ID
		}
		s.cfg.Evicted(ids)
	}
	empty := &Conversation{ID: e.conv.ID}
	s.syncMedia(e.conv, empty)
	s.observeConversation(empty) // its media streams leave this node
	s.indexLegs(e, e.conv, empty)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.convs[e.conv.ID] == e {
		delete(s.convs, e.conv.ID)
	}
	if k := e.conv.MeetingKey; k != "" && s.meetings[k] == e {
		delete(s.meetings, k)
	}
	for _, l := range e.conv.Legs {
		if s.byCall[strings.ToLower(l.ID)] == e {
			delete(s.byCall, strings.ToLower(l.ID))
		}
		if !l.State.Ended() {
			k := openKey(l.TenantID, l.AppID)
			if s.open[k]--; s.open[k] <= 0 {
				delete(s.open, k)
			}
		}
	}
}

// evictAll drops every conversation from memory, logging each at level.
func (s *Service) evictAll(level slog.Level) {
	s.mu.RLock()
	entries := make([]*entry, 0, len(s.convs))
	for _, e := range s.convs {
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	for _, e := range entries {
		e.mu.Lock()
		s.evictAs(e, level)
		e.mu.Unlock()
	}
}

// committed turns a failed commit into the error a command returns, and
// drops a fenced conversation. Called with e.mu held.
func (s *Service) commitFailed(e *entry, conv *Conversation, err error) error {
	if errors.Is(err, ErrFenced) && e != nil {
		s.evict(e)
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.log.Error("calls: commit failed", append(convAttrs(conv), "err", err)...)
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// Drain hands this node's conversations over to the others: it stops
// taking new ones and claiming, releases its leases (the others claim
// them at their next heartbeat) and drops them from memory, ending none.
// Only for a clustered service; a single node keeps its conversations in
// the store for its next start.
func (s *Service) Drain(ctx context.Context) error {
	if !s.clustered() {
		return nil
	}
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	if err := s.cfg.Cluster.Heartbeat(ctx, s.node(), false); err != nil && !errors.Is(err, ErrNodeGone) {
		return fmt.Errorf("calls: drain: %w", err)
	}
	if err := s.cfg.Cluster.Release(ctx, s.cfg.Node.ID); err != nil {
		return fmt.Errorf("calls: drain: %w", err)
	}
	s.evictAll(slog.LevelDebug)
	s.log.Info("calls: drained: conversations handed over", "node", s.cfg.Node.ID)
	return nil
}

// whereIs finds the node that serves a call this node does not hold.
func (s *Service) whereIs(ctx context.Context, callID string) error {
	if !s.clustered() {
		return ErrNotFound
	}
	n, _, err := s.cfg.Cluster.Owner(ctx, strings.ToLower(callID))
	if err != nil {
		return ErrNotFound
	}
	if n.ID == s.cfg.Node.ID || n.ID == "" {
		// Ours but not in memory yet (claimed a moment ago), or between
		// owners: the client retries.
		return fmt.Errorf("%w: the call is changing nodes; retry", ErrUnavailable)
	}
	return &ElsewhereError{Node: n}
}

// Locate returns the node that owns a call's conversation when it is
// another node (a request for the call belongs there), and false when this
// node holds it, or nobody does, or the Service is not clustered.
func (s *Service) Locate(ctx context.Context, callID string) (Node, bool) {
	if !s.clustered() {
		return Node{}, false
	}
	id := strings.ToLower(callID)
	s.mu.RLock()
	e := s.byCall[id]
	s.mu.RUnlock()
	if e != nil {
		return Node{}, false
	}
	now := s.cfg.Clock.Now()
	if n, ok := s.owners.get(id, now); ok {
		return n, true
	}
	var el *ElsewhereError
	if errors.As(s.whereIs(ctx, callID), &el) {
		s.owners.put(id, el.Node, now.Add(ownerCacheTTL))
		return el.Node, true
	}
	return Node{}, false
}

// ownerCacheTTL is how long a node trusts what it learnt of another
// node's ownership of a call: a forward for every request then costs no
// store read. After a takeover, requests may reach the old owner for that
// long, which answers 503 (a client retries).
const ownerCacheTTL = time.Second

// maxCachedOwners bounds the cache; it is emptied when full.
const maxCachedOwners = 10000

// ownerCache remembers which node owns calls that this node forwards to.
type ownerCache struct {
	mu sync.Mutex
	m  map[string]cachedOwner
}

type cachedOwner struct {
	node    Node
	expires time.Time
}

func (c *ownerCache) get(callID string, now time.Time) (Node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.m[callID]
	if !ok || !now.Before(o.expires) {
		return Node{}, false
	}
	return o.node, true
}

func (c *ownerCache) put(callID string, n Node, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedOwners {
		c.m = make(map[string]cachedOwner)
	}
	c.m[callID] = cachedOwner{node: n, expires: expires}
}

// meetingElsewhere reports, as an *ElsewhereError, that another node holds
// the live meeting with the key; nil when no live meeting has it (this node
// may start it).
func (s *Service) meetingElsewhere(ctx context.Context, key string) error {
	n, _, err := s.cfg.Cluster.FindMeeting(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	case n.ID == s.cfg.Node.ID:
		// Ours: it is being adopted, or was started a moment ago.
		s.mu.RLock()
		_, held := s.meetings[key]
		s.mu.RUnlock()
		if held {
			return nil
		}
		return fmt.Errorf("%w: the meeting is changing nodes; retry", ErrUnavailable)
	case n.ID == "":
		return fmt.Errorf("%w: the meeting is changing nodes; retry", ErrUnavailable)
	}
	return &ElsewhereError{Node: n}
}

// Peers returns the other live nodes of the cluster (none when the
// Service is not clustered).
func (s *Service) Peers(ctx context.Context) ([]Node, error) {
	if !s.clustered() {
		return nil, nil
	}
	nodes, err := s.cfg.Cluster.Nodes(ctx, s.cfg.Clock.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	out := nodes[:0]
	for _, n := range nodes {
		if n.ID != s.cfg.Node.ID {
			out = append(out, n)
		}
	}
	return out, nil
}
