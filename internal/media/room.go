package media

// member is one party of a room: an application leg or an endpoint.
type member struct {
	id  string
	ep  Endpoint // nil for a leg
	leg *appLeg  // nil for an endpoint
	det DTMFDetector
	say Frame // what it sent this tick
	ear Frame // what it hears this tick
}

// roomState is one conversation's audio: its members in join order, so that
// mixing and event order are deterministic.
type roomState struct {
	id      string
	members []*member
	in, out []*Frame
	keys    []heardKey
	mixer   Mixer
}

// heardKey is a DTMF key some member sent during this tick.
type heardKey struct {
	key    rune
	from   int // index in members
	inBand bool
}

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
		if m.leg != nil && m.leg.listening() {
			n++
		}
	}
	return n
}

// tick moves one frame through the room: everyone speaks, keys are
// detected, everyone hears the others, and the legs learn of the keys.
func (r *roomState) tick(e *Engine) {
	r.in, r.out, r.keys = r.in[:0], r.out[:0], r.keys[:0]
	listeners := r.listeners()
	for i, m := range r.members {
		detect := listeners > 1 || listeners == 1 && (m.leg == nil || !m.leg.listening())
		var voiced bool
		var key rune
		if m.leg != nil {
			voiced = m.leg.speak(e, &m.say)
		} else {
			voiced, key = m.ep.Speak(&m.say)
		}
		if key != 0 && ValidKey(key) {
			r.keys = append(r.keys, heardKey{key: key, from: i})
		}
		switch {
		case !detect:
			m.det.Reset()
		case voiced:
			if k := m.det.Process(&m.say); k != 0 {
				r.keys = append(r.keys, heardKey{key: k, from: i, inBand: true})
			}
		default:
			m.det.Quiet()
		}
		if voiced {
			r.in = append(r.in, &m.say)
		} else {
			r.in = append(r.in, nil)
		}
		r.out = append(r.out, &m.ear)
	}
	r.mixer.Mix(r.in, r.out)
	for _, m := range r.members {
		if m.leg != nil {
			m.leg.hear(e, &m.ear)
		} else {
			m.ep.Hear(&m.ear)
		}
	}
	for _, k := range r.keys {
		from := r.members[k.from].id
		for j, m := range r.members {
			if j != k.from && m.leg != nil {
				m.leg.key(e, k.key, from, k.inBand)
			}
		}
	}
}
