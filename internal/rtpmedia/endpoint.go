package rtpmedia

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
)

// Endpoint is a live participant's Leg in a room (a SIP phone, a browser),
// with what the domain tells it: server mute (its voice does not reach the
// others) and hold (it hears hold music, and the others do not hear it).
type Endpoint struct {
	*Leg
	muted, held atomic.Bool
	music       int // position in holdMusic; the engine's goroutine only
}

// NewEndpoint wraps leg.
func NewEndpoint(leg *Leg) *Endpoint { return &Endpoint{Leg: leg} }

// SetMuted mutes or unmutes the endpoint's voice in the mix.
func (e *Endpoint) SetMuted(muted bool) { e.muted.Store(muted) }

// SetHeld puts the endpoint on hold, or takes it off.
func (e *Endpoint) SetHeld(held bool) { e.held.Store(held) }

// Speak plays the leg's next frame, or nothing while muted or held (the
// jitter buffer still drains, and key presses still count).
func (e *Endpoint) Speak(f *media.Frame) (bool, rune) {
	voiced, key := e.Leg.Speak(f)
	if e.muted.Load() || e.held.Load() {
		voiced = false
	}
	return voiced, key
}

// Hear sends the endpoint what the room says, or hold music while it is
// held.
func (e *Endpoint) Hear(f *media.Frame) {
	if e.held.Load() {
		music := holdMusic()
		for i := range f {
			f[i] = music.Samples[e.music]
			e.music = (e.music + 1) % len(music.Samples)
		}
	}
	e.Leg.Hear(f)
}

// holdMusic is what a held endpoint hears, over and over: a soft four-note
// phrase and a pause (Graph's customPrompt is not fetched for phones).
var holdMusic = sync.OnceValue(func() media.Audio {
	var clips []media.Audio
	for _, hz := range []float64{523.25, 659.25, 783.99, 659.25} {
		clips = append(clips, media.Tone(hz, 400*time.Millisecond, -24))
	}
	return media.Concat(append(clips, media.Silence(1400*time.Millisecond))...)
})
