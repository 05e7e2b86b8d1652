package model

import (
	"encoding/json"
	"testing"
	"time"
)

// TestMarshalOnePass pins what marshal writes (with the MarshalJSON methods
// built on it) for the cases a one-pass encoder can get wrong: escaping
// without HTML escapes, invalid UTF-8, omitempty, nil slices, defaulted
// "@odata.type" at every depth, raw messages, and values left to
// encoding/json (maps, floats, times).
func TestMarshalOnePass(t *testing.T) {
	s := func(v string) *string { return &v }
	f := 1.5e-7
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"escaping", Call{CallbackURI: "https://x/?a=1&b=<2>\u2028\u2029\x01\"\\\t\n\r\b\f" + string([]byte{0xff}), Subject: s("é😀")},
			`{"@odata.type":"#microsoft.graph.call","callbackUri":"https://x/?a=1&b=<2>\u2028\u2029\u0001\"\\\t\n\r\b\f\ufffd","subject":"é😀"}`},
		{"zero call", Call{}, `{"@odata.type":"#microsoft.graph.call"}`},
		{"pointer", &Participant{ID: "p"}, `{"@odata.type":"#microsoft.graph.participant","id":"p"}`},
		{"nested defaults", CommsOperation{Participants: []InvitationParticipantInfo{{Identity: &IdentitySet{User: &Identity{ID: "u"}}}}},
			`{"@odata.type":"#microsoft.graph.inviteParticipantsOperation","participants":[{"@odata.type":"#microsoft.graph.invitationParticipantInfo","identity":{"@odata.type":"#microsoft.graph.identitySet","user":{"@odata.type":"#microsoft.graph.identity","id":"u"}}}]}`},
		{"nil value", CommsNotifications{}, `{"@odata.type":"#microsoft.graph.commsNotifications","value":[]}`},
		{"nil collection", Collection[Participant]{}, `{"value":[]}`},
		{"raw message", CommsNotification{ResourceData: json.RawMessage(` { "a" : [1, 2] } `)},
			`{"@odata.type":"#microsoft.graph.commsNotification","resourceData":{"a":[1,2]}}`},
		{"slice of entities", []Call{{ID: "c"}}, `[{"@odata.type":"#microsoft.graph.call","id":"c"}]`},
		{"float", &f, `1.5e-7`},
		{"time", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), `"2026-01-02T03:04:05.000000006Z"`},
		{"map", map[string]any{"b": 1, "a": "<&>"}, `{"a":"<&>","b":1}`},
	}
	for _, tt := range tests {
		got, err := marshal(tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: marshal = %s, %v\nwant %s", tt.name, got, err, tt.want)
		}
	}
}

func BenchmarkMarshalCall(b *testing.B) {
	s := func(v string) *string { return &v }
	c := Call{
		ODataType: TypeCall, ID: "0190f0e2-1111-7222-8333-444455556666", State: "established", Direction: "outgoing",
		CallbackURI: "https://bot.example/callback", TenantID: "t1", MyParticipantID: "p1", CallChainID: "c1",
		Source:              &ParticipantInfo{ODataType: TypeParticipantInfo, Identity: &IdentitySet{Application: &Identity{ID: "app"}}},
		Targets:             []InvitationParticipantInfo{{Identity: &IdentitySet{User: &Identity{ID: "user-1", DisplayName: s("Ada")}}}},
		RequestedModalities: []Modality{ModalityAudio},
		MediaConfig:         &MediaConfig{ODataType: TypeServiceHostedMediaConfig},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(c); err != nil {
			b.Fatal(err)
		}
	}
}
