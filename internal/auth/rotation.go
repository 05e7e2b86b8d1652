package auth

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Defaults of the key rotation settings in Config.
const (
	DefaultKeyRotationPeriod  = 30 * 24 * time.Hour
	DefaultKeyPublicationLead = 24 * time.Hour
)

const (
	// keyRotationTimeout bounds the store work of one timed rotation check.
	keyRotationTimeout = time.Minute
	// keyRetryInterval is how soon a failed timed check is retried.
	keyRetryInterval = time.Minute
)

// rotation holds the key rotation settings.
//
// A key signs for period: a successor is generated and published when the
// signing key is period-lead old, and takes over signing lead later. The
// old key stays published for retireAfter (the longest token lifetime plus
// the clock leeway) after it stopped signing, since until then a token it
// signed may still be valid; then it is deleted.
type rotation struct {
	period, lead, retireAfter time.Duration
}

// keyPlan is what rotation must do to a key set at some moment.
type keyPlan struct {
	generate bool      // publish a new key
	retire   []string  // ids of keys to delete
	next     time.Time // when the plan changes next, if nothing else does
}

// plan decides, purely from the keys' creation times, what is due at now.
// Because it keeps no state of its own, a restarted process or another node
// reaches the same decisions from the same stored keys.
func (r rotation) plan(ks *keySet, now time.Time) keyPlan {
	n := len(ks.keys)
	if n == 0 {
		return keyPlan{generate: true, next: now}
	}
	p := keyPlan{}
	genAt := ks.keys[n-1].createdAt.Add(r.period - r.lead)
	if now.Before(genAt) {
		p.next = genAt
	} else {
		p.generate = true
		p.next = now.Add(r.period - r.lead)
	}
	// Key i stopped signing when key i+1 became active; every token it
	// signed has expired retireAfter later.
	for i := range n - 1 {
		retireAt := ks.activeAt(i + 1).Add(r.retireAfter)
		if now.Before(retireAt) {
			p.next = minTime(p.next, retireAt)
			continue
		}
		p.retire = append(p.retire, ks.keys[i].id)
	}
	return p
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// rotateKeys reloads the stored keys, generates and saves a successor if
// one is due, deletes the keys that have retired, and installs the result.
// It returns when it should run next. A failure to load or save leaves the
// installed keys as they were; a failure to delete is logged and retried at
// the next check, since a retired key that stays published does no harm.
func (s *Service) rotateKeys(ctx context.Context) (time.Time, error) {
	s.rotMu.Lock()
	defer s.rotMu.Unlock()
	now := s.clock.Now()
	stored, err := s.keyStore.LoadKeys(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("auth: loading signing keys: %w", err)
	}
	ks, err := newKeySet(stored, s.rot.lead)
	if err != nil {
		return time.Time{}, err
	}
	if s.rot.plan(ks, now).generate {
		k, err := s.generateKey(now)
		if err != nil {
			return time.Time{}, err
		}
		if err := s.keyStore.SaveKey(ctx, k); err != nil {
			return time.Time{}, fmt.Errorf("auth: saving signing key: %w", err)
		}
		stored = append(stored, k)
		if ks, err = newKeySet(stored, s.rot.lead); err != nil {
			return time.Time{}, err
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "auth: signing key published",
			slog.String("kid", k.ID), slog.Time("signs_from", ks.activeAt(len(ks.keys)-1)))
	}
	p := s.rot.plan(ks, now)
	if len(p.retire) > 0 {
		kept := stored[:0:0]
		for _, sk := range stored {
			if !slices.Contains(p.retire, sk.ID) {
				kept = append(kept, sk)
				continue
			}
			if err := s.keyStore.DeleteKey(ctx, sk.ID); err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "auth: retiring signing key", slog.String("kid", sk.ID), slog.Any("err", err))
				kept = append(kept, sk)
				continue
			}
			s.log.LogAttrs(ctx, slog.LevelInfo, "auth: signing key retired", slog.String("kid", sk.ID))
		}
		if ks, err = newKeySet(kept, s.rot.lead); err != nil {
			return time.Time{}, err
		}
		p = s.rot.plan(ks, now)
	}
	s.keys.Store(ks)
	return p.next, nil
}

// scheduleRotation arranges for the next rotation check at next, and at
// the latest a quarter of the publication lead from now, so that a key
// another node published is loaded long before it starts signing.
func (s *Service) scheduleRotation(next time.Time) {
	s.timerMu.Lock()
	defer s.timerMu.Unlock()
	if s.closed {
		return
	}
	d := next.Sub(s.clock.Now())
	d = min(max(d, time.Second), s.rot.lead/4)
	s.timers.Add(1)
	s.timer = s.clock.AfterFunc(d, s.rotationTimer)
}

// rotationTimer is the timed rotation check; it runs in its own goroutine,
// which Close waits for.
func (s *Service) rotationTimer() {
	defer s.timers.Done()
	ctx, cancel := context.WithTimeout(context.Background(), keyRotationTimeout)
	defer cancel()
	next, err := s.rotateKeys(ctx)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "auth: key rotation check failed", slog.Any("err", err))
		next = s.clock.Now().Add(keyRetryInterval)
	}
	s.scheduleRotation(next)
}

// Close stops the key rotation timer and waits for a rotation check in
// progress. The Service still issues and validates tokens afterwards, with
// the keys it has. Close is safe to call more than once.
func (s *Service) Close() {
	s.timerMu.Lock()
	s.closed = true
	if s.timer != nil && s.timer.Stop() {
		s.timers.Done()
	}
	s.timer = nil
	s.timerMu.Unlock()
	s.timers.Wait()
}
