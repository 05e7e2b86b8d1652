package media

// member is one party of a room: an application leg or an endpoint.
type member struct {
	id  string
	ep  Endpoint // nil for a leg
	leg *appLeg  // nil for an endpoint
	det DTMFDetector

	vad      VAD  // what it says, when the engine reports speakers
	speaking bool // as last reported
	tap      Tap  // ep, when it hears each member and their keys
}

// roomState is one conversation's audio: its members in join order, so that
// mixing and event order are deterministic.
//
// A room is either awake (in Engine.awake, ticked every frame) or asleep:
// every member is idle (legs with nothing queued, endpoints that are
// Sleepers with nothing to say), so the room would only mix silence. An
// asleep room costs nothing per frame; it wakes when a command gives a leg
// something to do, when a member joins, when a Sleeper calls its wake
// function, or at the frame a Sleeper asked for (Engine.alarms).
type roomState struct {
	id      string
	members []*member
	closed  bool

	awake bool   // in Engine.awake
	since uint64 // asleep: the first frame it slept through
	alarm uint64 // asleep: the frame to wake at, 0 for none
	gen   uint64 // bumped at each wake, so older alarms are ignored
}

// heardKey is a DTMF key some member sent during this tick.
type heardKey struct {
	key    rune
	from   int // index in members
	inBand bool
}

// listening says whether the member wants others' keys.
func (m *member) listening() bool { return m.tap != nil || m.leg != nil && m.leg.listening() }

func (r *roomState) find(id string) *member {
	for _, m := range r.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (r *roomState) remove(id string) {
	for i, m := range r.members {
		if m.id == id {
			r.members = append(r.members[:i], r.members[i+1:]...)
			return
		}
	}
}

// listeners counts the legs that want keys now. A member's audio is only
// analysed while some other member listens.
func (r *roomState) listeners() int {
	n := 0
	for _, m := range r.members {
		if m.leg != nil && m.leg.listening() || m.tap != nil {
			n++
		}
	}
	return n
}

// sleepFor reports for how many frames the room can sleep: 0 when some
// member needs the next frame, SleepForever when nothing will happen until
// something wakes it.
func (r *roomState) sleepFor() int {
	n := SleepForever
	for _, m := range r.members {
		if m.leg != nil {
			if !m.leg.idle() {
				return 0
			}
			continue
		}
		s, ok := m.ep.(Sleeper)
		if !ok {
			return 0
		}
		if k := s.Sleep(); k < n {
			if k <= 0 {
				return 0
			}
			n = k
		}
	}
	return n
}

// slept tells the members that the room slept through n frames of silence.
func (r *roomState) slept(n int) {
	for _, m := range r.members {
		m.det.Silence(n)
		if s, ok := m.ep.(Sleeper); ok {
			s.Slept(n)
		}
	}
}

// tick moves one frame through the room: everyone speaks, keys are
// detected, everyone hears the others, and the legs learn of the keys. The
// engine's scratch space holds the frames.
func (r *roomState) tick(e *Engine) {
	s := &e.scratch
	s.grow(len(r.members))
	s.in, s.out, s.keys, s.tones = s.in[:0], s.out[:0], s.keys[:0], s.tones[:0]
	listeners := r.listeners()
	for i, m := range r.members {
		say := &s.say[i]
		detect := listeners > 1 || listeners == 1 && !m.listening()
		var voiced bool
		var key rune
		if m.leg != nil {
			var ts *toneSend
			voiced, ts = m.leg.speak(e, r, say)
			if voiced && len(ts.oobOrNil()) > 0 {
				s.tones = append(s.tones, toneFrame{from: i, oob: ts.oob})
			}
		} else {
			voiced, key = m.ep.Speak(say)
		}
		if key != 0 && ValidKey(key) {
			s.keys = append(s.keys, heardKey{key: key, from: i})
		}
		switch {
		case !detect:
			m.det.Reset()
		case voiced:
			if k := m.det.Process(say); k != 0 {
				s.keys = append(s.keys, heardKey{key: k, from: i, inBand: true})
			}
		default:
			m.det.Quiet()
		}
		e.speakLocked(r, m, voiced, say)
		if voiced {
			s.in = append(s.in, say)
		} else {
			s.in = append(s.in, nil)
		}
		s.out = append(s.out, &s.ear[i])
	}
	s.mixer.Mix(s.in, s.out)
	// Members that took a leg's keys out of band do not hear them too.
	for _, tf := range s.tones {
		for j, m := range r.members {
			if j != tf.from && tf.oob[m.id] {
				unmix(&s.ear[j], &s.say[tf.from])
			}
		}
	}
	for i, m := range r.members {
		if m.leg != nil {
			m.leg.hear(e, &s.ear[i])
		} else {
			m.ep.Hear(&s.ear[i])
		}
		if m.tap != nil {
			r.hearEach(s, i)
		}
	}
	for _, k := range s.keys {
		from := r.members[k.from].id
		for j, m := range r.members {
			switch {
			case j == k.from:
			case m.leg != nil:
				m.leg.key(e, k.key, from, k.inBand)
			case m.tap != nil:
				m.tap.Key(k.key, from)
			}
		}
	}
}

// hearEach gives member i, a Tap, what each other member said this tick.
func (r *roomState) hearEach(s *scratch, i int) {
	s.ids, s.each = s.ids[:0], s.each[:0]
	for j, o := range r.members {
		if j != i {
			s.ids = append(s.ids, o.id)
			s.each = append(s.each, s.in[j])
		}
	}
	r.members[i].tap.HearEach(s.ids, s.each)
}

// scratch is the space one room's tick works in. Rooms tick one at a time,
// so the engine needs one, however many rooms it has: an idle room holds no
// audio buffers.
type scratch struct {
	say, ear []Frame
	in, out  []*Frame
	keys     []heardKey
	tones    []toneFrame
	mixer    Mixer
	ids      []string // a Tap's view: the others' ids
	each     []*Frame // and what each said
}

// toneFrame is a member's frame of in-band DTMF that some members took out
// of band.
type toneFrame struct {
	from int
	oob  map[string]bool
}

func (s *toneSend) oobOrNil() map[string]bool {
	if s == nil {
		return nil
	}
	return s.oob
}

// unmix takes part out of mix, saturating.
func unmix(mix, part *Frame) {
	for k := range mix {
		mix[k] = sat16(int32(mix[k]) - int32(part[k]))
	}
}

// sendDigits gives keys, sent by the member from, to every other member
// that takes them out of band, and returns those that did (never nil).
func (r *roomState) sendDigits(from, keys string) map[string]bool {
	oob := make(map[string]bool)
	for _, m := range r.members {
		if m.id == from || m.ep == nil {
			continue
		}
		if d, ok := m.ep.(DigitSender); ok && d.SendDigits(keys) == nil {
			oob[m.id] = true
		}
	}
	return oob
}

func (s *scratch) grow(n int) {
	if len(s.say) < n {
		s.say = make([]Frame, n)
		s.ear = make([]Frame, n)
	}
}

// alarm wakes an asleep room at a frame, unless the room woke since (gen).
type alarm struct {
	frame uint64
	room  *roomState
	gen   uint64
}

// alarmHeap is a min-heap of alarms by frame (container/heap).
type alarmHeap []alarm

func (h alarmHeap) Len() int           { return len(h) }
func (h alarmHeap) Less(i, j int) bool { return h[i].frame < h[j].frame }
func (h alarmHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *alarmHeap) Push(x any)        { *h = append(*h, x.(alarm)) }
func (h *alarmHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = alarm{}
	*h = old[:len(old)-1]
	return a
}
