package media

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Action is one step of a SimPerson's script, at an offset from when it
// joined (its first frame). Set exactly one of Say, Keys, Key or Hush.
type Action struct {
	At time.Duration
	// Say starts saying this audio, replacing anything being said.
	Say Audio
	// Keys starts pressing these keys as in-band DTMF (DTMF's default
	// timing), replacing anything being said.
	Keys string
	// Key presses one key out of band (RFC 4733 style).
	Key rune
	// Hush stops saying anything.
	Hush bool
}

// HeardKey is a DTMF key a SimPerson recognised in what it heard.
type HeardKey struct {
	Key rune
	At  time.Duration // since the SimPerson joined, at the frame that recognised it
}

var _ Endpoint = (*SimPerson)(nil)

// DefaultSimMemory is how much of what it heard a SimPerson keeps.
const DefaultSimMemory = time.Minute // 1.9 MB per simulated person at most

// SimPerson is a simulated person: an Endpoint that follows a script (say
// this at 1 s, press "42#" at 3 s ...) and can be told to act live, and
// that remembers what it heard (the last DefaultSimMemory, unless
// SetMemory) and the DTMF keys it recognised in it, so a test can check
// that a prompt or tones reached it.
//
// Its time is its own frame count: offsets run from the first Speak, one
// frame per 20 ms tick. It is safe for concurrent use.
type SimPerson struct {
	id string

	mu     sync.Mutex
	script []Action // by At
	next   int      // first action not started
	spoke  int      // frames spoken
	say    []int16  // what it is saying
	sayPos int
	oob    []rune // out-of-band keys not yet sent

	keep  int     // samples of heard audio to keep
	heard []int16 // ring once len == keep
	start int     // oldest sample when the ring is full
	ears  int     // frames heard
	det   DTMFDetector
	keys  []HeardKey
}

// NewSimPerson returns a SimPerson with the given id and script. Actions
// may come in any order. A Keys or Key that is not DTMF fails with
// ErrInvalid.
func NewSimPerson(id string, script ...Action) (*SimPerson, error) {
	s := slices.Clone(script)
	for i := range s {
		if s[i].Keys != "" {
			keys, err := NormalizeKeys(s[i].Keys)
			if err != nil {
				return nil, err
			}
			s[i].Keys = keys
		}
		if s[i].Key != 0 {
			keys, err := NormalizeKeys(string(s[i].Key))
			if err != nil {
				return nil, err
			}
			s[i].Key = rune(keys[0])
		}
	}
	slices.SortStableFunc(s, func(a, b Action) int { return int(a.At - b.At) })
	return &SimPerson{id: id, script: s, keep: DurationSamples(DefaultSimMemory)}, nil
}

// ID returns the SimPerson's id.
func (p *SimPerson) ID() string { return p.id }

// SetMemory sets how much heard audio is kept (at least one frame),
// forgetting what was heard so far.
func (p *SimPerson) SetMemory(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = max(FrameSamples, DurationSamples(d))
	p.heard, p.start = nil, 0
}

// Say starts saying a at the next frame, replacing anything being said.
func (p *SimPerson) Say(a Audio) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.say, p.sayPos = a.Samples, 0
}

// Hush stops saying anything.
func (p *SimPerson) Hush() { p.Say(Audio{}) }

// Press starts pressing keys as in-band DTMF at the next frame, replacing
// anything being said.
func (p *SimPerson) Press(keys string) error {
	a, err := DTMF(keys, 0, 0)
	if err != nil {
		return err
	}
	p.Say(a)
	return nil
}

// PressOutOfBand sends key out of band at the next frame.
func (p *SimPerson) PressOutOfBand(key rune) error {
	keys, err := NormalizeKeys(string(key))
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.oob = append(p.oob, rune(keys[0]))
	return nil
}

// Speak implements Endpoint.
func (p *SimPerson) Speak(f *Frame) (bool, rune) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := SamplesDuration(p.spoke * FrameSamples)
	for p.next < len(p.script) && p.script[p.next].At <= now {
		p.act(p.script[p.next])
		p.next++
	}
	p.spoke++
	var key rune
	if len(p.oob) > 0 {
		key, p.oob = p.oob[0], p.oob[1:]
	}
	if p.sayPos >= len(p.say) {
		return false, key
	}
	n := copy(f[:], p.say[p.sayPos:])
	clear(f[n:])
	p.sayPos += n
	return true, key
}

func (p *SimPerson) act(a Action) {
	switch {
	case a.Key != 0:
		p.oob = append(p.oob, a.Key)
	case a.Keys != "":
		d, err := DTMF(a.Keys, 0, 0)
		if err == nil { // checked by NewSimPerson
			p.say, p.sayPos = d.Samples, 0
		}
	case a.Hush:
		p.say, p.sayPos = nil, 0
	default:
		p.say, p.sayPos = a.Say.Samples, 0
	}
}

// Hear implements Endpoint.
func (p *SimPerson) Hear(f *Frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ears++
	if k := p.det.Process(f); k != 0 {
		p.keys = append(p.keys, HeardKey{Key: k, At: SamplesDuration(p.ears * FrameSamples)})
	}
	p.remember(f[:])
}

// remember appends s to the heard audio: a growing slice until it holds
// keep samples, a ring after.
func (p *SimPerson) remember(s []int16) {
	if space := p.keep - len(p.heard); space > 0 {
		if p.heard == nil {
			p.heard = make([]int16, 0, min(p.keep, 30*SampleRate))
		}
		n := min(space, len(s))
		p.heard = append(p.heard, s[:n]...)
		s = s[n:]
	}
	for len(s) > 0 {
		n := copy(p.heard[p.start:], s)
		s = s[n:]
		p.start = (p.start + n) % len(p.heard)
	}
}

// Heard returns what the SimPerson heard (the last SetMemory of it), oldest
// first.
func (p *SimPerson) Heard() Audio {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int16, 0, len(p.heard))
	out = append(out, p.heard[p.start:]...)
	out = append(out, p.heard[:p.start]...)
	return Audio{Samples: out}
}

// HeardKeys returns the DTMF keys recognised in what the SimPerson heard.
func (p *SimPerson) HeardKeys() []HeardKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.keys)
}

// Joined reports how long the SimPerson has been in a room: the frames it
// has spoken.
func (p *SimPerson) Joined() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return SamplesDuration(p.spoke * FrameSamples)
}

// String describes the SimPerson for test failures.
func (p *SimPerson) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("SimPerson(%s, %d frames, %d keys heard)", p.id, p.spoke, len(p.keys))
}
