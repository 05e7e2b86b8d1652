// Package mediabridge connects the calls service to the audio engine: it
// implements calls.Media on top of media.Engine, fetches and caches prompts
// (http, https, and file: in development mode) for the application that
// plays them, within bounds on concurrent fetches and cached bytes per
// tenant and in total, gives every simulated
// participant a voice (a media.SimPerson following its behaviour's script),
// and hands the engine's events back to the calls service, in order, on a
// goroutine of its own so that the engine's ticks never wait for a store
// commit.
package mediabridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// MaxPromptBytes bounds a prompt file.
const MaxPromptBytes = 32 << 20

// Sink receives the engine's results: *calls.Service is one.
type Sink interface {
	MediaPlayFinished(room, leg, opID string, err error)
	MediaRecordFinished(room, leg, opID string, rec calls.MediaRecording)
	MediaTonesSent(room, leg, opID string, canceled bool)
	MediaToneDetected(room, leg string, key rune, from string)
	MediaSpeaking(room, member string, speaking bool)
}

// Config configures a Bridge. Engine-independent parts are optional.
type Config struct {
	Client    *http.Client // for prompts; it should carry the SSRF guard
	AllowFile bool         // file: prompts (development mode)
	Logger    *slog.Logger
	// Behaviour returns how a simulated participant behaves, for its script.
	Behaviour func(room, participant string) calls.Behaviour

	// MaxFetches bounds the prompts fetched at once, over all tenants, and
	// MaxFetchesPerTenant those fetched at once for one tenant, so that
	// one tenant's slow or many prompts cannot hold every fetch. 0 means
	// DefaultMaxFetches and DefaultMaxFetchesPerTenant.
	MaxFetches          int
	MaxFetchesPerTenant int
	// CacheBytes bounds the decoded prompts kept for reuse, over all
	// tenants, and TenantCacheBytes those kept for one tenant; the least
	// recently used go first. A prompt larger than TenantCacheBytes is
	// played but not kept. 0 means DefaultCacheBytes and
	// DefaultTenantCacheBytes.
	CacheBytes       int64
	TenantCacheBytes int64
}

// Defaults of Config's limits.
const (
	DefaultMaxFetches          = 8
	DefaultMaxFetchesPerTenant = 2
	DefaultCacheBytes          = 256 << 20
	DefaultTenantCacheBytes    = 64 << 20
)

// Bridge implements calls.Media and media.Events. Create it with New, give
// it the engine with Attach, the sink with SetSink, and Start it.
//
// The calls service calls it while holding a conversation's lock, in commit
// order, so it never waits there: prompts and scripts' WAV files are read
// by goroutines of its own, and each media operation keeps its place in the
// engine's queue meanwhile (media.Engine.Reserve).
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	engine *media.Engine

	mu     sync.Mutex
	sink   Sink
	people map[string]*media.SimPerson // room/participant; nil while its WAVs load
	muted  map[string]bool             // room/participant: muted voices, joined or joining
	cache  *promptCache                // decoded prompts, by owner and URI
	// fetching are the prompts being fetched: another fetch of the same
	// prompt waits for that one instead of fetching it again.
	fetching map[promptKey]*flight
	slots    *fetchSlots
	events   []func(Sink)
	busy     int           // goroutines fetching or loading
	idle     chan struct{} // closed when busy drops to 0
	closed   bool
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// New returns a Bridge.
func New(cfg Config) *Bridge {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxFetches <= 0 {
		cfg.MaxFetches = DefaultMaxFetches
	}
	if cfg.MaxFetchesPerTenant <= 0 {
		cfg.MaxFetchesPerTenant = DefaultMaxFetchesPerTenant
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.TenantCacheBytes <= 0 {
		cfg.TenantCacheBytes = DefaultTenantCacheBytes
	}
	idle := make(chan struct{})
	close(idle)
	return &Bridge{
		cfg: cfg, log: cfg.Logger, people: make(map[string]*media.SimPerson), muted: make(map[string]bool),
		cache:    newPromptCache(cfg.CacheBytes, cfg.TenantCacheBytes),
		fetching: make(map[promptKey]*flight),
		slots:    newFetchSlots(cfg.MaxFetches, cfg.MaxFetchesPerTenant),
		idle:     idle, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Attach sets the engine the bridge drives; call it before Start.
func (b *Bridge) Attach(e *media.Engine) { b.engine = e }

// SetSink sets where results go; call it before Start.
func (b *Bridge) SetSink(s Sink) { b.sink = s }

// Start begins handing events to the sink.
func (b *Bridge) Start() { go b.run() }

// Shutdown stops fetching prompts and handing events over, and waits for
// its goroutines. Events not yet handed over are dropped: their operations
// were running and are failed at the next start.
func (b *Bridge) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.stop)
	}
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Settle waits until no prompt or WAV file is being fetched, so that every
// operation the calls service started is in the engine: tests that step a
// manual engine call it first.
func (b *Bridge) Settle(ctx context.Context) error {
	b.mu.Lock()
	idle := b.idle
	b.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goBusy runs f on a goroutine that Shutdown and Settle wait for, unless
// the bridge is shut down. f's context ends at Shutdown.
func (b *Bridge) goBusy(f func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if b.busy == 0 {
		b.idle = make(chan struct{})
	}
	b.busy++
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer func() {
			cancel()
			b.mu.Lock()
			if b.busy--; b.busy == 0 {
				close(b.idle)
			}
			b.mu.Unlock()
		}()
		go func() { // Shutdown ends f's context
			select {
			case <-b.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		f(ctx)
	}()
	return true
}

func (b *Bridge) run() {
	defer close(b.done)
	for {
		b.mu.Lock()
		evs := b.events
		b.events = nil
		sink := b.sink
		b.mu.Unlock()
		for _, ev := range evs {
			ev(sink)
		}
		select {
		case <-b.wake:
		case <-b.stop:
			return
		}
	}
}

func (b *Bridge) post(ev func(Sink)) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// media.Events: the engine's results, queued for the sink.

// PlayFinished implements media.Events.
func (b *Bridge) PlayFinished(room, leg, opID string, err error) {
	if errors.Is(err, media.ErrCanceled) {
		err = calls.ErrMediaCanceled
	}
	b.post(func(s Sink) { s.MediaPlayFinished(room, leg, opID, err) })
}

// RecordFinished implements media.Events.
func (b *Bridge) RecordFinished(room, leg, opID string, r media.Recording) {
	rec := calls.MediaRecording{WAV: r.WAV, Reason: reasons[r.Reason]}
	b.post(func(s Sink) { s.MediaRecordFinished(room, leg, opID, rec) })
}

// TonesSent implements media.Events.
func (b *Bridge) TonesSent(room, leg, opID string, canceled bool) {
	b.post(func(s Sink) { s.MediaTonesSent(room, leg, opID, canceled) })
}

// ToneDetected implements media.Events.
func (b *Bridge) ToneDetected(room, leg string, key rune, from string) {
	b.post(func(s Sink) { s.MediaToneDetected(room, leg, key, from) })
}

// SpeakingChanged implements media.SpeakerEvents.
func (b *Bridge) SpeakingChanged(room, member string, speaking bool) {
	b.post(func(s Sink) { s.MediaSpeaking(room, member, speaking) })
}

var reasons = map[media.RecordReason]model.RecordCompletionReason{
	media.ReasonOperationCanceled:        model.RecordCompletionReasonOperationCanceled,
	media.ReasonStopToneDetected:         model.RecordCompletionReasonStopToneDetected,
	media.ReasonMaxRecordDurationReached: model.RecordCompletionReasonMaxRecordDurationReached,
	media.ReasonInitialSilenceTimeout:    model.RecordCompletionReasonInitialSilenceTimeout,
	media.ReasonMaxSilenceTimeout:        model.RecordCompletionReasonMaxSilenceTimeout,
	media.ReasonPlayPromptFailed:         model.RecordCompletionReasonPlayPromptFailed,
	media.ReasonUnknown:                  model.RecordCompletionReasonUnspecifiedError,
}

// calls.Media: the service's commands, passed to the engine.

func (b *Bridge) logErr(what string, err error) {
	if err != nil && !errors.Is(err, media.ErrClosed) && !errors.Is(err, media.ErrNotFound) && !errors.Is(err, media.ErrCanceled) {
		b.log.Warn("mediabridge: "+what, "err", err)
	}
}

// AddLeg implements calls.Media.
func (b *Bridge) AddLeg(room, leg string) { b.logErr("add leg", b.engine.AddLeg(room, leg)) }

// RemoveLeg implements calls.Media.
func (b *Bridge) RemoveLeg(room, leg string) { b.logErr("remove leg", b.engine.RemoveLeg(room, leg)) }

// AddPerson gives a simulated participant a voice that follows its
// behaviour's script. A script that says WAV files joins once they are
// read, so that no file is read under the caller's lock. WAV files are
// local files, read only when Config.AllowFile (development mode) says
// so: otherwise the steps that say them are left out, with a warning.
func (b *Bridge) AddPerson(room, participant string, bh calls.Behaviour) {
	key := room + "/" + participant
	files := false
	for _, st := range bh.Script {
		files = files || st.WAV != ""
	}
	if files && !b.cfg.AllowFile {
		b.log.Warn("mediabridge: simulated participant's WAV files left out: local files are read only in development mode",
			"room", room, "participant", participant)
		files = false
	}
	if !files {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.addPersonLocked(key, room, participant, b.script(bh, nil))
		return
	}
	b.mu.Lock()
	b.people[key] = nil // joining: RemovePerson and CloseRoom cancel it
	b.mu.Unlock()
	b.goBusy(func(context.Context) {
		wavs := make(map[string]media.Audio)
		for _, st := range bh.Script {
			if st.WAV == "" {
				continue
			}
			audio, err := loadFile(st.WAV)
			if err != nil {
				b.log.Warn("mediabridge: simulated participant's WAV", "file", st.WAV, "err", err)
				continue
			}
			wavs[st.WAV] = audio
		}
		script := b.script(bh, wavs)
		b.mu.Lock()
		defer b.mu.Unlock()
		if p, ok := b.people[key]; !ok || p != nil {
			return // left, or the room closed, while its files were read
		}
		b.addPersonLocked(key, room, participant, script)
	})
}

// script turns a behaviour's steps into a SimPerson's script; steps whose
// WAV is not in wavs are left out.
func (b *Bridge) script(bh calls.Behaviour, wavs map[string]media.Audio) []media.Action {
	var script []media.Action
	for _, st := range bh.Script {
		a := media.Action{At: st.At, Keys: st.Keys}
		if st.WAV != "" {
			audio, ok := wavs[st.WAV]
			if !ok {
				continue
			}
			a.Say = audio
		}
		script = append(script, a)
	}
	return script
}

// addPersonLocked adds the SimPerson to the engine. The engine's lock is
// taken under b.mu: the engine never calls the bridge while holding it.
func (b *Bridge) addPersonLocked(key, room, participant string, script []media.Action) {
	p, err := media.NewSimPerson(participant, script...)
	if err != nil {
		b.log.Warn("mediabridge: simulated participant's script", "err", err)
		p, _ = media.NewSimPerson(participant)
	}
	p.SetMuted(b.muted[key])
	b.people[key] = p
	b.logErr("add person", b.engine.AddEndpoint(room, p))
}

// RemovePerson implements calls.Media.
func (b *Bridge) RemovePerson(room, participant string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.people, room+"/"+participant)
	delete(b.muted, room+"/"+participant)
	b.logErr("remove person", b.engine.RemoveEndpoint(room, participant))
}

// MutePerson implements calls.Media: a muted voice says what it says
// unheard. A voice still joining (reading its WAV files) joins muted.
func (b *Bridge) MutePerson(room, participant string, muted bool) {
	key := room + "/" + participant
	b.mu.Lock()
	defer b.mu.Unlock()
	if muted {
		b.muted[key] = true
	} else {
		delete(b.muted, key)
	}
	if p := b.people[key]; p != nil {
		p.SetMuted(muted)
	}
}

// Person returns the voice of a simulated participant, or nil.
func (b *Bridge) Person(room, participant string) *media.SimPerson {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.people[room+"/"+participant]
}

// CloseRoom implements calls.Media.
func (b *Bridge) CloseRoom(room string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.people {
		if strings.HasPrefix(k, room+"/") {
			delete(b.people, k)
		}
	}
	for k := range b.muted {
		if strings.HasPrefix(k, room+"/") {
			delete(b.muted, k)
		}
	}
	b.logErr("close room", b.engine.CloseRoom(room))
}

// Play reserves the operation's place in the leg's queue, then fetches the
// prompts and fills it in; a prompt that cannot be fetched or decoded fails
// the operation.
func (b *Bridge) Play(scope calls.MediaScope, room, leg, opID string, prompts []model.MediaInfo) {
	if err := b.engine.Reserve(room, leg, opID, media.OpPlay, false); err != nil {
		b.PlayFinished(room, leg, opID, err)
		return
	}
	started := b.goBusy(func(ctx context.Context) {
		clips := make([]media.Audio, 0, len(prompts))
		for i, p := range prompts {
			a, err := b.fetch(ctx, scope, p)
			if err != nil {
				b.abandon(room, leg, opID, fmt.Errorf("prompt %d (%s): %w", i, p.URI, err))
				return
			}
			clips = append(clips, a)
		}
		b.logErr("play", b.engine.Play(room, leg, opID, clips))
	})
	if !started {
		b.abandon(room, leg, opID, media.ErrClosed)
	}
}

// Record reserves the operation's place in the leg's queue (at its head,
// for a barge-in), then fetches the optional prompt and fills it in.
func (b *Bridge) Record(scope calls.MediaScope, room, leg, opID string, spec calls.RecordSpec) {
	if err := b.engine.Reserve(room, leg, opID, media.OpRecord, spec.BargeIn); err != nil {
		b.RecordFinished(room, leg, opID, media.Recording{Reason: media.ReasonUnknown})
		return
	}
	started := b.goBusy(func(ctx context.Context) {
		opts := media.RecordOptions{Beep: spec.Beep, BargeIn: spec.BargeIn, InitialSilence: spec.InitialSilence,
			MaxSilence: spec.MaxSilence, MaxDuration: spec.MaxDuration, StopTones: spec.StopTones}
		if spec.Prompt != nil {
			a, err := b.fetch(ctx, scope, *spec.Prompt)
			if err != nil {
				b.abandon(room, leg, opID, err)
				return
			}
			opts.Prompt = &a
		}
		if err := b.engine.Record(room, leg, opID, opts); err != nil && !errors.Is(err, media.ErrNotFound) &&
			!errors.Is(err, media.ErrClosed) && !errors.Is(err, media.ErrCanceled) {
			b.log.Warn("mediabridge: record", "err", err)
			b.abandon(room, leg, opID, err)
		}
	})
	if !started {
		b.abandon(room, leg, opID, media.ErrClosed)
	}
}

// abandon fails a reserved operation, unless it was canceled meanwhile.
func (b *Bridge) abandon(room, leg, opID string, cause error) {
	if err := b.engine.Abandon(room, leg, opID, cause); err != nil && !errors.Is(err, media.ErrNotFound) {
		b.logErr("abandon", err)
	}
}

// SendTones implements calls.Media.
func (b *Bridge) SendTones(room, leg, opID string, tones []model.Tone, gap time.Duration) {
	var keys strings.Builder
	for _, t := range tones {
		if k, ok := media.ToneKey(string(t)); ok { // calls refused the others
			keys.WriteRune(k)
		}
	}
	if err := b.engine.SendTones(room, leg, opID, keys.String(), gap); err != nil {
		b.TonesSent(room, leg, opID, true)
	}
}

// SubscribeTones implements calls.Media.
func (b *Bridge) SubscribeTones(room, leg string) {
	b.logErr("subscribe tones", b.engine.SubscribeTones(room, leg))
}

// Cancel implements calls.Media: the engine reports every operation it
// cancels, those still fetching their prompts included.
func (b *Bridge) Cancel(room, leg string) {
	b.engine.Cancel(room, leg)
}

// promptKey names a cached prompt. Graph caches "the prompt uri against
// this resourceId as a key", but a resourceId is the application's own
// name: it means something only within one application (of one tenant)
// and for one URI, so all four make the key, and a prompt fetched for one
// application is never played for another.
type promptKey struct {
	tenant, app, uri, resourceID string
}

func newPromptKey(scope calls.MediaScope, p model.MediaInfo) promptKey {
	k := promptKey{tenant: scope.Tenant, app: scope.App, uri: p.URI}
	if p.ResourceID != nil {
		k.resourceID = *p.ResourceID
	}
	return k
}

// fetch returns a prompt's audio for scope, from the cache when the same
// application fetched it before. Concurrent fetches of one prompt for one
// scope share a single download.
func (b *Bridge) fetch(ctx context.Context, scope calls.MediaScope, p model.MediaInfo) (media.Audio, error) {
	key := newPromptKey(scope, p)
	b.mu.Lock()
	if a, ok := b.cache.get(key); ok {
		b.mu.Unlock()
		return a, nil
	}
	if f, ok := b.fetching[key]; ok {
		b.mu.Unlock()
		select {
		case <-f.done:
			return f.audio, f.err
		case <-ctx.Done():
			return media.Audio{}, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	b.fetching[key] = f
	b.mu.Unlock()

	f.audio, f.err = b.loadLimited(ctx, scope.Tenant, p.URI)
	b.mu.Lock()
	delete(b.fetching, key)
	if f.err == nil {
		b.cache.put(key, f.audio)
	}
	b.mu.Unlock()
	close(f.done)
	return f.audio, f.err
}

// flight is a prompt being fetched; audio and err are set when done is
// closed.
type flight struct {
	done  chan struct{}
	audio media.Audio
	err   error
}

// loadLimited loads a prompt once a fetch slot of the tenant's is free.
func (b *Bridge) loadLimited(ctx context.Context, tenant, uri string) (media.Audio, error) {
	release, err := b.slots.acquire(ctx, tenant)
	if err != nil {
		return media.Audio{}, err
	}
	defer release()
	return b.load(ctx, uri)
}

// Prefetch loads media into the cache ahead of use
// (serviceHostedMediaConfig.preFetchMedia), one prompt after the other.
func (b *Bridge) Prefetch(scope calls.MediaScope, infos []model.MediaInfo) {
	b.goBusy(func(ctx context.Context) {
		for _, p := range infos {
			if _, err := b.fetch(ctx, scope, p); err != nil {
				if ctx.Err() != nil {
					return
				}
				b.log.Warn("mediabridge: prefetch failed", "tenant", scope.Tenant, "app", scope.App, "uri", p.URI, "err", err)
			}
		}
	})
}

// cacheBytes returns the bytes of decoded prompts cached in total, and
// for tenant.
func (b *Bridge) cacheBytes(tenant string) (all, mine int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cache.bytes, b.cache.tenantBytes(tenant)
}

func (b *Bridge) load(ctx context.Context, raw string) (media.Audio, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return media.Audio{}, err
	}
	if u.Scheme == "file" {
		if !b.cfg.AllowFile {
			return media.Audio{}, errors.New("file: prompts are allowed only in development mode")
		}
		return loadFile(u.Path)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", raw, nil)
	if err != nil {
		return media.Audio{}, err
	}
	res, err := b.cfg.Client.Do(req)
	if err != nil {
		return media.Audio{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return media.Audio{}, fmt.Errorf("GET answered %d", res.StatusCode)
	}
	return media.DecodeWAV(io.LimitReader(res.Body, MaxPromptBytes))
}

func loadFile(path string) (media.Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return media.Audio{}, err
	}
	defer f.Close()
	return media.DecodeWAV(io.LimitReader(f, MaxPromptBytes))
}

var (
	_ calls.Media  = (*Bridge)(nil)
	_ media.Events = (*Bridge)(nil)
)
