// Package sdp negotiates the audio of a SIP call: the SDP offer/answer
// model (RFC 3264) for one G.711 audio stream with RFC 4733 telephone
// events, as Switchboard's SIP legs use it.
//
// Offer builds the offer Switchboard sends in an INVITE: PCMU (0), PCMA (8)
// and telephone-event/8000 at a dynamic payload type (DefaultEventPT unless
// Local says otherwise), 20 ms packets, a direction, and the address and
// port written into c= and m= (the public address when behind NAT).
// ParseAnswer reads the peer's answer to that offer. Answer answers a
// peer's offer: it takes the first of our encodings in the order the offer
// lists them, keeps the offer's payload type numbers (telephone-event at
// 96, 101 or anything else), and rejects every other m= line with port 0,
// as RFC 3264 requires.
//
// Each returns a Media: where to send RTP, the encoding and payload types
// to use, and the direction (hold is a direction: sendonly, recvonly or
// inactive, and the pre-RFC 3264 c=0.0.0.0).
//
// Errors: input that is not SDP, or SDP that breaks the rules the
// negotiation relies on, fails with ErrMalformed (a SIP 400); SDP that is
// fine but offers nothing Switchboard can use (no audio, no common codec,
// SRTP only, a multicast or host-name address) fails with ErrNotAcceptable
// (a SIP 488), and with a *NoCommonCodecError when the codecs are the
// reason. No input panics; descriptions over MaxSize are refused unread.
//
// The package parses with pion/sdp and imports nothing of Switchboard: no
// SIP, no sockets, no media engine.
package sdp
