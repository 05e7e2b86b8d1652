// Package mediabridge connects the calls service to the audio engine: it
// implements calls.Media on top of media.Engine, fetches and caches prompts
// (http, https, and file: in development mode), gives every simulated
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
}

// Config configures a Bridge. Engine-independent parts are optional.
type Config struct {
	Client    *http.Client // for prompts; it should carry the SSRF guard
	AllowFile bool         // file: prompts (development mode)
	Logger    *slog.Logger
	// Behaviour returns how a simulated participant behaves, for its script.
	Behaviour func(room, participant string) calls.Behaviour
}

// Bridge implements calls.Media and media.Events. Create it with New, give
// it the engine with Attach, the sink with SetSink, and Start it.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	engine *media.Engine

	mu      sync.Mutex
	sink    Sink
	people  map[string]*media.SimPerson // room/participant
	loading map[string]map[string]bool  // room/leg -> operations whose prompts are being fetched (true: a recording)
	cache   map[string]media.Audio      // resourceId or uri
	events  []func(Sink)
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	fetches sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// New returns a Bridge.
func New(cfg Config) *Bridge {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bridge{cfg: cfg, log: cfg.Logger, people: make(map[string]*media.SimPerson), cache: make(map[string]media.Audio),
		loading: make(map[string]map[string]bool),
		wake:    make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), ctx: ctx, cancel: cancel}
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
	b.cancel()
	close(b.stop)
	done := make(chan struct{})
	go func() { b.fetches.Wait(); <-b.done; close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
	if err != nil && !errors.Is(err, media.ErrClosed) && !errors.Is(err, media.ErrNotFound) {
		b.log.Warn("mediabridge: "+what, "err", err)
	}
}

// AddLeg implements calls.Media.
func (b *Bridge) AddLeg(room, leg string) { b.logErr("add leg", b.engine.AddLeg(room, leg)) }

// RemoveLeg implements calls.Media.
func (b *Bridge) RemoveLeg(room, leg string) { b.logErr("remove leg", b.engine.RemoveLeg(room, leg)) }

// AddPerson gives a simulated participant a voice that follows its
// behaviour's script.
func (b *Bridge) AddPerson(room, participant string, bh calls.Behaviour) {
	var script []media.Action
	for _, st := range bh.Script {
		a := media.Action{At: st.At, Keys: st.Keys}
		if st.WAV != "" {
			audio, err := b.loadFile(st.WAV)
			if err != nil {
				b.log.Warn("mediabridge: simulated participant's WAV", "file", st.WAV, "err", err)
				continue
			}
			a.Say = audio
		}
		script = append(script, a)
	}
	p, err := media.NewSimPerson(participant, script...)
	if err != nil {
		b.log.Warn("mediabridge: simulated participant's script", "err", err)
		p, _ = media.NewSimPerson(participant)
	}
	b.mu.Lock()
	b.people[room+"/"+participant] = p
	b.mu.Unlock()
	b.logErr("add person", b.engine.AddEndpoint(room, p))
}

// RemovePerson implements calls.Media.
func (b *Bridge) RemovePerson(room, participant string) {
	b.logErr("remove person", b.engine.RemoveEndpoint(room, participant))
}

// Person returns the voice of a simulated participant, or nil.
func (b *Bridge) Person(room, participant string) *media.SimPerson {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.people[room+"/"+participant]
}

// CloseRoom implements calls.Media.
func (b *Bridge) CloseRoom(room string) {
	b.logErr("close room", b.engine.CloseRoom(room))
	b.mu.Lock()
	for k := range b.people {
		if strings.HasPrefix(k, room+"/") {
			delete(b.people, k)
		}
	}
	b.mu.Unlock()
}

// startLoading notes an operation whose prompts are being fetched, so a
// Cancel meanwhile can stop it; finishLoading reports whether it may go on.
func (b *Bridge) startLoading(room, leg, opID string, record bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := room + "/" + leg
	if b.loading[k] == nil {
		b.loading[k] = make(map[string]bool)
	}
	b.loading[k][opID] = record
}

func (b *Bridge) finishLoading(room, leg, opID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := room + "/" + leg
	_, ok := b.loading[k][opID]
	delete(b.loading[k], opID)
	if len(b.loading[k]) == 0 {
		delete(b.loading, k)
	}
	return ok
}

// cancelLoading stops the operations of a leg still being fetched and
// returns them.
func (b *Bridge) cancelLoading(room, leg string) map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	ops := b.loading[room+"/"+leg]
	delete(b.loading, room+"/"+leg)
	return ops
}

// Play fetches the prompts, then queues them; a prompt that cannot be
// fetched or decoded fails the operation.
func (b *Bridge) Play(room, leg, opID string, prompts []model.MediaInfo) {
	b.startLoading(room, leg, opID, false)
	b.fetches.Add(1)
	go func() {
		defer b.fetches.Done()
		clips := make([]media.Audio, 0, len(prompts))
		var err error
		for i, p := range prompts {
			a, ferr := b.fetch(p)
			if ferr != nil {
				err = fmt.Errorf("prompt %d (%s): %w", i, p.URI, ferr)
				break
			}
			clips = append(clips, a)
		}
		if !b.finishLoading(room, leg, opID) {
			return // canceled while fetching; already reported
		}
		if err == nil {
			err = b.engine.Play(room, leg, opID, clips)
		}
		if err != nil {
			b.PlayFinished(room, leg, opID, err)
		}
	}()
}

// Record fetches the optional prompt, then queues the recording.
func (b *Bridge) Record(room, leg, opID string, spec calls.RecordSpec) {
	b.startLoading(room, leg, opID, true)
	b.fetches.Add(1)
	go func() {
		defer b.fetches.Done()
		opts := media.RecordOptions{Beep: spec.Beep, BargeIn: spec.BargeIn, InitialSilence: spec.InitialSilence,
			MaxSilence: spec.MaxSilence, MaxDuration: spec.MaxDuration, StopTones: spec.StopTones}
		var ferr error
		if spec.Prompt != nil {
			var a media.Audio
			if a, ferr = b.fetch(*spec.Prompt); ferr == nil {
				opts.Prompt = &a
			}
		}
		if !b.finishLoading(room, leg, opID) {
			return // canceled while fetching; already reported
		}
		if ferr != nil {
			b.RecordFinished(room, leg, opID, media.Recording{Reason: media.ReasonPlayPromptFailed})
			return
		}
		if err := b.engine.Record(room, leg, opID, opts); err != nil {
			b.RecordFinished(room, leg, opID, media.Recording{Reason: media.ReasonUnknown})
		}
	}()
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

// Cancel implements calls.Media: operations still fetching their prompts
// are reported canceled here, the engine reports the others.
func (b *Bridge) Cancel(room, leg string) {
	for op, record := range b.cancelLoading(room, leg) {
		if record {
			b.RecordFinished(room, leg, op, media.Recording{Reason: media.ReasonOperationCanceled})
		} else {
			b.PlayFinished(room, leg, op, media.ErrCanceled)
		}
	}
	b.engine.Cancel(room, leg)
}

// fetch returns a prompt's audio, from the cache when its resourceId (or
// URI) was fetched before: "the prompt uri is cached against this
// resourceId as a key".
func (b *Bridge) fetch(p model.MediaInfo) (media.Audio, error) {
	key := p.URI
	if p.ResourceID != nil && *p.ResourceID != "" {
		key = "id:" + *p.ResourceID
	}
	b.mu.Lock()
	a, ok := b.cache[key]
	b.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := b.load(p.URI)
	if err != nil {
		return media.Audio{}, err
	}
	b.mu.Lock()
	if len(b.cache) > 1000 {
		clear(b.cache)
	}
	b.cache[key] = a
	b.mu.Unlock()
	return a, nil
}

// Prefetch loads media into the cache ahead of use (serviceHostedMediaConfig.preFetchMedia).
func (b *Bridge) Prefetch(infos []model.MediaInfo) {
	for _, p := range infos {
		b.fetches.Add(1)
		go func() {
			defer b.fetches.Done()
			if _, err := b.fetch(p); err != nil {
				b.log.Warn("mediabridge: prefetch failed", "uri", p.URI, "err", err)
			}
		}()
	}
}

func (b *Bridge) load(raw string) (media.Audio, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return media.Audio{}, err
	}
	if u.Scheme == "file" {
		if !b.cfg.AllowFile {
			return media.Audio{}, errors.New("file: prompts are allowed only in development mode")
		}
		return b.loadFile(u.Path)
	}
	req, err := http.NewRequestWithContext(b.ctx, "GET", raw, nil)
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

func (b *Bridge) loadFile(path string) (media.Audio, error) {
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
