package rtpmedia

import (
	"net/netip"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// packets keeps what a leg sends.
type sentPackets [][]byte

func (p *sentPackets) WriteTo(b []byte, _ netip.AddrPort) error {
	*p = append(*p, append([]byte(nil), b...))
	return nil
}

func TestHeldEndpointHearsHoldMusic(t *testing.T) {
	var sent sentPackets
	leg, err := New(Config{ID: "p", Writer: &sent, Media: sdp.Media{
		Remote: netip.MustParseAddrPort("127.0.0.1:4000"), Encoding: sdp.PCMU, PT: 0, Direction: sdp.SendRecv}})
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	p := NewEndpoint(leg)
	var silence media.Frame
	level := func() float64 {
		// Decode the last packet's µ-law payload (12-byte RTP header).
		pkt := sent[len(sent)-1][12:]
		var loud int
		for _, b := range pkt {
			if b != 0xff && b != 0x7f { // µ-law zero
				loud++
			}
		}
		return float64(loud) / float64(len(pkt))
	}
	p.Hear(&silence)
	if l := level(); l != 0 {
		t.Fatalf("a phone not on hold heard %v of a frame of silence as sound", l)
	}
	p.SetHeld(true)
	p.Hear(&silence)
	if l := level(); l < 0.5 {
		t.Fatalf("a held phone heard silence (%v of its frame is sound); want hold music", l)
	}
}
