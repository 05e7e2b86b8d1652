package mediastream

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// The messages of protocol switchboard.media.v1 (docs/media-streams.md).
// Text messages are JSON objects with an "event"; binary messages are
// audio.

// HeaderSize is the size of the header of an audio message to the bot:
// the track (uint16, big-endian; 0 is the mix), two reserved bytes, and
// the frame's sequence number (uint32, big-endian), then the samples,
// 16-bit signed little-endian.
const HeaderSize = 8

// MixTrack is the track of the mix of everyone but the bot.
const MixTrack = 0

// MaxMessageBytes bounds a message from the bot (a larger one closes the
// connection with 1009).
const MaxMessageBytes = 64 << 10

// Participant is a participant as the stream names it.
type Participant struct {
	ID       string             `json:"id"`
	Track    int                `json:"track"`
	Identity *model.IdentitySet `json:"identity,omitempty"`
	Muted    bool               `json:"muted"`
}

// Format is the stream's audio format.
type Format struct {
	Encoding   string `json:"encoding"` // "L16": 16-bit signed little-endian PCM
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
	FrameMs    int    `json:"frameMs"`
}

// Event is a message to the bot. Sequence numbers the stream's events as
// they are sent, from 1, across reconnections: a gap means events were
// lost (with a connection that failed while they were being sent).
type Event struct {
	Event    string `json:"event"`
	Sequence int64  `json:"sequence"`
	// Frame is the sequence number of the audio frame at which the event
	// happened (the last frame the stream had heard), to place it on the
	// audio's timeline.
	Frame uint32 `json:"frame"`
	// start
	Protocol     string         `json:"protocol,omitempty"`
	CallID       string         `json:"callId,omitempty"`
	StreamID     string         `json:"streamId,omitempty"`
	Format       *Format        `json:"format,omitempty"`
	Unmixed      *bool          `json:"unmixed,omitempty"`
	Resumed      *bool          `json:"resumed,omitempty"`
	Participants *[]Participant `json:"participants,omitempty"` // start: always, [] when nobody else is in the call
	// participantJoined, participantLeft, participantMuted, participantUnmuted
	Participant *Participant `json:"participant,omitempty"`
	// dtmf, dominantSpeaker
	ParticipantID string `json:"participantId,omitempty"`
	Digit         string `json:"digit,omitempty"`
	// mark
	Name string `json:"name,omitempty"`
	// mark (cleared before it played), stop
	Cleared *bool  `json:"cleared,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// error
	Message string `json:"message,omitempty"`
}

// Command is a text message from the bot.
type Command struct {
	Event string `json:"event"`
	Name  string `json:"name,omitempty"` // mark
}

// Commands the bot may send.
const (
	CmdClear  = "clear"
	CmdMark   = "mark"
	CmdMute   = "mute"
	CmdUnmute = "unmute"
)

// MaxMarkName bounds a mark's name.
const MaxMarkName = 256

// ParseCommand reads a text message from the bot.
func ParseCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return Command{}, fmt.Errorf("a text message must be a JSON object with an \"event\": %v", err)
	}
	switch c.Event {
	case CmdClear, CmdMute, CmdUnmute:
	case CmdMark:
		if c.Name == "" || len(c.Name) > MaxMarkName {
			return Command{}, fmt.Errorf("a mark needs a \"name\" of 1 to %d bytes", MaxMarkName)
		}
	case "":
		return Command{}, errors.New("the message has no \"event\"")
	default:
		return Command{}, fmt.Errorf("unknown event %q: send clear, mark, mute or unmute, or audio as a binary message", c.Event)
	}
	return c, nil
}

// ErrOddAudio is ParseAudio's error for a message that does not hold
// whole samples.
var ErrOddAudio = errors.New("an audio message must hold whole 16-bit samples (an even number of bytes)")

// ParseAudio reads a binary message from the bot: 16-bit signed
// little-endian samples at the stream's rate, no header, appended to dst.
func ParseAudio(dst []int16, b []byte) ([]int16, error) {
	if len(b)%2 != 0 {
		return dst, ErrOddAudio
	}
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst, nil
}

// AppendAudio appends an audio message to the bot: the header of track and
// frame sequence seq, then samples.
func AppendAudio(dst []byte, track uint16, seq uint32, samples []int16) []byte {
	dst = binary.BigEndian.AppendUint16(dst, track)
	dst = append(dst, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	for _, s := range samples {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(s))
	}
	return dst
}

// AudioHeader reads the header of an audio message to the bot (for
// clients and tests).
func AudioHeader(b []byte) (track uint16, seq uint32, samples []byte, err error) {
	if len(b) < HeaderSize || (len(b)-HeaderSize)%2 != 0 {
		return 0, 0, nil, fmt.Errorf("an audio message is %d header bytes and whole samples; got %d bytes", HeaderSize, len(b))
	}
	return binary.BigEndian.Uint16(b), binary.BigEndian.Uint32(b[4:]), b[HeaderSize:], nil
}
