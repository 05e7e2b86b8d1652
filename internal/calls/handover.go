package calls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// A command that changes two conversations at once (a consultative
// transfer, an invite with replacesCallId) commits both in one
// transaction, so both must be owned by the node that runs it. When the
// other call's conversation lives on another node, this node asks that
// node to hand it over (Config.AskHandOver, which reaches HandOver there):
// the owner drops it from memory and moves its lease to this node in one
// write, and this node adopts it as it would after a failover. What lived
// in the old owner's process (a prompt playing, a SIP leg's media) ends as
// on failover; the conversation's state and notifications carry on.

// HandOver gives the conversation holding callID, which this node owns, to
// node to: its lease moves there with the next epoch, and it leaves this
// node's memory without ending anything. ErrNotFound when this node does
// not hold the call (any more).
func (s *Service) HandOver(ctx context.Context, callID, to string) error {
	if !s.clustered() {
		return ErrNotFound
	}
	if to == "" || to == s.cfg.Node.ID {
		return invalid("to", "must name another node")
	}
	s.mu.RLock()
	e := s.byCall[strings.ToLower(callID)]
	s.mu.RUnlock()
	if e == nil {
		return ErrNotFound
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return ErrNotFound
	}
	if _, err := s.cfg.Cluster.HandOver(ctx, e.conv.ID, e.conv.Lease, to); err != nil {
		if errors.Is(err, ErrFenced) {
			s.evict(e)
			return ErrNotFound
		}
		return fmt.Errorf("%w: handing the conversation over: %v", ErrUnavailable, err)
	}
	s.evictAs(e, slog.LevelInfo)
	return nil
}

// pull brings the conversation of the caller's call callID, owned by
// another node, to this one (see HandOver) and returns its entry. The
// call must be the caller's and in progress before anything moves:
// nobody moves another application's conversation. missing is the error
// for a call that is not.
func (s *Service) pull(ctx context.Context, c Caller, callID string, missing error) (*entry, error) {
	if !s.clustered() || s.cfg.AskHandOver == nil {
		return nil, missing
	}
	id := strings.ToLower(callID)
	owner, convID, err := s.cfg.Cluster.Owner(ctx, id)
	if err != nil || owner.ID == s.cfg.Node.ID {
		return nil, missing
	}
	convs, err := s.cfg.Cluster.Load(ctx, []string{convID})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if len(convs) != 1 {
		return nil, missing
	}
	if leg := convs[0].Leg(id); leg == nil || !owns(c, leg) || leg.State.Ended() {
		return nil, missing
	}
	if owner.ID == "" {
		return nil, fmt.Errorf("%w: the call is changing nodes; retry", ErrUnavailable)
	}
	if err := s.cfg.AskHandOver(ctx, owner, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			// Gone from there: ended, or pulled here by another command.
			if e, _, err := s.lookup(c, id); err == nil {
				return e, nil
			}
			return nil, missing
		}
		return nil, fmt.Errorf("%w: the node serving call %s did not hand it over: %v", ErrUnavailable, id, err)
	}
	convs, err = s.cfg.Cluster.Load(ctx, []string{convID})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if len(convs) != 1 || convs[0].Lease.Node != s.cfg.Node.ID {
		return nil, missing // ended, or moved on, meanwhile
	}
	if s.cfg.Adopted != nil {
		var callIDs []string
		for _, l := range convs[0].Legs {
			callIDs = append(callIDs, l.ID)
		}
		if err := s.cfg.Adopted(ctx, callIDs); err != nil {
			if rerr := s.cfg.Cluster.Release(ctx, s.cfg.Node.ID, convID); rerr != nil {
				s.log.Error("calls: releasing a conversation failed", "node", s.cfg.Node.ID, "err", rerr)
			}
			return nil, fmt.Errorf("%w: taking over the call's notifications: %v", ErrUnavailable, err)
		}
	}
	s.adopt(convs)
	s.log.Info("calls: took a conversation over from another node", "node", s.cfg.Node.ID, "from", owner.ID, "conversation", convID)
	e, _, err := s.lookup(c, id)
	if err != nil {
		return nil, missing
	}
	return e, nil
}
