package calls_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

var (
	alice   = calls.Caller{TenantID: "t1", AppID: "app-a", Roles: []string{calls.RoleInitiate, calls.RoleInitiateGroupCall, calls.RoleJoinGroupCall, calls.RoleAccessMedia}}
	mallory = calls.Caller{TenantID: "t1", AppID: "app-m", Roles: alice.Roles}
)

type fixture struct {
	svc   *calls.Service
	store *callstest.Store
	disp  *callstest.Dispatcher
}

// newFixture runs a Service over in-memory fakes. Run it inside a synctest
// bubble: the service's timers then run on the bubble's fake time.
func newFixture(t *testing.T, store *callstest.Store, rules ...sim.Rule) *fixture {
	return newFixtureWith(t, store, func(*calls.Config) {}, rules...)
}

// newFixtureWith is newFixture with the service's configuration changed
// by configure first.
func newFixtureWith(t *testing.T, store *callstest.Store, configure func(*calls.Config), rules ...sim.Rule) *fixture {
	t.Helper()
	dir, err := sim.NewDirectory(time.Second, rules)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, disp: &callstest.Dispatcher{}}
	cfg := calls.Config{Store: store, Dispatcher: f.disp, Directory: dir, AllowLoopbackHTTP: true, RingTimeout: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	configure(&cfg)
	f.svc = calls.New(cfg)
	if err := f.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.svc.Shutdown(context.Background()) })
	return f
}

func p2p(target string) model.Call {
	return model.Call{
		CallbackURI:         "http://127.0.0.1:9/cb",
		Targets:             []model.InvitationParticipantInfo{{Identity: &model.IdentitySet{User: &model.Identity{ID: target}}}},
		RequestedModalities: []model.Modality{model.ModalityAudio},
		MediaConfig:         &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig},
	}
}

type seen struct {
	change model.ChangeType
	url    string
	state  string
	code   int32
	sub    int32
	isList bool
}

// notifications decodes what the dispatcher got for a call.
func notifications(t *testing.T, f *fixture, callID string) []seen {
	t.Helper()
	var out []seen
	for i, e := range f.disp.For(callID) {
		if e.Seq != int64(i+1) {
			t.Fatalf("notification %d of %s has sequence %d", i, callID, e.Seq)
		}
		var env model.CommsNotifications
		if err := json.Unmarshal(e.Body, &env); err != nil || len(env.Value) != 1 {
			t.Fatalf("bad envelope %s: %v", e.Body, err)
		}
		n := env.Value[0]
		s := seen{change: n.ChangeType, url: n.ResourceURL}
		if len(n.ResourceData) > 0 && n.ResourceData[0] == '[' {
			s.isList = true
		} else {
			var c model.Call
			if err := json.Unmarshal(n.ResourceData, &c); err != nil {
				t.Fatal(err)
			}
			s.state = string(c.State)
			if c.ResultInfo != nil {
				s.code, s.sub = c.ResultInfo.Code, c.ResultInfo.Subcode
			}
		}
		out = append(out, s)
	}
	return out
}

func states(ns []seen) []string {
	var out []string
	for _, n := range ns {
		if n.isList {
			out = append(out, "roster")
		} else {
			out = append(out, n.state)
		}
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPeerToPeerLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		if leg.State != calls.StateEstablishing || leg.ParticipantID == "" || leg.ChainID == "" {
			t.Fatalf("created leg = %+v", leg)
		}
		time.Sleep(time.Second) // bob answers after the default delay
		synctest.Wait()
		if got, _ := f.svc.Get(t.Context(), alice, leg.ID); got.State != calls.StateEstablished {
			t.Fatalf("state after answer = %v", got.State)
		}
		roster, err := f.svc.Participants(t.Context(), alice, leg.ID)
		if err != nil || len(roster) != 2 {
			t.Fatalf("roster = %v, %v; want the app and bob", roster, err)
		}
		if err := f.svc.HangUp(t.Context(), alice, leg.ID); err != nil {
			t.Fatal(err)
		}
		ns := notifications(t, f, leg.ID)
		if want := []string{"establishing", "established", "terminating", "terminated"}; !equal(states(ns), want) {
			t.Fatalf("notifications = %v, want %v", states(ns), want)
		}
		last := ns[len(ns)-1]
		if last.change != model.ChangeTypeDeleted || last.code != 200 || last.sub != 5001 {
			t.Fatalf("terminated notification = %+v", last)
		}
		if _, err := f.svc.Get(t.Context(), alice, leg.ID); !errors.Is(err, calls.ErrNotFound) {
			t.Fatalf("Get after hang-up = %v, want ErrNotFound", err)
		}
		if err := f.svc.HangUp(t.Context(), alice, leg.ID); !errors.Is(err, calls.ErrNotFound) {
			t.Fatalf("second HangUp = %v, want ErrNotFound", err)
		}
	})
}

func TestCalleeFailures(t *testing.T) {
	tests := []struct {
		name    string
		rule    sim.Rule
		wait    time.Duration
		code    int32
		subcode int32
	}{
		{"unreachable", sim.Rule{ID: "bob", Behaviour: "unreachable"}, time.Millisecond, 480, 10037},
		{"no answer", sim.Rule{ID: "bob", Behaviour: "noAnswer"}, 30 * time.Second, 408, 10057},
		{"answers too late", sim.Rule{ID: "bob", After: "45s"}, 30 * time.Second, 408, 10057},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, callstest.NewStore(), tt.rule)
				leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.wait)
				synctest.Wait()
				ns := notifications(t, f, leg.ID)
				if want := []string{"establishing", "terminated"}; !equal(states(ns), want) {
					t.Fatalf("notifications = %v, want %v", states(ns), want)
				}
				if last := ns[1]; last.code != tt.code || last.sub != tt.subcode {
					t.Fatalf("resultInfo = %d/%d, want %d/%d", last.code, last.sub, tt.code, tt.subcode)
				}
				if len(f.svc.List(t.Context(), alice)) != 0 {
					t.Fatal("ended call still listed")
				}
			})
		})
	}
}

func TestGroupCallRoster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore(), sim.Rule{ID: "carol", Behaviour: "unreachable"})
		spec := p2p("bob")
		spec.Targets = append(spec.Targets, model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: "carol"}}},
			model.InvitationParticipantInfo{Identity: &model.IdentitySet{Phone: &model.Identity{ID: "+15550100"}}})
		leg, err := f.svc.Create(t.Context(), alice, spec)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		ns := notifications(t, f, leg.ID)
		// The app's leg connects at once (established + roster with itself),
		// then bob and the phone answer (a roster update each); carol is
		// unreachable and never appears.
		if want := []string{"establishing", "established", "roster", "roster", "roster"}; !equal(states(ns), want) {
			t.Fatalf("notifications = %v, want %v", states(ns), want)
		}
		roster, _ := f.svc.Participants(t.Context(), alice, leg.ID)
		if len(roster) != 3 {
			t.Fatalf("roster has %d participants, want 3 (app, bob, phone)", len(roster))
		}
		if err := f.svc.HangUp(t.Context(), alice, leg.ID); err != nil {
			t.Fatal(err)
		}
		if got := states(notifications(t, f, leg.ID)); got[len(got)-1] != "terminated" {
			t.Fatalf("last notification = %v", got)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	mod := func(fn func(*model.Call)) model.Call { c := p2p("bob"); fn(&c); return c }
	s := func(v string) *string { return &v }
	_ = s
	tooMany := mod(func(c *model.Call) {
		c.Targets = nil
		for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
			c.Targets = append(c.Targets, model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: id}}})
		}
	})
	ring := int32(500)
	tests := []struct {
		name   string
		caller calls.Caller
		spec   model.Call
		field  string
		forbid bool
	}{
		{"no mediaConfig", alice, mod(func(c *model.Call) { c.MediaConfig = nil }), "mediaConfig", false},
		{"no modalities", alice, mod(func(c *model.Call) { c.RequestedModalities = nil }), "requestedModalities", false},
		{"no callback", alice, mod(func(c *model.Call) { c.CallbackURI = "" }), "callbackUri", false},
		{"http to a public host", alice, mod(func(c *model.Call) { c.CallbackURI = "http://example.com/cb" }), "callbackUri", false},
		{"relative callback", alice, mod(func(c *model.Call) { c.CallbackURI = "/cb" }), "callbackUri", false},
		{"ftp callback", alice, mod(func(c *model.Call) { c.CallbackURI = "ftp://127.0.0.1/cb" }), "callbackUri", false},
		{"target without id", alice, mod(func(c *model.Call) { c.Targets[0].Identity.User.ID = "" }), "targets[0].identity", false},
		{"duplicate target", alice, mod(func(c *model.Call) { c.Targets = append(c.Targets, c.Targets[0]) }), "targets[1].identity", false},
		{"six targets", alice, tooMany, "targets", false},
		{"ringing timeout too long", alice, mod(func(c *model.Call) { c.RingingTimeoutInSeconds = &ring }), "ringingTimeoutInSeconds", false},
		{"p2p without Calls.Initiate.All", calls.Caller{TenantID: "t1", AppID: "x", Roles: []string{calls.RoleInitiateGroupCall}}, p2p("bob"), "", true},
		{"group without Calls.InitiateGroupCall.All", calls.Caller{TenantID: "t1", AppID: "x", Roles: []string{calls.RoleInitiate}}, mod(func(c *model.Call) { c.Targets = nil }), "", true},
		{"app-hosted without Calls.AccessMedia.All", calls.Caller{TenantID: "t1", AppID: "x", Roles: []string{calls.RoleInitiate}}, mod(func(c *model.Call) {
			blob := "x"
			c.MediaConfig = &model.MediaConfig{ODataType: model.TypeAppHostedMediaConfig, Blob: &blob}
		}), "", true},
	}
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		for _, tt := range tests {
			_, err := f.svc.Create(t.Context(), tt.caller, tt.spec)
			var ve *calls.ValidationError
			switch {
			case tt.forbid && !errors.Is(err, calls.ErrForbidden):
				t.Errorf("%s: err = %v, want ErrForbidden", tt.name, err)
			case !tt.forbid && (!errors.As(err, &ve) || ve.Field != tt.field):
				t.Errorf("%s: err = %v, want a validation error on %q", tt.name, err, tt.field)
			}
		}
		if len(f.store.Outbox()) != 0 {
			t.Fatal("a refused create wrote notifications")
		}
	})
}

func TestOtherApplicationsCannotSeeACall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		otherTenant := alice
		otherTenant.TenantID = "t2"
		for _, c := range []calls.Caller{mallory, otherTenant} {
			if _, err := f.svc.Get(t.Context(), c, leg.ID); !errors.Is(err, calls.ErrNotFound) {
				t.Errorf("Get by %+v = %v, want ErrNotFound", c, err)
			}
			if err := f.svc.HangUp(t.Context(), c, leg.ID); !errors.Is(err, calls.ErrNotFound) {
				t.Errorf("HangUp by %+v = %v, want ErrNotFound", c, err)
			}
			if n := len(f.svc.List(t.Context(), c)); n != 0 {
				t.Errorf("List by %+v has %d calls", c, n)
			}
		}
		if n := len(f.svc.List(t.Context(), alice)); n != 1 {
			t.Fatalf("owner lists %d calls, want 1", n)
		}
	})
}

func TestFailedCommitChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, callstest.NewStore())
		f.store.FailNext(1)
		if _, err := f.svc.Create(t.Context(), alice, p2p("bob")); !errors.Is(err, calls.ErrUnavailable) {
			t.Fatalf("Create with a failing store = %v, want ErrUnavailable", err)
		}
		if n := len(f.svc.List(t.Context(), alice)); n != 0 {
			t.Fatalf("a call whose commit failed is listed (%d)", n)
		}
		leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		f.store.FailNext(1)
		if err := f.svc.HangUp(t.Context(), alice, leg.ID); !errors.Is(err, calls.ErrUnavailable) {
			t.Fatalf("HangUp with a failing store = %v", err)
		}
		if got, err := f.svc.Get(t.Context(), alice, leg.ID); err != nil || got.State != calls.StateEstablished {
			t.Fatalf("after a failed hang-up: %v, %v; want established", got, err)
		}
		if n := len(f.disp.For(leg.ID)); n != 2 {
			t.Fatalf("%d notifications dispatched, want 2 (none for the failed hang-up)", n)
		}
	})
}

func TestRestartResumesTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		f := newFixture(t, store)
		leg, err := f.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // bob's answer fell due while the server was down
		g := newFixture(t, store)
		synctest.Wait()
		got, err := g.svc.Get(t.Context(), alice, leg.ID)
		if err != nil || got.State != calls.StateEstablished {
			t.Fatalf("after restart: %v, %v; want established", got, err)
		}
		ns := g.disp.For(leg.ID)
		if len(ns) != 1 || ns[0].Seq != 2 {
			t.Fatalf("after restart dispatched %+v; want the established notification with sequence 2", ns)
		}
	})
}
