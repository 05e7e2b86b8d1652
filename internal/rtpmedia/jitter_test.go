package rtpmedia

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// tag is the µ-law code a test packet with sequence number seq is filled
// with: a different non-zero level for each of 64 numbers in a row.
func tag(seq uint16) byte { return 0x10 + byte(seq%64) }

// played names what a frame holds: the sequence number (mod 64) of the
// packet whose tag fills it, "-" for silence, "?" for anything else.
func played(f []int16) string {
	if slices.Equal(f, make([]int16, len(f))) {
		return "-"
	}
	for s := range uint16(64) {
		v := decode(nil, []byte{tag(s)}, sdp.PCMU)[0]
		if f[0] == v && f[len(f)-1] == v {
			return fmt.Sprint(s)
		}
	}
	return "?"
}

// jitterScript runs steps on a jitter buffer: "+n" pushes audio packet n
// (its payload 160 samples of tag(n)), "e n" pushes event packet n, "p"
// pops a frame and records what played.
type jitterScript struct {
	t  *testing.T
	j  *jitterBuffer
	pl []string
}

func (s *jitterScript) push(seqs ...uint16) {
	for _, q := range seqs {
		s.j.push(q, true, sdp.PCMU, bytes.Repeat([]byte{tag(q)}, NarrowFrame))
	}
}

func (s *jitterScript) event(seqs ...uint16) {
	for _, q := range seqs {
		s.j.push(q, false, sdp.EncodingUnknown, []byte{1, 0x8a, 0, 160})
	}
}

func (s *jitterScript) pop(n int) {
	for range n {
		out := make([]int16, NarrowFrame)
		s.j.pop(out)
		s.pl = append(s.pl, played(out))
	}
}

func (s *jitterScript) want(want ...string) {
	s.t.Helper()
	if !slices.Equal(s.pl, want) {
		s.t.Fatalf("played %v, want %v", s.pl, want)
	}
	s.pl = nil
}

// scriptDepth is the depth the scripted tests run with: two packets, so
// that each step shows.
const scriptDepth = 2

func newScript(t *testing.T) *jitterScript {
	return &jitterScript{t: t, j: newJitterBuffer(scriptDepth)}
}

func TestJitterWaitsForDepthThenPlaysInOrder(t *testing.T) {
	s := newScript(t)
	s.push(0)
	s.pop(1)
	s.push(1)
	s.pop(1)
	s.push(2)
	s.pop(3)
	s.want("-", "0", "1", "2", "-")
	if s.j.underruns != 1 {
		t.Errorf("underruns %d, want 1", s.j.underruns)
	}
}

func TestJitterReorders(t *testing.T) {
	s := newScript(t)
	s.push(1, 0) // the first two, swapped, before playing starts
	s.pop(1)
	s.push(3, 2)
	s.pop(2)
	s.push(5, 4)
	s.pop(2)
	s.want("0", "1", "2", "3", "4")
	if s.j.late+s.j.lost+s.j.dup != 0 {
		t.Errorf("late %d lost %d dup %d, want none", s.j.late, s.j.lost, s.j.dup)
	}
}

func TestJitterDropsDuplicateAndLate(t *testing.T) {
	s := newScript(t)
	s.push(0, 1, 1)
	s.pop(2)
	s.push(2, 0, 1, 2)
	s.pop(1)
	s.want("0", "1", "2")
	if s.j.dup != 2 || s.j.late != 2 {
		t.Errorf("dup %d late %d, want 2 and 2", s.j.dup, s.j.late)
	}
}

func TestJitterConcealsLossWithSilence(t *testing.T) {
	s := newScript(t)
	s.push(0, 1)
	s.pop(2)
	s.push(3, 4) // 2 lost
	s.pop(3)
	s.want("0", "1", "-", "3", "4")
	if s.j.lost != 1 || s.j.underruns != 0 {
		t.Errorf("lost %d underruns %d, want 1 and 0", s.j.lost, s.j.underruns)
	}
}

// After running dry the buffer gathers depth packets again; a stream that
// resumes further on is not padded with the silence already played.
func TestJitterResumesAfterPause(t *testing.T) {
	s := newScript(t)
	s.push(0, 1)
	s.pop(4) // two of silence: the peer paused
	s.push(10)
	s.pop(1)
	s.push(11)
	s.pop(2)
	s.want("0", "1", "-", "-", "-", "10", "11")
	if s.j.lost != 0 || s.j.resyncs != 0 {
		t.Errorf("lost %d resyncs %d, want none", s.j.lost, s.j.resyncs)
	}
	s.push(9) // from before the pause
	if s.j.late != 1 {
		t.Errorf("late %d, want 1", s.j.late)
	}
}

func TestJitterRestartsOnJump(t *testing.T) {
	s := newScript(t)
	s.push(0, 1)
	s.pop(1)
	s.push(100, 101) // a jump ahead: the stream restarted
	s.pop(2)
	next := uint16(102)
	back := next - lateWindow
	s.push(102, back, back+1) // a jump back: restarted again
	s.pop(2)
	s.want("0", fmt.Sprint(100%64), fmt.Sprint(101%64), fmt.Sprint(back%64), fmt.Sprint((back+1)%64))
	if s.j.resyncs != 2 {
		t.Errorf("resyncs %d, want 2", s.j.resyncs)
	}
}

func TestJitterBoundsDelayAfterBurst(t *testing.T) {
	s := newScript(t)
	s.push(0, 1)
	s.pop(1)
	s.push(2, 3, 4, 5, 6, 7, 8, 9) // 9 held: a burst after a stall
	s.pop(1)
	s.want("0", "5")
	if want := uint64(9 - scriptDepth - jitterSlack); s.j.dropped != want {
		t.Errorf("dropped %d, want %d", s.j.dropped, want)
	}
}

func TestJitterEventPacketsTakeNoTime(t *testing.T) {
	s := newScript(t)
	s.push(0, 1)
	s.pop(1)
	s.event(2, 3, 4)
	s.push(5)
	s.pop(2)
	s.want("0", "1", "5")
	if s.j.lost != 0 {
		t.Errorf("lost %d, want 0", s.j.lost)
	}
}

func TestJitterWrapsSequenceNumbers(t *testing.T) {
	s := newScript(t)
	s.push(65534, 65535)
	s.pop(1)
	s.push(1, 0)
	s.pop(3)
	s.want(fmt.Sprint(65534%64), fmt.Sprint(65535%64), "0", "1")
}

// Packets of 30 ms play out over 20 ms frames without a gap.
func TestJitterOtherPacketSizes(t *testing.T) {
	j := newJitterBuffer(DefaultJitterDepth)
	tone := narrowTone(1000, 3*240, -10)
	for i := range 3 {
		j.push(uint16(i), true, sdp.PCMU, encode(nil, tone[i*240:(i+1)*240], sdp.PCMU))
	}
	var out []int16
	for range 4 {
		f := make([]int16, NarrowFrame)
		j.pop(f)
		out = append(out, f...)
	}
	want := decode(nil, encode(nil, tone[:640], sdp.PCMU), sdp.PCMU)
	if !slices.Equal(out, want) {
		t.Fatal("30 ms packets did not play back to back")
	}
}
