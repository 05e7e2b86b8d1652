package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
)

// lineSink collects what a receiver prints, one line at a time.
type lineSink struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func newLineSink() *lineSink { return &lineSink{lines: make(chan string, 1000)} }

func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		s.lines <- string(s.buf[:i])
		s.buf = s.buf[i+1:]
	}
}

// next returns the first line that has every one of wants, skipping others.
func (s *lineSink) next(t *testing.T, wants ...string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case l := <-s.lines:
			ok := true
			for _, w := range wants {
				ok = ok && strings.Contains(l, w)
			}
			if ok {
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("no line with %q in 10 s; saw:\n%s", wants, strings.Join(seen, "\n"))
		}
	}
}

// startReceiver runs switchboard callbacks with args until the test ends,
// and returns the callbackUri it prints and what it prints.
func startReceiver(t *testing.T, args ...string) (string, *lineSink) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newLineSink()
	var errOut bytes.Buffer
	uri := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runCallbacks(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), out, &errOut, func(u string) { uri <- u })
	}()
	var u string
	select {
	case u = <-uri:
	case err := <-done:
		t.Fatalf("callbacks %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("callbacks: %v", err)
		}
	})
	if !strings.Contains(errOut.String(), "callbackUri: "+u) {
		t.Errorf("callbacks printed %q, want the callbackUri %s", errOut.String(), u)
	}
	return u, out
}

// startDevServer runs a development server on loopback (with configure
// applied, when not nil) and returns its base URL.
func startDevServer(t *testing.T, configure func(*app.Config)) string {
	t.Helper()
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(t.TempDir(), "data")
	if configure != nil {
		configure(&cfg)
	}
	return runServer(t, cfg)
}

func devToken(t *testing.T, base string) string {
	t.Helper()
	res, err := http.PostForm(base+"/"+auth.DevTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {auth.DevClientID}, "client_secret": {auth.DevClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken
}

// graphCall sends a Graph request with the token and returns the status
// and the body.
func graphCall(t *testing.T, method, u, tok, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func createCall(t *testing.T, base, tok, callbackURI string) string {
	t.Helper()
	status, body := graphCall(t, "POST", base+"/v1.0/communications/calls", tok, `{"callbackUri":"`+callbackURI+`",
		"targets":[{"identity":{"user":{"id":"alice","displayName":"Alice"}}}],"requestedModalities":["audio"],
		"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`)
	var call struct{ ID string }
	if json.Unmarshal(body, &call); status != http.StatusCreated || call.ID == "" {
		t.Fatalf("create call: %d %s", status, body)
	}
	return call.ID
}

// postCallback sends a callback as the server would, with token in its
// Authorization header (none when empty).
func postCallback(t *testing.T, uri, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", uri, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Switchboard-Sequence", "7")
	req.Header.Set("Switchboard-Call-Id", "forged-call")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func signToken(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const stateEnvelope = `{"@odata.type":"#microsoft.graph.commsNotifications","value":[{"changeType":"updated",
	"resourceUrl":"/communications/calls/forged-call","resourceData":{"@odata.type":"#microsoft.graph.call","state":"established"}}]}`

// switchboard callbacks receives a development server's callbacks: it
// verifies their tokens as a bot does, prints a line for each state, and
// rejects a callback whose token another key signed.
func TestCallbacksAgainstDevServer(t *testing.T) {
	base := startDevServer(t, nil)
	uri, out := startReceiver(t, "--url", base)
	jsonURI, jsonOut := startReceiver(t, "--url", base, "--json")
	tok := devToken(t, base)

	id := createCall(t, base, tok, uri)
	out.next(t, "#1 "+id+" updated call establishing")
	out.next(t, "#2 "+id+" updated call established")
	if status, body := graphCall(t, "DELETE", base+"/v1.0/communications/calls/"+id, tok, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, body)
	}
	out.next(t, id+" updated call terminating")
	out.next(t, id+" deleted call terminated 200/5001 ")

	// Someone calls the application: the line names the caller.
	mustSB(t, "sim", "incoming", "--url", base, "--app", auth.DevClientID, "--from", "bob", "--name", "Bob", "--callback", uri)
	out.next(t, "#1 ", " created call incoming from user bob \"Bob\"")

	// The same, as JSON.
	id2 := createCall(t, base, tok, jsonURI)
	var states []string
	for len(states) < 2 {
		var l callbackLine
		raw := jsonOut.next(t, id2)
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("--json printed %q: %v", raw, err)
		}
		if l.CallID != id2 || l.Sequence != int64(len(states)+1) || l.Type != "call" || l.ChangeType != "updated" || l.Time.IsZero() {
			t.Fatalf("--json line %s", raw)
		}
		states = append(states, l.State)
	}
	if states[0] != "establishing" || states[1] != "established" {
		t.Fatalf("--json states %q", states)
	}
	graphCall(t, "DELETE", base+"/v1.0/communications/calls/"+id2, tok, "")
	var last callbackLine
	json.Unmarshal([]byte(jsonOut.next(t, id2, `"deleted"`)), &last)
	if last.State != "terminated" || last.ResultInfo == nil || last.ResultInfo.Code != 200 || last.ResultInfo.Subcode != 5001 {
		t.Fatalf("--json deleted line %+v", last)
	}

	// Forged: the claims are right but another key signed them, under the
	// server's key id or under one it does not publish.
	res, err := http.Get(base + "/callbacks/v1/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []struct{ Kid string } }
	json.NewDecoder(res.Body).Decode(&set)
	res.Body.Close()
	if len(set.Keys) == 0 {
		t.Fatal("the server publishes no callback key")
	}
	forger := newRSAKey(t)
	claims := jwt.MapClaims{"iss": auth.DefaultCallbackIssuer, "aud": auth.DevClientID, "tid": auth.DevTenantID,
		"iat": time.Now().Unix(), "nbf": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for _, tc := range []struct{ kid, reason string }{
		{set.Keys[0].Kid, "signature does not verify"},
		{"forged-kid", "does not publish"},
	} {
		forged := signToken(t, forger, tc.kid, claims)
		if status, body := postCallback(t, uri, forged, stateEnvelope); status != http.StatusUnauthorized || !strings.Contains(body, tc.reason) {
			t.Errorf("forged token with kid %s: %d %q", tc.kid, status, body)
		}
		if l := out.next(t, "REJECTED 401 #7 forged-call: "); !strings.Contains(l, tc.reason) {
			t.Errorf("forged token with kid %s printed %q", tc.kid, l)
		}
		postCallback(t, jsonURI, forged, stateEnvelope)
		var l callbackLine
		if err := json.Unmarshal([]byte(jsonOut.next(t, "forged-call")), &l); err != nil || !l.Rejected || l.HTTPStatus != 401 ||
			!strings.Contains(l.Reason, tc.reason) || l.Sequence != 7 || l.State != "" {
			t.Errorf("--json forged line %+v %v", l, err)
		}
	}
	if status, _ := postCallback(t, uri, "", stateEnvelope); status != http.StatusUnauthorized {
		t.Errorf("no token: %d", status)
	}
	out.next(t, "REJECTED 401 #7 forged-call: no Authorization: Bearer token")
}

// keyServer publishes callback keys as a Switchboard server does, and
// counts the fetches of its key set.
type keyServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetches atomic.Int32
}

func newKeyServer(t *testing.T) *keyServer {
	ks := &keyServer{keys: map[string]*rsa.PublicKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callbacks/v1/.well-known/OpenIdConfiguration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": auth.DefaultCallbackIssuer, "jwks_uri": ks.URL + "/callbacks/v1/keys"})
	})
	mux.HandleFunc("GET /callbacks/v1/keys", func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		set.Keys = append(set.Keys, map[string]string{"kty": "EC", "kid": "not-rsa"})
		for kid, k := range ks.keys {
			set.Keys = append(set.Keys, map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		json.NewEncoder(w).Encode(set)
	})
	ks.Server = httptest.NewServer(mux)
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) publish(kid string, k *rsa.PrivateKey) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys[kid] = &k.PublicKey
}

// A callback token is accepted only with a published key's signature,
// the issuer the server names, this application's audience, a tenant,
// and within its lifetime; the key set is fetched again for a key not
// seen yet, but not more often than every 10 s.
func TestCallbacksVerifyToken(t *testing.T) {
	ks := newKeyServer(t)
	key, other := newRSAKey(t), newRSAKey(t)
	ks.publish("k1", key)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	v := &callbackKeys{base: ks.URL, http: ks.Client(), now: func() time.Time { return now }}
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": auth.DefaultCallbackIssuer, "aud": auth.DevClientID, "tid": auth.DevTenantID,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(65 * time.Minute).Unix()}
	}
	with := func(k string, val any) jwt.MapClaims {
		c := good()
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
	hs.Header["kid"] = "k1"
	hsToken, _ := hs.SignedString([]byte("secret"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)

	for _, tc := range []struct {
		name, header, want string
	}{
		{"valid", "Bearer " + signToken(t, key, "k1", good()), ""},
		{"lower-case scheme", "bearer " + signToken(t, key, "k1", good()), ""},
		{"no header", "", "no Authorization: Bearer token"},
		{"basic", "Basic dTpw", "no Authorization: Bearer token"},
		{"garbage", "Bearer abc.def", "malformed token"},
		{"other key", "Bearer " + signToken(t, other, "k1", good()), "signature does not verify"},
		{"HS256 with the key id", "Bearer " + hsToken, "signed with HS256, not RS256"},
		{"alg none", "Bearer " + none, "not RS256"},
		{"no kid", "Bearer " + signToken(t, key, "", good()), "names no key"},
		{"expired", "Bearer " + signToken(t, key, "k1", with("exp", now.Add(-2*time.Minute).Unix())), "expired at"},
		{"within the leeway", "Bearer " + signToken(t, key, "k1", with("exp", now.Add(-30*time.Second).Unix())), ""},
		{"no exp", "Bearer " + signToken(t, key, "k1", with("exp", nil)), "no exp claim"},
		{"from the future", "Bearer " + signToken(t, key, "k1", with("nbf", now.Add(45*time.Minute).Unix())), "--clock virtual"},
		{"no nbf", "Bearer " + signToken(t, key, "k1", with("nbf", nil)), ""},
		{"other issuer", "Bearer " + signToken(t, key, "k1", with("iss", "https://evil.example")), `issuer "https://evil.example"`},
		{"no issuer", "Bearer " + signToken(t, key, "k1", with("iss", nil)), "issuer"},
		{"other audience", "Bearer " + signToken(t, key, "k1", with("aud", "someone-else")), "--client-id"},
		{"audience list", "Bearer " + signToken(t, key, "k1", with("aud", []string{"x", auth.DevClientID})), ""},
		{"no tenant", "Bearer " + signToken(t, key, "k1", with("tid", nil)), "no tid"},
	} {
		err := v.verify(tc.header, auth.DevClientID)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	future := with("nbf", nil)
	future["iat"] = now.Add(45 * time.Minute).Unix()
	if err := v.verify("Bearer "+signToken(t, key, "k1", future), auth.DevClientID); err == nil ||
		!strings.Contains(err.Error(), "not valid before "+now.Add(45*time.Minute).Local().Format(time.RFC3339)) {
		t.Errorf("issued in the future: %v", err)
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Errorf("the key set was fetched %d times, want once (cached)", n)
	}

	// A new key: fetched at once, as the cache is 10 s old.
	now = now.Add(11 * time.Second)
	ks.publish("k2", other)
	if err := v.verify("Bearer "+signToken(t, other, "k2", good()), auth.DevClientID); err != nil {
		t.Fatalf("a newly published key: %v", err)
	}
	// Unknown keys do not make it fetch again within 10 s...
	for range 5 {
		if err := v.verify("Bearer "+signToken(t, other, "k3", good()), auth.DevClientID); err == nil || !strings.Contains(err.Error(), "does not publish") {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Errorf("the key set was fetched %d times, want twice", n)
	}
	// ... but after.
	now = now.Add(10 * time.Second)
	ks.publish("k3", other)
	if err := v.verify("Bearer "+signToken(t, other, "k3", good()), auth.DevClientID); err != nil {
		t.Fatalf("a key published later: %v", err)
	}

	// No server: the reason says so, and nothing is accepted.
	down := &callbackKeys{base: "http://127.0.0.1:1", http: ks.Client(), now: func() time.Time { return now }}
	if err := down.verify("Bearer "+signToken(t, key, "k1", good()), auth.DevClientID); err == nil || !strings.Contains(err.Error(), "fetching the server's callback keys") {
		t.Errorf("no server: %v", err)
	}
}

// Callbacks that are not a verified commsNotifications envelope are
// answered 4xx and printed as REJECTED; the receiver stays up.
func TestCallbacksBadInput(t *testing.T) {
	ks := newKeyServer(t)
	key := newRSAKey(t)
	ks.publish("k1", key)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	out := newLineSink()
	rc := &receiver{keys: &callbackKeys{base: ks.URL, http: ks.Client(), now: func() time.Time { return now }},
		clientID: auth.DevClientID, out: out, now: func() time.Time { return now }}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	tok := signToken(t, key, "k1", jwt.MapClaims{"iss": auth.DefaultCallbackIssuer, "aud": auth.DevClientID,
		"tid": auth.DevTenantID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})

	huge := `{"value":[` + strings.Repeat(`{"changeType":"updated"},`, 50_000) + `{}]}`
	for _, tc := range []struct {
		name, body string
		status     int
		line       string
	}{
		{"not JSON", "hello", 400, "REJECTED 400 #7 forged-call: not a commsNotifications envelope: invalid character"},
		{"no value", `{"changeType":"updated"}`, 400, `REJECTED 400 #7 forged-call: not a commsNotifications envelope: no "value" array`},
		{"value not an array", `{"value":{}}`, 400, "REJECTED 400 #7 forged-call: not a commsNotifications envelope"},
		{"huge", huge, 413, "REJECTED 413 #7 forged-call: body larger than 1 MiB"},
		{"empty envelope", `{"value":[]}`, 202, "12:00:00.000 #7 forged-call (an envelope with no notifications)"},
		{"odd item", `{"value":[7]}`, 202, "#7 forged-call (unreadable notification: "},
		{"odd resourceData", `{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/c1","resourceData":{"state":5}}]}`, 202,
			"#7 c1 updated (unreadable resourceData: "},
		{"good", stateEnvelope, 202, "12:00:00.000 #7 forged-call updated call established"},
	} {
		if status, body := postCallback(t, srv.URL+"/any/path", tok, tc.body); status != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, status, body, tc.status)
		}
		if l := out.next(t, "#7"); !strings.HasPrefix(l, "12:00:00.000 ") || !strings.Contains(l, tc.line) {
			t.Errorf("%s printed %q, want %q", tc.name, l, tc.line)
		}
	}
	res, err := http.Get(srv.URL + "/callback")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", res.StatusCode)
	}
	out.next(t, "REJECTED 405 #?: method GET: callbacks are POSTs")
}

// Each kind of notification the server sends reads as one line with what
// a bot looks at first.
func TestCallbacksLines(t *testing.T) {
	head := callbackLine{Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Sequence: 3, CallID: "hdr", Attempt: 2, Replay: true}
	for _, tc := range []struct{ item, want string }{
		{`{"changeType":"created","resourceUrl":"/communications/calls/c1","resourceData":{"@odata.type":"#microsoft.graph.call","state":"incoming",
			"source":{"identity":{"@odata.type":"#microsoft.graph.identitySet","phone":{"id":"+15550123"}}}}}`,
			`12:00:00.000 #3 c1 created call incoming from phone +15550123 (attempt 2) (replay)`},
		{`{"changeType":"deleted","resource":"/app/calls/c1","resourceData":{"@odata.type":"#microsoft.graph.call","state":"terminated",
			"resultInfo":{"code":"408","subCode":"1106","message":"no answer\nin time"}}}`,
			`#3 c1 deleted call terminated 408/1106 "no answer\nin time"`},
		{`{"changeType":"deleted","resourceUrl":"/communications/calls/c1/operations/op1","resourceData":{"@odata.type":"#microsoft.graph.playPromptOperation",
			"status":"completed","resultInfo":{"code":200,"subcode":0,"message":"Action completed successfully."}}}`,
			`#3 c1 deleted playPromptOperation completed 200/0 "Action completed successfully."`},
		{`{"changeType":"updated","resourceUrl":"/communications/calls/c1","resourceData":{"@odata.type":"#microsoft.graph.call","state":"established",
			"toneInfo":{"sequenceId":1,"tone":"tone5"}}}`,
			`#3 c1 updated call established tone tone5`},
		{`{"changeType":"updated","resourceUrl":"/communications/calls/c1/participants","resourceData":[
			{"@odata.type":"#microsoft.graph.participant","id":"p1","info":{"identity":{"user":{"id":"alice","displayName":"Alice Smith"}}}},
			{"@odata.type":"#microsoft.graph.participant","id":"p2","info":{"identity":{"phone":{"id":"+15550123"}}}},
			{"id":"p3"}]}`,
			`#3 c1 updated participants 3: "Alice Smith", +15550123, p3`},
		{`{"changeType":"deleted","resourceUrl":"/communications/calls/c1","resourceData":{"@odata.id":"/communications/calls/c1"}}`,
			`#3 c1 deleted call (attempt`},
	} {
		lines, err := notificationLines(head, []byte(`{"value":[`+tc.item+`]}`))
		if err != nil || len(lines) != 1 || !strings.Contains(lines[0].text(), tc.want) {
			t.Errorf("%s\n -> %v %+v\nwant %q", tc.item, err, lines, tc.want)
		}
	}
	lines, _ := notificationLines(head, []byte(`{"value":[{"changeType":"deleted","resourceUrl":"/communications/calls/c1/operations/op1",
		"resourceData":{"@odata.type":"#microsoft.graph.recordOperation","status":"failed","resultInfo":{"code":400,"subcode":8508}}}]}`))
	js, _ := json.Marshal(lines[0])
	for _, want := range []string{`"sequence":3`, `"callId":"c1"`, `"type":"recordOperation"`, `"status":"failed"`, `"operationId":"op1"`,
		`"resultInfo":{"code":400,"subcode":8508}`, `"attempt":2`, `"replay":true`, `"time":"2025-03-01T12:00:00Z"`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("--json line %s lacks %s", js, want)
		}
	}
}

func TestCallbacksHelpAndListen(t *testing.T) {
	_, errOut, err := sb(t, "help", "callbacks")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("help callbacks: %v", err)
	}
	for _, want := range []string{"-listen", "-url", "-client-id", "-json", "-allow-remote", "SWITCHBOARD_CALLBACKS_LISTEN", "SWITCHBOARD_URL",
		"127.0.0.1:9000", "callbackUri", "REJECTED", "sequence", "resultInfo", "httpStatus", "OpenIdConfiguration", auth.DevClientID} {
		if !strings.Contains(errOut, want) {
			t.Errorf("callbacks --help does not mention %s", want)
		}
	}
	if out, _, _ := sb(t, "help"); !strings.Contains(out, "callbacks") {
		t.Error("the usage does not list callbacks")
	}
	for _, addr := range []string{"0.0.0.0:9000", ":9000", "[::]:9000", "example.com:9000"} {
		if _, _, err := sb(t, "callbacks", "--listen", addr); err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("callbacks --listen %s: %v", addr, err)
		}
	}
	if _, _, err := sb(t, "callbacks", "extra"); err == nil {
		t.Error("stray argument accepted")
	}
}

// Whatever a verified callback's body holds, the receiver prints one
// line per notification, each on one line, and its JSON reads back.
func FuzzCallbacksLines(f *testing.F) {
	f.Add([]byte(stateEnvelope), "3", "c1")
	f.Add([]byte(`{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/c1/participants","resourceData":[{"info":{"identity":{"user":{"displayName":"A\nB"}}}}]}]}`), "", "")
	f.Add([]byte(`{"value":[{"resourceData":{"resultInfo":{"code":"x","subcode":1e300,"message":"\u2028"},"source":{"identity":{"user":{"id":"a b"}}}}}]}`), "-1", "\xff\n")
	f.Add([]byte(`{"value":[null,[],"",{"resourceData":"x"},{"resource":"/calls"}]}`), "99999999999999999999", "c")
	f.Fuzz(func(t *testing.T, body []byte, seq, callID string) {
		h := http.Header{}
		h.Set("Switchboard-Sequence", seq)
		h.Set("Switchboard-Call-Id", callID)
		head := callbackLine{Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
		head.readHeaders(h)
		lines, err := notificationLines(head, body)
		if err != nil {
			lines = []callbackLine{{Time: head.Time, Rejected: true, HTTPStatus: 400, Reason: err.Error()}}
		}
		for _, l := range lines {
			txt := l.text()
			if strings.ContainsAny(txt, "\n\r") {
				t.Fatalf("line %q spans lines", txt)
			}
			js, err := json.Marshal(l)
			if err != nil || bytes.ContainsAny(js, "\n\r") {
				t.Fatalf("JSON %s: %v", js, err)
			}
			var back callbackLine
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatalf("JSON %s does not read back: %v", js, err)
			}
			if again, _ := json.Marshal(back); !bytes.Equal(js, again) {
				t.Fatalf("JSON %s read back as %s", js, again)
			}
		}
	})
}
