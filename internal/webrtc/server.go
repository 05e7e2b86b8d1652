package webrtc

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/google/uuid"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/rtpmedia"
)

// Rooms is the media engine's membership (*media.Engine).
type Rooms interface {
	AddEndpoint(conversationID string, ep media.Endpoint) error
	RemoveEndpoint(conversationID, endpointID string) error
}

// Calls is what the server asks of the calls domain.
type Calls interface {
	Incoming(ctx context.Context, in calls.IncomingCall) (*calls.Call, calls.EndpointRef, error)
	JoinMeetingAs(ctx context.Context, tenantID string, spec model.Call, who model.IdentitySet, endpoint string) (calls.EndpointRef, error)
	Signal(ctx context.Context, ref calls.EndpointRef, sig calls.Signal) error
}

// Server is the browsers' side of the calls domain: it implements
// calls.Endpoints for participants of kind calls.EndpointWebRTC, one Peer
// each. A browser calls an application, joins a meeting, or takes an
// identity that calls then ring (ring.go).
type Server struct {
	api   *API
	rooms Rooms
	log   *slog.Logger

	mu    sync.Mutex
	calls Calls
	peers map[string]*browser // by participant id

	reg registry // reachable browsers, and the calls ringing them
}

// browser is one participant's connection.
type browser struct {
	ref    calls.EndpointRef
	peer   *Peer
	ep     *rtpmedia.Endpoint
	joined bool // its leg is in the room
}

var _ calls.Endpoints = (*Server)(nil)

// NewServer returns a Server whose peers gather ICE candidates as cfg says.
func NewServer(cfg Config, rooms Rooms, log *slog.Logger) (*Server, error) {
	api, err := NewAPI(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{api: api, rooms: rooms, log: log, peers: make(map[string]*browser)}, nil
}

// SetCalls gives the server the domain (which needs the server first, as
// its Endpoints).
func (s *Server) SetCalls(c Calls) {
	s.mu.Lock()
	s.calls = c
	s.mu.Unlock()
}

// Placed is a call a browser placed, or a meeting it joined.
type Placed struct {
	CallID, ParticipantID string
	// ConversationID is the meeting's, when the browser joined one.
	ConversationID string
	// Answer is the server's session description, every candidate in it.
	Answer string
}

// CallApplication makes the browser that sent offer call the application
// in, as the identity in.From: the application gets an incoming call, and
// the browser's audio joins the call once it answers. in.Endpoint and
// in.ParticipantID are the server's to set.
func (s *Server) CallApplication(ctx context.Context, in calls.IncomingCall, offer string) (Placed, error) {
	s.mu.Lock()
	domain := s.calls
	s.mu.Unlock()
	if domain == nil {
		return Placed{}, errors.New("webrtc: not started")
	}
	pid := uuid.NewString()
	peer, answer, err := s.api.Answer(ctx, pid, offer)
	if err != nil {
		return Placed{}, err
	}
	b := &browser{peer: peer, ep: rtpmedia.NewEndpoint(peer.Leg)}
	s.mu.Lock()
	s.peers[pid] = b
	s.mu.Unlock()
	in.Endpoint, in.ParticipantID = calls.EndpointWebRTC, pid
	leg, ref, err := domain.Incoming(ctx, in)
	if err != nil {
		s.drop(pid)
		return Placed{}, err
	}
	s.mu.Lock()
	b.ref = ref
	s.mu.Unlock()
	go s.watch(b)
	return Placed{CallID: leg.ID, ParticipantID: pid, Answer: answer}, nil
}

// JoinMeeting makes the browser that sent offer join the tenant's live
// meeting that spec names (its joinMeetingId and passcode, as a create
// request names it), as who: it is in the meeting at once.
func (s *Server) JoinMeeting(ctx context.Context, tenantID string, spec model.Call, who model.IdentitySet, offer string) (Placed, error) {
	s.mu.Lock()
	domain := s.calls
	s.mu.Unlock()
	if domain == nil {
		return Placed{}, errors.New("webrtc: not started")
	}
	ref, err := domain.JoinMeetingAs(ctx, tenantID, spec, who, calls.EndpointWebRTC)
	if err != nil {
		return Placed{}, err
	}
	peer, answer, err := s.api.Answer(ctx, ref.Participant, offer)
	if err != nil {
		_ = domain.Signal(context.WithoutCancel(ctx), ref, calls.Signal{Kind: calls.SignalLeft})
		return Placed{}, err
	}
	b := &browser{ref: ref, peer: peer, ep: rtpmedia.NewEndpoint(peer.Leg)}
	s.mu.Lock()
	s.peers[ref.Participant] = b
	s.mu.Unlock()
	s.Accept(ref) // in the meeting already: its audio joins now
	go s.watch(b)
	return Placed{ParticipantID: ref.Participant, ConversationID: ref.Conversation, Answer: answer}, nil
}

// SetMuted is the browser muting or unmuting itself: the participant is
// muted in the call, as Graph shows it.
func (s *Server) SetMuted(participantID string, muted bool) bool {
	s.mu.Lock()
	b, domain := s.peers[participantID], s.calls
	s.mu.Unlock()
	if b == nil {
		return false
	}
	kind := calls.SignalUnmuted
	if muted {
		kind = calls.SignalMuted
	}
	b.ep.SetMuted(muted)
	if err := domain.Signal(context.Background(), b.ref, calls.Signal{Kind: kind}); err != nil {
		s.log.Warn("webrtc: telling the call a browser muted failed", "participant", participantID, "err", err)
	}
	return true
}

// watch reports a browser that went away (closed the page, lost the
// network) as having left.
func (s *Server) watch(b *browser) {
	<-b.peer.Done()
	s.left(b.ref.Participant)
}

// HangUp is the browser hanging up its participant.
func (s *Server) HangUp(participantID string) bool {
	s.mu.Lock()
	_, ok := s.peers[participantID]
	s.mu.Unlock()
	if ok {
		s.left(participantID)
	}
	return ok
}

// left tells the domain the participant left, and frees its peer.
func (s *Server) left(pid string) {
	b := s.drop(pid)
	if b == nil {
		return
	}
	s.mu.Lock()
	domain := s.calls
	s.mu.Unlock()
	if err := domain.Signal(context.Background(), b.ref, calls.Signal{Kind: calls.SignalLeft}); err != nil {
		s.log.Warn("webrtc: telling the call a browser left failed", "participant", pid, "err", err)
	}
}

// drop forgets the participant's browser and closes its connection, and
// returns it (nil when it was gone).
func (s *Server) drop(pid string) *browser {
	s.mu.Lock()
	b := s.peers[pid]
	delete(s.peers, pid)
	joined := b != nil && b.joined
	s.mu.Unlock()
	if b == nil {
		return nil
	}
	if joined {
		_ = s.rooms.RemoveEndpoint(b.ref.Conversation, b.ref.Participant) // the room may be gone already
	}
	b.peer.Close()
	return b
}

func (s *Server) get(ref calls.EndpointRef) *browser {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peers[ref.Participant]
}

// Accept implements calls.Endpoints: the application answered; the
// browser's audio joins the call.
func (s *Server) Accept(ref calls.EndpointRef) {
	b := s.get(ref)
	if b == nil {
		return
	}
	if err := s.rooms.AddEndpoint(ref.Conversation, inBand{b.ep}); err != nil {
		s.log.Error("webrtc: the browser's audio could not join the call", "participant", ref.Participant, "err", err)
		go s.left(ref.Participant)
		return
	}
	s.mu.Lock()
	b.joined = true
	s.mu.Unlock()
}

// End implements calls.Endpoints: the call ended for the browser (declined,
// hung up by the others), or stopped ringing it; its connection closes.
func (s *Server) End(ref calls.EndpointRef, _ calls.Release) {
	if s.stopRinging(ref.Participant) {
		return
	}
	if s.get(ref) != nil {
		go s.drop(ref.Participant) // not under the conversation's lock
	}
}

// Mute implements calls.Endpoints.
func (s *Server) Mute(ref calls.EndpointRef, muted bool) {
	if b := s.get(ref); b != nil {
		b.ep.SetMuted(muted)
	}
}

// Hold implements calls.Endpoints.
func (s *Server) Hold(ref calls.EndpointRef, held bool) {
	if b := s.get(ref); b != nil {
		b.ep.SetHeld(held)
	}
}

// Close ends every browser's connection.
func (s *Server) Close() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.peers))
	for id := range s.peers {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.drop(id)
	}
}

// inBand is a browser's endpoint in its room. It takes no keys out of
// band, so the room mixes the keys others press into what the browser
// hears: a browser does not show the page the RFC 4733 events it receives.
type inBand struct{ ep *rtpmedia.Endpoint }

var _ media.Gapper = inBand{}

func (b inBand) ID() string                        { return b.ep.ID() }
func (b inBand) Speak(f *media.Frame) (bool, rune) { return b.ep.Speak(f) }
func (b inBand) Hear(f *media.Frame)               { b.ep.Hear(f) }
func (b inBand) Gap(n int)                         { b.ep.Gap(n) }

// Kind is the endpoint kind the server serves.
func (s *Server) Kind() string { return calls.EndpointWebRTC }
