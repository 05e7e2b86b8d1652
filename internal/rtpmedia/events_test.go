package rtpmedia

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
)

func TestEventPayloadRoundTrip(t *testing.T) {
	e := event{code: 11, end: true, volume: 10, duration: 800}
	b := e.appendTo(nil)
	if want := []byte{11, 0x8a, 0x03, 0x20}; !slices.Equal(b, want) {
		t.Fatalf("payload % x, want % x", b, want)
	}
	back, err := parseEvent(b)
	if err != nil || back != e {
		t.Fatalf("parsed %+v, %v", back, err)
	}
	if _, err := parseEvent(b[:3]); err == nil {
		t.Fatal("a 3-byte payload parsed")
	}
}

func TestEventKeys(t *testing.T) {
	for i, k := range "0123456789*#ABCD" {
		if got := eventKey(byte(i)); got != k {
			t.Errorf("event %d is %q, want %q", i, got, k)
		}
		if c, ok := eventCode(k); !ok || c != byte(i) {
			t.Errorf("key %q is event %d %v", k, c, ok)
		}
	}
	if eventKey(16) != 0 { // flash
		t.Error("flash is a key")
	}
}

// evAt is an event packet's timestamp and payload.
type evAt struct {
	ts uint32
	e  event
}

// receiveAll feeds event packets to a receiver and returns the keys.
func receiveAll(r *eventReceiver, pkts ...evAt) string {
	var keys []rune
	for _, p := range pkts {
		if k := r.receive(p.ts, p.e); k != 0 {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

// press is the packets of one key as a phone sends it: the first with
// duration 0 (as sipp's pcaps do), updates, and three final packets.
func press(ts uint32, code byte) []evAt {
	return []evAt{
		{ts, event{code: code}},
		{ts, event{code: code, duration: 160}},
		{ts, event{code: code, duration: 320}},
		{ts, event{code: code, end: true, duration: 480}},
		{ts, event{code: code, end: true, duration: 480}},
		{ts, event{code: code, end: true, duration: 480}},
	}
}

func TestEventReceiverReportsEachPressOnce(t *testing.T) {
	tests := []struct {
		name string
		pkts []evAt
		want string
	}{
		{"zero-duration first packet", press(1000, 5), "5"},
		{"same key twice", append(press(1000, 1), press(3000, 1)...), "11"},
		{"keys in a row", append(append(press(1000, 1), press(2000, 11)...), press(3000, 10)...), "1#*"},
		{"only the final packets arrived", press(1000, 7)[3:], "7"},
		{"a straggler of the last event", append(press(1000, 2), append(press(2000, 3), press(1000, 2)[5])...), "23"},
		{"a long event cut into segments", []evAt{
			{1000, event{code: 4, duration: 65535}},
			{1000 + 65535, event{code: 4, duration: 800}},
			{1000 + 65535, event{code: 4, end: true, duration: 960}},
		}, "4"},
		{"not a key", []evAt{{1000, event{code: 16}}}, ""},
		{"timestamps wrap", append(press(0xffffff00, 8), press(0x100, 9)...), "89"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r eventReceiver
			if got := receiveAll(&r, tt.pkts...); got != tt.want {
				t.Fatalf("keys %q, want %q", got, tt.want)
			}
		})
	}
}

// sentEvent is one tick of an eventSender.
type sentEvent struct {
	tick   int
	e      event
	ts     uint32
	marker bool
}

func TestEventSenderTiming(t *testing.T) {
	s := newEventSender(100*time.Millisecond, 100*time.Millisecond)
	if err := s.add("1#"); err != nil {
		t.Fatal(err)
	}
	const t0 = 0xfffffe00 // the timestamps wrap during the test
	var got []sentEvent
	for i := range 30 {
		if e, ts, m, ok := s.tick(t0 + uint32(i*NarrowFrame)); ok {
			got = append(got, sentEvent{i, e, ts, m})
		}
	}
	var want []sentEvent
	for k, code := range []byte{1, 11} {
		start := 10 * k // 5 ticks of tone, 2 repeats, 3 of gap
		ts := uint32(t0 + start*NarrowFrame)
		for i := range 5 {
			want = append(want, sentEvent{start + i, event{code: code, volume: eventVolume, duration: uint16(160 * (i + 1)), end: i == 4}, ts, i == 0})
		}
		for i := range 2 {
			want = append(want, sentEvent{start + 5 + i, event{code: code, volume: eventVolume, duration: 800, end: true}, ts, false})
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sent\n%+v\nwant\n%+v", got, want)
	}
	if s.busy() {
		t.Error("still busy after the last key")
	}
}

func TestEventSenderRefuses(t *testing.T) {
	s := newEventSender(0, 0)
	if err := s.add("12x"); !errors.Is(err, media.ErrInvalid) {
		t.Errorf("add 12x: %v", err)
	}
	if err := s.add("abcd"); err != nil { // lower-case A-D are keys
		t.Errorf("add abcd: %v", err)
	}
	if err := s.add(string(make([]byte, maxPendingKeys))); !errors.Is(err, media.ErrInvalid) {
		t.Errorf("add NULs: %v", err)
	}
	long := make([]rune, maxPendingKeys)
	for i := range long {
		long[i] = '1'
	}
	if err := s.add(string(long)); !errors.Is(err, ErrTooManyKeys) {
		t.Errorf("add %d keys after 4: %v", len(long), err)
	}
	if len(s.queue) != 4 {
		t.Errorf("%d keys queued, want 4", len(s.queue))
	}
}
