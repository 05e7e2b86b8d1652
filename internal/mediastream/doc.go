// Package mediastream is app-hosted media for bots in any language: a
// call created or answered with appHostedMediaConfig gets a Stream, the
// bot's participant in the conversation's audio (a media.Tap), carried to
// the bot over one WebSocket at a time (protocol switchboard.media.v1,
// docs/media-streams.md): the mix of everyone else and, on request, each
// participant's own audio, DTMF with who pressed it, participants joining,
// leaving and muting, the dominant speaker, and stop; from the bot, its
// voice (paced by the engine, buffered up to MaxVoice), clear, mark, mute.
//
// The Manager observes the calls domain's commits (calls.
// ConversationObserver) to start and end streams, serves the bots that
// connect to their call's media endpoint, and dials the bots whose blob
// names a URL. The engine never waits for a bot: every queue toward a bot
// is bounded and drops what does not fit, counted in Metrics.
//
// It imports media (the engine's interfaces and audio), calls (the
// conversation it observes) and auth (the principal a connection
// presents); nothing imports it but internal/app.
package mediastream
