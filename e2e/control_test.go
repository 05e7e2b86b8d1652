package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// Simulated identities with a configured behaviour (app.Config.Simulation).
const (
	busyUser        = "7a000000-0000-4000-8000-00000000b051"
	unreachableUser = "7a000000-0000-4000-8000-0000000000ff"
	hangUpUser      = "7a000000-0000-4000-8000-0000000000a1"
)

// Users without a rule: they answer after the harness's AnswerDelay.
const (
	alice = "7a000000-0000-4000-8000-00000000a11c"
	bob   = "7a000000-0000-4000-8000-000000000b0b"
	carol = "7a000000-0000-4000-8000-0000000ca201"
	dave  = "7a000000-0000-4000-8000-000000000da5"
)

func withBehaviours(cfg *app.Config) {
	cfg.Simulation.Identities = append(cfg.Simulation.Identities,
		sim.Rule{ID: busyUser, Behaviour: "busy", After: "20ms"},
		sim.Rule{ID: unreachableUser, Behaviour: "unreachable"},
		sim.Rule{ID: hangUpUser, Behaviour: "answer", After: "20ms", HangUpAfter: "30ms"},
	)
}

// answerBody is an answer as a bot sends it: service-hosted media, audio.
func answerBody(callbackURI string) communications.CallsItemAnswerPostRequestBodyable {
	body := communications.NewCallsItemAnswerPostRequestBody()
	body.SetCallbackUri(&callbackURI)
	body.SetMediaConfig(models.NewServiceHostedMediaConfig())
	body.SetAcceptedModalities([]models.Modality{models.AUDIO_MODALITY})
	return body
}

// incoming places an incoming call from a simulated user through the
// control API and checks the "created" notification the bot's webhook gets.
func incoming(t *testing.T, ctl *control, rcv *receiver, from string) (callID, callerID string) {
	t.Helper()
	callID, callerID = ctl.placeIncoming(t, rcv.URL(), from)
	n := rcv.Nth(t, callID, 1)
	checkCallNotification(t, n, callID, "created", "incoming")
	c := n.Call
	if d := c.GetDirection(); d == nil || *d != models.INCOMING_CALLDIRECTION {
		t.Errorf("incoming call notification: direction %v, want incoming", d)
	}
	if src := c.GetSource(); src == nil || src.GetIdentity() == nil || src.GetIdentity().GetUser() == nil ||
		str(src.GetIdentity().GetUser().GetId()) != from || str(src.GetParticipantId()) != callerID {
		t.Errorf("incoming call notification: source is not user %s with participant %s: %s", from, callerID, n.Body)
	}
	if str(c.GetMyParticipantId()) == "" {
		t.Errorf("incoming call notification: no myParticipantId: %s", n.Body)
	}
	chain := str(c.GetCallChainId())
	if chain == "" {
		t.Errorf("incoming call notification: no callChainId: %s", n.Body)
	} else if got := n.Header.Get(notify.HeaderChainID); got != chain {
		t.Errorf("incoming call notification: %s %q, want the callChainId %q", notify.HeaderChainID, got, chain)
	}
	if len(c.GetRequestedModalities()) == 0 {
		t.Errorf("incoming call notification: no requestedModalities: %s", n.Body)
	}
	if n.Path != "/callback" {
		t.Errorf("incoming call notification posted to %s, want the webhook /callback", n.Path)
	}
	return callID, callerID
}

// TestIncomingCall drives incoming calls the way Teams users make them: the
// control API places them, the bot answers, rejects or redirects them with
// the SDK. (An incoming call nobody answers ends with 408 after 15 s of wall
// time; internal/calls covers that with synctest, so it is not repeated
// here.)
func TestIncomingCall(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	ctl := newControl(t, s)
	t.Parallel() // after newBot: see there

	t.Run("answer", func(t *testing.T) {
		id, callerID := incoming(t, ctl, rcv, alice)
		answered := rcv.URLAt("/answered")
		if err := b.call(id).Answer().Post(t.Context(), answerBody(answered), nil); err != nil {
			t.Fatalf("answer: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/answer", http.StatusAccepted)
		rcv.expectStates(t, id, 1, "updated:establishing", "updated:established")
		for _, n := range rcv.Notifications(id)[1:] {
			if n.Path != "/answered" {
				t.Errorf("notification %s went to %s, want the answer's callbackUri /answered", n, n.Path)
			}
		}
		got, err := b.call(id).Get(t.Context(), nil)
		if err != nil {
			t.Fatalf("get call: %s", describe(err))
		}
		if st := got.GetState(); st == nil || *st != models.ESTABLISHED_CALLSTATE {
			t.Errorf("get call: state %v, want established", st)
		}
		if str(got.GetCallbackUri()) != answered {
			t.Errorf("get call: callbackUri %q, want the answer's %q", str(got.GetCallbackUri()), answered)
		}
		// The caller hangs up: for the bot, the other side of a
		// peer-to-peer call left.
		ctl.act(t, id, callerID, "hangUp")
		checkResult(t, rcv.expectStates(t, id, 3, "deleted:terminated"), 200, 4521)
	})

	t.Run("reject busy", func(t *testing.T) {
		id, _ := incoming(t, ctl, rcv, bob)
		body := communications.NewCallsItemRejectPostRequestBody()
		reason := models.BUSY_REJECTREASON
		body.SetReason(&reason)
		if err := b.call(id).Reject().Post(t.Context(), body, nil); err != nil {
			t.Fatalf("reject: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/reject", http.StatusAccepted)
		n := rcv.Nth(t, id, 2)
		if n.ChangeType != "deleted" || n.ResourceURL != "/communications/calls/"+id {
			t.Errorf("after reject: %s, want deleted on the call", n)
		}
		if st := n.State(); st != "" && st != "terminated" {
			t.Errorf("after reject: state %s, want terminated or none", st)
		}
		_, err := b.call(id).Get(t.Context(), nil)
		if err == nil {
			t.Fatal("get a rejected call: no error, want 404")
		}
		graphError(t, err, http.StatusNotFound, "itemNotFound")
	})

	t.Run("redirect", func(t *testing.T) {
		id, _ := incoming(t, ctl, rcv, carol)
		body := communications.NewCallsItemRedirectPostRequestBody()
		body.SetTargets([]models.InvitationParticipantInfoable{userTarget(dave)})
		body.SetTimeout(ptr(int32(30)))
		if err := b.call(id).Redirect().Post(t.Context(), body, nil); err != nil {
			t.Fatalf("redirect: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/redirect", http.StatusAccepted)
		rcv.expectStates(t, id, 1, "updated:redirecting", "deleted:terminated")
	})

	t.Run("answer twice", func(t *testing.T) {
		id, _ := incoming(t, ctl, rcv, dave)
		if err := b.call(id).Answer().Post(t.Context(), answerBody(rcv.URL()), nil); err != nil {
			t.Fatalf("answer: %s", describe(err))
		}
		rcv.expectStates(t, id, 1, "updated:establishing", "updated:established")
		err := b.call(id).Answer().Post(t.Context(), answerBody(rcv.URL()), nil)
		if err == nil {
			t.Fatal("second answer: no error, want a 4xx")
		}
		if e := asODataError(t, err); e.ResponseStatusCode != http.StatusBadRequest && e.ResponseStatusCode != http.StatusConflict {
			t.Errorf("second answer: %s, want 400 or 409", describe(err))
		}
	})
}

// TestKeepAlive keeps a call alive with the SDK (200, no body) and gets 404
// once the call has ended, as Graph documents.
func TestKeepAlive(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	t.Parallel() // after newBot: see there

	id := str(createCall(t, b.GraphServiceClient, callRequest(rcv.URL(), alice)).GetId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	if err := b.call(id).KeepAlive().Post(t.Context(), nil); err != nil {
		t.Fatalf("keepAlive: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/keepAlive", http.StatusOK)

	if err := b.call(id).Delete(t.Context(), nil); err != nil {
		t.Fatalf("hang up: %s", describe(err))
	}
	rcv.expectStates(t, id, 2, "updated:terminating", "deleted:terminated")
	err := b.call(id).KeepAlive().Post(t.Context(), nil)
	if err == nil {
		t.Fatal("keepAlive on an ended call: no error, want 404")
	}
	graphError(t, err, http.StatusNotFound, "itemNotFound")
}

// transferBody is a transfer to target; replaces, when set, makes it
// consultative.
func transferBody(target, replaces string) communications.CallsItemTransferPostRequestBodyable {
	tt := userTarget(target)
	if replaces != "" {
		tt.SetReplacesCallId(&replaces)
	}
	body := communications.NewCallsItemTransferPostRequestBody()
	body.SetTransferTarget(tt)
	return body
}

// TestTransfer transfers peer-to-peer calls: blind to someone who answers,
// blind to someone unreachable (the call goes on), and consultative.
func TestTransfer(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	ctl := newControl(t, s)
	t.Parallel() // after newBot: see there

	established := func(t *testing.T, user string) string {
		t.Helper()
		id := str(createCall(t, b.GraphServiceClient, callRequest(rcv.URL(), user)).GetId())
		rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
		return id
	}

	t.Run("blind", func(t *testing.T) {
		id := established(t, alice)
		if err := b.call(id).Transfer().Post(t.Context(), transferBody(bob, ""), nil); err != nil {
			t.Fatalf("transfer: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/transfer", http.StatusAccepted)
		n := rcv.expectStates(t, id, 2, "updated:transferring", "updated:transferAccepted", "deleted:terminated")
		checkResult(t, n, 0, 7015)
	})

	t.Run("blind to unreachable", func(t *testing.T) {
		// Set at run time through the control API.
		nobody := "7a000000-0000-4000-8000-0000000000fe"
		ctl.setIdentity(t, sim.Rule{ID: nobody, Behaviour: "unreachable"})
		id := established(t, alice)
		if err := b.call(id).Transfer().Post(t.Context(), transferBody(nobody, ""), nil); err != nil {
			t.Fatalf("transfer: %s", describe(err))
		}
		n := rcv.expectStates(t, id, 2, "updated:transferring", "updated:established")
		checkResult(t, n, 500, 7000)
		got, err := b.call(id).Get(t.Context(), nil)
		if err != nil {
			t.Fatalf("get call after the failed transfer: %s", describe(err))
		}
		if st := got.GetState(); st == nil || *st != models.ESTABLISHED_CALLSTATE {
			t.Errorf("call after the failed transfer: state %v, want established", st)
		}
	})

	t.Run("consultative", func(t *testing.T) {
		held := established(t, alice)
		consult := established(t, carol)
		if err := b.call(held).Transfer().Post(t.Context(), transferBody(carol, consult), nil); err != nil {
			t.Fatalf("transfer: %s", describe(err))
		}
		n := rcv.expectStates(t, held, 2, "updated:transferring", "updated:transferAccepted", "deleted:terminated")
		checkResult(t, n, 0, 7015)
		end := rcv.After(t, consult, 2, "the end of the consultation call", func(n notification) bool { return n.ChangeType == "deleted" })
		checkCallNotification(t, end, consult, "deleted", "terminated")
		checkResult(t, end, 0, 7015)
		for _, id := range []string{held, consult} {
			if _, err := b.call(id).Get(t.Context(), nil); err == nil {
				t.Errorf("call %s still exists after the consultative transfer", id)
			}
		}
	})
}

// TestGroupOnlyActionsOnPeerToPeerCall checks that invite and mute, which
// Graph supports in group calls only, are refused with 400 on a
// peer-to-peer call, with a message that says why.
func TestGroupOnlyActionsOnPeerToPeerCall(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	t.Parallel() // after newBot: see there

	id := str(createCall(t, b.GraphServiceClient, callRequest(rcv.URL(), alice)).GetId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	roster, err := b.call(id).Participants().Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("list participants: %s", describe(err))
	}
	other := findParticipant(roster.GetValue(), byUser(alice))
	if other == nil {
		t.Fatalf("roster of the peer-to-peer call lacks %s: %s", alice, describeRoster(roster.GetValue()))
	}
	pid := str(other.GetId())

	tests := []struct {
		name string
		do   func() error
	}{
		{"invite", func() error {
			body := communications.NewCallsItemParticipantsInvitePostRequestBody()
			body.SetParticipants([]models.InvitationParticipantInfoable{userTarget(bob)})
			_, err := b.call(id).Participants().Invite().Post(t.Context(), body, nil)
			return err
		}},
		{"mute participant", func() error {
			_, err := b.call(id).Participants().ByParticipantId(pid).Mute().Post(t.Context(), communications.NewCallsItemParticipantsItemMutePostRequestBody(), nil)
			return err
		}},
		{"mute self", func() error {
			_, err := b.call(id).Mute().Post(t.Context(), communications.NewCallsItemMutePostRequestBody(), nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil {
				t.Fatal("no error, want 400")
			}
			e := graphError(t, err, http.StatusBadRequest, "BadRequest")
			if msg := strings.ToLower(str(e.GetMessage())); !strings.Contains(msg, "only in group calls") {
				t.Errorf("message %q does not say the action is for group calls only", str(e.GetMessage()))
			}
		})
	}
	if got := len(rcv.Notifications(id)); got != 2 {
		t.Errorf("the refused actions produced notifications: %d after established, want none", got-2)
	}
}

// TestSimulatedBehaviours calls simulated identities configured to decline,
// to be unreachable and to hang up, and checks how each call ends for the
// bot.
func TestSimulatedBehaviours(t *testing.T) {
	s := startServerWith(t, "", withBehaviours)
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	t.Parallel() // after newBot: see there

	tests := []struct {
		name          string
		callee        string
		states        []string
		code, subcode int32
	}{
		{"busy", busyUser, []string{"updated:establishing", "deleted:terminated"}, 486, 0},
		{"unreachable", unreachableUser, []string{"updated:establishing", "deleted:terminated"}, 480, 10037},
		{"hangUpAfter", hangUpUser, []string{"updated:establishing", "updated:established", "deleted:terminated"}, 200, 4521},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := str(createCall(t, b.GraphServiceClient, callRequest(rcv.URL(), tt.callee)).GetId())
			checkResult(t, rcv.expectStates(t, id, 0, tt.states...), tt.code, tt.subcode)
		})
	}
}
