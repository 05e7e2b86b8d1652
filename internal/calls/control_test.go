package calls_test

import (
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

var bob = model.IdentitySet{User: &model.Identity{ID: "bob"}}

func serviceHosted() *model.MediaConfig {
	return &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig}
}

func incoming(t *testing.T, f *fixture) *calls.Call {
	t.Helper()
	leg, err := f.svc.PlaceIncoming(t.Context(), calls.IncomingCall{TenantID: alice.TenantID, AppID: alice.AppID, CallbackURI: "http://127.0.0.1:9/webhook", From: bob})
	if err != nil {
		t.Fatal(err)
	}
	return leg
}

// changes lists "changeType:what" for each notification of a call.
func changes(t *testing.T, f *fixture, callID string) []string {
	t.Helper()
	var out []string
	for _, n := range notifications(t, f, callID) {
		what := n.state
		if n.isList {
			what = "roster"
		}
		if len(n.url) > len("/communications/calls/")+36 && n.url[len("/communications/calls/")+36:] != "/participants" {
			what = n.url[len("/communications/calls/")+37:]
			if len(what) > 10 {
				what = what[:10]
			}
		}
		out = append(out, string(n.change)+":"+what)
	}
	return out
}

func TestIncomingAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		leg := incoming(t, f)
		if leg.State != calls.StateIncoming || leg.Direction != "incoming" {
			t.Fatalf("incoming leg: %+v", leg)
		}
		err := f.svc.Answer(t.Context(), alice, leg.ID, model.AnswerRequest{CallbackURI: "http://127.0.0.1:9/call", AcceptedModalities: []model.Modality{model.ModalityAudio}, MediaConfig: serviceHosted()})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := changes(t, f, leg.ID); !equal(got, []string{"created:incoming", "updated:establishing", "updated:established"}) {
			t.Fatalf("notifications = %v", got)
		}
		es := f.disp.For(leg.ID)
		if es[0].URL != "http://127.0.0.1:9/webhook" || es[1].URL != "http://127.0.0.1:9/call" {
			t.Fatalf("the incoming notification must go to the webhook and the rest to the answer's callbackUri: %s, %s", es[0].URL, es[1].URL)
		}
		var created model.CommsNotifications
		json.Unmarshal(es[0].Body, &created)
		var c model.Call
		json.Unmarshal(created.Value[0].ResourceData, &c)
		if c.Direction != model.CallDirectionIncoming || c.Source == nil || c.MyParticipantID == "" || c.CallChainID == "" {
			t.Fatalf("incoming call resource lacks direction/source/myParticipantId/callChainId: %+v", c)
		}
		if err := f.svc.Answer(t.Context(), alice, leg.ID, model.AnswerRequest{AcceptedModalities: []model.Modality{model.ModalityAudio}, MediaConfig: serviceHosted()}); !errors.Is(err, calls.ErrInvalidState) {
			t.Fatalf("second answer = %v, want ErrInvalidState", err)
		}
	})
}

func TestIncomingRejectRedirectTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		rejected := incoming(t, f)
		if err := f.svc.Reject(t.Context(), alice, rejected.ID, model.RejectRequest{Reason: model.RejectReasonBusy}); err != nil {
			t.Fatal(err)
		}
		if got := changes(t, f, rejected.ID); !equal(got, []string{"created:incoming", "deleted:terminated"}) {
			t.Fatalf("reject: %v", got)
		}
		redirected := incoming(t, f)
		timeout := int32(10)
		if err := f.svc.Redirect(t.Context(), alice, redirected.ID, model.RedirectRequest{Targets: []model.InvitationParticipantInfo{{Identity: &bob}}, Timeout: &timeout}); !errors.Is(err, calls.ErrInvalid) {
			t.Fatalf("redirect timeout 10 s = %v, want invalid", err)
		}
		if err := f.svc.Redirect(t.Context(), alice, redirected.ID, model.RedirectRequest{Targets: []model.InvitationParticipantInfo{{Identity: &bob}}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := changes(t, f, redirected.ID); !equal(got, []string{"created:incoming", "updated:redirecting", "deleted:terminated"}) {
			t.Fatalf("redirect: %v", got)
		}
		ignored := incoming(t, f)
		time.Sleep(calls.AnswerWindow)
		synctest.Wait()
		ns := notifications(t, f, ignored.ID)
		if last := ns[len(ns)-1]; last.state != "terminated" || last.code != 408 {
			t.Fatalf("unanswered incoming call: %+v", ns)
		}
		if len(f.svc.List(t.Context(), alice)) != 0 {
			t.Fatal("calls left over")
		}
	})
}

func TestKeepAliveExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		kept, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
		lapsed, _ := f.svc.Create(t.Context(), alice, p2p("carol"))
		time.Sleep(30 * time.Minute)
		if err := f.svc.KeepAlive(t.Context(), alice, kept.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(16 * time.Minute) // 46 minutes after creation, 16 after the keepAlive
		synctest.Wait()
		if _, err := f.svc.Get(t.Context(), alice, kept.ID); err != nil {
			t.Fatalf("kept-alive call ended: %v", err)
		}
		ns := notifications(t, f, lapsed.ID)
		if last := ns[len(ns)-1]; last.code != 408 || last.sub != 8537 {
			t.Fatalf("lapsed call: %+v", last)
		}
		if err := f.svc.KeepAlive(t.Context(), alice, lapsed.ID); !errors.Is(err, calls.ErrNotFound) {
			t.Fatalf("keepAlive on an ended call = %v, want ErrNotFound (404)", err)
		}
	})
}

func TestBlindTransfer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		target string
		want   []string
	}{
		{"accepted", "dave", []string{"updated:establishing", "updated:established", "updated:transferring", "updated:transferAccepted", "deleted:terminated"}},
		{"target unreachable", "+15550100", []string{"updated:establishing", "updated:established", "updated:transferring", "updated:established"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, callstest.NewStore(), sim.Rule{ID: "+15550100", Behaviour: "unreachable"})
				leg, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
				time.Sleep(time.Second)
				synctest.Wait()
				err := f.svc.Transfer(t.Context(), alice, leg.ID, model.TransferRequest{TransferTarget: &model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: tt.target}}}})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Second)
				synctest.Wait()
				if got := changes(t, f, leg.ID); !equal(got, tt.want) {
					t.Fatalf("notifications = %v, want %v", got, tt.want)
				}
				ns := notifications(t, f, leg.ID)
				last := ns[len(ns)-1]
				if tt.name == "accepted" && (last.code != 0 || last.sub != 7015) || tt.name != "accepted" && (last.code != 500 || last.sub != 7000) {
					t.Fatalf("resultInfo = %d/%d", last.code, last.sub)
				}
			})
		})
	}
}

func TestConsultativeTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		first, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
		consult, _ := f.svc.Create(t.Context(), alice, p2p("dave"))
		time.Sleep(time.Second)
		synctest.Wait()
		err := f.svc.Transfer(t.Context(), alice, first.ID, model.TransferRequest{TransferTarget: &model.InvitationParticipantInfo{
			Identity: &model.IdentitySet{User: &model.Identity{ID: "dave"}}, ReplacesCallID: consult.ID}})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{first.ID, consult.ID} {
			ns := notifications(t, f, id)
			if last := ns[len(ns)-1]; last.state != "terminated" || last.sub != 7015 {
				t.Fatalf("call %s after consultative transfer: %v", id, changes(t, f, id))
			}
		}
	})
}

func meetingSpec(jmid string) model.Call {
	c := p2p("x")
	c.Targets = nil
	pass := "secret"
	c.MeetingInfo = &model.MeetingInfo{ODataType: model.TypeJoinMeetingIDMeetingInfo, JoinMeetingID: jmid, Passcode: &pass}
	return c
}

func TestMeetingSharedByTwoApplications(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore(),
			sim.Rule{ID: "u1", JoinMeeting: "123 456", JoinAfter: "1s"},
			sim.Rule{ID: "u2", JoinMeeting: "123456", JoinAfter: "2s", MuteAfter: "1s"},
			sim.Rule{ID: "u3", JoinMeeting: "123456", JoinAfter: "3s", HangUpAfter: "2s"},
		)
		bot2 := calls.Caller{TenantID: alice.TenantID, AppID: "app-b", Roles: alice.Roles}
		a, err := f.svc.Create(t.Context(), alice, meetingSpec("123456"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.Create(t.Context(), bot2, meetingSpec("123 456"))
		if err != nil {
			t.Fatal(err)
		}
		wrong := meetingSpec("123456")
		*wrong.MeetingInfo.Passcode = "guess"
		if _, err := f.svc.Create(t.Context(), mallory, wrong); !errors.Is(err, calls.ErrInvalid) {
			t.Fatalf("wrong passcode = %v", err)
		}
		otherTenant := bot2
		otherTenant.TenantID = "t2"
		c, _ := f.svc.Create(t.Context(), otherTenant, meetingSpec("123456"))
		time.Sleep(4 * time.Second) // everyone joined; u2 muted; u3 about to leave
		synctest.Wait()
		ra, _ := f.svc.Participants(t.Context(), alice, a.ID)
		rb, _ := f.svc.Participants(t.Context(), bot2, b.ID)
		if len(ra) != 5 || len(rb) != 5 {
			t.Fatalf("rosters: %d and %d participants, want 5 (two bots, three users)", len(ra), len(rb))
		}
		rc, _ := f.svc.Participants(t.Context(), otherTenant, c.ID)
		if len(rc) != 4 { // its own bot and the three configured users, not tenant t1's bots
			t.Fatalf("another tenant's meeting of the same id shares the roster: %d", len(rc))
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		ra, _ = f.svc.Participants(t.Context(), alice, a.ID)
		muted := 0
		for _, p := range ra {
			if p.IsMuted != nil && *p.IsMuted {
				muted++
			}
		}
		if len(ra) != 4 || muted != 1 {
			t.Fatalf("after u3 left and u2 muted: %d participants, %d muted", len(ra), muted)
		}
		if err := f.svc.HangUp(t.Context(), bot2, b.ID); err != nil {
			t.Fatal(err)
		}
		if ra, _ = f.svc.Participants(t.Context(), alice, a.ID); len(ra) != 3 {
			t.Fatalf("after bot 2 left: %d participants", len(ra))
		}
		for _, n := range notifications(t, f, a.ID)[2:] {
			if !n.isList {
				t.Fatalf("meeting leg got a non-roster notification: %+v", n)
			}
		}
	})
}

func TestGroupRosterOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore(), sim.Rule{ID: "erin", Behaviour: "busy"})
		spec := p2p("bob")
		spec.Targets = append(spec.Targets, model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: "carol"}}})
		leg, _ := f.svc.Create(t.Context(), alice, spec)
		time.Sleep(time.Second)
		synctest.Wait()
		op, err := f.svc.Invite(t.Context(), alice, leg.ID, model.InviteParticipantsRequest{Participants: []model.InvitationParticipantInfo{
			{Identity: &model.IdentitySet{User: &model.Identity{ID: "dave"}}}, {Identity: &model.IdentitySet{User: &model.Identity{ID: "erin"}}},
		}})
		if err != nil || op.Status != model.OperationStatusRunning || op.ODataType != model.TypeInviteParticipantsOperation {
			t.Fatalf("invite: %+v, %v", op, err)
		}
		if _, err := f.svc.Invite(t.Context(), alice, leg.ID, model.InviteParticipantsRequest{Participants: []model.InvitationParticipantInfo{{Identity: &bob}}}); !errors.Is(err, calls.ErrInvalid) {
			t.Fatalf("inviting someone already in the call = %v", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got, err := f.svc.Operation(alice, leg.ID, op.ID)
		if err != nil || got.Status != model.OperationStatusCompleted {
			t.Fatalf("invite operation after dave answered and erin declined: %+v, %v", got, err)
		}
		roster, _ := f.svc.Participants(t.Context(), alice, leg.ID)
		if len(roster) != 4 {
			t.Fatalf("roster has %d, want app, bob, carol, dave", len(roster))
		}
		var davePID string
		for _, p := range roster {
			if p.Info.Identity.User != nil && p.Info.Identity.User.ID == "dave" {
				davePID = p.ID
			}
		}
		m, err := f.svc.MuteParticipant(t.Context(), alice, leg.ID, davePID, model.MuteRequest{})
		if err != nil || m.Status != model.OperationStatusCompleted {
			t.Fatalf("mute: %+v %v", m, err)
		}
		h, err := f.svc.StartHoldMusic(t.Context(), alice, leg.ID, davePID, model.StartHoldMusicRequest{})
		if err != nil || h.Status != model.OperationStatusRunning {
			t.Fatalf("hold: %+v %v", h, err)
		}
		for _, p := range roster {
			if p.ID != davePID && p.Info.Identity.Application == nil {
				if _, err := f.svc.StartHoldMusic(t.Context(), alice, leg.ID, p.ID, model.StartHoldMusicRequest{}); !errors.Is(err, calls.ErrInvalid) {
					t.Fatalf("second participant on hold = %v, want refused", err)
				}
				break
			}
		}
		synctest.Wait()
		if got, _ := f.svc.Operation(alice, leg.ID, h.ID); got.Status != model.OperationStatusCompleted {
			t.Fatalf("startHoldMusic did not complete: %+v", got)
		}
		if _, err := f.svc.StopHoldMusic(t.Context(), alice, leg.ID, davePID, model.StopHoldMusicRequest{}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveParticipant(t.Context(), alice, leg.ID, davePID); err != nil {
			t.Fatal(err)
		}
		if roster, _ = f.svc.Participants(t.Context(), alice, leg.ID); len(roster) != 3 {
			t.Fatalf("after removing dave: %d", len(roster))
		}
		self, err := f.svc.SetSelfMute(t.Context(), alice, leg.ID, true, nil)
		if err != nil || self.ODataType != model.TypeMuteParticipantOperation {
			t.Fatalf("self mute: %+v %v", self, err)
		}
		ops := 0
		for _, c := range changes(t, f, leg.ID) {
			if c == "deleted:operations" {
				ops++
			}
		}
		if ops != 2 {
			t.Fatalf("operation notifications = %d, want 2 (invite and startHoldMusic): %v", ops, changes(t, f, leg.ID))
		}
	})
}

func TestSimulatedBehaviourAndControl(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore(), sim.Rule{ID: "bob", HangUpAfter: "10s"}, sim.Rule{ID: "erin", Behaviour: "noAnswer"})
		leg, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
		time.Sleep(11 * time.Second)
		synctest.Wait()
		ns := notifications(t, f, leg.ID)
		if last := ns[len(ns)-1]; last.state != "terminated" || last.sub != 4521 {
			t.Fatalf("bob hangs up after 10 s: %v", changes(t, f, leg.ID))
		}
		// erin never answers by herself; the control API makes her answer.
		spec := p2p("erin")
		opts := true
		spec.CallOptions = &model.CallOptions{IsContentSharingNotificationEnabled: &opts}
		spec.Targets = append(spec.Targets, model.InvitationParticipantInfo{Identity: &bob})
		group, _ := f.svc.Create(t.Context(), alice, spec)
		synctest.Wait()
		conv, err := f.svc.Conversation(group.ID)
		if err != nil {
			t.Fatal(err)
		}
		var erin string
		for _, p := range conv.Roster {
			if p.Info.Identity.User != nil && p.Info.Identity.User.ID == "erin" {
				erin = p.ID
			}
		}
		if err := f.svc.Simulate(t.Context(), group.ID, erin, calls.SimAnswer); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Simulate(t.Context(), group.ID, erin, calls.SimShare); err != nil {
			t.Fatal(err)
		}
		shares, _ := f.svc.ContentSharingSessions(alice, group.ID)
		if len(shares) != 1 {
			t.Fatalf("sharing sessions: %v", shares)
		}
		if err := f.svc.Simulate(t.Context(), group.ID, erin, calls.SimHangUp); err != nil {
			t.Fatal(err)
		}
		shares, _ = f.svc.ContentSharingSessions(alice, group.ID)
		var created, deleted bool
		for _, c := range changes(t, f, group.ID) {
			created = created || c == "created:contentsha"
			deleted = deleted || c == "deleted:contentsha"
		}
		if len(shares) != 0 || !created || !deleted {
			t.Fatalf("content sharing notifications: %v", changes(t, f, group.ID))
		}
		if err := f.svc.Simulate(t.Context(), group.ID, erin, calls.SimHangUp); !errors.Is(err, calls.ErrNoSuchItem) {
			t.Fatalf("acting for a participant that left = %v", err)
		}
	})
}

func TestAudioRoutingGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		leg, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
		time.Sleep(time.Second)
		synctest.Wait()
		roster, _ := f.svc.Participants(t.Context(), alice, leg.ID)
		g := model.AudioRoutingGroup{ID: "oneToOne", RoutingMode: model.RoutingModeOneToOne, Sources: []string{roster[0].ID}, Receivers: []string{roster[1].ID}}
		if _, err := f.svc.CreateAudioRoutingGroup(t.Context(), alice, leg.ID, g); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateAudioRoutingGroup(t.Context(), alice, leg.ID, g); !errors.Is(err, calls.ErrConflict) {
			t.Fatalf("duplicate id = %v", err)
		}
		bad := g
		bad.ID, bad.Receivers = "x", []string{"nobody"}
		if _, err := f.svc.CreateAudioRoutingGroup(t.Context(), alice, leg.ID, bad); !errors.Is(err, calls.ErrInvalid) {
			t.Fatalf("unknown receiver = %v", err)
		}
		patch := model.AudioRoutingGroup{RoutingMode: model.RoutingModeMulticast, Receivers: []string{roster[0].ID, roster[1].ID}}
		has := func(k string) bool { return k == "routingMode" || k == "receivers" }
		up, err := f.svc.UpdateAudioRoutingGroup(t.Context(), alice, leg.ID, "ONETOONE", patch, has)
		if err != nil || up.RoutingMode != model.RoutingModeMulticast || len(up.Sources) != 1 || len(up.Receivers) != 2 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if err := f.svc.DeleteAudioRoutingGroup(t.Context(), alice, leg.ID, "oneToOne"); err != nil {
			t.Fatal(err)
		}
		if gs, _ := f.svc.AudioRoutingGroups(alice, leg.ID); len(gs) != 0 {
			t.Fatalf("after delete: %v", gs)
		}
	})
}

func TestRestartDuringTransferLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		f := newFixture(t, store, sim.Rule{ID: "dave", After: "5s"})
		leg, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
		time.Sleep(time.Second)
		synctest.Wait()
		if err := f.svc.Transfer(t.Context(), alice, leg.ID, model.TransferRequest{TransferTarget: &model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: "dave"}}}}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // dave answers while the server is down
		g := newFixture(t, store, sim.Rule{ID: "dave", After: "5s"})
		synctest.Wait()
		var got []string
		for _, e := range append(f.disp.For(leg.ID), g.disp.For(leg.ID)...) {
			var env model.CommsNotifications
			json.Unmarshal(e.Body, &env)
			var c model.Call
			json.Unmarshal(env.Value[0].ResourceData, &c)
			got = append(got, string(c.State))
			if e.Seq != int64(len(got)) {
				t.Fatalf("sequence %d at position %d", e.Seq, len(got))
			}
		}
		if want := []string{"establishing", "established", "transferring", "transferAccepted", "terminated"}; !equal(got, want) {
			t.Fatalf("notifications across the restart = %v, want %v", got, want)
		}
	})
}

func TestSameAppJoinsAMeetingTwiceWithDistinctIdentities(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		if _, err := f.svc.Create(t.Context(), alice, meetingSpec("999")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(t.Context(), alice, meetingSpec("999")); !errors.Is(err, calls.ErrInvalid) {
			t.Fatalf("second join with the same identity = %v, want invalid", err)
		}
		again := meetingSpec("999")
		again.Source = &model.ParticipantInfo{Identity: &model.IdentitySet{ApplicationInstance: &model.Identity{ID: "instance-2"}}}
		second, err := f.svc.Create(t.Context(), alice, again)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if roster, _ := f.svc.Participants(t.Context(), alice, second.ID); len(roster) != 2 {
			t.Fatalf("roster = %d, want the application twice", len(roster))
		}
	})
}

func TestInviteReplacesPeerToPeerCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		p2pCall, _ := f.svc.Create(t.Context(), alice, p2p("bob"))
		spec := p2p("carol")
		spec.Targets = nil
		group, _ := f.svc.Create(t.Context(), alice, spec)
		time.Sleep(time.Second)
		synctest.Wait()
		op, err := f.svc.Invite(t.Context(), alice, group.ID, model.InviteParticipantsRequest{Participants: []model.InvitationParticipantInfo{
			{Identity: &bob, ReplacesCallID: p2pCall.ID}, {Identity: &model.IdentitySet{User: &model.Identity{ID: "ignored"}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got, _ := f.svc.Operation(alice, group.ID, op.ID); got.Status != model.OperationStatusCompleted {
			t.Fatalf("invite: %+v", got)
		}
		roster, _ := f.svc.Participants(t.Context(), alice, group.ID)
		if len(roster) != 2 {
			t.Fatalf("group roster = %d, want the app and bob (the second invitee is ignored)", len(roster))
		}
		ns := notifications(t, f, p2pCall.ID)
		if last := ns[len(ns)-1]; last.state != "terminated" || last.sub != 7016 {
			t.Fatalf("the replaced call: %v", changes(t, f, p2pCall.ID))
		}
	})
}
