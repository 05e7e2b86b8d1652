// Package webrtc brings browsers into calls as live endpoints: one
// PeerConnection (pion v4) per participant, whose one audio stream is
// G.711 µ-law (PCMU) with telephone-event, carried through the same
// rtpmedia.Leg as a SIP phone's: jitter buffer, 8↔16 kHz conversion and
// RFC 4733 keys both ways. PCMU needs no cgo.
//
// Signalling is one offer and one answer with every candidate in them (no
// trickle ICE): the browser offers, the server answers once its candidates
// are gathered. The candidates are the configured addresses only
// (loopback in development mode).
package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/switchboard-dev/switchboard/internal/rtpmedia"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// eventPT is the telephone-event payload type the server offers; an
// answer or an offer may number it otherwise.
const eventPT = 101

// Config is what every PeerConnection of a server shares.
type Config struct {
	// Addresses are the local IP addresses ICE gathers candidates on; none
	// means every interface's.
	Addresses []netip.Addr
	// PortMin and PortMax bound the UDP ports ICE uses; 0 and 0 mean any.
	PortMin, PortMax uint16
}

// API is a pion API set up for Switchboard's peers: PCMU and
// telephone-event only, ICE on the configured addresses.
type API struct{ api *webrtc.API }

// NewAPI returns the API for cfg.
func NewAPI(cfg Config) (*API, error) {
	var me webrtc.MediaEngine
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, Channels: 1, SDPFmtpLine: "0-16"}, PayloadType: eventPT},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc: %w", err)
		}
	}
	var se webrtc.SettingEngine
	if len(cfg.Addresses) > 0 {
		allowed := append([]netip.Addr(nil), cfg.Addresses...)
		se.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			if !ok {
				return false
			}
			for _, b := range allowed {
				if a.Unmap() == b.Unmap() {
					return true
				}
			}
			return false
		})
		for _, a := range cfg.Addresses {
			if a.IsLoopback() {
				se.SetIncludeLoopbackCandidate(true)
			}
		}
	}
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("webrtc: port range: %w", err)
		}
	}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	return &API{api: webrtc.NewAPI(webrtc.WithMediaEngine(&me), webrtc.WithSettingEngine(se))}, nil
}

// Peer is one participant's PeerConnection and the media leg it carries.
// The leg is a media.Endpoint for the conversation's room.
type Peer struct {
	pc  *webrtc.PeerConnection
	out *trackOut
	Leg *rtpmedia.Leg

	mu        sync.Mutex
	closed    bool
	done      chan struct{} // closed when the connection fails or closes
	pendingID string        // an Offer's participant, until Accept
}

// peerAddr stands for the browser in the leg's address checks: the
// PeerConnection, not the leg, knows where packets go.
var peerAddr = netip.AddrPortFrom(netip.IPv6Loopback(), 9)

// Answer takes a browser's offer and returns a Peer for participant id
// and the answer to send back, with every candidate gathered. The offer
// must have an audio stream with PCMU.
func (a *API) Answer(ctx context.Context, id, offer string) (*Peer, string, error) {
	p, err := a.newPeer()
	if err != nil {
		return nil, "", err
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	sdpText, err := p.complete(ctx, answer)
	if err != nil {
		p.Close()
		return nil, "", err
	}
	if err := p.startLeg(id); err != nil {
		p.Close()
		return nil, "", err
	}
	return p, sdpText, nil
}

// Offer returns a Peer for participant id that offers, and its offer: the
// browser's side, for tests (a browser makes its own). Accept takes the
// answer.
func (a *API) Offer(ctx context.Context, id string) (*Peer, string, error) {
	p, err := a.newPeer()
	if err != nil {
		return nil, "", err
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.Close()
		return nil, "", err
	}
	sdpText, err := p.complete(ctx, offer)
	if err != nil {
		p.Close()
		return nil, "", err
	}
	return p, sdpText, p.startLegLater(id)
}

// Accept completes an Offer with the answer.
func (p *Peer) Accept(answer string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	return p.startLeg(p.pendingID)
}

// ErrBadOffer is a session description the server cannot use.
var ErrBadOffer = errors.New("webrtc: unusable session description")

func (a *API) newPeer() (*Peer, error) {
	pc, err := a.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	p := &Peer{pc: pc, out: &trackOut{id: "audio", stream: "switchboard"}, done: make(chan struct{})}
	if _, err := pc.AddTransceiverFromTrack(p.out, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		pc.Close()
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { go p.read(t) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			p.finish()
		}
	})
	return p, nil
}

// complete sets the local description and waits for ICE gathering, so
// that the description carries every candidate.
func (p *Peer) complete(ctx context.Context, d webrtc.SessionDescription) (string, error) {
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(d); err != nil {
		return "", fmt.Errorf("webrtc: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return p.pc.LocalDescription().SDP, nil
}

// startLegLater remembers the participant id until the answer comes.
func (p *Peer) startLegLater(id string) error { p.pendingID = id; return nil }

// startLeg makes the media leg once both descriptions are set: PCMU and
// telephone-event at the payload types negotiated.
func (p *Peer) startLeg(id string) error {
	m := sdp.Media{Remote: peerAddr, Encoding: sdp.PCMU, PT: 0, Direction: sdp.SendRecv}
	for _, tr := range p.pc.GetTransceivers() {
		for _, c := range tr.Receiver().GetParameters().Codecs {
			switch {
			case strings.EqualFold(c.MimeType, webrtc.MimeTypePCMU):
				m.PT = uint8(c.PayloadType)
			case strings.EqualFold(c.MimeType, "audio/telephone-event"):
				m.EventPT, m.RecvEventPT = uint8(c.PayloadType), uint8(c.PayloadType)
			}
		}
	}
	leg, err := rtpmedia.New(rtpmedia.Config{ID: id, Media: m, Writer: p.out})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.Leg = leg
	p.mu.Unlock()
	return nil
}

// read hands the browser's packets to the leg.
func (p *Peer) read(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.finish()
			}
			return
		}
		p.mu.Lock()
		leg := p.Leg
		p.mu.Unlock()
		if leg != nil {
			leg.Receive(buf[:n], peerAddr)
		}
	}
}

// Done is closed when the connection failed or closed.
func (p *Peer) Done() <-chan struct{} { return p.done }

func (p *Peer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
}

// Close ends the connection and the leg.
func (p *Peer) Close() {
	p.finish()
	p.pc.Close()
	p.mu.Lock()
	leg := p.Leg
	p.mu.Unlock()
	if leg != nil {
		leg.Close()
	}
}

// trackOut is the server's audio track: it writes the leg's packets as
// they are, audio and telephone events, with the stream's SSRC (pion's
// static tracks would give every packet the audio payload type).
type trackOut struct {
	id, stream string

	mu   sync.Mutex
	ssrc uint32
	ws   webrtc.TrackLocalWriter
}

var _ webrtc.TrackLocal = (*trackOut)(nil)

func (t *trackOut) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypePCMU) {
			t.mu.Lock()
			t.ssrc, t.ws = uint32(ctx.SSRC()), ctx.WriteStream()
			t.mu.Unlock()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

func (t *trackOut) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	t.ws = nil
	t.mu.Unlock()
	return nil
}

func (t *trackOut) ID() string                { return t.id }
func (t *trackOut) RID() string               { return "" }
func (t *trackOut) StreamID() string          { return t.stream }
func (t *trackOut) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// WriteTo implements rtpmedia.Writer.
func (t *trackOut) WriteTo(b []byte, _ netip.AddrPort) error {
	t.mu.Lock()
	ws, ssrc := t.ws, t.ssrc
	t.mu.Unlock()
	if ws == nil {
		return nil // not connected yet
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(b); err != nil {
		return err
	}
	pkt.SSRC = ssrc
	_, err := ws.WriteRTP(&pkt.Header, pkt.Payload)
	return err
}
