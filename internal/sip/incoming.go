package sip

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sdp"
)

// byeTimeout bounds how long a BYE waits for its response: over UDP it is
// sent three times meanwhile. A phone that never answers is gone anyway.
const byeTimeout = 4 * time.Second

// onInvite takes a phone's call: to an application, or into a meeting.
// It returns once the call is over (sipgo runs each request's handler on
// a goroutine of its own).
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if d := s.byCallID(req); d != nil {
		// A re-INVITE (hold, a new address): not supported yet.
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	if !s.track() {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	defer s.wg.Done()
	// Who calls, before anything else: a flood is refused cheaply, and
	// an unauthenticated peer learns nothing about who is here.
	from, releaseSlot, ok := s.admit(req, tx)
	if !ok {
		return
	}
	defer releaseSlot()
	user := userPart(req.Recipient)
	app, isApp := s.cfg.Applications.Application(s.ctx, user)
	if !isApp && !isJoinID(user) {
		respond(tx, req, sip.StatusNotFound, "Not Found")
		return
	}
	offer := req.Body()
	if len(offer) == 0 {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here", sip.NewHeader("Warning", `399 switchboard "an SDP offer is required in the INVITE"`))
		return
	}
	sock, err := s.listenRTP()
	if err != nil {
		s.log.Warn("sip: no RTP port for an incoming call", "err", err)
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "5"))
		return
	}
	local := s.newLocal(sock)
	answer, m, err := sdp.Answer(offer, local)
	if err != nil {
		sock.Close()
		code, reason := sip.StatusNotAcceptableHere, "Not Acceptable Here"
		if errors.Is(err, sdp.ErrMalformed) {
			code, reason = sip.StatusBadRequest, "Bad Request"
		}
		respond(tx, req, code, reason, sip.NewHeader("Warning", `399 switchboard "`+warningText(err)+`"`))
		return
	}
	dlg, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		sock.Close()
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	defer dlg.Close()
	d := newDialog()
	d.callID, d.srv, d.sock, d.local = req.CallID().Value(), dlg, sock, local
	if !isApp {
		s.joinMeeting(d, req, user, from, answer, m)
		return
	}
	// Ready for the domain's Accept or End before the call exists.
	d.ref.Participant, d.decided = uuid.NewString(), make(chan *calls.Release, 1)
	s.register(d)
	defer s.release(d)
	_, ref, err := s.cfg.Calls.Incoming(s.ctx, calls.IncomingCall{TenantID: app.TenantID, AppID: app.AppID, CallbackURI: app.Webhook,
		From: from, Endpoint: calls.EndpointSIP, ParticipantID: d.ref.Participant})
	if err != nil {
		s.log.Warn("sip: incoming call refused", "app", app.AppID, "err", err)
		code, reason := failureFor(err)
		_ = dlg.Respond(code, reason, nil)
		return
	}
	d.setRef(ref)
	_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
	select {
	case why := <-d.decided:
		if why != nil {
			code, reason := declineFor(*why)
			_ = dlg.Respond(code, reason, nil)
			return
		}
	case <-dlg.Context().Done():
		// The caller hung up (CANCEL) before anyone answered.
		s.hungUp(d)
		return
	}
	if err := s.connect(d, m); err != nil {
		s.log.Error("sip: starting media failed", "call_id", d.callID, "err", err)
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		s.signal(d, calls.Signal{Kind: calls.SignalLeft, Result: calls.ResultMediaTimeout})
		return
	}
	if err := dlg.RespondSDP(answer); err != nil {
		s.log.Warn("sip: answering failed", "call_id", d.callID, "err", err)
		s.signal(d, calls.Signal{Kind: calls.SignalLeft})
		return
	}
	s.established(d)
	d.waitEnd(dlg.Context())
	s.hungUp(d)
}

// joinMeeting puts a phone dialling a meeting's join id into that meeting,
// answering at once.
func (s *Server) joinMeeting(d *dialog, req *sip.Request, joinID string, from model.IdentitySet, answer []byte, m sdp.Media) {
	spec := model.Call{MeetingInfo: &model.MeetingInfo{JoinMeetingID: joinID}}
	ref, err := s.cfg.Calls.JoinMeetingAs(s.ctx, s.cfg.TenantID, spec, from, calls.EndpointSIP)
	if err != nil {
		d.sock.Close()
		code, reason := failureFor(err)
		_ = d.srv.Respond(code, reason, nil)
		return
	}
	d.ref = ref
	s.register(d)
	defer s.release(d)
	if err := s.connect(d, m); err != nil {
		s.log.Error("sip: starting media failed", "call_id", d.callID, "err", err)
		_ = d.srv.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		s.signal(d, calls.Signal{Kind: calls.SignalLeft})
		return
	}
	if err := d.srv.RespondSDP(answer); err != nil {
		s.signal(d, calls.Signal{Kind: calls.SignalLeft})
		return
	}
	s.established(d)
	d.waitEnd(d.srv.Context())
	s.hungUp(d)
}

// isJoinID reports whether user looks like a meeting's join id: digits
// only (Teams' are 10 to 15 digits).
func isJoinID(user string) bool {
	if len(user) < 4 || len(user) > 32 {
		return false
	}
	for _, c := range user {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// failureFor maps a refusal of the calls domain to a SIP final response.
func failureFor(err error) (int, string) {
	var limit *calls.LimitError
	switch {
	case errors.Is(err, calls.ErrNotFound):
		return sip.StatusNotFound, "Not Found"
	case errors.As(err, &limit):
		return sip.StatusBusyHere, "Busy Here"
	case errors.Is(err, calls.ErrUnavailable), errors.Is(err, calls.ErrElsewhere):
		// ErrElsewhere: a meeting another node of the cluster holds;
		// SIP is not forwarded between nodes.
		return sip.StatusServiceUnavailable, "Service Unavailable"
	default:
		var ve *calls.ValidationError
		if errors.As(err, &ve) {
			return sip.StatusForbidden, "Forbidden"
		}
		return sip.StatusInternalServerError, "Server Internal Error"
	}
}

// declineFor is the final response to an incoming call the domain
// released before it was answered.
func declineFor(why calls.Release) (int, string) {
	switch {
	case why.Busy:
		return sip.StatusBusyHere, "Busy Here"
	case why.Result == calls.ResultAnswerTimeout, why.Result == calls.ResultRedirected:
		// Nobody took the call: the application, or every target of its
		// redirect.
		return sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
	case why.Result.Code == 503:
		return sip.StatusServiceUnavailable, "Service Unavailable"
	default:
		return sip.StatusGlobalDecline, "Decline"
	}
}

// ResultFor is the result a call ends with when a phone answers Switchboard's
// INVITE with a final failure status: busy (486, 600), declined (603),
// unreachable (404, 410, 480, 604 and any other), or no answer (408, 487).
func ResultFor(status int) calls.ResultInfo {
	switch status {
	case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere:
		return calls.ResultBusy
	case sip.StatusGlobalDecline:
		return calls.ResultDeclined
	case sip.StatusRequestTimeout, sip.StatusRequestTerminated:
		return calls.ResultNoAnswer
	default:
		return calls.ResultUnreachable
	}
}

// warningText makes an error fit a Warning header's quoted text.
func warningText(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '"' || c == '\\' || c < 0x20 {
			b[i] = '\''
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// randomSession is an SDP session id: random, as RFC 4566 suggests.
func randomSession() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}
