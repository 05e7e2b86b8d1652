package media

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Endpoint is a party in a room that is not an application leg: a simulated
// person, a SIP phone, a browser. The engine calls it from its goroutine
// every 20 ms while its room is awake, Speak then Hear, while holding its
// lock: an Endpoint must return quickly and must not call the Engine.
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

// Tap is an Endpoint that hears more than the mix, as an app-hosted media
// stream does: each other member's own audio (unmixed) and the DTMF keys
// they press, with who said and pressed them. A room with a Tap in it
// runs its DTMF detectors, as for a leg subscribed to tones. Its methods
// are called from the engine's tick, with its lock held: they must return
// quickly and must not call the Engine.
type Tap interface {
	Endpoint
	// HearEach is called every frame, after Hear, with the ids of the
	// room's other members and what each said in this frame (nil when
	// silent); both slices are only valid during the call.
	HearEach(from []string, said []*Frame)
	// Key is called for each DTMF key another member sent in this frame,
	// in band (detected in its audio) or out of band.
	Key(key rune, from string)
}

// DigitSender is an Endpoint that can send DTMF out of band, such as a
// phone's RTP leg with RFC 4733 negotiated. SendDigits queues the keys and
// returns at once, or returns an error (none negotiated, too many waiting),
// and the keys then reach the endpoint in band. It is called from the
// engine's tick and must not call the engine.
type DigitSender interface {
	SendDigits(keys string) error
}

// SleepForever is what Sleeper.Sleep returns when the endpoint has nothing
// to send until it calls its wake function.
const SleepForever = math.MaxInt

// Sleeper is an Endpoint that is often idle, like a simulated person with
// nothing to say: it sends nothing and need not be handed silence. The
// engine stops ticking a room while every member is idle (legs with no
// operation, Sleepers asleep), so an idle call costs no work per frame. An
// Endpoint that is not a Sleeper (a real phone) keeps its room awake.
type Sleeper interface {
	Endpoint
	// Sleep reports for how many frames from the next one the endpoint
	// will send nothing: 0 when it has something to send in the next
	// frame, SleepForever when it will not until it calls wake. It is
	// called after each of the room's ticks, with the engine's lock held.
	Sleep() int
	// Slept tells the endpoint that n frames passed in which it was not
	// asked to Speak (it sent nothing) and heard silence. It is called,
	// with the engine's lock held, before the first tick after a sleep.
	Slept(n int)
	// Link gives the endpoint its way back to the room: Wake when it has
	// something to send sooner than its last Sleep said (a live command),
	// Sync before it reports what it heard. The engine calls Link once when
	// the endpoint is added, and with the zero Link when it is removed.
	// Both take the engine's lock: call them without holding any lock that
	// Speak, Hear, Sleep or Slept take.
	Link(l Link)
}

// Link is a Sleeper's way back to its room. The zero Link does nothing.
type Link struct {
	e    *Engine
	room string
}

// Wake makes the room tick from the next frame.
func (l Link) Wake() {
	if l.e != nil {
		l.e.wakeRoom(l.room)
	}
}

// Sync tells the members of the room, if it sleeps, about the frames of
// silence they slept through so far, so that what they heard is complete
// up to now.
func (l Link) Sync() {
	if l.e != nil {
		l.e.syncRoom(l.room)
	}
}

// Gapper is an Endpoint whose audio runs on the wall clock (a real phone or
// browser): when the engine falls too far behind and skips frames, its
// audio of those frames is gone, and it is told so.
type Gapper interface {
	Endpoint
	// Gap tells the endpoint that n frames were skipped.
	Gap(n int)
}

// MaxCatchUp bounds how far behind its clock the engine catches up. When a
// tick comes late by less (a busy machine), the missing frames are computed
// in order, at once: nothing is lost and the audio is exactly what it would
// have been. When it comes later than this (a stalled process, a fake clock
// advanced by a minute), the frames beyond it are skipped for every room at
// once: media time stands still, so prompts, recordings and simulated
// people resume where they were, and no audio is cut out of a recording or
// a tone. Only Gapper endpoints, whose audio runs on the wall clock, lose
// those frames; their DTMF detectors restart after the gap, so that two
// halves of different sounds never make up a key nobody pressed. The
// skipped frames are counted in Stats.Skipped.
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
// Every 20 ms of its clock, for each awake room, the engine takes a frame
// from every member, runs the DTMF detectors (only while some leg in the
// room listens for tones), gives each member the mix of all the others
// (N−1), and advances the legs' operations. Rooms in which nothing happens
// sleep and cost nothing (see Sleeper). Rooms and members are created by
// AddLeg and AddEndpoint and removed by RemoveLeg, RemoveEndpoint and
// CloseRoom; a room disappears with its last member.
//
// An application leg's outgoing audio is, in order of precedence, the tones
// of a SendTones (which pauses any prompt), the prompt of the Play or Record
// at the head of its queue, or silence. Play and Record share one FIFO
// queue, Graph's media operation queue; Reserve keeps an operation's place
// in it while its prompts are fetched.
//
// An Engine made by New runs on its clock; one made by NewManual runs only
// when Step says so, for tests that must not depend on how busy the machine
// is.
//
// All methods are safe for concurrent use. Methods that change rooms work
// before Start (their audio only flows once the clock runs); after Shutdown
// they return ErrClosed.
type Engine struct {
	clk      clock.Clock
	ev       Events
	speakers SpeakerEvents // ev, if it hears who speaks; nil runs no VAD
	manual   bool

	mu      sync.Mutex
	state   int
	rooms   map[string]*roomState
	awake   []*roomState // ticked every frame, in the order they woke
	alarms  alarmHeap    // asleep rooms that asked to wake at a frame
	pending []event      // events not yet dispatched, in order
	timer   clock.Timer
	next    time.Time // when frame is due (clock mode)
	frame   uint64    // media frames elapsed: the next frame to compute
	scratch scratch
	stats   Stats

	tickC  chan struct{}
	flushC chan struct{}
	stepC  chan step
	quit   chan struct{}
	done   chan struct{}
}

// step is a request of Step to the engine's goroutine.
type step struct {
	frames int
	done   chan struct{}
}

// New returns an Engine that takes its time from clk and reports to ev (nil
// discards the events). It does nothing until Start.
func New(clk clock.Clock, ev Events) *Engine {
	if ev == nil {
		ev = discard{}
	}
	speakers, _ := ev.(SpeakerEvents)
	return &Engine{
		clk:      clk,
		ev:       ev,
		speakers: speakers,
		rooms:    make(map[string]*roomState),
		tickC:    make(chan struct{}, 1),
		flushC:   make(chan struct{}, 1),
		stepC:    make(chan step),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// NewManual returns an Engine whose frames advance only when Step is
// called, whatever the time: for tests that listen to audio, which must
// give the same result on an idle and on a starved machine.
func NewManual(ev Events) *Engine {
	e := New(nil, ev)
	e.manual = true
	return e
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
	if !e.manual {
		e.next = e.clk.Now().Add(FrameDuration)
		e.timer = e.clk.AfterFunc(FrameDuration, e.fire)
	}
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

// Step computes the next frames frames of a manual engine (NewManual), in
// order, as the clock would, and returns once their events have been
// delivered. It fails with ErrInvalid on an engine that runs on a clock,
// and ErrClosed when the engine is not running.
func (e *Engine) Step(ctx context.Context, frames int) error {
	if !e.manual {
		return fmt.Errorf("%w: Step on an engine that runs on a clock", ErrInvalid)
	}
	e.mu.Lock()
	running := e.state == stateRunning
	e.mu.Unlock()
	if !running {
		return ErrClosed
	}
	s := step{frames: frames, done: make(chan struct{})}
	select {
	case e.stepC <- s:
	case <-e.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats is a snapshot of the engine's activity.
type Stats struct {
	Rooms      int
	Members    int
	AwakeRooms int           // rooms ticked every frame; the others sleep
	Frames     uint64        // media frames elapsed (20 ms each)
	RoomTicks  uint64        // frames computed, summed over the awake rooms: the engine's work
	Skipped    uint64        // frames skipped because the engine fell more than MaxCatchUp behind
	Lag        time.Duration // how late the last frame was computed, after its due time
	LagSum     time.Duration // Lag summed over every frame computed
}

// Stats returns a snapshot of the engine's activity.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Rooms, s.AwakeRooms, s.Frames = len(e.rooms), len(e.awake), e.frame
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
		case s := <-e.stepC:
			for range s.frames {
				e.mu.Lock()
				if e.state == stateRunning {
					e.frameLocked()
				}
				evs := e.takeLocked()
				e.mu.Unlock()
				e.dispatch(evs)
			}
			close(s.done)
		}
	}
}

// catchUp computes every frame that is due, in order, dispatching each
// one's events before the next, then re-arms the timer for the next frame.
// See MaxCatchUp for what happens when the engine is too far behind.
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
			e.skipLocked(int(k))
			e.mu.Unlock()
			continue
		}
		e.stats.Lag = now.Sub(e.next)
		e.stats.LagSum += e.stats.Lag
		e.frameLocked()
		e.next = e.next.Add(FrameDuration)
		evs := e.takeLocked()
		e.mu.Unlock()
		e.dispatch(evs)
	}
}

// frameLocked computes one frame: rooms whose alarm rang wake, every awake
// room ticks, and rooms with nothing left to do fall asleep.
func (e *Engine) frameLocked() {
	for len(e.alarms) > 0 && e.alarms[0].frame <= e.frame {
		a := heap.Pop(&e.alarms).(alarm)
		if a.room.gen == a.gen && !a.room.closed && !a.room.awake {
			e.wakeRoomLocked(a.room)
		}
	}
	kept := e.awake[:0]
	for _, r := range e.awake {
		if r.closed {
			r.awake = false
			continue
		}
		r.tick(e)
		e.stats.RoomTicks++
		if n := r.sleepFor(); n > 0 {
			e.sleepLocked(r, n)
			continue
		}
		kept = append(kept, r)
	}
	clear(e.awake[len(kept):])
	e.awake = kept
	e.frame++
}

// sleepLocked puts an awake room to sleep for n frames after this one
// (SleepForever: until woken). Called during frame e.frame, before it ends.
func (e *Engine) sleepLocked(r *roomState, n int) {
	for _, m := range r.members {
		e.stopSpeakingLocked(r, m) // a room asleep is silent
	}
	r.awake, r.since, r.alarm = false, e.frame+1, 0
	if n != SleepForever {
		r.alarm = e.frame + 1 + uint64(n)
		heap.Push(&e.alarms, alarm{frame: r.alarm, room: r, gen: r.gen})
	}
}

// wakeRoomLocked makes an asleep room tick again from frame e.frame: its
// members learn how many frames of silence they slept through.
func (e *Engine) wakeRoomLocked(r *roomState) {
	if r.awake || r.closed {
		return
	}
	r.gen++
	if n := int(e.frame - r.since); n > 0 {
		r.slept(n)
	}
	r.awake, r.alarm = true, 0
	e.awake = append(e.awake, r)
}

// skipLocked skips k frames for everyone: media time stands still, and
// only Gapper endpoints, which live on the wall clock, lose audio.
func (e *Engine) skipLocked(k int) {
	e.stats.Skipped += uint64(k)
	for _, r := range e.rooms {
		for _, m := range r.members {
			if g, ok := m.ep.(Gapper); ok {
				g.Gap(k)
				m.det.Reset()
			}
		}
	}
}

func (e *Engine) emit(ev event) { e.pending = append(e.pending, ev) }

// speakLocked runs member m's VAD on the frame it said (voiced false: it
// said nothing) and reports a change.
func (e *Engine) speakLocked(r *roomState, m *member, voiced bool, f *Frame) {
	if e.speakers == nil {
		return
	}
	var on bool
	if voiced {
		on = m.vad.Process(f)
	} else {
		on = m.vad.Quiet()
	}
	if on != m.speaking {
		m.speaking = on
		e.emit(event{kind: evSpeaking, room: r.id, from: m.id, speaking: on})
	}
}

// stopSpeakingLocked ends m's speech, if it was speaking.
func (e *Engine) stopSpeakingLocked(r *roomState, m *member) {
	m.vad.Reset()
	if m.speaking {
		m.speaking = false
		e.emit(event{kind: evSpeaking, room: r.id, from: m.id})
	}
}

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
		e.dropRoomLocked(id, r)
	}
}

// dropRoomLocked forgets a room; the awake list and the alarms let go of it
// lazily.
func (e *Engine) dropRoomLocked(id string, r *roomState) {
	r.closed = true
	for _, m := range r.members {
		if s, ok := m.ep.(Sleeper); ok {
			s.Link(Link{})
		}
	}
	delete(e.rooms, id)
}

func (e *Engine) wakeRoom(room string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.rooms[room]; r != nil {
		e.wakeRoomLocked(r)
	}
}

func (e *Engine) syncRoom(room string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.rooms[room]; r != nil && !r.awake && !r.closed {
		if n := int(e.frame - r.since); n > 0 {
			r.slept(n)
		}
		r.since = e.frame
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
// with ErrExists if the room already has a member with ep's id. A Sleeper
// gets its wake function before AddEndpoint returns.
func (e *Engine) AddEndpoint(room string, ep Endpoint) error {
	if ep == nil || room == "" || ep.ID() == "" {
		return fmt.Errorf("%w: nil endpoint or empty id", ErrInvalid)
	}
	m := &member{id: ep.ID(), ep: ep}
	m.tap, _ = ep.(Tap)
	e.mu.Lock()
	err := e.addLocked(room, m)
	e.mu.Unlock()
	if s, ok := ep.(Sleeper); ok && err == nil {
		s.Link(Link{e: e, room: room})
	}
	return err
}

func (e *Engine) addLocked(room string, m *member) error {
	if e.state == stateClosed {
		return ErrClosed
	}
	r := e.rooms[room]
	if r == nil {
		r = &roomState{id: room, since: e.frame}
		e.rooms[room] = r
	}
	if r.find(m.id) != nil {
		return fmt.Errorf("%w: %q in room %q", ErrExists, m.id, room)
	}
	r.members = append(r.members, m)
	e.wakeRoomLocked(r)
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
	if s, ok := m.ep.(Sleeper); ok {
		s.Link(Link{})
	}
	e.stopSpeakingLocked(r, m)
	e.queuedLocked()
	r.remove(id)
	if len(r.members) == 0 {
		e.dropRoomLocked(room, r)
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
	e.dropRoomLocked(room, r)
	e.queuedLocked()
	return nil
}

// legLocked finds a leg and its room, or says why it cannot.
func (e *Engine) legLocked(room, leg string) (*roomState, *appLeg, error) {
	if e.state == stateClosed {
		return nil, nil, ErrClosed
	}
	if r := e.rooms[room]; r != nil {
		if m := r.find(leg); m != nil && m.leg != nil {
			return r, m.leg, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: leg %q in room %q", ErrNotFound, leg, room)
}

// Reserve keeps a place in the leg's media queue for operation opID, whose
// prompts are still being fetched: the queue waits there, silent, until
// Play or Record with the same id fills the place in, Abandon gives it up,
// or it is canceled. It is how operations reach the engine in the order the
// application asked for them, however long each prompt takes to fetch. A
// reserved Record with bargeIn cancels the leg's operations now. The
// operation is reported like any other.
func (e *Engine) Reserve(room, leg, opID string, kind OpKind, bargeIn bool) error {
	if kind != OpPlay && kind != OpRecord {
		return fmt.Errorf("%w: operation kind %d", ErrInvalid, kind)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r, l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	if err := l.checkOpID(opID); err != nil {
		return err
	}
	if kind == OpRecord && bargeIn {
		l.cancel(e, fmt.Errorf("%w: barge-in by %s", ErrCanceled, opID), false)
		e.queuedLocked()
	}
	l.queue = append(l.queue, &mediaOp{kind: kind, id: opID, reserved: true, phase: phasePrompt})
	e.wakeRoomLocked(r)
	return nil
}

// Abandon gives up a place that Reserve kept, reporting the operation as
// failed: PlayFinished with cause, or RecordFinished with
// ReasonPlayPromptFailed. It fails with ErrNotFound when there is no such
// reserved place (it was canceled meanwhile, and reported then).
func (e *Engine) Abandon(room, leg, opID string, cause error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	i := l.reserved(opID)
	if i < 0 {
		l.forget(opID)
		return fmt.Errorf("%w: reserved operation %q", ErrNotFound, opID)
	}
	op := l.queue[i]
	l.queue = append(l.queue[:i], l.queue[i+1:]...)
	if op.kind == OpPlay {
		e.emit(event{kind: evPlay, room: l.room, leg: l.id, op: op.id, err: cause})
	} else {
		e.emit(event{kind: evRecord, room: l.room, leg: l.id, op: op.id, rec: Recording{Reason: ReasonPlayPromptFailed}})
	}
	e.queuedLocked()
	return nil
}

// Play queues prompts, played one after the other without a gap, on the
// leg (in the place Reserve kept for opID, if it did; if that place was
// canceled meanwhile, it fails with ErrCanceled). PlayFinished(room,
// leg, opID, nil) follows once the last sample has been sent. No prompts
// (or only empty ones) finish at the next tick.
func (e *Engine) Play(room, leg, opID string, prompts []Audio) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	op, err := l.place(opID, OpPlay)
	if err != nil {
		return err
	}
	op.clips = prompts
	e.wakeRoomLocked(r)
	return nil
}

// Record queues a recording on the leg (in the place Reserve kept for opID,
// if it did, failing with ErrCanceled if that place was canceled; or, with BargeIn, starts it at once, canceling the leg's Play
// and Record operations). It plays the prompt and the beep, if any, then
// records what the leg hears until a stop tone, a silence timeout or the
// maximum duration; RecordFinished reports the result. Zero timers mean
// DefaultRecordTimeout; negative ones, ones over MaxAudioDuration and stop
// tones that are not DTMF keys fail with ErrInvalid.
func (e *Engine) Record(room, leg, opID string, opts RecordOptions) error {
	opts, err := opts.normalize()
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r, l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	if l.forget(opID) {
		return fmt.Errorf("%w: operation %q was canceled before it was filled in", ErrCanceled, opID)
	}
	if l.reserved(opID) < 0 && opts.BargeIn {
		if err := l.checkOpID(opID); err != nil {
			return err
		}
		l.cancel(e, fmt.Errorf("%w: barge-in by %s", ErrCanceled, opID), false)
		e.queuedLocked()
	}
	op, err := l.place(opID, OpRecord)
	if err != nil {
		return err
	}
	op.opts = opts
	if opts.Prompt != nil {
		op.clips = []Audio{*opts.Prompt}
	}
	e.wakeRoomLocked(r)
	return nil
}

// SendTones sends keys as in-band DTMF in the leg's outgoing audio (see
// DTMF for the timing; gap <= 0 means DefaultToneGap), pausing its prompt
// meanwhile. A member of the room that is a DigitSender and takes the keys
// gets them out of band instead, and does not hear the tones' audio. Several SendTones on one leg run one after the other;
// TonesSent reports each. Keys that are not DTMF keys fail with ErrInvalid.
func (e *Engine) SendTones(room, leg, opID, keys string, gap time.Duration) error {
	a, err := DTMF(keys, 0, gap)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r, l, err := e.legLocked(room, leg)
	if err != nil {
		return err
	}
	if err := l.checkOpID(opID); err != nil {
		return err
	}
	l.sends = append(l.sends, &toneSend{id: opID, keys: keys, audio: a})
	e.wakeRoomLocked(r)
	return nil
}

// SubscribeTones makes the leg report, with ToneDetected, every DTMF key it
// hears from then on (in-band or out of band, from any other member of the
// room) until it is removed. Subscribing twice is harmless. Cancel does not
// end a subscription.
func (e *Engine) SubscribeTones(room, leg string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, l, err := e.legLocked(room, leg)
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
	_, l, err := e.legLocked(room, leg)
	if err != nil {
		return nil
	}
	ids := l.cancel(e, fmt.Errorf("%w: canceled by request", ErrCanceled), true)
	e.queuedLocked()
	return ids
}
