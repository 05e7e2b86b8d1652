package sdp

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	pion "github.com/pion/sdp/v3"
)

const (
	// MaxSize bounds the descriptions Answer and ParseAnswer read: a
	// longer one fails with ErrMalformed before it is parsed. Real offers
	// are well under 2 KB.
	MaxSize = 16 << 10
	// DefaultEventPT is the payload type Offer gives telephone-event when
	// Local.EventPT is zero.
	DefaultEventPT = 101
	// PTime is the packet duration Switchboard asks for and sends.
	PTime = 20 * time.Millisecond
	// eventList is the telephone events Switchboard receives: the 16 DTMF
	// keys (RFC 4733 §3.2).
	eventList = "0-15"
	// sessionName is the s= line; "-" would do as well.
	sessionName = "switchboard"
)

// Local is Switchboard's side of the negotiation. It is a plain value:
// keep one per dialog, and bump Version for each new offer or answer in it
// (a re-INVITE for hold, say), as RFC 3264 §8 asks.
type Local struct {
	// Addr is written into c= and o=: the address peers send RTP to,
	// which is the public address when Switchboard is behind NAT. It must
	// be a unicast IPv4 or IPv6 address.
	Addr netip.Addr
	// Port is the RTP port, 1 to 65535.
	Port int
	// Encodings are the encodings to offer and accept, in order of
	// preference; nil means PCMU then PCMA.
	Encodings []Encoding
	// EventPT is the payload type Offer gives telephone-event/8000, in the
	// dynamic range 96 to 127; zero means DefaultEventPT. An answer uses
	// the offer's number instead.
	EventPT uint8
	// Direction is what Switchboard wants: SendRecv (or the zero value)
	// normally, SendOnly or Inactive to put the peer on hold.
	Direction Direction
	// SessionID and Version are o='s sess-id and sess-version.
	SessionID, Version uint64
}

// normalize applies the defaults and checks l.
func (l Local) normalize() (Local, error) {
	l.Addr = l.Addr.Unmap()
	switch {
	case !l.Addr.IsValid() || l.Addr.IsUnspecified() || l.Addr.IsMulticast():
		return l, fmt.Errorf("%w: address %v is not a unicast address", ErrInvalid, l.Addr)
	case l.Port < 1 || l.Port > 65535:
		return l, fmt.Errorf("%w: port %d outside 1-65535", ErrInvalid, l.Port)
	case l.EventPT != 0 && (l.EventPT < 96 || l.EventPT > 127):
		return l, fmt.Errorf("%w: telephone-event payload type %d outside 96-127", ErrInvalid, l.EventPT)
	case l.Direction > Inactive:
		return l, fmt.Errorf("%w: direction %v", ErrInvalid, l.Direction)
	}
	if l.EventPT == 0 {
		l.EventPT = DefaultEventPT
	}
	if l.Direction == DirectionUnknown {
		l.Direction = SendRecv
	}
	if l.Encodings == nil {
		l.Encodings = []Encoding{PCMU, PCMA}
	}
	if len(l.Encodings) == 0 {
		return l, fmt.Errorf("%w: no encodings", ErrInvalid)
	}
	for i, e := range l.Encodings {
		if e != PCMU && e != PCMA || slices.Contains(l.Encodings[:i], e) {
			return l, fmt.Errorf("%w: encodings %v", ErrInvalid, l.Encodings)
		}
	}
	return l, nil
}

// Media is the outcome of a negotiation: how Switchboard's RTP leg sends
// and what it accepts.
type Media struct {
	// Remote is where to send RTP: the peer's c= address and m= port. An
	// unspecified address (c=0.0.0.0, the old way to hold) comes with a
	// Direction that does not send.
	Remote netip.AddrPort
	// Encoding is the audio encoding, and PT its payload type as the peer
	// numbered it.
	Encoding Encoding
	PT       uint8
	// EventPT is the telephone-event payload type to send DTMF with, and
	// RecvEventPT the one the peer was told to send (the same, except
	// when an answer renumbered our offer's). Both are 0 when the peer did
	// not negotiate telephone-event/8000.
	EventPT, RecvEventPT uint8
	// Direction is what Switchboard does: Sends() means send RTP to
	// Remote, Receives() means expect RTP from the peer.
	Direction Direction
	// PTime is the peer's a=ptime, or 0 if it gave none. Switchboard
	// sends 20 ms packets whatever it says, and receives any.
	PTime time.Duration
}

// Offer returns the SDP offer of one audio stream: l's encodings, in its
// order, and telephone-event/8000 at l.EventPT, with 20 ms packets and
// l.Direction.
func Offer(l Local) ([]byte, error) {
	l, err := l.normalize()
	if err != nil {
		return nil, err
	}
	formats := make([]format, 0, len(l.Encodings)+1)
	for _, e := range l.Encodings {
		formats = append(formats, format{pt: e.StaticPT(), name: e.String(), rate: ClockRate})
	}
	formats = append(formats, format{pt: l.EventPT, name: "telephone-event", rate: ClockRate})
	sd := session(l)
	sd.MediaDescriptions = []*pion.MediaDescription{audio(l.Port, "RTP/AVP", formats, l.Direction)}
	return sd.Marshal()
}

// Answer answers an offer: it accepts the first usable audio stream (RTP/AVP
// or RTP/AVPF, a port, a unicast IP address) with the first of l's
// encodings in the order the offer lists its formats, and the offer's
// telephone-event/8000 payload type if it has one; every other m= line is
// rejected with port 0. The answer's direction is l.Direction narrowed by
// the offer's (an offer to receive only is answered send only, and so on).
//
// It fails with ErrMalformed when the offer cannot be parsed, and with
// ErrNotAcceptable (a *NoCommonCodecError when the codecs are why) when it
// has no stream Switchboard can take; l's mistakes give ErrInvalid.
func Answer(offer []byte, l Local) ([]byte, Media, error) {
	l, err := l.normalize()
	if err != nil {
		return nil, Media{}, err
	}
	sd, err := parse(offer)
	if err != nil {
		return nil, Media{}, err
	}
	chosen, m := -1, Media{}
	var whyNot error
	for i, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		if p := proto(md); p != "RTP/AVP" && p != "RTP/AVPF" {
			if whyNot == nil {
				whyNot = fmt.Errorf("%w: audio stream %d uses %s, Switchboard takes RTP/AVP", ErrNotAcceptable, i, p)
			}
			continue
		}
		s, err := readStream(sd, md)
		if err != nil {
			return nil, Media{}, fmt.Errorf("audio stream %d: %w", i, err)
		}
		if m, err = s.choose(l, l.Encodings); err != nil {
			if whyNot == nil {
				whyNot = err
			}
			continue
		}
		if s.addr.IsMulticast() {
			if whyNot == nil {
				whyNot = fmt.Errorf("%w: audio stream %d goes to %v, not a unicast address", ErrNotAcceptable, i, s.addr)
			}
			continue
		}
		m.RecvEventPT = m.EventPT
		chosen = i
		break
	}
	if chosen < 0 {
		if whyNot == nil {
			whyNot = fmt.Errorf("%w: no audio stream", ErrNotAcceptable)
		}
		return nil, Media{}, whyNot
	}

	ans := session(l)
	for i, md := range sd.MediaDescriptions {
		if i != chosen {
			ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
			continue
		}
		formats := []format{{pt: m.PT, name: m.Encoding.String(), rate: ClockRate}}
		if m.EventPT != 0 {
			formats = append(formats, format{pt: m.EventPT, name: "telephone-event", rate: ClockRate})
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, audio(l.Port, proto(md), formats, m.Direction))
	}
	b, err := ans.Marshal()
	if err != nil {
		return nil, Media{}, fmt.Errorf("%w: answer: %v", ErrMalformed, err)
	}
	return b, m, nil
}

// ParseAnswer reads the peer's answer to Offer(l). The answer must have
// the offer's one audio m= line; its first format that is one of l's
// encodings is the encoding, and its telephone-event/8000, if any, the
// event payload type. It fails with ErrMalformed for an answer that is not
// SDP or does not match the offer, and with ErrNotAcceptable when the peer
// rejected the stream (port 0) or chose nothing Switchboard offered.
func ParseAnswer(answer []byte, l Local) (Media, error) {
	l, err := l.normalize()
	if err != nil {
		return Media{}, err
	}
	sd, err := parse(answer)
	if err != nil {
		return Media{}, err
	}
	if n := len(sd.MediaDescriptions); n != 1 {
		return Media{}, fmt.Errorf("%w: the answer has %d m= lines, the offer had 1", ErrMalformed, n)
	}
	md := sd.MediaDescriptions[0]
	if md.MediaName.Media != "audio" || proto(md) != "RTP/AVP" {
		return Media{}, fmt.Errorf("%w: the answer's stream is %s %s, the offer's audio RTP/AVP", ErrMalformed, md.MediaName.Media, proto(md))
	}
	if md.MediaName.Port.Value == 0 {
		return Media{}, fmt.Errorf("%w: the peer rejected the audio stream", ErrNotAcceptable)
	}
	s, err := readStream(sd, md)
	if err != nil {
		return Media{}, err
	}
	m, err := s.choose(l, l.Encodings)
	if err != nil {
		return Media{}, err
	}
	if s.addr.IsMulticast() {
		return Media{}, fmt.Errorf("%w: the answer's stream goes to %v, not a unicast address", ErrNotAcceptable, s.addr)
	}
	if m.EventPT != 0 {
		m.RecvEventPT = l.EventPT
	}
	return m, nil
}

// parse unmarshals b, refusing what is too long or not version 0.
func parse(b []byte) (*pion.SessionDescription, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxSize)
	}
	var sd pion.SessionDescription
	if err := sd.UnmarshalString(string(b)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case sd.Version != 0:
		return nil, fmt.Errorf("%w: version %d", ErrMalformed, sd.Version)
	case len(sd.TimeDescriptions) == 0:
		// pion accepts a description cut short after any line; t= is the
		// last of the mandatory ones (RFC 4566 §5).
		return nil, fmt.Errorf("%w: no t= line", ErrMalformed)
	}
	return &sd, nil
}

// format is one payload format of a stream; name is "" when neither an
// rtpmap nor the static table names it.
type format struct {
	pt   uint8
	name string
	rate int
}

func (f format) String() string {
	if f.name == "" {
		return strconv.Itoa(int(f.pt))
	}
	return fmt.Sprintf("%d %s/%d", f.pt, f.name, f.rate)
}

// stream is an audio m= line as the negotiation sees it.
type stream struct {
	addr    netip.Addr // c=, media level over session level
	port    int
	formats []format // in the line's order
	dir     Direction
	ptime   time.Duration
}

// readStream reads an RTP audio m= line of sd.
func readStream(sd *pion.SessionDescription, md *pion.MediaDescription) (*stream, error) {
	s := &stream{port: md.MediaName.Port.Value, dir: SendRecv}
	if s.port < 1 || s.port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrMalformed, s.port)
	}
	c := md.ConnectionInformation
	if c == nil {
		c = sd.ConnectionInformation
	}
	addr, err := connAddr(c)
	if err != nil {
		return nil, err
	}
	s.addr = addr

	names := map[uint8]format{
		0: {pt: 0, name: "PCMU", rate: ClockRate},
		8: {pt: 8, name: "PCMA", rate: ClockRate},
	}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		if f, ok := parseRtpmap(a.Value); ok {
			names[f.pt] = f
		}
	}
	for _, tok := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(tok, 10, 8)
		if err != nil || pt > 127 {
			return nil, fmt.Errorf("%w: payload type %q", ErrMalformed, tok)
		}
		f, ok := names[uint8(pt)]
		if !ok {
			f = format{pt: uint8(pt)}
		}
		s.formats = append(s.formats, f)
	}
	if len(s.formats) == 0 {
		return nil, fmt.Errorf("%w: m= line without formats", ErrMalformed)
	}
	s.dir = direction(md.Attributes, direction(sd.Attributes, SendRecv))
	if v, ok := md.Attribute("ptime"); ok {
		if ms, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16); err == nil && ms > 0 {
			s.ptime = time.Duration(ms) * time.Millisecond
		}
	}
	return s, nil
}

// choose picks the stream's first format that is one of encs, and its
// telephone-event/8000, and works out Switchboard's direction.
func (s *stream) choose(l Local, encs []Encoding) (Media, error) {
	m := Media{Remote: netip.AddrPortFrom(s.addr, uint16(s.port)), PTime: s.ptime}
	for _, f := range s.formats {
		if f.rate != ClockRate {
			continue
		}
		if strings.EqualFold(f.name, "telephone-event") {
			if m.EventPT == 0 {
				m.EventPT = f.pt
			}
			continue
		}
		if e, err := ParseEncoding(f.name); err == nil && m.Encoding == EncodingUnknown && slices.Contains(encs, e) {
			m.Encoding, m.PT = e, f.pt
		}
	}
	if m.Encoding == EncodingUnknown {
		offered := make([]string, len(s.formats))
		for i, f := range s.formats {
			offered[i] = f.String()
		}
		return Media{}, &NoCommonCodecError{Offered: offered, Wanted: slices.Clone(encs)}
	}
	// The peer cannot receive at an unspecified address (RFC 3264 §8.4,
	// the old hold), whatever its direction says.
	peerRecv := s.dir.Receives() && !s.addr.IsUnspecified()
	m.Direction = directionOf(l.Direction.Sends() && peerRecv, l.Direction.Receives() && s.dir.Sends())
	return m, nil
}

// parseRtpmap reads "96 telephone-event/8000" or "0 PCMU/8000/1".
func parseRtpmap(v string) (format, bool) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return format{}, false
	}
	pt, err := strconv.ParseUint(ptStr, 10, 8)
	if err != nil || pt > 127 {
		return format{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || parts[0] == "" {
		return format{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return format{}, false
	}
	return format{pt: uint8(pt), name: parts[0], rate: int(rate)}, true
}

// connAddr reads a c= line's address. A host name, which SDP allows, is
// ErrNotAcceptable: Switchboard does not resolve names a peer sends.
func connAddr(c *pion.ConnectionInformation) (netip.Addr, error) {
	if c == nil || c.Address == nil {
		return netip.Addr{}, fmt.Errorf("%w: no c= line for the audio stream", ErrMalformed)
	}
	if c.NetworkType != "IN" {
		return netip.Addr{}, fmt.Errorf("%w: network type %q", ErrNotAcceptable, c.NetworkType)
	}
	a, err := netip.ParseAddr(c.Address.Address)
	switch {
	case err != nil && (c.AddressType == "IP4" || c.AddressType == "IP6"):
		return netip.Addr{}, fmt.Errorf("%w: c= address %q is not an IP address", ErrNotAcceptable, c.Address.Address)
	case err != nil:
		return netip.Addr{}, fmt.Errorf("%w: address type %q", ErrNotAcceptable, c.AddressType)
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("%w: c= address %q has a zone", ErrMalformed, c.Address.Address)
	case c.AddressType == "IP4" && !a.Is4(), c.AddressType == "IP6" && !a.Is6():
		return netip.Addr{}, fmt.Errorf("%w: c= address %s is not %s", ErrMalformed, a, c.AddressType)
	case c.AddressType != "IP4" && c.AddressType != "IP6":
		return netip.Addr{}, fmt.Errorf("%w: address type %q", ErrNotAcceptable, c.AddressType)
	}
	return a, nil
}

// direction returns the direction attribute among attrs, or def.
func direction(attrs []pion.Attribute, def Direction) Direction {
	for _, a := range attrs {
		if d, err := ParseDirection(a.Key); err == nil {
			return d
		}
	}
	return def
}

func proto(md *pion.MediaDescription) string { return strings.Join(md.MediaName.Protos, "/") }

// session returns the session-level part of Switchboard's descriptions.
func session(l Local) *pion.SessionDescription {
	nettype := "IP4"
	if l.Addr.Is6() {
		nettype = "IP6"
	}
	addr := l.Addr.String()
	return &pion.SessionDescription{
		Origin: pion.Origin{
			Username: "-", SessionID: l.SessionID, SessionVersion: l.Version,
			NetworkType: "IN", AddressType: nettype, UnicastAddress: addr,
		},
		SessionName: sessionName,
		ConnectionInformation: &pion.ConnectionInformation{
			NetworkType: "IN", AddressType: nettype, Address: &pion.Address{Address: addr},
		},
		TimeDescriptions: []pion.TimeDescription{{}},
	}
}

// audio returns Switchboard's audio m= line.
func audio(port int, proto string, formats []format, dir Direction) *pion.MediaDescription {
	md := &pion.MediaDescription{MediaName: pion.MediaName{
		Media: "audio", Port: pion.RangedPort{Value: port}, Protos: strings.Split(proto, "/"),
	}}
	for _, f := range formats {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(f.pt)))
		md.Attributes = append(md.Attributes, pion.NewAttribute("rtpmap", fmt.Sprintf("%d %s/%d", f.pt, f.name, f.rate)))
		if f.name == "telephone-event" {
			md.Attributes = append(md.Attributes, pion.NewAttribute("fmtp", fmt.Sprintf("%d %s", f.pt, eventList)))
		}
	}
	md.Attributes = append(md.Attributes,
		pion.NewAttribute("ptime", strconv.Itoa(int(PTime/time.Millisecond))),
		pion.NewPropertyAttribute(dir.String()))
	return md
}

// rejected answers an m= line Switchboard does not take (RFC 3264 §6):
// port 0, the same media, protocol and formats.
func rejected(md *pion.MediaDescription) *pion.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &pion.MediaDescription{MediaName: pion.MediaName{
		Media: md.MediaName.Media, Port: pion.RangedPort{Value: 0},
		Protos: md.MediaName.Protos, Formats: slices.Clone(formats),
	}}
}
