package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// switchboard sim drives a running development server: a simulated person
// calls the development application, then, once the bot answers, presses
// keys, says a WAV file and hangs up; bad input is refused with the
// server's reason.
func TestSimCommands(t *testing.T) {
	base := startDevServer(t, nil)
	established := make(chan struct{}, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); bytes.Contains(b, []byte(`"state":"established"`)) {
			established <- struct{}{}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hook.Close)

	out, _ := mustSB(t, "sim", "incoming", "--url", base, "--app", auth.DevClientID, "--from", "alice", "--callback", hook.URL)
	var placed struct{ CallID, CallerParticipantID string }
	if err := json.Unmarshal([]byte(out), &placed); err != nil || placed.CallID == "" {
		t.Fatalf("sim incoming printed %q", out)
	}
	if _, _, err := sb(t, "sim", "say", "--url", base, placed.CallID, placed.CallerParticipantID, "no-such.wav"); err == nil || !strings.Contains(err.Error(), "no-such.wav") {
		t.Fatalf("sim say of a missing file: %v", err)
	}

	// The bot answers.
	res, err := http.PostForm(base+"/"+auth.DevTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {auth.DevClientID}, "client_secret": {auth.DevClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	req, _ := http.NewRequest("POST", base+"/v1.0/communications/calls/"+placed.CallID+"/answer", strings.NewReader(
		`{"callbackUri":"`+hook.URL+`","acceptedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("answer: %v %v", res, err)
	}
	select { // the caller has a voice once the call is established
	case <-established:
	case <-time.After(10 * time.Second):
		t.Fatal("the answered call was not established in 10 s")
	}

	dir := t.TempDir()
	var wav bytes.Buffer
	media.EncodeWAV(&wav, media.Tone(500, 200*time.Millisecond, -12))
	good, bad := filepath.Join(dir, "hello.wav"), filepath.Join(dir, "notes.txt")
	os.WriteFile(good, wav.Bytes(), 0o644)
	os.WriteFile(bad, []byte("not audio"), 0o644)
	mustSB(t, "sim", "press", "--url", base, placed.CallID, placed.CallerParticipantID, "12#")
	mustSB(t, "sim", "press", "--url", base, "--out-of-band", placed.CallID, placed.CallerParticipantID, "4")
	mustSB(t, "sim", "say", "--url", base, placed.CallID, placed.CallerParticipantID, good)
	heardFile := filepath.Join(dir, "heard.wav")
	if out, _ := mustSB(t, "sim", "heard", "--url", base, placed.CallID, placed.CallerParticipantID, heardFile); !strings.Contains(out, "wrote "+heardFile) {
		t.Errorf("sim heard: %s", out)
	}
	if b, err := os.ReadFile(heardFile); err != nil || !bytes.HasPrefix(b, []byte("RIFF")) {
		t.Errorf("sim heard wrote %d bytes (%v), want a WAV file", len(b), err)
	}
	if _, _, err := sb(t, "sim", "say", "--url", base, placed.CallID, placed.CallerParticipantID, bad); err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "not a WAV") {
		t.Fatalf("sim say of a text file: %v", err)
	}
	if _, _, err := sb(t, "sim", "press", "--url", base, placed.CallID, placed.CallerParticipantID, "12x"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("sim press of a bad key: %v", err)
	}
	out, _ = mustSB(t, "sim", "show", "--url", base, placed.CallID)
	if !strings.Contains(out, `"state": "established"`) || !strings.Contains(out, placed.CallerParticipantID) {
		t.Fatalf("sim show: %s", out)
	}
	mustSB(t, "sim", "act", "--url", base, placed.CallID, placed.CallerParticipantID, "hangUp")
	// This server runs on the real clock: it shows the time, and will not jump.
	if out, _ := mustSB(t, "sim", "clock", "--url", base); !strings.Contains(out, `"virtual": false`) {
		t.Errorf("sim clock: %s", out)
	}
	if _, _, err := sb(t, "sim", "clock", "--url", base, "+45m"); err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "--clock virtual") {
		t.Errorf("sim clock +45m on the real clock: %v", err)
	}
	if _, _, err := sb(t, "sim", "clock", "--url", base, "45m"); err == nil || !strings.Contains(err.Error(), "+DURATION") {
		t.Errorf("sim clock 45m: %v", err)
	}
	if _, _, err := sb(t, "sim", "show", "--url", base, placed.CallID); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("sim show after the caller hung up: %v; want 404, the call is over", err)
	}
}

// switchboard sim clock moves a --clock virtual server's time; the flag
// is for development mode only.
func TestSimClock(t *testing.T) {
	base := startDevServer(t, func(cfg *app.Config) { cfg.Clock = "virtual" })
	if out, _ := mustSB(t, "sim", "clock", "--url", base, "+1h30m"); !strings.Contains(out, `"virtual": true`) || !strings.Contains(out, `"offset": "1h30m0s"`) {
		t.Fatalf("sim clock +1h30m: %s", out)
	}
	if _, _, err := sb(t, "sim", "clock", "--url", base, "+0s"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("sim clock +0s: %v", err)
	}
	if _, _, err := sb(t, "serve", "--dev=false", "--clock", "virtual", "--data", t.TempDir(), "--listen-tls", "off"); err == nil || !strings.Contains(err.Error(), "development mode only") {
		t.Errorf("serve --clock virtual outside development mode: %v", err)
	}
}
