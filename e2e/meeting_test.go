package e2e

import (
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// A second application of the dev tenant, with every Calls role.
var secondApp = appCreds{devTenant, "5ec0d0a9-0000-4000-8000-000000000002", "second-app-secret"}

// The meeting's coordinates and the three people configured to join it by
// themselves.
const (
	meetingID       = "342 915 028 117"
	meetingPasscode = "Ag7kR2"
)

var meetingUsers = []string{
	"3e000000-0000-4000-8000-0000000000e1",
	"3e000000-0000-4000-8000-0000000000e2",
	"3e000000-0000-4000-8000-0000000000e3",
}

func withMeeting(cfg *app.Config) {
	cfg.Apps = append(cfg.Apps, app.AppConfig{
		ClientID: secondApp.clientID, TenantID: secondApp.tenant, DisplayName: "Second bot", Secret: secondApp.secret,
		Roles: []string{auth.RoleCallsInitiate, auth.RoleCallsInitiateGroupCall, auth.RoleCallsJoinGroupCall,
			auth.RoleCallsJoinGroupCallAsGuest, auth.RoleCallsAccessMedia},
	})
	for i, u := range meetingUsers {
		cfg.Simulation.Identities = append(cfg.Simulation.Identities, sim.Rule{
			ID: u, DisplayName: "Attendee " + string(rune('A'+i)), JoinMeeting: meetingID, JoinAfter: "20ms",
		})
	}
}

// joinRequest is a meeting join as a bot sends it: joinMeetingIdMeetingInfo
// with the passcode, service-hosted media.
func joinRequest(callbackURI, passcode string) *models.Call {
	info := models.NewJoinMeetingIdMeetingInfo()
	info.SetJoinMeetingId(ptr(meetingID))
	info.SetPasscode(&passcode)
	call := models.NewCall()
	call.SetCallbackUri(&callbackURI)
	call.SetMeetingInfo(info)
	call.SetRequestedModalities([]models.Modality{models.AUDIO_MODALITY})
	call.SetMediaConfig(models.NewServiceHostedMediaConfig())
	return call
}

// meetingRoster checks a roster of the meeting: the applications in it and
// the users, by id.
func meetingRoster(apps []string, users ...string) func([]models.Participantable) bool {
	return func(roster []models.Participantable) bool {
		if len(roster) != len(apps)+len(users) || !hasUsers(users...)(roster) {
			return false
		}
		for _, a := range apps {
			if findParticipant(roster, func(p models.Participantable) bool { return appOf(p) == a }) == nil {
				return false
			}
		}
		return true
	}
}

// TestMeetingWithTwoBots has two applications join one meeting by its join
// meeting id while three simulated people join it by themselves: each bot
// has its own call, both see the same roster, a person leaving and a bot
// leaving show in the roster of the bot that stays.
func TestMeetingWithTwoBots(t *testing.T) {
	s := startServerWith(t, "", withMeeting)
	rcv := newReceiver(t)
	ctl := newControl(t, s)
	first, second := newBot(t, s, devApp), newBot(t, s, secondApp)
	t.Parallel() // after newBot: see there

	call1 := createCall(t, first.GraphServiceClient, joinRequest(rcv.URLAt("/first"), meetingPasscode))
	call2 := createCall(t, second.GraphServiceClient, joinRequest(rcv.URLAt("/second"), meetingPasscode))
	id1, id2 := str(call1.GetId()), str(call2.GetId())
	if id1 == id2 {
		t.Fatalf("both bots got call id %s; each must get its own", id1)
	}
	if _, ok := call1.GetMeetingInfo().(models.JoinMeetingIdMeetingInfoable); !ok {
		t.Errorf("created call meetingInfo is %T, want the joinMeetingIdMeetingInfo subtype (@odata.type)", call1.GetMeetingInfo())
	}
	everyone := meetingRoster([]string{devClientID, secondApp.clientID}, meetingUsers...)
	for _, c := range []struct{ id, path, me string }{{id1, "/first", str(call1.GetMyParticipantId())}, {id2, "/second", str(call2.GetMyParticipantId())}} {
		established := rcv.expectStates(t, c.id, 0, "updated:establishing", "updated:established")
		// "plus direction, chatInfo/meetingInfo for meetings"
		if mi, ok := established.Call.GetMeetingInfo().(models.JoinMeetingIdMeetingInfoable); !ok || str(mi.GetJoinMeetingId()) != meetingID {
			t.Errorf("call %s: established notification meetingInfo %T, want the joinMeetingIdMeetingInfo joined: %s", c.id, established.Call.GetMeetingInfo(), established.Body)
		}
		n := rcv.rosterAfter(t, c.id, 2, "with both bots and the three attendees", everyone)
		if n.Path != c.path {
			t.Errorf("call %s: roster posted to %s, want its own callbackUri %s", c.id, n.Path, c.path)
		}
		if findParticipant(n.Participants, byID(c.me)) == nil {
			t.Errorf("call %s: roster lacks the bot's own participant %s: %s", c.id, c.me, describeRoster(n.Participants))
		}
	}

	// Both bots have the other's call out of reach: a call id is the
	// application's own.
	if _, err := second.call(id1).Get(t.Context(), nil); err == nil {
		t.Error("the second bot can read the first bot's call")
	} else {
		graphError(t, err, http.StatusNotFound, "itemNotFound")
	}

	t.Run("wrong passcode", func(t *testing.T) {
		_, err := first.Communications().Calls().Post(t.Context(), joinRequest(rcv.URLAt("/third"), "wrong"), nil)
		if err == nil {
			t.Fatal("joining with a wrong passcode: no error, want 400")
		}
		graphError(t, err, http.StatusBadRequest, "BadRequest")
	})

	list, err := first.call(id1).Participants().Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("list participants: %s", describe(err))
	}
	leaving := findParticipant(list.GetValue(), byUser(meetingUsers[0]))
	if leaving == nil {
		t.Fatalf("participants of the meeting lack %s: %s", meetingUsers[0], describeRoster(list.GetValue()))
	}
	marks := map[string]int64{id1: rcv.lastSeq(id1), id2: rcv.lastSeq(id2)}
	ctl.act(t, id1, str(leaving.GetId()), "hangUp")
	stayed := meetingRoster([]string{devClientID, secondApp.clientID}, meetingUsers[1:]...)
	for _, id := range []string{id1, id2} {
		rcv.rosterAfter(t, id, marks[id], "without the attendee who left", stayed)
	}

	mark, mark2 := rcv.lastSeq(id1), rcv.lastSeq(id2)
	if err := second.call(id2).Delete(t.Context(), nil); err != nil {
		t.Fatalf("second bot hangs up: %s", describe(err))
	}
	second.wire.wantStatus(t, http.MethodDelete, "/calls/"+id2, http.StatusNoContent)
	rcv.expectStates(t, id2, mark2, "updated:terminating", "deleted:terminated")
	n := rcv.rosterAfter(t, id1, mark, "without the second bot", meetingRoster([]string{devClientID}, meetingUsers[1:]...))
	if len(n.Participants) != 3 {
		t.Errorf("roster of the first bot after the second left: %s, want the bot and two attendees", describeRoster(n.Participants))
	}
	got, err := first.call(id1).Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("the first bot's call after the second bot left: %s", describe(err))
	}
	if st := got.GetState(); st == nil || *st != models.ESTABLISHED_CALLSTATE {
		t.Errorf("the first bot's call after the second bot left: state %v, want established", st)
	}
}
