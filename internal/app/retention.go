package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// endedStore is what the retention sweep needs of the store.
type endedStore interface {
	// DeleteEnded deletes at most limit conversations that ended before
	// before, with their calls and finished notifications, and says how
	// many it deleted.
	DeleteEnded(ctx context.Context, before time.Time, limit int) (int, error)
}

// retentionBatch is how many conversations one write of the sweep deletes:
// small enough that commits of live calls queued behind it barely wait.
const retentionBatch = 500

// retention deletes ended calls once they are older than keep: at start and
// then every sweepEvery(keep), on the App's clock, until shutdown, which
// waits for a sweep in progress. Create it with newRetention.
type retention struct {
	store endedStore
	clock clock.Clock
	log   *slog.Logger
	keep  time.Duration

	mu      sync.Mutex
	timer   clock.Timer
	stopped bool
	stop    chan struct{} // closed by shutdown: a running sweep stops between writes
	running sync.WaitGroup
}

func newRetention(store endedStore, c clock.Clock, log *slog.Logger, keep time.Duration) *retention {
	return &retention{store: store, clock: c, log: log, keep: keep, stop: make(chan struct{})}
}

// sweepEvery is how often ended calls are looked for: often enough that
// they go soon after their time, and at most every 10 minutes.
func sweepEvery(keep time.Duration) time.Duration {
	return min(max(keep/4, time.Second), 10*time.Minute)
}

// start schedules the first sweep, at once. A zero keep never sweeps.
func (r *retention) start() {
	if r.keep <= 0 {
		return
	}
	r.schedule(0)
}

func (r *retention) schedule(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.timer = r.clock.AfterFunc(d, r.sweep)
	}
}

// sweep deletes what has expired, a batch per write, and schedules the next
// sweep.
func (r *retention) sweep() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	// Added under mu before shutdown sets stopped, so it always happens
	// before shutdown's Wait.
	r.running.Add(1)
	r.mu.Unlock()
	defer r.running.Done()

	before := r.clock.Now().Add(-r.keep)
	total := 0
	for {
		n, err := r.store.DeleteEnded(context.Background(), before, retentionBatch)
		if err != nil {
			r.log.Warn("app: deleting ended calls", "err", err)
			break
		}
		total += n
		if n < retentionBatch || r.stopping() {
			break
		}
	}
	if total > 0 {
		r.log.Info("app: ended calls deleted", "conversations", total, "ended_before", before)
	}
	r.schedule(sweepEvery(r.keep))
}

func (r *retention) stopping() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// shutdown stops the sweeps and waits for one in progress, or for ctx.
func (r *retention) shutdown(ctx context.Context) error {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		close(r.stop)
		if r.timer != nil {
			r.timer.Stop()
		}
	}
	r.mu.Unlock()
	return waitGroup(ctx, &r.running)
}
