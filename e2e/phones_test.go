package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// The phone tests: real SIP peers (baresip and sipp, see sippeers_test.go)
// call a bot written with msgraph-sdk-go, in real time, through the
// server's SIP listener and real-time media engine. They wait on events
// (notifications, process exits), and where only the peer's audio timing
// can order things, it leaves seconds of margin.

// phoneBotApp is the application the phones call: sip:<client id>@host
// reaches it, and its webhook gets the incoming calls.
var phoneBotApp = appCreds{devTenant, "5ec0d0a9-0000-4000-8000-0000000000b7", "phone-bot-secret"}

// phoneWait bounds every wait of the phone tests: the calls last as long
// as their audio, seconds, on a machine that may be busy.
const phoneWait = 30 * time.Second

// phoneLab is a server with SIP, the bot phones call, and its receiver.
type phoneLab struct {
	s   *server
	rcv *receiver
	bot *bot
	sip string // the SIP listener, host:port
}

// newPhoneLab starts a server whose SIP listener phones call, with the
// phone bot registered. It skips the test (or fails it, see requirePeers)
// when a program it needs is not installed.
//
// Like newBot, it must be called before t.Parallel.
func newPhoneLab(t *testing.T, programs ...string) *phoneLab {
	t.Helper()
	return newPhoneLabWith(t, nil, programs...)
}

// newPhoneLabWith is newPhoneLab with configure applied to the server's
// configuration last, when it is not nil: for tests that bind identities
// to phones (cfg.SIP.Contacts) or give simulated people a script.
func newPhoneLabWith(t *testing.T, configure func(*app.Config), programs ...string) *phoneLab {
	t.Helper()
	requirePeers(t, append(programs, "timeout")...)
	rcv := newReceiver(t)
	rcv.timeout = phoneWait
	s := startServerWith(t, "", func(cfg *app.Config) {
		cfg.Apps = append(cfg.Apps, app.AppConfig{
			ClientID: phoneBotApp.clientID, TenantID: phoneBotApp.tenant, DisplayName: "Phone bot", Secret: phoneBotApp.secret,
			Roles: []string{auth.RoleCallsInitiate, auth.RoleCallsInitiateGroupCall, auth.RoleCallsJoinGroupCall, auth.RoleCallsAccessMedia}, Webhook: rcv.URL(),
		})
		if configure != nil {
			configure(cfg)
		}
	})
	sip := s.Addr("sip")
	if sip == "" {
		t.Fatal("the server serves no SIP in development mode")
	}
	return &phoneLab{s: s, rcv: rcv, bot: newBot(t, s, phoneBotApp), sip: sip}
}

// uri is the SIP URI of the phone bot at the server.
func (l *phoneLab) uri() string { return "sip:" + phoneBotApp.clientID + "@" + l.sip }

// warmUp gets the bot its token, as a running bot has one before a phone
// rings.
func (l *phoneLab) warmUp(t *testing.T) {
	t.Helper()
	if _, err := l.bot.Communications().Calls().Get(t.Context(), nil); err != nil {
		t.Fatalf("list calls: %s", describe(err))
	}
}

// incoming waits for the phone's call to reach the bot's webhook and
// checks its notification: an incoming call from the phone number. It
// returns the call's id and the phone's participant id.
func (l *phoneLab) incoming(t *testing.T, number string) (callID, phoneID string) {
	t.Helper()
	l.rcv.waitUntil(t, "an incoming call", func() bool {
		for id := range l.rcv.calls {
			callID = id
			return true
		}
		return false
	})
	n := l.rcv.Nth(t, callID, 1)
	checkCallNotification(t, n, callID, "created", "incoming")
	if d := n.Call.GetDirection(); d == nil || *d != models.INCOMING_CALLDIRECTION {
		t.Errorf("incoming call notification: direction %v, want incoming", d)
	}
	src := n.Call.GetSource()
	if src == nil || phoneOf(src.GetIdentity()) != number || str(src.GetParticipantId()) == "" {
		t.Fatalf("incoming call notification: source is not the phone %s with a participant id: %s", number, n.Body)
	}
	if n.Path != "/callback" {
		t.Errorf("incoming call notification posted to %s, want the webhook /callback", n.Path)
	}
	return callID, str(src.GetParticipantId())
}

// phoneOf is the phone number of an identity set, or "".
func phoneOf(id models.IdentitySetable) string {
	if id == nil {
		return ""
	}
	if c, ok := id.(models.CommunicationsIdentitySetable); ok && c.GetPhone() != nil {
		return str(c.GetPhone().GetId())
	}
	if p, ok := id.GetAdditionalData()["phone"].(map[string]any); ok {
		switch v := p["id"].(type) {
		case *string:
			return str(v)
		case string:
			return v
		}
	}
	return ""
}

// answer answers the call with service-hosted media and waits until it is
// established.
func (l *phoneLab) answer(t *testing.T, callID string) {
	t.Helper()
	if err := l.bot.call(callID).Answer().Post(t.Context(), answerBody(l.rcv.URL()), nil); err != nil {
		t.Fatalf("answer: %s", describe(err))
	}
	l.rcv.expectStates(t, callID, 1, "updated:establishing", "updated:established")
}

// hangUp hangs the call up and waits until it is terminated.
func (l *phoneLab) hangUp(t *testing.T, callID string) {
	t.Helper()
	mark := l.rcv.lastSeq(callID)
	if err := l.bot.call(callID).Delete(t.Context(), nil); err != nil {
		t.Fatalf("hang up: %s", describe(err))
	}
	l.rcv.expectStates(t, callID, mark, "updated:terminating", "deleted:terminated")
}

// terminated waits for the call's terminated notification and checks its
// result.
func (l *phoneLab) terminated(t *testing.T, callID string, code, subcode int32) {
	t.Helper()
	n := l.rcv.First(t, callID, "the terminated notification", func(n notification) bool { return n.State() == "terminated" })
	checkResult(t, n, code, subcode)
}

// record starts a recordResponse without a beep: it ends at a stop tone,
// once maxSilence seconds passed after speech, or after initialSilence
// seconds without any. It returns the operation's id.
func (l *phoneLab) record(t *testing.T, callID, clientContext string, initialSilence, maxSilence int32, stopTones ...string) string {
	t.Helper()
	record := communications.NewCallsItemRecordResponsePostRequestBody()
	record.SetPlayBeep(ptr(false))
	record.SetMaxRecordDurationInSeconds(ptr(int32(20)))
	record.SetInitialSilenceTimeoutInSeconds(&initialSilence)
	record.SetMaxSilenceTimeoutInSeconds(&maxSilence)
	record.SetStopTones(stopTones)
	record.SetClientContext(&clientContext)
	op, err := l.bot.call(callID).RecordResponse().Post(t.Context(), record, nil)
	if err != nil {
		t.Fatalf("recordResponse: %s", describe(err))
	}
	return str(op.GetId())
}

// recording waits for the recordResponse to complete and downloads what it
// recorded. It returns the recording and its completion.
func (l *phoneLab) recording(t *testing.T, callID, opID, clientContext string) (media.Audio, models.RecordOperationable) {
	t.Helper()
	n := l.rcv.operationDone(t, callID, opID, clientContext)
	rec, ok := n.Operation.(models.RecordOperationable)
	if !ok {
		t.Fatalf("recordResponse completion %s: decoded as %T, want a RecordOperation: %s", n, n.Operation, n.Body)
	}
	location, token := str(rec.GetRecordingLocation()), str(rec.GetRecordingAccessToken())
	if location == "" || token == "" {
		t.Fatalf("recordResponse completion: no recordingLocation or recordingAccessToken: %s", n.Body)
	}
	resp, wav := graphRequest(t, devHTTPClient(t, l.s.DevCA()), http.MethodGet, location, token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download the recording: %s %s", resp.Status, wav)
	}
	a, err := media.DecodeWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatalf("the recording is not a WAV: %v", err)
	}
	return a, rec
}

// TestPhoneCallsIVR: baresip calls the bot, which answers, plays a prompt
// and records what the phone says after it. The phone hears the prompt
// and the recording holds the phone's speech, both checked by correlation
// with their source audio through G.711; the bot hangs up.
func TestPhoneCallsIVR(t *testing.T) {
	l := newPhoneLab(t, "baresip", "espeak-ng", "sox")
	t.Parallel()
	dir := t.TempDir()
	// The phone speaks 5 s after it is answered, leaving the bot seconds
	// to queue its operations, and is silent for long after: baresip
	// hangs up when its WAV ends.
	speechPath := speechWAV(t, dir, "speech", "The quick brown fox jumps over the lazy dog.")
	source := padWAV(t, speechPath, 5*time.Second, 40*time.Second)
	promptPath := speechWAV(t, dir, "prompt", "Welcome to Switchboard.")
	speech, prompt := readWAV(t, speechPath), readWAV(t, promptPath)
	l.warmUp(t)

	phone := startBaresip(t, dir, "15550100", source, 60*time.Second, "/dial "+l.uri())
	id, _ := l.incoming(t, "15550100")
	l.answer(t, id)

	play, err := l.bot.call(id).PlayPrompt().Post(t.Context(), playPromptBody("welcome", mediaPrompt(promptPath, "welcome")), nil)
	if err != nil {
		t.Fatalf("playPrompt: %s", describe(err))
	}
	recID := l.record(t, id, "record", 15, 2)
	l.rcv.operationDone(t, id, str(play.GetId()), "welcome")
	recorded, _ := l.recording(t, id, recID, "record")
	l.hangUp(t, id)
	phone.stop(t, phoneWait)

	at, score := media.Locate(recorded, speech)
	t.Logf("the phone's speech is in the %v recording at %v, correlation %.3f", recorded.Duration(), media.SamplesDuration(at), score)
	if score < 0.9 {
		t.Errorf("the phone's speech is not in the recording: best match %.2f", score)
	}
	heard := baresipHeard(t, dir)
	at, score = media.Locate(heard, prompt)
	t.Logf("the prompt is in the %v the phone heard at %v, correlation %.3f", heard.Duration(), media.SamplesDuration(at), score)
	if score < 0.9 {
		t.Errorf("the phone did not hear the prompt: best match %.2f", score)
	}
}

// TestPhoneDTMF: sipp calls the bot, which answers and subscribes to
// tones; the phone sends a key with RFC 4733 (with the payload type its
// offer gave telephone-event: sipp's play_dtmf sends 96, its pcaps 101),
// then another as in-band tones. The bot gets both, each naming the
// phone's participant, and hangs up: the phone gets a BYE.
func TestPhoneDTMF(t *testing.T) {
	for _, tc := range []struct {
		name    string
		eventPT int
		rfc4733 string // sipp's exec action
		key     models.Tone
		inband  models.Tone
		low     int // the in-band key's tones, Hz
		high    int
	}{
		{"PT96", 96, `play_dtmf="3"`, models.TONE3_TONE, models.TONE7_TONE, 852, 1209},
		{"PT101", 101, `play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"`, models.TONE1_TONE, models.TONE9_TONE, 852, 1477},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newPhoneLab(t, "sipp", "sox")
			t.Parallel()
			dir := t.TempDir()
			inband := ulawWAV(t, dtmfWAV(t, dir, "inband", tc.low, tc.high, 250*time.Millisecond, 100*time.Millisecond, 500*time.Millisecond))
			l.warmUp(t)
			// The phone waits 3 s after its ACK before its first key: the
			// bot subscribes to tones as soon as the call is established.
			scenario := sippCall("15550101", tc.eventPT, false) + sippAnswered +
				sippPause(3*time.Second) + sippExec(tc.rfc4733) +
				sippPause(1500*time.Millisecond) + sippExec(`rtp_stream="`+inband+`,1,0"`) +
				sippAwaitBye
			phone := startSipp(t, dir, scenario, l.sip, phoneBotApp.clientID, 40*time.Second)

			id, phoneID := l.incoming(t, "15550101")
			l.answer(t, id)
			sub := communications.NewCallsItemSubscribeToTonePostRequestBody()
			sub.SetClientContext(ptr("tones"))
			if _, err := l.bot.call(id).SubscribeToTone().Post(t.Context(), sub, nil); err != nil {
				t.Fatalf("subscribeToTone: %s", describe(err))
			}
			for i, want := range []models.Tone{tc.key, tc.inband} {
				seq := int64(i + 1)
				n := l.rcv.First(t, id, fmt.Sprintf("the tone notification %d (%s)", seq, want), func(n notification) bool {
					ti := toneOf(n)
					return ti != nil && ti.GetSequenceId() != nil && *ti.GetSequenceId() == seq
				})
				if ti := toneOf(n); ti.GetTone() == nil || *ti.GetTone() != want {
					t.Errorf("tone notification %s: %s, want %s: %s", n, describeTone(ti), want, n.Body)
				}
				if got := additional(n.Call, calls.ToneParticipantAnnotation); got != phoneID {
					t.Errorf("tone notification %s: %s %q, want the phone's participant %s", n, calls.ToneParticipantAnnotation, got, phoneID)
				}
			}
			l.hangUp(t, id)
			if code := phone.wait(t, phoneWait); code != 0 {
				t.Fatalf("sipp exited with %d: the phone did not get the BYE it expects", code)
			}
			var tones []string
			for _, n := range l.rcv.Notifications(id) {
				if ti := toneOf(n); ti != nil {
					tones = append(tones, describeTone(ti))
				}
			}
			if len(tones) != 2 {
				t.Errorf("tone notifications %q, want the phone's two keys", tones)
			}
		})
	}
}

// TestPhoneHangUp: either side of an answered call hangs up. When the
// phone does (BYE), the call ends with 200/4521, over UDP and TCP alike;
// when the bot does (DELETE), the phone gets a BYE.
func TestPhoneHangUp(t *testing.T) {
	for _, tc := range []struct {
		transport string
		options   []string
	}{{"UDP", nil}, {"TCP", []string{"-t", "t1"}}} {
		t.Run("phone first over "+tc.transport, func(t *testing.T) {
			l := newPhoneLab(t, "sipp")
			t.Parallel()
			l.warmUp(t)
			phone := startSipp(t, t.TempDir(), sippCall("15550102", 101, false)+sippAnswered+sippPause(500*time.Millisecond)+sippHangUp,
				l.sip, phoneBotApp.clientID, 30*time.Second, tc.options...)
			id, _ := l.incoming(t, "15550102")
			l.answer(t, id)
			l.terminated(t, id, 200, 4521)
			if code := phone.wait(t, phoneWait); code != 0 {
				t.Fatalf("sipp exited with %d: its BYE was not answered with 200", code)
			}
		})
	}
	t.Run("bot first", func(t *testing.T) {
		l := newPhoneLab(t, "sipp")
		t.Parallel()
		l.warmUp(t)
		phone := startSipp(t, t.TempDir(), sippCall("15550103", 101, false)+sippAnswered+sippAwaitBye,
			l.sip, phoneBotApp.clientID, 30*time.Second)
		id, _ := l.incoming(t, "15550103")
		l.answer(t, id)
		l.hangUp(t, id)
		if code := phone.wait(t, phoneWait); code != 0 {
			t.Fatalf("sipp exited with %d: the phone did not get a BYE", code)
		}
	})
}

// TestPhoneCancels: the phone hangs up while the bot's call rings
// (CANCEL): the incoming call ends with 200/4097 and the INVITE with 487.
func TestPhoneCancels(t *testing.T) {
	l := newPhoneLab(t, "sipp")
	t.Parallel()
	l.warmUp(t)
	phone := startSipp(t, t.TempDir(), sippCall("15550104", 101, true)+sippCancel, l.sip, phoneBotApp.clientID, 30*time.Second)
	id, _ := l.incoming(t, "15550104")
	l.terminated(t, id, 200, 4097)
	if code := phone.wait(t, phoneWait); code != 0 {
		t.Fatalf("sipp exited with %d: the CANCEL or the 487 went wrong", code)
	}
}
