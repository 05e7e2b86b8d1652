package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// The tests of bots calling phones: the phone bot (phones_test.go) places
// calls to users bound to real SIP peers (static contacts), and joins a
// meeting a phone dials into. Like the phones' calls to the bot, they wait
// on notifications and process exits; only the phones' audio timing is
// wall-clock time, and it leaves seconds of margin.

// Users bound to the phones of these tests (each test has its own server).
const (
	phoneUser  = "7a000000-0000-4000-8000-0000000050a1"
	personUser = "7a000000-0000-4000-8000-0000000050b2"
)

// withContact binds the user to the SIP URI of a phone.
func withContact(user, uri string) func(*app.Config) {
	return func(cfg *app.Config) {
		cfg.SIP.Contacts = append(cfg.SIP.Contacts, phones.Contact{User: user, URI: uri})
	}
}

// call places the bot's peer-to-peer call to a user, with service-hosted
// media, and returns its id.
func (l *phoneLab) call(t *testing.T, user string) string {
	t.Helper()
	return str(createCall(t, l.bot.GraphServiceClient, callRequest(l.rcv.URL(), user)).GetId())
}

// sendTones makes the bot press keys in the call and waits until they are
// sent.
func (l *phoneLab) sendTones(t *testing.T, callID string, keys ...models.Tone) {
	t.Helper()
	send := communications.NewCallsItemSendDtmfTonesPostRequestBody()
	send.SetTones(keys)
	send.SetDelayBetweenTonesMs(ptr(int32(300)))
	send.SetClientContext(ptr("keys"))
	op, err := l.bot.call(callID).SendDtmfTones().Post(t.Context(), send, nil)
	if err != nil {
		t.Fatalf("sendDtmfTones: %s", describe(err))
	}
	l.rcv.operationDone(t, callID, str(op.GetId()), "keys")
}

// contains checks by correlation that what was heard (or recorded) holds
// a clip.
func contains(t *testing.T, heard media.Audio, clip media.Audio, what string) {
	t.Helper()
	at, score := media.Locate(heard, clip)
	t.Logf("%s: at %v of %v, correlation %.3f", what, media.SamplesDuration(at), heard.Duration(), score)
	if score < 0.9 {
		t.Errorf("%s: not found, best match %.2f", what, score)
	}
}

// keysIn returns the DTMF keys media's detector hears in a clip.
func keysIn(a media.Audio) string {
	var d media.DTMFDetector
	var keys []rune
	var f media.Frame
	for i := 0; i+media.FrameSamples <= len(a.Samples); i += media.FrameSamples {
		copy(f[:], a.Samples[i:])
		if k := d.Process(&f); k != 0 {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

// TestBotCallsEchoPhone: the bot calls a user bound to sipp, which answers
// and sends back every RTP packet it gets (-rtp_echo). While the bot
// records, it presses 1, 2 and # (sendDtmfTones: RFC 4733 events to a
// phone that negotiated them): the echo brings them back as the phone's, so
// the bot's tone subscription reports the three keys from the phone's
// participant, the recording ends at the # (a stop tone) and holds the 1
// and 2 as tones. The bot hangs up and sipp, which expects a BYE, exits 0.
//
// A prompt cannot be checked this way: a leg's prompts and recordings run
// one after the other, and the echo of a prompt ends with it (baresip's
// test, TestBotCallsPhone, checks prompts and recordings on a bot's call).
// The keys of sendDtmfTones are what a bot sends while it records.
func TestBotCallsEchoPhone(t *testing.T) {
	phone := newSippUAS(t, t.TempDir(), "echo")
	l := newPhoneLabWith(t, withContact(phoneUser, phone.URI), "sipp")
	t.Parallel()
	phone.start(t, "", 60*time.Second, "-rtp_echo")
	l.warmUp(t)

	id := l.call(t, phoneUser)
	l.rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	list, err := l.bot.call(id).Participants().Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("list participants: %s", describe(err))
	}
	callee := findParticipant(list.GetValue(), byUser(phoneUser))
	if callee == nil {
		t.Fatalf("the call's participants lack the phone's user %s: %s", phoneUser, describeRoster(list.GetValue()))
	}
	sub := communications.NewCallsItemSubscribeToTonePostRequestBody()
	sub.SetClientContext(ptr("tones"))
	if _, err := l.bot.call(id).SubscribeToTone().Post(t.Context(), sub, nil); err != nil {
		t.Fatalf("subscribeToTone: %s", describe(err))
	}
	recID := l.record(t, id, "record", 10, 5, "#")
	l.sendTones(t, id, models.TONE1_TONE, models.TONE2_TONE, models.POUND_TONE)
	recorded, rec := l.recording(t, id, recID, "record")
	if got := additional(rec, "completionReason"); got != "stopToneDetected" {
		t.Errorf("recordResponse completion: completionReason %q, want stopToneDetected (the echoed #)", got)
	}

	for i, want := range []models.Tone{models.TONE1_TONE, models.TONE2_TONE, models.POUND_TONE} {
		seq := int64(i + 1)
		n := l.rcv.First(t, id, "the echoed tone "+want.String(), func(n notification) bool {
			ti := toneOf(n)
			return ti != nil && ti.GetSequenceId() != nil && *ti.GetSequenceId() == seq
		})
		if ti := toneOf(n); ti.GetTone() == nil || *ti.GetTone() != want {
			t.Errorf("tone notification %s: %s, want %s: %s", n, describeTone(ti), want, n.Body)
		}
		if got := additional(n.Call, calls.ToneParticipantAnnotation); got != str(callee.GetId()) {
			t.Errorf("tone notification %s: %s %q, want the phone's participant %s", n, calls.ToneParticipantAnnotation, got, str(callee.GetId()))
		}
	}
	if keys := keysIn(recorded); keys != "12" {
		t.Errorf("the recording holds the keys %q, want the echoed 12 (the # stopped it)", keys)
	}
	for _, key := range []string{"1", "2"} {
		tone, err := media.DTMF(key, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		contains(t, recorded, tone, "the echoed key "+key+" in the recording")
	}

	l.hangUp(t, id)
	if code := phone.wait(t, phoneWait); code != 0 {
		t.Fatalf("sipp exited with %d: the phone did not get the BYE it expects", code)
	}
}

// TestBotCallsPhone: the bot calls a user bound to baresip, which answers
// at once and speaks after 5 s. The bot plays a prompt, records what the
// phone says, and presses 4 and 2; then it hangs up. The recording holds
// the phone's speech and what the phone heard holds the prompt; the keys
// reached it as RFC 4733 events (baresip logs them), not also as tones in
// its audio (media's DTMF detector finds none there).
func TestBotCallsPhone(t *testing.T) {
	requirePeers(t, "baresip", "espeak-ng", "sox", "timeout")
	dir := t.TempDir()
	speechPath := speechWAV(t, dir, "speech", "Pack my box with five dozen liquor jugs.")
	promptPath := speechWAV(t, dir, "prompt", "Hello from Switchboard.")
	speech, prompt := readWAV(t, speechPath), readWAV(t, promptPath)
	phone := newBaresip(t, dir, "carol")
	l := newPhoneLabWith(t, withContact(phoneUser, phone.URI), "baresip")
	t.Parallel()
	phone.start(t, padWAV(t, speechPath, 5*time.Second, 40*time.Second), 60*time.Second)
	l.warmUp(t)

	id := l.call(t, phoneUser)
	l.rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	play, err := l.bot.call(id).PlayPrompt().Post(t.Context(), playPromptBody("hello", mediaPrompt(promptPath, "hello")), nil)
	if err != nil {
		t.Fatalf("playPrompt: %s", describe(err))
	}
	recID := l.record(t, id, "record", 15, 2)
	l.rcv.operationDone(t, id, str(play.GetId()), "hello")
	recorded, _ := l.recording(t, id, recID, "record")
	l.sendTones(t, id, models.TONE4_TONE, models.TONE2_TONE)
	l.hangUp(t, id)
	phone.stop(t, phoneWait)

	// The bot's hang-up ends once the phone answered its BYE, so baresip
	// logged the call's end before it was stopped.
	log := phone.output()
	if closed, stopped := strings.Index(log, "session closed"), strings.Index(log, "terminated by signal"); closed < 0 || (stopped >= 0 && stopped < closed) {
		t.Errorf("baresip did not log the end of its call (a BYE) before it was stopped")
	}

	contains(t, recorded, speech, "the phone's speech in the recording")
	heard := baresipHeard(t, dir)
	contains(t, heard, prompt, "the prompt in what the phone heard")
	var events []string
	for _, line := range strings.Split(log, "received event: '")[1:] {
		if key, rest, ok := strings.Cut(line, "'"); ok && strings.HasPrefix(rest, " (end=1)") {
			events = append(events, key)
		}
	}
	if got := strings.Join(events, ""); got != "42" {
		t.Errorf("the phone got the RFC 4733 events %q, want 42", got)
	}
	if keys := keysIn(heard); keys != "" {
		t.Errorf("the phone heard the keys %q as tones too: keys go to a phone out of band only", keys)
	}
}

// TestBotCallsBusyPhone: the phone refuses the bot's call; 486 and 600 end
// it as busy (486/0), 603 as declined (603/0), and the phone gets the ACK
// of its response.
func TestBotCallsBusyPhone(t *testing.T) {
	for _, tc := range []struct {
		code            int
		reason          string
		result, subcode int32
	}{
		{486, "Busy Here", 486, 0},
		{600, "Busy Everywhere", 486, 0},
		{603, "Decline", 603, 0},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			phone := newSippUAS(t, t.TempDir(), "busy")
			l := newPhoneLabWith(t, withContact(phoneUser, phone.URI), "sipp")
			t.Parallel()
			phone.start(t, sippRefuses(tc.code, tc.reason), 30*time.Second)
			l.warmUp(t)
			id := l.call(t, phoneUser)
			l.terminated(t, id, tc.result, tc.subcode)
			if code := phone.wait(t, phoneWait); code != 0 {
				t.Fatalf("sipp exited with %d: the phone's %d was not acknowledged", code, tc.code)
			}
		})
	}
}

// TestBotCallsPhoneThatNeverAnswers: the phone rings and never answers;
// after the ring timeout (3 s here) the server cancels the INVITE (the
// phone's scenario expects the CANCEL and answers it, and the INVITE with
// 487) and the call ends with 408/10057.
func TestBotCallsPhoneThatNeverAnswers(t *testing.T) {
	phone := newSippUAS(t, t.TempDir(), "ringing")
	l := newPhoneLabWith(t, func(cfg *app.Config) {
		withContact(phoneUser, phone.URI)(cfg)
		cfg.Calls.RingTimeout = app.Duration(3 * time.Second)
	}, "sipp")
	t.Parallel()
	phone.start(t, sippRingsUntilCanceled, 40*time.Second)
	l.warmUp(t)
	id := l.call(t, phoneUser)
	l.terminated(t, id, 408, 10057)
	if code := phone.wait(t, phoneWait); code != 0 {
		t.Fatalf("sipp exited with %d: the phone did not get the CANCEL and the ACK of its 487", code)
	}
}

// TestPhoneInMeeting: the bot joins a meeting by its join id and a phone
// (baresip) dials sip:<join id>@server: the roster shows it as a phone
// participant. The bot records the phone's speech; then it invites a
// simulated person, whose script speaks a WAV a second after joining, and
// records that too (so the person is done speaking when the recording
// ends). The phone hangs up and leaves the roster; what it heard holds the
// person's speech.
func TestPhoneInMeeting(t *testing.T) {
	requirePeers(t, "baresip", "espeak-ng", "sox", "timeout")
	dir := t.TempDir()
	phoneSpeechPath := speechWAV(t, dir, "phone", "The five boxing wizards jump quickly.")
	personPath := speechWAV(t, dir, "person", "Sphinx of black quartz, judge my vow.")
	phoneSpeech, personSpeech := readWAV(t, phoneSpeechPath), readWAV(t, personPath)
	l := newPhoneLabWith(t, func(cfg *app.Config) {
		cfg.Simulation.Identities = append(cfg.Simulation.Identities, sim.Rule{
			ID: personUser, DisplayName: "Person", Say: []sim.Say{{At: "1s", WAV: personPath}},
		})
	}, "baresip", "espeak-ng", "sox")
	t.Parallel()
	l.warmUp(t)

	call := createCall(t, l.bot.GraphServiceClient, joinRequest(l.rcv.URL(), ""))
	id := str(call.GetId())
	l.rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")

	const number = "15550120"
	mark := l.rcv.lastSeq(id)
	joinID := strings.Join(strings.Fields(meetingID), "")
	phone := startBaresip(t, dir, number, padWAV(t, phoneSpeechPath, 5*time.Second, 60*time.Second), 90*time.Second,
		"/dial sip:"+joinID+"@"+l.sip)
	isPhone := func(p models.Participantable) bool { return phoneOf(p.GetInfo().GetIdentity()) == number }
	n := l.rcv.rosterAfter(t, id, mark, "with the phone "+number, func(r []models.Participantable) bool {
		return findParticipant(r, func(p models.Participantable) bool { return p.GetInfo() != nil && isPhone(p) }) != nil
	})
	t.Logf("roster with the phone: %s", describeRoster(n.Participants))

	recID := l.record(t, id, "phone", 15, 2)
	recorded, _ := l.recording(t, id, recID, "phone")
	contains(t, recorded, phoneSpeech, "the phone's speech in the bot's recording")

	mark = l.rcv.lastSeq(id)
	invite := communications.NewCallsItemParticipantsInvitePostRequestBody()
	invite.SetParticipants([]models.InvitationParticipantInfoable{userTarget(personUser)})
	invite.SetClientContext(ptr("invite"))
	if _, err := l.bot.call(id).Participants().Invite().Post(t.Context(), invite, nil); err != nil {
		t.Fatalf("invite the person: %s", describe(err))
	}
	l.rcv.rosterAfter(t, id, mark, "with the person", func(r []models.Participantable) bool {
		return findParticipant(r, byUser(personUser)) != nil
	})
	recID = l.record(t, id, "person", 15, 2)
	recorded, _ = l.recording(t, id, recID, "person")
	contains(t, recorded, personSpeech, "the person's speech in the bot's recording")

	mark = l.rcv.lastSeq(id)
	phone.stop(t, phoneWait) // baresip hangs up as it exits
	l.rcv.rosterAfter(t, id, mark, "without the phone", func(r []models.Participantable) bool {
		return findParticipant(r, byUser(personUser)) != nil &&
			findParticipant(r, func(p models.Participantable) bool { return p.GetInfo() != nil && isPhone(p) }) == nil
	})
	contains(t, baresipHeard(t, dir), personSpeech, "the person's speech in what the phone heard")
	l.hangUp(t, id)
}

// TestPhonePutThroughToEchoPhone: baresip calls the bot, which puts the
// call through to a user bound to sipp, which echoes every RTP packet:
// by a blind transfer once it answered, or by redirecting the call it has
// not answered. The bot's call ends (a completed transfer, or redirected),
// and the two phones talk on without it, bridged by the server's media:
// baresip, speaking 8 s after it is answered (seconds after it was put
// through), hears its own speech come back through the echo. When
// baresip's WAV ends it hangs up, and the server hangs the echo phone up:
// sipp, which expects a BYE, exits 0.
func TestPhonePutThroughToEchoPhone(t *testing.T) {
	for _, tc := range []struct {
		name, number string
		putThrough   func(l *phoneLab, t *testing.T, callID string)
	}{
		{"transfer", "15550130", func(l *phoneLab, t *testing.T, id string) {
			l.answer(t, id)
			if err := l.bot.call(id).Transfer().Post(t.Context(), transferBody(phoneUser, ""), nil); err != nil {
				t.Fatalf("transfer: %s", describe(err))
			}
			n := l.rcv.expectStates(t, id, 3, "updated:transferring", "updated:transferAccepted", "deleted:terminated")
			checkResult(t, n, 0, 7015)
		}},
		{"redirect", "15550132", func(l *phoneLab, t *testing.T, id string) {
			body := communications.NewCallsItemRedirectPostRequestBody()
			body.SetTargets([]models.InvitationParticipantInfoable{userTarget(phoneUser)})
			if err := l.bot.call(id).Redirect().Post(t.Context(), body, nil); err != nil {
				t.Fatalf("redirect: %s", describe(err))
			}
			n := l.rcv.expectStates(t, id, 1, "updated:redirecting", "deleted:terminated")
			checkResult(t, n, 200, 7000)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			echo := newSippUAS(t, t.TempDir(), "echo")
			l := newPhoneLabWith(t, withContact(phoneUser, echo.URI), "baresip", "sipp", "espeak-ng", "sox")
			t.Parallel()
			dir := t.TempDir()
			speechPath := speechWAV(t, dir, "speech", "Pack my box with five dozen liquor jugs.")
			speech := readWAV(t, speechPath)
			echo.start(t, "", 60*time.Second, "-rtp_echo")
			l.warmUp(t)

			phone := startBaresip(t, dir, tc.number, padWAV(t, speechPath, 8*time.Second, 4*time.Second), 60*time.Second, "/dial "+l.uri())
			id, _ := l.incoming(t, tc.number)
			tc.putThrough(l, t, id)
			if code := echo.wait(t, phoneWait); code != 0 {
				t.Fatalf("sipp exited with %d: the echo phone did not get the BYE it expects", code)
			}
			phone.stop(t, phoneWait)
			contains(t, baresipHeard(t, dir), speech, "the phone's own speech, echoed by the phone it was put through to")
		})
	}
}

// TestBotMutesPhone: the bot joins a meeting a phone (baresip) dials
// into; the phone says a sentence every 5 s. A recording hears it; once
// the bot mutes the phone's participant (a Graph participant mute), a
// recording hears nothing for longer than the phone's pauses (it ends
// with initialSilenceTimeout). (A phone cannot unmute itself: Teams'
// *6 is not implemented.)
func TestBotMutesPhone(t *testing.T) {
	l := newPhoneLab(t, "baresip", "espeak-ng", "sox")
	t.Parallel()
	dir := t.TempDir()
	speechPath := speechWAV(t, dir, "speech", "How vexingly quick daft zebras jump.")
	source := filepath.Join(dir, "speaking.wav")
	// Speech, then silence up to 5 s, twelve times over: a minute.
	run(t, dir, "sox", speechPath, source, "pad", "0", seconds(5*time.Second-readWAV(t, speechPath).Duration()), "repeat", "11")
	l.warmUp(t)

	id := str(createCall(t, l.bot.GraphServiceClient, joinRequest(l.rcv.URL(), "")).GetId())
	l.rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	const number = "15550131"
	mark := l.rcv.lastSeq(id)
	joinID := strings.Join(strings.Fields(meetingID), "")
	phone := startBaresip(t, dir, number, source, 90*time.Second, "/dial sip:"+joinID+"@"+l.sip)
	isPhone := func(p models.Participantable) bool {
		return p.GetInfo() != nil && phoneOf(p.GetInfo().GetIdentity()) == number
	}
	l.rcv.rosterAfter(t, id, mark, "with the phone "+number, func(r []models.Participantable) bool {
		return findParticipant(r, isPhone) != nil
	})
	list, err := l.bot.call(id).Participants().Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("list participants: %s", describe(err))
	}
	phoneID := str(findParticipant(list.GetValue(), isPhone).GetId())

	// listen records until 2 s of silence after speech, or initialSilence
	// seconds without any (the operation then fails with 400/8510), and
	// returns how the recording ended.
	listen := func(what string, initialSilence int32) string {
		t.Helper()
		op := l.record(t, id, what, initialSilence, 2)
		url := "/communications/calls/" + id + "/operations/" + op
		n := l.rcv.First(t, id, "the end of recording "+what, func(n notification) bool { return n.ResourceURL == url })
		if n.Operation == nil {
			t.Fatalf("operation notification %s: resourceData is not an operation", n)
		}
		return additional(n.Operation, "completionReason")
	}
	if got := listen("before", 6); got == "initialSilenceTimeout" {
		t.Fatal("the recording heard nothing of the phone before it was muted")
	}
	mark = l.rcv.lastSeq(id)
	if _, err := l.bot.call(id).Participants().ByParticipantId(phoneID).Mute().Post(t.Context(), communications.NewCallsItemParticipantsItemMutePostRequestBody(), nil); err != nil {
		t.Fatalf("mute the phone: %s", describe(err))
	}
	l.rcv.rosterAfter(t, id, mark, "with the phone muted", func(r []models.Participantable) bool {
		p := findParticipant(r, isPhone)
		return p != nil && p.GetIsMuted() != nil && *p.GetIsMuted()
	})
	if got := listen("muted", 6); got != "initialSilenceTimeout" {
		t.Errorf("recording the muted phone ended with %q, want initialSilenceTimeout: its voice is still in the mix", got)
	}
	l.hangUp(t, id) // before the phone leaves, whose roster update would come in between
	phone.stop(t, phoneWait)
}
