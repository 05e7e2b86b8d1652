package media

import (
	"fmt"
	"slices"
	"sync"
)

// appLeg is an application's leg in a room: its media operation queue (Play
// and Record, head running), its SendTones queue and its tone subscription.
type appLeg struct {
	room, id string
	queue    []*mediaOp
	sends    []*toneSend
	tones    bool
	// dropped holds reserved operations canceled before they were filled
	// in: the Play, Record or Abandon that comes for each later is refused,
	// once, so that a canceled operation never plays.
	dropped map[string]struct{}
}

// OpKind is the kind of a media operation in a leg's queue.
type OpKind uint8

// Kinds of media operations.
const (
	OpPlay OpKind = iota
	OpRecord
)

type recordPhase uint8

const (
	phasePrompt recordPhase = iota
	phaseBeep
	phaseListen
)

// mediaOp is a Play or a Record, or the place Reserve keeps for one.
type mediaOp struct {
	kind     OpKind
	id       string
	reserved bool    // waiting for Play or Record to fill it in
	clips    []Audio // what it plays: the prompts, or the record's prompt then beep
	clip     int
	pos      int

	opts  RecordOptions
	phase recordPhase
	rec   []int16
	vad   VAD
	spoke bool
}

type toneSend struct {
	id    string
	keys  string
	audio Audio
	pos   int
	// oob holds the room's members that took the keys out of band
	// (DigitSender) when the send began: they do not hear its audio.
	oob map[string]bool
}

// beep is generated once and shared by every recording.
var beep = sync.OnceValue(Beep)

// stopToneTrim is how much of a recording an in-band stop tone may have
// reached before it was recognised: the frames the detector needs plus the
// partial frame in which it began.
const stopToneTrim = (dtmfMinFrames + 1) * FrameSamples

func (l *appLeg) checkOpID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty operation id", ErrInvalid)
	}
	for _, op := range l.queue {
		if op.id == id {
			return fmt.Errorf("%w: operation %q", ErrExists, id)
		}
	}
	for _, s := range l.sends {
		if s.id == id {
			return fmt.Errorf("%w: operation %q", ErrExists, id)
		}
	}
	return nil
}

// reserved returns the index of the reserved place of opID in the queue,
// or -1.
func (l *appLeg) reserved(opID string) int {
	for i, op := range l.queue {
		if op.id == opID && op.reserved {
			return i
		}
	}
	return -1
}

// forget reports whether opID was a reserved operation canceled before it
// was filled in, and forgets it.
func (l *appLeg) forget(opID string) bool {
	if _, ok := l.dropped[opID]; !ok {
		return false
	}
	delete(l.dropped, opID)
	return true
}

// place returns the operation to fill in for opID: its reserved place, or a
// new one at the end of the queue.
func (l *appLeg) place(opID string, kind OpKind) (*mediaOp, error) {
	if l.forget(opID) {
		return nil, fmt.Errorf("%w: operation %q was canceled before it was filled in", ErrCanceled, opID)
	}
	if i := l.reserved(opID); i >= 0 {
		op := l.queue[i]
		if op.kind != kind {
			return nil, fmt.Errorf("%w: operation %q was reserved as another kind", ErrInvalid, opID)
		}
		op.reserved = false
		return op, nil
	}
	if err := l.checkOpID(opID); err != nil {
		return nil, err
	}
	op := &mediaOp{kind: kind, id: opID, phase: phasePrompt}
	l.queue = append(l.queue, op)
	return op, nil
}

// idle reports whether the leg has nothing to send or record: its room may
// sleep.
func (l *appLeg) idle() bool { return len(l.queue) == 0 && len(l.sends) == 0 }

// listening reports whether the leg wants the keys it hears now.
func (l *appLeg) listening() bool {
	if l.tones {
		return true
	}
	if len(l.queue) > 0 {
		op := l.queue[0]
		return op.kind == OpRecord && op.phase == phaseListen && len(op.opts.StopTones) > 0
	}
	return false
}

// speak fills f with the leg's outgoing audio and reports whether there is
// any, and the tone send it comes from, if any. It finishes the operations
// whose audio is exhausted. r is the leg's room.
func (l *appLeg) speak(e *Engine, r *roomState, f *Frame) (bool, *toneSend) {
	// A recording with nothing to play first listens at once: tones being
	// sent hold back what the leg says, not what it hears.
	if len(l.queue) > 0 {
		if op := l.queue[0]; op.kind == OpRecord && !op.reserved && op.phase == phasePrompt && !op.opts.Beep && len(op.clips) == 0 {
			op.phase = phaseListen
		}
	}
	for len(l.sends) > 0 {
		s := l.sends[0]
		if s.pos == 0 && s.oob == nil {
			s.oob = r.sendDigits(l.id, s.keys)
		}
		if s.pos < len(s.audio.Samples) {
			n := copy(f[:], s.audio.Samples[s.pos:])
			clear(f[n:])
			s.pos += n
			return true, s
		}
		l.sends = l.sends[1:]
		e.emit(event{kind: evTones, room: l.room, leg: l.id, op: s.id})
	}
	for len(l.queue) > 0 {
		op := l.queue[0]
		if op.reserved || op.kind == OpRecord && op.phase == phaseListen {
			return false, nil
		}
		if op.fill(f) {
			return true, nil
		}
		switch {
		case op.kind == OpPlay:
			l.queue = l.queue[1:]
			e.emit(event{kind: evPlay, room: l.room, leg: l.id, op: op.id})
		case op.phase == phasePrompt && op.opts.Beep:
			op.phase, op.clips, op.clip, op.pos = phaseBeep, []Audio{beep()}, 0, 0
		default:
			op.phase, op.clips = phaseListen, nil
		}
	}
	return false, nil
}

// fill copies the op's next frame of audio into f, zero-padding the last
// one, and reports false when nothing is left.
func (op *mediaOp) fill(f *Frame) bool {
	n := 0
	for n < FrameSamples && op.clip < len(op.clips) {
		src := op.clips[op.clip].Samples
		if op.pos >= len(src) {
			op.clip, op.pos = op.clip+1, 0
			continue
		}
		c := copy(f[n:], src[op.pos:])
		op.pos += c
		n += c
	}
	if n == 0 {
		return false
	}
	clear(f[n:])
	return true
}

// hear gives the leg the frame it hears: the recorder, if listening, takes
// it and applies its timers.
func (l *appLeg) hear(e *Engine, f *Frame) {
	if len(l.queue) == 0 {
		return
	}
	op := l.queue[0]
	if op.kind != OpRecord || op.phase != phaseListen {
		return
	}
	op.rec = append(op.rec, f[:]...)
	if op.vad.Process(f) {
		op.spoke = true
	}
	elapsed := SamplesDuration(len(op.rec))
	switch { // when nobody spoke, that is the news, even at the maximum duration
	case !op.spoke && elapsed >= op.opts.InitialSilence:
		l.finish(e, ReasonInitialSilenceTimeout, 0)
	case elapsed >= op.opts.MaxDuration:
		l.finish(e, ReasonMaxRecordDurationReached, 0)
	case op.spoke && SamplesDuration(op.vad.QuietFrames()*FrameSamples) >= op.opts.MaxSilence:
		l.finish(e, ReasonMaxSilenceTimeout, 0)
	}
}

// key tells the leg that another member sent key.
func (l *appLeg) key(e *Engine, key rune, from string, inBand bool) {
	if l.tones {
		e.emit(event{kind: evTone, room: l.room, leg: l.id, key: key, from: from})
	}
	if len(l.queue) == 0 {
		return
	}
	op := l.queue[0]
	if op.kind != OpRecord || op.phase != phaseListen || !slices.Contains(op.opts.StopTones, key) {
		return
	}
	if inBand {
		op.rec = op.rec[:max(0, len(op.rec)-stopToneTrim)]
	}
	l.finish(e, ReasonStopToneDetected, key)
}

// finish ends the running recording.
func (l *appLeg) finish(e *Engine, reason RecordReason, tone rune) {
	op := l.queue[0]
	l.queue = l.queue[1:]
	a := Audio{Samples: op.rec}
	e.emit(event{kind: evRecord, room: l.room, leg: l.id, op: op.id, rec: Recording{
		WAV: wavBytes(a), Duration: a.Duration(), Reason: reason, Tone: tone,
	}})
}

// cancel ends the leg's Play and Record operations, and its SendTones too
// when sends is true, reporting each with cause; it returns their ids.
func (l *appLeg) cancel(e *Engine, cause error, sends bool) []string {
	var ids []string
	for _, op := range l.queue {
		ids = append(ids, op.id)
		if op.reserved {
			if l.dropped == nil {
				l.dropped = make(map[string]struct{})
			}
			l.dropped[op.id] = struct{}{}
		}
		if op.kind == OpPlay {
			e.emit(event{kind: evPlay, room: l.room, leg: l.id, op: op.id, err: cause})
		} else {
			e.emit(event{kind: evRecord, room: l.room, leg: l.id, op: op.id, rec: Recording{Reason: ReasonOperationCanceled}})
		}
	}
	l.queue = nil
	if sends {
		for _, s := range l.sends {
			ids = append(ids, s.id)
			e.emit(event{kind: evTones, room: l.room, leg: l.id, op: s.id, canceled: true})
		}
		l.sends = nil
	}
	return ids
}
