package calls_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// A callee that answers at once is answered in the create's own commit: the
// 201 still shows the call establishing, the call is established as soon
// as Create returns, and the notifications are establishing then
// established, numbered 1 and 2, committed together.
func TestCreateAnsweredAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		targets []string
		want    []string
	}{
		{"peer-to-peer", []string{"bob"}, []string{"establishing", "established"}},
		// The app's leg connects first (established and a roster with
		// itself), then each callee that answers at once joins.
		{"group", []string{"bob", "dave"}, []string{"establishing", "established", "roster", "roster", "roster"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rules []sim.Rule
				spec := p2p(tt.targets[0])
				spec.Targets = nil
				for _, id := range tt.targets {
					rules = append(rules, sim.Rule{ID: id, After: "0s"})
					spec.Targets = append(spec.Targets, model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: id}}})
				}
				store := callstest.NewStore()
				f := newFixture(t, store, rules...)
				leg, err := f.svc.Create(t.Context(), alice, spec)
				if err != nil {
					t.Fatal(err)
				}
				if leg.State != calls.StateEstablishing {
					t.Fatalf("created leg is %v, want establishing", leg.State)
				}
				if n := store.Commits(); n != 1 {
					t.Fatalf("create made %d commits, want 1", n)
				}
				got, err := f.svc.Get(t.Context(), alice, leg.ID)
				if err != nil || got.State != calls.StateEstablished {
					t.Fatalf("Get after Create = %v, %v; want established", got, err)
				}
				if roster, _ := f.svc.Participants(t.Context(), alice, leg.ID); len(roster) != 1+len(tt.targets) {
					t.Fatalf("roster has %d participants, want %d", len(roster), 1+len(tt.targets))
				}
				// notifications checks the sequence numbers 1, 2, ...
				if ns := states(notifications(t, f, leg.ID)); !equal(ns, tt.want) {
					t.Fatalf("notifications = %v, want %v", ns, tt.want)
				}
				synctest.Wait() // no timer is left to answer a second time
				if n := store.Commits(); n != 1 {
					t.Fatalf("%d commits after the timers ran, want 1", n)
				}
				if ns := states(notifications(t, f, leg.ID)); !equal(ns, tt.want) {
					t.Fatalf("notifications after the timers ran = %v, want %v", ns, tt.want)
				}
			})
		})
	}
}

// A callee that answers after a delay still rings first: the create commits
// alone and the answer comes with its timer.
func TestCreateAnsweredLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		f := newFixture(t, store) // the directory's default delay is 1 s
		leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(t.Context(), alice, leg.ID); got.State != calls.StateEstablishing {
			t.Fatalf("state right after Create = %v, want establishing", got.State)
		}
		if ns := states(notifications(t, f, leg.ID)); !equal(ns, []string{"establishing"}) {
			t.Fatalf("notifications = %v, want [establishing]", ns)
		}
		if n := store.Commits(); n != 1 {
			t.Fatalf("%d commits, want 1", n)
		}
	})
}

// prefetch returns n preFetchMedia entries with good URIs.
func prefetch(n int) []model.MediaInfo {
	out := make([]model.MediaInfo, n)
	for i := range out {
		out[i] = model.MediaInfo{URI: fmt.Sprintf("https://bot.example/p%d.wav", i)}
	}
	return out
}

// Every preFetchMedia entry is checked like a playPrompt prompt and the list
// is bounded, and every create value that becomes an HTTP header is
// checked, at create and answer: each is a 400 naming the property.
func TestCreateValidatesMediaAndHeaderValues(t *testing.T) {
	long := "https://bot.example/" + strings.Repeat("a", calls.MaxPromptURILength)
	tooLongID := strings.Repeat("r", calls.MaxResourceIDLength+1)
	tests := []struct {
		name  string
		mod   func(*model.Call)
		field string // "" when the create is accepted
	}{
		{"300 preFetchMedia", func(c *model.Call) { c.MediaConfig.PreFetchMedia = prefetch(300) }, "mediaConfig.preFetchMedia"},
		{"one preFetchMedia too many", func(c *model.Call) { c.MediaConfig.PreFetchMedia = prefetch(calls.MaxPreFetchMedia + 1) }, "mediaConfig.preFetchMedia"},
		{"the most preFetchMedia", func(c *model.Call) { c.MediaConfig.PreFetchMedia = prefetch(calls.MaxPreFetchMedia) }, ""},
		{"preFetchMedia uri of another scheme", func(c *model.Call) {
			c.MediaConfig.PreFetchMedia = prefetch(3)
			c.MediaConfig.PreFetchMedia[2].URI = "gopher://bot.example/p.wav"
		}, "mediaConfig.preFetchMedia[2].uri"},
		{"preFetchMedia without uri", func(c *model.Call) { c.MediaConfig.PreFetchMedia = []model.MediaInfo{{}} }, "mediaConfig.preFetchMedia[0].uri"},
		{"preFetchMedia uri too long", func(c *model.Call) { c.MediaConfig.PreFetchMedia = []model.MediaInfo{{URI: long}} }, "mediaConfig.preFetchMedia[0].uri"},
		{"preFetchMedia resourceId too long", func(c *model.Call) {
			c.MediaConfig.PreFetchMedia = []model.MediaInfo{{URI: "https://bot.example/p.wav", ResourceID: &tooLongID}}
		}, "mediaConfig.preFetchMedia[0].resourceId"},
		{"callChainId not a GUID", func(c *model.Call) { c.CallChainID = "chain-1" }, "callChainId"},
		{"callChainId with a header in it", func(c *model.Call) {
			c.CallChainID = "5e7f6c52-7d8a-4e51-9b3c-2f6a1d0e9c11\r\nAuthorization: Bearer x"
		}, "callChainId"},
		{"callChainId with CRLF", func(c *model.Call) { c.CallChainID = "5e7f6c52-7d8a-4e51-9b3c-2f6a1d0e\r\n11" }, "callChainId"},
		{"callChainId in braces", func(c *model.Call) { c.CallChainID = "{5e7f6c52-7d8a-4e51-9b3c-2f6a1d0e9c11}" }, "callChainId"},
		{"callChainId a GUID", func(c *model.Call) { c.CallChainID = "5E7F6C52-7D8A-4E51-9B3C-2F6A1D0E9C11" }, ""},
		{"callbackUri with CRLF", func(c *model.Call) { c.CallbackURI = "http://127.0.0.1:9/cb\r\nX: y" }, "callbackUri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, callstest.NewStore())
				spec := p2p("bob")
				tt.mod(&spec)
				leg, err := f.svc.Create(t.Context(), alice, spec)
				if tt.field == "" {
					if err != nil {
						t.Fatalf("Create: %v", err)
					}
					if spec.CallChainID != "" && leg.ChainID != spec.CallChainID {
						t.Fatalf("chain id %q, want %q", leg.ChainID, spec.CallChainID)
					}
					return
				}
				var ve *calls.ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.field {
					t.Fatalf("Create = %v; want a validation error on %s", err, tt.field)
				}
			})
		})
	}
}

// Answer checks preFetchMedia as create does.
func TestAnswerValidatesPreFetchMedia(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		leg := incoming(t, f)
		mc := serviceHosted()
		mc.PreFetchMedia = prefetch(300)
		err := f.svc.Answer(t.Context(), alice, leg.ID, model.AnswerRequest{AcceptedModalities: []model.Modality{model.ModalityAudio}, MediaConfig: mc})
		var ve *calls.ValidationError
		if !errors.As(err, &ve) || ve.Field != "mediaConfig.preFetchMedia" {
			t.Fatalf("Answer = %v; want a validation error on mediaConfig.preFetchMedia", err)
		}
		mc.PreFetchMedia = []model.MediaInfo{{URI: "javascript:alert(1)"}}
		err = f.svc.Answer(t.Context(), alice, leg.ID, model.AnswerRequest{AcceptedModalities: []model.Modality{model.ModalityAudio}, MediaConfig: mc})
		if !errors.As(err, &ve) || ve.Field != "mediaConfig.preFetchMedia[0].uri" {
			t.Fatalf("Answer = %v; want a validation error on mediaConfig.preFetchMedia[0].uri", err)
		}
	})
}
