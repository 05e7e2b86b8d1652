package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Header names set on every callback request, besides Content-Type, Accept,
// User-Agent and Authorization.
const (
	// HeaderSequence carries Delivery.Seq, the per-call sequence number.
	HeaderSequence = "Switchboard-Sequence"
	// HeaderCallID carries Delivery.CallID.
	HeaderCallID = "Switchboard-Call-Id"
	// HeaderAttempt carries the 1-based attempt number of this delivery.
	HeaderAttempt = "Switchboard-Delivery-Attempt"
	// HeaderChainID carries Delivery.ChainID; it is omitted when that is empty.
	HeaderChainID = "X-Microsoft-Skype-Chain-ID"
	// HeaderMessageID carries a random UUID, new for every attempt.
	HeaderMessageID = "X-Microsoft-Skype-Message-ID"
	// HeaderScenarioID carries a random UUID, new for every attempt.
	HeaderScenarioID = "Scenario-Id"
	// HeaderReplay is "true" on a delivery sent again through
	// Worker.Replay; it is omitted otherwise.
	HeaderReplay = "Switchboard-Replay"
)

// DefaultUserAgent is sent when Config.UserAgent is empty.
const DefaultUserAgent = "Switchboard"

const (
	defaultMaxAttempts    = 12
	defaultBaseBackoff    = 250 * time.Millisecond
	defaultMaxBackoff     = 30 * time.Second
	defaultConcurrency    = 64
	defaultRequestTimeout = 10 * time.Second
	// defaultMaxPendingPerCall is far more than a call's notifications
	// waiting behind a healthy bot.
	defaultMaxPendingPerCall = 1000

	// maxRedirects is the number of redirects followed within one attempt.
	maxRedirects = 5
	// maxRetryAfter caps a bot's Retry-After so that a bogus value cannot
	// park a call's queue for days.
	maxRetryAfter = time.Hour
	// idleRetention is how long the worker remembers the last finished seq of
	// a call with nothing queued, to drop late duplicates of it.
	idleRetention = 10 * time.Minute
	minSweep      = 1024
)

var (
	// ErrClosed is returned by Start after Shutdown.
	ErrClosed = errors.New("notify: worker is shut down")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("notify: worker already started")
	// ErrRefused wraps a Config.CheckURL refusal or a URL that is not an
	// absolute http or https URL. It fails the delivery permanently.
	ErrRefused = errors.New("notify: callback url refused")
	// ErrTooManyRedirects fails an attempt whose bot redirected more than 5
	// times. It is retried like any other failure.
	ErrTooManyRedirects = errors.New("notify: too many redirects")
)

// StatusError is the error of an attempt answered with a status that is
// neither 2xx nor a followed redirect.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("notify: callback answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Delivery is one outbox row: a commsNotifications envelope for one call.
type Delivery struct {
	CallID string
	// Seq numbers the call's deliveries, strictly increasing from 1.
	Seq int64
	// URL is the callbackUri to POST to.
	URL string
	// Body is the complete JSON envelope, ready to POST.
	Body                     []byte
	AppID, TenantID, ChainID string
	CreatedAt                time.Time
	// Attempts counts the attempts made so far, across restarts. For a
	// replay it counts the replay's attempts only.
	Attempts int
	// Replay marks a delivery sent again through Worker.Replay; Enqueue and
	// Outbox.Pending leave it false.
	Replay bool
}

// Outbox is the store side of the transactional outbox. Implementations must
// be safe for concurrent use; the Worker calls Record from a single
// goroutine, with the results in the order they happened.
type Outbox interface {
	// Pending returns every delivery neither delivered nor given up, ordered
	// by CallID then Seq.
	Pending(ctx context.Context) ([]Delivery, error)
	// Delivered records that the bot acknowledged the delivery.
	Delivered(ctx context.Context, callID string, seq int64, at time.Time, attempts int) error
	// Attempted records a failed attempt; gaveUp marks the delivery as
	// finished without success, and nextAttempt is then zero.
	Attempted(ctx context.Context, callID string, seq int64, attempts int, nextAttempt time.Time, lastError string, gaveUp bool) error
	// Record writes several results at once, in order, each as Delivered or
	// Attempted would: one write instead of one per result. A result that
	// fails (a delivery the outbox lacks) does not keep the others from
	// being written; the error returned joins the failures.
	Record(ctx context.Context, results []Result) error
}

// PendingForCalls is implemented by outboxes that can load the pending
// deliveries of some calls only (clustered nodes need it: see
// Worker.Adopt).
type PendingForCalls interface {
	// PendingFor returns the deliveries of these calls that are neither
	// delivered nor given up, ordered by CallID then Seq. Unknown calls
	// contribute nothing, and an empty list gives an empty result.
	PendingFor(ctx context.Context, callIDs []string) ([]Delivery, error)
}

// Result is the outcome of attempts at one delivery, as Outbox.Record
// writes it.
type Result struct {
	CallID string
	Seq    int64
	// Attempts counts the attempts made so far.
	Attempts int
	// Delivered says the bot acknowledged the delivery, at At.
	Delivered bool
	// Otherwise At is when to try next (zero for never), LastError says
	// why the attempt failed, and GaveUp finishes the delivery without
	// success.
	At        time.Time
	LastError string
	GaveUp    bool
}

// Signer issues the bearer token a bot validates on each callback.
type Signer interface {
	CallbackToken(appID, tenantID string) (string, error)
}

// Config configures a Worker. Zero values take the documented defaults.
type Config struct {
	// Outbox is required.
	Outbox Outbox
	// Signer, if nil, means callbacks carry no Authorization header.
	Signer Signer
	// Clock schedules retries; nil means clock.Real.
	Clock clock.Clock
	// Client sends the callbacks; nil means a client of the Worker's own with
	// a connection pool sized for Concurrency. The Worker uses a copy whose
	// CheckRedirect stops at the first response, so it can follow redirects
	// itself, and never modifies the Client given.
	Client *http.Client
	// Logger, if nil, is slog.Default().
	Logger *slog.Logger
	// MaxAttempts is the number of attempts before a delivery is given up;
	// default 12.
	MaxAttempts int
	// BaseBackoff is the delay after the first failure; it doubles after each
	// further failure up to MaxBackoff, with jitter that draws the delay from
	// its upper half. Defaults 250ms and 30s.
	BaseBackoff, MaxBackoff time.Duration
	// Concurrency bounds the deliveries in flight across all calls; default
	// 64. Each call has at most one in flight, and a call waiting out a
	// backoff holds no slot; but a bot that holds requests open holds a slot
	// per call for up to RequestTimeout, up to MaxInFlightPerApp of them.
	Concurrency int
	// MaxInFlightPerApp bounds the deliveries of one application (a client
	// id in a tenant) in flight at once, so that a bot that never answers
	// delays only its own calls; default a quarter of Concurrency, at least
	// 1, at most Concurrency. Applications with work take turns at the
	// pool, one delivery each in turn.
	MaxInFlightPerApp int
	// RequestTimeout bounds one attempt, redirects included; default 10s.
	RequestTimeout time.Duration
	// ShutdownGrace is how long Shutdown lets deliveries already on the
	// wire finish before cancelling them, measured on Clock (and bounded by
	// Shutdown's ctx too); default 5s, negative: cancel at once.
	ShutdownGrace time.Duration
	// CheckURL, if set, is called before each attempt and each redirect hop;
	// an error gives the delivery up at once. Redirects are followed within
	// one attempt only: the next attempt and the next delivery start again
	// from Delivery.URL.
	CheckURL func(u *url.URL) error
	// AllowDowngrade lets a redirect lead from an https URL to an http one
	// (development mode); otherwise such a redirect gives the delivery up
	// with ErrRefused, as a CheckURL refusal does.
	AllowDowngrade bool
	// MaxPendingPerCall bounds the deliveries of one call neither delivered
	// nor given up; default 1,000. When a call has more (its bot does not
	// keep up, or its backlog was loaded at Start), the oldest not in
	// flight are given up, with a LastError that says so.
	MaxPendingPerCall int
	// Load, if set, reads an outbox row back, as Outbox.Pending returns
	// rows. With it a replay holds only the row's key until its turn comes
	// and reads the row then, so that queued replays hold no bodies.
	Load func(ctx context.Context, callID string, seq int64) (Delivery, error)
	// MaxReplaysPerApp bounds the replays (Replay) of one application queued
	// or in flight at once, and MaxReplays those of all applications;
	// defaults 10,000 and 100,000.
	MaxReplaysPerApp, MaxReplays int
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// Clustered says the Worker runs on one node of several that share the
	// outbox, and delivers only the calls this node owns: Start loads no
	// pending deliveries (a node owns nothing when it starts), and
	// deliveries reach the Worker only through Enqueue (committed by this
	// node) and Adopt (the backlog of calls it took over). Forget drops
	// the calls it lost.
	Clustered bool
	// OnResult, if set, is called after each attempt with the delivery
	// (Attempts counting this attempt), the final HTTP status (0 without a
	// response) and error, and whether it was delivered or given up. Calls for
	// one call are made in order, from a pool goroutine: it must not block
	// for long. An attempt interrupted by Shutdown is not reported.
	OnResult func(d Delivery, status int, err error, delivered, gaveUp bool)
}

// Worker delivers outbox rows. Create it with New; its methods are safe for
// concurrent use.
type Worker struct {
	cfg          Config
	client       *http.Client
	ownTransport *http.Transport
	log          *slog.Logger

	mu    sync.Mutex
	cond  sync.Cond // signalled when runnable gains an application, broadcast on close
	calls map[string]*callQueue
	// apps holds the applications with calls waiting for a pool goroutine
	// or deliveries in flight, by appKey.
	apps map[string]*appQueue
	// runnable is the round-robin ring of applications with a call waiting
	// and a free slot of their share.
	runnable []*appQueue
	started  bool
	closed   bool
	sweepAt  int

	// adopting counts, by call id, the Adopts in progress that cover the
	// call: while one is, the call's queue is not handed to the pool, so
	// that what Enqueue adds meanwhile is not sent before the backlog
	// being loaded. adoptions are those Adopts.
	adopting  map[string]int
	adoptions map[*adoption]struct{}

	// replayCount counts the replays queued or in flight, replaysPerApp
	// the same by appKey, and replayBytes the bodies they hold.
	replayCount   int
	replaysPerApp map[string]int
	replayBytes   int64

	// wg counts the pool goroutines and every scheduled retry timer until its
	// callback has run or Stop has cancelled it.
	wg          sync.WaitGroup
	cancelRun   context.CancelFunc
	cancelStore context.CancelFunc
	stopped     chan struct{}

	pmu         sync.Mutex
	records     []record
	persistWake chan struct{}
	persistStop chan struct{}
	persistDone chan struct{}
}

// New returns a Worker for cfg with defaults applied. It starts nothing.
func New(cfg Config) *Worker {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = defaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = defaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.BaseBackoff)
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultConcurrency
	}
	if cfg.MaxInFlightPerApp <= 0 {
		cfg.MaxInFlightPerApp = cfg.Concurrency / 4
	}
	cfg.MaxInFlightPerApp = min(max(cfg.MaxInFlightPerApp, 1), cfg.Concurrency)
	if cfg.MaxPendingPerCall <= 0 {
		cfg.MaxPendingPerCall = defaultMaxPendingPerCall
	}
	if cfg.MaxReplaysPerApp <= 0 {
		cfg.MaxReplaysPerApp = defaultMaxReplaysPerApp
	}
	if cfg.MaxReplays <= 0 {
		cfg.MaxReplays = defaultMaxReplays
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 5 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	w := &Worker{
		cfg:           cfg,
		log:           cfg.Logger,
		calls:         make(map[string]*callQueue),
		apps:          make(map[string]*appQueue),
		replaysPerApp: make(map[string]int),
		adopting:      make(map[string]int),
		adoptions:     make(map[*adoption]struct{}),
		sweepAt:       minSweep,
		stopped:       make(chan struct{}),
		persistWake:   make(chan struct{}, 1),
		persistStop:   make(chan struct{}),
		persistDone:   make(chan struct{}),
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.cond.L = &w.mu
	var c http.Client
	if cfg.Client != nil {
		c = *cfg.Client
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.Concurrency
		w.ownTransport = t
		c.Transport = t
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = &c
	return w
}

// Start loads the outbox's pending deliveries and begins delivering them and
// whatever Enqueue (or Adopt) added before or adds after. With
// Config.Clustered it loads nothing. ctx bounds the loading only: the
// Worker then runs until Shutdown. If loading fails Start returns the error
// and may be called again.
func (w *Worker) Start(ctx context.Context) error {
	if w.cfg.Outbox == nil {
		return errors.New("notify: Config.Outbox is nil")
	}
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return ErrClosed
	case w.started:
		w.mu.Unlock()
		return ErrStarted
	}
	w.mu.Unlock()

	var pending []Delivery
	if !w.cfg.Clustered {
		var err error
		if pending, err = w.cfg.Outbox.Pending(ctx); err != nil {
			return fmt.Errorf("notify: load pending deliveries: %w", err)
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return ErrClosed
	case w.started:
		return ErrStarted
	}
	w.started = true
	now := w.cfg.Clock.Now()
	for _, d := range pending {
		w.add(d, now)
	}
	for _, cq := range w.calls {
		w.wake(cq)
	}
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	storeCtx, cancelStore := context.WithCancel(context.WithoutCancel(ctx))
	w.cancelRun, w.cancelStore = cancelRun, cancelStore
	for range w.cfg.Concurrency {
		w.wg.Go(func() { w.work(runCtx) })
	}
	go w.persist(storeCtx)
	w.log.Debug("notify: worker started", "pending", len(pending), "concurrency", w.cfg.Concurrency, "clustered", w.cfg.Clustered)
	return nil
}

// Enqueue adds freshly committed deliveries. Deliveries of one call must come
// in Seq order; those of different calls may interleave freely. A delivery
// whose Seq the Worker already holds or has finished is ignored (a call idle
// for over 10 minutes may be forgotten, and a late duplicate then sent
// again, which at-least-once allows). Before Start
// deliveries are held until Start; after Shutdown they are ignored, and stay
// pending in the outbox for the next start. An idle call's delivery begins at
// once.
func (w *Worker) Enqueue(ds ...Delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	now := w.cfg.Clock.Now()
	for _, d := range ds {
		if cq := w.add(d, now); cq != nil && w.started {
			w.wake(cq)
		}
	}
}

// Shutdown stops taking work, stops retry timers, lets the requests in
// flight finish for up to ShutdownGrace, then cancels the rest (an
// interrupted delivery stays pending in the outbox and is sent again after a
// restart) and waits for every goroutine the Worker started.
// It writes the results not yet recorded to the Outbox; if ctx ends first,
// the rest are dropped (their deliveries will be sent again) and Shutdown
// returns ctx.Err() once its goroutines have exited. Later calls wait for the
// first to finish.
func (w *Worker) Shutdown(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		select {
		case <-w.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.closed = true
	started := w.started
	var timers []clock.Timer
	for _, cq := range w.calls {
		if cq.timer != nil {
			timers = append(timers, cq.timer)
			cq.timer = nil
		}
	}
	w.runnable = nil
	w.cond.Broadcast()
	w.mu.Unlock()
	defer close(w.stopped)

	if !started {
		return nil
	}
	for _, t := range timers {
		if t.Stop() {
			w.wg.Done() // the callback will never run to do it
		}
	}
	// Deliveries already on the wire may finish, so that a bot's
	// acknowledgement is not lost and the notification not sent again
	// after a restart; when ctx ends first they are cancelled, and stay
	// pending.
	drained := make(chan struct{})
	go func() { w.wg.Wait(); close(drained) }()
	// The grace is measured on the injected clock, like every other wait of
	// the Worker, so that a virtual clock decides when it is over.
	if w.cfg.ShutdownGrace > 0 {
		graceOver := make(chan struct{})
		grace := w.cfg.Clock.AfterFunc(w.cfg.ShutdownGrace, func() { close(graceOver) })
		select {
		case <-drained:
		case <-graceOver:
		case <-ctx.Done():
		}
		grace.Stop()
	}
	w.cancelRun()
	<-drained
	if w.ownTransport != nil {
		w.ownTransport.CloseIdleConnections()
	}

	close(w.persistStop)
	var err error
	select {
	case <-w.persistDone:
	case <-ctx.Done():
		w.cancelStore()
		<-w.persistDone
		err = ctx.Err()
	}
	w.cancelStore()
	return err
}
