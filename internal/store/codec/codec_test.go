package codec_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var base = time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)

// specsOf encodes the specs of c's legs, by call id, as a store keeps them.
func specsOf(t *testing.T, c *calls.Conversation) map[string][]byte {
	t.Helper()
	specs := make(map[string][]byte)
	for _, l := range c.Legs {
		b, err := codec.EncodeSpec(l)
		if err != nil {
			t.Fatal(err)
		}
		specs[l.ID] = b
	}
	return specs
}

// The data holds no spec; with the specs beside it the conversation comes
// back whole.
func TestRoundTrip(t *testing.T) {
	c := storetest.Conversation("conv-1", base)
	ended := base.Add(time.Minute)
	second := *c.Legs[0]
	second.ID, second.EndedAt, second.State = "conv-1-call-2", &ended, calls.StateTerminated
	c.Legs = append(c.Legs, &second)
	data, err := codec.EncodeConversation(c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(`"spec"`)) {
		t.Fatalf("the data holds a spec: %s", data)
	}
	if c.Legs[0].Spec.CallbackURI == "" {
		t.Fatal("EncodeConversation changed the conversation")
	}
	got, err := codec.DecodeConversation(data, specsOf(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(c)
		t.Fatalf("round trip:\ngot:  %s\nwant: %s", g, w)
	}
}

// Data written before specs moved out holds them inline: they are read
// from there, unless specs has the leg's.
func TestInlineSpecs(t *testing.T) {
	c := storetest.Conversation("old", base)
	data, err := json.Marshal(c) // as older builds wrote it
	if err != nil {
		t.Fatal(err)
	}
	got, err := codec.DecodeConversation(data, nil)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("inline spec: %+v, %v", got, err)
	}
	other := storetest.Conversation("other", base)
	got, err = codec.DecodeConversation(data, map[string][]byte{c.Legs[0].ID: specsOf(t, other)[other.Legs[0].ID]})
	if err != nil || !reflect.DeepEqual(got.Legs[0].Spec, other.Legs[0].Spec) {
		t.Fatalf("a spec beside the data did not win over the inline one: %+v, %v", got.Legs[0].Spec, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := codec.DecodeConversation([]byte(`{"id":`), nil); err == nil {
		t.Error("truncated data decoded")
	}
	data, _ := codec.EncodeConversation(storetest.Conversation("c", base))
	if _, err := codec.DecodeConversation(data, map[string][]byte{"c-call": []byte(`[1]`)}); err == nil {
		t.Error("a spec that is not an object decoded")
	}
	// A leg without a spec anywhere has the zero spec.
	got, err := codec.DecodeConversation([]byte(`{"id":"c","legs":[{"id":"l"},null]}`), nil)
	if err != nil || len(got.Legs) != 2 || got.Legs[0].ID != "l" || got.Legs[1] == nil {
		t.Errorf("legs without specs: %+v, %v", got, err)
	}
}

func TestRowOf(t *testing.T) {
	c := storetest.Conversation("conv", base)
	l := c.Legs[0]
	r := codec.RowOf(c.ID, l)
	want := codec.LegRow{ID: "conv-call", ConversationID: "conv", TenantID: "tenant-1", AppID: "app-1", State: "established",
		CreatedAt: base.UnixNano(), UpdatedAt: base.Add(time.Second).UnixNano()}
	if r != want {
		t.Fatalf("RowOf = %+v, want %+v", r, want)
	}
	ended := base.Add(time.Minute)
	l.EndedAt, l.CreatedAt = &ended, time.Time{}
	if r := codec.RowOf(c.ID, l); r.EndedAt != ended.UnixNano() || r.CreatedAt != 0 {
		t.Errorf("RowOf of an ended leg without creation time = %+v", r)
	}
}

func TestUnixNanos(t *testing.T) {
	for _, tm := range []time.Time{{}, base, time.Unix(0, 1).UTC(), base.In(time.FixedZone("x", 3600))} {
		got := codec.FromUnixNanos(codec.UnixNanos(tm))
		if !got.Equal(tm) || got.Location() != time.UTC {
			t.Errorf("%v came back as %v", tm, got)
		}
	}
	if n := codec.UnixNanos(time.Time{}); n != 0 {
		t.Errorf("UnixNanos(zero) = %d", n)
	}
}

func TestLegs(t *testing.T) {
	var w codec.Legs
	r := codec.LegRow{ID: "a", State: "established"}
	if known, unchanged := w.Lookup(r); known || unchanged {
		t.Fatalf("a new cache knows %s", r.ID)
	}
	w.Wrote(true, r)
	if known, unchanged := w.Lookup(r); !known || !unchanged {
		t.Fatalf("after Wrote: known %v, unchanged %v", known, unchanged)
	}
	changed := r
	changed.State = "terminated"
	if known, unchanged := w.Lookup(changed); !known || unchanged {
		t.Fatalf("a changed row: known %v, unchanged %v", known, unchanged)
	}
	w.Wrote(false, changed) // the conversation ended: never written again
	if known, _ := w.Lookup(r); known {
		t.Fatal("the leg of an ended conversation is remembered")
	}
	b := codec.LegRow{ID: "b"}
	w.Wrote(true, r, b)
	w.Forget("a")
	if known, _ := w.Lookup(r); known {
		t.Fatal("Forget kept a")
	}
	if known, _ := w.Lookup(b); !known {
		t.Fatal("Forget dropped b")
	}
	w.Reset()
	if known, _ := w.Lookup(b); known {
		t.Fatal("Reset kept b")
	}
}

// A record from a newer build — another version, a field this build does
// not know, a call state it does not know — still decodes.
func TestDecodeIsTolerant(t *testing.T) {
	data := []byte(`{"v":7,"id":"c1","kind":"peerToPeer","tenantId":"t1","roster":[],"rosterSeq":1,
		"futureField":{"nested":[1,2,3]},"createdAt":"2026-12-06T09:00:00Z","updatedAt":"2026-12-06T09:00:00Z",
		"legs":[{"id":"call-1","appId":"a","tenantId":"t1","state":"parkedInOrbit","participantId":"p","chainId":"ch",
		"callbackUri":"https://bot.example/cb","direction":"outgoing","notifySeq":3,"alsoNew":true,
		"createdAt":"2026-12-06T09:00:00Z","updatedAt":"2026-12-06T09:00:00Z"}]}`)
	c, err := codec.DecodeConversation(data, nil)
	if err != nil {
		t.Fatalf("a newer record failed to decode: %v", err)
	}
	if c.ID != "c1" || len(c.Legs) != 1 || c.Legs[0].State.String() != "parkedInOrbit" || !c.Live() {
		t.Fatalf("decoded %+v", c)
	}
	again, err := codec.EncodeConversation(c)
	if err != nil || !strings.Contains(string(again), `"state":"parkedInOrbit"`) || !strings.HasPrefix(string(again), `{"v":1,`) {
		t.Fatalf("written back as %s, %v", again, err)
	}
}

// A Graph enum value this build does not know, written by a newer one into
// a call's request or the roster, is kept as it is and written back
// unchanged; a plain string with the same text is left alone.
func TestUnknownGraphEnumValuesAreKept(t *testing.T) {
	data := []byte(`{"v":1,"id":"c1","kind":"peerToPeer","tenantId":"t1","rosterSeq":1,
		"roster":[{"id":"p1","info":{"identity":{"user":{"id":"u1","displayName":"hologram"}}},"modalities":["audio","hologram"]}],
		"createdAt":"2026-12-06T09:00:00Z","updatedAt":"2026-12-06T09:00:00Z",
		"legs":[{"id":"call-1","appId":"a","tenantId":"t1","state":"established","participantId":"p","chainId":"ch",
		"callbackUri":"https://bot.example/cb","direction":"outgoing","notifySeq":3,
		"createdAt":"2026-12-06T09:00:00Z","updatedAt":"2026-12-06T09:00:00Z"}]}`)
	spec := []byte(`{"callbackUri":"https://bot.example/cb","requestedModalities":["audio","hologram"],"direction":"sideways"}`)
	c, err := codec.DecodeConversation(data, map[string][]byte{"call-1": spec})
	if err != nil {
		t.Fatalf("a record with newer enum values failed to decode: %v", err)
	}
	p := c.Roster[0]
	if len(p.Modalities) != 2 || p.Modalities[1] != "hologram" || *p.Info.Identity.User.DisplayName != "hologram" {
		t.Fatalf("roster decoded as %+v (display name %q)", p.Modalities, *p.Info.Identity.User.DisplayName)
	}
	if got := c.Legs[0].Spec; len(got.RequestedModalities) != 2 || got.RequestedModalities[1] != "hologram" || got.Direction != "sideways" {
		t.Fatalf("spec decoded as %+v / %q", got.RequestedModalities, got.Direction)
	}
	again, err := codec.EncodeConversation(c)
	if err != nil || !strings.Contains(string(again), `"modalities":["audio","hologram"]`) || strings.Contains(string(again), `\u0000`) {
		t.Fatalf("written back as %s, %v", again, err)
	}
	specAgain, err := codec.EncodeSpec(c.Legs[0])
	if err != nil || !strings.Contains(string(specAgain), `"sideways"`) {
		t.Fatalf("spec written back as %s, %v", specAgain, err)
	}
}
