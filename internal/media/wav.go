package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Errors of DecodeWAV. Each returned error wraps exactly one of them.
var (
	// ErrNotWAV: the input is not a RIFF/WAVE file.
	ErrNotWAV = errors.New("media: not a RIFF/WAVE file")
	// ErrMalformedWAV: the file is a WAV file but broken: truncated, chunks
	// missing or out of order, inconsistent header fields.
	ErrMalformedWAV = errors.New("media: malformed WAV file")
	// ErrUnsupportedWAV: a well-formed WAV file in an encoding this package
	// does not decode (ADPCM, MP3, RF64, big-endian RIFX, odd bit depths...).
	ErrUnsupportedWAV = errors.New("media: unsupported WAV encoding")
	// ErrTooLong: the audio is longer than MaxAudioDuration, or the file
	// larger than MaxWAVBytes.
	ErrTooLong = errors.New("media: audio too long")
)

// Bounds of DecodeWAV.
const (
	MaxAudioDuration = 10 * time.Minute
	MaxWAVBytes      = 256 << 20
	MaxChannels      = 32
)

const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavMuLaw      = 0x0007
	wavExtensible = 0xFFFE
	unknownSize   = 0xFFFFFFFF // the data size streaming writers put in the header
)

// The KSDATAFORMAT_SUBTYPE GUIDs of WAVE_FORMAT_EXTENSIBLE are the format tag
// followed by these 14 bytes.
var ksSubtypeTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

type wavFormat struct {
	tag        uint16 // after resolving WAVE_FORMAT_EXTENSIBLE
	channels   int
	rate       int
	blockAlign int
	bits       int // container bits per sample
}

// DecodeWAV reads a RIFF/WAVE file and returns it as 16 kHz mono audio.
//
// It decodes integer PCM of 8 (unsigned), 16, 24 and 32 bits, IEEE float of
// 32 and 64 bits and G.711 A-law and µ-law, in the plain or the
// WAVE_FORMAT_EXTENSIBLE format chunk, with any number of channels up to
// MaxChannels (averaged to mono) at any rate in [MinRate, MaxRate] (converted
// to 16 kHz by Resampler, a Kaiser-windowed sinc). Chunks other than "fmt "
// and "data" (LIST, fact, cue ...) are skipped, odd-sized chunks are padded
// as RIFF requires, and a data size of 0xFFFFFFFF (written by streaming
// encoders) means "up to the end of the input". Nothing after the data chunk
// is read.
//
// Input larger than MaxWAVBytes or audio longer than MaxAudioDuration is
// refused with ErrTooLong before it is read. Every error wraps ErrNotWAV,
// ErrMalformedWAV, ErrUnsupportedWAV or ErrTooLong, or is the reader's own
// error.
func DecodeWAV(r io.Reader) (Audio, error) {
	return decodeWAV(r, MaxAudioDuration)
}

// decodeWAV is DecodeWAV with a duration limit of whole seconds.
func decodeWAV(r io.Reader, maxDuration time.Duration) (Audio, error) {
	d := wavDecoder{r: r, maxDuration: maxDuration}
	var hdr [12]byte
	if err := d.full(hdr[:], "RIFF header"); err != nil {
		if errors.Is(err, ErrMalformedWAV) {
			return Audio{}, fmt.Errorf("%w: shorter than a RIFF header", ErrNotWAV)
		}
		return Audio{}, err
	}
	switch id := string(hdr[0:4]); {
	case id == "RIFX" || id == "RF64":
		return Audio{}, fmt.Errorf("%w: %s files are not supported", ErrUnsupportedWAV, id)
	case id != "RIFF" || string(hdr[8:12]) != "WAVE":
		return Audio{}, fmt.Errorf("%w: missing RIFF....WAVE signature", ErrNotWAV)
	}
	var f *wavFormat
	for {
		var ch [8]byte
		if err := d.full(ch[:], "chunk header"); err != nil {
			switch {
			case !d.eof:
				return Audio{}, err
			case f == nil:
				return Audio{}, fmt.Errorf("%w: no fmt chunk", ErrMalformedWAV)
			default:
				return Audio{}, fmt.Errorf("%w: no data chunk", ErrMalformedWAV)
			}
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if f != nil {
				return Audio{}, fmt.Errorf("%w: two fmt chunks", ErrMalformedWAV)
			}
			if size < 16 || size > 4096 {
				return Audio{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformedWAV, size)
			}
			b := make([]byte, size+size&1)
			if err := d.full(b, "fmt chunk"); err != nil {
				return Audio{}, err
			}
			var err error
			if f, err = parseFormat(b[:size]); err != nil {
				return Audio{}, err
			}
		case "data":
			if f == nil {
				return Audio{}, fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformedWAV)
			}
			return d.data(f, size)
		default:
			if err := d.skip(int64(size)+int64(size&1), id); err != nil {
				return Audio{}, err
			}
		}
	}
}

func parseFormat(b []byte) (*wavFormat, error) {
	le := binary.LittleEndian
	f := &wavFormat{
		tag:        le.Uint16(b[0:]),
		channels:   int(le.Uint16(b[2:])),
		rate:       int(le.Uint32(b[4:])),
		blockAlign: int(le.Uint16(b[12:])),
		bits:       int(le.Uint16(b[14:])),
	}
	if f.tag == wavExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes", ErrMalformedWAV)
		}
		if valid := int(le.Uint16(b[18:])); valid > f.bits {
			return nil, fmt.Errorf("%w: %d valid bits in a %d-bit container", ErrMalformedWAV, valid, f.bits)
		}
		if !bytes.Equal(b[26:40], ksSubtypeTail) {
			return nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID", ErrUnsupportedWAV)
		}
		f.tag = le.Uint16(b[24:])
	}
	switch {
	case f.channels < 1 || f.channels > MaxChannels:
		return nil, fmt.Errorf("%w: %d channels (1 to %d supported)", ErrUnsupportedWAV, f.channels, MaxChannels)
	case f.rate < MinRate || f.rate > MaxRate:
		return nil, fmt.Errorf("%w: sample rate %d Hz (%d to %d supported)", ErrUnsupportedWAV, f.rate, MinRate, MaxRate)
	}
	ok := false
	switch f.tag {
	case wavPCM:
		ok = f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32
	case wavFloat:
		ok = f.bits == 32 || f.bits == 64
	case wavALaw, wavMuLaw:
		ok = f.bits == 8
	default:
		return nil, fmt.Errorf("%w: format tag 0x%04x (%s)", ErrUnsupportedWAV, f.tag, formatName(f.tag))
	}
	if !ok {
		return nil, fmt.Errorf("%w: %d-bit %s", ErrUnsupportedWAV, f.bits, formatName(f.tag))
	}
	if f.blockAlign != f.channels*f.bits/8 {
		return nil, fmt.Errorf("%w: block align %d for %d channels of %d bits", ErrMalformedWAV, f.blockAlign, f.channels, f.bits)
	}
	return f, nil
}

func formatName(tag uint16) string {
	switch tag {
	case wavPCM:
		return "integer PCM"
	case wavFloat:
		return "IEEE float"
	case wavALaw:
		return "A-law"
	case wavMuLaw:
		return "µ-law"
	case 0x0002:
		return "MS ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10"
	case 0x0050, 0x0055:
		return "MPEG audio"
	}
	return "unknown"
}

// wavDecoder counts what it reads so that no file makes it read, skip or
// keep more than MaxWAVBytes.
type wavDecoder struct {
	r           io.Reader
	maxDuration time.Duration
	n           int64 // bytes consumed
	eof         bool  // the last read hit a clean end of input
}

func (d *wavDecoder) full(b []byte, what string) error {
	if d.n+int64(len(b)) > MaxWAVBytes {
		return fmt.Errorf("%w: file larger than %d bytes", ErrTooLong, MaxWAVBytes)
	}
	n, err := io.ReadFull(d.r, b)
	d.n += int64(n)
	switch {
	case err == io.EOF:
		d.eof = true
		return fmt.Errorf("%w: input ends before the %s", ErrMalformedWAV, what)
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: truncated %s", ErrMalformedWAV, what)
	}
	return err
}

func (d *wavDecoder) skip(n int64, id string) error {
	if d.n+n > MaxWAVBytes {
		return fmt.Errorf("%w: %q chunk of %d bytes makes the file larger than %d bytes", ErrTooLong, id, n, MaxWAVBytes)
	}
	got, err := io.CopyN(io.Discard, d.r, n)
	d.n += got
	if err == io.EOF {
		return fmt.Errorf("%w: truncated %q chunk (%d of %d bytes)", ErrMalformedWAV, id, got, n)
	}
	return err
}

// data decodes the data chunk: size bytes, or up to the end of the input.
func (d *wavDecoder) data(f *wavFormat, size uint32) (Audio, error) {
	maxFrames := int64(d.maxDuration/time.Second) * int64(f.rate)
	limit := min(maxFrames*int64(f.blockAlign), MaxWAVBytes-d.n)
	toEOF := size == unknownSize
	if !toEOF && int64(size) > limit {
		return Audio{}, fmt.Errorf("%w: %d bytes of %d-channel %d-bit %d Hz audio is longer than %v or larger than %d bytes",
			ErrTooLong, size, f.channels, f.bits, f.rate, d.maxDuration, MaxWAVBytes)
	}
	want := int64(size)
	if toEOF {
		want = limit + int64(f.blockAlign) // one block more tells "too long" from "exactly the limit"
	}
	var rs *Resampler
	if f.rate != SampleRate {
		var err error
		if rs, err = NewResampler(f.rate, SampleRate); err != nil {
			return Audio{}, fmt.Errorf("%w: %v", ErrUnsupportedWAV, err)
		}
	}
	block := max(1, 32768/f.blockAlign) * f.blockAlign
	raw := make([]byte, block)
	mono := make([]float32, 0, block/f.blockAlign)
	var res []float32
	out := make([]int16, 0, min(want/int64(f.blockAlign)*SampleRate/int64(f.rate)+1, 1<<16))
	var got int64
	for got < want {
		n, err := io.ReadFull(d.r, raw[:min(int64(block), want-got)])
		got += int64(n)
		d.n += int64(n)
		usable := n - n%f.blockAlign
		mono = decodeFrames(mono[:0], raw[:usable], f)
		if rs == nil {
			out = appendInt16(out, mono)
		} else {
			res = rs.Write(res[:0], mono)
			out = appendInt16(out, res)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if toEOF {
				break
			}
			return Audio{}, fmt.Errorf("%w: data chunk truncated (%d of %d bytes)", ErrMalformedWAV, got, size)
		}
		if err != nil {
			return Audio{}, err
		}
		if toEOF && got > limit {
			return Audio{}, fmt.Errorf("%w: more than %v of audio or %d bytes", ErrTooLong, d.maxDuration, MaxWAVBytes)
		}
	}
	if rs != nil {
		out = appendInt16(out, rs.Flush(res[:0]))
	}
	return Audio{Samples: out}, nil
}

// decodeFrames appends the mono mix of the whole sample frames in raw.
func decodeFrames(dst []float32, raw []byte, f *wavFormat) []float32 {
	n := len(raw) / f.blockAlign
	if n == 0 {
		return dst
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	out := dst[start:]
	clear(out)
	le := binary.LittleEndian
	ba, bps := f.blockAlign, f.bits/8
	for c := range f.channels {
		in := raw[c*bps:]
		switch {
		case f.tag == wavPCM && f.bits == 8:
			for i := range out {
				out[i] += (float32(in[i*ba]) - 128) / 128
			}
		case f.tag == wavPCM && f.bits == 16:
			for i := range out {
				out[i] += float32(int16(le.Uint16(in[i*ba:]))) / (1 << 15)
			}
		case f.tag == wavPCM && f.bits == 24:
			for i := range out {
				b := in[i*ba:]
				out[i] += float32(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)>>8) / (1 << 23)
			}
		case f.tag == wavPCM && f.bits == 32:
			for i := range out {
				out[i] += float32(float64(int32(le.Uint32(in[i*ba:]))) / (1 << 31))
			}
		case f.tag == wavFloat && f.bits == 32:
			for i := range out {
				out[i] += finite(float64(math.Float32frombits(le.Uint32(in[i*ba:]))))
			}
		case f.tag == wavFloat && f.bits == 64:
			for i := range out {
				out[i] += finite(math.Float64frombits(le.Uint64(in[i*ba:])))
			}
		case f.tag == wavALaw:
			for i := range out {
				out[i] += float32(alawDecode(in[i*ba])) / (1 << 15)
			}
		case f.tag == wavMuLaw:
			for i := range out {
				out[i] += float32(ulawDecode(in[i*ba])) / (1 << 15)
			}
		}
	}
	if f.channels > 1 {
		scale := 1 / float32(f.channels)
		for i := range out {
			out[i] *= scale
		}
	}
	return dst
}

// finite clamps float samples to [-1, 1] and silences NaNs.
func finite(v float64) float32 {
	switch {
	case v != v:
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return float32(v)
}

func appendInt16(dst []int16, src []float32) []int16 {
	for _, v := range src {
		dst = append(dst, clamp16(float64(v)*(1<<15)))
	}
	return dst
}

// ulawDecode and alawDecode are ITU-T G.711.
func ulawDecode(u byte) int16 {
	u = ^u
	t := (int32(u&0x0F) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alawDecode(a byte) int16 {
	a ^= 0x55
	t := int32(a&0x0F) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// EncodeWAV writes a as a canonical 44-byte-header RIFF/WAVE file: 16 kHz,
// 16-bit, mono PCM. Audio longer than MaxAudioDuration is refused with
// ErrTooLong (DecodeWAV would refuse the file).
func EncodeWAV(w io.Writer, a Audio) error {
	if a.Duration() > MaxAudioDuration {
		return fmt.Errorf("%w: %v of audio", ErrTooLong, a.Duration())
	}
	_, err := w.Write(wavBytes(a))
	return err
}

// wavBytes is EncodeWAV into memory.
func wavBytes(a Audio) []byte {
	n := len(a.Samples) * 2
	b := make([]byte, 0, 44+n)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(36+n))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, wavPCM)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint32(b, SampleRate)
	b = le.AppendUint32(b, SampleRate*2)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(n))
	for _, s := range a.Samples {
		b = le.AppendUint16(b, uint16(s))
	}
	return b
}
