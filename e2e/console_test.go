package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// The console's browser tests: e2e/browser/console.mjs drives Debian's
// Chromium with Playwright (playwright-core from npm) against a server the
// test starts, while the test makes the calls through msgraph-sdk-go and
// checks what the page reports. Screenshots of the pages go to
// SWITCHBOARD_ARTIFACTS (default: a directory of the test's own).

// browserEnv, set to 1 (scripts/test does), makes a missing browser, Node
// or playwright-core a failure instead of a skip.
const browserEnv = "SWITCHBOARD_BROWSER"

// browserDir holds the browser tests' script and npm packages.
func browserDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "browser")
}

// requireBrowser checks that the browser tests can run: node, Chromium and
// the npm packages (scripts/test installs them).
func requireBrowser(t *testing.T) {
	t.Helper()
	if clusterRun() {
		t.Skip("a cluster run covers the Graph API; the browser tests run in the single-node run")
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (apt-get install nodejs)")
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		missing = append(missing, chromiumPath()+" (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(browserDir(t), "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "playwright-core (npm ci in e2e/browser)")
	}
	if len(missing) == 0 {
		return
	}
	msg := "browser test needs " + strings.Join(missing, ", ")
	if os.Getenv(browserEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, browserEnv)
	}
	t.Skipf("%s; scripts/test installs them", msg)
}

func chromiumPath() string {
	if p := os.Getenv("SB_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// artifactsDir is where the screenshots go.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SWITCHBOARD_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserRun runs one scenario of console.mjs with env added. Each line
// the script prints is handed to onLine, with send to write the script a
// command line; the last line is its result, decoded into result. It
// fails the test when the script fails.
func browserRun(t *testing.T, scenario string, env map[string]string, onLine func(line string, send func(cmd string)), result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console.mjs", scenario)
	cmd.Dir = browserDir(t)
	cmd.Env = append(os.Environ(), "SB_CHROMIUM="+chromiumPath(), "SB_ARTIFACTS="+artifactsDir(t))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	send := func(line string) {
		if _, err := io.WriteString(in, line+"\n"); err != nil {
			t.Errorf("browser scenario %s: sending %q: %v", scenario, line, err)
		}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var last string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		last = sc.Text()
		if onLine != nil {
			onLine(last, send)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser scenario %s: %v\n%s", scenario, err, stderr.String())
	}
	if err := json.Unmarshal([]byte(last), result); err != nil {
		t.Fatalf("browser scenario %s printed %q: %v\n%s", scenario, last, err, stderr.String())
	}
}

// consoleApp is an application without Switchboard.Admin: it sees only
// its own calls in the console.
var consoleApp = appCreds{devTenant, "5ec0d0a9-0000-4000-8000-0000000000c0", "console-app-secret"}

func withConsoleApp(cfg *app.Config) {
	cfg.Apps = append(cfg.Apps, app.AppConfig{ClientID: consoleApp.clientID, TenantID: consoleApp.tenant, DisplayName: "Console test bot",
		Secret: consoleApp.secret, Roles: []string{auth.RoleCallsInitiate}})
}

// The console lists a call that a bot made through msgraph-sdk-go, shows
// its roster and notifications, and shows its end as it happens; a change
// without the CSRF token is refused; an application without admin signs in
// and sees only its own calls.
func TestConsole(t *testing.T) {
	requireBrowser(t)
	s := startServerWith(t, "", withConsoleApp)
	rcv := newReceiver(t)
	dev, own := newBot(t, s, devApp), newBot(t, s, consoleApp)

	id := str(createCall(t, dev.GraphServiceClient, callRequest(rcv.URL(), alice)).GetId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")

	t.Run("list, call, live end", func(t *testing.T) {
		var res struct {
			RowText            string
			SignedInAs         string
			Roster             []string
			Timeline           []string
			Notifications      int
			EndedLive          bool
			NotificationsAfter int
			ConsoleErrors      []string
		}
		browserRun(t, "list", map[string]string{"SB_URL": s.HTTP, "SB_CALL_ID": id}, func(line string, _ func(string)) {
			if strings.Contains(line, `"ready":true`) {
				if err := dev.call(id).Delete(t.Context(), nil); err != nil {
					t.Errorf("hang up: %s", describe(err))
				}
			}
		}, &res)
		if !strings.Contains(res.RowText, devClientID) || !strings.Contains(res.RowText, "established") || !strings.Contains(res.RowText, alice) {
			t.Errorf("the call's row: %q; want the application, the state and the callee", res.RowText)
		}
		if !strings.Contains(res.SignedInAs, devClientID) || !strings.Contains(res.SignedInAs, "development mode") {
			t.Errorf("signed in as %q; want the development application", res.SignedInAs)
		}
		if len(res.Roster) < 2 || !strings.Contains(strings.Join(res.Roster, "\n"), alice) {
			t.Errorf("roster %q; want the bot and %s", res.Roster, alice)
		}
		if res.Notifications < 2 || len(res.Timeline) < 2 || !strings.Contains(res.Timeline[1], "established") {
			t.Errorf("%d notifications, timeline %q; want establishing then established", res.Notifications, res.Timeline)
		}
		if !res.EndedLive || res.NotificationsAfter <= res.Notifications {
			t.Errorf("after the hang-up: ended %v, %d notifications (before %d); want the page to show the end by itself", res.EndedLive, res.NotificationsAfter, res.Notifications)
		}
		if len(res.ConsoleErrors) > 0 {
			t.Errorf("the page logged errors: %q", res.ConsoleErrors)
		}
	})

	t.Run("incoming call placed from the page", func(t *testing.T) {
		var res struct {
			CallID        string
			EndedByCaller bool
			ConsoleErrors []string
		}
		browserRun(t, "incoming", map[string]string{"SB_URL": s.HTTP, "SB_FROM": carol, "SB_CALLBACK": rcv.URL()}, func(line string, _ func(string)) {
			var placed struct{ Placed string }
			if json.Unmarshal([]byte(line), &placed) != nil || placed.Placed == "" {
				return
			}
			n := rcv.Nth(t, placed.Placed, 1)
			checkCallNotification(t, n, placed.Placed, "created", "incoming")
			if err := dev.call(placed.Placed).Answer().Post(t.Context(), answerBody(rcv.URL()), nil); err != nil {
				t.Errorf("answer: %s", describe(err))
			}
		}, &res)
		if res.CallID == "" || !res.EndedByCaller {
			t.Fatalf("the page placed call %q, ended by the caller: %v", res.CallID, res.EndedByCaller)
		}
		end := rcv.First(t, res.CallID, "the end of the call", func(n notification) bool { return n.ChangeType == "deleted" })
		checkResult(t, end, 200, 4521) // the other participant hung up
		if len(res.ConsoleErrors) > 0 {
			t.Errorf("the page logged errors: %q", res.ConsoleErrors)
		}
	})

	t.Run("the browser calls the bot", func(t *testing.T) {
		// The browser's microphone speaks a signal that cannot be matched
		// at the wrong offset; Chromium loops it.
		spoken := media.Speechlike(2 * time.Second)
		var b bytes.Buffer
		if err := media.EncodeWAV(&b, spoken); err != nil {
			t.Fatal(err)
		}
		wav := filepath.Join(t.TempDir(), "mic.wav")
		if err := os.WriteFile(wav, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		promptPath := writeIVRWAV(t, t.TempDir(), "prompt.wav", media.Tone(1000, 1500*time.Millisecond, -12))
		var callID, heardStage string
		var res struct {
			CallID        string
			HungUp        bool
			ConsoleErrors []string
		}
		browserRun(t, "webrtc", map[string]string{"SB_URL": s.HTTP, "SB_FROM": "browser-" + dave, "SB_CALLBACK": rcv.URL(), "SB_WAV": wav},
			func(line string, send func(string)) {
				var msg struct {
					Placed  string
					InCall  bool
					Pressed string
					Heard   *struct {
						Best     []float64
						Together float64
					}
				}
				if json.Unmarshal([]byte(line), &msg) != nil {
					return
				}
				switch {
				case msg.Placed != "":
					callID = msg.Placed
					checkCallNotification(t, rcv.Nth(t, callID, 1), callID, "created", "incoming")
					if err := dev.call(callID).Answer().Post(t.Context(), answerBody(rcv.URL()), nil); err != nil {
						t.Errorf("answer: %s", describe(err))
					}
				case msg.InCall:
					recorded := recordBrowser(t, s, dev, rcv, callID)
					if at, score := media.Locate(recorded, media.Audio{Samples: spoken.Samples[:media.DurationSamples(500*time.Millisecond)]}); score < 0.9 {
						t.Errorf("the browser's microphone is not in the bot's recording: best match %.2f at %v of %v", score, media.SamplesDuration(at), recorded.Duration())
					}
					send("press 159")
				case msg.Pressed != "":
					for i, want := range []models.Tone{models.TONE1_TONE, models.TONE5_TONE, models.TONE9_TONE} {
						seq := int64(i + 1)
						n := rcv.First(t, callID, fmt.Sprintf("the tone %s the browser pressed", want), func(n notification) bool {
							ti := toneOf(n)
							return ti != nil && ti.GetSequenceId() != nil && *ti.GetSequenceId() == seq
						})
						if ti := toneOf(n); ti.GetTone() == nil || *ti.GetTone() != want {
							t.Errorf("tone %d: %s, want %s", seq, describeTone(ti), want)
						}
					}
					// The bot plays a 1 kHz prompt: the page listens for it.
					play := communications.NewCallsItemPlayPromptPostRequestBody()
					play.SetPrompts([]models.Promptable{mediaPrompt(promptPath, "browser-prompt")})
					if _, err := dev.call(callID).PlayPrompt().Post(t.Context(), play, nil); err != nil {
						t.Errorf("playPrompt: %s", describe(err))
					}
					heardStage = "prompt"
					send("listen 2000 1000 2500")
				case msg.Heard != nil && heardStage == "prompt":
					t.Logf("the page heard, during the prompt: %v dB at 1000 and 2500 Hz", msg.Heard.Best)
					// 1 kHz loud, an unrelated frequency not.
					if b := msg.Heard.Best; len(b) != 2 || b[0] < -50 || b[0]-b[1] < 20 {
						t.Errorf("the page heard %v dB at 1000 and 2500 Hz; want the prompt's 1 kHz tone, well above", b)
					}
					// The bot presses 7: the page hears its two tones at once.
					keys := communications.NewCallsItemSendDtmfTonesPostRequestBody()
					keys.SetTones([]models.Tone{models.TONE7_TONE})
					if _, err := dev.call(callID).SendDtmfTones().Post(t.Context(), keys, nil); err != nil {
						t.Errorf("sendDtmfTones: %s", describe(err))
					}
					heardStage = "dtmf"
					send("listen 1500 852 1209")
				case msg.Heard != nil && heardStage == "dtmf":
					t.Logf("the page heard, during the 7: 852 and 1209 Hz together at %.1f dB (each: %v)", msg.Heard.Together, msg.Heard.Best)
					if msg.Heard.Together < -50 {
						t.Errorf("the page did not hear the bot's 7 (852 and 1209 Hz together): at best %.1f dB (each: %v)", msg.Heard.Together, msg.Heard.Best)
					}
					send("hangup")
				}
			}, &res)
		if !res.HungUp {
			t.Fatalf("the page did not hang up: %+v", res)
		}
		end := rcv.First(t, callID, "the end of the call", func(n notification) bool {
			return n.ChangeType == "deleted" && n.ResourceURL == "/communications/calls/"+callID
		})
		checkCallNotification(t, end, callID, "deleted", "terminated")
		if len(res.ConsoleErrors) > 0 {
			t.Errorf("the page logged errors: %q", res.ConsoleErrors)
		}
	})

	t.Run("a participant says a WAV; the page plays the recording", func(t *testing.T) {
		speaker := "7a000000-0000-4000-8000-00000005ea4e"
		id := str(createCall(t, dev.GraphServiceClient, callRequest(rcv.URL(), speaker)).GetId())
		rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
		said := media.Speechlike(2 * time.Second)
		var b bytes.Buffer
		if err := media.EncodeWAV(&b, said); err != nil {
			t.Fatal(err)
		}
		wav := filepath.Join(t.TempDir(), "say.wav")
		if err := os.WriteFile(wav, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		var opID string
		var res struct {
			RecordingSeconds float64
			ConsoleErrors    []string
		}
		browserRun(t, "media", map[string]string{"SB_URL": s.HTTP, "SB_CALL_ID": id, "SB_SAY_WAV": wav}, func(line string, send func(string)) {
			switch {
			case strings.Contains(line, `"ready":true`):
				opID = startRecording(t, dev, id, 6)
				send("say")
			case strings.Contains(line, `"spoke":true`):
				recorded, _ := fetchRecording(t, s, rcv, id, opID, "browser-record")
				if at, score := media.Locate(recorded, media.Audio{Samples: said.Samples[:media.DurationSamples(time.Second)]}); score < 0.9 {
					t.Errorf("the WAV said from the page is not in the bot's recording: best match %.2f at %v of %v", score, media.SamplesDuration(at), recorded.Duration())
				}
				send("play " + opID)
			}
		}, &res)
		if res.RecordingSeconds < 2 {
			t.Errorf("the page played a recording of %.2f s; want the bot's recording (over 2 s)", res.RecordingSeconds)
		}
		if len(res.ConsoleErrors) > 0 {
			t.Errorf("the page logged errors: %q", res.ConsoleErrors)
		}
		if err := dev.call(id).Delete(t.Context(), nil); err != nil {
			t.Errorf("hang up: %s", describe(err))
		}
	})

	t.Run("the browser joins a meeting", func(t *testing.T) {
		const passcode = "Br0wser"
		id := str(createCall(t, dev.GraphServiceClient, joinRequest(rcv.URL(), passcode)).GetId())
		rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
		user := "browser-" + carol
		var res struct {
			HungUp        bool
			ConsoleErrors []string
		}
		var mark int64 // the roster notification that showed the user muted
		browserRun(t, "meeting", map[string]string{"SB_URL": s.HTTP, "SB_MEETING": meetingID, "SB_PASSCODE": passcode, "SB_FROM": user},
			func(line string, send func(string)) {
				switch {
				case strings.Contains(line, `"joined":true`):
					rcv.rosterAfter(t, id, 0, "with the browser's user", hasUsers(user))
					send("mute")
				case strings.Contains(line, `"muted":true`):
					n := rcv.rosterAfter(t, id, 0, "with the browser's user muted", func(r []models.Participantable) bool {
						p := findParticipant(r, func(p models.Participantable) bool { return userOf(p) == user })
						return p != nil && isMuted(p)
					})
					mark = n.Seq
					send("hangup")
				}
			}, &res)
		if !res.HungUp {
			t.Fatalf("the page did not leave the meeting: %+v", res)
		}
		rcv.rosterAfter(t, id, mark, "without the browser's user, after it left", func(r []models.Participantable) bool {
			return findParticipant(r, func(p models.Participantable) bool { return userOf(p) == user }) == nil
		})
		if err := dev.call(id).Delete(t.Context(), nil); err != nil {
			t.Errorf("hang up the meeting: %s", describe(err))
		}
		if len(res.ConsoleErrors) > 0 {
			t.Errorf("the page logged errors: %q", res.ConsoleErrors)
		}
	})

	t.Run("a call rings in the browser", func(t *testing.T) {
		user := "browser-" + bob
		var declined, answered string
		var res struct {
			EndedLive     bool
			ConsoleErrors []string
		}
		browserRun(t, "ring", map[string]string{"SB_URL": s.HTTP, "SB_USER": user}, func(line string, send func(string)) {
			var msg struct {
				Reachable, Declined, Answered bool
				Ringing                       string
			}
			if json.Unmarshal([]byte(line), &msg) != nil {
				return
			}
			switch {
			case msg.Reachable:
				declined = str(createCall(t, dev.GraphServiceClient, callRequest(rcv.URL(), user)).GetId())
				send("waitRing")
			case msg.Ringing != "":
				if !strings.Contains(msg.Ringing, devClientID) {
					t.Errorf("the page shows %q ringing; want the calling application", msg.Ringing)
				}
				if answered == "" && declined != "" && !strings.HasPrefix(declined, "done:") {
					send("decline")
				} else {
					send("answer")
				}
			case msg.Declined:
				end := rcv.First(t, declined, "the end of the declined call", func(n notification) bool {
					return n.ChangeType == "deleted" && n.ResourceURL == "/communications/calls/"+declined
				})
				checkResult(t, end, 603, 0)
				declined = "done:" + declined
				answered = str(createCall(t, dev.GraphServiceClient, callRequest(rcv.URL(), user)).GetId())
				send("waitRing")
			case msg.Answered:
				rcv.expectStates(t, answered, 0, "updated:establishing", "updated:established")
				if err := dev.call(answered).Delete(t.Context(), nil); err != nil {
					t.Errorf("hang up: %s", describe(err))
				}
				send("waitEnded")
			}
		}, &res)
		if !res.EndedLive {
			t.Fatalf("the page did not show the end of the answered call: %+v", res)
		}
		if len(res.ConsoleErrors) > 0 {
			t.Errorf("the page logged errors: %q", res.ConsoleErrors)
		}
	})

	t.Run("csrf", func(t *testing.T) {
		var res struct{ WithoutToken int }
		browserRun(t, "csrf", map[string]string{"SB_URL": s.HTTP}, nil, &res)
		if res.WithoutToken != 403 {
			t.Errorf("a POST through the console without the CSRF token: %d, want 403", res.WithoutToken)
		}
	})

	t.Run("an application sees its own calls", func(t *testing.T) {
		mine := str(createCall(t, own.GraphServiceClient, callRequest(rcv.URL(), bob)).GetId())
		var res struct {
			Rows   []string
			Cookie []struct {
				HTTPOnly bool `json:"httpOnly"`
				SameSite string
			}
			ScriptSeesCookie bool
			ConsoleErrors    []string
		}
		browserRun(t, "signin", map[string]string{"SB_URL": s.HTTP, "SB_TENANT": consoleApp.tenant, "SB_CLIENT_ID": consoleApp.clientID,
			"SB_CLIENT_SECRET": consoleApp.secret, "SB_OWN_CALL": mine}, nil, &res)
		if fmt.Sprint(res.Rows) != fmt.Sprint([]string{mine}) {
			t.Errorf("the application's list: %v; want only its call %s (not the development application's %s)", res.Rows, mine, id)
		}
		if len(res.Cookie) != 1 || !res.Cookie[0].HTTPOnly || res.Cookie[0].SameSite != "Strict" || res.ScriptSeesCookie {
			t.Errorf("session cookie %+v (script sees it: %v); want one, HttpOnly, SameSite=Strict", res.Cookie, res.ScriptSeesCookie)
		}
	})
}

// recordBrowser subscribes the bot to tones and records 3 s of the
// recordBrowser subscribes the bot to tones, records up to 3 s of call id
// and returns what it recorded.
func recordBrowser(t *testing.T, s *server, b *bot, rcv *receiver, id string) media.Audio {
	t.Helper()
	sub := communications.NewCallsItemSubscribeToTonePostRequestBody()
	if _, err := b.call(id).SubscribeToTone().Post(t.Context(), sub, nil); err != nil {
		t.Fatalf("subscribeToTone: %s", describe(err))
	}
	a, _ := fetchRecording(t, s, rcv, id, startRecording(t, b, id, 3), "browser-record")
	return a
}

// startRecording starts a recordResponse of at most seconds on call id,
// with the client context "browser-record", and returns its operation id.
func startRecording(t *testing.T, b *bot, id string, seconds int32) string {
	t.Helper()
	record := communications.NewCallsItemRecordResponsePostRequestBody()
	record.SetPlayBeep(ptr(false))
	record.SetMaxRecordDurationInSeconds(ptr(seconds))
	record.SetInitialSilenceTimeoutInSeconds(ptr(int32(5)))
	record.SetMaxSilenceTimeoutInSeconds(ptr(int32(5)))
	record.SetClientContext(ptr("browser-record"))
	op, err := b.call(id).RecordResponse().Post(t.Context(), record, nil)
	if err != nil {
		t.Fatalf("recordResponse: %s", describe(err))
	}
	return str(op.GetId())
}

// fetchRecording waits for recordResponse opID of call id to complete and
// downloads its recording, as a bot does; it returns the audio and the
// recording's location.
func fetchRecording(t *testing.T, s *server, rcv *receiver, id, opID, clientContext string) (media.Audio, string) {
	t.Helper()
	n := rcv.operationDone(t, id, opID, clientContext)
	rec, ok := n.Operation.(models.RecordOperationable)
	if !ok {
		t.Fatalf("recordResponse completion: %s", n.Body)
	}
	location, token := str(rec.GetRecordingLocation()), str(rec.GetRecordingAccessToken())
	resp, wav := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodGet, location, token, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download the recording: %s %s", resp.Status, wav)
	}
	a, err := media.DecodeWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatalf("the recording is not a WAV: %v", err)
	}
	return a, location
}
