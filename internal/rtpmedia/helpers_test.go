package rtpmedia

import (
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

var (
	peerAddr  = netip.MustParseAddrPort("192.0.2.10:6000")
	otherAddr = netip.MustParseAddrPort("192.0.2.66:6000")
)

// sent is a packet a captureWriter was given.
type sent struct {
	to  netip.AddrPort
	pkt rtp.Packet
}

// captureWriter is a Writer that keeps every packet, parsed.
type captureWriter struct {
	mu   sync.Mutex
	pkts []sent
}

func (w *captureWriter) WriteTo(b []byte, to netip.AddrPort) error {
	var p rtp.Packet
	if err := p.Unmarshal(slices.Clone(b)); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pkts = append(w.pkts, sent{to: to, pkt: p})
	return nil
}

// take returns the packets written since the last take.
func (w *captureWriter) take() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pkts
	w.pkts = nil
	return p
}

// pcmu is the usual negotiated stream: PCMU, events at 101, both ways.
func pcmu() sdp.Media {
	return sdp.Media{Remote: peerAddr, Encoding: sdp.PCMU, PT: 0, EventPT: 101, RecvEventPT: 101, Direction: sdp.SendRecv}
}

func newLeg(t testing.TB, cfg Config) *Leg {
	t.Helper()
	if cfg.ID == "" {
		cfg.ID = "phone"
	}
	if cfg.Media.Encoding == sdp.EncodingUnknown {
		cfg.Media = pcmu()
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// packet marshals an RTP packet of the peer's stream.
func packet(pt uint8, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	b, err := (&rtp.Packet{Header: rtp.Header{
		Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 0x5eed, Marker: marker,
	}, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// eventPacket marshals an RFC 4733 packet.
func eventPacket(pt uint8, seq uint16, ts uint32, marker bool, code byte, end bool, dur uint16) []byte {
	return packet(pt, seq, ts, marker, event{code: code, end: end, volume: 10, duration: dur}.appendTo(nil))
}

// narrowTone is a tone at 8 kHz, n samples at dBFS RMS.
func narrowTone(freq float64, n int, dBFS float64) []int16 {
	amp := math.Sqrt2 * math.Pow(10, dBFS/20) * 32767
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/NarrowRate))
	}
	return out
}

// voice is the shared test signal (media.Speechlike).
func voice(d time.Duration) media.Audio { return media.Speechlike(d) }

// frames cuts a into engine frames, the last one zero-padded.
func frames(a media.Audio) []media.Frame {
	out := make([]media.Frame, a.Frames())
	for i := range out {
		copy(out[i][:], a.Samples[i*media.FrameSamples:])
	}
	return out
}

// narrowPackets cuts 8 kHz audio into 20 ms payloads encoded with enc.
func narrowPackets(samples []int16, enc sdp.Encoding) [][]byte {
	var out [][]byte
	for i := 0; i+NarrowFrame <= len(samples); i += NarrowFrame {
		out = append(out, encode(nil, samples[i:i+NarrowFrame], enc))
	}
	return out
}

// speakN pulls n frames from l and joins them.
func speakN(l *Leg, n int) (media.Audio, []rune) {
	var out []int16
	var keys []rune
	for range n {
		var f media.Frame
		_, k := l.Speak(&f)
		if k != 0 {
			keys = append(keys, k)
		}
		out = append(out, f[:]...)
	}
	return media.Audio{Samples: out}, keys
}
