package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/cluster"
	"github.com/switchboard-dev/switchboard/internal/console"
	"github.com/switchboard-dev/switchboard/internal/devcert"
	"github.com/switchboard-dev/switchboard/internal/extapi"
	"github.com/switchboard-dev/switchboard/internal/faults"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/mediabridge"
	"github.com/switchboard-dev/switchboard/internal/mediastream"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/recordings"
	"github.com/switchboard-dev/switchboard/internal/sim"
	"github.com/switchboard-dev/switchboard/internal/sip"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/telemetry"
	"github.com/switchboard-dev/switchboard/internal/throttle"
	"github.com/switchboard-dev/switchboard/internal/webrtc"
)

// Version is the server version, reported in User-Agent and --version.
const Version = "0.1.0"

// App is one Switchboard server. Create it with New, then Start; Shutdown
// stops it. An App is not reusable after Shutdown.
type App struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	store       store.Store
	auth        *auth.Service
	notify      *notify.Worker
	calls       *calls.Service
	directory   *sim.Directory
	engine      *media.Engine
	manualMedia bool
	bridge      *mediabridge.Bridge
	streams     *mediastream.Manager // app-hosted media streams
	faults      *faults.Set          // faults on demand (development mode)
	// wallClock paces what runs in real time whatever the calls' time:
	// the media engine, phones' and browsers' media, bots' connections.
	// virtual, with --clock virtual, is clock (the calls' time).
	wallClock  clock.Clock
	virtual    *clock.Virtual
	recordings *recordings.Store
	hub        *console.Hub      // the console's live view of commits
	sip        *sip.Server       // nil when SIP is off
	webrtc     *webrtc.Server    // browsers in calls (the console)
	phones     *phones.Directory // SIP accounts, registrations, contacts, trunks
	devCA      []byte
	node       *nodeSetup   // set when the store is shared by several nodes
	earlyHTTP  net.Listener // --listen, bound before the services start (a node learns its address)

	sweepMu      sync.Mutex
	sweeper      clock.Timer
	sweepStopped bool
	sweeping     sync.WaitGroup // the sweep in progress, waited for by Shutdown
	retention    *retention     // deletes ended calls after calls.endedRetention

	// metrics is nil unless --metrics-listen is set.
	metrics *telemetry.Metrics

	servers   []*http.Server
	addrs     map[string]string        // "http", "https", "metrics", "pprof" -> bound address
	urls      atomic.Pointer[[]string] // knownURLs, replaced by serve
	ready     chan struct{}
	serveErrs chan error
	wg        sync.WaitGroup
}

// Option changes how New builds an App; tests use them.
type Option func(*App)

// WithClock replaces the wall clock.
func WithClock(c clock.Clock) Option { return func(a *App) { a.clock = c } }

// WithManualMedia makes the media engine move only when StepMedia says,
// whatever the clock: for tests that listen to audio, whose result must not
// depend on how busy the machine is.
func WithManualMedia() Option { return func(a *App) { a.manualMedia = true } }

// New checks cfg and returns an App that has not started.
func New(cfg Config, log *slog.Logger, opts ...Option) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	a := &App{cfg: cfg, log: log, clock: clock.Real{}, addrs: make(map[string]string), ready: make(chan struct{}), serveErrs: make(chan error, 4)}
	for _, o := range opts {
		o(a)
	}
	a.metrics = a.newMetrics()
	a.wallClock = a.clock
	if cfg.VirtualClock() {
		a.virtual = clock.NewVirtual(a.clock)
		a.clock = a.virtual
	}
	return a, nil
}

// Start opens the store, resumes calls and notifications, and starts the
// listeners. If it fails, what was started is stopped again.
func (a *App) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a.Shutdown(sctx)
		}
	}()
	if err := PrepareDataDir(a.cfg.DataDir); err != nil {
		return err
	}
	spec := a.cfg.StoreSpec()
	a.store, err = store.Open(ctx, spec, store.Options{Logger: a.log, Clock: a.clock, ObserveBatch: a.batchObserver()})
	if err != nil {
		return fmt.Errorf("app: store: %w", err)
	}
	kind, where := store.Describe(spec) // a URL's password redacted
	a.log.Info("app: store opened", "store", kind, "database", where)
	if a.node, err = a.setupNode(ctx); err != nil {
		return err
	}
	apps, err := a.apps()
	if err != nil {
		return err
	}
	a.auth, err = auth.New(ctx, auth.Config{Clock: a.clock, WallClock: a.wallClock, Keys: a.store, Apps: apps, Logger: a.log, PublicURLs: a.knownURLs,
		AssertionIDs: a.store}) // assertion ids persist: a replay is refused after a restart too
	if err != nil {
		return fmt.Errorf("app: token service: %w", err)
	}
	allow, err := netguard.ParsePrefixes(a.cfg.Notifications.AllowNetworks)
	if err != nil {
		return err
	}
	// Outside development mode callbacks may not reach loopback, private or
	// link-local addresses: checked when a call is created, before every
	// attempt and redirect, and on every connection (DNS rebinding).
	guard := &netguard.Policy{AllowAll: a.cfg.Dev, Allow: allow}
	a.notify = notify.New(notify.Config{
		Outbox: a.store, Signer: a.auth, Clock: a.clock, Logger: a.log,
		MaxAttempts: a.cfg.Notifications.MaxAttempts, MaxBackoff: time.Duration(a.cfg.Notifications.MaxBackoff),
		MaxInFlightPerApp: a.cfg.Notifications.MaxInFlightPerApp, MaxPendingPerCall: a.cfg.Notifications.MaxPendingPerCall,
		Load:      loadDelivery(a.store),
		UserAgent: "Switchboard/" + Version,
		Client:    &http.Client{Transport: callbackTransport(guard)},
		CheckURL:  func(u *url.URL) error { return guard.CheckURL(context.Background(), u) },
		// Outside development mode a redirect may not downgrade https.
		AllowDowngrade: a.cfg.Dev,
		OnResult:       a.deliveryObserver(),
		// A node delivers the notifications of the calls it owns only.
		Clustered: a.node != nil,
	})
	a.hub = console.NewHub()
	a.directory, err = sim.NewDirectory(time.Duration(a.cfg.Simulation.AnswerDelay), a.cfg.Simulation.Identities)
	if err != nil {
		return err
	}
	// Service-hosted media: the engine mixes and records; the bridge fetches
	// prompts through the same network guard as callbacks.
	recDir := a.cfg.Media.RecordingDir
	if recDir == "" {
		recDir = filepath.Join(a.cfg.DataDir, "recordings")
	}
	a.recordings, err = recordings.New(recDir, a.publicURL,
		time.Duration(a.cfg.Media.RecordingRetention), a.clock.Now)
	if err != nil {
		return err
	}
	a.node.shareRecordings(a)
	a.bridge = mediabridge.New(mediabridge.Config{
		Client: &http.Client{Transport: callbackTransport(guard), Timeout: 30 * time.Second}, AllowFile: a.cfg.Dev, Logger: a.log,
		MaxFetches: a.cfg.Media.PromptFetches, MaxFetchesPerTenant: a.cfg.Media.PromptFetchesPerTenant,
		CacheBytes: int64(a.cfg.Media.PromptCacheMiB) << 20, TenantCacheBytes: int64(a.cfg.Media.PromptCacheMiBPerTenant) << 20,
	})
	if a.manualMedia {
		a.engine = media.NewManual(a.bridge)
	} else {
		a.engine = media.New(a.wallClock, a.bridge)
	}
	a.bridge.Attach(a.engine)
	if a.faults, err = faults.NewSet(a.cfg.Faults); err != nil {
		return err
	}
	a.streams = a.newStreams(&http.Client{Transport: callbackTransport(guard)},
		func(u *url.URL) error { return guard.CheckURL(context.Background(), u) })
	// Phones: the SIP server is the calls domain's live endpoints.
	if a.phones, err = a.newPhones(); err != nil {
		return err
	}
	if a.sip, err = a.newSIP(); err != nil {
		return err
	}
	if a.webrtc, err = a.newWebRTC(); err != nil {
		return err
	}
	endpoints := liveEndpoints{a.webrtc}
	if a.sip != nil {
		endpoints = append(endpoints, a.sip)
	}
	callsCfg := calls.Config{
		Store: a.store, Dispatcher: dispatcher{a.notify}, Directory: a.directory, Clock: a.clock, Logger: a.log,
		AllowLoopbackHTTP: a.cfg.Dev, RingTimeout: time.Duration(a.cfg.Calls.RingTimeout),
		CheckCallback: guard.CheckURL, MaxOpenCalls: a.cfg.Calls.MaxOpenCallsPerApp,
		CheckMediaBlob: func(blob string) error { _, _, err := mediastream.ParseBlob(blob, a.cfg.Dev); return err },
		Media:          a.bridge, Recordings: a.recordings, Observer: a.callObserver(), Endpoints: endpoints,
	}
	a.node.callsConfig(&callsCfg, a)
	a.calls = calls.New(callsCfg)
	a.bridge.SetSink(a.calls)
	if err := a.engine.Start(ctx); err != nil {
		return fmt.Errorf("app: media engine: %w", err)
	}
	a.bridge.Start()
	a.sweepRecordings()
	a.retention = newRetention(a.store, a.clock, a.log, time.Duration(a.cfg.Calls.EndedRetention))
	a.retention.start()
	if err := a.notify.Start(ctx); err != nil {
		return fmt.Errorf("app: notifications: %w", err)
	}
	if err := a.calls.Start(ctx); err != nil {
		return err
	}
	a.webrtc.SetCalls(a.calls)
	if a.sip != nil {
		a.sip.Attach(a.calls)
		if err := a.sip.Start(ctx); err != nil {
			return fmt.Errorf("app: --sip-listen: %w", err)
		}
		a.addrs["sip"] = a.sip.Addr().String()
	}
	return a.listen()
}

func (a *App) listen() error {
	h := a.metrics.Instrument(a.routeLabel(), a.handler())
	if ln := a.earlyHTTP; ln != nil {
		a.earlyHTTP = nil
		a.serve("http", ln, h)
	} else if !off(a.cfg.Listen) {
		ln, err := net.Listen("tcp", a.cfg.Listen)
		if err != nil {
			return fmt.Errorf("app: --listen: %w", err)
		}
		a.serve("http", ln, h)
	}
	if !off(a.cfg.ListenTLS) {
		tc, err := a.tlsConfig()
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", a.cfg.ListenTLS)
		if err != nil {
			return fmt.Errorf("app: --listen-tls: %w", err)
		}
		a.serve("https", tls.NewListener(ln, tc), h)
	}
	if err := a.listenTelemetry(); err != nil {
		return err
	}
	close(a.ready)
	for scheme, addr := range a.addrs {
		a.log.Info("app: listening", "scheme", scheme, "addr", addr, "dev", a.cfg.Dev)
	}
	if a.cfg.Dev && a.cfg.DevAllowRemote {
		a.log.Warn("app: --dev-allow-remote: this development server may be reachable from other machines, "+
			"and anyone who reaches it can use the well-known development credentials, which hold every role; use --dev=false for a shared server",
			"remote_listeners", a.cfg.remoteListeners())
	}
	return nil
}

func (a *App) tlsConfig() (*tls.Config, error) {
	if a.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("app: TLS certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	b, err := devcert.Ensure(a.cfg.DataDir, time.Now())
	if err != nil {
		return nil, fmt.Errorf("app: development certificate: %w", err)
	}
	a.devCA = b.CAPEM
	return &tls.Config{Certificates: []tls.Certificate{b.Certificate}, MinVersion: tls.VersionTLS12}, nil
}

func (a *App) serve(scheme string, ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.servers = append(a.servers, srv)
	a.addrs[scheme] = ln.Addr().String()
	a.updateKnownURLs()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("app: listener failed", "scheme", scheme, "err", err)
			a.serveErrs <- err
		}
	}()
}

// handler is the whole HTTP surface: Graph under /v1.0 and /beta, the
// extension API under /switchboard/, and the token service at the root.
func (a *App) handler() http.Handler {
	var fwd *cluster.Forwarder // nil on one node
	if a.node != nil {
		fwd = a.node.forwarder
	}
	api := a.withFaults(graph.NewHandler(graph.Config{Calls: a.calls, Auth: a.auth, Logger: a.log, Forwarder: fwd}))
	forwarding := graph.NewForwarding(fwd, a.calls, a.log)
	ext := extapi.New(extapi.Config{Auth: a.auth, Store: a.store, Replayer: a.notify, Ready: a.ready, Version: Version, Logger: a.log,
		Forwarding: forwarding,
		Sim:        &extapi.Simulation{Calls: a.calls, Directory: a.directory, Webhook: a.webhook, Voice: a.voice, LocalFiles: a.cfg.Dev, Clock: a.simClock(), Faults: a.simFaults()}})
	// An Idempotency-Key makes any POST of either API safe to retry; keys
	// belong to the caller's tenant and application.
	idem := graph.IdempotencyConfig{Store: a.store, Scope: graph.PrincipalScope(a.auth), Clock: a.clock, Logger: a.log,
		TTL: time.Duration(a.cfg.Idempotency.Retention), MaxKeys: a.cfg.Idempotency.MaxKeysPerApp}
	api, ext = graph.WithIdempotency(idem, api), graph.WithIdempotency(idem, ext)
	// One bucket per application covers both APIs, every path and method
	// of them, and idempotent replays: the limits run before anything else.
	limits := graph.ThrottleConfig{Auth: a.auth, Logger: a.log}
	if t := a.cfg.Throttle; t.Requests > 0 {
		limits.Limiter = throttle.New(t.Requests, time.Duration(t.Period), a.clock)
	}
	if t := a.cfg.Throttle; t.MaxInFlight > 0 {
		limits.Gate = throttle.NewGate(t.MaxInFlight)
	}
	api, ext = graph.WithThrottle(limits, api), graph.WithThrottle(limits, ext)
	tokens := a.auth.Handler()
	var con http.Handler
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch strings.ToLower(first) {
		case "v1.0", "beta":
			api.ServeHTTP(w, r)
		case "console":
			con.ServeHTTP(w, r)
		case "switchboard":
			if r.URL.Path == handOverPath {
				a.serveHandOver(w, r) // between nodes only
				return
			}
			if strings.HasPrefix(r.URL.Path, recordings.PathPrefix) {
				a.recordings.ServeHTTP(w, r) // authorised by the recording's own token
				return
			}
			if id, ok := mediaCallID(r.URL.Path); ok {
				a.serveMedia(w, r, id, forwarding)
				return
			}
			ext.ServeHTTP(w, r)
		default:
			tokens.ServeHTTP(w, r)
		}
	})
	con = a.consoleHandler(root) // its API requests are the server's own
	// Requests other nodes forward here are verified before the limits,
	// which let them through (the node the client reached applied them).
	return graph.WithRequestIDs(graph.WithRecovery(a.log, graph.WithForwarded(fwd, a.log, root)))
}

// withFaults answers the Graph API requests that a fault rule matches
// with its effect, and logs each (docs/faults.md).
func (a *App) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.faults.Empty() {
			if p, err := a.auth.Authenticate(r); err == nil {
				if rule, ok := a.faults.Request(p.AppID, r.Method, r.URL.Path); ok {
					a.log.Warn("fault injected", "rule", rule.ID, "app", p.AppID, "method", r.Method, "path", r.URL.Path, "status", rule.Effect.Status)
					faults.Apply(w, rule)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// simFaults is the fault rules simulation/faults manages: in development
// mode only.
func (a *App) simFaults() *faults.Set {
	if !a.cfg.Dev {
		return nil
	}
	return a.faults
}

// simClock is the clock simulation/clock moves, or nil on the real clock.
func (a *App) simClock() extapi.Clock {
	if a.virtual == nil {
		return nil
	}
	return a.virtual
}

// StepMedia moves the media engine of an App made WithManualMedia by d
// (rounded down to 20 ms frames), once every prompt and WAV file being
// fetched has arrived, so that audio runs the same on any machine. It
// returns once the engine has reported the frames' events.
func (a *App) StepMedia(ctx context.Context, d time.Duration) error {
	if err := a.bridge.Settle(ctx); err != nil {
		return err
	}
	return a.engine.Step(ctx, int(d/media.FrameDuration))
}

// Ready is closed once the listeners accept connections.
func (a *App) Ready() <-chan struct{} { return a.ready }

// Errors delivers a listener's failure after Start.
func (a *App) Errors() <-chan error { return a.serveErrs }

// Addr returns the bound address of the "http", "https", "metrics", "pprof"
// or "sip" listener, or "".
func (a *App) Addr(scheme string) string { return a.addrs[scheme] }

// DevCA returns the PEM of the development CA when the HTTPS listener uses
// the development certificate.
func (a *App) DevCA() []byte { return a.devCA }

// Shutdown stops accepting requests, lets running ones finish, stops timers
// and notification delivery (what is undelivered stays in the store), and
// closes the store. It waits for every goroutine the App started, or for
// ctx to end.
//
// A node of a cluster first drains: it takes no new conversations and
// hands its live ones to the other nodes, ending none (docs/cluster.md).
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	if a.node != nil && a.calls != nil {
		if err := a.calls.Drain(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if a.earlyHTTP != nil {
		a.earlyHTTP.Close()
	}
	for _, s := range a.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http: %w", err))
			s.Close()
		}
	}
	a.wg.Wait()
	if a.streams != nil {
		a.streams.Close() // bots' connections are hijacked: the servers do not wait for them
	}
	if a.webrtc != nil {
		a.webrtc.Close()
	}
	// Phones hear a BYE before the calls domain stops.
	if a.sip != nil {
		if err := a.sip.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sip: %w", err))
		}
	}
	if a.calls != nil {
		if err := a.calls.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.sweepMu.Lock()
	a.sweepStopped = true
	if a.sweeper != nil {
		a.sweeper.Stop()
	}
	a.sweepMu.Unlock()
	if err := waitGroup(ctx, &a.sweeping); err != nil {
		errs = append(errs, fmt.Errorf("app: recordings sweep: %w", err))
	}
	if a.retention != nil {
		if err := a.retention.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("app: ended calls sweep: %w", err))
		}
	}
	// The bridge stops first, so that operations the engine abandons as it
	// stops stay running in the store and are failed, as interrupted, at
	// the next start.
	if a.bridge != nil {
		if err := a.bridge.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if a.engine != nil {
		if err := a.engine.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if a.notify != nil {
		if err := a.notify.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if a.auth != nil {
		a.auth.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dispatcher hands committed notifications to the delivery worker.
type dispatcher struct{ w *notify.Worker }

func (d dispatcher) Enqueue(entries ...calls.OutboxEntry) {
	ds := make([]notify.Delivery, len(entries))
	for i, e := range entries {
		ds[i] = notify.Delivery{CallID: e.CallID, Seq: e.Seq, URL: e.URL, Body: e.Body, AppID: e.AppID, TenantID: e.TenantID, ChainID: e.ChainID, CreatedAt: e.CreatedAt}
	}
	d.w.Enqueue(ds...)
}

// callbackTransport is the HTTP transport for callbacks, with connect and
// response-header timeouts so that a dead bot costs little.
func callbackTransport(guard *netguard.Policy) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: guard.Control}).DialContext
	t.ResponseHeaderTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 64
	t.Proxy = nil
	return t
}

// sweepRecordings deletes expired recordings now and then every hour,
// until Shutdown, which waits for a sweep in progress: a sweep never runs
// once Shutdown has returned.
func (a *App) sweepRecordings() {
	a.sweepMu.Lock()
	if a.sweepStopped {
		a.sweepMu.Unlock()
		return
	}
	// Added under sweepMu before Shutdown sets sweepStopped, so it always
	// happens before Shutdown's Wait.
	a.sweeping.Add(1)
	a.sweepMu.Unlock()
	defer a.sweeping.Done()
	if n := a.recordings.Sweep(); n > 0 {
		a.log.Info("app: expired recordings deleted", "count", n)
	}
	a.sweepMu.Lock()
	defer a.sweepMu.Unlock()
	if a.sweepStopped {
		return
	}
	a.sweeper = a.clock.AfterFunc(time.Hour, a.sweepRecordings)
}

// waitGroup waits for wg, or for ctx to end.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publicURL is the base URL under which the server hands out links (such
// as recording locations): the configured one, else the HTTPS listener's
// when there is one (a recording's token must not cross the network in
// the clear), else the HTTP listener's.
func (a *App) publicURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	if addr := a.addrs["https"]; addr != "" {
		return "https://" + addr
	}
	return "http://" + a.addrs["http"]
}

// voice returns the voice of a simulated participant of a call, or nil.
func (a *App) voice(callID, participantID string) *media.SimPerson {
	conv, err := a.calls.Conversation(callID)
	if err != nil {
		return nil
	}
	return a.bridge.Person(conv.ID, participantID)
}
