package calls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Config configures a Service. Store, Dispatcher and Directory are required.
type Config struct {
	Store      Store
	Dispatcher Dispatcher
	Directory  Directory
	Clock      clock.Clock  // default clock.Real
	Logger     *slog.Logger // default slog.Default()
	// AllowLoopbackHTTP admits http:// callback URIs to loopback hosts
	// (development mode). Otherwise callbackUri must be https.
	AllowLoopbackHTTP bool
	// RingTimeout is how long a callee may ring before the call ends with
	// 408/10057, unless the request sets ringingTimeoutInSeconds. Default 60 s.
	RingTimeout time.Duration
	// CheckCallback, when set, vets a callbackUri's destination when a call
	// is created (the SSRF guard); its error is reported as a 400 on
	// callbackUri.
	CheckCallback func(ctx context.Context, u *url.URL) error
	// CheckMediaBlob, when set, vets the blob of an appHostedMediaConfig
	// (the media stream's settings, internal/mediastream): an error is a
	// 400 on mediaConfig.blob with its text.
	CheckMediaBlob func(blob string) error
	// Media, when set, plays, records and detects tones for service-hosted
	// media; without it the media actions answer 501.
	Media Media
	// Recordings keeps finished recordings; required with Media.
	Recordings Recordings
	// MaxOpenCalls bounds the calls one application may have in progress
	// in its tenant. Default DefaultMaxOpenCalls.
	MaxOpenCalls int
	// Observer, when set, hears about every call a commit changes.
	Observer Observer
	// Endpoints, when set, reaches identities bound to live endpoints (SIP
	// phones and trunks); every other identity is simulated.
	Endpoints Endpoints
	// Cluster, when set, makes the Service one node of several sharing
	// Store (see cluster.go): it then holds only the conversations it
	// owns, and Node names it.
	Cluster Cluster
	// Node is this node, with Cluster: its ID unique to this run.
	Node Node
	// LeaseTTL is how long this node's leases outlive its last heartbeat,
	// with Cluster. Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Adopted, when set, hears of the calls of conversations this node
	// takes over from another, before they resume: their pending
	// notifications are now this node's to deliver. If it fails, the
	// conversations are released again.
	Adopted func(ctx context.Context, callIDs []string) error
	// Evicted, when set, hears of the calls of conversations this node
	// lost to another (it must send none of their notifications again).
	// Called with the conversation's lock held: it must not block.
	Evicted func(callIDs []string)
	// AskHandOver, with Cluster, asks node from to hand the conversation
	// of callID over to this node (HandOver, run there), for a command
	// that needs two calls' conversations on one node (a consultative
	// transfer, an invite with replacesCallId) when the other lives on
	// node from. Without it such a command finds the other call missing.
	AskHandOver func(ctx context.Context, from Node, callID string) error
}

// DefaultMaxOpenCalls is the default of Config.MaxOpenCalls.
const DefaultMaxOpenCalls = 1000

// Service runs the calls domain. It is safe for concurrent use. Create it
// with New, call Start before use and Shutdown at the end.
type Service struct {
	cfg Config
	log *slog.Logger

	mu     sync.RWMutex
	convs  map[string]*entry // by conversation id
	byCall map[string]*entry // by call id (lower case)
	open   map[string]int    // calls in progress by tenant/app
	// elsewhere counts, when clustered, the calls in progress that the
	// other nodes held at the last heartbeat, by tenant/app.
	elsewhere map[string]int
	meetings  map[string]*entry // live meetings by tenant|meeting key
	legs      legIndex          // live legs by tenant/app, in creation order
	closed    bool
	owners    ownerCache     // clustered: other nodes' calls, as Locate learnt them
	draining  bool           // clustered: handing conversations over (Drain)
	beat      clock.Timer    // clustered: the next heartbeat
	running   sync.WaitGroup // timer callbacks in progress
}

// entry holds one live conversation in memory.
type entry struct {
	mu     sync.Mutex // serialises commands on the conversation
	conv   *Conversation
	timers map[Timer]clock.Timer
	gone   bool // evicted: every leg ended
	view   atomic.Pointer[Conversation]
}

// New returns a Service; it does nothing until Start.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 60 * time.Second
	}
	if cfg.MaxOpenCalls <= 0 {
		cfg.MaxOpenCalls = DefaultMaxOpenCalls
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	return &Service{
		cfg:      cfg,
		log:      cfg.Logger,
		convs:    make(map[string]*entry),
		byCall:   make(map[string]*entry),
		open:     make(map[string]int),
		meetings: make(map[string]*entry),
		legs:     make(legIndex),
	}
}

// Start loads the live conversations from the store and resumes their
// timers; timers that fell due while the server was down fire at once.
//
// A clustered Service instead joins the cluster and takes over the
// conversations of nodes that are gone (see nodes.go).
func (s *Service) Start(ctx context.Context) error {
	if s.clustered() {
		return s.startNode(ctx)
	}
	convs, err := s.cfg.Store.LoadLive(ctx)
	if err != nil {
		return fmt.Errorf("calls: loading live conversations: %w", err)
	}
	s.adopt(convs)
	s.log.Info("calls: resumed live conversations", "count", len(convs))
	return nil
}

// Shutdown stops every timer and waits for commands started by timers to
// finish, or for ctx to end. Conversations stay in the store; Start resumes
// them.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	if s.beat != nil {
		s.beat.Stop()
	}
	entries := make([]*entry, 0, len(s.convs))
	for _, e := range s.convs {
		entries = append(entries, e)
	}
	s.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		for k, t := range e.timers {
			t.Stop()
			delete(e.timers, k)
		}
		e.mu.Unlock()
	}
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) index(e *entry) {
	s.convs[e.conv.ID] = e
	if e.conv.MeetingKey != "" {
		s.meetings[e.conv.MeetingKey] = e
	}
	for _, l := range e.conv.Legs {
		s.byCall[strings.ToLower(l.ID)] = e
	}
}

// lookup finds the conversation holding a caller's call; another
// application's call is not found, exactly as a missing one.
func (s *Service) lookup(c Caller, callID string) (*entry, *Call, error) {
	s.mu.RLock()
	e := s.byCall[strings.ToLower(callID)]
	s.mu.RUnlock()
	if e == nil {
		return nil, nil, s.whereIs(context.Background(), callID)
	}
	conv := e.view.Load()
	leg := conv.Leg(strings.ToLower(callID))
	if leg == nil || !owns(c, leg) || leg.State.Ended() {
		return nil, nil, ErrNotFound
	}
	return e, leg, nil
}

func owns(c Caller, leg *Call) bool {
	return strings.EqualFold(leg.AppID, c.AppID) && strings.EqualFold(leg.TenantID, c.TenantID)
}

// txn is the working copy of a conversation during one command.
type txn struct {
	conv   *Conversation
	now    time.Time
	outbox []OutboxEntry
	dirty  bool
	after  []func() // run once committed, still under the conversation's lock
	// reporter is the live endpoint whose own Signal this command applies:
	// what it did is not echoed back to it.
	reporter string
}

// afterCommit runs f once the transaction is committed and installed, while
// the conversation's lock is still held: effects outside the store (media
// operations) then happen in commit order. f must not block.
func (tx *txn) afterCommit(f func()) { tx.after = append(tx.after, f) }

// update runs fn on a copy of the conversation under its lock, commits the
// result with the notifications fn produced, and only then makes it the
// conversation's state. If fn or the commit fails nothing changes.
func (s *Service) update(ctx context.Context, e *entry, fn func(tx *txn) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return ErrNotFound
	}
	tx := &txn{conv: e.conv.clone(), now: s.cfg.Clock.Now().UTC()}
	if err := fn(tx); err != nil {
		return err
	}
	if !tx.dirty {
		return nil
	}
	tx.conv.UpdatedAt = tx.now
	if !tx.conv.Live() {
		tx.conv.Timers = nil
	}
	// The commit must not be abandoned half way because a client went away.
	if err := s.cfg.Store.Commit(context.WithoutCancel(ctx), tx.conv, tx.outbox); err != nil {
		return s.commitFailed(e, tx.conv, err)
	}
	s.settle(e, tx)
	return nil
}

// install makes conv the committed state of e. Called with e.mu held.
func (s *Service) install(e *entry, conv *Conversation) {
	s.countEnded(e.conv, conv)
	s.observe(e.conv, conv)
	s.syncMedia(e.conv, conv)
	s.indexLegs(e, e.conv, conv)
	e.conv = conv
	e.view.Store(conv)
	if conv.Live() {
		s.mu.Lock()
		s.index(e)
		s.mu.Unlock()
		s.schedule(e)
		return
	}
	e.gone = true
	for k, t := range e.timers {
		t.Stop()
		delete(e.timers, k)
	}
	s.mu.Lock()
	delete(s.convs, conv.ID)
	if conv.MeetingKey != "" && s.meetings[conv.MeetingKey] == e {
		delete(s.meetings, conv.MeetingKey)
	}
	for _, l := range conv.Legs {
		delete(s.byCall, strings.ToLower(l.ID))
	}
	s.mu.Unlock()
}

// schedule makes the running timers of e match e.conv.Timers. Called with
// e.mu held.
func (s *Service) schedule(e *entry) {
	want := make(map[Timer]bool, len(e.conv.Timers))
	for _, t := range e.conv.Timers {
		want[t] = true
	}
	for k, t := range e.timers {
		if !want[k] {
			t.Stop()
			delete(e.timers, k)
		}
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return
	}
	now := s.cfg.Clock.Now()
	for t := range want {
		if _, ok := e.timers[t]; ok {
			continue
		}
		t := t
		e.timers[t] = s.cfg.Clock.AfterFunc(t.Due.Sub(now), func() { s.fire(e, t) })
	}
}

// fire runs a due timer as a command on its conversation.
func (s *Service) fire(e *entry, t Timer) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return
	}
	s.running.Add(1)
	s.mu.RUnlock()
	defer s.running.Done()
	err := s.update(context.Background(), e, func(tx *txn) error {
		if !tx.removeTimer(t) {
			return nil // cancelled or already handled
		}
		tx.dirty = true
		return s.onTimer(tx, t)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.Error("calls: timer failed", append(convAttrs(e.view.Load()), "timer", t.Kind, "ref", t.Ref, "err", err)...)
	}
}

func (tx *txn) addTimer(kind TimerKind, ref string, due time.Time) {
	tx.conv.Timers = append(tx.conv.Timers, Timer{Kind: kind, Ref: ref, Due: due})
	tx.dirty = true
}

func (tx *txn) removeTimer(t Timer) bool {
	for i, x := range tx.conv.Timers {
		if x == t {
			tx.conv.Timers = append(tx.conv.Timers[:i:i], tx.conv.Timers[i+1:]...)
			return true
		}
	}
	return false
}

// removeTimers drops the timers that refer to ref.
func (tx *txn) removeTimers(ref string) {
	kept := tx.conv.Timers[:0:0]
	for _, t := range tx.conv.Timers {
		if t.Ref != ref {
			kept = append(kept, t)
		}
	}
	tx.conv.Timers = kept
}

// newID returns a UUID in lower case, the form of Graph's call,
// participant and operation ids: version 7 (RFC 9562), whose first 48 bits
// are the Unix time in milliseconds and whose other 74 are random. Ids made
// one after the other sort together, so the store's indexes on call and
// conversation ids grow at one end instead of taking a write to a random
// page for every new call; the random bits keep ids unguessable. The time
// is the wall clock's: it only orders ids and means nothing to the domain.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		panic("calls: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// sortedLegs returns the caller's live legs of all conversations, oldest
// first.
func (s *Service) sortedLegs(c Caller) []*Call {
	s.mu.RLock()
	refs := append([]legRef(nil), s.legs[openKey(c.TenantID, c.AppID)]...)
	s.mu.RUnlock()
	return s.resolve(c, refs)
}

func openKey(tenant, app string) string { return strings.ToLower(tenant) + "/" + strings.ToLower(app) }

// reserve counts a new call against its application's limit of calls in
// progress, or reports the limit when it is reached. On a node of a
// cluster the other nodes' calls count as of the last heartbeat.
func (s *Service) reserve(c Caller) error {
	k := openKey(c.TenantID, c.AppID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[k]+s.elsewhere[k] >= s.cfg.MaxOpenCalls {
		return &LimitError{What: "calls in progress", Limit: s.cfg.MaxOpenCalls}
	}
	s.open[k]++
	return nil
}

// release undoes reserve for a call that was not created.
func (s *Service) release(c Caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[openKey(c.TenantID, c.AppID)]--
}

// countEnded releases the reservation of every leg that ended between old
// and new.
func (s *Service) countEnded(old, new *Conversation) {
	for _, l := range new.Legs {
		if !l.State.Ended() {
			continue
		}
		if o := old.Leg(l.ID); o != nil && !o.State.Ended() {
			s.mu.Lock()
			s.open[openKey(l.TenantID, l.AppID)]--
			s.mu.Unlock()
		}
	}
}
