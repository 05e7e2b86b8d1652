package sdp

import (
	"errors"
	"testing"
)

// FuzzParse feeds any input to both entry points that read a peer's SDP,
// Answer (as an offer) and ParseAnswer (as an answer to our offer). Neither
// may panic or fail outside ErrMalformed and ErrNotAcceptable, and what
// they accept must make sense: a known encoding, a port to send to, and an
// answer that parses and has the offer's shape.
func FuzzParse(f *testing.F) {
	ours, err := Offer(local)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		ours,
		offerFrom("m=audio 6000 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-16", "a=ptime:20"),
		offerFrom("m=video 5000 RTP/AVP 31", "m=audio 5002 RTP/SAVP 0", "m=audio 6000 RTP/AVPF 0 101",
			"a=rtpmap:101 telephone-event/8000", "m=application 9 UDP/BFCP *"),
		offerFrom("m=audio 6000 RTP/AVP 111 0 100 101", "c=IN IP4 0.0.0.0", "a=rtpmap:111 opus/48000/2",
			"a=rtpmap:100 telephone-event/48000", "a=rtpmap:101 telephone-event/8000", "a=sendonly"),
		sdpLines("v=0", "o=- 1 1 IN IP6 2001:db8::10", "s=-", "c=IN IP6 2001:db8::10", "t=0 0", "a=inactive", "m=audio 6000 RTP/AVP 97", "a=rtpmap:97 pcmu/8000"),
		sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 pbx.example.com", "t=0 0", "m=audio 6000/2 RTP/AVP 0"),
		[]byte("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nt=0 0\nm=audio 6000 RTP/AVP 0\nc=IN IP4 224.2.1.1/127/3\n"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ans, m, err := Answer(b, local)
		if err != nil {
			checkErr(t, "Answer", err)
		} else {
			checkMedia(t, "Answer", m)
			checkAnswer(t, b, ans, m, local)
		}
		m, err = ParseAnswer(b, local)
		if err != nil {
			checkErr(t, "ParseAnswer", err)
		} else {
			checkMedia(t, "ParseAnswer", m)
		}
	})
}

func checkErr(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotAcceptable) {
		t.Fatalf("%s: error outside the documented set: %v", what, err)
	}
}

func checkMedia(t *testing.T, what string, m Media) {
	t.Helper()
	if m.Encoding != PCMU && m.Encoding != PCMA || m.PT > 127 || m.EventPT > 127 || m.RecvEventPT > 127 ||
		!m.Remote.IsValid() || m.Remote.Port() == 0 || m.Remote.Addr().IsMulticast() ||
		m.Direction < SendRecv || m.Direction > Inactive || m.PTime < 0 {
		t.Fatalf("%s accepted nonsense: %+v", what, m)
	}
	if m.Remote.Addr().IsUnspecified() && m.Direction.Sends() {
		t.Fatalf("%s sends to %v", what, m.Remote)
	}
}
