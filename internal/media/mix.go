package media

// Mixer mixes the frames of N parties so that each hears the sum of all the
// others (N−1 mixing), saturating at full scale. The zero value is ready to
// use; a Mixer holds scratch space and is not safe for concurrent use.
type Mixer struct {
	acc [FrameSamples]int32
}

// Mix sets *out[i] to the saturated sum of every in[j] with j != i. A nil
// in[j] is a party sending nothing (silence); out must have len(in) non-nil
// frames, none of them aliasing an input. The sum is exact in 32 bits and
// saturates once, so a party whose own sample is large never distorts what
// the others hear.
func (m *Mixer) Mix(in []*Frame, out []*Frame) {
	active, last := 0, -1
	for i, f := range in {
		if f != nil {
			active++
			last = i
		}
	}
	switch active {
	case 0:
		for _, o := range out {
			*o = Frame{}
		}
		return
	case 1: // only one talker: everyone else hears it as it is
		for i, o := range out {
			if i == last {
				*o = Frame{}
			} else {
				*o = *in[last]
			}
		}
		return
	}
	acc := &m.acc
	first := true
	for _, f := range in {
		if f == nil {
			continue
		}
		if first {
			for k, s := range f {
				acc[k] = int32(s)
			}
			first = false
			continue
		}
		for k, s := range f {
			acc[k] += int32(s)
		}
	}
	for i, o := range out {
		f := in[i]
		if f == nil {
			for k, a := range acc {
				o[k] = sat16(a)
			}
			continue
		}
		for k, a := range acc {
			o[k] = sat16(a - int32(f[k]))
		}
	}
}
