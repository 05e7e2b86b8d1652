package model

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// enumCase adapts one enum to the shared table below.
type enumCase struct {
	name      string   // Graph enum name, as EnumError.Enum reports it
	canonical []string // the expected wire spellings, written out here on purpose
	parse     func(string) (string, error)
	unmarshal func([]byte) (string, error)
}

func newEnumCase[T ~string](name string, parse func(string) (T, error), canonical ...string) enumCase {
	return enumCase{
		name:      name,
		canonical: canonical,
		parse: func(s string) (string, error) {
			v, err := parse(s)
			return string(v), err
		},
		unmarshal: func(b []byte) (string, error) {
			var v T
			err := json.Unmarshal(b, &v)
			return string(v), err
		},
	}
}

var enumCases = []enumCase{
	newEnumCase("callState", ParseCallState, "incoming", "establishing", "ringing", "established", "hold",
		"transferring", "transferAccepted", "redirecting", "terminating", "terminated", "unknownFutureValue"),
	newEnumCase("callDirection", ParseCallDirection, "incoming", "outgoing"),
	newEnumCase("modality", ParseModality, "unknown", "audio", "video", "videoBasedScreenSharing", "data",
		"unknownFutureValue"),
	newEnumCase("mediaState", ParseMediaState, "active", "inactive", "unknownFutureValue"),
	newEnumCase("mediaDirection", ParseMediaDirection, "inactive", "sendOnly", "receiveOnly", "sendReceive"),
	newEnumCase("endpointType", ParseEndpointType, "default", "voicemail", "skypeForBusiness",
		"skypeForBusinessVoipPhone", "unknownFutureValue"),
	newEnumCase("tone", ParseTone, "tone0", "tone1", "tone2", "tone3", "tone4", "tone5", "tone6", "tone7",
		"tone8", "tone9", "star", "pound", "a", "b", "c", "d", "flash"),
	newEnumCase("changeType", ParseChangeType, "created", "updated", "deleted"),
	newEnumCase("screenSharingRole", ParseScreenSharingRole, "viewer", "sharer"),
	newEnumCase("rejectReason", ParseRejectReason, "none", "busy", "forbidden", "unknownFutureValue"),
	newEnumCase("operationStatus", ParseOperationStatus, "NotStarted", "Running", "Completed", "Failed"),
	newEnumCase("recordingStatus", ParseRecordingStatus, "unknown", "notRecording", "recording", "failed",
		"unknownFutureValue"),
	newEnumCase("routingType", ParseRoutingType, "forwarded", "lookup", "selfFork", "unknownFutureValue"),
	newEnumCase("routingMode", ParseRoutingMode, "oneToOne", "multicast", "unknownFutureValue"),
	newEnumCase("callTranscriptionState", ParseCallTranscriptionState, "notStarted", "active", "inactive",
		"unknownFutureValue"),
	newEnumCase("sendDtmfCompletionReason", ParseSendDtmfCompletionReason, "unknown", "completedSuccessfully",
		"mediaOperationCanceled", "unknownFutureValue"),
	newEnumCase("recordCompletionReason", ParseRecordCompletionReason, "operationCanceled", "stopToneDetected",
		"maxRecordDurationReached", "initialSilenceTimeout", "maxSilenceTimeout", "playPromptFailed",
		"playBeepFailed", "mediaReceiveTimeout", "unspecifiedError", "none"),
	newEnumCase("playPromptCompletionReason", ParsePlayPromptCompletionReason, "unknown",
		"completedSuccessfully", "mediaOperationCanceled", "unknownFutureValue"),
	newEnumCase("onlineMeetingContentSharingDisabledReason", ParseOnlineMeetingContentSharingDisabledReason,
		"watermarkProtection", "unknownFutureValue"),
	newEnumCase("onlineMeetingVideoDisabledReason", ParseOnlineMeetingVideoDisabledReason,
		"watermarkProtection", "unknownFutureValue"),
	newEnumCase("routingPolicy", ParseRoutingPolicy, "none", "noMissedCall", "disableForwardingExceptPhone",
		"disableForwarding", "preferSkypeForBusiness", "unknownFutureValue"),
	newEnumCase("callDisposition", ParseCallDisposition, "default", "simultaneousRing", "forward"),
	newEnumCase("autoAdmittedUsersType", ParseAutoAdmittedUsersType, "everyoneInCompany", "everyone"),
}

func TestEnumParse(t *testing.T) {
	for _, ec := range enumCases {
		t.Run(ec.name, func(t *testing.T) {
			for _, want := range ec.canonical {
				for _, in := range []string{want, strings.ToUpper(want), strings.ToLower(want), swapCase(want)} {
					got, err := ec.parse(in)
					if err != nil || got != want {
						t.Errorf("parse(%q) = %q, %v; want %q", in, got, err, want)
					}
					got, err = ec.unmarshal([]byte(`"` + in + `"`))
					if err != nil || got != want {
						t.Errorf("unmarshal(%q) = %q, %v; want %q", in, got, err, want)
					}
				}
			}
		})
	}
}

func TestEnumRejectsUnknown(t *testing.T) {
	for _, ec := range enumCases {
		t.Run(ec.name, func(t *testing.T) {
			for _, in := range []string{"foo", "x" + ec.canonical[0], ec.canonical[0] + "x"} {
				_, err := ec.parse(in)
				var ee *EnumError
				if !errors.As(err, &ee) {
					t.Fatalf("parse(%q): err = %v, want *EnumError", in, err)
				}
				if ee.Enum != ec.name || ee.Value != in || !slices.Equal(ee.Allowed, ec.canonical) {
					t.Errorf("parse(%q): EnumError = %+v, want enum %q, value %q, allowed %q",
						in, ee, ec.name, in, ec.canonical)
				}
				if _, err := ec.unmarshal([]byte(`"` + in + `"`)); !errors.As(err, &ee) {
					t.Errorf("unmarshal(%q): err = %v, want *EnumError", in, err)
				}
			}
			if _, err := ec.parse(""); err == nil {
				t.Error(`parse("") succeeded, want an error`)
			}
		})
	}
}

func TestEnumUnmarshalZeroAndWrongType(t *testing.T) {
	for _, ec := range enumCases {
		t.Run(ec.name, func(t *testing.T) {
			for _, in := range []string{`null`, `""`} {
				got, err := ec.unmarshal([]byte(in))
				if err != nil || got != "" {
					t.Errorf("unmarshal(%s) = %q, %v; want the zero value", in, got, err)
				}
			}
			for _, in := range []string{`1`, `true`, `{}`, `["audio"]`} {
				var ute *json.UnmarshalTypeError
				if _, err := ec.unmarshal([]byte(in)); !errors.As(err, &ute) {
					t.Errorf("unmarshal(%s): err = %v, want *json.UnmarshalTypeError", in, err)
				}
			}
		})
	}
}

func TestEnumErrorMessage(t *testing.T) {
	_, err := ParseCallState("foo")
	want := `invalid value "foo" for callState; allowed: incoming, establishing, ringing, established, hold, ` +
		`transferring, transferAccepted, redirecting, terminating, terminated, unknownFutureValue`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestFlagsEnum(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"watermarkProtection", "watermarkProtection", true},
		{"WATERMARKPROTECTION, unknownfuturevalue", "watermarkProtection,unknownFutureValue", true},
		{"watermarkProtection,bogus", "", false},
		{",", "", false},
	}
	for _, tt := range tests {
		got, err := ParseOnlineMeetingVideoDisabledReason(tt.in)
		if (err == nil) != tt.ok || string(got) != tt.want {
			t.Errorf("ParseOnlineMeetingVideoDisabledReason(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		var ee *EnumError
		if err != nil && (!errors.As(err, &ee) || ee.Value != tt.in) {
			t.Errorf("ParseOnlineMeetingVideoDisabledReason(%q): err = %#v, want *EnumError for the whole input", tt.in, err)
		}
	}
}

// TestOperationStatusEncoding pins the spelling the Go SDK needs: lowercase
// in, PascalCase out.
func TestOperationStatusEncoding(t *testing.T) {
	var op CommsOperation
	if err := json.Unmarshal([]byte(`{"status":"running"}`), &op); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"@odata.type":"#microsoft.graph.commsOperation","status":"Running"}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	for s, final := range map[OperationStatus]bool{
		OperationStatusNotStarted: false, OperationStatusRunning: false,
		OperationStatusCompleted: true, OperationStatusFailed: true, "": false,
	} {
		if s.IsFinal() != final {
			t.Errorf("%q.IsFinal() = %v, want %v", s, !final, final)
		}
	}
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}
