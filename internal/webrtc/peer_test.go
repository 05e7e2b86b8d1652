package webrtc

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
)

// connect runs a "browser" peer that offers and a server peer that answers,
// both on loopback, and waits until the browser's packets reach the
// server. The network is real: every wait is bounded.
func connect(t *testing.T) (browser, server *Peer) {
	t.Helper()
	api, err := NewAPI(Config{Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	browser, offer, err := api.Offer(t.Context(), "browser")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(browser.Close)
	server, answer, err := api.Answer(t.Context(), "participant-1", offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Close)
	if err := browser.Accept(answer); err != nil {
		t.Fatal(err)
	}
	// Until DTLS is up the browser's packets go nowhere: send silence
	// until the server has some.
	waitFor(t, "the first packets", func() bool {
		browser.Leg.Hear(&media.Frame{})
		return server.Leg.Stats().Received > 0
	})
	return browser, server
}

// waitFor polls ok every 20 ms (a packet's time) for up to 20 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// What the browser says reaches the server's leg as it was said, after
// PCMU both ways and the 8↔16 kHz conversions; and what the server's leg
// hears reaches the browser.
func TestAudioBothWays(t *testing.T) {
	for _, dir := range []string{"browser to server", "server to browser"} {
		t.Run(dir, func(t *testing.T) {
			browser, server := connect(t)
			from, to := browser, server
			if dir == "server to browser" {
				from, to = server, browser
			}
			// Drain the silence that came before, then speak a second of voice.
			for range 10 {
				to.Leg.Speak(&media.Frame{})
			}
			in := media.Speechlike(time.Second)
			// Paced as the engine paces it: one frame out, then one in once
			// its packet arrived.
			var out []int16
			for i := range in.Frames() + 4 {
				var f media.Frame
				if i < in.Frames() {
					copy(f[:], in.Samples[i*media.FrameSamples:])
				} else {
					f = media.Frame{}
				}
				before := to.Leg.Stats().Received
				from.Leg.Hear(&f)
				waitFor(t, "a packet", func() bool { return to.Leg.Stats().Received > before })
				var g media.Frame
				to.Leg.Speak(&g)
				out = append(out, g[:]...)
			}
			off, score := media.Locate(media.Audio{Samples: out}, media.Audio{Samples: in.Samples[:len(in.Samples)-4*media.FrameSamples]})
			t.Logf("correlation %.3f at offset %d", score, off)
			if score < 0.9 {
				t.Fatalf("correlation %.3f at offset %d: want the voice to come through", score, off)
			}
		})
	}
}

// A key the browser presses (RFC 4733, at the negotiated payload type)
// reaches the server's leg as a key.
func TestKeysFromTheBrowser(t *testing.T) {
	browser, server := connect(t)
	if err := browser.Leg.SendDigits("5#"); err != nil {
		t.Fatal(err)
	}
	var keys []rune
	waitFor(t, "the keys", func() bool {
		browser.Leg.Hear(&media.Frame{})
		var f media.Frame
		if _, k := server.Leg.Speak(&f); k != 0 {
			keys = append(keys, k)
		}
		return len(keys) == 2
	})
	if string(keys) != "5#" {
		t.Fatalf("keys %q, want 5#", string(keys))
	}
}

// An offer the server cannot use is ErrBadOffer, and leaves nothing open.
func TestBadOffers(t *testing.T) {
	api, err := NewAPI(Config{Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, offer := range []string{"", "v=0\r\nnot sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"} {
		if _, _, err := api.Answer(t.Context(), "p", offer); !errors.Is(err, ErrBadOffer) {
			t.Errorf("offer %q: %v, want ErrBadOffer", offer, err)
		}
	}
}
