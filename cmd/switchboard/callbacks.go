package main

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

const callbacksUsage = `Usage: switchboard callbacks [flags]

Receives the notifications a server POSTs to a bot's callbackUri, checks
each one as a bot must, and prints it: somewhere to send callbacks while
you try the API with curl, before your bot exists. It prints the URL to
give as callbackUri (any path works), then one line per notification:

  switchboard callbacks
  # callbackUri: http://127.0.0.1:9000/callback

  15:04:05.120 #1 <callId> updated call establishing
  15:04:05.642 #2 <callId> updated call established
  15:04:09.310 #4 <callId> deleted call terminated 200/5001 "The conversation has ended."
  15:04:12.001 #1 <callId> created call incoming from user alice "Alice"
  15:04:13.450 #3 <callId> deleted playPromptOperation completed 200/0 "Action completed successfully."
  15:04:14.002 #5 <callId> updated participants 2: Alice, +15550123

Each line has the time it arrived, the Switchboard-Sequence header (#),
the call, the changeType, then the resource: a call's state, its
resultInfo (code/subcode "message") when present, the caller of an
incoming call and the tone a subscribed call heard; an operation's type,
status and resultInfo; a roster's participants. "(attempt N)" marks a
retry and "(replay)" a notification sent again by a replay.

Each callback is verified as a bot verifies Graph's: its Authorization
header must hold a bearer token signed (RS256) by a key the server
publishes, with the issuer the server names, aud = --client-id, a tid
(tenant) claim, and an exp not passed (one minute of leeway). The issuer
and the keys come from --url's callback OpenID configuration,
/callbacks/v1/.well-known/OpenIdConfiguration, and its jwks_uri; the keys
are cached and fetched again when a token names a key not seen yet (at
most once every 10 s). A verified callback is answered 202. Any other is
answered 401 (token), 400 (not a commsNotifications envelope), 405 (not a
POST) or 413 (a body over 1 MiB), and printed as
  15:04:15.000 REJECTED 401 #3 <callId>: <reason>
The server retries what was not answered 2xx, with backoff.

With --json each line is one JSON object instead, empty fields left out:
  time          when it arrived, RFC 3339
  sequence      the Switchboard-Sequence header, a number
  callId        the call: from resourceUrl, else the Switchboard-Call-Id header
  attempt       the Switchboard-Delivery-Attempt header, a number
  replay        true when the Switchboard-Replay header says so
  changeType    created, updated or deleted
  resourceUrl   as sent
  type          the resource's @odata.type without "#microsoft.graph.":
                call, playPromptOperation, ...; participants for a roster
  state         a call's state
  status        an operation's status
  operationId   an operation's id
  resultInfo    {"code": 200, "subcode": 5001, "message": "..."}
  source        the caller of an incoming call: {"kind": "user", "id": "alice", "displayName": "Alice"}
  tone          the tone a call heard (toneInfo.tone)
  participants  a roster's participants (display name, else id)
  note          what could not be read in the notification
  rejected      true for a callback that was not answered 202
  httpStatus    what a rejected callback was answered
  reason        why it was rejected

A development server sends http:// callbacks to loopback only, so the
receiver listens on loopback (localhost, 127.0.0.0/8, ::1) and refuses
other addresses unless --allow-remote is given. Stop it with Ctrl-C.

Flags:
`

// maxCallbackBody caps a callback's body; the server's envelopes are a
// few kilobytes.
const maxCallbackBody = 1 << 20

// keyRefetchInterval is the least time between two fetches of the key set
// caused by tokens naming unknown keys, so that forged tokens cannot make
// the receiver hammer the server.
const keyRefetchInterval = 10 * time.Second

func callbacksCmd(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCallbacks(ctx, args, stdout, stderr, nil)
}

// runCallbacks runs the receiver until ctx ends. started, when not nil,
// gets the callbackUri once the receiver listens.
func runCallbacks(ctx context.Context, args []string, stdout, stderr io.Writer, started func(callbackURI string)) error {
	fs := flag.NewFlagSet("callbacks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, callbacksUsage); fs.PrintDefaults() }
	listen := fs.String("listen", envOr("callbacks-listen", "127.0.0.1:9000"), "address to receive callbacks at (env "+envName("callbacks-listen")+")")
	allowRemote := fs.Bool("allow-remote", envBool("callbacks-allow-remote", false), "let --listen be a non-loopback address (env "+envName("callbacks-allow-remote")+")")
	base := fs.String("url", envOr("url", "http://127.0.0.1:8080"), "server base URL, where the callback signing keys are published (env "+envName("url")+")")
	clientID := fs.String("client-id", envOr("client-id", auth.DevClientID), "client id of the application the callbacks are for: the tokens' aud (env "+envName("client-id")+")")
	asJSON := fs.Bool("json", false, "print one JSON object a line (fields above) instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("callbacks: unexpected argument %q", fs.Arg(0))
	}
	if *clientID == "" {
		return errors.New("callbacks: --client-id is empty")
	}
	if !*allowRemote {
		if err := app.LoopbackOnly(*listen); err != nil {
			return fmt.Errorf("callbacks: --listen %q: %w; a development server sends http:// callbacks to loopback only (give --allow-remote to listen there anyway)", *listen, err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("callbacks: %w", err)
	}
	keys := &callbackKeys{base: strings.TrimRight(*base, "/"), http: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
	rc := &receiver{keys: keys, clientID: *clientID, json: *asJSON, out: stdout, now: time.Now}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}

	uri := "http://" + ln.Addr().String() + "/callback"
	fmt.Fprintf(stderr, "callbackUri: %s (any path works; callbacks for client id %s, keys from %s)\n", uri, *clientID, keys.base)
	if err := keys.load(); err != nil {
		fmt.Fprintf(stderr, "callbacks: %v; trying again at the first callback\n", err)
	}
	if started != nil {
		started(uri)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("callbacks: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// receiver is the HTTP handler of switchboard callbacks.
type receiver struct {
	keys     *callbackKeys
	clientID string
	json     bool
	now      func() time.Time

	mu  sync.Mutex // serialises writes to out
	out io.Writer
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := callbackLine{Time: rc.now()}
	m.readHeaders(r.Header)
	reject := func(status int, reason string) {
		m.Rejected, m.HTTPStatus, m.Reason = true, status, reason
		rc.print([]callbackLine{m})
		http.Error(w, reason, status)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, "method "+r.Method+": callbacks are POSTs")
		return
	}
	if err := rc.keys.verify(r.Header.Get("Authorization"), rc.clientID); err != nil {
		reject(http.StatusUnauthorized, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			reject(http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
		} else {
			reject(http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return
	}
	lines, err := notificationLines(m, body)
	if err != nil {
		reject(http.StatusBadRequest, err.Error())
		return
	}
	rc.print(lines)
	w.WriteHeader(http.StatusAccepted)
}

func (rc *receiver) print(lines []callbackLine) {
	var b strings.Builder
	for _, l := range lines {
		if rc.json {
			js, _ := json.Marshal(l)
			b.Write(js)
		} else {
			b.WriteString(l.text())
		}
		b.WriteByte('\n')
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	io.WriteString(rc.out, b.String())
}

// callbackLine is what switchboard callbacks prints for one notification
// or one rejected callback; see callbacksUsage for its JSON fields.
type callbackLine struct {
	Time         time.Time     `json:"time"`
	Sequence     int64         `json:"sequence,omitempty"`
	CallID       string        `json:"callId,omitempty"`
	Attempt      int           `json:"attempt,omitempty"`
	Replay       bool          `json:"replay,omitempty"`
	ChangeType   string        `json:"changeType,omitempty"`
	ResourceURL  string        `json:"resourceUrl,omitempty"`
	Type         string        `json:"type,omitempty"`
	State        string        `json:"state,omitempty"`
	Status       string        `json:"status,omitempty"`
	OperationID  string        `json:"operationId,omitempty"`
	ResultInfo   *lineResult   `json:"resultInfo,omitempty"`
	Source       *lineIdentity `json:"source,omitempty"`
	Tone         string        `json:"tone,omitempty"`
	Participants []string      `json:"participants,omitempty"`
	Note         string        `json:"note,omitempty"`
	Rejected     bool          `json:"rejected,omitempty"`
	HTTPStatus   int           `json:"httpStatus,omitempty"`
	Reason       string        `json:"reason,omitempty"`
}

type lineResult struct {
	Code    int64  `json:"code"`
	Subcode int64  `json:"subcode"`
	Message string `json:"message,omitempty"`
}

type lineIdentity struct {
	Kind        string `json:"kind"`
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// readHeaders fills the fields that come from the request's headers.
func (l *callbackLine) readHeaders(h http.Header) {
	l.Sequence, _ = strconv.ParseInt(h.Get(notify.HeaderSequence), 10, 64)
	l.Sequence = max(l.Sequence, 0)
	l.CallID = clean(h.Get(notify.HeaderCallID))
	if n, err := strconv.Atoi(h.Get(notify.HeaderAttempt)); err == nil && n > 0 {
		l.Attempt = n
	}
	l.Replay = strings.EqualFold(h.Get(notify.HeaderReplay), "true")
}

// text is the line's readable form: one line, whatever the fields hold.
func (l callbackLine) text() string {
	var b strings.Builder
	b.WriteString(l.Time.Format("15:04:05.000"))
	if l.Rejected {
		fmt.Fprintf(&b, " REJECTED %d", l.HTTPStatus)
	}
	if l.Sequence > 0 {
		fmt.Fprintf(&b, " #%d", l.Sequence)
	} else {
		b.WriteString(" #?")
	}
	if l.CallID != "" {
		b.WriteString(" " + word(l.CallID))
	}
	if l.Rejected {
		b.WriteString(": " + printable(l.Reason))
	}
	if l.ChangeType != "" {
		b.WriteString(" " + word(l.ChangeType))
	}
	if l.Type != "" {
		b.WriteString(" " + word(l.Type))
	}
	for _, s := range []string{l.State, l.Status} {
		if s != "" {
			b.WriteString(" " + word(s))
		}
	}
	if r := l.ResultInfo; r != nil {
		fmt.Fprintf(&b, " %d/%d", r.Code, r.Subcode)
		if r.Message != "" {
			b.WriteString(" " + strconv.Quote(r.Message))
		}
	}
	if s := l.Source; s != nil {
		b.WriteString(" from " + word(s.Kind))
		if s.ID != "" {
			b.WriteString(" " + word(s.ID))
		}
		if s.DisplayName != "" {
			b.WriteString(" " + strconv.Quote(s.DisplayName))
		}
	}
	if l.Tone != "" {
		b.WriteString(" tone " + word(l.Tone))
	}
	if l.Type == "participants" || len(l.Participants) > 0 {
		fmt.Fprintf(&b, " %d", len(l.Participants))
		for i, p := range l.Participants {
			if i == 0 {
				b.WriteString(":")
			} else {
				b.WriteString(",")
			}
			b.WriteString(" " + word(p))
		}
	}
	if l.Note != "" {
		b.WriteString(" (" + printable(l.Note) + ")")
	}
	if l.Attempt > 1 {
		fmt.Fprintf(&b, " (attempt %d)", l.Attempt)
	}
	if l.Replay {
		b.WriteString(" (replay)")
	}
	return b.String()
}

// word returns s as it is when it is printable and has no spaces, else
// quoted, so that a line stays one line of space-separated words.
func word(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == ' ' || r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// printable replaces control characters (line breaks among them) with spaces.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// clean makes a header value valid UTF-8, as JSON needs.
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// Notification shapes, read tolerantly: only what the lines show.
type (
	wireNotification struct {
		ChangeType   string          `json:"changeType"`
		Resource     string          `json:"resource"`
		ResourceURL  string          `json:"resourceUrl"`
		ResourceData json.RawMessage `json:"resourceData"`
	}
	wireResource struct {
		ODataType  string          `json:"@odata.type"`
		ID         string          `json:"id"`
		State      string          `json:"state"`
		Status     string          `json:"status"`
		ResultInfo *wireResultInfo `json:"resultInfo"`
		Source     *struct {
			Identity map[string]json.RawMessage `json:"identity"`
		} `json:"source"`
		Info *struct {
			Identity map[string]json.RawMessage `json:"identity"`
		} `json:"info"`
		ToneInfo *struct {
			Tone string `json:"tone"`
		} `json:"toneInfo"`
	}
	wireResultInfo struct {
		Code    flexInt `json:"code"`
		Subcode flexInt `json:"subcode"`
		SubCode flexInt `json:"subCode"` // in some of the docs' examples
		Message string  `json:"message"`
	}
)

// flexInt is a JSON number or a string holding one ("code": "200" is in
// the docs' examples); anything else reads as 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if x, ferr := strconv.ParseFloat(s, 64); ferr == nil && x >= -1<<53 && x <= 1<<53 {
			n = int64(x)
		}
	}
	*f = flexInt(n)
	return nil
}

// identityKinds are the members of an identitySet, in the order a caller
// is looked for.
var identityKinds = []string{"user", "phone", "applicationInstance", "application", "guest", "device",
	"azureCommunicationServicesUser", "onPremises", "encrypted", "assertedIdentity"}

func identityOf(set map[string]json.RawMessage) *lineIdentity {
	for _, kind := range identityKinds {
		raw, ok := set[kind]
		if !ok {
			continue
		}
		var id struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		}
		if json.Unmarshal(raw, &id) == nil && (id.ID != "" || id.DisplayName != "") {
			return &lineIdentity{Kind: kind, ID: id.ID, DisplayName: id.DisplayName}
		}
	}
	return nil
}

// maxListed bounds the participants a roster line names.
const maxListed = 20

// notificationLines reads a commsNotifications envelope: one line for
// each notification, with the request's fields of head. It fails only
// when body is not such an envelope; what it cannot read inside one is
// a line's note.
func notificationLines(head callbackLine, body []byte) ([]callbackLine, error) {
	var env struct {
		Value *[]json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("not a commsNotifications envelope: %v", err)
	}
	if env.Value == nil {
		return nil, errors.New(`not a commsNotifications envelope: no "value" array`)
	}
	if len(*env.Value) == 0 {
		head.Note = "an envelope with no notifications"
		return []callbackLine{head}, nil
	}
	lines := make([]callbackLine, 0, len(*env.Value))
	for _, raw := range *env.Value {
		lines = append(lines, notificationLine(head, raw))
	}
	return lines, nil
}

func notificationLine(l callbackLine, raw json.RawMessage) callbackLine {
	var n wireNotification
	if err := json.Unmarshal(raw, &n); err != nil {
		l.Note = "unreadable notification: " + err.Error()
		return l
	}
	l.ChangeType, l.ResourceURL = n.ChangeType, n.ResourceURL
	path := n.ResourceURL
	if path == "" {
		path = n.Resource
	}
	segs := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	var sub, subID string // what under the call, and its id
	for i, s := range segs {
		if strings.EqualFold(s, "calls") && i+1 < len(segs) {
			l.CallID = segs[i+1]
			if i+2 < len(segs) {
				sub = segs[i+2]
			}
			if i+3 < len(segs) {
				subID = segs[i+3]
			}
			break
		}
	}
	if strings.EqualFold(sub, "operations") {
		l.OperationID = subID
	}

	data := strings.TrimSpace(string(n.ResourceData))
	switch {
	case data == "" || data == "null":
		l.Type = "call"
		if sub != "" {
			l.Type = sub
		}
	case data[0] == '[':
		var items []wireResource
		if err := json.Unmarshal(n.ResourceData, &items); err != nil {
			l.Note = "unreadable resourceData: " + err.Error()
			return l
		}
		l.Type = sub
		if l.Type == "" {
			l.Type = "items"
		}
		l.Participants = []string{}
		for _, it := range items {
			if len(l.Participants) == maxListed {
				l.Note = fmt.Sprintf("%d in all", len(items))
				break
			}
			name := it.ID
			if it.Info != nil {
				if id := identityOf(it.Info.Identity); id != nil {
					name = id.ID
					if id.DisplayName != "" {
						name = id.DisplayName
					}
				}
			}
			l.Participants = append(l.Participants, name)
		}
	default:
		var it wireResource
		if err := json.Unmarshal(n.ResourceData, &it); err != nil {
			l.Note = "unreadable resourceData: " + err.Error()
			return l
		}
		l.Type = strings.TrimPrefix(it.ODataType, "#microsoft.graph.")
		if l.Type == "" {
			switch {
			case sub == "":
				l.Type = "call"
			case strings.EqualFold(sub, "operations"):
				l.Type = "commsOperation"
			default:
				l.Type = sub
			}
		}
		l.State, l.Status = it.State, it.Status
		if l.OperationID == "" && l.Type != "call" && strings.HasSuffix(l.Type, "Operation") {
			l.OperationID = it.ID
		}
		if r := it.ResultInfo; r != nil {
			sc := r.Subcode
			if sc == 0 {
				sc = r.SubCode
			}
			l.ResultInfo = &lineResult{Code: int64(r.Code), Subcode: int64(sc), Message: r.Message}
		}
		if it.Source != nil {
			l.Source = identityOf(it.Source.Identity)
		}
		if it.ToneInfo != nil {
			l.Tone = it.ToneInfo.Tone
		}
	}
	return l
}

// callbackKeys verifies callback tokens with the keys a server publishes.
type callbackKeys struct {
	base string // the server's base URL
	http *http.Client
	now  func() time.Time

	mu      sync.Mutex // held while fetching, so one fetch runs at a time
	issuer  string
	keys    map[string]*rsa.PublicKey
	fetched time.Time // of the last successful fetch
}

// load fetches the callback OpenID configuration and its key set.
func (k *callbackKeys) load() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fetchLocked()
}

func (k *callbackKeys) fetchLocked() error {
	var conf struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	confURL := k.base + "/callbacks/v1/.well-known/OpenIdConfiguration"
	if err := k.getJSON(confURL, &conf); err != nil {
		return err
	}
	if conf.Issuer == "" || conf.JWKSURI == "" {
		return fmt.Errorf("%s names no issuer or no jwks_uri", confURL)
	}
	var set struct {
		Keys []struct {
			Kty, Use, Kid, Alg, N, E string
		} `json:"keys"`
	}
	if err := k.getJSON(conf.JWKSURI, &set); err != nil {
		return err
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, j := range set.Keys {
		if j.Kty != "RSA" || (j.Use != "" && j.Use != "sig") || (j.Alg != "" && j.Alg != "RS256") || j.Kid == "" {
			continue
		}
		n, nerr := base64.RawURLEncoding.DecodeString(j.N)
		e, eerr := base64.RawURLEncoding.DecodeString(j.E)
		if nerr != nil || eerr != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		keys[j.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(keys) == 0 {
		return fmt.Errorf("%s publishes no RS256 signing key", conf.JWKSURI)
	}
	k.issuer, k.keys, k.fetched = conf.Issuer, keys, k.now()
	return nil
}

func (k *callbackKeys) getJSON(url string, v any) error {
	res, err := k.http.Get(url)
	if err != nil {
		return fmt.Errorf("fetching the server's callback keys: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the server's callback keys: GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxCallbackBody)).Decode(v); err != nil {
		return fmt.Errorf("fetching the server's callback keys: GET %s: %w", url, err)
	}
	return nil
}

// key returns the issuer the server names and its key kid, fetching the
// key set when it was never fetched or does not have kid (unless it was
// fetched less than keyRefetchInterval ago).
func (k *callbackKeys) key(kid string) (string, *rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if pub, ok := k.keys[kid]; ok {
		return k.issuer, pub, nil
	}
	if k.fetched.IsZero() || k.now().Sub(k.fetched) >= keyRefetchInterval {
		if err := k.fetchLocked(); err != nil {
			return "", nil, fmt.Errorf("cannot verify the token: %w", err)
		}
		if pub, ok := k.keys[kid]; ok {
			return k.issuer, pub, nil
		}
	}
	return "", nil, fmt.Errorf("signed with key %q, which %s does not publish: forged, or from another server", kid, k.base)
}

// verify checks an Authorization header as a bot checks Graph's callbacks.
// Its error is the reason, in words.
func (k *callbackKeys) verify(authorization, clientID string) error {
	scheme, tok, _ := strings.Cut(authorization, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return errors.New("no Authorization: Bearer token")
	}
	var issuer string
	var keyErr error // the key lookup's reason, when it fails
	keyfunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			keyErr = errors.New("the token names no key (kid)")
			return nil, keyErr
		}
		iss, pub, err := k.key(kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		issuer = iss
		return pub, nil
	}
	claims := jwt.MapClaims{}
	t, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(time.Minute), jwt.WithTimeFunc(k.now)).ParseWithClaims(tok, claims, keyfunc)
	if err != nil {
		return tokenReason(t, claims, err, keyErr)
	}
	// Issuer and audience are checked here rather than by the parser,
	// since the issuer is known only once the keys are.
	if iss, _ := claims.GetIssuer(); iss != issuer {
		return fmt.Errorf("issuer %q, but the server names %q", iss, issuer)
	}
	if aud, _ := claims.GetAudience(); !slices.Contains(aud, clientID) {
		return fmt.Errorf("audience %q, not this application's client id %s (--client-id)", []string(aud), clientID)
	}
	if tid, _ := claims["tid"].(string); tid == "" {
		return errors.New("no tid (tenant) claim")
	}
	return nil
}

// tokenReason says in words why the parser refused a token.
func tokenReason(t *jwt.Token, claims jwt.MapClaims, err, keyErr error) error {
	at := func(d *jwt.NumericDate, _ error) string {
		if d == nil {
			return "?"
		}
		return d.Local().Format(time.RFC3339)
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("malformed token: %v", err)
	case t != nil && t.Method != nil && t.Method.Alg() != "RS256":
		return fmt.Errorf("signed with %s, not RS256", t.Method.Alg())
	case keyErr != nil && errors.Is(err, keyErr):
		return keyErr
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("the signature does not verify with the server's key %q: forged, or altered", t.Header["kid"])
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("expired at %s", at(claims.GetExpirationTime()))
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		from := at(claims.GetNotBefore())
		if from == "?" {
			from = at(claims.GetIssuedAt())
		}
		return fmt.Errorf("not valid before %s, which is in the future (a server with --clock virtual after a jump signs in its own time)", from)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fmt.Errorf("no exp claim: %v", err)
	}
	return err
}
