package media

// Defaults of VAD.
const (
	DefaultVADOn       = -36.0 // dBFS
	DefaultVADOff      = -42.0 // dBFS
	DefaultVADAttack   = 2     // frames (40 ms)
	DefaultVADHangover = 15    // frames (300 ms)
)

// VAD is an energy voice-activity detector with hysteresis. A frame whose
// RMS level (see Level) reaches On is loud, one below Off is quiet, one in
// between keeps the current state. Speech starts after Attack loud frames in
// a row and ends after Hangover quiet frames in a row, so syllable gaps do
// not end it and a click does not start it.
//
// Zero fields take the defaults (-36 dBFS, -42 dBFS, 2 frames, 15 frames);
// the zero value is ready to use. A VAD is not safe for concurrent use.
type VAD struct {
	On, Off          float64 // dBFS
	Attack, Hangover int     // frames

	speaking bool
	loud     int // consecutive loud frames
	quiet    int // consecutive frames below Off
	onE      float64
	offE     float64
}

// Process takes the next frame and reports whether speech is in progress.
func (v *VAD) Process(f *Frame) bool {
	if v.onE == 0 {
		v.init()
	}
	var e int64
	for _, s := range f {
		e += int64(s) * int64(s)
	}
	energy := float64(e)
	attack, hang := orDefault(v.Attack, DefaultVADAttack), orDefault(v.Hangover, DefaultVADHangover)
	switch {
	case energy >= v.onE:
		v.loud++
		v.quiet = 0
	case energy < v.offE:
		v.loud = 0
		v.quiet++
	default:
		v.loud = 0
		v.quiet = 0
	}
	if !v.speaking && v.loud >= attack {
		v.speaking = true
	} else if v.speaking && v.quiet >= hang {
		v.speaking = false
	}
	return v.speaking
}

// Quiet takes a frame of silence (a member that said nothing) and reports
// whether speech is still in progress: Process of a silent frame, without
// the samples.
func (v *VAD) Quiet() bool {
	v.loud = 0
	v.quiet++
	if v.speaking && v.quiet >= orDefault(v.Hangover, DefaultVADHangover) {
		v.speaking = false
	}
	return v.speaking
}

// Speaking reports the state after the last frame.
func (v *VAD) Speaking() bool { return v.speaking }

// QuietFrames is the number of consecutive frames, up to the last one, whose
// level was below Off.
func (v *VAD) QuietFrames() int { return v.quiet }

// Reset returns the detector to silence, keeping its settings.
func (v *VAD) Reset() { v.speaking, v.loud, v.quiet = false, 0, 0 }

func (v *VAD) init() {
	on, off := v.On, v.Off
	if on == 0 {
		on = DefaultVADOn
	}
	if off == 0 {
		off = DefaultVADOff
	}
	off = min(off, on)
	scale := 32768.0 * 32768.0 * FrameSamples
	v.onE = dBToAmp(on) * dBToAmp(on) * scale
	v.offE = dBToAmp(off) * dBToAmp(off) * scale
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}
