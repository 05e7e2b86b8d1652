package sdp

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pion "github.com/pion/sdp/v3"
)

var local = Local{Addr: netip.MustParseAddr("203.0.113.5"), Port: 40000, SessionID: 7, Version: 1}

// sdpLines joins lines with CRLF, the way SIP peers send SDP.
func sdpLines(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

// offerFrom is a peer's offer with the usual session part and the given
// media part.
func offerFrom(media ...string) []byte {
	return sdpLines(append([]string{"v=0", "o=user1 53655765 2353687637 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0"}, media...)...)
}

func TestOfferText(t *testing.T) {
	tests := []struct {
		name string
		l    Local
		want []string
	}{
		{"defaults", local, []string{
			"v=0", "o=- 7 1 IN IP4 203.0.113.5", "s=switchboard", "c=IN IP4 203.0.113.5", "t=0 0",
			"m=audio 40000 RTP/AVP 0 8 101",
			"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv",
		}},
		{"hold, PCMA only, event PT 96, IPv6", Local{
			Addr: netip.MustParseAddr("2001:db8::5"), Port: 5004, Encodings: []Encoding{PCMA},
			EventPT: 96, Direction: SendOnly, SessionID: 9, Version: 3,
		}, []string{
			"v=0", "o=- 9 3 IN IP6 2001:db8::5", "s=switchboard", "c=IN IP6 2001:db8::5", "t=0 0",
			"m=audio 5004 RTP/AVP 8 96",
			"a=rtpmap:8 PCMA/8000", "a=rtpmap:96 telephone-event/8000",
			"a=fmtp:96 0-15", "a=ptime:20", "a=sendonly",
		}},
		{"IPv4-mapped address is written as IPv4", Local{Addr: netip.MustParseAddr("::ffff:198.51.100.1"), Port: 2}, []string{
			"v=0", "o=- 0 0 IN IP4 198.51.100.1", "s=switchboard", "c=IN IP4 198.51.100.1", "t=0 0",
			"m=audio 2 RTP/AVP 0 8 101",
			"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Offer(tt.l)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(b), string(sdpLines(tt.want...)); got != want {
				t.Fatalf("offer:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLocalInvalid(t *testing.T) {
	for name, l := range map[string]Local{
		"no address":          {Port: 1},
		"unspecified address": {Addr: netip.IPv4Unspecified(), Port: 1},
		"multicast address":   {Addr: netip.MustParseAddr("224.0.0.1"), Port: 1},
		"port 0":              {Addr: local.Addr},
		"port 65536":          {Addr: local.Addr, Port: 65536},
		"static event PT":     {Addr: local.Addr, Port: 1, EventPT: 8},
		"no encodings":        {Addr: local.Addr, Port: 1, Encodings: []Encoding{}},
		"unknown encoding":    {Addr: local.Addr, Port: 1, Encodings: []Encoding{EncodingUnknown}},
		"repeated encoding":   {Addr: local.Addr, Port: 1, Encodings: []Encoding{PCMU, PCMU}},
		"bad direction":       {Addr: local.Addr, Port: 1, Direction: Inactive + 1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Offer(l); !errors.Is(err, ErrInvalid) {
				t.Errorf("Offer: %v, want ErrInvalid", err)
			}
			if _, _, err := Answer(offerFrom("m=audio 6000 RTP/AVP 0"), l); !errors.Is(err, ErrInvalid) {
				t.Errorf("Answer: %v, want ErrInvalid", err)
			}
			if _, err := ParseAnswer(offerFrom("m=audio 6000 RTP/AVP 0"), l); !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseAnswer: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestAnswerNegotiates(t *testing.T) {
	peer := netip.MustParseAddrPort("192.0.2.10:6000")
	tests := []struct {
		name  string
		l     Local
		offer []byte
		want  Media
	}{
		{"PCMU first, event 101", local, offerFrom("m=audio 6000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000"),
			Media{Remote: peer, Encoding: PCMU, PT: 0, EventPT: 101, RecvEventPT: 101, Direction: SendRecv}},
		{"offer's order wins over ours", local, offerFrom("m=audio 6000 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000"),
			Media{Remote: peer, Encoding: PCMA, PT: 8, EventPT: 96, RecvEventPT: 96, Direction: SendRecv}},
		{"unknown codecs skipped", local, offerFrom("m=audio 6000 RTP/AVP 18 9 0 110", "a=rtpmap:18 G729/8000", "a=rtpmap:110 telephone-event/8000"),
			Media{Remote: peer, Encoding: PCMU, PT: 0, EventPT: 110, RecvEventPT: 110, Direction: SendRecv}},
		{"only our encodings count", Local{Addr: local.Addr, Port: 1, Encodings: []Encoding{PCMA}}, offerFrom("m=audio 6000 RTP/AVP 0 8"),
			Media{Remote: peer, Encoding: PCMA, PT: 8, Direction: SendRecv}},
		{"dynamic PT for PCMU, lower case", local, offerFrom("m=audio 6000 RTP/AVP 97", "a=rtpmap:97 pcmu/8000"),
			Media{Remote: peer, Encoding: PCMU, PT: 97, Direction: SendRecv}},
		{"rtpmap renames a static PT", local, offerFrom("m=audio 6000 RTP/AVP 0 8", "a=rtpmap:0 PCMA/8000"),
			Media{Remote: peer, Encoding: PCMA, PT: 0, Direction: SendRecv}},
		{"telephone-event at 8 kHz only", local, offerFrom("m=audio 6000 RTP/AVP 111 0 100 101", "a=rtpmap:111 opus/48000/2",
			"a=rtpmap:100 telephone-event/48000", "a=rtpmap:101 telephone-event/8000"),
			Media{Remote: peer, Encoding: PCMU, PT: 0, EventPT: 101, RecvEventPT: 101, Direction: SendRecv}},
		{"ptime", local, offerFrom("m=audio 6000 RTP/AVP 0", "a=ptime:30"),
			Media{Remote: peer, Encoding: PCMU, Direction: SendRecv, PTime: 30 * time.Millisecond}},
		{"media c= over session c=", local, offerFrom("m=audio 6000 RTP/AVP 0", "c=IN IP4 198.51.100.7"),
			Media{Remote: netip.MustParseAddrPort("198.51.100.7:6000"), Encoding: PCMU, Direction: SendRecv}},
		{"RTP/AVPF", local, offerFrom("m=audio 6000 RTP/AVPF 0"),
			Media{Remote: peer, Encoding: PCMU, Direction: SendRecv}},
		{"LF line ends", local, []byte("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 6000 RTP/AVP 0\n"),
			Media{Remote: peer, Encoding: PCMU, Direction: SendRecv}},
		{"IPv6", local, sdpLines("v=0", "o=- 1 1 IN IP6 2001:db8::10", "s=-", "c=IN IP6 2001:db8::10", "t=0 0", "m=audio 6000 RTP/AVP 8"),
			Media{Remote: netip.MustParseAddrPort("[2001:db8::10]:6000"), Encoding: PCMA, PT: 8, Direction: SendRecv}},
		{"second audio stream when the first is SRTP", local, offerFrom("m=audio 5000 RTP/SAVP 0", "m=audio 6000 RTP/AVP 0"),
			Media{Remote: peer, Encoding: PCMU, Direction: SendRecv}},
		{"disabled stream skipped", local, offerFrom("m=audio 0 RTP/AVP 0", "m=audio 6000 RTP/AVP 8"),
			Media{Remote: peer, Encoding: PCMA, PT: 8, Direction: SendRecv}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, m, err := Answer(tt.offer, tt.l)
			if err != nil {
				t.Fatal(err)
			}
			if m != tt.want {
				t.Fatalf("media %+v\nwant %+v", m, tt.want)
			}
			checkAnswer(t, tt.offer, ans, m, tt.l)
		})
	}
}

// checkAnswer checks an answer's shape against its offer: one m= line per
// offered one, in order, all rejected with port 0 but the accepted audio,
// which lists exactly the chosen encoding and events with the offer's
// numbers and says Switchboard's direction.
func checkAnswer(t *testing.T, offer, answer []byte, m Media, l Local) {
	t.Helper()
	var o, a pion.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		t.Fatal(err)
	}
	if err := a.Unmarshal(answer); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, answer)
	}
	if len(a.MediaDescriptions) != len(o.MediaDescriptions) {
		t.Fatalf("answer has %d m= lines, offer %d:\n%s", len(a.MediaDescriptions), len(o.MediaDescriptions), answer)
	}
	accepted := 0
	for i, md := range a.MediaDescriptions {
		om := o.MediaDescriptions[i]
		if md.MediaName.Media != om.MediaName.Media || proto(md) != proto(om) {
			t.Errorf("m= line %d is %s %s, offered %s %s", i, md.MediaName.Media, proto(md), om.MediaName.Media, proto(om))
		}
		if md.MediaName.Port.Value == 0 {
			continue
		}
		accepted++
		if md.MediaName.Port.Value != l.Port {
			t.Errorf("port %d, want %d", md.MediaName.Port.Value, l.Port)
		}
		want := []string{itoa(m.PT)}
		if m.EventPT != 0 {
			want = append(want, itoa(m.EventPT))
		}
		if !slices.Equal(md.MediaName.Formats, want) {
			t.Errorf("formats %v, want %v", md.MediaName.Formats, want)
		}
		if d := direction(md.Attributes, DirectionUnknown); d != m.Direction {
			t.Errorf("answer says %v, media %v", d, m.Direction)
		}
	}
	if accepted != 1 {
		t.Errorf("%d streams accepted:\n%s", accepted, answer)
	}
}

func itoa(pt uint8) string { return strconv.Itoa(int(pt)) }

func TestAnswerRejectsOtherStreams(t *testing.T) {
	offer := offerFrom("m=video 5000 RTP/AVP 31", "m=audio 5002 RTP/SAVP 0", "m=audio 6000 RTP/AVP 0 101",
		"a=rtpmap:101 telephone-event/8000", "m=audio 7000 RTP/AVP 0", "m=application 9 UDP/BFCP *")
	ans, m, err := Answer(offer, local)
	if err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, offer, ans, m, local)
	for _, line := range []string{"m=video 0 RTP/AVP 31", "m=audio 0 RTP/SAVP 0", "m=audio 40000 RTP/AVP 0 101", "m=audio 0 RTP/AVP 0", "m=application 0 UDP/BFCP *"} {
		if !strings.Contains(string(ans), line+"\r\n") {
			t.Errorf("answer lacks %q:\n%s", line, ans)
		}
	}
	if m.Remote.Port() != 6000 {
		t.Errorf("remote %v, want port 6000", m.Remote)
	}
}

func TestAnswerDirection(t *testing.T) {
	tests := []struct {
		name    string
		local   Direction
		session []string // extra session-level lines
		media   []string // extra media-level lines
		want    Direction
	}{
		{"none means sendrecv", SendRecv, nil, nil, SendRecv},
		{"held by the peer", SendRecv, nil, []string{"a=sendonly"}, RecvOnly},
		{"peer only listens", SendRecv, nil, []string{"a=recvonly"}, SendOnly},
		{"inactive", SendRecv, nil, []string{"a=inactive"}, Inactive},
		{"session level", SendRecv, []string{"a=sendonly"}, nil, RecvOnly},
		{"media level over session level", SendRecv, []string{"a=inactive"}, []string{"a=sendrecv"}, SendRecv},
		{"we hold", SendOnly, nil, nil, SendOnly},
		{"we hold a peer that holds", SendOnly, nil, []string{"a=sendonly"}, Inactive},
		{"we are inactive", Inactive, nil, nil, Inactive},
		{"we only listen", RecvOnly, nil, []string{"a=sendrecv"}, RecvOnly},
		{"old hold: c=0.0.0.0", SendRecv, nil, []string{"c=IN IP4 0.0.0.0"}, RecvOnly},
		{"old hold, inactive", SendRecv, nil, []string{"c=IN IP4 0.0.0.0", "a=recvonly"}, Inactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0"}
			lines = append(lines, tt.session...)
			lines = append(lines, "m=audio 6000 RTP/AVP 0")
			lines = append(lines, tt.media...)
			offer := sdpLines(lines...)
			l := local
			l.Direction = tt.local
			ans, m, err := Answer(offer, l)
			if err != nil {
				t.Fatal(err)
			}
			if m.Direction != tt.want {
				t.Fatalf("direction %v, want %v", m.Direction, tt.want)
			}
			checkAnswer(t, offer, ans, m, l)
		})
	}
}

func TestAnswerRefuses(t *testing.T) {
	tests := []struct {
		name  string
		offer []byte
		want  error
	}{
		{"empty", nil, ErrMalformed},
		{"cut short", sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-"), ErrMalformed},
		{"no formats", offerFrom("m=audio 6000 RTP/AVP"), ErrMalformed},
		{"not SDP", []byte("INVITE sip:bob@example.com SIP/2.0\r\n"), ErrMalformed},
		{"version 1", sdpLines("v=1", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0", "m=audio 6000 RTP/AVP 0"), ErrMalformed},
		{"too long", append(offerFrom("m=audio 6000 RTP/AVP 0"), []byte(strings.Repeat("a=x\r\n", MaxSize/5))...), ErrMalformed},
		{"no c=", sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "t=0 0", "m=audio 6000 RTP/AVP 0"), ErrMalformed},
		{"payload type not a number", offerFrom("m=audio 6000 RTP/AVP PCMU"), ErrMalformed},
		{"payload type over 127", offerFrom("m=audio 6000 RTP/AVP 128"), ErrMalformed},
		{"IP4 with an IPv6 address", sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 2001:db8::1", "t=0 0", "m=audio 6000 RTP/AVP 0"), ErrMalformed},
		{"no audio", offerFrom("m=video 5000 RTP/AVP 31"), ErrNotAcceptable},
		{"SRTP only", offerFrom("m=audio 5000 RTP/SAVP 0"), ErrNotAcceptable},
		{"host name", sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 pbx.example.com", "t=0 0", "m=audio 6000 RTP/AVP 0"), ErrNotAcceptable},
		{"multicast", sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 224.2.1.1/127", "t=0 0", "m=audio 6000 RTP/AVP 0"), ErrNotAcceptable},
		{"no common codec", offerFrom("m=audio 6000 RTP/AVP 111 18 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"), ErrNotAcceptable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, _, err := Answer(tt.offer, local)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if ans != nil {
				t.Fatalf("answer %q with an error", ans)
			}
		})
	}
}

func TestNoCommonCodecError(t *testing.T) {
	_, _, err := Answer(offerFrom("m=audio 6000 RTP/AVP 111 18 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"), local)
	var nc *NoCommonCodecError
	if !errors.As(err, &nc) {
		t.Fatalf("err %v is not a *NoCommonCodecError", err)
	}
	if want := []string{"111 opus/48000", "18", "101 telephone-event/8000"}; !slices.Equal(nc.Offered, want) {
		t.Errorf("Offered %q, want %q", nc.Offered, want)
	}
	if !slices.Equal(nc.Wanted, []Encoding{PCMU, PCMA}) {
		t.Errorf("Wanted %v", nc.Wanted)
	}
	if msg := err.Error(); !strings.Contains(msg, "111 opus/48000") || !strings.Contains(msg, "PCMU or PCMA") {
		t.Errorf("message %q does not say what was offered and wanted", msg)
	}
}

// TestOfferAnswerRoundTrip runs both sides of a negotiation: Switchboard's
// offer answered by Switchboard, then the answer read back by the offerer.
func TestOfferAnswerRoundTrip(t *testing.T) {
	caller := Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000, EventPT: 101, Direction: SendOnly}
	callee := Local{Addr: netip.MustParseAddr("192.0.2.2"), Port: 5000, Encodings: []Encoding{PCMA, PCMU}}
	offer, err := Offer(caller)
	if err != nil {
		t.Fatal(err)
	}
	ans, got, err := Answer(offer, callee)
	if err != nil {
		t.Fatal(err)
	}
	want := Media{Remote: netip.MustParseAddrPort("192.0.2.1:4000"), Encoding: PCMU, EventPT: 101, RecvEventPT: 101, Direction: RecvOnly, PTime: PTime}
	if got != want {
		t.Fatalf("callee media %+v\nwant %+v", got, want)
	}
	back, err := ParseAnswer(ans, caller)
	if err != nil {
		t.Fatal(err)
	}
	want = Media{Remote: netip.MustParseAddrPort("192.0.2.2:5000"), Encoding: PCMU, EventPT: 101, RecvEventPT: 101, Direction: SendOnly, PTime: PTime}
	if back != want {
		t.Fatalf("caller media %+v\nwant %+v", back, want)
	}
}

func TestParseAnswer(t *testing.T) {
	answer := func(media ...string) []byte {
		return sdpLines(append([]string{"v=0", "o=bob 1 1 IN IP4 192.0.2.20", "s=-", "c=IN IP4 192.0.2.20", "t=0 0"}, media...)...)
	}
	peer := netip.MustParseAddrPort("192.0.2.20:7000")
	tests := []struct {
		name   string
		answer []byte
		want   Media
		err    error
	}{
		{"PCMU and events", answer("m=audio 7000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"),
			Media{Remote: peer, Encoding: PCMU, EventPT: 101, RecvEventPT: 101, Direction: SendRecv}, nil},
		{"answer's order", answer("m=audio 7000 RTP/AVP 8 0"),
			Media{Remote: peer, Encoding: PCMA, PT: 8, Direction: SendRecv}, nil},
		{"renumbered events", answer("m=audio 7000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000"),
			Media{Remote: peer, Encoding: PCMU, EventPT: 96, RecvEventPT: 101, Direction: SendRecv}, nil},
		{"peer holds us", answer("m=audio 7000 RTP/AVP 0", "a=sendonly"),
			Media{Remote: peer, Encoding: PCMU, Direction: RecvOnly}, nil},
		{"rejected", answer("m=audio 0 RTP/AVP 0"), Media{}, ErrNotAcceptable},
		{"codec not offered", answer("m=audio 7000 RTP/AVP 18"), Media{}, ErrNotAcceptable},
		{"two streams", answer("m=audio 7000 RTP/AVP 0", "m=video 0 RTP/AVP 31"), Media{}, ErrMalformed},
		{"no streams", answer(), Media{}, ErrMalformed},
		{"video instead", answer("m=video 7000 RTP/AVP 0"), Media{}, ErrMalformed},
		{"SRTP instead", answer("m=audio 7000 RTP/SAVP 0"), Media{}, ErrMalformed},
		{"garbage", []byte("\x00\x01"), Media{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseAnswer(tt.answer, local)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if m != tt.want {
				t.Fatalf("media %+v\nwant %+v", m, tt.want)
			}
		})
	}
}

func TestEnumsRoundTrip(t *testing.T) {
	for _, d := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		back, err := ParseDirection(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDirection(%q) = %v, %v", d.String(), back, err)
		}
	}
	if _, err := ParseDirection(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseDirection(\"\"): %v", err)
	}
	for _, e := range []Encoding{PCMU, PCMA} {
		back, err := ParseEncoding(e.String())
		if err != nil || back != e {
			t.Errorf("ParseEncoding(%q) = %v, %v", e.String(), back, err)
		}
	}
	if _, err := ParseEncoding("G729"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseEncoding(G729): %v", err)
	}
	if PCMU.StaticPT() != 0 || PCMA.StaticPT() != 8 {
		t.Error("static payload types")
	}
}
