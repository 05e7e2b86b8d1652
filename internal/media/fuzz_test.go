package media

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeWAV checks that no input panics DecodeWAV or makes it return
// an error outside its documented set, and that whatever it accepts
// survives EncodeWAV and DecodeWAV unchanged. The seeds in
// testdata/fuzz/FuzzDecodeWAV cover every format, the chunk layouts and
// the broken files of TestDecodeWAVErrors.
func FuzzDecodeWAV(f *testing.F) {
	f.Add(wavBytes(Tone(440, FrameDuration, -6)))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrMalformedWAV) &&
				!errors.Is(err, ErrUnsupportedWAV) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("error outside the documented set: %v", err)
			}
			return
		}
		if a.Duration() > MaxAudioDuration {
			t.Fatalf("accepted %v of audio", a.Duration())
		}
		var buf bytes.Buffer
		if err := EncodeWAV(&buf, a); err != nil {
			t.Fatal(err)
		}
		back, err := DecodeWAV(&buf)
		if err != nil || !equalSamples(back.Samples, a.Samples) {
			t.Fatalf("re-encoded audio does not decode back: %v", err)
		}
	})
}
