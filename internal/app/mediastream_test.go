package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/mediastream"
)

// appHostedCall creates a call to a simulated user with app-hosted media
// whose blob is blob, and returns the response.
func appHostedCall(t *testing.T, base, tok, hookURL, blob string) result {
	t.Helper()
	b, _ := json.Marshal(blob)
	return call(t, "POST", base+"/v1.0/communications/calls", tok, `{"callbackUri":"`+hookURL+`/cb","targets":[{"identity":{"user":{"id":"streamed"}}}],
		"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.appHostedMediaConfig","blob":`+string(b)+`}}`)
}

// Switchboard connects to the bot's URL named in the blob, with the
// callbacks' signed token and the protocol's subprotocol, and the stream
// stops when the call ends; a blob asking for the impossible is a 400.
func TestMediaStreamToTheBotsURL(t *testing.T) {
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS, cfg.DataDir = "127.0.0.1:0", "off", filepath.Join(t.TempDir(), "data")
	cfg.Simulation.AnswerDelay = 0
	a := start2(t, cfg)
	base := "http://" + a.Addr("http")
	tok := token(t, http.DefaultClient, base)
	h, hookURL := newHook(t)

	if r := appHostedCall(t, base, tok, hookURL, `{"switchboard":{"sampleRate":44100}}`); r.status != 400 || !strings.Contains(r.body, "mediaConfig.blob") || !strings.Contains(r.body, "44100") {
		t.Fatalf("a blob with a sample rate of 44100: %d %s", r.status, r.body)
	}

	type got struct {
		auth, proto string
		start       mediastream.Event
		stop        mediastream.Event
	}
	bot := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{mediastream.Protocol}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		g := got{auth: r.Header.Get("Authorization"), proto: ws.Subprotocol()}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for {
			typ, b, err := ws.Read(ctx)
			if err != nil {
				bot <- g
				return
			}
			if typ != websocket.MessageText {
				continue
			}
			var e mediastream.Event
			json.Unmarshal(b, &e)
			switch e.Event {
			case "start":
				g.start = e
			case "stop":
				g.stop = e
			}
		}
	}))
	t.Cleanup(srv.Close)

	r := appHostedCall(t, base, tok, hookURL, `{"switchboard":{"url":"ws`+strings.TrimPrefix(srv.URL, "http")+`/media","sampleRate":8000}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(r.body), &created)
	h.wait(t, 2) // establishing, established
	// Not a stream of this application's: the media endpoint says so.
	if r := call(t, "GET", base+"/switchboard/v1/calls/no-such-call/media", tok, ""); r.status != 404 || !strings.Contains(r.body, "itemNotFound") {
		t.Errorf("the media endpoint of no call: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/switchboard/v1/calls/"+created.ID+"/media", tok, ""); r.status != 409 {
		t.Errorf("the media endpoint of a stream that connects out: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/switchboard/v1/calls/"+created.ID+"/media", "", ""); r.status != 401 {
		t.Errorf("the media endpoint without a token: %d %s", r.status, r.body)
	}
	if r := call(t, "DELETE", base+"/v1.0/communications/calls/"+created.ID, tok, ""); r.status != 204 {
		t.Fatalf("hang up: %d %s", r.status, r.body)
	}
	var g got
	select {
	case g = <-bot:
	case <-time.After(20 * time.Second):
		t.Fatal("the bot's server saw no stream end in 20 s")
	}
	if !strings.HasPrefix(g.auth, "Bearer ey") || g.proto != mediastream.Protocol {
		t.Errorf("Switchboard connected with Authorization %q and subprotocol %q", g.auth, g.proto)
	}
	if g.start.CallID != created.ID || g.start.Format == nil || g.start.Format.SampleRate != 8000 || g.stop.Reason != "callEnded" {
		t.Errorf("the bot got start %+v and stop %+v", g.start, g.stop)
	}
}
