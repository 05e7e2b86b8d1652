// Package callstest has hand-written fakes of the ports that package calls
// declares, for tests of calls and of the packages above it.
package callstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// ErrInjected is returned by a Store whose next commit was told to fail.
var ErrInjected = errors.New("callstest: injected commit failure")

// Store is an in-memory calls.Store that keeps conversations as JSON, the
// way a real store serialises them. It is safe for concurrent use.
//
// It is a calls.Cluster too, so that tests can run several Services on
// one Store: commits fence on Conversation.Lease when it names a node.
type Store struct {
	mu       sync.Mutex
	convs    map[string][]byte
	outbox   []calls.OutboxEntry
	failNext int
	commits  int
	leases   map[string]calls.Lease // live conversations' owners, by conversation id
	nodes    map[string]calls.Node
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{convs: make(map[string][]byte), leases: make(map[string]calls.Lease), nodes: make(map[string]calls.Node)}
}

// FailNext makes the next n commits fail with ErrInjected, writing nothing.
func (s *Store) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Commit stores a copy of conv and appends the outbox entries.
func (s *Store) Commit(_ context.Context, conv *calls.Conversation, outbox []calls.OutboxEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return ErrInjected
	}
	if err := s.fence(conv); err != nil {
		return err
	}
	b, err := json.Marshal(conv)
	if err != nil {
		return err
	}
	s.convs[conv.ID] = b
	s.lease(conv)
	s.outbox = append(s.outbox, outbox...)
	s.commits++
	return nil
}

// fence checks a commit's lease (see calls.Cluster), and that a new live
// meeting does not take a live one's key. Called with s.mu held.
func (s *Store) fence(conv *calls.Conversation) error {
	if conv.Lease.Node == "" {
		return nil
	}
	if _, stored := s.convs[conv.ID]; !stored && conv.MeetingKey != "" && conv.Live() {
		for id := range s.leases {
			var c calls.Conversation
			if json.Unmarshal(s.convs[id], &c) == nil && c.MeetingKey == conv.MeetingKey {
				return fmt.Errorf("callstest: a live meeting has the key %q", conv.MeetingKey)
			}
		}
	}
	held, ok := s.leases[conv.ID]
	_, stored := s.convs[conv.ID]
	switch {
	case ok && held == conv.Lease:
		return nil
	case !ok && !stored && conv.Lease.Epoch == 1:
		return nil
	}
	return fmt.Errorf("%w: %s under %+v", calls.ErrFenced, conv.ID, conv.Lease)
}

// lease records the lease of a conversation just written. Called with
// s.mu held.
func (s *Store) lease(conv *calls.Conversation) {
	switch {
	case !conv.Live():
		delete(s.leases, conv.ID)
	case conv.Lease.Node != "":
		s.leases[conv.ID] = conv.Lease
	}
}

// CommitAll stores copies of the changes' conversations and appends their
// outbox entries, all or nothing. It counts as one commit, for FailNext and
// Commits alike.
func (s *Store) CommitAll(_ context.Context, changes []calls.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return ErrInjected
	}
	encoded := make([][]byte, len(changes))
	for i, c := range changes {
		if err := s.fence(c.Conversation); err != nil {
			return err
		}
		b, err := json.Marshal(c.Conversation)
		if err != nil {
			return err
		}
		encoded[i] = b
	}
	for i, c := range changes {
		s.convs[c.Conversation.ID] = encoded[i]
		s.lease(c.Conversation)
		s.outbox = append(s.outbox, c.Outbox...)
	}
	s.commits++
	return nil
}

// Commits returns the number of commits that succeeded.
func (s *Store) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// LoadLive returns copies of the live conversations.
func (s *Store) LoadLive(context.Context) ([]*calls.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*calls.Conversation
	for _, b := range s.convs {
		var c calls.Conversation
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		if c.Live() {
			out = append(out, &c)
		}
	}
	return out, nil
}

// Heartbeat implements calls.Cluster.
func (s *Store) Heartbeat(_ context.Context, n calls.Node, first bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nodes[n.ID]; !ok && !first {
		return calls.ErrNodeGone
	}
	s.nodes[n.ID] = n
	return nil
}

// Nodes implements calls.Cluster.
func (s *Store) Nodes(_ context.Context, now time.Time) ([]calls.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []calls.Node
	for _, n := range s.nodes {
		if n.Expires.After(now) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b calls.Node) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Claim implements calls.Cluster.
func (s *Store) Claim(_ context.Context, node string, now time.Time, limit int) ([]calls.Claimed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.leases))
	for id := range s.leases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []calls.Claimed
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		l := s.leases[id]
		if owner, ok := s.nodes[l.Node]; l.Node == node || ok && l.Node != "" && owner.Expires.After(now) {
			continue
		}
		l = calls.Lease{Node: node, Epoch: l.Epoch + 1}
		s.leases[id] = l
		out = append(out, calls.Claimed{ConversationID: id, Lease: l})
	}
	holds := make(map[string]bool)
	for _, l := range s.leases {
		holds[l.Node] = true
	}
	for id, n := range s.nodes {
		if !holds[id] && !n.Expires.After(now) {
			delete(s.nodes, id)
		}
	}
	return out, nil
}

// Release implements calls.Cluster.
func (s *Store) Release(_ context.Context, node string, ids ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, l := range s.leases {
		if l.Node == node && (len(ids) == 0 || slices.Contains(ids, id)) {
			s.leases[id] = calls.Lease{Epoch: l.Epoch}
		}
	}
	return nil
}

// HandOver implements calls.Cluster.
func (s *Store) HandOver(_ context.Context, id string, from calls.Lease, to string) (calls.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[id]
	if !ok {
		return calls.Lease{}, calls.ErrNotFound
	}
	if l != from {
		return calls.Lease{}, fmt.Errorf("%w: conversation %s is held by %q at epoch %d", calls.ErrFenced, id, l.Node, l.Epoch)
	}
	next := calls.Lease{Node: to, Epoch: l.Epoch + 1}
	s.leases[id] = next
	return next, nil
}

// Owner implements calls.Cluster.
func (s *Store) Owner(_ context.Context, callID string) (calls.Node, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, l := range s.leases {
		var c calls.Conversation
		if err := json.Unmarshal(s.convs[id], &c); err != nil {
			return calls.Node{}, "", err
		}
		if c.Leg(callID) != nil {
			return s.nodes[l.Node], id, nil
		}
	}
	return calls.Node{}, "", calls.ErrNotFound
}

// Load implements calls.Cluster.
func (s *Store) Load(_ context.Context, ids []string) ([]*calls.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*calls.Conversation
	for _, id := range ids {
		b, ok := s.convs[id]
		if !ok {
			continue
		}
		var c calls.Conversation
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		if c.Live() {
			c.Lease = s.leases[id]
			out = append(out, &c)
		}
	}
	return out, nil
}

// FindMeeting implements calls.Cluster.
func (s *Store) FindMeeting(_ context.Context, key string) (calls.Node, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, l := range s.leases {
		var c calls.Conversation
		if err := json.Unmarshal(s.convs[id], &c); err != nil {
			return calls.Node{}, "", err
		}
		if c.MeetingKey == key && key != "" {
			return s.nodes[l.Node], id, nil
		}
	}
	return calls.Node{}, "", calls.ErrNotFound
}

// ListCalls implements calls.Cluster.
func (s *Store) ListCalls(_ context.Context, tenantID, appID string, offset, limit int) ([]*calls.Call, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*calls.Call
	for _, b := range s.convs {
		var c calls.Conversation
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, 0, err
		}
		for _, l := range c.Legs {
			if l.TenantID == tenantID && l.AppID == appID && !l.State.Ended() {
				all = append(all, l)
			}
		}
	}
	slices.SortFunc(all, func(a, b *calls.Call) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	lo := min(offset, len(all))
	hi := min(lo+limit, len(all))
	return all[lo:hi], len(all), nil
}

// OpenCalls implements calls.Cluster.
func (s *Store) OpenCalls(_ context.Context, node string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for id, l := range s.leases {
		if l.Node == node {
			continue
		}
		var c calls.Conversation
		if err := json.Unmarshal(s.convs[id], &c); err != nil {
			return nil, err
		}
		for _, leg := range c.Legs {
			if !leg.State.Ended() {
				out[strings.ToLower(leg.TenantID)+"/"+strings.ToLower(leg.AppID)]++
			}
		}
	}
	return out, nil
}

// Outbox returns every committed outbox entry, in commit order.
func (s *Store) Outbox() []calls.OutboxEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]calls.OutboxEntry(nil), s.outbox...)
}

// Dispatcher records what it is given. It is safe for concurrent use.
type Dispatcher struct {
	mu      sync.Mutex
	entries []calls.OutboxEntry
}

// Enqueue records entries.
func (d *Dispatcher) Enqueue(entries ...calls.OutboxEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries = append(d.entries, entries...)
}

// For returns the entries of one call, in order.
func (d *Dispatcher) For(callID string) []calls.OutboxEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []calls.OutboxEntry
	for _, e := range d.entries {
		if e.CallID == callID {
			out = append(out, e)
		}
	}
	return out
}
