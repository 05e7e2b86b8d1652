package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// onLegs runs fn on the caller's live leg callID and then other on the
// caller's live leg otherID, as one command over both conversations: their
// changes and notifications commit in one transaction or not at all (see
// updateBoth). A missing or ended callID fails with ErrNotFound, a missing
// or ended otherID with otherMissing.
func (s *Service) onLegs(ctx context.Context, c Caller, callID, otherID string, otherMissing error, fn, other func(tx *txn, leg *Call) error) error {
	e, _, err := s.lookup(c, callID)
	if err != nil {
		return err
	}
	o, _, err := s.lookup(c, otherID)
	if err != nil {
		// On another node: it comes here (both commit in one transaction).
		if o, err = s.pull(ctx, c, otherID, otherMissing); err != nil {
			return err
		}
	}
	on := func(id string, missing error, fn func(tx *txn, leg *Call) error) func(tx *txn) error {
		return func(tx *txn) error {
			leg := tx.conv.Leg(strings.ToLower(id))
			if leg == nil || !owns(c, leg) || leg.State.Ended() {
				return missing
			}
			return fn(tx, leg)
		}
	}
	return s.updateBoth(ctx, e, o, on(callID, ErrNotFound, fn), on(otherID, otherMissing, other))
}

// updateBoth is update over two conversations: it runs fa on a copy of a
// and fb on a copy of b, each under its conversation's lock, and commits
// both results with their notifications in one transaction
// (Store.CommitAll), so that a command that moves someone from one
// conversation to the other is never half done, not even across a crash.
// If fa, fb or the commit fails nothing changes. When a and b are the same
// conversation, fa and fb run one after the other on one copy.
//
// fa and fb must find nothing to do in a conversation whose every leg has
// ended: that is what an evicted one holds.
func (s *Service) updateBoth(ctx context.Context, a, b *entry, fa, fb func(tx *txn) error) error {
	if a == b {
		return s.update(ctx, a, func(tx *txn) error {
			if err := fa(tx); err != nil {
				return err
			}
			return fb(tx)
		})
	}
	// Two commands that lock the same two conversations lock them in the
	// same order, so that neither waits for the other forever.
	first, second := a, b
	if b.view.Load().ID < a.view.Load().ID {
		first, second = b, a
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()

	now := s.cfg.Clock.Now().UTC()
	ta := &txn{conv: a.conv.clone(), now: now}
	tb := &txn{conv: b.conv.clone(), now: now}
	if err := fa(ta); err != nil {
		return err
	}
	if err := fb(tb); err != nil {
		return err
	}
	var changes []Change
	for _, x := range []struct {
		e  *entry
		tx *txn
	}{{a, ta}, {b, tb}} {
		if !x.tx.dirty {
			continue
		}
		if x.e.gone {
			return ErrNotFound
		}
		x.tx.seal()
		changes = append(changes, Change{Conversation: x.tx.conv, Outbox: x.tx.outbox})
	}
	if len(changes) == 0 {
		return nil
	}
	// The commit must not be abandoned half way because a client went away.
	if err := s.cfg.Store.CommitAll(context.WithoutCancel(ctx), changes); err != nil {
		if errors.Is(err, ErrFenced) {
			s.evictMoved(ctx, a, b)
		}
		s.log.Error("calls: commit failed", append(convAttrs(ta.conv), "other_conversation", tb.conv.ID, "err", err)...)
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if ta.dirty {
		s.settle(a, ta)
	}
	if tb.dirty {
		s.settle(b, tb)
	}
	return nil
}

// seal readies a changed conversation for its commit.
func (tx *txn) seal() {
	tx.conv.UpdatedAt = tx.now
	if !tx.conv.Live() {
		tx.conv.Timers = nil
	}
}

// settle makes a committed transaction the state of its conversation, then
// lets the effects it deferred happen and hands its notifications over.
// Called with e.mu held.
func (s *Service) settle(e *entry, tx *txn) {
	old := e.conv
	s.install(e, tx.conv)
	s.syncEndpoints(old, tx.conv, tx.reporter)
	for _, f := range tx.after {
		f()
	}
	if len(tx.outbox) > 0 {
		s.cfg.Dispatcher.Enqueue(tx.outbox...)
	}
}

// evictMoved drops whichever of two conversations another node took over,
// after a CommitAll of both was fenced. Called with both locks held.
func (s *Service) evictMoved(ctx context.Context, entries ...*entry) {
	if !s.clustered() {
		return
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.conv.ID
	}
	convs, err := s.cfg.Cluster.Load(context.WithoutCancel(ctx), ids)
	if err != nil {
		return // the next commit of each finds out
	}
	held := make(map[string]Lease, len(convs))
	for _, c := range convs {
		held[c.ID] = c.Lease
	}
	for _, e := range entries {
		if held[e.conv.ID] != e.conv.Lease {
			s.evict(e)
		}
	}
}
