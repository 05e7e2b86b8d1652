package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

const simUsage = `Usage: switchboard sim <command> [flags]

Drives simulated people and phones on a running server through the
extension API (/switchboard/v1/simulation), with an application that holds
the Switchboard.Admin role (by default the development application).
Switchboard.Admin acts in its own tenant only; Switchboard.Operator (granted
only in the server's configuration) in every tenant.

Commands:
  incoming   make a simulated person or phone call an application
  act        make a simulated participant answer, reject, hangUp, mute,
             unmute, shareScreen or stopSharing now
  press      make a simulated participant press DTMF keys now
  say        make a simulated participant say a WAV file now
  heard      save what a simulated participant heard (the last minute) as a
             WAV file, and print the DTMF keys it recognised
  show       show a call's conversation: legs and roster, whichever app owns it
  join       make a simulated person join a live meeting
  identity   set how a simulated identity behaves (answer, busy, ...)
  identities list the configured identity behaviours
  clock      show the server's time; with +DURATION, jump forward (a server
             started with --clock virtual; needs Switchboard.Operator)

Common flags (each also from the environment):
  --url            server base URL (SWITCHBOARD_URL, default http://127.0.0.1:8080)
  --tenant         tenant of the admin application (SWITCHBOARD_TENANT)
  --client-id      admin application's client id (SWITCHBOARD_CLIENT_ID)
  --client-secret  its secret (SWITCHBOARD_CLIENT_SECRET)

Examples:
  switchboard sim incoming --app 0000000d-0000-4000-8000-000000000002 --from alice --callback http://127.0.0.1:9000/webhook
  switchboard sim act <callId> <participantId> hangUp
  switchboard sim press <callId> <participantId> 123#
  switchboard sim say <callId> <participantId> greeting.wav
  switchboard sim heard <callId> <participantId> heard.wav
  switchboard sim join --join-meeting-id 123456789 --passcode secret --identity carol
  switchboard sim identity bob --behaviour busy --after 2s
  switchboard sim clock +45m
`

// simClient talks to the extension API with a token of an admin app.
type simClient struct {
	base, tenant, clientID, secret string
	http                           *http.Client
	out                            io.Writer
}

func simCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, simUsage)
		if len(args) == 0 {
			return errors.New("sim: no command given")
		}
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("sim "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &simClient{http: &http.Client{Timeout: 30 * time.Second}, out: stdout}
	fs.StringVar(&c.base, "url", envOr("url", "http://127.0.0.1:8080"), "server base URL")
	fs.StringVar(&c.tenant, "tenant", envOr("tenant", auth.DevTenantID), "tenant of the admin application")
	fs.StringVar(&c.clientID, "client-id", envOr("client-id", auth.DevClientID), "admin application's client id")
	fs.StringVar(&c.secret, "client-secret", envOr("client-secret", auth.DevClientSecret), "admin application's client secret")
	fs.Usage = func() { fmt.Fprint(stderr, simUsage+"\nFlags of "+cmd+":\n"); fs.PrintDefaults() }
	switch cmd {
	case "incoming":
		app := fs.String("app", "", "client id of the application to call (required)")
		appTenant := fs.String("app-tenant", "", "tenant of that application (default: --tenant)")
		from := fs.String("from", "", "id of the caller; a leading + makes it a phone (required)")
		name := fs.String("name", "", "caller's display name")
		callback := fs.String("callback", "", "where the incoming call notification goes (default: the application's registered webhook)")
		hangUp := fs.String("hang-up-after", "", "the caller hangs up this long after being answered, e.g. 30s")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *app == "" || *from == "" {
			return errors.New("sim incoming: --app and --from are required")
		}
		if *appTenant == "" {
			*appTenant = c.tenant
		}
		body := map[string]any{
			"to":   map[string]string{"applicationId": *app, "tenantId": *appTenant},
			"from": identityJSON(*from, *name),
		}
		if *callback != "" {
			body["callbackUri"] = *callback
		}
		if *hangUp != "" {
			body["behaviour"] = map[string]string{"hangUpAfter": *hangUp}
		}
		return c.do("POST", "/switchboard/v1/simulation/incomingCalls", body)
	case "act":
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 3 {
			return errors.New("sim act: want <callId> <participantId> <action>")
		}
		return c.do("POST", participantPath(fs.Arg(0), fs.Arg(1), fs.Arg(2)), nil)
	case "press":
		oob := fs.Bool("out-of-band", false, "send the keys out of band (as RFC 4733 events), not as audio")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 3 {
			return errors.New("sim press: want <callId> <participantId> <keys>")
		}
		return c.do("POST", participantPath(fs.Arg(0), fs.Arg(1), "pressTones"), map[string]any{"keys": fs.Arg(2), "outOfBand": *oob})
	case "say":
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 3 {
			return errors.New("sim say: want <callId> <participantId> <file.wav>")
		}
		wav, err := os.ReadFile(fs.Arg(2))
		if err != nil {
			return fmt.Errorf("sim say: %w", err)
		}
		return c.do("POST", participantPath(fs.Arg(0), fs.Arg(1), "say"), wavFile(wav))
	case "clock":
		if err := fs.Parse(rest); err != nil {
			return err
		}
		switch fs.NArg() {
		case 0:
			return c.do("GET", "/switchboard/v1/simulation/clock", nil)
		case 1:
			if !strings.HasPrefix(fs.Arg(0), "+") {
				return fmt.Errorf("sim clock: want +DURATION, such as +45m or +1h30m (time only moves forward), not %q", fs.Arg(0))
			}
			return c.do("POST", "/switchboard/v1/simulation/clock", map[string]string{"advance": fs.Arg(0)})
		}
		return errors.New("sim clock: want nothing (show the time) or +DURATION")
	case "heard":
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 3 {
			return errors.New("sim heard: want <callId> <participantId> <file.wav>")
		}
		return c.heard(participantPath(fs.Arg(0), fs.Arg(1), "heard"), fs.Arg(2))
	case "show":
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("sim show: want <callId>")
		}
		return c.do("GET", "/switchboard/v1/simulation/calls/"+url.PathEscape(fs.Arg(0)), nil)
	case "join":
		jmid := fs.String("join-meeting-id", "", "the meeting's join meeting id")
		pass := fs.String("passcode", "", "the meeting's passcode")
		thread := fs.String("thread-id", "", "the meeting's chat thread id (instead of --join-meeting-id)")
		id := fs.String("identity", "", "id of the person joining (required)")
		name := fs.String("name", "", "display name")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *id == "" || (*jmid == "") == (*thread == "") {
			return errors.New("sim join: --identity and one of --join-meeting-id or --thread-id are required")
		}
		body := map[string]any{"tenantId": c.tenant, "identity": identityJSON(*id, *name)}
		if *jmid != "" {
			body["meetingInfo"] = map[string]any{"@odata.type": "#microsoft.graph.joinMeetingIdMeetingInfo", "joinMeetingId": *jmid, "passcode": *pass}
		} else {
			body["chatInfo"] = map[string]any{"threadId": *thread}
			body["meetingInfo"] = map[string]any{"@odata.type": "#microsoft.graph.organizerMeetingInfo"}
		}
		return c.do("POST", "/switchboard/v1/simulation/meetings/join", body)
	case "identity":
		rule := map[string]*string{}
		for _, f := range []string{"behaviour", "after", "hangUpAfter", "muteAfter", "shareScreenAfter", "joinMeeting", "joinAfter", "displayName"} {
			rule[f] = fs.String(kebab(f), "", "the rule's "+f+" (see the README's simulation section)")
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("sim identity: want <identityId> and flags")
		}
		body := map[string]string{}
		for k, v := range rule {
			if *v != "" {
				body[k] = *v
			}
		}
		return c.do("PUT", "/switchboard/v1/simulation/identities/"+url.PathEscape(fs.Arg(0)), body)
	case "identities":
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return c.do("GET", "/switchboard/v1/simulation/identities", nil)
	default:
		fmt.Fprint(stderr, simUsage)
		return fmt.Errorf("sim: unknown command %q", cmd)
	}
}

func identityJSON(id, name string) map[string]any {
	ident := map[string]any{"id": id}
	if name != "" {
		ident["displayName"] = name
	}
	if strings.HasPrefix(id, "+") {
		return map[string]any{"phone": ident}
	}
	return map[string]any{"user": ident}
}

func kebab(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (c *simClient) token() (string, error) {
	res, err := c.http.PostForm(strings.TrimRight(c.base, "/")+"/"+url.PathEscape(c.tenant)+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.clientID}, "client_secret": {c.secret},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if err != nil {
		return "", fmt.Errorf("sim: getting a token: %w", err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken      string `json:"access_token"`
		ErrorDescription string `json:"error_description"`
	}
	json.NewDecoder(res.Body).Decode(&body)
	if body.AccessToken == "" {
		return "", fmt.Errorf("sim: the token service refused the credentials (%d): %s", res.StatusCode, body.ErrorDescription)
	}
	return body.AccessToken, nil
}

// heard saves what a participant heard to file and prints the keys it
// recognised.
func (c *simClient) heard(path, file string) error {
	tok, err := c.token()
	if err != nil {
		return err
	}
	req, err := http.NewRequest("GET", strings.TrimRight(c.base, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("sim: GET %s: %d %s", path, res.StatusCode, bytes.TrimSpace(body))
	}
	if err := os.WriteFile(file, body, 0o644); err != nil {
		return fmt.Errorf("sim heard: %w", err)
	}
	fmt.Fprintf(c.out, "wrote %s (%d bytes); keys heard: %q\n", file, len(body), res.Header.Get("Switchboard-Heard-Keys"))
	return nil
}

// participantPath is the simulation endpoint of a participant's action.
func participantPath(callID, participantID, action string) string {
	return "/switchboard/v1/simulation/calls/" + url.PathEscape(callID) + "/participants/" + url.PathEscape(participantID) + "/" + url.PathEscape(action)
}

// wavFile is a request body sent as it is, as audio/wav.
type wavFile []byte

// do sends a request with body as JSON (a wavFile as it is) and prints
// the response.
func (c *simClient) do(method, path string, body any) error {
	tok, err := c.token()
	if err != nil {
		return err
	}
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case wavFile:
		rd, contentType = bytes.NewReader(b), "audio/wav"
	default:
		js, _ := json.Marshal(body)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, strings.TrimRight(c.base, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("sim: %s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(out))
	}
	if len(out) > 0 {
		var pretty bytes.Buffer
		if json.Indent(&pretty, out, "", "  ") == nil {
			out = pretty.Bytes()
		}
		fmt.Fprintln(c.out, string(out))
	}
	return nil
}
