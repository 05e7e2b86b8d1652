package load

import (
	"encoding/binary"
	"math"
	"time"
)

// The prompt media mode serves: 16-bit PCM, mono, at the media engine's
// own rate, so that the server spends nothing on resampling it and the
// benchmark measures the engine rather than the decoder.
const (
	promptRate = 16000
	promptHz   = 440 // not a DTMF frequency, so no detector can take it for a key
	promptPeak = 0.25
)

// toneWAV returns a WAV file of d of a promptHz sine at promptPeak of full
// scale, rounded down to whole samples.
func toneWAV(d time.Duration) []byte {
	n := int(d * promptRate / time.Second)
	const header = 44
	b := make([]byte, header+2*n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(header-8+2*n))
	copy(b[8:], "WAVE")
	copy(b[12:], "fmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)           // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)            // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)            // mono
	binary.LittleEndian.PutUint32(b[24:], promptRate)   // samples per second
	binary.LittleEndian.PutUint32(b[28:], promptRate*2) // bytes per second
	binary.LittleEndian.PutUint16(b[32:], 2)            // bytes per frame
	binary.LittleEndian.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	w := 2 * math.Pi * promptHz / promptRate
	for i := range n {
		s := int16(math.Round(promptPeak * math.MaxInt16 * math.Sin(w*float64(i))))
		binary.LittleEndian.PutUint16(b[header+2*i:], uint16(s))
	}
	return b
}
