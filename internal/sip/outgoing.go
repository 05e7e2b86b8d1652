package sip

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// setRef completes the dialog's reference once the domain created its
// call.
func (d *dialog) setRef(ref calls.EndpointRef) {
	d.mu.Lock()
	d.ref = ref
	d.mu.Unlock()
}

// Dial calls the phone an identity is routed to, in the background: the
// phone's final response comes back as a signal.
func (s *Server) Dial(ref calls.EndpointRef, call calls.Dial) {
	r, _ := s.routeTo(call.TenantID, call.Target)
	ctx, cancel := context.WithCancel(s.ctx)
	d := newDialog()
	d.ref, d.cancel = ref, cancel
	if !s.track() {
		// Shutting down. Dial runs under the conversation's lock: the
		// failure is reported from another goroutine.
		cancel()
		go s.signal(d, calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultInfo{Code: 503, Message: "The server is shutting down."}})
		return
	}
	s.register(d)
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.dial(ctx, d, r, call)
	}()
}

func (s *Server) dial(ctx context.Context, d *dialog, route route, call calls.Dial) {
	fail := func(r calls.ResultInfo) {
		s.forget(d)
		if ctx.Err() == nil { // not cancelled by the domain
			s.signal(d, calls.Signal{Kind: calls.SignalFailed, Result: r})
		}
	}
	if route.URI.Host == "" {
		fail(calls.ResultUnreachable) // bound, but not registered now
		return
	}
	sock, err := s.listenRTP()
	if err != nil {
		s.log.Warn("sip: no RTP port for an outgoing call", "err", err)
		fail(calls.ResultUnreachable)
		return
	}
	d.sock = sock
	d.local = s.newLocal(sock)
	offer, err := sdp.Offer(d.local)
	if err != nil {
		sock.Close()
		fail(calls.ResultUnreachable)
		return
	}
	uri := route.URI
	req := sip.NewRequest(sip.INVITE, uri)
	if route.Transport == "tcp" {
		req.SetTransport("TCP")
	}
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(s.from(call.Caller))
	req.AppendHeader(&sip.ToHeader{Address: uri})
	cli, err := s.dua.WriteInvite(ctx, req)
	if err != nil {
		sock.Close()
		s.log.Warn("sip: INVITE could not be sent", "to", uri.String(), "err", err)
		fail(calls.ResultUnreachable)
		return
	}
	d.cli = cli
	d.callID = req.CallID().Value()
	s.register(d) // now under its Call-ID too: BYEs find it
	defer s.release(d)
	defer cli.Close()
	err = waitAnswer(ctx, func(ctx context.Context) error {
		return cli.WaitAnswer(ctx, sipgo.AnswerOptions{Username: route.Username, Password: route.Password})
	})
	var failed *sipgo.ErrDialogResponse
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return // cancelled by the domain: sipgo sent CANCEL
	case errors.As(err, &failed):
		fail(ResultFor(failed.Res.StatusCode))
		return
	default:
		s.log.Info("sip: outgoing call failed", "to", uri.String(), "err", err)
		fail(calls.ResultUnreachable)
		return
	}
	m, err := sdp.ParseAnswer(cli.InviteResponse.Body(), d.local)
	if err == nil {
		err = s.connect(d, m)
	}
	if ackErr := cli.Ack(s.ctx); ackErr != nil && err == nil {
		err = ackErr
	}
	if err != nil {
		s.log.Warn("sip: the phone's answer is unusable; hanging up", "call_id", d.callID, "err", err)
		d.mu.Lock()
		d.byUs = true
		d.mu.Unlock()
		s.goBye(d)
		s.signal(d, calls.Signal{Kind: calls.SignalFailed, Result: calls.ResultUnreachable})
		return
	}
	s.signal(d, calls.Signal{Kind: calls.SignalAnswered})
	s.established(d)
	d.waitEnd(cli.Context())
	s.hungUp(d)
}

// waitAnswer runs sipgo's WaitAnswer and survives its CANCEL path.
//
// When the context ends while the phone rings, sipgo sends a CANCEL and
// reads its response; if that transaction is terminated at the moment
// it is read (the client closing under it at shutdown), sipgo sees
// neither a response nor an error and dereferences the nil response
// (sipgo v1.7.2 and v1.7.3, DialogClientSession.inviteCancel). Once the
// dial is cancelled nothing is left to do with that response, so such a
// panic ends the wait as cancelled. A panic while not cancelling is a
// different bug and goes on up.
func waitAnswer(ctx context.Context, wait func(context.Context) error) (err error) {
	defer func() {
		if ctx.Err() == nil {
			return
		}
		if r := recover(); r != nil {
			err = fmt.Errorf("sip: the CANCEL ended without an answer: %v", r)
		}
	}()
	return wait(ctx)
}

// from is the From header of an INVITE to a phone: who it sees calling.
func (s *Server) from(caller model.IdentitySet) *sip.FromHeader {
	user, name := "switchboard", ""
	for _, id := range []*model.Identity{caller.Phone, caller.User, caller.Application, caller.Guest} {
		if id != nil && id.ID != "" {
			user = id.ID
			if id.DisplayName != nil {
				name = *id.DisplayName
			}
			break
		}
	}
	h := &sip.FromHeader{DisplayName: name, Address: sip.Uri{Scheme: "sip", User: user, Host: s.host, Port: s.port}, Params: sip.NewParams()}
	h.Params.Add("tag", sip.GenerateTagN(16))
	return h
}
