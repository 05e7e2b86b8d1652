package rtpmedia

import (
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Watchdog reports a stream that went quiet: once it runs, it calls its
// function when no Feed came for its timeout, and then stops. Feed is
// cheap enough to call for every packet. It takes its time from an
// injected clock. It is safe for concurrent use; the function is called on
// a goroutine of its own, never with the Watchdog's lock held, so it may
// call the Watchdog.
type Watchdog struct {
	clk     clock.Clock
	timeout time.Duration
	fire    func()

	mu      sync.Mutex
	last    time.Time // the last Feed, or Start
	timer   clock.Timer
	gen     uint64 // bumped by Start, Pause and Stop: older timers do nothing
	running bool
	stopped bool
}

// NewWatchdog returns a Watchdog that calls fire after timeout without
// packets. It does nothing until Start.
func NewWatchdog(clk clock.Clock, timeout time.Duration, fire func()) *Watchdog {
	return &Watchdog{clk: clk, timeout: timeout, fire: fire}
}

// Start starts counting from now, or restarts after Pause or after it
// fired. It does nothing after Stop or when already running.
func (w *Watchdog) Start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.running {
		return
	}
	w.running, w.last = true, w.clk.Now()
	w.gen++
	w.arm(w.timeout)
}

// Pause stops counting, for as long as no packets are expected (the peer
// is on hold, or holds us). Start resumes.
func (w *Watchdog) Pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halt()
}

// Stop stops the Watchdog for good.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.halt()
	w.stopped = true
}

// Feed tells the Watchdog a packet arrived.
func (w *Watchdog) Feed() {
	w.mu.Lock()
	if w.running {
		w.last = w.clk.Now()
	}
	w.mu.Unlock()
}

func (w *Watchdog) halt() {
	w.running = false
	w.gen++
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// arm schedules a check after d. Called with w.mu held.
func (w *Watchdog) arm(d time.Duration) {
	gen := w.gen
	w.timer = w.clk.AfterFunc(d, func() { w.check(gen) })
}

// check fires if the stream has been quiet for the timeout, and otherwise
// looks again when it would have been.
func (w *Watchdog) check(gen uint64) {
	w.mu.Lock()
	if !w.running || gen != w.gen {
		w.mu.Unlock()
		return
	}
	if quiet := w.clk.Now().Sub(w.last); quiet < w.timeout {
		w.arm(w.timeout - quiet)
		w.mu.Unlock()
		return
	}
	w.running, w.timer = false, nil
	w.mu.Unlock()
	w.fire()
}
