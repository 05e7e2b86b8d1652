package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// ivrCaller is the simulated person who calls the IVR bot. Its Say script
// (withIVRCaller) is timed from when it joins the call, in media time: the
// server runs its media engine manually (app.WithManualMedia), and the test
// steps it once the bot has queued its prompt and recording, so the script
// meets the bot's operations at the same frames however busy the machine.
const ivrCaller = "7a000000-0000-4000-8000-0000000001e5"

// The caller's script: it presses 5 while the welcome prompt plays, speaks
// once the prompt is over (while the bot records), then presses # to end
// the recording. The 5 ends (100 ms of DTMF) long before the prompt does,
// so the recording does not start with its tail.
const (
	ivrPressFive = 600 * time.Millisecond
	ivrSpeak     = 1800 * time.Millisecond
	ivrPressStop = 3200 * time.Millisecond
)

// What the bot plays and what the caller says, told apart by frequency.
const (
	ivrPromptHz  = 440.0
	ivrPromptLen = time.Second
	ivrLongHz    = 300.0
)

// ivrSpeech is what the caller says: three 400 ms syllables at 600, 750 and
// 900 Hz. Unlike one steady tone it matches the recording at one offset
// only, so media.Locate finds whether all of it was recorded.
func ivrSpeech() media.Audio {
	return media.Concat(
		media.Tone(600, 400*time.Millisecond, -12),
		media.Tone(750, 400*time.Millisecond, -12),
		media.Tone(900, 400*time.Millisecond, -12),
	)
}

// ivrAudio is the audio of the dialogue, as files the server reads (file:
// prompts are allowed in development mode) and as samples the test
// compares recordings with.
type ivrAudio struct {
	prompt, speech         media.Audio
	promptPath, speechPath string
	longPath               string // a 30 s prompt that is canceled
}

func newIVRAudio(t *testing.T) ivrAudio {
	t.Helper()
	dir := t.TempDir()
	a := ivrAudio{prompt: media.Tone(ivrPromptHz, ivrPromptLen, -10), speech: ivrSpeech()}
	a.promptPath = writeIVRWAV(t, dir, "welcome.wav", a.prompt)
	a.speechPath = writeIVRWAV(t, dir, "speech.wav", a.speech)
	a.longPath = writeIVRWAV(t, dir, "long.wav", media.Tone(ivrLongHz, 30*time.Second, -10))
	return a
}

func writeIVRWAV(t *testing.T, dir, name string, a media.Audio) string {
	t.Helper()
	var b bytes.Buffer
	if err := media.EncodeWAV(&b, a); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withIVRCaller gives ivrCaller its script.
func withIVRCaller(a ivrAudio) func(*app.Config) {
	return func(cfg *app.Config) {
		cfg.Simulation.Identities = append(cfg.Simulation.Identities, sim.Rule{ID: ivrCaller, Say: []sim.Say{
			{At: ivrPressFive.String(), Keys: "5"},
			{At: ivrSpeak.String(), WAV: a.speechPath},
			{At: ivrPressStop.String(), Keys: "#"},
		}})
	}
}

// heard returns what a simulated participant heard so far and the DTMF keys
// it recognised in it (GET .../heard and its Switchboard-Heard-Keys
// header). The length of the audio is the participant's clock: how long it
// has been in the call.
func (c *control) heard(t *testing.T, callID, participantID string) (media.Audio, string) {
	t.Helper()
	resp, body := graphRequest(t, c.hc, http.MethodGet, c.base+"/calls/"+callID+"/participants/"+participantID+"/heard", c.token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("control: heard: %s %s", resp.Status, body)
	}
	a, err := media.DecodeWAV(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("control: heard: not a WAV: %v", err)
	}
	return a, resp.Header.Get("Switchboard-Heard-Keys")
}

// stepMedia moves the manual media engine of s by d.
func stepMedia(t *testing.T, s *server, d time.Duration) {
	t.Helper()
	if err := s.StepMedia(t.Context(), d); err != nil {
		t.Fatalf("step the media engine: %v", err)
	}
}

// toneOf returns the toneInfo of a tone notification, or nil.
func toneOf(n notification) models.ToneInfoable {
	if n.Call == nil {
		return nil
	}
	return n.Call.GetToneInfo()
}

// describeTone renders a toneInfo for failure messages.
func describeTone(ti models.ToneInfoable) string {
	tone, seq := "<nil>", "<nil>"
	if ti.GetTone() != nil {
		tone = ti.GetTone().String()
	}
	if ti.GetSequenceId() != nil {
		seq = fmt.Sprint(*ti.GetSequenceId())
	}
	return fmt.Sprintf("tone=%s sequenceId=%s", tone, seq)
}

// mediaPrompt is a prompt as a bot builds it with the SDK.
func mediaPrompt(path, resourceID string) models.Promptable {
	info := models.NewMediaInfo()
	info.SetUri(ptr("file://" + path))
	info.SetResourceId(&resourceID)
	p := models.NewMediaPrompt()
	p.SetMediaInfo(info)
	return p
}

func playPromptBody(clientContext string, prompts ...models.Promptable) communications.CallsItemPlayPromptPostRequestBodyable {
	body := communications.NewCallsItemPlayPromptPostRequestBody()
	body.SetPrompts(prompts)
	body.SetClientContext(&clientContext)
	return body
}

// checkResultInfo checks an operation's resultInfo.
func checkResultInfo(t *testing.T, what string, ri models.ResultInfoable, code, subcode int32) {
	t.Helper()
	if ri == nil || ri.GetCode() == nil || ri.GetSubcode() == nil {
		t.Errorf("%s: no resultInfo code and subcode", what)
		return
	}
	if *ri.GetCode() != code || *ri.GetSubcode() != subcode {
		t.Errorf("%s: resultInfo %d/%d (%s), want %d/%d", what, *ri.GetCode(), *ri.GetSubcode(), str(ri.GetMessage()), code, subcode)
	}
}

// additional returns a string property that the SDK's model does not
// describe (kept in its additional data), or "".
func additional(m interface{ GetAdditionalData() map[string]any }, key string) string {
	switch v := m.GetAdditionalData()[key].(type) {
	case *string:
		return str(v)
	case string:
		return v
	}
	return ""
}

// TestSDKIVRDialogue is an IVR bot written with msgraph-sdk-go, checked by
// listening to the audio. A simulated person calls the bot; the bot
// answers with service-hosted media, subscribes to tones, plays a welcome
// prompt and records the answer, which ends with #. The person's script
// presses 5 during the prompt, speaks after it and presses #. The bot gets
// both tones, the prompt's completion and a recording that holds what the
// person said and not the prompt; it sends DTMF tones back, which the
// person hears along with the prompt; a long prompt canceled with
// cancelMediaProcessing fails with 400/8508; the bot hangs up.
func TestSDKIVRDialogue(t *testing.T) {
	audio := newIVRAudio(t)
	s := startServerWith(t, "", withIVRCaller(audio), app.WithManualMedia())
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	ctl := newControl(t, s)
	t.Parallel() // after newBot: see there

	// The bot gets its token before the phone rings, as a running bot has.
	if _, err := b.Communications().Calls().Get(t.Context(), nil); err != nil {
		t.Fatalf("list calls: %s", describe(err))
	}

	id, callerID := incoming(t, ctl, rcv, ivrCaller)
	if err := b.call(id).Answer().Post(t.Context(), answerBody(rcv.URL()), nil); err != nil {
		t.Fatalf("answer: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/answer", http.StatusAccepted)
	rcv.expectStates(t, id, 1, "updated:establishing", "updated:established")

	// subscribeToTone completes at once.
	sub := communications.NewCallsItemSubscribeToTonePostRequestBody()
	sub.SetClientContext(ptr("ivr-tones"))
	subOp, err := b.call(id).SubscribeToTone().Post(t.Context(), sub, nil)
	if err != nil {
		t.Fatalf("subscribeToTone: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/subscribeToTone", http.StatusOK)
	if st := subOp.GetStatus(); st == nil || *st != models.COMPLETED_OPERATIONSTATUS {
		t.Errorf("subscribeToTone: status %v, want Completed", st)
	}
	if str(subOp.GetId()) == "" || str(subOp.GetClientContext()) != "ivr-tones" {
		t.Errorf("subscribeToTone: id %q, clientContext %q, want an id and ivr-tones", str(subOp.GetId()), str(subOp.GetClientContext()))
	}

	// The welcome prompt, then the recording, queued behind it.
	play, err := b.call(id).PlayPrompt().Post(t.Context(), playPromptBody("ivr-welcome", mediaPrompt(audio.promptPath, "ivr-welcome")), nil)
	if err != nil {
		t.Fatalf("playPrompt: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/playPrompt", http.StatusOK)
	if st := play.GetStatus(); st == nil || *st != models.RUNNING_OPERATIONSTATUS {
		t.Errorf("playPrompt: status %v, want Running", st)
	}
	playID := str(play.GetId())

	record := communications.NewCallsItemRecordResponsePostRequestBody()
	record.SetPlayBeep(ptr(false))
	record.SetStopTones([]string{"#"})
	record.SetMaxRecordDurationInSeconds(ptr(int32(20)))
	record.SetInitialSilenceTimeoutInSeconds(ptr(int32(5)))
	record.SetMaxSilenceTimeoutInSeconds(ptr(int32(5)))
	record.SetClientContext(ptr("ivr-record"))
	rec, err := b.call(id).RecordResponse().Post(t.Context(), record, nil)
	if err != nil {
		t.Fatalf("recordResponse: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/recordResponse", http.StatusOK)
	if st := rec.GetStatus(); st == nil || *st != models.RUNNING_OPERATIONSTATUS {
		t.Errorf("recordResponse: status %v, want Running", st)
	}
	recID := str(rec.GetId())
	if playID == "" || recID == "" || playID == recID {
		t.Fatalf("operation ids %q (playPrompt) and %q (recordResponse), want two different ids", playID, recID)
	}
	// The caller's script runs: the recording starts when the prompt ends,
	// before the caller speaks, and ends at its #.
	stepMedia(t, s, ivrPressStop+time.Second)

	// The prompt's completion: a playPromptOperation, Completed.
	n := rcv.operationDone(t, id, playID, "ivr-welcome")
	if _, ok := n.Operation.(models.PlayPromptOperationable); !ok {
		t.Errorf("playPrompt completion %s: decoded as %T, want a PlayPromptOperation: %s", n, n.Operation, n.Body)
	}
	checkResultInfo(t, "playPrompt completion", n.Operation.GetResultInfo(), 200, 0)

	// The recording's completion: a recordOperation with where to fetch it.
	// It ends at the caller's #; had the caller's script not run, it would
	// end at the initial silence timeout instead.
	recURL := "/communications/calls/" + id + "/operations/" + recID
	n = rcv.First(t, id, "the completion of recordResponse "+recID, func(n notification) bool { return n.ResourceURL == recURL })
	if st := n.Operation.GetStatus(); st == nil || *st != models.COMPLETED_OPERATIONSTATUS {
		var tones int
		for _, n := range rcv.Notifications(id) {
			if toneOf(n) != nil {
				tones++
			}
		}
		if tones == 0 {
			serverBug(t, "the incoming caller's Say script did not run: no tone notification for its 5 at %v or # at %v, and recordResponse, which should hold its speech at %v, ended with %s", ivrPressFive, ivrPressStop, ivrSpeak, n.Body)
		}
		t.Fatalf("recordResponse did not complete: %s", n.Body)
	}
	n = rcv.operationDone(t, id, recID, "ivr-record")
	recOp, ok := n.Operation.(models.RecordOperationable)
	if !ok {
		t.Fatalf("recordResponse completion %s: decoded as %T, want a RecordOperation: %s", n, n.Operation, n.Body)
	}
	checkResultInfo(t, "recordResponse completion", recOp.GetResultInfo(), 200, 8514)
	if got := additional(recOp, "completionReason"); got != "stopToneDetected" {
		t.Errorf("recordResponse completion: completionReason %q, want stopToneDetected: %s", got, n.Body)
	}
	location, token := str(recOp.GetRecordingLocation()), str(recOp.GetRecordingAccessToken())
	if location == "" || token == "" {
		t.Fatalf("recordResponse completion: recordingLocation %q, recordingAccessToken %q, want both: %s", location, token, n.Body)
	}

	// The tones the caller pressed, as the SDK's call model reads them: 5
	// during the prompt, then # (which also ends the recording).
	for i, want := range []models.Tone{models.TONE5_TONE, models.POUND_TONE} {
		seq := int64(i + 1)
		n := rcv.First(t, id, fmt.Sprintf("the tone notification with sequenceId %d (the caller's %s)", seq, want), func(n notification) bool {
			ti := toneOf(n)
			return ti != nil && ti.GetSequenceId() != nil && *ti.GetSequenceId() == seq
		})
		checkCallNotification(t, n, id, "updated", "established")
		ti := toneOf(n)
		if ti.GetTone() == nil || *ti.GetTone() != want {
			t.Errorf("tone notification %s: %s, want %s: %s", n, describeTone(ti), want, n.Body)
		}
		// toneInfo is a closed type: who pressed the key is an instance
		// annotation on the call, beside it.
		if got := additional(n.Call, calls.ToneParticipantAnnotation); got != callerID {
			t.Errorf("tone notification %s: %s %q, want the caller %s", n, calls.ToneParticipantAnnotation, got, callerID)
		}
		if extra := ti.GetAdditionalData(); len(extra) != 0 {
			t.Errorf("tone notification %s: toneInfo carries properties Graph's schema does not have: %v", n, extra)
		}
	}

	// The recording's link carries its token, so with an HTTPS listener it
	// is an https link, like the bot's own requests.
	if !strings.HasPrefix(location, s.HTTPS+"/") {
		t.Errorf("recordingLocation %s is not under the HTTPS listener %s", location, s.HTTPS)
	}
	// The recording is what the caller said, all of it, and not the prompt
	// (a leg records what it hears, which is everyone but itself).
	resp, wav := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodGet, location, token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download the recording: %s %s", resp.Status, wav)
	}
	recorded, err := media.DecodeWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatalf("the recording is not a WAV: %v", err)
	}
	if recorded.Duration() < audio.speech.Duration() {
		t.Fatalf("the recording lasts %v, shorter than the caller's %v of speech", recorded.Duration(), audio.speech.Duration())
	}
	if at, score := media.Locate(recorded, audio.speech); score < 0.9 {
		t.Errorf("the caller's speech is not in the recording: best match %.2f at %v of %v", score, media.SamplesDuration(at), recorded.Duration())
	}
	for _, hz := range []float64{600, 750, 900} {
		if lvl := media.Goertzel(recorded.Samples, hz); lvl < -40 {
			t.Errorf("the recording has %.1f dBFS at %v Hz, a syllable of the caller's speech", lvl, hz)
		}
	}
	if lvl := media.Goertzel(recorded.Samples, ivrPromptHz); lvl > -50 {
		t.Errorf("the recording has %.1f dBFS at the prompt's %v Hz: the bot recorded its own prompt", lvl, ivrPromptHz)
	}
	if resp, _ := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodGet, location, "not-the-token", nil, nil); resp.StatusCode == http.StatusOK {
		t.Errorf("the recording is served with a wrong access token: %s", resp.Status)
	}

	// The bot presses 4 and 2; the caller hears them, and heard the prompt.
	send := communications.NewCallsItemSendDtmfTonesPostRequestBody()
	send.SetTones([]models.Tone{models.TONE4_TONE, models.TONE2_TONE})
	send.SetDelayBetweenTonesMs(ptr(int32(200)))
	send.SetClientContext(ptr("ivr-dtmf"))
	dtmf, err := b.call(id).SendDtmfTones().Post(t.Context(), send, nil)
	if err != nil {
		t.Fatalf("sendDtmfTones: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/sendDtmfTones", http.StatusOK)
	if st := dtmf.GetStatus(); st == nil || *st != models.RUNNING_OPERATIONSTATUS {
		t.Errorf("sendDtmfTones: status %v, want Running", st)
	}
	stepMedia(t, s, time.Second)
	n = rcv.operationDone(t, id, str(dtmf.GetId()), "ivr-dtmf")
	sent, ok := n.Operation.(models.SendDtmfTonesOperationable)
	if !ok {
		t.Fatalf("sendDtmfTones completion %s: decoded as %T, want a SendDtmfTonesOperation: %s", n, n.Operation, n.Body)
	}
	if r := sent.GetCompletionReason(); r == nil || *r != models.COMPLETEDSUCCESSFULLY_SENDDTMFCOMPLETIONREASON {
		t.Errorf("sendDtmfTones completion: completionReason %v, want completedSuccessfully: %s", r, n.Body)
	}

	heard, keys := ctl.heard(t, id, callerID)
	if keys != "42" {
		t.Errorf("the caller recognised keys %q in what it heard, want 42 from sendDtmfTones", keys)
	}
	if at, score := media.Locate(heard, audio.prompt); score < 0.9 {
		t.Errorf("the caller did not hear the prompt: best match %.2f at %v of %v", score, media.SamplesDuration(at), heard.Duration())
	}
	if lvl := media.Goertzel(heard.Samples, ivrPromptHz); lvl < -40 {
		t.Errorf("what the caller heard has %.1f dBFS at the prompt's %v Hz", lvl, ivrPromptHz)
	}
	if _, score := media.Locate(heard, audio.speech); score > 0.5 {
		t.Errorf("the caller heard its own speech (match %.2f): a participant must hear everyone but itself", score)
	}

	// A long prompt, canceled: cancelMediaProcessing is Completed at once,
	// the prompt fails with 400/8508.
	long, err := b.call(id).PlayPrompt().Post(t.Context(), playPromptBody("ivr-long", mediaPrompt(audio.longPath, "ivr-long")), nil)
	if err != nil {
		t.Fatalf("playPrompt (long): %s", describe(err))
	}
	longID := str(long.GetId())
	cancel := communications.NewCallsItemCancelMediaProcessingPostRequestBody()
	cancel.SetClientContext(ptr("ivr-cancel"))
	canceled, err := b.call(id).CancelMediaProcessing().Post(t.Context(), cancel, nil)
	if err != nil {
		t.Fatalf("cancelMediaProcessing: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/cancelMediaProcessing", http.StatusOK)
	if st := canceled.GetStatus(); st == nil || *st != models.COMPLETED_OPERATIONSTATUS {
		t.Errorf("cancelMediaProcessing: status %v, want Completed", st)
	}
	if str(canceled.GetClientContext()) != "ivr-cancel" {
		t.Errorf("cancelMediaProcessing: clientContext %q, want ivr-cancel", str(canceled.GetClientContext()))
	}
	url := "/communications/calls/" + id + "/operations/" + longID
	n = rcv.First(t, id, "the failure of the canceled prompt "+longID, func(n notification) bool { return n.ResourceURL == url })
	if n.ChangeType != "deleted" {
		t.Errorf("canceled prompt %s: changeType %q, want deleted", n, n.ChangeType)
	}
	if _, ok := n.Operation.(models.PlayPromptOperationable); !ok {
		t.Fatalf("canceled prompt %s: decoded as %T, want a PlayPromptOperation: %s", n, n.Operation, n.Body)
	}
	if st := n.Operation.GetStatus(); st == nil || *st != models.FAILED_OPERATIONSTATUS {
		t.Errorf("canceled prompt %s: status %v, want Failed: %s", n, st, n.Body)
	}
	if str(n.Operation.GetClientContext()) != "ivr-long" {
		t.Errorf("canceled prompt %s: clientContext %q, want ivr-long", n, str(n.Operation.GetClientContext()))
	}
	checkResultInfo(t, "canceled prompt", n.Operation.GetResultInfo(), 400, 8508)

	// Every tone notification, in the end: the caller's two, nothing the
	// bot sent itself.
	var tones []string
	for _, n := range rcv.Notifications(id) {
		if ti := toneOf(n); ti != nil {
			tones = append(tones, describeTone(ti))
		}
	}
	if want := []string{"tone=tone5 sequenceId=1", "tone=pound sequenceId=2"}; strings.Join(tones, ", ") != strings.Join(want, ", ") {
		t.Errorf("tone notifications %q, want %q", tones, want)
	}

	// The bot hangs up.
	mark := rcv.lastSeq(id)
	if err := b.call(id).Delete(t.Context(), nil); err != nil {
		t.Fatalf("hang up: %s", describe(err))
	}
	rcv.expectStates(t, id, mark, "updated:terminating", "deleted:terminated")
}
