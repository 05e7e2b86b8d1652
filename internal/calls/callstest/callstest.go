// Package callstest has hand-written fakes of the ports that package calls
// declares, for tests of calls and of the packages above it.
package callstest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// ErrInjected is returned by a Store whose next commit was told to fail.
var ErrInjected = errors.New("callstest: injected commit failure")

// Store is an in-memory calls.Store that keeps conversations as JSON, the
// way a real store serialises them. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	convs    map[string][]byte
	outbox   []calls.OutboxEntry
	failNext int
	commits  int
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{convs: make(map[string][]byte)} }

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
	b, err := json.Marshal(conv)
	if err != nil {
		return err
	}
	s.convs[conv.ID] = b
	s.outbox = append(s.outbox, outbox...)
	s.commits++
	return nil
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
		b, err := json.Marshal(c.Conversation)
		if err != nil {
			return err
		}
		encoded[i] = b
	}
	for i, c := range changes {
		s.convs[c.Conversation.ID] = encoded[i]
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
