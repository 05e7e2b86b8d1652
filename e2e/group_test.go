package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// opType is the SDK model type an operation decoded to, such as
// "*models.InviteParticipantsOperation": the @odata.type discriminator
// chose it.
func opType(op models.CommsOperationable) string { return fmt.Sprintf("%T", op) }

// checkOperation checks an operation an action returned: its model type,
// an id, its status and the clientContext echoed.
func checkOperation(t *testing.T, op models.CommsOperationable, err error, wantType string, status models.OperationStatus, clientContext string) string {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %s", wantType, describe(err))
	}
	if op == nil {
		t.Fatalf("%s: no operation in the response", wantType)
	}
	if got := opType(op); got != wantType {
		t.Errorf("operation decoded as %s, want %s (@odata.type)", got, wantType)
	}
	if str(op.GetId()) == "" {
		t.Errorf("%s without an id", wantType)
	}
	if st := op.GetStatus(); st == nil || *st != status {
		t.Errorf("%s: status %v, want %s", wantType, st, status)
	}
	if got := str(op.GetClientContext()); got != clientContext {
		t.Errorf("%s: clientContext %q, want %q", wantType, got, clientContext)
	}
	return str(op.GetId())
}

// hasStream reports whether a participant has a media stream of this type
// and direction.
func hasStream(p models.Participantable, typ models.Modality, dir models.MediaDirection) bool {
	return p != nil && slices.ContainsFunc(p.GetMediaStreams(), func(s models.MediaStreamable) bool {
		return s.GetMediaType() != nil && *s.GetMediaType() == typ && s.GetDirection() != nil && *s.GetDirection() == dir
	})
}

// streamsOf renders a participant's media streams for failure messages.
func streamsOf(p models.Participantable) string {
	if p == nil {
		return "no such participant"
	}
	var out []string
	for _, s := range p.GetMediaStreams() {
		typ, dir := "<nil>", "<nil>"
		if s.GetMediaType() != nil {
			typ = s.GetMediaType().String()
		}
		if s.GetDirection() != nil {
			dir = s.GetDirection().String()
		}
		out = append(out, typ+"/"+dir)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// TestGroupCallControl drives a group call with the SDK through every
// participant and call action a bot has there, checking the responses and
// the notifications that follow each.
func TestGroupCallControl(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	ctl := newControl(t, s)
	t.Parallel() // after newBot: see there

	body := callRequest(rcv.URL(), alice, bob)
	options := models.NewOutgoingCallOptions()
	options.SetIsContentSharingNotificationEnabled(ptr(true))
	body.SetCallOptions(options)
	call := createCall(t, b.GraphServiceClient, body)
	id, me := str(call.GetId()), str(call.GetMyParticipantId())
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	roster := rcv.rosterAfter(t, id, 2, "with alice and bob", hasUsers(alice, bob)).Participants
	pidA, pidB := str(findParticipant(roster, byUser(alice)).GetId()), str(findParticipant(roster, byUser(bob)).GetId())
	var pidC string
	ops := map[string]string{} // operation id -> the SDK type GET must decode it to

	t.Run("invite", func(t *testing.T) {
		mark := rcv.lastSeq(id)
		req := communications.NewCallsItemParticipantsInvitePostRequestBody()
		req.SetParticipants([]models.InvitationParticipantInfoable{userTarget(carol)})
		req.SetClientContext(ptr("invite-carol"))
		headers, options := inspectHeaders()
		op, err := b.call(id).Participants().Invite().Post(t.Context(), req,
			&communications.CallsItemParticipantsInviteRequestBuilderPostRequestConfiguration{Options: options})
		// "Running" in the docs' examples: the SDK decodes the PascalCase only.
		opID := checkOperation(t, op, err, "*models.InviteParticipantsOperation", models.RUNNING_OPERATIONSTATUS, "invite-carol")
		ops[opID] = "*models.InviteParticipantsOperation"
		b.wire.wantStatus(t, http.MethodPost, "/participants/invite", http.StatusOK)
		if loc := headers.GetResponseHeaders().Get("Location"); len(loc) != 1 || !strings.HasSuffix(loc[0], "/communications/calls/"+id+"/operations/"+opID) {
			t.Errorf("invite: Location %q, want the operation's URL", loc)
		}
		joined := rcv.rosterAfter(t, id, mark, "with carol", hasUsers(alice, bob, carol))
		pidC = str(findParticipant(joined.Participants, byUser(carol)).GetId())
		done := rcv.operationDone(t, id, opID, "invite-carol")
		if got := opType(done.Operation); got != "*models.InviteParticipantsOperation" {
			t.Errorf("invite completion decoded as %s, want *models.InviteParticipantsOperation", got)
		}
	})

	t.Run("mute participant", func(t *testing.T) {
		mark := rcv.lastSeq(id)
		req := communications.NewCallsItemParticipantsItemMutePostRequestBody()
		req.SetClientContext(ptr("mute-alice"))
		op, err := b.call(id).Participants().ByParticipantId(pidA).Mute().Post(t.Context(), req, nil)
		ops[checkOperation(t, op, err, "*models.MuteParticipantOperation", models.COMPLETED_OPERATIONSTATUS, "mute-alice")] = "*models.MuteParticipantOperation"
		b.wire.wantStatus(t, http.MethodPost, "/participants/"+pidA+"/mute", http.StatusOK)
		rcv.rosterAfter(t, id, mark, "with alice muted", func(r []models.Participantable) bool {
			p := findParticipant(r, byID(pidA))
			return p != nil && isMuted(p)
		})
	})

	t.Run("hold music", func(t *testing.T) {
		req := communications.NewCallsItemParticipantsItemStartHoldMusicPostRequestBody()
		req.SetClientContext(ptr("hold-bob"))
		headers, options := inspectHeaders()
		op, err := b.call(id).Participants().ByParticipantId(pidB).StartHoldMusic().Post(t.Context(), req,
			&communications.CallsItemParticipantsItemStartHoldMusicRequestBuilderPostRequestConfiguration{Options: options})
		opID := checkOperation(t, op, err, "*models.StartHoldMusicOperation", models.RUNNING_OPERATIONSTATUS, "hold-bob")
		ops[opID] = "*models.StartHoldMusicOperation"
		b.wire.wantStatus(t, http.MethodPost, "/participants/"+pidB+"/startHoldMusic", http.StatusAccepted)
		if loc := headers.GetResponseHeaders().Get("Location"); len(loc) != 1 || !strings.HasSuffix(loc[0], "/operations/"+opID) {
			t.Errorf("startHoldMusic: Location %q, want the operation's URL", loc)
		}
		if got := opType(rcv.operationDone(t, id, opID, "hold-bob").Operation); got != "*models.StartHoldMusicOperation" {
			t.Errorf("startHoldMusic completion decoded as %s", got)
		}

		// "Only one participant can be placed on hold at any given time."
		_, err = b.call(id).Participants().ByParticipantId(pidA).StartHoldMusic().Post(t.Context(),
			communications.NewCallsItemParticipantsItemStartHoldMusicPostRequestBody(), nil)
		if err == nil {
			t.Error("holding a second participant: no error, want 400 or 409")
		} else if e := asODataError(t, err); e.ResponseStatusCode != http.StatusBadRequest && e.ResponseStatusCode != http.StatusConflict {
			t.Errorf("holding a second participant: %s, want 400 or 409", describe(err))
		}

		stop := communications.NewCallsItemParticipantsItemStopHoldMusicPostRequestBody()
		stop.SetClientContext(ptr("unhold-bob"))
		stopped, err := b.call(id).Participants().ByParticipantId(pidB).StopHoldMusic().Post(t.Context(), stop, nil)
		ops[checkOperation(t, stopped, err, "*models.StopHoldMusicOperation", models.COMPLETED_OPERATIONSTATUS, "unhold-bob")] = "*models.StopHoldMusicOperation"
		b.wire.wantStatus(t, http.MethodPost, "/participants/"+pidB+"/stopHoldMusic", http.StatusAccepted)
	})

	t.Run("mute and unmute self", func(t *testing.T) {
		mark := rcv.lastSeq(id)
		mute := communications.NewCallsItemMutePostRequestBody()
		mute.SetClientContext(ptr("mute-me"))
		op, err := b.call(id).Mute().Post(t.Context(), mute, nil)
		ops[checkOperation(t, op, err, "*models.MuteParticipantOperation", models.COMPLETED_OPERATIONSTATUS, "mute-me")] = "*models.MuteParticipantOperation"
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/mute", http.StatusOK)
		rcv.rosterAfter(t, id, mark, "with the bot muted", func(r []models.Participantable) bool {
			p := findParticipant(r, byID(me))
			return p != nil && isMuted(p)
		})

		mark = rcv.lastSeq(id)
		unmute := communications.NewCallsItemUnmutePostRequestBody()
		unmute.SetClientContext(ptr("unmute-me"))
		un, err := b.call(id).Unmute().Post(t.Context(), unmute, nil)
		ops[checkOperation(t, un, err, "*models.UnmuteParticipantOperation", models.COMPLETED_OPERATIONSTATUS, "unmute-me")] = "*models.UnmuteParticipantOperation"
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/unmute", http.StatusOK)
		rcv.rosterAfter(t, id, mark, "with the bot unmuted", func(r []models.Participantable) bool {
			p := findParticipant(r, byID(me))
			return p != nil && !isMuted(p)
		})
	})

	t.Run("updateRecordingStatus", func(t *testing.T) {
		mark := rcv.lastSeq(id)
		req := communications.NewCallsItemUpdateRecordingStatusPostRequestBody()
		status := models.RECORDING_RECORDINGSTATUS
		req.SetStatus(&status)
		req.SetClientContext(ptr("recording"))
		op, err := b.call(id).UpdateRecordingStatus().Post(t.Context(), req, nil)
		ops[checkOperation(t, op, err, "*models.UpdateRecordingStatusOperation", models.COMPLETED_OPERATIONSTATUS, "recording")] = "*models.UpdateRecordingStatusOperation"
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/updateRecordingStatus", http.StatusOK)
		n := rcv.rosterAfter(t, id, mark, "update", func([]models.Participantable) bool { return true })
		self := findParticipant(n.Participants, byID(me))
		if self == nil {
			t.Fatalf("roster after updateRecordingStatus lacks the bot: %s", describeRoster(n.Participants))
		}
		if ri := self.GetRecordingInfo(); ri == nil || ri.GetRecordingStatus() == nil || *ri.GetRecordingStatus() != models.RECORDING_RECORDINGSTATUS {
			serverBug(t, "after updateRecordingStatus(recording) (200, Completed) the roster update %s shows the bot's participant %s "+
				"without recordingInfo {recordingStatus: recording}; internal/calls rosterView never renders Participant.Recording", n, me)
		}
	})

	t.Run("addLargeGalleryView", func(t *testing.T) {
		req := communications.NewCallsItemAddLargeGalleryViewPostRequestBody()
		req.SetClientContext(ptr("gallery"))
		headers, options := inspectHeaders()
		op, err := b.call(id).AddLargeGalleryView().Post(t.Context(), req,
			&communications.CallsItemAddLargeGalleryViewRequestBuilderPostRequestConfiguration{Options: options})
		opID := checkOperation(t, op, err, "*models.AddLargeGalleryViewOperation", models.RUNNING_OPERATIONSTATUS, "gallery")
		ops[opID] = "*models.AddLargeGalleryViewOperation"
		b.wire.wantStatus(t, http.MethodPost, "/"+id+"/addLargeGalleryView", http.StatusAccepted)
		if loc := headers.GetResponseHeaders().Get("Location"); len(loc) != 1 || !strings.HasSuffix(loc[0], "/operations/"+opID) {
			t.Errorf("addLargeGalleryView: Location %q, want the operation's URL", loc)
		}
		if got := opType(rcv.operationDone(t, id, opID, "gallery").Operation); got != "*models.AddLargeGalleryViewOperation" {
			t.Errorf("addLargeGalleryView completion decoded as %s", got)
		}
	})

	t.Run("get operations", func(t *testing.T) {
		if len(ops) == 0 {
			t.Skip("no operation was created")
		}
		for opID, want := range ops {
			op, err := b.call(id).Operations().ByCommsOperationId(opID).Get(t.Context(), nil)
			if err != nil {
				t.Errorf("get operation %s (%s): %s", opID, want, describe(err))
				continue
			}
			if got := opType(op); got != want {
				t.Errorf("get operation %s: decoded as %s, want %s (@odata.type)", opID, got, want)
			}
			if st := op.GetStatus(); st == nil || *st != models.COMPLETED_OPERATIONSTATUS {
				t.Errorf("get operation %s (%s): status %v, want Completed", opID, want, st)
			}
		}
		_, err := b.call(id).Operations().ByCommsOperationId(uuid.NewString()).Get(t.Context(), nil)
		if err == nil {
			t.Fatal("get an unknown operation: no error, want 404")
		}
		graphError(t, err, http.StatusNotFound, "itemNotFound")
	})

	t.Run("audioRoutingGroups", func(t *testing.T) {
		groups := b.call(id).AudioRoutingGroups()
		g := models.NewAudioRoutingGroup()
		g.SetId(ptr("oneToOne"))
		mode := models.ONETOONE_ROUTINGMODE
		g.SetRoutingMode(&mode)
		g.SetSources([]string{me})
		g.SetReceivers([]string{pidA})
		created, err := groups.Post(t.Context(), g, nil)
		if err != nil {
			t.Fatalf("create audio routing group: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodPost, "/audioRoutingGroups", http.StatusOK)
		if str(created.GetId()) != "oneToOne" || created.GetRoutingMode() == nil || *created.GetRoutingMode() != mode {
			t.Errorf("created group: id %q mode %v, want oneToOne/oneToOne", str(created.GetId()), created.GetRoutingMode())
		}

		list, err := groups.Get(t.Context(), nil)
		if err != nil {
			t.Fatalf("list audio routing groups: %s", describe(err))
		}
		if len(list.GetValue()) != 1 || str(list.GetValue()[0].GetId()) != "oneToOne" {
			t.Errorf("list audio routing groups: %d groups, want the one created", len(list.GetValue()))
		}
		got, err := groups.ByAudioRoutingGroupId("oneToOne").Get(t.Context(), nil)
		if err != nil {
			t.Fatalf("get audio routing group: %s", describe(err))
		}
		if !slices.Equal(got.GetSources(), []string{me}) || !slices.Equal(got.GetReceivers(), []string{pidA}) {
			t.Errorf("get audio routing group: sources %v receivers %v, want [%s] [%s]", got.GetSources(), got.GetReceivers(), me, pidA)
		}

		patch := models.NewAudioRoutingGroup()
		patch.SetReceivers([]string{pidB})
		updated, err := groups.ByAudioRoutingGroupId("oneToOne").Patch(t.Context(), patch, nil)
		if err != nil {
			t.Fatalf("update audio routing group: %s", describe(err))
		}
		if !slices.Equal(updated.GetReceivers(), []string{pidB}) || !slices.Equal(updated.GetSources(), []string{me}) ||
			updated.GetRoutingMode() == nil || *updated.GetRoutingMode() != mode {
			t.Errorf("updated group: mode %v sources %v receivers %v, want oneToOne [%s] [%s]", updated.GetRoutingMode(), updated.GetSources(), updated.GetReceivers(), me, pidB)
		}

		if err := groups.ByAudioRoutingGroupId("oneToOne").Delete(t.Context(), nil); err != nil {
			t.Fatalf("delete audio routing group: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodDelete, "/audioRoutingGroups/oneToOne", http.StatusNoContent)
		_, err = groups.ByAudioRoutingGroupId("oneToOne").Get(t.Context(), nil)
		if err == nil {
			t.Fatal("get a deleted audio routing group: no error, want 404")
		}
		graphError(t, err, http.StatusNotFound, "itemNotFound")
		if list, err := groups.Get(t.Context(), nil); err != nil || len(list.GetValue()) != 0 {
			t.Errorf("list after delete: %v groups, error %v; want none", list, err)
		}
	})

	t.Run("contentSharingSessions", func(t *testing.T) {
		sessions := b.call(id).ContentSharingSessions()
		mark := rcv.lastSeq(id)
		ctl.act(t, id, pidA, "shareScreen")
		created := rcv.After(t, id, mark, "a content sharing notification", func(n notification) bool { return n.Shares != nil })
		if created.ChangeType != "created" || created.ResourceURL != "/communications/calls/"+id+"/contentsharingsessions" || len(created.Shares) != 1 {
			t.Fatalf("content sharing notification %s: want created on .../contentsharingsessions with one session: %s", created, created.Body)
		}
		sid := str(created.Shares[0].GetId())
		if sid == "" {
			t.Fatalf("content sharing session without an id: %s", created.Body)
		}
		list, err := sessions.Get(t.Context(), nil)
		if err != nil {
			t.Fatalf("list content sharing sessions: %s", describe(err))
		}
		if len(list.GetValue()) != 1 || str(list.GetValue()[0].GetId()) != sid {
			t.Errorf("list content sharing sessions: %d, want the session %s", len(list.GetValue()), sid)
		}
		got, err := sessions.ByContentSharingSessionId(sid).Get(t.Context(), nil)
		if err != nil {
			t.Fatalf("get content sharing session: %s", describe(err))
		}
		if str(got.GetId()) != sid {
			t.Errorf("get content sharing session: id %q, want %q", str(got.GetId()), sid)
		}
		t.Run("roster shows the shared screen", func(t *testing.T) {
			n := rcv.rosterAfter(t, id, mark, "update", func([]models.Participantable) bool { return true })
			alice := findParticipant(n.Participants, byID(pidA))
			if !hasStream(alice, models.VIDEOBASEDSCREENSHARING_MODALITY, models.SENDONLY_MEDIADIRECTION) {
				serverBug(t, "while alice shares her screen (control API shareScreen; the contentSharingSession was created) the roster update %s "+
					"shows her media streams as %s, without a videoBasedScreenSharing/sendOnly stream; internal/calls rosterView ignores Participant.Sharing", n, streamsOf(alice))
			}
		})

		mark = rcv.lastSeq(id)
		ctl.act(t, id, pidA, "stopSharing")
		ended := rcv.After(t, id, mark, "the end of the content sharing session", func(n notification) bool { return n.Shares != nil })
		if ended.ChangeType != "deleted" || len(ended.Shares) != 1 || str(ended.Shares[0].GetId()) != sid {
			t.Errorf("content sharing notification %s: want deleted with session %s: %s", ended, sid, ended.Body)
		}
		if list, err := sessions.Get(t.Context(), nil); err != nil || len(list.GetValue()) != 0 {
			t.Errorf("list content sharing sessions after the end: %v, error %v; want none", list, err)
		}
	})

	t.Run("remove participant", func(t *testing.T) {
		if pidC == "" {
			t.Skip("carol did not join")
		}
		mark := rcv.lastSeq(id)
		if err := b.call(id).Participants().ByParticipantId(pidC).Delete(t.Context(), nil); err != nil {
			t.Fatalf("remove carol: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodDelete, "/participants/"+pidC, http.StatusNoContent)
		rcv.rosterAfter(t, id, mark, "without carol", hasUsers(alice, bob))
		_, err := b.call(id).Participants().ByParticipantId(pidC).Get(t.Context(), nil)
		if err == nil {
			t.Fatal("get a removed participant: no error, want 404")
		}
		graphError(t, err, http.StatusNotFound, "itemNotFound")
	})

	t.Run("changeScreenSharingRole with service-hosted media", func(t *testing.T) {
		req := communications.NewCallsItemChangeScreenSharingRolePostRequestBody()
		role := models.SHARER_SCREENSHARINGROLE
		req.SetRole(&role)
		err := b.call(id).ChangeScreenSharingRole().Post(t.Context(), req, nil)
		if err == nil {
			t.Fatal("no error, want 400: Graph supports it only with app-hosted media")
		}
		e := graphError(t, err, http.StatusBadRequest, "BadRequest")
		if !strings.Contains(strings.ToLower(str(e.GetMessage())), "app-hosted") {
			t.Errorf("message %q does not say app-hosted media is needed", str(e.GetMessage()))
		}
	})

	t.Run("logTeleconferenceDeviceQuality", func(t *testing.T) {
		chain, err := uuid.Parse(str(call.GetCallChainId()))
		if err != nil {
			t.Fatalf("callChainId %q is not a GUID: %v", str(call.GetCallChainId()), err)
		}
		participant, leg := uuid.MustParse(me), uuid.New()
		q := models.NewTeleconferenceDeviceQuality()
		q.SetCallChainId(&chain)
		q.SetParticipantId(&participant)
		q.SetMediaLegId(&leg)
		q.SetDeviceName(ptr("Switchboard e2e room"))
		q.SetDeviceDescription(ptr("CVI gateway"))
		audio := models.NewTeleconferenceDeviceAudioQuality()
		audio.SetChannelIndex(ptr(int32(1)))
		audio.SetInboundPackets(ptr(int64(1500)))
		audio.SetMediaDuration(serialization.NewDuration(0, 0, 0, 0, 0, 30, 0))
		q.SetMediaQualityList([]models.TeleconferenceDeviceMediaQualityable{audio})
		req := communications.NewCallsLogTeleconferenceDeviceQualityPostRequestBody()
		req.SetQuality(q)
		if err := b.Communications().Calls().LogTeleconferenceDeviceQuality().Post(t.Context(), req, nil); err != nil {
			t.Fatalf("logTeleconferenceDeviceQuality: %s", describe(err))
		}
		b.wire.wantStatus(t, http.MethodPost, "/calls/logTeleconferenceDeviceQuality", http.StatusOK)
	})
}

// TestChangeScreenSharingRoleAppHosted changes the bot's screen sharing role
// in a group call with app-hosted media, the only kind Graph supports it in:
// 202, and a roster update.
func TestChangeScreenSharingRoleAppHosted(t *testing.T) {
	s := startServer(t, "")
	rcv := newReceiver(t)
	b := newBot(t, s, devApp)
	t.Parallel() // after newBot: see there

	body := callRequest(rcv.URL(), alice, bob)
	media := models.NewAppHostedMediaConfig()
	media.SetBlob(ptr(`{"mpUri":"net.tcp://bot.example:8445/MediaProcessor","mediaConfiguration":"e2e"}`))
	body.SetMediaConfig(media)
	body.SetRequestedModalities([]models.Modality{models.AUDIO_MODALITY, models.VIDEOBASEDSCREENSHARING_MODALITY})
	call := createCall(t, b.GraphServiceClient, body)
	id, me := str(call.GetId()), str(call.GetMyParticipantId())
	if _, ok := call.GetMediaConfig().(models.AppHostedMediaConfigable); !ok {
		t.Errorf("created call mediaConfig is %T, want the app-hosted subtype", call.GetMediaConfig())
	}
	rcv.expectStates(t, id, 0, "updated:establishing", "updated:established")
	rcv.rosterAfter(t, id, 2, "with alice and bob", hasUsers(alice, bob))

	mark := rcv.lastSeq(id)
	req := communications.NewCallsItemChangeScreenSharingRolePostRequestBody()
	role := models.SHARER_SCREENSHARINGROLE
	req.SetRole(&role)
	if err := b.call(id).ChangeScreenSharingRole().Post(t.Context(), req, nil); err != nil {
		t.Fatalf("changeScreenSharingRole: %s", describe(err))
	}
	b.wire.wantStatus(t, http.MethodPost, "/"+id+"/changeScreenSharingRole", http.StatusAccepted)
	n := rcv.rosterAfter(t, id, mark, "update", func([]models.Participantable) bool { return true })
	self := findParticipant(n.Participants, byID(me))
	if !hasStream(self, models.VIDEOBASEDSCREENSHARING_MODALITY, models.SENDONLY_MEDIADIRECTION) {
		serverBug(t, "after changeScreenSharingRole(sharer) (202) the roster update %s shows the bot's media streams as %s, without a "+
			"videoBasedScreenSharing/sendOnly stream: internal/calls rosterView renders every requested modality as sendReceive and ignores Participant.Sharing", n, streamsOf(self))
	}
}
