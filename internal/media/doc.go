// Package media is Switchboard's audio engine: the service-hosted media that
// Graph's playPrompt, recordResponse, subscribeToTone, sendDtmfTones and
// cancelMediaProcessing act on, and the mixer of group calls.
//
// All audio is 16 kHz mono signed 16-bit PCM in 20 ms frames (Frame, 320
// samples). DecodeWAV brings prompts into that format (any common PCM,
// float or G.711 WAV, down-mixed and resampled with a Kaiser-windowed sinc)
// and EncodeWAV writes recordings out of it.
//
// Engine owns rooms, one per conversation. A room's members are
// application legs, which the engine itself drives (player queue, recorder,
// tone subscription, tone sender), and Endpoints (SimPerson here; SIP and
// WebRTC legs elsewhere), which send and receive frames. One timer of the
// injected clock drives every room: each 20 ms, in every awake room, every
// member speaks a frame, every member hears the N−1 mix of the others, and
// DTMF keys, in-band (Goertzel, DTMFDetector) or out of band, are
// attributed to the member that sent them. A room in which nothing plays,
// records, sends tones or speaks sleeps and costs nothing per frame (see
// Sleeper); a late clock is caught up in order, and a stall beyond
// MaxCatchUp stops media time rather than cutting audio (see MaxCatchUp).
// NewManual makes an engine that only moves when Step says, for tests that
// listen to audio on a machine that may be busy. Results go to Events from the engine's goroutine. Engine does
// not know Graph ids or JSON: the calls service maps a conversation to a
// room, a call to a leg, an operation to an opID, and Events back to
// notifications.
//
// The DSP pieces are usable on their own: DTMFDetector and DTMF, VAD,
// Mixer, Resampler, Tone and Beep, Level and Goertzel, and Locate for tests
// that check a prompt reached a SimPerson.
//
// The package imports only the standard library and internal/clock; it must
// not import calls, store or any network package.
package media
