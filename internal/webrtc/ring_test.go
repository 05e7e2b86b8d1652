package webrtc

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// fakeCalls records the signals the server sends.
type fakeCalls struct {
	mu      sync.Mutex
	signals chan calls.Signal
}

func (f *fakeCalls) Incoming(context.Context, calls.IncomingCall) (*calls.Call, calls.EndpointRef, error) {
	return nil, calls.EndpointRef{}, calls.ErrNotFound
}

func (f *fakeCalls) JoinMeetingAs(context.Context, string, model.Call, model.IdentitySet, string) (calls.EndpointRef, error) {
	return calls.EndpointRef{}, calls.ErrNotFound
}

func (f *fakeCalls) Signal(_ context.Context, _ calls.EndpointRef, sig calls.Signal) error {
	f.signals <- sig
	return nil
}

type noRooms struct{}

func (noRooms) AddEndpoint(string, media.Endpoint) error { return nil }
func (noRooms) RemoveEndpoint(string, string) error      { return nil }

// A user a browser took is bound to it until released; a call to it rings
// there, and stops ringing when the domain ends it; a decline is 603.
func TestTakenIdentityRings(t *testing.T) {
	s, err := NewServer(Config{Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}, noRooms{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	domain := &fakeCalls{signals: make(chan calls.Signal, 4)}
	s.SetCalls(domain)
	who := model.IdentitySet{User: &model.Identity{ID: "Dora"}}
	if k := s.Bind("t1", who); k != calls.EndpointSimulated {
		t.Fatalf("before anyone took dora: %q", k)
	}
	rings := make(chan Ring, 4)
	release := s.TakeIdentity("T1", "dora", func(r Ring) { rings <- r })
	if k := s.Bind("t1", who); k != calls.EndpointWebRTC {
		t.Fatalf("after a browser took dora: %q, want webrtc", k)
	}
	if k := s.Bind("t2", who); k != calls.EndpointSimulated {
		t.Fatalf("dora of another tenant: %q", k)
	}
	ref := calls.EndpointRef{Conversation: "c1", Participant: "p1"}
	s.Dial(ref, calls.Dial{TenantID: "t1", Target: who})
	if r := <-rings; r.Kind != "ring" || r.ParticipantID != "p1" || r.ConversationID != "c1" {
		t.Fatalf("ring %+v", r)
	}
	s.End(ref, calls.Release{})
	if r := <-rings; r.Kind != "ringEnded" {
		t.Fatalf("after End: %+v, want ringEnded", r)
	}
	if s.DeclineRing("p1") {
		t.Fatal("declined a call that no longer rings")
	}
	s.Dial(calls.EndpointRef{Conversation: "c2", Participant: "p2"}, calls.Dial{TenantID: "t1", Target: who})
	<-rings
	if !s.DeclineRing("p2") {
		t.Fatal("could not decline a ringing call")
	}
	if sig := <-domain.signals; sig.Kind != calls.SignalFailed || sig.Result != calls.ResultDeclined {
		t.Fatalf("decline signalled %+v, want failed 603", sig)
	}
	release()
	if k := s.Bind("t1", who); k != calls.EndpointSimulated {
		t.Fatalf("after release: %q", k)
	}
	s.Dial(calls.EndpointRef{Conversation: "c3", Participant: "p3"}, calls.Dial{TenantID: "t1", Target: who})
	if sig := <-domain.signals; sig.Kind != calls.SignalFailed || sig.Result != calls.ResultUnreachable {
		t.Fatalf("a call to a released identity: %+v, want unreachable", sig)
	}
}
