package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// jump moves a virtual-clock server's time forward by d, as `switchboard
// sim clock +d` does, and returns the time it reached.
func jump(t *testing.T, s *server, tok string, d time.Duration) time.Time {
	t.Helper()
	started := time.Now()
	resp, body := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodPost, s.HTTPS+"/switchboard/v1/simulation/clock", tok,
		http.Header{"Content-Type": {"application/json"}}, []byte(`{"advance":"`+d.String()+`"}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jump %v: %s %s", d, resp.Status, body)
	}
	var c struct {
		Now     time.Time
		Virtual bool
	}
	json.Unmarshal(body, &c)
	t.Logf("jumped %v in %v of real time", d, time.Since(started))
	return c.Now
}

// Time travel through msgraph-sdk-go: a call the bot never keeps alive
// still lives 44 min 59 s later, and ends with 408/8537 one virtual second
// after its 45 minutes, as Graph ends it; the notification log carries the
// virtual time.
func TestTimeTravelKeepAlive(t *testing.T) {
	if clusterRun() {
		t.Skip("--clock virtual runs on one node with SQLite")
	}
	s := startServerWith(t, "", func(cfg *app.Config) { cfg.Clock = "virtual" })
	rcv := newReceiver(t)
	dev := newBot(t, s, devApp)
	tok := fetchToken(t, devHTTPClient(t, s.DevCA()), s.HTTPS)

	id := str(createCall(t, dev.GraphServiceClient, callRequest(rcv.URL(), alice)).GetId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	created := time.Now()
	jump(t, s, tok, 44*time.Minute+59*time.Second)
	call, err := dev.call(id).Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("get after 44 min 59 s: %s", describe(err))
	}
	if st := call.GetState(); st == nil || st.String() != "established" {
		t.Fatalf("after 44 min 59 s the call is %v, want established", st)
	}
	reached := jump(t, s, tok, 2*time.Second)
	end := rcv.First(t, id, "the keepAlive expiry", func(n notification) bool { return n.ChangeType == "deleted" })
	checkResult(t, end, 408, 8537)
	// Its token is valid on the bot's (wall) clock: bots check callback
	// tokens against their own time, which the jump does not move.
	var claims struct{ Nbf, Exp int64 }
	if parts := strings.Split(strings.TrimPrefix(end.Header.Get("Authorization"), "Bearer "), "."); len(parts) == 3 {
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(payload, &claims)
	}
	if now := time.Now().Unix(); claims.Nbf > now+60 || claims.Exp < now {
		t.Errorf("the callback token is valid from %d to %d; the wall clock says %d", claims.Nbf, claims.Exp, now)
	}
	if got := reached.Sub(created); got < 45*time.Minute {
		t.Errorf("the clock reached %v after the call's creation, want over 45 min", got)
	}

	// The notification log tells the end at the virtual time.
	resp, body := graphRequest(t, devHTTPClient(t, s.DevCA()), http.MethodGet, s.HTTPS+"/switchboard/v1/calls/"+id+"/notifications", tok, nil, nil)
	var log struct {
		Value []struct {
			ChangeType      string
			CreatedDateTime time.Time
		}
	}
	json.Unmarshal(body, &log)
	if resp.StatusCode != http.StatusOK || len(log.Value) == 0 {
		t.Fatalf("the notification log: %s %s", resp.Status, body)
	}
	first, last := log.Value[0], log.Value[len(log.Value)-1]
	if got := last.CreatedDateTime.Sub(first.CreatedDateTime); last.ChangeType != "deleted" || got < 45*time.Minute-time.Second || got > 45*time.Minute+2*time.Second {
		t.Errorf("the log's last entry: %s, %v after its first; want deleted, 45 min later", last.ChangeType, got)
	}
}
