package sip

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/rtpmedia"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// dialog is one phone's call: its SIP dialog, its RTP socket and, once
// connected, its leg in the conversation's room.
type dialog struct {
	ref    calls.EndpointRef
	callID string
	srv    *sipgo.DialogServerSession // a call the phone placed
	cli    *sipgo.DialogClientSession // a call Switchboard placed
	sock   *rtpmedia.Socket
	local  sdp.Local

	// decided carries the domain's answer to an incoming call: accept
	// (nil) or the release that declines it. Buffered: written once.
	decided chan *calls.Release
	// cancel stops an outgoing call that is still ringing (CANCEL).
	cancel context.CancelFunc

	mu        sync.Mutex
	leg       *rtpmedia.Leg
	ep        *rtpmedia.Endpoint
	byUs      bool      // Switchboard ended it: nothing to report back
	connected bool      // established: hang up with BYE
	once      sync.Once // decided is written once

	// byed is closed once Switchboard's BYE got its answer or gave up:
	// the dialog is over even if sipgo did not see it end.
	byed     chan struct{}
	byedOnce sync.Once
}

func newDialog() *dialog { return &dialog{byed: make(chan struct{})} }

// waitEnd returns when the dialog is over: the phone hung up (ctx, the
// sipgo dialog's context, ends) or Switchboard's BYE is done.
func (d *dialog) waitEnd(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-d.byed:
	}
}

func (s *Server) register(d *dialog) {
	s.mu.Lock()
	s.byRef[d.ref.Participant] = d
	if d.callID != "" {
		s.byCall[d.callID] = d
	}
	s.mu.Unlock()
}

func (s *Server) forget(d *dialog) {
	s.mu.Lock()
	if s.byRef[d.ref.Participant] == d {
		delete(s.byRef, d.ref.Participant)
	}
	if s.byCall[d.callID] == d {
		delete(s.byCall, d.callID)
	}
	s.mu.Unlock()
}

func (s *Server) dialogOf(ref calls.EndpointRef) *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byRef[ref.Participant]
}

// Accept answers the phone whose call an application answered.
func (s *Server) Accept(ref calls.EndpointRef) {
	if d := s.dialogOf(ref); d != nil && d.decided != nil {
		d.once.Do(func() { d.decided <- nil })
	}
}

// End releases the phone: declines its unanswered call, cancels an
// outgoing call still ringing, or hangs up.
func (s *Server) End(ref calls.EndpointRef, why calls.Release) {
	if d := s.dialogOf(ref); d != nil {
		s.end(d, why)
	}
}

func (s *Server) end(d *dialog, why calls.Release) {
	d.mu.Lock()
	d.byUs = true
	connected := d.connected
	d.mu.Unlock()
	if connected {
		s.goBye(d)
		return
	}
	if d.decided != nil {
		d.once.Do(func() { d.decided <- &why })
	}
	if d.cancel != nil {
		d.cancel()
	}
	// A call being answered right now is hung up once it is (see
	// established).
}

// established marks the dialog connected, once its 200 OK went out or
// came in and was acknowledged; if the domain ended it meanwhile, it is
// hung up at once.
func (s *Server) established(d *dialog) {
	d.mu.Lock()
	d.connected = true
	byUs := d.byUs
	d.mu.Unlock()
	if byUs {
		s.goBye(d)
	}
}

// goBye hangs up a connected dialog in the background.
func (s *Server) goBye(d *dialog) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, byeTimeout)
		defer cancel()
		var err error
		if d.srv != nil {
			err = d.srv.Bye(ctx)
		} else if d.cli != nil {
			err = d.cli.Bye(ctx)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Debug("sip: BYE failed", "call_id", d.callID, "err", err)
		}
		d.byedOnce.Do(func() { close(d.byed) })
	}()
}

// Mute mutes or unmutes the phone's voice in the mix.
func (s *Server) Mute(ref calls.EndpointRef, muted bool) {
	if p := s.phoneOf(ref); p != nil {
		p.SetMuted(muted)
	}
}

// phoneOf returns the connected leg of the participant's dialog, or nil.
func (s *Server) phoneOf(ref calls.EndpointRef) *rtpmedia.Endpoint {
	d := s.dialogOf(ref)
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ep
}

// Hold puts the phone on hold (it hears hold music, the others no longer
// hear it) or takes it off.
func (s *Server) Hold(ref calls.EndpointRef, held bool) {
	if p := s.phoneOf(ref); p != nil {
		p.SetHeld(held)
	}
}

// connect starts the dialog's media: the RTP leg joins the room.
func (s *Server) connect(d *dialog, m sdp.Media) error {
	leg, err := rtpmedia.New(rtpmedia.Config{
		ID: d.ref.Participant, Media: m, Latch: true, Writer: s.sender.Writer(d.sock),
		Timeout: s.cfg.RTPTimeout, Clock: s.cfg.Clock,
		OnTimeout: func() { s.mediaLost(d) },
	})
	if err != nil {
		return err
	}
	ep := rtpmedia.NewEndpoint(leg)
	d.sock.Start(leg)
	if err := s.cfg.Rooms.AddEndpoint(d.ref.Conversation, ep); err != nil {
		leg.Close()
		return err
	}
	d.mu.Lock()
	d.leg, d.ep = leg, ep
	d.mu.Unlock()
	return nil
}

// mediaLost ends a call whose phone stopped sending RTP.
func (s *Server) mediaLost(d *dialog) {
	s.log.Warn("sip: no RTP from the phone; ending its call", "call_id", d.callID, "timeout", s.cfg.RTPTimeout)
	d.mu.Lock()
	d.byUs = true
	d.mu.Unlock()
	s.signal(d, calls.Signal{Kind: calls.SignalLeft, Result: calls.ResultMediaTimeout})
	s.goBye(d)
}

// release frees what the dialog holds, once it is over.
func (s *Server) release(d *dialog) {
	s.forget(d)
	d.mu.Lock()
	leg := d.leg
	d.mu.Unlock()
	if leg != nil {
		_ = s.cfg.Rooms.RemoveEndpoint(d.ref.Conversation, d.ref.Participant) // the room may be gone already
		leg.Close()
		s.ended.add(leg.Stats())
	}
	d.sock.Close()
}

// hungUp reports that the phone ended the call, unless Switchboard did.
func (s *Server) hungUp(d *dialog) {
	d.mu.Lock()
	byUs := d.byUs
	d.mu.Unlock()
	if !byUs {
		s.signal(d, calls.Signal{Kind: calls.SignalLeft})
	}
}

func (s *Server) signal(d *dialog, sig calls.Signal) {
	if err := s.cfg.Calls.Signal(context.WithoutCancel(s.ctx), d.ref, sig); err != nil {
		s.log.Error("sip: reporting to the call failed", "call_id", d.callID, "signal", sig.Kind, "err", err)
	}
}

// newLocal returns Switchboard's side of a new dialog's SDP, on sock.
func (s *Server) newLocal(sock *rtpmedia.Socket) sdp.Local {
	return sdp.Local{Addr: s.cfg.PublicAddr, Port: int(sock.LocalAddr().Port()), SessionID: randomSession()}
}

// userPart is the user of a URI, with visual separators of a phone
// number removed.
func userPart(u sip.Uri) string {
	return strings.TrimSpace(u.User)
}
