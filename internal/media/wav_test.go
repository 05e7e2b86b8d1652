package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// wavSpec describes a WAV file for the test encoder.
type wavSpec struct {
	tag        uint16 // wavPCM, wavFloat, wavALaw, wavMuLaw
	bits       int
	channels   int
	rate       int
	extensible bool
	listFirst  bool   // a LIST chunk (odd-sized) before fmt
	junkAfter  bool   // an odd-sized chunk between fmt and data
	streaming  bool   // data size 0xFFFFFFFF
	dataSize   *int64 // overrides the data chunk's size field
}

// makeWAV encodes per-channel samples (full scale ±1) in the given format.
func makeWAV(s wavSpec, ch [][]float64) []byte {
	le := binary.LittleEndian
	var data []byte
	for i := range ch[0] {
		for c := range s.channels {
			v := ch[c%len(ch)][i]
			switch {
			case s.tag == wavPCM && s.bits == 8:
				data = append(data, byte(clampF(math.Round(v*128)+128, 0, 255)))
			case s.tag == wavPCM && s.bits == 16:
				data = le.AppendUint16(data, uint16(int16(clampF(math.Round(v*32768), -32768, 32767))))
			case s.tag == wavPCM && s.bits == 24:
				x := int32(clampF(math.Round(v*(1<<23)), -(1 << 23), 1<<23-1))
				data = append(data, byte(x), byte(x>>8), byte(x>>16))
			case s.tag == wavPCM && s.bits == 32:
				data = le.AppendUint32(data, uint32(int32(clampF(math.Round(v*(1<<31)), -(1<<31), 1<<31-1))))
			case s.tag == wavFloat && s.bits == 32:
				data = le.AppendUint32(data, math.Float32bits(float32(v)))
			case s.tag == wavFloat && s.bits == 64:
				data = le.AppendUint64(data, math.Float64bits(v))
			case s.tag == wavMuLaw:
				data = append(data, ulawEncode(int16(clampF(math.Round(v*32768), -32768, 32767))))
			case s.tag == wavALaw:
				data = append(data, alawEncode(int16(clampF(math.Round(v*32768), -32768, 32767))))
			}
		}
	}
	var fmtc []byte
	block := s.channels * s.bits / 8
	tag := s.tag
	if s.extensible {
		tag = wavExtensible
	}
	fmtc = le.AppendUint16(fmtc, tag)
	fmtc = le.AppendUint16(fmtc, uint16(s.channels))
	fmtc = le.AppendUint32(fmtc, uint32(s.rate))
	fmtc = le.AppendUint32(fmtc, uint32(s.rate*block))
	fmtc = le.AppendUint16(fmtc, uint16(block))
	fmtc = le.AppendUint16(fmtc, uint16(s.bits))
	if s.extensible {
		fmtc = le.AppendUint16(fmtc, 22)
		fmtc = le.AppendUint16(fmtc, uint16(s.bits))
		fmtc = le.AppendUint32(fmtc, 0)
		fmtc = le.AppendUint16(fmtc, s.tag)
		fmtc = append(fmtc, ksSubtypeTail...)
	}
	var b []byte
	chunk := func(id string, body []byte, size int64) {
		b = append(b, id...)
		b = le.AppendUint32(b, uint32(size))
		b = append(b, body...)
		if len(body)%2 == 1 {
			b = append(b, 0)
		}
	}
	b = append(b, "RIFF\x00\x00\x00\x00WAVE"...)
	if s.listFirst {
		chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00"), 17)
	}
	chunk("fmt ", fmtc, int64(len(fmtc)))
	if s.junkAfter {
		chunk("junk", []byte{1, 2, 3}, 3)
	}
	size := int64(len(data))
	switch {
	case s.dataSize != nil:
		size = *s.dataSize
	case s.streaming:
		size = unknownSize
	}
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(size))
	b = append(b, data...)
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func clampF(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// G.711 encoders (the Sun reference algorithm), for the tests only.
func ulawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func alawEncode(s int16) byte {
	v := int(s) >> 3
	mask := 0xD5
	if v < 0 {
		mask, v = 0x55, -v-1
	}
	seg := 0
	for end := 0x1F; v > end && seg < 8; end = end<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	aval := seg << 4
	if seg < 2 {
		aval |= (v >> 1) & 0x0F
	} else {
		aval |= (v >> seg) & 0x0F
	}
	return byte(aval ^ mask)
}

func floats(a Audio) []float64 {
	out := make([]float64, len(a.Samples))
	for i, s := range a.Samples {
		out[i] = float64(s) / 32768
	}
	return out
}

func TestWAVRoundTrip(t *testing.T) {
	a := speech(newRand(5), 2*time.Second, -12)
	a.Samples = append(a.Samples, math.MaxInt16, math.MinInt16, 0, -1)
	var buf bytes.Buffer
	if err := EncodeWAV(&buf, a); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(a.Samples) {
		t.Fatalf("encoded %d bytes", buf.Len())
	}
	got, err := DecodeWAV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !equalSamples(got.Samples, a.Samples) {
		t.Fatal("16 kHz 16-bit mono does not round-trip exactly")
	}
}

func equalSamples(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDecodeWAVFormats encodes the same 16 kHz clip in every supported
// format and checks what comes back, within each format's precision.
func TestDecodeWAVFormats(t *testing.T) {
	src := speech(newRand(6), time.Second, -14)
	ref := floats(src)
	inverted := make([]float64, len(ref)) // a second channel that cancels out unless averaged correctly
	for i, v := range ref {
		inverted[i] = v * 0.5
	}
	cases := []struct {
		spec  wavSpec
		chans [][]float64
		want  []float64
		tolDB float64 // error power relative to the signal
	}{
		{wavSpec{tag: wavPCM, bits: 8, channels: 1}, [][]float64{ref}, ref, -30},
		{wavSpec{tag: wavPCM, bits: 16, channels: 1}, [][]float64{ref}, ref, -200},
		{wavSpec{tag: wavPCM, bits: 24, channels: 1}, [][]float64{ref}, ref, -80},
		{wavSpec{tag: wavPCM, bits: 32, channels: 1}, [][]float64{ref}, ref, -80},
		{wavSpec{tag: wavFloat, bits: 32, channels: 1}, [][]float64{ref}, ref, -80},
		{wavSpec{tag: wavFloat, bits: 64, channels: 1}, [][]float64{ref}, ref, -80},
		{wavSpec{tag: wavMuLaw, bits: 8, channels: 1}, [][]float64{ref}, ref, -30},
		{wavSpec{tag: wavALaw, bits: 8, channels: 1}, [][]float64{ref}, ref, -30},
		{wavSpec{tag: wavPCM, bits: 16, channels: 2}, [][]float64{ref, inverted}, scaled(ref, 0.75), -80},
		{wavSpec{tag: wavPCM, bits: 24, channels: 6, extensible: true}, [][]float64{ref}, ref, -80},
		{wavSpec{tag: wavFloat, bits: 32, channels: 2, extensible: true}, [][]float64{ref, inverted}, scaled(ref, 0.75), -80},
		{wavSpec{tag: wavPCM, bits: 16, channels: 1, listFirst: true, junkAfter: true}, [][]float64{ref}, ref, -200},
		{wavSpec{tag: wavPCM, bits: 16, channels: 1, streaming: true}, [][]float64{ref}, ref, -200},
	}
	for _, c := range cases {
		c.spec.rate = SampleRate
		name := fmt.Sprintf("%s/%dbit/%dch/ext=%v/list=%v/stream=%v", formatName(c.spec.tag), c.spec.bits, c.spec.channels,
			c.spec.extensible, c.spec.listFirst, c.spec.streaming)
		t.Run(name, func(t *testing.T) {
			got, err := DecodeWAV(bytes.NewReader(makeWAV(c.spec, c.chans)))
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Samples) != len(c.want) {
				t.Fatalf("%d samples, want %d", len(got.Samples), len(c.want))
			}
			if e := errorDB(floats(got), c.want); e > c.tolDB {
				t.Fatalf("error %.1f dB, want <= %.1f dB", e, c.tolDB)
			}
		})
	}
}

func scaled(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * k
	}
	return out
}

// errorDB is the power of got-want relative to want's, in dB.
func errorDB(got, want []float64) float64 {
	var e, s float64
	for i := range want {
		d := got[i] - want[i]
		e += d * d
		s += want[i] * want[i]
	}
	if e == 0 {
		return -300
	}
	return 10 * math.Log10(e/s)
}

// TestDecodeWAVRates: a 1 kHz tone at every common rate comes out at
// 16 kHz with its frequency, level and length.
func TestDecodeWAVRates(t *testing.T) {
	for _, rate := range []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			n := rate / 2 // 500 ms
			tone := make([]float64, n)
			for i := range tone {
				tone[i] = 0.5 * math.Sin(2*math.Pi*1000*float64(i)/float64(rate))
			}
			got, err := DecodeWAV(bytes.NewReader(makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: rate}, [][]float64{tone})))
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Samples) != SampleRate/2 {
				t.Fatalf("%d samples, want %d", len(got.Samples), SampleRate/2)
			}
			checkTone(t, got.Samples[1000:len(got.Samples)-1000], 1000, 20*math.Log10(0.5/math.Sqrt2))
		})
	}
}

// checkTone checks that s is a sine of freq Hz at level dBFS.
func checkTone(t *testing.T, s []int16, freq, level float64) {
	t.Helper()
	if l := Level(s); math.Abs(l-level) > 0.1 {
		t.Errorf("level %.2f dBFS, want %.2f", l, level)
	}
	if l := Goertzel(s, freq); math.Abs(l-level) > 0.1 {
		t.Errorf("level at %v Hz %.2f dBFS, want %.2f", freq, l, level)
	}
	crossings := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			crossings++
		}
	}
	f := float64(crossings) / 2 / (float64(len(s)) / SampleRate)
	if math.Abs(f-freq) > freq*0.002 {
		t.Errorf("frequency %.1f Hz by zero crossings, want %v", f, freq)
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	ok := func(s wavSpec) []byte {
		s.rate = cmpOr(s.rate, SampleRate)
		return makeWAV(s, [][]float64{floats(Tone(440, 100*time.Millisecond, -10))})
	}
	pcm16 := ok(wavSpec{tag: wavPCM, bits: 16, channels: 1})
	patch := func(b []byte, off int, v ...byte) []byte {
		c := bytes.Clone(b)
		copy(c[off:], v)
		return c
	}
	long := int64(11*60*SampleRate) * 2
	cases := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrNotWAV, "shorter than a RIFF header"},
		{"text", []byte("hello, this is not audio"), ErrNotWAV, "signature"},
		{"RIFX", patch(pcm16, 0, 'R', 'I', 'F', 'X'), ErrUnsupportedWAV, "RIFX"},
		{"AVI", patch(pcm16, 8, 'A', 'V', 'I', ' '), ErrNotWAV, "signature"},
		{"header only", pcm16[:12], ErrMalformedWAV, "no fmt chunk"},
		{"no data", pcm16[:36], ErrMalformedWAV, "no data chunk"},
		{"truncated chunk header", pcm16[:40], ErrMalformedWAV, "truncated chunk header"},
		{"data before fmt", append([]byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"), pcm16[12:]...), ErrMalformedWAV, "before fmt"},
		{"short fmt", patch(pcm16, 16, 8), ErrMalformedWAV, "fmt chunk of 8 bytes"},
		{"ADPCM", patch(pcm16, 20, 2), ErrUnsupportedWAV, "MS ADPCM"},
		{"MP3", patch(pcm16, 20, 0x55), ErrUnsupportedWAV, "MPEG"},
		{"12-bit", patch(pcm16, 34, 12), ErrUnsupportedWAV, "12-bit integer PCM"},
		{"no channels", patch(pcm16, 22, 0), ErrUnsupportedWAV, "0 channels"},
		{"64 channels", patch(pcm16, 22, 64), ErrUnsupportedWAV, "64 channels"},
		{"rate 1000", patch(pcm16, 24, 0xE8, 0x03, 0, 0), ErrUnsupportedWAV, "1000 Hz"},
		{"bad block align", patch(pcm16, 32, 4), ErrMalformedWAV, "block align 4"},
		{"truncated data", pcm16[:len(pcm16)-100], ErrMalformedWAV, "data chunk truncated"},
		{"truncated LIST", ok(wavSpec{tag: wavPCM, bits: 16, channels: 1, listFirst: true})[:20], ErrMalformedWAV, `truncated "LIST" chunk`},
		{"11 minutes declared", ok(wavSpec{tag: wavPCM, bits: 16, channels: 1, dataSize: &long}), ErrTooLong, "longer than 10m0s"},
		{"huge LIST", patch(pcm16, 12, 'L', 'I', 'S', 'T', 0xF0, 0xFF, 0xFF, 0x7F), ErrTooLong, "larger than"},
		{"extensible too short", patch(ok(wavSpec{tag: wavPCM, bits: 16, channels: 1}), 20, 0xFE, 0xFF), ErrMalformedWAV, "shorter than 40"},
		{"extensible odd GUID", patch(ok(wavSpec{tag: wavPCM, bits: 16, channels: 1, extensible: true}), 20+26, 0x42), ErrUnsupportedWAV, "GUID"},
		{"extensible valid bits", patch(ok(wavSpec{tag: wavPCM, bits: 16, channels: 1, extensible: true}), 20+18, 24), ErrMalformedWAV, "24 valid bits"},
		{"extensible ADPCM", patch(ok(wavSpec{tag: wavPCM, bits: 16, channels: 1, extensible: true}), 20+24, 2), ErrUnsupportedWAV, "ADPCM"},
		{"two fmt", append(bytes.Clone(pcm16[:36]), pcm16[12:]...), ErrMalformedWAV, "two fmt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeWAV(bytes.NewReader(c.in))
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, c.want, c.msg)
			}
		})
	}
}

func cmpOr(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// TestDecodeWAVStreamingTooLong: a file without a data size is cut off at
// the limit instead of being read forever.
func TestDecodeWAVStreamingTooLong(t *testing.T) {
	const limit = 10 * time.Second // the logic of MaxAudioDuration, without decoding 10 minutes
	for _, rate := range []int{8000, 44100} {
		hdr := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: rate, streaming: true}, [][]float64{nil})
		body := make([]byte, 4*rate*11)
		_, err := decodeWAV(bytes.NewReader(append(hdr, body...)), limit)
		if !errors.Is(err, ErrTooLong) {
			t.Fatalf("%d Hz: err = %v, want ErrTooLong", rate, err)
		}
		got, err := decodeWAV(bytes.NewReader(append(hdr, body[:4*rate*10]...)), limit)
		if err != nil || got.Duration() != limit {
			t.Fatalf("%d Hz, exactly the limit: %v, %v", rate, got.Duration(), err)
		}
	}
}

func TestEncodeWAVRefusesTooLong(t *testing.T) {
	a := Audio{Samples: make([]int16, DurationSamples(MaxAudioDuration)+1)}
	if err := EncodeWAV(&bytes.Buffer{}, a); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v", err)
	}
}
