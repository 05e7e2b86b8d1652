// Package rtpmedia is the media plane of a SIP leg: RTP with G.711 audio
// and RFC 4733 telephone events, brought into the media engine's rooms as
// a media.Endpoint.
//
// Leg is the packet logic, with no socket and no timer of its own: the
// engine's 20 ms tick drives it (Speak plays one frame out of the jitter
// buffer, Hear sends one packet of what the leg hears), Receive takes
// packets from anywhere, and a Writer sends them. So a test feeds packets
// and pulls frames, with no network and no clock. The leg:
//   - converts between the engine's 16 kHz and G.711's 8 kHz with
//     media.Resampler, and encodes and decodes µ-law and A-law;
//   - reorders arriving packets in a small jitter buffer keyed by sequence
//     number (DefaultJitterDepth packets deep), drops late and duplicate
//     ones, and plays silence in place of a lost one;
//   - latches the peer's address from its first valid packet when told to
//     (symmetric RTP, for phones behind NAT) and drops packets from any
//     other address;
//   - turns RFC 4733 events, with whatever payload type was negotiated,
//     into key presses that Speak reports to the engine once each (the
//     engine's out-of-band key path: media.Endpoint.Speak's key), and
//     sends keys as events (SendDigits). In-band DTMF needs nothing: the
//     engine's detector hears the decoded audio;
//   - calls a function when no RTP came for a while (Config.Timeout, on an
//     injected clock; Watchdog).
//
// Socket is the UDP side: it reads datagrams on a goroutine into a
// Receiver (the Leg) and is the Leg's Writer. Ports hands out Sockets on the
// even ports of a configured range, skipping ports in use.
//
// What a leg does not do yet: RTCP (the odd port is neither bound nor
// answered), SRTP, comfort noise (RFC 3389 packets are dropped as an
// unknown payload type), and codecs other than G.711.
//
// The package imports the media engine's types and the SDP negotiation's
// (internal/media, internal/sdp), pion/rtp and zaf/g711; it must not import
// calls, the SIP signalling or the store.
package rtpmedia
