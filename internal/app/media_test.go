package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// goertzel returns the power of freq in samples, relative to their energy.
func goertzel(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / media.SampleRate
	c := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range samples {
		x := float64(v)
		s1, s2 = x+c*s1-s2, s1
		energy += x * x
	}
	if energy == 0 {
		return 0
	}
	return (s1*s1 + s2*s2 - c*s1*s2) / (energy * float64(len(samples)) / 2)
}

func writeWAV(t *testing.T, path string, a media.Audio) {
	t.Helper()
	var b bytes.Buffer
	if err := media.EncodeWAV(&b, a); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestIVRDialogue is an IVR bot's dialogue over HTTP with a simulated
// caller, checked by listening to the audio: the caller presses 5, hears
// a prompt, says something, presses # to stop the recording; the bot gets
// the tone, the prompt's completion and a recording of what the caller
// said. The media engine moves only when the test steps it, so the
// caller's script and the bot's requests meet at the same frames on an
// idle and on a starved machine.
func TestIVRDialogue(t *testing.T) {
	dir := t.TempDir()
	prompt := filepath.Join(dir, "prompt.wav")
	writeWAV(t, prompt, media.Tone(440, time.Second, -10)) // what the bot plays
	speech := filepath.Join(dir, "speech.wav")
	writeWAV(t, speech, media.Tone(700, 1500*time.Millisecond, -12)) // what the caller says

	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(dir, "data")
	cfg.Simulation.AnswerDelay = 0
	cfg.Simulation.Identities = []sim.Rule{{ID: "caller", Say: []sim.Say{
		{At: "300ms", Keys: "5"},
		{At: "2500ms", WAV: speech},
		{At: "4500ms", Keys: "#"},
	}}}
	a := start2(t, cfg, app.WithManualMedia())
	base := "http://" + a.Addr("http")
	tok := token(t, http.DefaultClient, base)
	h, hookURL := newHook(t)
	step := func(d time.Duration) {
		t.Helper()
		if err := a.StepMedia(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}

	r := call(t, "POST", base+"/v1.0/communications/calls", tok, `{"callbackUri":"`+hookURL+`/cb","targets":[{"identity":{"user":{"id":"caller"}}}],
		"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	callURL := base + "/v1.0/communications/calls/" + created.ID
	h.wait(t, 2) // establishing, established
	if r := call(t, "POST", callURL+"/subscribeToTone", tok, `{"clientContext":"tones"}`); r.status != 200 || !strings.Contains(r.body, `"Completed"`) {
		t.Fatalf("subscribeToTone: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", callURL+"/playPrompt", tok, `{"prompts":[{"@odata.type":"#microsoft.graph.mediaPrompt","mediaInfo":{"uri":"file://`+prompt+`","resourceId":"p1"}}]}`); r.status != 200 || !strings.Contains(r.body, `"Running"`) {
		t.Fatalf("playPrompt: %d %s", r.status, r.body)
	}
	r = call(t, "POST", callURL+"/recordResponse", tok, `{"playBeep":false,"stopTones":["#"],"maxRecordDurationInSeconds":20,"initialSilenceTimeoutInSeconds":10}`)
	if r.status != 200 {
		t.Fatalf("recordResponse: %d %s", r.status, r.body)
	}
	// The caller presses 5 while the 1 s prompt plays, speaks from 2.5 s
	// to 4 s while the bot records, and presses # at 4.5 s.
	step(5 * time.Second)

	tone := h.waitFor(t, "with the first tone", has(`"toneInfo"`, `"sequenceId":1`))
	played := h.waitFor(t, "completing playPrompt", has(`playPromptOperation`))
	recorded := h.waitFor(t, "completing recordResponse", has(`recordOperation`))
	if !strings.Contains(tone, `"tone":"tone5"`) || !strings.Contains(tone, `"sequenceId":1`) || !strings.Contains(tone, `"toneInfo@switchboard.participantId":"`) ||
		strings.Contains(tone, `"participantId":`) { // toneInfo is closed: the presser is an instance annotation
		t.Fatalf("tone notification: %s", tone)
	}
	if !strings.Contains(played, `"status":"Completed"`) {
		t.Fatalf("playPrompt completion: %s", played)
	}
	var env struct {
		Value []struct {
			ResourceData struct {
				Status               string
				RecordingLocation    string
				RecordingAccessToken string
				CompletionReason     string
				ResultInfo           struct{ Code, Subcode int }
			}
		}
	}
	json.Unmarshal([]byte(recorded), &env)
	op := env.Value[0].ResourceData
	if op.Status != "Completed" || op.CompletionReason != "stopToneDetected" || op.RecordingLocation == "" {
		t.Fatalf("record completion: %s", recorded)
	}

	// The recording is what the caller said: mostly 700 Hz, not the prompt.
	req, _ := http.NewRequest("GET", op.RecordingLocation, nil)
	req.Header.Set("Authorization", "Bearer "+op.RecordingAccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("download: %d", res.StatusCode)
	}
	rec, err := media.DecodeWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Duration() < time.Second || goertzel(rec.Samples, 700) < 0.3 {
		t.Fatalf("recording of %v holds %.2f of its energy at 700 Hz; want the caller's speech", rec.Duration(), goertzel(rec.Samples, 700))
	}
	if res2, _ := http.Get(op.RecordingLocation); res2.StatusCode != 404 {
		t.Fatalf("recording served without its token: %d", res2.StatusCode)
	}

	// The bot presses 1 and 2; the caller hears them as real tones.
	if r := call(t, "POST", callURL+"/sendDtmfTones", tok, `{"tones":["tone1","tone2"],"delayBetweenTonesMs":200}`); r.status != 200 || !strings.Contains(r.body, `sendDtmfTonesOperation`) {
		t.Fatalf("sendDtmfTones: %d %s", r.status, r.body)
	}
	step(time.Second)
	sent := h.waitFor(t, "completing sendDtmfTones", has(`sendDtmfTonesOperation`))
	if !strings.Contains(sent, `"completionReason":"completedSuccessfully"`) {
		t.Fatalf("sendDtmfTones completion: %s", sent)
	}
	callerPID := simPerson(t, base, tok, created.ID)
	heard, err := http.NewRequest("GET", base+"/switchboard/v1/simulation/calls/"+created.ID+"/participants/"+callerPID+"/heard", nil)
	if err != nil {
		t.Fatal(err)
	}
	heard.Header.Set("Authorization", "Bearer "+tok)
	hr, err := http.DefaultClient.Do(heard)
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if keys := hr.Header.Get("Switchboard-Heard-Keys"); !strings.Contains(keys, "12") {
		t.Fatalf("the caller heard keys %q, want 12 from sendDtmfTones", keys)
	}
	got, err := media.DecodeWAV(bytes.NewReader(audio))
	if err != nil || goertzel(got.Samples, 440) < 0.05 {
		t.Fatalf("the caller did not hear the 440 Hz prompt (%v)", err)
	}

	// A long prompt, canceled: it fails with 400/8508; the cancel operation
	// itself is Completed at once.
	long := filepath.Join(dir, "long.wav")
	writeWAV(t, long, media.Tone(300, 30*time.Second, -10))
	call(t, "POST", callURL+"/playPrompt", tok, `{"prompts":[{"mediaInfo":{"uri":"file://`+long+`"}}]}`)
	if r := call(t, "POST", callURL+"/cancelMediaProcessing", tok, `{}`); r.status != 200 || !strings.Contains(r.body, `"Completed"`) {
		t.Fatalf("cancelMediaProcessing: %d %s", r.status, r.body)
	}
	canceled := h.waitFor(t, "failing the canceled prompt", has(`playPromptOperation`, `"subcode":8508`))
	if !strings.Contains(canceled, `"status":"Failed"`) {
		t.Fatalf("canceled prompt: %s", canceled)
	}
	// A prompt that does not exist fails the operation with a clear result.
	call(t, "POST", callURL+"/playPrompt", tok, `{"prompts":[{"mediaInfo":{"uri":"file:///nonexistent.wav"}}]}`)
	broken := h.waitFor(t, "failing the missing prompt", has(`"subcode":8522`))
	if !strings.Contains(broken, `nonexistent.wav`) {
		t.Fatalf("broken prompt: %s", broken)
	}
}

// TestRestartDuringRecordResponse: the recording that was running is failed
// with a notification after the restart (its audio is gone), and a
// recording finished before the restart can still be downloaded.
func TestRestartDuringRecordResponse(t *testing.T) {
	dir := t.TempDir()
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(dir, "data")
	cfg.Simulation.AnswerDelay = 0
	first, err := app.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-first.Ready()
	base := "http://" + first.Addr("http")
	tok := token(t, http.DefaultClient, base)
	h, hookURL := newHook(t)
	r := call(t, "POST", base+"/v1.0/communications/calls", tok, `{"callbackUri":"`+hookURL+`/cb","targets":[{"identity":{"user":{"id":"caller"}}}],
		"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`)
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	callURL := "/v1.0/communications/calls/" + created.ID
	h.wait(t, 2)
	// The first recording ends at the caller's # (a short, finished one).
	call(t, "POST", base+callURL+"/recordResponse", tok, `{"playBeep":false,"stopTones":["#"],"initialSilenceTimeoutInSeconds":5}`)
	if r := call(t, "POST", base+"/switchboard/v1/simulation/calls/"+created.ID+"/participants/"+simPerson(t, base, tok, created.ID)+"/pressTones", tok, `{"keys":"#"}`); r.status != 204 {
		t.Fatalf("pressTones: %d %s", r.status, r.body)
	}
	done := h.waitFor(t, "completing the first recording", has("recordOperation"))
	// The second runs when the server stops.
	r = call(t, "POST", base+callURL+"/recordResponse", tok, `{"playBeep":false,"maxRecordDurationInSeconds":60,"initialSilenceTimeoutInSeconds":60}`)
	var running struct{ ID string }
	json.Unmarshal([]byte(r.body), &running)
	stop(t, first)

	cfg.Listen = first.Addr("http") // the same address, so the recording's location still works
	cfg.SIP.Listen = "127.0.0.1:0"  // and SIP on a free port, as --listen host:0 gave it
	second := start2(t, cfg)
	_ = second
	failed := h.waitFor(t, "failing the interrupted recording", has(running.ID, `"status":"Failed"`))
	if !strings.Contains(failed, "8500") {
		t.Fatalf("the interrupted recording: %s", failed)
	}
	if strings.Contains(done, `"recordingLocation":""`) {
		return // the caller's # came before any speech: nothing to download
	}
	var env struct {
		Value []struct {
			ResourceData struct{ RecordingLocation, RecordingAccessToken string }
		}
	}
	json.Unmarshal([]byte(done), &env)
	loc := env.Value[0].ResourceData
	req, _ := http.NewRequest("GET", loc.RecordingLocation, nil)
	req.Header.Set("Authorization", "Bearer "+loc.RecordingAccessToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("a recording finished before the restart: %d", res.StatusCode)
	}
}

// A simulated participant says a WAV file given through the simulation
// API (as the console's "Say a WAV" does); the bot's recording holds it,
// and the call's summary names the recording as the notification did.
func TestSayAWAVThroughTheAPI(t *testing.T) {
	a, base, tok, h, hookURL := manualMediaServer(t)

	created := struct{ ID string }{callUser(t, h, base, tok, hookURL, "speaker")}
	pid := simPerson(t, base, tok, created.ID)
	sayURL := base + "/switchboard/v1/simulation/calls/" + created.ID + "/participants/" + pid + "/say"
	speech := consoleEvents(t, base, "speaking")
	var wav bytes.Buffer
	media.EncodeWAV(&wav, media.Tone(600, 1500*time.Millisecond, -12))

	for _, c := range []struct {
		name, ct, body string
		status         int
	}{
		{"json", "application/json", `{"wav":"x"}`, 415},
		{"not a WAV", "audio/wav", "RIFF....WAVEjunk", 400},
		{"no such participant", "audio/wav", wav.String(), 404},
	} {
		u := sayURL
		if c.status == 404 {
			u = strings.Replace(sayURL, pid, "nobody", 1)
		}
		if got := call(t, "POST", u, tok, c.body, "Content-Type", c.ct); got.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, got.status, got.body, c.status)
		}
	}
	if r := call(t, "POST", base+"/v1.0/communications/calls/"+created.ID+"/recordResponse", tok,
		`{"playBeep":false,"maxRecordDurationInSeconds":2,"initialSilenceTimeoutInSeconds":5}`); r.status != 200 {
		t.Fatalf("recordResponse: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", sayURL, tok, wav.String(), "Content-Type", "audio/wav"); r.status != 204 {
		t.Fatalf("say: %d %s", r.status, r.body)
	}
	if err := a.StepMedia(t.Context(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	// The console heard them start and stop speaking.
	for _, want := range []string{`"participantId":"` + pid + `","speaking":true`, `"participantId":"` + pid + `","speaking":false`} {
		if got := speech(); !strings.Contains(got, want) {
			t.Fatalf("console event %s; want %s", got, want)
		}
	}
	recorded := h.waitFor(t, "completing recordResponse", has(`recordOperation`))
	var env struct {
		Value []struct {
			ResourceData struct{ ID, RecordingLocation, RecordingAccessToken string }
		}
	}
	json.Unmarshal([]byte(recorded), &env)
	op := env.Value[0].ResourceData
	rec := call(t, "GET", op.RecordingLocation, op.RecordingAccessToken, "")
	got, err := media.DecodeWAV(strings.NewReader(rec.body))
	if err != nil || goertzel(got.Samples, 600) < 0.3 {
		t.Fatalf("the recording does not hold the 600 Hz WAV the participant said (%v)", err)
	}

	// The call's summary gives the console the recording to play.
	var sum struct {
		Operations []struct{ ID, Type, RecordingLocation, RecordingAccessToken string }
	}
	json.Unmarshal([]byte(call(t, "GET", base+"/switchboard/v1/calls/"+created.ID, tok, "").body), &sum)
	found := false
	for _, o := range sum.Operations {
		found = found || o.ID == op.ID && o.RecordingLocation == op.RecordingLocation && o.RecordingAccessToken == op.RecordingAccessToken
	}
	if !found {
		t.Fatalf("the call's summary does not name recording %s: %+v", op.RecordingLocation, sum.Operations)
	}
}

// consoleEvents signs a development browser into the console and returns
// a function that gives the data of its next live event named name; the
// test fails when none comes within 10 s.
func consoleEvents(t *testing.T, base, name string) func() string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	if res, err := c.Get(base + "/console/session"); err != nil || res.StatusCode != 200 {
		t.Fatalf("console sign-in: %v %v", res, err)
	}
	res, err := c.Get(base + "/console/events")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("console events: %v %v", res, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	events := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				event = v
			} else if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok && event == name {
				events <- v
			}
		}
	}()
	return func() string {
		t.Helper()
		select {
		case v := <-events:
			return v
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q console event in 10 s", name)
			return ""
		}
	}
}

// A muted simulated participant is not heard, as Graph's mute means: the
// bot's recording of a muted speaker is silent, and unmuting brings them
// back.
func TestMutedSimulatedParticipantIsNotHeard(t *testing.T) {
	a, base, tok, h, hookURL := manualMediaServer(t)
	created := struct{ ID string }{callUser(t, h, base, tok, hookURL, "talker")}
	pid := simPerson(t, base, tok, created.ID)
	person := base + "/switchboard/v1/simulation/calls/" + created.ID + "/participants/" + pid
	var wav bytes.Buffer
	media.EncodeWAV(&wav, media.Tone(600, 20*time.Second, -12))
	if r := call(t, "POST", person+"/say", tok, wav.String(), "Content-Type", "audio/wav"); r.status != 204 {
		t.Fatalf("say: %d %s", r.status, r.body)
	}
	record := func(context string) media.Audio {
		t.Helper()
		if r := call(t, "POST", base+"/v1.0/communications/calls/"+created.ID+"/recordResponse", tok,
			`{"playBeep":false,"maxRecordDurationInSeconds":1,"initialSilenceTimeoutInSeconds":5,"clientContext":"`+context+`"}`); r.status != 200 {
			t.Fatalf("recordResponse: %d %s", r.status, r.body)
		}
		if err := a.StepMedia(t.Context(), 1500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		done := h.waitFor(t, "recording "+context, has(`recordOperation`, context))
		var env struct {
			Value []struct {
				ResourceData struct{ RecordingLocation, RecordingAccessToken string }
			}
		}
		json.Unmarshal([]byte(done), &env)
		op := env.Value[0].ResourceData
		if op.RecordingLocation == "" {
			return media.Audio{} // nothing heard: initial silence
		}
		rec, err := media.DecodeWAV(strings.NewReader(call(t, "GET", op.RecordingLocation, op.RecordingAccessToken, "").body))
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	if rec := record("before"); goertzel(rec.Samples, 600) < 0.3 {
		t.Fatal("the bot does not hear the talker before the mute")
	}
	if r := call(t, "POST", person+"/mute", tok, ""); r.status != 204 {
		t.Fatalf("mute: %d %s", r.status, r.body)
	}
	if rec := record("muted"); len(rec.Samples) > 0 && media.Level(rec.Samples) > -60 {
		t.Errorf("the bot hears a muted participant at %.1f dBFS", media.Level(rec.Samples))
	}
	if r := call(t, "POST", person+"/unmute", tok, ""); r.status != 204 {
		t.Fatalf("unmute: %d %s", r.status, r.body)
	}
	if rec := record("after"); goertzel(rec.Samples, 600) < 0.3 {
		t.Error("the bot does not hear the talker after unmuting")
	}
}

// callUser makes the development bot call a simulated user with
// service-hosted media, waits until the call is established, and returns
// its id.
func callUser(t *testing.T, h *hook, base, tok, hookURL, user string) string {
	t.Helper()
	r := call(t, "POST", base+"/v1.0/communications/calls", tok, `{"callbackUri":"`+hookURL+`/cb","targets":[{"identity":{"user":{"id":"`+user+`"}}}],
		"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	h.wait(t, 2) // establishing, established
	return created.ID
}

// simPerson returns the participant id of the simulated person in call
// id (the roster entry that is no application's leg).
func simPerson(t *testing.T, base, tok, id string) string {
	t.Helper()
	var conv struct{ Roster []struct{ ID, CallID string } }
	json.Unmarshal([]byte(call(t, "GET", base+"/switchboard/v1/simulation/calls/"+id, tok, "").body), &conv)
	for _, p := range conv.Roster {
		if p.CallID == "" {
			return p.ID
		}
	}
	t.Fatalf("call %s has no simulated person", id)
	return ""
}

// manualMediaServer starts a development server whose media moves only
// when the test steps it, with simulated people who answer at once; it
// returns the server, its base URL, a token of the development
// application and a callback receiver with its URL.
func manualMediaServer(t *testing.T) (*app.App, string, string, *hook, string) {
	t.Helper()
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(t.TempDir(), "data")
	cfg.Simulation.AnswerDelay = 0
	a := start2(t, cfg, app.WithManualMedia())
	base := "http://" + a.Addr("http")
	h, hookURL := newHook(t)
	return a, base, token(t, http.DefaultClient, base), h, hookURL
}
