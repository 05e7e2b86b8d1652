package calls

import (
	"context"
	"sort"
	"strings"
	"time"
)

// legRef is a live leg in its application's list: where to find its
// current state.
type legRef struct {
	created time.Time
	id      string // lower case
	e       *entry
}

func (r legRef) before(created time.Time, id string) bool {
	if !r.created.Equal(created) {
		return r.created.Before(created)
	}
	return r.id < id
}

// legIndex keeps each application's live legs in creation order (then by
// id), as List returns them, so that listing a page costs the page and not
// a sort of every live call. Guarded by Service.mu.
type legIndex map[string][]legRef // openKey -> refs

// search returns where a leg created at created with id is, or would be,
// in refs.
func search(refs []legRef, created time.Time, id string) int {
	return sort.Search(len(refs), func(i int) bool { return !refs[i].before(created, id) })
}

// add files a live leg of e, or points an existing ref at e.
func (x legIndex) add(l *Call, e *entry) {
	k := openKey(l.TenantID, l.AppID)
	refs := x[k]
	id := strings.ToLower(l.ID)
	i := search(refs, l.CreatedAt, id)
	if i < len(refs) && refs[i].id == id {
		refs[i].e = e
		return
	}
	refs = append(refs, legRef{})
	copy(refs[i+1:], refs[i:])
	refs[i] = legRef{created: l.CreatedAt, id: id, e: e}
	x[k] = refs
}

// remove drops a leg that e held; a ref that another conversation took over
// (the leg moved) stays.
func (x legIndex) remove(l *Call, e *entry) {
	k := openKey(l.TenantID, l.AppID)
	refs := x[k]
	id := strings.ToLower(l.ID)
	i := search(refs, l.CreatedAt, id)
	if i == len(refs) || refs[i].id != id || refs[i].e != e {
		return
	}
	refs = append(refs[:i], refs[i+1:]...)
	if len(refs) == 0 {
		delete(x, k)
		return
	}
	x[k] = refs
}

// indexLegs brings the leg index up to date with e going from old to cur:
// legs that appeared live are added, legs that ended or left are removed.
// It takes s.mu only when something changed, which most commits do not.
func (s *Service) indexLegs(e *entry, old, cur *Conversation) {
	if !legsChanged(old, cur) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range old.Legs {
		if n := cur.Leg(l.ID); n == nil && !l.State.Ended() {
			s.legs.remove(l, e)
		}
	}
	for _, l := range cur.Legs {
		if l.State.Ended() {
			s.legs.remove(l, e)
		} else {
			s.legs.add(l, e)
		}
	}
}

// legsChanged reports whether a leg of cur is new, or ended, or a live leg
// of old is gone.
func legsChanged(old, cur *Conversation) bool {
	if len(old.Legs) != len(cur.Legs) {
		return true
	}
	for _, l := range cur.Legs {
		o := old.Leg(l.ID)
		if o == nil || o.State.Ended() != l.State.Ended() {
			return true
		}
	}
	return false
}

// ListPage returns at most limit of the caller's calls that have not ended,
// oldest first, skipping the first offset, and how many there are in all.
// Its cost is that of the page, not of every live call.
func (s *Service) ListPage(ctx context.Context, c Caller, offset, limit int) (page []*Call, total int) {
	if s.clustered() {
		// Every node's calls, from the store; this node's own if it fails.
		page, total, err := s.cfg.Cluster.ListCalls(ctx, c.TenantID, c.AppID, max(offset, 0), max(limit, 0))
		if err == nil {
			return page, total
		}
		s.log.Error("calls: listing the cluster's calls failed; listing this node's", "node", s.cfg.Node.ID, "err", err)
	}
	s.mu.RLock()
	refs := s.legs[openKey(c.TenantID, c.AppID)]
	total = len(refs)
	lo := min(max(offset, 0), total)
	hi := min(lo+max(limit, 0), total)
	refs = append([]legRef(nil), refs[lo:hi]...)
	s.mu.RUnlock()
	return s.resolve(c, refs), total
}

// resolve returns the current state of the caller's live legs in refs.
func (s *Service) resolve(c Caller, refs []legRef) []*Call {
	out := make([]*Call, 0, len(refs))
	for _, r := range refs {
		// The leg may have ended since the index was read: it is left out.
		if l := r.e.view.Load().Leg(r.id); l != nil && owns(c, l) && !l.State.Ended() {
			out = append(out, l)
		}
	}
	return out
}
