package sdp

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrMalformed: the input is not SDP, or breaks a rule the negotiation
	// relies on (no c= line for the stream, an answer whose m= lines do not
	// match the offer). A SIP stack answers 400.
	ErrMalformed = errors.New("sdp: malformed session description")
	// ErrNotAcceptable: well-formed SDP that offers nothing Switchboard can
	// use. A SIP stack answers 488 Not Acceptable Here.
	ErrNotAcceptable = errors.New("sdp: nothing acceptable in the session description")
	// ErrInvalid: a Local that cannot be described (no address, no port,
	// an event payload type outside the dynamic range). A configuration or
	// programming error, not the peer's.
	ErrInvalid = errors.New("sdp: invalid local description")
)

// NoCommonCodecError is the ErrNotAcceptable of an audio stream whose
// formats include none of ours.
type NoCommonCodecError struct {
	// Offered lists the stream's formats in its order, each as its payload
	// type and, when known, its name and clock rate: "18 G729/8000".
	Offered []string
	// Wanted lists our encodings, in our order of preference.
	Wanted []Encoding
}

func (e *NoCommonCodecError) Error() string {
	want := make([]string, len(e.Wanted))
	for i, w := range e.Wanted {
		want[i] = w.String()
	}
	return fmt.Sprintf("sdp: no common codec: the audio stream offers [%s], Switchboard takes %s",
		strings.Join(e.Offered, ", "), strings.Join(want, " or "))
}

// Unwrap makes errors.Is(err, ErrNotAcceptable) hold.
func (e *NoCommonCodecError) Unwrap() error { return ErrNotAcceptable }

// Encoding is an audio encoding of a SIP leg: G.711 µ-law or A-law, 8 kHz.
// The zero value is EncodingUnknown.
type Encoding uint8

// Encodings.
const (
	EncodingUnknown Encoding = iota
	PCMU                     // G.711 µ-law, static payload type 0
	PCMA                     // G.711 A-law, static payload type 8
)

// String returns the encoding's SDP name, "PCMU" or "PCMA".
func (e Encoding) String() string {
	switch e {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// ParseEncoding is the inverse of String; SDP encoding names are
// case-insensitive, so "pcmu" works too.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToUpper(s) {
	case "PCMU":
		return PCMU, nil
	case "PCMA":
		return PCMA, nil
	}
	return EncodingUnknown, fmt.Errorf("%w: encoding %q", ErrInvalid, s)
}

// StaticPT returns the encoding's static RTP payload type (RFC 3551): 0 for
// PCMU, 8 for PCMA.
func (e Encoding) StaticPT() uint8 {
	if e == PCMA {
		return 8
	}
	return 0
}

// ClockRate is the RTP clock rate of G.711 and of the telephone events
// Switchboard negotiates.
const ClockRate = 8000

// Direction is a media direction attribute (RFC 3264 §5.1), from the point
// of view of the side that wrote it or, in a Media, of Switchboard. Hold is
// a direction: the holder offers SendOnly (or Inactive) and is answered
// RecvOnly (or Inactive). The zero value is DirectionUnknown.
type Direction uint8

// Directions.
const (
	DirectionUnknown Direction = iota
	SendRecv
	SendOnly
	RecvOnly
	Inactive
)

var directionNames = [...]string{
	DirectionUnknown: "",
	SendRecv:         "sendrecv",
	SendOnly:         "sendonly",
	RecvOnly:         "recvonly",
	Inactive:         "inactive",
}

// String returns the SDP attribute name, such as "sendonly" ("" for
// DirectionUnknown).
func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// ParseDirection is the inverse of String for the four directions.
func ParseDirection(s string) (Direction, error) {
	for i, n := range directionNames {
		if n == s && i != int(DirectionUnknown) {
			return Direction(i), nil
		}
	}
	return DirectionUnknown, fmt.Errorf("%w: direction %q", ErrInvalid, s)
}

// Sends reports whether the side whose direction this is sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side whose direction this is receives
// media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// directionOf is the direction of a side that sends and receives as told.
func directionOf(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}
