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

// DefaultSimMemory is how much of what it heard a SimPerson keeps, unless
// SetMemory. Silence costs nothing to keep; heard audio costs 32 KB a
// second, so at most 320 KB per simulated person.
const DefaultSimMemory = 10 * time.Second

// SimPerson is a simulated person: an Endpoint that follows a script (say
// this at 1 s, press "42#" at 3 s ...) and can be told to act live, and
// that remembers what it heard (the last DefaultSimMemory, unless
// SetMemory) and the DTMF keys it recognised in it, so a test can check
// that a prompt or tones reached it.
//
// Its time is its own frame count: offsets run from the first frame of the
// room it joined, one frame per 20 ms of the engine. It is a Sleeper: while
// it has nothing to say, its room can sleep. It is safe for concurrent use.
type SimPerson struct {
	id string

	mu     sync.Mutex
	script []Action // by At
	next   int      // first action not started
	spoke  int      // frames spoken (or slept through)
	say    []int16  // what it is saying
	sayPos int
	oob    []rune // out-of-band keys not yet sent
	muted  bool   // it speaks on, unheard (Graph's participant mute)
	link   Link

	mem  memory
	ears int // frames heard
	det  DTMFDetector
	keys []HeardKey
}

var _ Sleeper = (*SimPerson)(nil)

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
	return &SimPerson{id: id, script: s, mem: memory{keep: DefaultSimMemory.Milliseconds() / FrameDuration.Milliseconds()}}, nil
}

// ID returns the SimPerson's id.
func (p *SimPerson) ID() string { return p.id }

// SetMemory sets how much heard audio is kept (0 keeps none), forgetting
// what was heard so far.
func (p *SimPerson) SetMemory(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mem = memory{keep: max(0, int64(d/FrameDuration))}
}

// Say starts saying a at the next frame, replacing anything being said.
func (p *SimPerson) Say(a Audio) {
	p.mu.Lock()
	p.say, p.sayPos = a.Samples, 0
	link := p.link
	p.mu.Unlock()
	link.Wake()
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
	p.oob = append(p.oob, rune(keys[0]))
	link := p.link
	p.mu.Unlock()
	link.Wake()
	return nil
}

// Link implements Sleeper.
func (p *SimPerson) Link(l Link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.link = l
}

// synced brings the SimPerson up to date with its room (see Link.Sync) and
// returns with p.mu held.
func (p *SimPerson) synced() {
	p.mu.Lock()
	link := p.link
	p.mu.Unlock()
	link.Sync()
	p.mu.Lock()
}

// Sleep implements Sleeper: a SimPerson sleeps while it has nothing to
// say, until its next scripted action.
func (p *SimPerson) Sleep() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sayPos < len(p.say) || len(p.oob) > 0 {
		return 0
	}
	if p.next >= len(p.script) {
		return SleepForever
	}
	// The action runs in the first frame whose start is at or after At.
	due := int((p.script[p.next].At + FrameDuration - 1) / FrameDuration)
	return max(0, due-p.spoke)
}

// Slept implements Sleeper.
func (p *SimPerson) Slept(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spoke += n
	p.ears += n
	p.det.Silence(n)
	p.mem.silence(n)
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
	if p.muted {
		return false, key // what it says goes on, unheard; its keys still count (a phone's would)
	}
	return true, key
}

// SetMuted mutes or unmutes the person: muted, what it says reaches nobody
// (its script goes on, as a muted person keeps talking), as Graph's
// participant mute does.
func (p *SimPerson) SetMuted(muted bool) {
	p.mu.Lock()
	p.muted = muted
	p.mu.Unlock()
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
	if *f == (Frame{}) {
		p.det.Quiet()
		p.mem.silence(1)
		return
	}
	if k := p.det.Process(f); k != 0 {
		p.keys = append(p.keys, HeardKey{Key: k, At: SamplesDuration(p.ears * FrameSamples)})
	}
	p.mem.audio(f)
}

// Heard returns what the SimPerson heard (the last SetMemory of it), oldest
// first.
func (p *SimPerson) Heard() Audio {
	p.synced()
	defer p.mu.Unlock()
	return p.mem.audioOf()
}

// HeardKeys returns the DTMF keys recognised in what the SimPerson heard.
func (p *SimPerson) HeardKeys() []HeardKey {
	p.synced()
	defer p.mu.Unlock()
	return slices.Clone(p.keys)
}

// Joined reports how long the SimPerson has been in a room: the frames it
// has spoken or slept through.
func (p *SimPerson) Joined() time.Duration {
	p.synced()
	defer p.mu.Unlock()
	return SamplesDuration(p.spoke * FrameSamples)
}

// String describes the SimPerson for test failures.
func (p *SimPerson) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("SimPerson(%s, %d frames, %d keys heard)", p.id, p.spoke, len(p.keys))
}

// memory is the last keep frames a SimPerson heard, with silence held as a
// count: an idle call's memory costs nothing.
type memory struct {
	keep   int64 // frames to keep
	frames int64 // frames held
	segs   []memSeg
}

// memSeg is a run of frames: silence (audio nil), or heard audio.
type memSeg struct {
	silent int64
	audio  []int16
}

func (s memSeg) len() int64 {
	if s.audio == nil {
		return s.silent
	}
	return int64(len(s.audio) / FrameSamples)
}

func (m *memory) silence(n int) {
	if m.keep == 0 || n <= 0 {
		return
	}
	k := min(int64(n), m.keep)
	if last := len(m.segs) - 1; last >= 0 && m.segs[last].audio == nil {
		m.segs[last].silent += k
	} else {
		m.segs = append(m.segs, memSeg{silent: k})
	}
	m.frames += k
	m.trim()
}

func (m *memory) audio(f *Frame) {
	if m.keep == 0 {
		return
	}
	if last := len(m.segs) - 1; last >= 0 && m.segs[last].audio != nil {
		m.segs[last].audio = append(m.segs[last].audio, f[:]...)
	} else {
		// A run grows as it goes: speech heard in short runs (syllables
		// between silences) costs what it holds, not a second each.
		m.segs = append(m.segs, memSeg{audio: append([]int16(nil), f[:]...)})
	}
	m.frames++
	m.trim()
}

// trim forgets the oldest frames beyond keep.
func (m *memory) trim() {
	for m.frames > m.keep {
		over := m.frames - m.keep
		s := &m.segs[0]
		if n := s.len(); n <= over {
			m.segs[0] = memSeg{}
			m.segs = m.segs[1:]
			m.frames -= n
			continue
		}
		if s.audio == nil {
			s.silent -= over
		} else {
			s.audio = s.audio[over*FrameSamples:]
		}
		m.frames -= over
	}
}

func (m *memory) audioOf() Audio {
	out := make([]int16, 0, m.frames*FrameSamples)
	for _, s := range m.segs {
		if s.audio == nil {
			out = append(out, make([]int16, s.silent*FrameSamples)...)
		} else {
			out = append(out, s.audio...)
		}
	}
	return Audio{Samples: out}
}
