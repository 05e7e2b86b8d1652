package mediastream

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Protocol is the WebSocket subprotocol of the media stream, and the
// version the start message names.
const Protocol = "switchboard.media.v1"

// Sample rates a stream may use; the engine runs at 16 kHz.
const DefaultSampleRate = 16000

var sampleRates = map[int]bool{8000: true, 16000: true, 48000: true}

// Settings are what a bot asks of its call's stream, in the blob of its
// appHostedMediaConfig:
//
//	{"switchboard": {"url": "wss://bot.example/media", "sampleRate": 16000, "unmixed": true}}
//
// Every field is optional.
type Settings struct {
	// URL, when set, is where Switchboard connects (wss://, or ws:// in
	// development mode). Empty: the bot connects to the call's media
	// endpoint, /switchboard/v1/calls/{id}/media, with its bearer token.
	URL string `json:"url,omitempty"`
	// SampleRate of the audio both ways: 8000, 16000 (default) or 48000.
	SampleRate int `json:"sampleRate,omitempty"`
	// Unmixed adds each participant's own audio, labelled, to the mix.
	Unmixed bool `json:"unmixed,omitempty"`
}

// ParseBlob reads the settings from an appHostedMediaConfig blob. A blob
// that is not Switchboard's JSON (Graph's media platform writes its own,
// opaque one) gives the defaults and a note saying so, for the logs: the
// call works, with the bot connecting to the call's media endpoint. A blob
// that is Switchboard's but asks for something impossible is an error,
// whose text names the field, for a 400.
func ParseBlob(s string, dev bool) (Settings, string, error) {
	var b map[string]json.RawMessage
	var raw json.RawMessage
	if json.Unmarshal([]byte(s), &b) == nil {
		raw = b["switchboard"]
	}
	if raw == nil || string(raw) == "null" {
		return Settings{SampleRate: DefaultSampleRate}, "the appHostedMediaConfig blob is not Switchboard's media settings " +
			`({"switchboard":{...}}, docs/media-streams.md); the call's audio is streamed at its media endpoint with the defaults`, nil
	}
	// Switchboard's settings: a mistake in them is the bot's to fix.
	var set Settings
	if err := json.Unmarshal(raw, &set); err != nil {
		return Settings{}, "", fmt.Errorf("switchboard: not the media settings object (url, sampleRate, unmixed): %v", err)
	}
	if set.SampleRate == 0 {
		set.SampleRate = DefaultSampleRate
	}
	if !sampleRates[set.SampleRate] {
		return Settings{}, "", fmt.Errorf("switchboard.sampleRate: %d is not one of 8000, 16000 and 48000", set.SampleRate)
	}
	if set.URL != "" {
		u, err := url.Parse(set.URL)
		switch {
		case err != nil || u.Host == "":
			return Settings{}, "", fmt.Errorf("switchboard.url: %q is not an absolute ws:// or wss:// URL", set.URL)
		case strings.EqualFold(u.Scheme, "wss"):
		case strings.EqualFold(u.Scheme, "ws") && dev:
		case strings.EqualFold(u.Scheme, "ws"):
			return Settings{}, "", fmt.Errorf("switchboard.url: ws:// is allowed only in development mode; use wss://")
		default:
			return Settings{}, "", fmt.Errorf("switchboard.url: the scheme must be wss (or ws in development mode), not %q", u.Scheme)
		}
	}
	return set, "", nil
}
