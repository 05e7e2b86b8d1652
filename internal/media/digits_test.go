package media

import (
	"sync"
	"testing"
	"time"
)

// phoneEar is an endpoint that takes DTMF out of band (a phone with RFC
// 4733) and keeps what it hears.
type phoneEar struct {
	id     string
	refuse bool
	mu     sync.Mutex
	keys   string
	heard  []int16
}

func (p *phoneEar) ID() string                { return p.id }
func (p *phoneEar) Speak(*Frame) (bool, rune) { return false, 0 }
func (p *phoneEar) Hear(f *Frame)             { p.mu.Lock(); p.heard = append(p.heard, f[:]...); p.mu.Unlock() }
func (p *phoneEar) SendDigits(keys string) error {
	if p.refuse {
		return ErrInvalid
	}
	p.mu.Lock()
	p.keys += keys
	p.mu.Unlock()
	return nil
}

func TestSentTonesGoOutOfBandToDigitSenders(t *testing.T) {
	bubble(t, func(t *testing.T, h *harness) {
		h.must(h.e.AddLeg("r", "bot"))
		oob := &phoneEar{id: "rfc4733"}
		inBand := &phoneEar{id: "no-events", refuse: true}
		h.must(h.e.AddEndpoint("r", oob))
		h.must(h.e.AddEndpoint("r", inBand))
		h.must(h.e.SendTones("r", "bot", "op", "159", 0))
		h.run(2 * time.Second)
		if oob.keys != "159" {
			t.Errorf("the RFC 4733 endpoint was sent %q; want 159", oob.keys)
		}
		if l := Level(oob.heard); l > -80 {
			t.Errorf("the RFC 4733 endpoint also heard the tones in band (level %.1f dBFS); want silence", l)
		}
		if got := detectKeys(Audio{Samples: inBand.heard}); got != "159" {
			t.Errorf("the endpoint without events heard keys %q in band; want 159", got)
		}
		if inBand.keys != "" {
			t.Errorf("the endpoint that refused was sent %q", inBand.keys)
		}
	})
}
