package media

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Endpoint is a party in a room that is not an application leg: a simulated
// person, a SIP phone, a browser. The engine calls it from its goroutine
// every 20 ms, Speak then Hear, while holding its lock: an Endpoint must
// return quickly and must not call the Engine.
type Endpoint interface {
	// ID names the endpoint in its room (and in ToneDetected's from). It
	// must not change.
	ID() string
	// Speak fills f with the next 20 ms the endpoint sends and reports
	// whether it sent anything (false: silence, muted, or a lost packet;
	// f is then ignored). key is a DTMF key the endpoint pressed out of
	// band (RFC 4733) during this frame, or 0; report each press once, as
	// one of ValidKey's runes (others are ignored).
	Speak(f *Frame) (voiced bool, key rune)
	// Hear receives the next 20 ms the endpoint hears: everyone else in the
	// room, mixed. f is only valid during the call. Out-of-band keys of
	// other members are not heard: they reach application legs only.
	Hear(f *Frame)
}

// MaxCatchUp bounds how far behind its clock the engine catches up: when a
// tick comes later than this (a stalled process, a fake clock advanced by a
// minute), the frames beyond it are skipped, not computed in a burst.
const MaxCatchUp = time.Second

const maxCatchUpFrames = int(MaxCatchUp / FrameDuration)

const (
	stateIdle = iota
	stateRunning
	stateClosed
)

// Engine is the media engine: rooms (one per conversation) of members
// (application legs and endpoints), one 20 ms clock for all of them, the
// mixer, and each leg's player, recorder, tone subscription and tone sender.
//
// Every 20 ms of its clock, for each room, the engine takes a frame from
// every member, runs the DTMF detectors (only while some leg in the room
// listens for tones), gives each member the mix of all the others (N−1),
// and advances the legs' operations. Rooms and members are created by
// AddLeg and AddEndpoint and removed by RemoveLeg, RemoveEndpoint and
// CloseRoom; a room disappears with its last member.
//
// An application leg's outgoing audio is, in order of precedence, the tones
// of a SendTones (which pauses any prompt), the prompt of the Play or Record
// at the head of its queue, or silence. Play and Record share one FIFO
// queue, Graph's media operation queue.
//
// All methods are safe for concurrent use. Methods that change rooms work
// before Start (their audio only flows once the clock runs); after Shutdown
// they return ErrClosed.
type Engine struct {
	clk clock.Clock
	ev  Events

	mu      sync.Mutex
	state   int
	rooms   map[string]*roomState
	pending []event // events not yet dispatched, in order
	timer   clock.Timer
	next    time.Time // when the next tick is due
	ticks   uint64
	skipped uint64

	tickC  chan struct{}
	flushC chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

// New returns an Engine that takes its time from clk and reports to ev (nil
// discards the events). It does nothing until Start.
func New(clk clock.Clock, ev Events) *Engine {
	if ev == nil {
		ev = discard{}
	}
	return &Engine{
		clk:    clk,
		ev:     ev,
		rooms:  make(map[string]*roomState),
		tickC:  make(chan struct{}, 1),
		flushC: make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// Start starts the engine's clock and its goroutine, which runs until
// Shutdown. ctx is not kept. Start fails with ErrStarted when called twice
// and ErrClosed after Shutdown.
func (e *Engine) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case stateRunning:
		return ErrStarted
	case stateClosed:
		return ErrClosed
	}
	e.state = stateRunning
	e.next = e.clk.Now().Add(FrameDuration)
	e.timer = e.clk.AfterFunc(FrameDuration, e.fire)
	go e.run()
	if len(e.pending) > 0 {
		e.wake()
	}
	return nil
}

// Shutdown stops the clock, cancels every operation in every room (each is
// reported with ErrCanceled or ReasonOperationCanceled), delivers the last
// events, and waits for the engine's goroutine to exit or ctx to end.
// Later calls wait for the first to finish.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	switch e.state {
	case stateIdle:
		e.state = stateClosed
		e.closeRoomsLocked()
		evs := e.takeLocked()
		e.mu.Unlock()
		e.dispatch(evs)
		close(e.done)
		return nil
	case stateRunning:
		e.state = stateClosed
		if e.timer != nil {
			e.timer.Stop()
		}
		close(e.quit)
	}
	e.mu.Unlock()
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats is a snapshot of the engine's activity.
type Stats struct {
	Rooms   int
	Members int
	Ticks   uint64 // 20 ms ticks computed
	Skipped uint64 // ticks skipped because the engine fell more than MaxCatchUp behind
}

// Stats returns a snapshot of the engine's activity.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Rooms: len(e.rooms), Ticks: e.ticks, Skipped: e.skipped}
	for _, r := range e.rooms {
		s.Members += len(r.members)
	}
	return s
}

func (e *Engine) fire() {
	select {
	case e.tickC <- struct{}{}:
	default:
	}
}

func (e *Engine) wake() {
	select {
	case e.flushC <- struct{}{}:
	default:
	}
}

func (e *Engine) run() {
	defer close(e.done)
	for {
		select {
		case <-e.quit:
			e.mu.Lock()
			e.closeRoomsLocked()
			evs := e.takeLocked()
			e.mu.Unlock()
			e.dispatch(evs)
			return
		case <-e.flushC:
			e.mu.Lock()
			evs := e.takeLocked()
			e.mu.Unlock()
			e.dispatch(evs)
		case <-e.tickC:
			e.catchUp()
		}
	}
}

// catchUp computes every tick that is due, dispatching each one's events
// before the next, then re-arms the timer for the next tick.
func (e *Engine) catchUp() {
	for n := 0; ; n++ {
		e.mu.Lock()
		if e.state != stateRunning {
			e.mu.Unlock()
			return
		}
		now := e.clk.Now()
		if e.next.After(now) {
			e.timer = e.clk.AfterFunc(e.next.Sub(now), e.fire)
			evs := e.takeLocked()
			e.mu.Unlock()
			e.dispatch(evs)
			return
		}
		if n >= maxCatchUpFrames {
			k := now.Sub(e.next)/FrameDuration + 1
			e.next = e.next.Add(k * FrameDuration)
			e.skipped += uint64(k)
			e.mu.Unlock()
			continue
		}
		e.tickLocked()
		e.next = e.next.Add(FrameDuration)
		evs := e.takeLocked()
		e.mu.Unlock()
		e.dispatch(evs)
	}
}

func (e *Engine) tickLocked() {
	e.ticks++
	for _, r := range e.rooms {
		r.tick(e)
	}
}

func (e *Engine) emit(ev event) { e.pending = append(e.pending, ev) }

func (e *Engine) takeLocked() []event {
	evs := e.pending
	e.pending = nil
	return evs
}

// queuedLocked makes sure events added by a command are dispatched soon.
func (e *Engine) queuedLocked() {
	if e.state == stateRunning && len(e.pending) > 0 {
		e.wake()
	}
}

func (e *Engine) closeRoomsLocked() {
	cause := fmt.Errorf("%w: engine shut down", ErrCanceled)
	for id, r := range e.rooms {
		for _, m := range r.members {
			if m.leg != nil {
				m.leg.cancel(e, cause, true)
			}
		}
		delete(e.rooms, id)
	}
}

// AddLeg adds an application leg to the room, creating the room if needed.
// It fails with ErrExists if the room already has a member with that id.
func (e *Engine) AddLeg(room, leg string) error {
	if room == "" || leg == "" {
		return fmt.Errorf("%w: empty room or leg id", ErrInvalid)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addLocked(room, &member{id: leg, leg: &appLeg{room: room, id: leg}})
}

// AddEndpoint adds ep to the room, creating the room if needed. It fails
// with ErrExists if the room already has a member with ep's id.
func (e *Engine) AddEndpoint(room string, ep Endpoint) error {
	if ep == nil || room == "" || ep.ID() == "" {
		return fmt.Errorf("%w: nil endpoint or empty id", ErrInvalid)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addLocked(room, &member{id: ep.ID(), ep: ep})
}

func (e *Engine) addLocked(room string, m *member) error {
	if e.state == stateClosed {
		return ErrClosed
	}
	r := e.rooms[room]
	if r == nil {
		r = &roomState{id: room}
		e.rooms[room] = r
	}
	if r.find(m.id) != nil {
		return fmt.Errorf("%w: %q in room %q", ErrExists, m.id, room)
	}
	r.members = append(r.members, m)
	return nil
}

// RemoveLeg removes an application leg, canceling its operations (reported
// with ErrCanceled or ReasonOperationCanceled). The room goes when empty.
func (e *Engine) RemoveLeg(room, leg string) error {
	return e.remove(room, leg, true)
}

// RemoveEndpoint removes an endpoint from the room. The room goes when
// empty.
func (e *Engine) RemoveEndpoint(room, id string) error {
	return e.remove(room, id, false)
}

func (e *Engine) remove(room, id string, isLeg bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == stateClosed {
		return ErrClosed
	}
	r := e.rooms[room]
	var m *member
	if r != nil {
		m = r.find(id)
	}
	if m == nil || (m.leg != nil) != isLeg {
		return fmt.Errorf("%w: %q in room %q", ErrNotFound, id, room)
	}
	if m.leg != nil {
		m.leg.cancel(e, fmt.Errorf("%w: leg removed", ErrCanceled), true)
		e.queuedLocked()
	}
	r.remove(id)
	if len(r.members) == 0 {
		delete(e.rooms, room)
	}
	return nil
}

// CloseRoom removes the room and all its members, canceling their legs'
// operations.
func (e *Engine) CloseRoom(room string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == stateClosed {
		return ErrClosed
	}
	r := e.rooms[room]
	if r == nil {
		return fmt.Errorf("%w: room %q", ErrNotFound, room)
	}
	cause := fmt.Errorf("%w: room closed", ErrCanceled)
	for _, m := range r.members {
		if m.leg != nil {
			m.leg.cancel(e, cause, true)
		}
	}
	delete(e.rooms, room)
	e.queuedLocked()
	return nil
}

// legLocked finds a leg, or says why it cannot.
func (e *Engine) legLocked(room, leg string) (*appLeg, error) {
	if e.state == stateClosed {
		return nil, ErrClosed
	}
	if r := e.rooms[room]; r != nil {
		if m := r.find(leg); m != nil && m.leg != nil {
			return m.leg, nil
		}
	}
	return nil, fmt.Errorf("%w: leg %q in room %q", ErrNotFound, leg, room)
}

// Play queues prompts, played one after the other without a gap, on the
// leg. PlayFinished(room, leg, opID, nil) follows once the last sample has
// been sent. No prompts (or only empty ones) finish at the next tick.
func (e *Engine) Play(room, leg, opID string, prompts []Audio) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	if err := l.checkOpID(opID); err != nil {
		return err
	}
	l.queue = append(l.queue, &mediaOp{kind: opPlay, id: opID, clips: prompts})
	return nil
}

// Record queues a recording on the leg (or, with BargeIn, starts it at
// once, canceling the leg's Play and Record operations). It plays the
// prompt and the beep, if any, then records what the leg hears until a
// stop tone, a silence timeout or the maximum duration; RecordFinished
// reports the result. Zero timers mean DefaultRecordTimeout; negative ones,
// ones over MaxAudioDuration and stop tones that are not DTMF keys fail with
// ErrInvalid.
func (e *Engine) Record(room, leg, opID string, opts RecordOptions) error {
	opts, err := opts.normalize()
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	if err := l.checkOpID(opID); err != nil {
		return err
	}
	op := &mediaOp{kind: opRecord, id: opID, opts: opts, phase: phasePrompt}
	if opts.Prompt != nil {
		op.clips = []Audio{*opts.Prompt}
	}
	if opts.BargeIn {
		l.cancel(e, fmt.Errorf("%w: barge-in by %s", ErrCanceled, opID), false)
		e.queuedLocked()
	}
	l.queue = append(l.queue, op)
	return nil
}

// SendTones sends keys as in-band DTMF in the leg's outgoing audio (see
// DTMF for the timing; gap <= 0 means DefaultToneGap), pausing its prompt
// meanwhile. Several SendTones on one leg run one after the other;
// TonesSent reports each. Keys that are not DTMF keys fail with ErrInvalid.
func (e *Engine) SendTones(room, leg, opID, keys string, gap time.Duration) error {
	a, err := DTMF(keys, 0, gap)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	if err := l.checkOpID(opID); err != nil {
		return err
	}
	l.sends = append(l.sends, &toneSend{id: opID, audio: a})
	return nil
}

// SubscribeTones makes the leg report, with ToneDetected, every DTMF key it
// hears from then on (in-band or out of band, from any other member of the
// room) until it is removed. Subscribing twice is harmless. Cancel does not
// end a subscription.
func (e *Engine) SubscribeTones(room, leg string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	l.tones = true
	return nil
}

// Cancel cancels the leg's running and queued Play, Record and SendTones
// operations (Graph's cancelMediaProcessing; tone subscriptions stay) and
// returns their ids, running ones first. Each is reported as canceled. An
// unknown leg has nothing to cancel.
func (e *Engine) Cancel(room, leg string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, err := e.legLocked(room, leg)
	if err != nil {
		return nil
	}
	ids := l.cancel(e, fmt.Errorf("%w: canceled by request", ErrCanceled), true)
	e.queuedLocked()
	return ids
}
