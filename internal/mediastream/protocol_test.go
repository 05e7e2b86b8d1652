package mediastream

import (
	"slices"
	"strings"
	"testing"
)

func TestParseBlob(t *testing.T) {
	for _, c := range []struct {
		blob, err, note string
		dev             bool
		want            Settings
	}{
		{blob: `{"switchboard":{}}`, want: Settings{SampleRate: 16000}},
		{blob: `{"switchboard":{"url":"wss://bot.example/media","sampleRate":8000,"unmixed":true}}`, want: Settings{URL: "wss://bot.example/media", SampleRate: 8000, Unmixed: true}},
		{blob: `{"switchboard":{"url":"ws://127.0.0.1:9000/m"}}`, dev: true, want: Settings{URL: "ws://127.0.0.1:9000/m", SampleRate: 16000}},
		{blob: `{"switchboard":{"url":"ws://127.0.0.1:9000/m"}}`, err: "development mode"},
		{blob: `{"switchboard":{"url":"https://bot.example/"}}`, dev: true, err: "scheme"},
		{blob: `{"switchboard":{"url":"/relative"}}`, err: "absolute"},
		{blob: `{"switchboard":{"sampleRate":44100}}`, err: "44100"},
		{blob: `{"switchboard":{"sampleRate":"16000"}}`, err: "sampleRate"},
		{blob: `{"switchboard":[]}`, err: "media settings object"},
		{blob: `{"switchboard":null}`, note: "not Switchboard's", want: Settings{SampleRate: 16000}},
		{blob: `{"other":{}}`, note: "not Switchboard's", want: Settings{SampleRate: 16000}},
		{blob: `<MediaConfiguration>opaque</MediaConfiguration>`, note: "not Switchboard's", want: Settings{SampleRate: 16000}},
		{blob: ``, note: "not Switchboard's", want: Settings{SampleRate: 16000}},
	} {
		got, note, err := ParseBlob(c.blob, c.dev)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want one naming %q", c.blob, err, c.err)
			}
		case err != nil || got != c.want || !strings.Contains(note, c.note):
			t.Errorf("%s: %+v %q %v, want %+v", c.blob, got, note, err, c.want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	for in, want := range map[string]string{
		`{"event":"clear"}`:           "",
		`{"event":"mark","name":"a"}`: "",
		`{"event":"mute"}`:            "",
		`{"event":"unmute"}`:          "",
		`{"event":"mark"}`:            "name",
		`{"event":"mark","name":"` + strings.Repeat("x", MaxMarkName+1) + `"}`: "name",
		`{"event":"media"}`: "unknown event",
		`{}`:                "no \"event\"",
		`[1,2]`:             "JSON object",
		`not json`:          "JSON object",
	} {
		_, err := ParseCommand([]byte(in))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%.40s: %v, want %q", in, err, want)
		}
	}
}

func TestAudioRoundTrip(t *testing.T) {
	samples := []int16{0, 1, -1, 32767, -32768, 1234}
	b := AppendAudio(nil, 7, 123456, samples)
	track, seq, pcm, err := AudioHeader(b)
	if err != nil || track != 7 || seq != 123456 || len(pcm) != 2*len(samples) {
		t.Fatalf("header: %d %d %d %v", track, seq, len(pcm), err)
	}
	got, err := ParseAudio(nil, pcm)
	if err != nil || !slices.Equal(got, samples) {
		t.Fatalf("samples %v %v", got, err)
	}
	if _, err := ParseAudio(nil, []byte{1, 2, 3}); err != ErrOddAudio {
		t.Fatalf("odd audio: %v", err)
	}
	if _, _, _, err := AudioHeader(b[:5]); err == nil {
		t.Fatal("a short message has a header")
	}
}

// The parsers of what bots send never panic, and what they accept is
// well formed.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{`{"event":"clear"}`, `{"event":"mark","name":"x"}`, `{"event":"mute"}`, `{`, `null`, `{"event":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err == nil && c.Event != CmdClear && c.Event != CmdMark && c.Event != CmdMute && c.Event != CmdUnmute {
			t.Fatalf("accepted event %q", c.Event)
		}
		if err == nil && c.Event == CmdMark && (c.Name == "" || len(c.Name) > MaxMarkName) {
			t.Fatalf("accepted mark name of %d bytes", len(c.Name))
		}
	})
}

func FuzzParseAudio(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseAudio(nil, b)
		if err == nil && len(s) != len(b)/2 {
			t.Fatalf("%d bytes gave %d samples", len(b), len(s))
		}
		if (err != nil) != (len(b)%2 != 0) {
			t.Fatalf("%d bytes: %v", len(b), err)
		}
	})
}

func FuzzParseBlob(f *testing.F) {
	for _, s := range []string{`{"switchboard":{"url":"wss://a/b","sampleRate":48000,"unmixed":true}}`, `{"switchboard":null}`, `opaque`, `{"switchboard":{"url":"ws://[::1]:1/"}}`} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, blob string, dev bool) {
		set, _, err := ParseBlob(blob, dev)
		if err != nil {
			return
		}
		if !sampleRates[set.SampleRate] {
			t.Fatalf("accepted sample rate %d", set.SampleRate)
		}
		if set.URL != "" && !strings.HasPrefix(strings.ToLower(set.URL), "wss://") && !(dev && strings.HasPrefix(strings.ToLower(set.URL), "ws://")) {
			t.Fatalf("accepted URL %q (dev %v)", set.URL, dev)
		}
	})
}
