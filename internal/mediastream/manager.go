package mediastream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// Engine is where streams take part in their calls' audio: *media.Engine.
type Engine interface {
	AddEndpoint(room string, ep media.Endpoint) error
	RemoveEndpoint(room, id string) error
}

// Config configures a Manager. Engine and Token are required.
type Config struct {
	Engine Engine
	// Token returns the bearer token Switchboard presents when it connects
	// to a bot's URL: the callbacks' signed token of the application.
	Token func(appID, tenantID string) (string, error)
	// Client dials bots' URLs; it should carry the SSRF guard. Nil: a
	// client of its own.
	Client *http.Client
	// CheckURL, if set, refuses a bot URL before it is dialled (the SSRF
	// guard's check).
	CheckURL func(*url.URL) error
	// Dev allows ws:// URLs (development mode).
	Dev bool
	// Clock times reconnections and the grace period; nil is clock.Real.
	Clock clock.Clock
	// Grace is how long a lost connection may come back and resume the
	// stream; zero is DefaultGrace.
	Grace   time.Duration
	Metrics Metrics
	Logger  *slog.Logger
}

// Manager runs the media streams of a server's app-hosted calls: it
// observes the calls domain's commits (calls.ConversationObserver), gives
// each established app-hosted leg a Stream in its conversation's room,
// connects to the bot's URL when the leg's blob names one, and serves the
// bots that connect to their call's media endpoint (ServeMedia).
type Manager struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	streams map[string]*entry // by leg (call) id
}

type entry struct {
	s      *Stream
	room   string
	appID  string
	tenant string
	url    string // the bot's URL, which Switchboard connects to; "" when the bot connects
}

// New returns a Manager; Close stops its streams.
func New(cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	// A bot's URL is dialled as named: no redirect (which could downgrade
	// wss:// or take the token elsewhere).
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	cfg.Client = &client
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, ctx: ctx, cancel: cancel, streams: make(map[string]*entry)}
}

// ConversationChanged implements calls.ConversationObserver: streams start
// when their leg is established and stop when it leaves the call; every
// stream of the conversation learns who is in the call.
func (m *Manager) ConversationChanged(conv *calls.Conversation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	legs := make(map[string]string, len(conv.Legs))
	for _, l := range conv.Legs {
		legs[l.ID] = l.ParticipantID
	}
	// A stream whose leg is gone from the conversation moved with it to
	// another node: its bot connects again, there (it is told so).
	for id, e := range m.streams {
		if _, ok := legs[id]; !ok && e.room == conv.ID {
			e.s.moved()
			delete(m.streams, id)
		}
	}
	for _, l := range conv.Legs {
		e := m.streams[l.ID]
		switch on := l.InStream(); {
		case on && e == nil:
			e = m.startLocked(conv.ID, l)
		case !on && e != nil:
			e.s.end("callEnded")
			if err := m.cfg.Engine.RemoveEndpoint(e.room, e.s.id); err != nil && !errors.Is(err, media.ErrNotFound) && !errors.Is(err, media.ErrClosed) {
				m.cfg.Logger.Warn("mediastream: removing a stream", "callId", l.ID, "err", err)
			}
			delete(m.streams, l.ID)
			continue
		}
		if e == nil {
			continue
		}
		var people []Participant
		for _, p := range conv.Roster {
			if p.ID != l.ParticipantID && p.State == calls.ParticipantJoined {
				people = append(people, Participant{ID: p.ID, Identity: p.Info.Identity, Muted: p.Muted})
			}
		}
		e.s.update(people, legs)
	}
}

// startLocked gives leg l of conversation room its stream.
func (m *Manager) startLocked(room string, l *calls.Call) *entry {
	var blob string
	if b := l.Spec.MediaConfig.Blob; b != nil {
		blob = *b
	}
	set, note, err := ParseBlob(blob, m.cfg.Dev)
	log := m.cfg.Logger.With("callId", l.ID)
	switch {
	case err != nil:
		log.Warn("mediastream: the blob's settings cannot be used; streaming with the defaults at the call's media endpoint", "err", err)
		set = Settings{SampleRate: DefaultSampleRate}
	case note != "":
		log.Info("mediastream: " + note)
	}
	s := newStream(l.ParticipantID, l.ID, l.ID, set, m.cfg.Clock, m.cfg.Grace, m.cfg.Metrics, log)
	e := &entry{s: s, room: room, appID: l.AppID, tenant: l.TenantID, url: set.URL}
	if err := m.cfg.Engine.AddEndpoint(room, s); err != nil {
		log.Error("mediastream: the stream cannot join the call's audio", "err", err)
	}
	m.streams[l.ID] = e
	if set.URL != "" {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.dial(e, set.URL)
		}()
	}
	return e
}

// Reconnection backoff when Switchboard connects to a bot.
const (
	firstRetry = 500 * time.Millisecond
	maxRetry   = 5 * time.Second
)

// dial connects to the bot's URL, and again when the connection is lost,
// until the stream ends or a grace period passes without a connection.
func (m *Manager) dial(e *entry, rawURL string) {
	log := e.s.log.With("url", rawURL)
	u, err := url.Parse(rawURL)
	if err == nil && m.cfg.CheckURL != nil {
		err = m.cfg.CheckURL(u)
	}
	if err != nil {
		log.Warn("mediastream: the bot's URL is refused", "err", err)
		return
	}
	since := m.cfg.Clock.Now()
	wait := firstRetry
	for {
		if m.ctx.Err() != nil || e.s.isEnded() {
			return
		}
		tok, err := m.cfg.Token(e.appID, e.tenant)
		var ws *websocket.Conn
		if err == nil {
			ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
			ws, _, err = websocket.Dial(ctx, rawURL, &websocket.DialOptions{HTTPClient: m.cfg.Client,
				HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}, Subprotocols: []string{Protocol}})
			cancel()
		}
		if err == nil {
			e.s.attach(m.ctx, ws)
			since, wait = m.cfg.Clock.Now(), firstRetry
			continue
		}
		if m.cfg.Clock.Now().Sub(since) >= m.cfg.Grace {
			log.Warn("mediastream: cannot connect to the bot; the call goes on without its stream", "err", err)
			return
		}
		log.Info("mediastream: cannot connect to the bot; retrying", "err", err, "in", wait)
		t := make(chan struct{})
		timer := m.cfg.Clock.AfterFunc(wait, func() { close(t) })
		select {
		case <-t:
		case <-m.ctx.Done():
			timer.Stop()
			return
		}
		wait = min(2*wait, maxRetry)
	}
}

func (s *Stream) isEnded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// ErrNoStream is ServeMedia's error for a call without a stream here.
var ErrNoStream = errors.New("mediastream: no stream")

// ErrConnectsOut is ServeMedia's error for a stream that Switchboard
// connects to the bot's URL: it takes no connections.
var ErrConnectsOut = errors.New("mediastream: the stream connects to the bot's URL")

var errRedirect = errors.New("mediastream: the bot's URL redirects; a media stream does not follow redirects")

// ServeMedia serves a bot's WebSocket connection to the stream of call
// callID, as principal p, until it ends. It returns an error, and writes
// nothing, when the call has no stream here (ErrNoStream: not app-hosted,
// not established, another application's) or p may not access media;
// otherwise it has answered the request.
func (m *Manager) ServeMedia(w http.ResponseWriter, r *http.Request, p auth.Principal, callID string) error {
	m.mu.Lock()
	e := m.streams[strings.ToLower(callID)]
	m.mu.Unlock()
	if e == nil || !strings.EqualFold(e.appID, p.AppID) || !strings.EqualFold(e.tenant, p.TenantID) {
		return ErrNoStream
	}
	if !p.Has(auth.RoleCallsAccessMedia) {
		return fmt.Errorf("%w: the application needs %s", errForbidden, auth.RoleCallsAccessMedia)
	}
	if e.url != "" {
		return ErrConnectsOut
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Protocol}})
	if err != nil {
		return nil // Accept answered the request
	}
	m.wg.Add(1)
	defer m.wg.Done()
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	stop := context.AfterFunc(r.Context(), cancel)
	defer stop()
	e.s.attach(ctx, ws)
	return nil
}

var errForbidden = errors.New("mediastream: forbidden")

// IsForbidden reports whether ServeMedia refused the principal's role.
func IsForbidden(err error) bool { return errors.Is(err, errForbidden) }

// Close ends every stream's connection and waits for them.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}
