package graph

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

func TestParseFilter(t *testing.T) {
	item := map[string]string{"state": "established", "direction": "outgoing"}
	get := func(p string) string { return item[p] }
	tests := []struct {
		expr string
		want bool
		bad  bool
	}{
		{expr: "state eq 'established'", want: true},
		{expr: "state eq 'Established'", want: true}, // enum literals are canonicalised
		{expr: "state ne 'established'", want: false},
		{expr: "STATE eq 'established' and direction eq 'incoming'", want: false},
		{expr: "state eq 'terminated' or direction eq 'outgoing'", want: true},
		{expr: "not (state eq 'terminated')", want: true},
		{expr: "state in ('incoming', 'established')", want: true},
		{expr: "((state eq 'established'))", want: true},
		{expr: "state eq 'established' and (direction eq 'incoming' or direction eq 'outgoing')", want: true},
		{expr: "", bad: true},
		{expr: "state", bad: true},
		{expr: "state eq", bad: true},
		{expr: "state eq established", bad: true},
		{expr: "state gt 'a'", bad: true},
		{expr: "state eq 'nope'", bad: true},
		{expr: "subject eq 'x'", bad: true},
		{expr: "state eq 'established' extra", bad: true},
		{expr: "(state eq 'established'", bad: true},
		{expr: "state eq 'unterminated", bad: true},
		{expr: "state in ('established'", bad: true},
		{expr: strings.Repeat("(", 40) + "state eq 'established'" + strings.Repeat(")", 40), bad: true},
	}
	for _, tt := range tests {
		p, err := parseFilter(tt.expr, callListRules.filterable)
		if tt.bad {
			if err == nil {
				t.Errorf("parseFilter(%q) accepted", tt.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseFilter(%q): %v", tt.expr, err)
			continue
		}
		if got := p(get); got != tt.want {
			t.Errorf("%q = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestQueryPaging(t *testing.T) {
	tests := []struct {
		raw            string
		n, lo, hi      int
		next           bool
		nextSkip, nTop string
	}{
		{raw: "", n: 10, lo: 0, hi: 10},
		{raw: "$top=3", n: 10, lo: 0, hi: 3},
		{raw: "$skip=8", n: 10, lo: 8, hi: 10},
		{raw: "$skip=20", n: 10, lo: 10, hi: 10},
		{raw: "", n: 250, lo: 0, hi: 100, next: true, nextSkip: "100"},
		{raw: "$top=150", n: 250, lo: 0, hi: 100, next: true, nextSkip: "100", nTop: "50"},
		{raw: "$top=0", n: 5, lo: 0, hi: 0},
	}
	for _, tt := range tests {
		q, err := parseQuery(tt.raw, callListRules)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, next := q.page(tt.n)
		if lo != tt.lo || hi != tt.hi || (next != "") != tt.next {
			t.Errorf("%q over %d: page %d..%d next %q", tt.raw, tt.n, lo, hi, next)
		}
		if tt.next {
			nq, err := parseQuery(next, callListRules)
			if err != nil {
				t.Fatalf("next link %q does not parse: %v", next, err)
			}
			if got := nq.raw.Get("$skip"); got != tt.nextSkip {
				t.Errorf("next $skip = %s, want %s", got, tt.nextSkip)
			}
			if got := nq.raw.Get("$top"); got != tt.nTop {
				t.Errorf("next $top = %q, want %q", got, tt.nTop)
			}
		}
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/V1.0/Communications/Calls/ABC/KeepAlive":             "/v1.0/communications/calls/ABC/keepalive",
		"/beta/app/calls/abc/microsoft.graph.sendDtmfTones":    "/beta/communications/calls/abc/senddtmftones",
		"/v1.0/communications/calls/Participants/Participants": "/v1.0/communications/calls/participants/participants",
		"/v1.0/app/calls":           "/v1.0/communications/calls",
		"/tenant/oauth2/v2.0/token": "/tenant/oauth2/v2.0/token",
	} {
		if got := NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseQuery feeds arbitrary query strings to the OData parser: it
// must never panic, and whatever it accepts must evaluate and page safely.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"$filter=state eq 'established'", "$top=5&$skip=2&$count=true", "$select=state,id",
		"$filter=not (state in ('incoming','terminated')) or direction ne 'incoming'",
		"$filter=state eq 'it''s'", "$orderby=state", "$top=99999999999999999999", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw, callListRules)
		if err != nil {
			var ge *Error
			if !errors.As(err, &ge) || ge.Status != http.StatusBadRequest {
				t.Fatalf("parseQuery error is not a 400: %v", err)
			}
			return
		}
		if q.filter != nil {
			q.filter(func(string) string { return "established" })
		}
		q.page(1000)
	})
}

// FuzzDecodeCreateBody feeds arbitrary bytes to the body reader and JSON
// decoder of POST /communications/calls: every failure must be a 4xx.
func FuzzDecodeCreateBody(f *testing.F) {
	f.Add([]byte(`{"callbackUri":"https://bot.test/cb","requestedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.serviceHostedMediaConfig"}}`))
	f.Add([]byte(`{"targets":[{"identity":{"user":{"id":1}}}]}`))
	f.Add([]byte(`{"resultInfo":{"code":"200","subCode":"x"}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/v1.0/communications/calls", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		b, err := readBody(httptest.NewRecorder(), r, DefaultMaxBody)
		if err == nil {
			var c model.Call
			err = decodeJSON(b, &c, true)
			if err == nil {
				return
			}
		}
		var ge *Error
		if !errors.As(err, &ge) || ge.Status < 400 || ge.Status > 499 {
			t.Fatalf("decode error is not a 4xx Graph error: %v", err)
		}
	})
}

func TestCheckShape(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxJSONDepth+1) + "1" + strings.Repeat("}", MaxJSONDepth+1)
	long := `{"targets":[{"identity":{"user":{"displayName":"` + strings.Repeat("x", MaxJSONString+1) + `"}}}]}`
	wide := `{"requestedModalities":[` + strings.Repeat(`"audio",`, MaxJSONArrayLen) + `"audio"]}`
	tests := []struct {
		body, target string
	}{
		{deep, "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"},
		{long, "targets[0].identity.user.displayName"},
		{wide, "requestedModalities"},
	}
	for _, tt := range tests {
		err := checkShape([]byte(tt.body))
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != 400 || ge.Target != tt.target {
			t.Errorf("checkShape: %v (target %q), want a 400 at %q", err, targetOf(ge), tt.target)
		}
	}
	ok := `{"callbackUri":"https://x.test","targets":[{"identity":{"user":{"id":"a"}}},{"identity":{"user":{"id":"b"}}}],"n":[1,2,[3,{"k":null}]]}`
	if err := checkShape([]byte(ok)); err != nil {
		t.Errorf("ordinary body refused: %v", err)
	}
}

func targetOf(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Target
}

// actionBodies are the request body types of every Graph endpoint that
// takes one.
var actionBodies = []func() any{
	func() any { return new(model.Call) },
	func() any { return new(model.AnswerRequest) },
	func() any { return new(model.RejectRequest) },
	func() any { return new(model.RedirectRequest) },
	func() any { return new(model.TransferRequest) },
	func() any { return new(model.MuteRequest) },
	func() any { return new(model.UnmuteRequest) },
	func() any { return new(model.ChangeScreenSharingRoleRequest) },
	func() any { return new(model.UpdateRecordingStatusRequest) },
	func() any { return new(model.AddLargeGalleryViewRequest) },
	func() any { return new(model.InviteParticipantsRequest) },
	func() any { return new(model.StartHoldMusicRequest) },
	func() any { return new(model.StopHoldMusicRequest) },
	func() any { return new(model.LogTeleconferenceDeviceQualityRequest) },
	func() any { return new(model.AudioRoutingGroup) },
	func() any { return new(model.PlayPromptRequest) },
	func() any { return new(model.RecordResponseRequest) },
	func() any { return new(model.SendDtmfTonesRequest) },
	func() any { return new(model.SubscribeToToneRequest) },
	func() any { return new(model.CancelMediaProcessingRequest) },
}

// FuzzDecodeActionBodies feeds arbitrary bytes to the decoder of every
// endpoint's body type: every failure must be a 400, never a panic.
func FuzzDecodeActionBodies(f *testing.F) {
	f.Add(uint8(1), []byte(`{"callbackUri":"https://b.test/cb","acceptedModalities":["audio"],"mediaConfig":{"@odata.type":"#microsoft.graph.appHostedMediaConfig","blob":"x"}}`))
	f.Add(uint8(3), []byte(`{"targets":[{"identity":{"phone":{"id":"+1555"}}}],"timeout":60}`))
	f.Add(uint8(4), []byte(`{"transferTarget":{"identity":{"user":{"id":"a"}},"replacesCallId":"b"},"transferee":{"participantId":"c"}}`))
	f.Add(uint8(10), []byte(`{"participants":[{"identity":{"user":{"id":"a"}},"hidden":"yes"}]}`))
	f.Add(uint8(13), []byte(`{"quality":{"callChainId":"x","mediaQualityList":[{"@odata.type":"#microsoft.graph.teleconferenceDeviceAudioQuality","averageInboundJitter":"PT0.03S"}]}}`))
	f.Add(uint8(14), []byte(`{"id":"oneToOne","routingMode":"ONETOONE","sources":["a"],"receivers":["b",null]}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		v := actionBodies[int(which)%len(actionBodies)]()
		err := decodeJSON(body, v, true)
		if err == nil {
			return
		}
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != 400 {
			t.Fatalf("decode error is not a 400 Graph error: %v", err)
		}
	})
}
