package media

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the engine. Match them with errors.Is.
var (
	// ErrCanceled: the operation was canceled (Cancel, a barge-in, or its
	// leg, room or engine went away). PlayFinished receives it, wrapped with
	// the cause.
	ErrCanceled = errors.New("media: operation canceled")
	// ErrNotFound: no such room, leg or endpoint.
	ErrNotFound = errors.New("media: no such room, leg or endpoint")
	// ErrExists: the leg, endpoint or operation id is already in use.
	ErrExists = errors.New("media: id already in use")
	// ErrInvalid: an argument is out of range or malformed.
	ErrInvalid = errors.New("media: invalid argument")
	// ErrClosed: the engine has been shut down.
	ErrClosed = errors.New("media: engine shut down")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("media: engine already started")
)

// Events receives what the engine's operations and detectors produce. The
// engine calls it from its own goroutine, one call at a time, in the order
// things happened (within a room), and never while holding its lock, so an
// implementation may call the Engine back (to start the next operation,
// say), Shutdown excepted. It must not block for long: the engine's clock
// waits for it.
//
// Every operation the engine accepted (Play, Record or SendTones returned
// nil) is reported exactly once, whether it finishes, is canceled, or its
// leg, room or the engine goes away.
type Events interface {
	// PlayFinished reports the end of a Play: err is nil when every prompt
	// was played, and wraps ErrCanceled otherwise.
	PlayFinished(room, leg, opID string, err error)
	// RecordFinished reports the end of a Record.
	RecordFinished(room, leg, opID string, r Recording)
	// TonesSent reports the end of a SendTones; canceled is true when not
	// all tones were sent (Graph's mediaOperationCanceled).
	TonesSent(room, leg, opID string, canceled bool)
	// ToneDetected reports a DTMF key the leg heard, sent in-band or out of
	// band by the room member with id from, while the leg is subscribed.
	ToneDetected(room, leg string, key rune, from string)
}

// SpeakerEvents, when the Events also implements it, hears when a member
// of a room starts and stops speaking: a VAD with its defaults on what
// each member says (an application leg's prompts included), in frame
// order. A member that leaves, or a room that falls silent, while someone
// speaks, reports the end of their speech. Without it the engine runs no
// VAD.
type SpeakerEvents interface {
	SpeakingChanged(room, member string, speaking bool)
}

// Recording is the result of a Record.
type Recording struct {
	// WAV is what the leg heard after the prompt and the beep, as a 16 kHz
	// 16-bit mono WAV file (EncodeWAV). It is nil when the operation was
	// canceled (Graph then returns an empty recordingLocation).
	WAV []byte
	// Duration is the length of the audio in WAV.
	Duration time.Duration
	Reason   RecordReason
	// Tone is the stop tone heard when Reason is ReasonStopToneDetected.
	Tone rune
}

// RecordReason is why a recording ended: Graph's recordCompletionReason.
// The zero value is ReasonUnknown.
type RecordReason uint8

// Record completion reasons. The engine never reports ReasonPlayPromptFailed
// itself (a decoded prompt cannot fail to play); it is here for the calls
// service, which reports it when it cannot fetch or decode the prompt.
const (
	ReasonUnknown RecordReason = iota
	ReasonOperationCanceled
	ReasonStopToneDetected
	ReasonMaxRecordDurationReached
	ReasonInitialSilenceTimeout
	ReasonMaxSilenceTimeout
	ReasonPlayPromptFailed
)

var reasonNames = [...]string{
	ReasonUnknown:                  "unknown",
	ReasonOperationCanceled:        "operationCanceled",
	ReasonStopToneDetected:         "stopToneDetected",
	ReasonMaxRecordDurationReached: "maxRecordDurationReached",
	ReasonInitialSilenceTimeout:    "initialSilenceTimeout",
	ReasonMaxSilenceTimeout:        "maxSilenceTimeout",
	ReasonPlayPromptFailed:         "playPromptFailed",
}

// String returns the Graph enum member, such as "stopToneDetected".
func (r RecordReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("RecordReason(%d)", r)
}

// ParseRecordReason is the inverse of String.
func ParseRecordReason(s string) (RecordReason, error) {
	for i, n := range reasonNames {
		if n == s {
			return RecordReason(i), nil
		}
	}
	return ReasonUnknown, fmt.Errorf("%w: record reason %q", ErrInvalid, s)
}

// RecordOptions are the parameters of Record, after Graph's recordResponse.
type RecordOptions struct {
	// Prompt, when not nil, is played before recording starts.
	Prompt *Audio
	// Beep plays Beep() after the prompt, just before recording starts.
	Beep bool
	// InitialSilence ends the recording (ReasonInitialSilenceTimeout) when no
	// speech started this long after recording started (after the prompt
	// and the beep).
	InitialSilence time.Duration
	// MaxSilence ends the recording (ReasonMaxSilenceTimeout) after this long
	// without speech once speech has started.
	MaxSilence time.Duration
	// MaxDuration ends the recording (ReasonMaxRecordDurationReached) when
	// it is this long.
	MaxDuration time.Duration
	// StopTones end the recording (ReasonStopToneDetected) when the leg
	// hears one of these keys, in-band or out of band, while recording. The
	// recording then ends before an in-band tone (the last 60 ms are cut).
	StopTones []rune
	// BargeIn starts the recording at once, canceling the leg's playing and
	// queued Play and Record operations, instead of queueing it behind them.
	BargeIn bool
}

// DefaultRecordTimeout is what a zero InitialSilence, MaxSilence or
// MaxDuration means (Graph's default of 5 seconds).
const DefaultRecordTimeout = 5 * time.Second

// normalize applies defaults and checks ranges: timers in (0,
// MaxAudioDuration], stop tones DTMF keys.
func (o RecordOptions) normalize() (RecordOptions, error) {
	for _, d := range []*time.Duration{&o.InitialSilence, &o.MaxSilence, &o.MaxDuration} {
		switch {
		case *d == 0:
			*d = DefaultRecordTimeout
		case *d < 0 || *d > MaxAudioDuration:
			return o, fmt.Errorf("%w: record timer %v outside (0, %v]", ErrInvalid, *d, MaxAudioDuration)
		}
	}
	if len(o.StopTones) > 0 {
		keys, err := NormalizeKeys(string(o.StopTones))
		if err != nil {
			return o, err
		}
		o.StopTones = []rune(keys)
	}
	return o, nil
}

type discard struct{}

func (discard) PlayFinished(string, string, string, error)       {}
func (discard) RecordFinished(string, string, string, Recording) {}
func (discard) TonesSent(string, string, string, bool)           {}
func (discard) ToneDetected(string, string, rune, string)        {}

type eventKind uint8

const (
	evPlay eventKind = iota
	evRecord
	evTones
	evTone
	evSpeaking
)

type event struct {
	kind     eventKind
	room     string
	leg      string
	op       string
	err      error
	rec      Recording
	canceled bool
	speaking bool
	key      rune
	from     string
}

func (e *Engine) dispatch(evs []event) {
	for i := range evs {
		ev := &evs[i]
		switch ev.kind {
		case evPlay:
			e.ev.PlayFinished(ev.room, ev.leg, ev.op, ev.err)
		case evRecord:
			e.ev.RecordFinished(ev.room, ev.leg, ev.op, ev.rec)
		case evTones:
			e.ev.TonesSent(ev.room, ev.leg, ev.op, ev.canceled)
		case evTone:
			e.ev.ToneDetected(ev.room, ev.leg, ev.key, ev.from)
		case evSpeaking:
			e.speakers.SpeakingChanged(ev.room, ev.from, ev.speaking)
		}
	}
}
