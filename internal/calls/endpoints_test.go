package calls_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// phones is a live endpoint kind for tests: identities whose id starts
// with "phone-" are bound to it, and it records what the domain told it.
type phones struct {
	mu   sync.Mutex
	log  []string
	refs map[string]calls.EndpointRef // by target id
}

func (p *phones) Bind(_ string, id model.IdentitySet) string {
	if id.User != nil && strings.HasPrefix(id.User.ID, "phone-") {
		return calls.EndpointSIP
	}
	return calls.EndpointSimulated
}

func (p *phones) add(s string) { p.mu.Lock(); p.log = append(p.log, s); p.mu.Unlock() }

func (p *phones) Dial(ref calls.EndpointRef, d calls.Dial) {
	p.mu.Lock()
	if p.refs == nil {
		p.refs = make(map[string]calls.EndpointRef)
	}
	p.refs[d.Target.User.ID] = ref
	p.mu.Unlock()
	from := "?"
	switch {
	case d.Caller.Application != nil:
		from = d.Caller.Application.ID
	case d.Caller.Phone != nil:
		from = d.Caller.Phone.ID
	}
	p.add("dial " + d.Target.User.ID + " from " + from)
}
func (p *phones) Accept(ref calls.EndpointRef) { p.add("accept") }
func (p *phones) End(ref calls.EndpointRef, why calls.Release) {
	busy := ""
	if why.Busy {
		busy = " busy"
	}
	p.add(fmt.Sprintf("end %d/%d%s", why.Result.Code, why.Result.Subcode, busy))
}
func (p *phones) Mute(ref calls.EndpointRef, muted bool) { p.add(fmt.Sprintf("mute %v", muted)) }
func (p *phones) Hold(ref calls.EndpointRef, held bool)  { p.add(fmt.Sprintf("hold %v", held)) }

func (p *phones) ref(t *testing.T, id string) calls.EndpointRef {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.refs[id]
	if !ok {
		t.Fatalf("%s was never dialled", id)
	}
	return r
}

func (p *phones) got() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "; ")
}

func phoneFixture(t *testing.T) (*fixture, *phones) {
	eps := &phones{}
	f := newFixtureWith(t, callstest.NewStore(), func(c *calls.Config) { c.Endpoints = eps })
	return f, eps
}

// callPhone makes alice's application call a phone, which answers; it
// returns the application's leg.
func callPhone(t *testing.T, f *fixture, eps *phones, phone string) *calls.Call {
	t.Helper()
	leg, err := f.svc.Create(t.Context(), alice, p2p(phone))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	if err := f.svc.Signal(t.Context(), eps.ref(t, phone), calls.Signal{Kind: calls.SignalAnswered}); err != nil {
		t.Fatal(err)
	}
	return leg
}

// transferTo is a blind transfer to a user.
func transferTo(user string) model.TransferRequest {
	return model.TransferRequest{TransferTarget: &model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: user}}}}
}

func TestLiveEndpointAnswersAndHangsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, eps := phoneFixture(t)
		leg, err := f.svc.Create(t.Context(), alice, p2p("phone-bob"))
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(10 * time.Second) // a phone rings as long as it likes: no simulated answer
		synctest.Wait()
		if got, _ := f.svc.Get(t.Context(), alice, leg.ID); got.State != calls.StateEstablishing {
			t.Fatalf("state while ringing = %v", got.State)
		}
		ref := eps.ref(t, "phone-bob")
		if err := f.svc.Signal(t.Context(), ref, calls.Signal{Kind: calls.SignalAnswered}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(t.Context(), alice, leg.ID); got.State != calls.StateEstablished {
			t.Fatalf("state after answer = %v", got.State)
		}
		if err := f.svc.Signal(t.Context(), ref, calls.Signal{Kind: calls.SignalMuted}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Signal(t.Context(), ref, calls.Signal{Kind: calls.SignalLeft}); err != nil {
			t.Fatal(err)
		}
		ns := notifications(t, f, leg.ID)
		last := ns[len(ns)-1]
		if last.state != "terminated" || last.code != calls.ResultRemoteEnded.Code || last.sub != calls.ResultRemoteEnded.Subcode {
			t.Fatalf("last notification = %+v; want terminated with the remote-ended result", last)
		}
		// The phone hung up by itself: it is told to dial, and nothing else
		// (its own mute and hang-up need no echo).
		if got, want := eps.got(), "dial phone-bob from app-a"; got != want {
			t.Fatalf("endpoint heard %q; want %q", got, want)
		}
		// A late report about a conversation that is over is ignored.
		if err := f.svc.Signal(t.Context(), ref, calls.Signal{Kind: calls.SignalLeft}); err != nil {
			t.Fatalf("late signal: %v", err)
		}
	})
}

func TestLiveEndpointFailuresEndTheCall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		signal *calls.Signal // nil: let the ring timeout pass
		want   calls.ResultInfo
		heard  string
	}{
		{"busy", &calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultBusy}, calls.ResultBusy, "dial phone-bob from app-a"},
		{"unreachable", &calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultUnreachable}, calls.ResultUnreachable, "dial phone-bob from app-a"},
		{"ring timeout cancels", nil, calls.ResultNoAnswer, fmt.Sprintf("dial phone-bob from app-a; end %d/%d", calls.ResultNoAnswer.Code, calls.ResultNoAnswer.Subcode)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, eps := phoneFixture(t)
				leg, err := f.svc.Create(t.Context(), alice, p2p("phone-bob"))
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if tc.signal != nil {
					if err := f.svc.Signal(t.Context(), eps.ref(t, "phone-bob"), *tc.signal); err != nil {
						t.Fatal(err)
					}
				} else {
					time.Sleep(31 * time.Second)
					synctest.Wait()
				}
				ns := notifications(t, f, leg.ID)
				last := ns[len(ns)-1]
				if last.state != "terminated" || last.code != tc.want.Code || last.sub != tc.want.Subcode {
					t.Fatalf("last notification = %+v; want terminated with %+v", last, tc.want)
				}
				if got := eps.got(); got != tc.heard {
					t.Fatalf("endpoint heard %q; want %q", got, tc.heard)
				}
			})
		})
	}
}

func TestApplicationHangUpEndsLiveEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, eps := phoneFixture(t)
		leg := callPhone(t, f, eps, "phone-bob")
		if err := f.svc.HangUp(t.Context(), alice, leg.ID); err != nil {
			t.Fatal(err)
		}
		if got := eps.got(); !strings.HasPrefix(got, "dial phone-bob from app-a; end ") {
			t.Fatalf("endpoint heard %q; want a dial then an end", got)
		}
	})
}

func TestIncomingFromLiveEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   func(f *fixture, t *testing.T, callID string) error
		heard string
	}{
		{"answer accepts", func(f *fixture, t *testing.T, id string) error {
			return f.svc.Answer(t.Context(), alice, id, model.AnswerRequest{
				MediaConfig:        &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig},
				AcceptedModalities: []model.Modality{model.ModalityAudio}})
		}, "accept"},
		{"reject declines", func(f *fixture, t *testing.T, id string) error {
			return f.svc.Reject(t.Context(), alice, id, model.RejectRequest{Reason: model.RejectReasonBusy})
		}, fmt.Sprintf("end %d/%d busy", calls.ResultRejected.Code, calls.ResultRejected.Subcode)},
		{"reject forbidden declines", func(f *fixture, t *testing.T, id string) error {
			return f.svc.Reject(t.Context(), alice, id, model.RejectRequest{Reason: model.RejectReasonForbidden})
		}, fmt.Sprintf("end %d/%d", calls.ResultRejected.Code, calls.ResultRejected.Subcode)},
		{"answer window passes", func(f *fixture, t *testing.T, id string) error {
			time.Sleep(calls.AnswerWindow + time.Second)
			synctest.Wait()
			return nil
		}, fmt.Sprintf("end %d/%d", calls.ResultAnswerTimeout.Code, calls.ResultAnswerTimeout.Subcode)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, eps := phoneFixture(t)
				leg, ref, err := f.svc.Incoming(t.Context(), calls.IncomingCall{TenantID: alice.TenantID, AppID: alice.AppID,
					CallbackURI: "http://127.0.0.1:9/cb", From: model.IdentitySet{Phone: &model.Identity{ID: "+15551234"}}, Endpoint: calls.EndpointSIP})
				if err != nil {
					t.Fatal(err)
				}
				if ref.Conversation == "" || ref.Participant != leg.Spec.Source.ParticipantID {
					t.Fatalf("ref = %+v; want the caller %s", ref, leg.Spec.Source.ParticipantID)
				}
				if err := tc.act(f, t, leg.ID); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if got := eps.got(); got != tc.heard {
					t.Fatalf("endpoint heard %q; want %q", got, tc.heard)
				}
			})
		})
	}
}

func TestRedirectConnectsPhoneToFirstTargetToAnswer(t *testing.T) {
	redirected := func(t *testing.T, f *fixture) *calls.Call {
		t.Helper()
		leg, _, err := f.svc.Incoming(t.Context(), calls.IncomingCall{TenantID: alice.TenantID, AppID: alice.AppID,
			CallbackURI: "http://127.0.0.1:9/cb", From: model.IdentitySet{Phone: &model.Identity{ID: "+15551234"}}, Endpoint: calls.EndpointSIP})
		if err != nil {
			t.Fatal(err)
		}
		err = f.svc.Redirect(t.Context(), alice, leg.ID, model.RedirectRequest{Targets: []model.InvitationParticipantInfo{
			{Identity: &model.IdentitySet{User: &model.Identity{ID: "phone-carol"}}},
			{Identity: &model.IdentitySet{User: &model.Identity{ID: "phone-dave"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ns := notifications(t, f, leg.ID)
		if last := ns[len(ns)-1]; last.state != "terminated" || last.code != calls.ResultRedirected.Code || last.sub != calls.ResultRedirected.Subcode {
			t.Fatalf("the application's last notification = %+v; want terminated as redirected", last)
		}
		return leg
	}
	t.Run("one answers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f, eps := phoneFixture(t)
			leg := redirected(t, f)
			if err := f.svc.Signal(t.Context(), eps.ref(t, "phone-carol"), calls.Signal{Kind: calls.SignalAnswered}); err != nil {
				t.Fatal(err)
			}
			// Dave stops ringing, the caller is put through to Carol.
			want := fmt.Sprintf("dial phone-carol from +15551234; dial phone-dave from +15551234; end %d/%d; accept",
				calls.ResultRedirected.Code, calls.ResultRedirected.Subcode)
			if got := eps.got(); got != want {
				t.Fatalf("the phones heard %q; want %q", got, want)
			}
			conv, err := f.svc.Conversation(leg.ID)
			if err != nil {
				t.Fatalf("the caller and Carol are not talking: %v", err)
			}
			joined := 0
			for _, p := range conv.Roster {
				if p.State == calls.ParticipantJoined {
					joined++
				}
			}
			if joined != 2 {
				t.Fatalf("%d joined, want the caller and Carol: %+v", joined, conv.Roster)
			}
		})
	})
	t.Run("none answers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f, eps := phoneFixture(t)
			leg := redirected(t, f)
			if err := f.svc.Signal(t.Context(), eps.ref(t, "phone-carol"), calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultBusy}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Conversation(leg.ID); err != nil {
				t.Fatal("the caller was let go while Dave still rang")
			}
			time.Sleep(calls.DefaultRedirectTimeout) // Dave never answers
			synctest.Wait()
			want := fmt.Sprintf("dial phone-carol from +15551234; dial phone-dave from +15551234; end %d/%d; end %d/%d",
				calls.ResultRedirected.Code, calls.ResultRedirected.Subcode, calls.ResultRedirected.Code, calls.ResultRedirected.Subcode)
			if got := eps.got(); got != want {
				t.Fatalf("the phones heard %q; want %q (Dave cancelled, the caller released)", got, want)
			}
			if _, err := f.svc.Conversation(leg.ID); err == nil {
				t.Fatal("the conversation is still live with nobody to connect the caller to")
			}
		})
	})
}

func TestSimulateRefusesLiveEndpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _ := phoneFixture(t)
		leg, err := f.svc.Create(t.Context(), alice, p2p("phone-bob"))
		if err != nil {
			t.Fatal(err)
		}
		conv, err := f.svc.Conversation(leg.ID)
		if err != nil {
			t.Fatal(err)
		}
		var phone string
		for _, p := range conv.Roster {
			if p.CallID == "" {
				phone = p.ID
			}
		}
		err = f.svc.Simulate(t.Context(), leg.ID, phone, calls.SimAnswer)
		var ve *calls.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Error(), "live sip endpoint") {
			t.Fatalf("Simulate on a phone = %v; want a validation error naming the live endpoint", err)
		}
	})
}

func TestRestartEndsLostLiveEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer bool
		want   calls.ResultInfo
	}{
		{"connected phone lost its media", true, calls.ResultMediaTimeout},
		{"ringing phone was not reached", false, calls.ResultUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := callstest.NewStore()
				eps := &phones{}
				f := newFixtureWith(t, store, func(c *calls.Config) { c.Endpoints = eps })
				leg, err := f.svc.Create(t.Context(), alice, p2p("phone-bob"))
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if tc.answer {
					if err := f.svc.Signal(t.Context(), eps.ref(t, "phone-bob"), calls.Signal{Kind: calls.SignalAnswered}); err != nil {
						t.Fatal(err)
					}
				}
				if err := f.svc.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				g := newFixtureWith(t, store, func(c *calls.Config) { c.Endpoints = &phones{} })
				synctest.Wait()
				if _, err := g.svc.Get(t.Context(), alice, leg.ID); err == nil {
					t.Fatal("the call is still live after a restart lost its phone")
				}
				ns := g.disp.For(leg.ID)
				if len(ns) == 0 {
					t.Fatal("no notification after the restart")
				}
				var env model.CommsNotifications
				var last model.Call
				if err := json.Unmarshal(ns[len(ns)-1].Body, &env); err != nil || json.Unmarshal(env.Value[0].ResourceData, &last) != nil {
					t.Fatalf("bad notification %s", ns[len(ns)-1].Body)
				}
				if last.State != "terminated" || last.ResultInfo == nil || last.ResultInfo.Code != tc.want.Code || last.ResultInfo.Subcode != tc.want.Subcode {
					t.Fatalf("after restart: %s; want terminated with %+v", ns[len(ns)-1].Body, tc.want)
				}
			})
		})
	}
}

func TestTransferBridgesTwoPhones(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, eps := phoneFixture(t)
		leg := callPhone(t, f, eps, "phone-bob")
		if err := f.svc.Transfer(t.Context(), alice, leg.ID, transferTo("phone-carol")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := f.svc.Signal(t.Context(), eps.ref(t, "phone-carol"), calls.Signal{Kind: calls.SignalAnswered}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Get(t.Context(), alice, leg.ID); err == nil {
			t.Fatal("the application's leg is still live after the transfer completed")
		}
		// Bob and Carol talk on without the application: nobody hung up.
		if got, want := eps.got(), "dial phone-bob from app-a; dial phone-carol from app-a"; got != want {
			t.Fatalf("after the transfer the endpoints heard %q; want %q", got, want)
		}
		// Carol hangs up: Bob hears it.
		if err := f.svc.Signal(t.Context(), eps.ref(t, "phone-carol"), calls.Signal{Kind: calls.SignalLeft}); err != nil {
			t.Fatal(err)
		}
		if got := eps.got(); !strings.HasSuffix(got, "; end 0/7015") {
			t.Fatalf("after Carol hung up the endpoints heard %q; want Bob released", got)
		}
	})
}

func TestTransferBridgesPhoneAndSimulatedPerson(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, eps := phoneFixture(t)
		leg := callPhone(t, f, eps, "phone-bob")
		bob := eps.ref(t, "phone-bob")
		if err := f.svc.Transfer(t.Context(), alice, leg.ID, transferTo("carol")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // Carol, simulated, answers; nobody hangs up
		synctest.Wait()
		if _, err := f.svc.Get(t.Context(), alice, leg.ID); err == nil {
			t.Fatal("the application's leg is still live after the transfer completed")
		}
		// Bob talks on with Carol: he is not released.
		if got, want := eps.got(), "dial phone-bob from app-a"; got != want {
			t.Fatalf("after the transfer the phone heard %q; want %q", got, want)
		}
		if _, err := f.svc.Conversation(leg.ID); err != nil {
			t.Fatalf("the conversation of Bob and Carol: %v", err)
		}
		if err := f.svc.Signal(t.Context(), bob, calls.Signal{Kind: calls.SignalLeft}); err != nil {
			t.Fatal(err)
		}
		// With Bob gone Carol is alone: the conversation ends.
		if c, err := f.svc.Conversation(leg.ID); err == nil {
			t.Fatalf("the conversation is still live with only a simulated person in it: %+v", c.Roster)
		}
	})
}

func TestHoldAndMuteReachPhonesInGroupCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, eps := phoneFixture(t)
		spec := p2p("phone-bob")
		spec.Targets = append(spec.Targets, model.InvitationParticipantInfo{Identity: &model.IdentitySet{User: &model.Identity{ID: "phone-carol"}}})
		leg, err := f.svc.Create(t.Context(), alice, spec)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for _, who := range []string{"phone-bob", "phone-carol"} {
			if err := f.svc.Signal(t.Context(), eps.ref(t, who), calls.Signal{Kind: calls.SignalAnswered}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second) // the application's own leg connects
		synctest.Wait()
		bob := eps.ref(t, "phone-bob").Participant
		if _, err := f.svc.StartHoldMusic(t.Context(), alice, leg.ID, bob, model.StartHoldMusicRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.StopHoldMusic(t.Context(), alice, leg.ID, bob, model.StopHoldMusicRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MuteParticipant(t.Context(), alice, leg.ID, bob, model.MuteRequest{}); err != nil {
			t.Fatal(err)
		}
		want := "dial phone-bob from app-a; dial phone-carol from app-a; hold true; hold false; mute true"
		if got := eps.got(); got != want {
			t.Fatalf("the endpoints heard %q; want %q", got, want)
		}
	})
}
