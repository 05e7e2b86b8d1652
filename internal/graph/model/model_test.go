package model

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestResultInfoDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ResultInfo
	}{
		{"numbers", `{"code":200,"subcode":5001,"message":"The conversation has ended."}`,
			ResultInfo{Code: 200, Subcode: 5001, Message: ptr("The conversation has ended.")}},
		{"numeric strings", `{"@odata.type":"#microsoft.graph.resultInfo","code":"200","subcode":"5001"}`,
			ResultInfo{ODataType: TypeResultInfo, Code: 200, Subcode: 5001}},
		{"subCode spelling", `{"code":500,"subCode":7000}`, ResultInfo{Code: 500, Subcode: 7000}},
		{"subcode wins over subCode", `{"subCode":1,"subcode":2}`, ResultInfo{Subcode: 2}},
		{"subCode as string", `{"code":"0","subCode":"7700"}`, ResultInfo{Code: 0, Subcode: 7700}},
		{"nulls", `{"code":null,"subcode":null,"message":null}`, ResultInfo{}},
		{"negative and extremes", `{"code":-2147483648,"subcode":"2147483647"}`,
			ResultInfo{Code: -2147483648, Subcode: 2147483647}},
		{"unknown properties ignored", `{"code":1,"diag":{"x":[1]}}`, ResultInfo{Code: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ResultInfo
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if !resultInfoEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func resultInfoEqual(a, b ResultInfo) bool {
	if (a.Message == nil) != (b.Message == nil) || a.Message != nil && *a.Message != *b.Message {
		return false
	}
	return a.ODataType == b.ODataType && a.Code == b.Code && a.Subcode == b.Subcode
}

func TestResultInfoDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"non-numeric string", `{"resultInfo":{"code":"OK"}}`, "resultInfo.code"},
		{"out of range", `{"resultInfo":{"code":2147483648}}`, "resultInfo.code"},
		{"fraction", `{"resultInfo":{"subcode":1.5}}`, "resultInfo.subcode"},
		{"bool", `{"resultInfo":{"subCode":true}}`, "resultInfo.subCode"},
		{"not an object", `{"resultInfo":[200]}`, "resultInfo"},
		{"message not a string", `{"resultInfo":{"message":5}}`, "resultInfo.message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Call
			err := json.Unmarshal([]byte(tt.in), &c)
			var ute *json.UnmarshalTypeError
			if !errors.As(err, &ute) {
				t.Fatalf("err = %v, want *json.UnmarshalTypeError", err)
			}
			if ute.Field != tt.field {
				t.Errorf("Field = %q, want %q", ute.Field, tt.field)
			}
		})
	}
}

func TestResultInfoEncode(t *testing.T) {
	out, err := json.Marshal(ResultInfo{Code: 200, Subcode: 5001, Message: ptr("ended")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@odata.type":"#microsoft.graph.resultInfo","code":200,"subcode":5001,"message":"ended"}`
	if string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	out, _ = json.Marshal(ResultInfo{})
	if want := `{"@odata.type":"#microsoft.graph.resultInfo","code":0,"subcode":0}`; string(out) != want {
		t.Errorf("zero value encoded %s, want %s", out, want)
	}
}

func TestDiscriminatorDefaults(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"call", Call{}, TypeCall},
		{"call pointer", &Call{}, TypeCall},
		{"call keeps its type", Call{ODataType: "#microsoft.graph.custom"}, "#microsoft.graph.custom"},
		{"participant", Participant{}, TypeParticipant},
		{"participantInfo", ParticipantInfo{}, TypeParticipantInfo},
		{"invitationParticipantInfo", InvitationParticipantInfo{}, TypeInvitationParticipantInfo},
		{"identity", Identity{ID: "x"}, TypeIdentity},
		{"identitySet", IdentitySet{}, TypeIdentitySet},
		{"mediaConfig empty", MediaConfig{}, TypeServiceHostedMediaConfig},
		{"mediaConfig prefetch", MediaConfig{PreFetchMedia: []MediaInfo{{URI: "u"}}}, TypeServiceHostedMediaConfig},
		{"mediaConfig blob", MediaConfig{Blob: ptr("")}, TypeAppHostedMediaConfig},
		{"mediaConfig explicit", MediaConfig{ODataType: TypeAppHostedMediaConfig}, TypeAppHostedMediaConfig},
		{"meetingInfo empty", MeetingInfo{}, TypeMeetingInfo},
		{"meetingInfo organizer", MeetingInfo{Organizer: &IdentitySet{}}, TypeOrganizerMeetingInfo},
		{"meetingInfo token", MeetingInfo{Token: "t"}, TypeTokenMeetingInfo},
		{"meetingInfo join id", MeetingInfo{JoinMeetingID: "1", Passcode: ptr("p")}, TypeJoinMeetingIDMeetingInfo},
		{"callOptions", CallOptions{}, TypeCallOptions},
		{"callOptions explicit", CallOptions{ODataType: TypeOutgoingCallOptions}, TypeOutgoingCallOptions},
		{"prompt", Prompt{}, TypeMediaPrompt},
		{"resultInfo", ResultInfo{}, TypeResultInfo},
		{"operation", CommsOperation{}, TypeCommsOperation},
		{"operation invite", CommsOperation{Participants: []InvitationParticipantInfo{{}}}, TypeInviteParticipantsOperation},
		{"operation record", CommsOperation{RecordingLocation: ptr("")}, TypeRecordOperation},
		{"operation explicit", CommsOperation{ODataType: TypePlayPromptOperation}, TypePlayPromptOperation},
		{"audioRoutingGroup", AudioRoutingGroup{}, TypeAudioRoutingGroup},
		{"contentSharingSession", ContentSharingSession{}, TypeContentSharingSession},
		{"commsNotifications", CommsNotifications{}, TypeCommsNotifications},
		{"commsNotification", CommsNotification{}, TypeCommsNotification},
		{"participantJoiningNotification", ParticipantJoiningNotification{}, TypeParticipantJoiningNotification},
		{"participantLeftNotification", ParticipantLeftNotification{}, TypeParticipantLeftNotification},
		{"accept join", ParticipantJoiningResponse{}, TypeAcceptJoinResponse},
		{"reject join", ParticipantJoiningResponse{Reason: RejectReasonBusy}, TypeRejectJoinResponse},
		{"invite new bot", ParticipantJoiningResponse{InviteURI: ptr("https://b")}, TypeInviteNewBotResponse},
		{"media quality", TeleconferenceDeviceMediaQuality{}, TypeTeleconferenceDeviceMediaQuality},
		{"video quality", TeleconferenceDeviceMediaQuality{AverageInboundFrameRate: ptr(30.0)}, TypeTeleconferenceDeviceVideoQuality},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var probe map[string]any
			if err := json.Unmarshal(out, &probe); err != nil {
				t.Fatal(err)
			}
			if probe["@odata.type"] != tt.want {
				t.Errorf("encoded %s, want @odata.type %q", out, tt.want)
			}
		})
	}
}

// TestNestedDiscriminators checks that a call assembled without any
// ODataType still encodes every polymorphic object with one.
func TestNestedDiscriminators(t *testing.T) {
	user := &IdentitySet{User: &Identity{ID: "u"}}
	c := Call{
		Source:       &ParticipantInfo{Identity: &IdentitySet{Application: &Identity{ID: "a"}}},
		Targets:      []InvitationParticipantInfo{{Identity: user}},
		MediaConfig:  &MediaConfig{},
		CallOptions:  &CallOptions{},
		MeetingInfo:  &MeetingInfo{Organizer: user},
		ResultInfo:   &ResultInfo{},
		Participants: []Participant{{Info: &ParticipantInfo{Identity: user}}},
		Operations:   []CommsOperation{{Status: OperationStatusRunning}},
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal(out, &tree); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"":                            TypeCall,
		"source":                      TypeParticipantInfo,
		"source.identity":             TypeIdentitySet,
		"source.identity.application": TypeIdentity,
		"targets.0":                   TypeInvitationParticipantInfo,
		"targets.0.identity.user":     TypeIdentity,
		"mediaConfig":                 TypeServiceHostedMediaConfig,
		"callOptions":                 TypeCallOptions,
		"meetingInfo":                 TypeOrganizerMeetingInfo,
		"meetingInfo.organizer":       TypeIdentitySet,
		"resultInfo":                  TypeResultInfo,
		"participants.0":              TypeParticipant,
		"participants.0.info":         TypeParticipantInfo,
		"operations.0":                TypeCommsOperation,
	} {
		if got := lookup(tree, path)["@odata.type"]; got != want {
			t.Errorf("%s: @odata.type = %v, want %q", path, got, want)
		}
	}
}

// lookup follows a dotted path of object keys and array indexes.
func lookup(v any, path string) map[string]any {
	if path != "" {
		for _, seg := range strings.Split(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[seg]
			case []any:
				i, err := strconv.Atoi(seg)
				if err != nil || i >= len(x) {
					return nil
				}
				v = x[i]
			}
		}
	}
	m, _ := v.(map[string]any)
	return m
}

func TestMediaConfigKind(t *testing.T) {
	tests := []struct {
		name         string
		m            MediaConfig
		service, app bool
	}{
		{"service explicit", MediaConfig{ODataType: TypeServiceHostedMediaConfig}, true, false},
		{"app explicit", MediaConfig{ODataType: TypeAppHostedMediaConfig}, false, true},
		{"app without # and in other case", MediaConfig{ODataType: "Microsoft.Graph.AppHostedMediaConfig"}, false, true},
		{"inferred app", MediaConfig{Blob: ptr("b")}, false, true},
		{"inferred service", MediaConfig{}, true, false},
		{"base type", MediaConfig{ODataType: TypeMediaConfig}, false, false},
	}
	for _, tt := range tests {
		if tt.m.IsServiceHosted() != tt.service || tt.m.IsAppHosted() != tt.app {
			t.Errorf("%s: IsServiceHosted=%v IsAppHosted=%v, want %v %v",
				tt.name, tt.m.IsServiceHosted(), tt.m.IsAppHosted(), tt.service, tt.app)
		}
	}
}

func TestStripBeta(t *testing.T) {
	in := `{"id":"c1","state":"established","subject":"s","tenantId":"t",
		"ringingTimeoutInSeconds":30,"answeredBy":{"identity":{"user":{"id":"u"}}},
		"activeModalities":["audio"],"routingPolicies":["disableForwarding"],
		"terminationReason":"AppTransferred","meetingCapability":{"allowAnonymousUsersToStartMeeting":true},
		"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`
	var c Call
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.RingingTimeoutInSeconds == nil || c.AnsweredBy == nil || len(c.ActiveModalities) != 1 ||
		len(c.RoutingPolicies) != 1 || c.TerminationReason == nil || c.MeetingCapability == nil {
		t.Fatalf("beta properties not decoded: %+v", c)
	}
	c.StripBeta()
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@odata.type":"#microsoft.graph.call","id":"c1","state":"established","tenantId":"t","subject":"s",` +
		`"requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`
	if string(out) != want {
		t.Errorf("after StripBeta encoded\n%s\nwant\n%s", out, want)
	}
}

func TestDecodeTolerance(t *testing.T) {
	in := `{"@odata.type":"#microsoft.graph.call","STATE":"Established","direction":"OUTGOING",
		"unknownThing":{"a":[1,2,{"b":null}]},"applicationMetadata":{"botData":{}},
		"requestedModalities":["AUDIO","videoBasedScreenSharing"],
		"source":{"identity":{"phone":{"id":"+1","futureProp":true}},"endpointType":"SkypeForBusiness"},
		"resultInfo":{"code":"408","subCode":"8537"}}`
	var c Call
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if c.State != CallStateEstablished || c.Direction != CallDirectionOutgoing ||
		c.RequestedModalities[0] != ModalityAudio || c.Source.EndpointType != EndpointTypeSkypeForBusiness ||
		c.Source.Identity.Phone.ID != "+1" || c.ResultInfo.Code != 408 || c.ResultInfo.Subcode != 8537 {
		t.Errorf("decoded %+v", c)
	}
}

func TestDecodeErrors(t *testing.T) {
	typeErrors := []struct {
		name, in, field string
	}{
		{"enum as number", `{"state":5}`, "state"},
		{"string as number", `{"callbackUri":5}`, "callbackUri"},
		{"nested identity", `{"targets":[{"identity":{"user":{"displayName":5}}}]}`, "targets.identity.user.displayName"},
		{"modalities not an array", `{"requestedModalities":"audio"}`, "requestedModalities"},
		{"modality element", `{"requestedModalities":[1]}`, "requestedModalities"},
		{"int32 overflow", `{"ringingTimeoutInSeconds":4294967296}`, "ringingTimeoutInSeconds"},
		{"bool as string", `{"participants":[{"isMuted":"true"}]}`, "participants.isMuted"},
		{"time not a time", `{"transcription":{"lastModifiedDateTime":12}}`, "transcription.lastModifiedDateTime"},
	}
	for _, tt := range typeErrors {
		t.Run(tt.name, func(t *testing.T) {
			var c Call
			err := json.Unmarshal([]byte(tt.in), &c)
			var ute *json.UnmarshalTypeError
			if !errors.As(err, &ute) {
				t.Fatalf("err = %v, want *json.UnmarshalTypeError", err)
			}
			if ute.Field != tt.field {
				t.Errorf("Field = %q, want %q", ute.Field, tt.field)
			}
		})
	}

	var c Call
	err := json.Unmarshal([]byte(`{"participants":[{"mediaStreams":[{"direction":"sideways"}]}]}`), &c)
	var ee *EnumError
	if !errors.As(err, &ee) || ee.Enum != "mediaDirection" || ee.Value != "sideways" {
		t.Errorf("unknown enum: err = %v, want *EnumError for mediaDirection", err)
	}
}

func TestNotificationResources(t *testing.T) {
	body := `{"value":[
		{"changeType":"updated","resourceUrl":"/communications/calls/c1","resourceData":{"state":"established"}},
		{"changeType":"updated","resourceUrl":"/communications/calls/c1/participants",
		 "resourceData":[{"id":"p1","isMuted":true},{"id":"p2"}]},
		{"changeType":"deleted","resourceUrl":"/app/calls/c1/operations/o1",
		 "resourceData":{"@odata.type":"#microsoft.graph.playPromptOperation","status":"completed"}},
		{"changeType":"created","resourceUrl":"/communications/calls/c1/contentSharingSessions","resourceData":[{"id":"s"}]},
		{"changeType":"deleted","resourceUrl":"/communications/calls/c1"}
	]}`
	var env CommsNotifications
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, n := range env.Value {
		rs, err := n.Resources()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rs...)
	}
	if len(got) != 5 {
		t.Fatalf("got %d resources, want 5: %#v", len(got), got)
	}
	if c, ok := got[0].(*Call); !ok || c.State != CallStateEstablished {
		t.Errorf("resource 0 = %#v, want established *Call", got[0])
	}
	if p, ok := got[1].(*Participant); !ok || p.ID != "p1" || !*p.IsMuted {
		t.Errorf("resource 1 = %#v, want muted *Participant p1", got[1])
	}
	if p, ok := got[2].(*Participant); !ok || p.ID != "p2" {
		t.Errorf("resource 2 = %#v, want *Participant p2", got[2])
	}
	if op, ok := got[3].(*CommsOperation); !ok || op.Status != OperationStatusCompleted {
		t.Errorf("resource 3 = %#v, want completed *CommsOperation", got[3])
	}
	if s, ok := got[4].(*ContentSharingSession); !ok || s.ID != "s" {
		t.Errorf("resource 4 = %#v, want *ContentSharingSession", got[4])
	}

	if _, err := DecodeResource(json.RawMessage(`{"id":"x"}`), "/communications/somethingElse/x"); !errors.Is(err, ErrUnknownResource) {
		t.Errorf("unknown resource: err = %v, want ErrUnknownResource", err)
	}
	bad := CommsNotification{ResourceData: json.RawMessage(`"text"`)}
	var ute *json.UnmarshalTypeError
	if _, err := bad.ResourceItems(); !errors.As(err, &ute) {
		t.Errorf("string resourceData: err = %v, want *json.UnmarshalTypeError", err)
	}
}

func TestNewCommsNotification(t *testing.T) {
	n, err := NewCommsNotification(ChangeTypeUpdated, "/communications/calls/c1/participants",
		[]Participant{{ID: "p1"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(CommsNotifications{Value: []CommsNotification{n}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@odata.type":"#microsoft.graph.commsNotifications","value":[{"@odata.type":"#microsoft.graph.commsNotification",` +
		`"changeType":"updated","resourceUrl":"/communications/calls/c1/participants",` +
		`"resourceData":[{"@odata.type":"#microsoft.graph.participant","id":"p1"}]}]}`
	if string(out) != want {
		t.Errorf("encoded\n%s\nwant\n%s", out, want)
	}
	if _, err := NewCommsNotification(ChangeTypeUpdated, "/x", func() {}); err == nil {
		t.Error("encoding a func succeeded, want an error")
	}
}

func TestCollectionEncodesEmptyValue(t *testing.T) {
	out, err := json.Marshal(Collection[Participant]{ODataContext: "ctx"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"@odata.context":"ctx","value":[]}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	out, _ = json.Marshal(CommsNotifications{})
	if want := `{"@odata.type":"#microsoft.graph.commsNotifications","value":[]}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
}

func TestCompletionReasonAccessors(t *testing.T) {
	op := CommsOperation{CompletionReason: "OPERATIONCANCELED"}
	if r, err := op.RecordCompletionReason(); err != nil || r != RecordCompletionReasonOperationCanceled {
		t.Errorf("RecordCompletionReason() = %q, %v", r, err)
	}
	if _, err := op.SendDtmfCompletionReason(); err == nil {
		t.Error("SendDtmfCompletionReason() accepted a record reason")
	}
	op.CompletionReason = "completedSuccessfully"
	if r, err := op.PlayPromptCompletionReason(); err != nil || r != PlayPromptCompletionReasonCompletedSuccessfully {
		t.Errorf("PlayPromptCompletionReason() = %q, %v", r, err)
	}
	op.CompletionReason = ""
	if r, err := op.SendDtmfCompletionReason(); err != nil || r != "" {
		t.Errorf("empty SendDtmfCompletionReason() = %q, %v", r, err)
	}
}

func TestMatchesType(t *testing.T) {
	tests := []struct {
		got, want string
		match     bool
	}{
		{TypeCall, TypeCall, true},
		{"microsoft.graph.call", TypeCall, true},
		{"#Microsoft.Graph.CALL", TypeCall, true},
		{TypeCallOptions, TypeCall, false},
		{"", TypeCall, false},
	}
	for _, tt := range tests {
		if MatchesType(tt.got, tt.want) != tt.match {
			t.Errorf("MatchesType(%q, %q) = %v", tt.got, tt.want, !tt.match)
		}
	}
	if !IsOperationType("#microsoft.graph.recordOperation") || IsOperationType(TypeCall) {
		t.Error("IsOperationType misclassifies")
	}
}

func TestTranscriptionTime(t *testing.T) {
	var c Call
	in := `{"transcription":{"state":"ACTIVE","lastModifiedDateTime":"2020-05-28T00:10:54.104318+02:00"}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	tr := c.Transcription
	if tr.State != CallTranscriptionStateActive || tr.LastModifiedDateTime == nil ||
		tr.LastModifiedDateTime.UTC().Format("15:04:05.000000") != "22:10:54.104318" {
		t.Errorf("decoded %+v", tr)
	}
	out, _ := json.Marshal(tr)
	if want := `{"lastModifiedDateTime":"2020-05-28T00:10:54.104318+02:00","state":"active"}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	var ute *json.UnmarshalTypeError
	if err := json.Unmarshal([]byte(`{"transcription":[]}`), &c); !errors.As(err, &ute) || ute.Field != "transcription" {
		t.Errorf("array transcription: err = %v, want *json.UnmarshalTypeError at transcription", err)
	}
	if err := json.Unmarshal([]byte(`{"transcription":{"lastModifiedDateTime":"yesterday"}}`), &c); err == nil {
		t.Error("non-RFC 3339 time accepted")
	}
}

// TestEncodeLeavesHTMLEscapingToCaller checks that nested MarshalJSON methods
// do not force HTML escaping on an encoder that turned it off.
func TestEncodeLeavesHTMLEscapingToCaller(t *testing.T) {
	c := Call{CallbackURI: "https://bot/cb?a=1&b=2", MediaConfig: &MediaConfig{Blob: ptr("<blob>")}}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	want := `{"@odata.type":"#microsoft.graph.call","callbackUri":"https://bot/cb?a=1&b=2",` +
		`"mediaConfig":{"@odata.type":"#microsoft.graph.appHostedMediaConfig","blob":"<blob>"}}` + "\n"
	if buf.String() != want {
		t.Errorf("encoded %s, want %s", buf.String(), want)
	}
}
