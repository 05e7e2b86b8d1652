package sip_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/rtpmedia"
	"github.com/switchboard-dev/switchboard/internal/sdp"
	"github.com/switchboard-dev/switchboard/internal/sim"
	sbsip "github.com/switchboard-dev/switchboard/internal/sip"
)

// wait bounds every wait for something the network brings: generous, as
// a busy machine may be slow, and never the thing a test measures.
const wait = 10 * time.Second

var bot = calls.Caller{TenantID: "t1", AppID: "app-a", Roles: []string{calls.RoleInitiate, calls.RoleAccessMedia}}

// event is one call notification, decoded.
type event struct {
	callID, change, state string
	result                calls.ResultInfo
}

// feed is a calls.Dispatcher that hands every notification to the test.
type feed chan event

func (f feed) Enqueue(entries ...calls.OutboxEntry) {
	for _, e := range entries {
		var env model.CommsNotifications
		if json.Unmarshal(e.Body, &env) != nil || len(env.Value) != 1 {
			continue
		}
		n := env.Value[0]
		if len(n.ResourceData) == 0 || n.ResourceData[0] != '{' {
			continue // rosters
		}
		var c model.Call
		if json.Unmarshal(n.ResourceData, &c) != nil || c.ODataType != model.TypeCall {
			continue
		}
		ev := event{callID: e.CallID, change: string(n.ChangeType), state: string(c.State)}
		if c.ResultInfo != nil {
			ev.result = calls.ResultInfo{Code: c.ResultInfo.Code, Subcode: c.ResultInfo.Subcode}
		}
		f <- ev
	}
}

// rooms records the endpoints the server puts in media rooms.
type rooms struct {
	mu  sync.Mutex
	eps map[string]media.Endpoint
}

func (r *rooms) AddEndpoint(room string, ep media.Endpoint) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eps[room+"/"+ep.ID()] = ep
	return nil
}

func (r *rooms) RemoveEndpoint(room, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.eps, room+"/"+id)
	return nil
}

func (r *rooms) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.eps)
}

type apps struct{}

func (apps) Application(_ context.Context, user string) (sbsip.App, bool) {
	if user != bot.AppID {
		return sbsip.App{}, false
	}
	return sbsip.App{TenantID: bot.TenantID, AppID: bot.AppID, Webhook: "http://127.0.0.1:9/cb"}, true
}

// fixture is a calls service whose phones are reached through a SIP
// server, and a phone: a sipgo user agent of the test's.
type fixture struct {
	t      *testing.T
	svc    *calls.Service
	srv    *sbsip.Server
	clk    *clock.Fake
	events feed
	rooms  *rooms

	phoneUA   *sipgo.UserAgent
	phoneCli  *sipgo.Client
	phoneDUA  *sipgo.DialogUA
	phoneURI  sip.Uri
	invites   chan *phoneInvite // INVITEs the phone got
	stopPhone func()            // the phone goes away: it answers nothing more
	dialogs   sync.Map          // the phone's dialogs by Call-ID: byeReader
}

// byeReader is a dialog of either side.
type byeReader interface {
	ReadBye(req *sip.Request, tx sip.ServerTransaction) error
}

// phoneInvite is an INVITE the test's phone got; the test answers it by
// sending on answer (a status code) and waits for its end on done.
type phoneInvite struct {
	req    *sip.Request
	answer chan int
	done   chan string // "cancel" or "bye"
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, true) }

// newFixtureWith is newFixture where anonymous says whether a phone may
// call without credentials (development mode).
func newFixtureWith(t *testing.T, anonymous bool) *fixture {
	t.Helper()
	f := &fixture{t: t, clk: clock.NewFake(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)), events: make(feed, 64),
		rooms: &rooms{eps: make(map[string]media.Endpoint)}, invites: make(chan *phoneInvite, 4)}
	f.startPhone()
	dir, err := sim.NewDirectory(time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	// phone-bob rings the test's phone; phone-offline has an account but
	// is not registered.
	phoneDir, err := phones.New(phones.Config{
		Contacts: []phones.Contact{{User: "phone-bob", URI: f.phoneURI.String()}},
		// The test's phone is also a carrier: it serves +1555 numbers and
		// its calls come from 127.0.0.2 (which the phone never uses).
		Trunks: []phones.Trunk{{Name: "carrier", Address: net.JoinHostPort(f.phoneURI.Host, strconv.Itoa(f.phoneURI.Port)),
			Numbers: []string{"+1555*"}, AllowFrom: []string{"127.0.0.2/32"}, MaxCalls: 1}},
		Accounts: []phones.Account{{Username: "offline", User: "phone-offline", Password: "secret"},
			{Username: "alice", User: "phone-alice", DisplayName: "Alice", Password: "secret"}},
	}, phones.Options{Dev: true, Clock: f.clk})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = sbsip.New(sbsip.Config{Listen: "127.0.0.1:0", Rooms: f.rooms, Phones: phoneDir, AllowAnonymous: anonymous,
		Applications: apps{}, Clock: f.clk, Logger: log, RTPTimeout: 5 * time.Second, TenantID: bot.TenantID})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = calls.New(calls.Config{Store: callstest.NewStore(), Dispatcher: f.events, Directory: dir, Clock: f.clk,
		AllowLoopbackHTTP: true, RingTimeout: 30 * time.Second, Logger: log, Endpoints: f.srv})
	f.srv.Attach(f.svc)
	if err := f.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		f.srv.Close(ctx)
		f.svc.Shutdown(ctx)
	})
	return f
}

// startPhone runs the test's phone: a SIP user agent on loopback UDP that
// hands each INVITE to the test.
func (f *fixture) startPhone() {
	t := f.t
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	f.phoneURI = sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: port}
	f.phoneCli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	if err != nil {
		t.Fatal(err)
	}
	dua := &sipgo.DialogUA{Client: f.phoneCli, ContactHDR: sip.ContactHeader{Address: f.phoneURI}}
	f.phoneDUA = dua
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dua.ReadInvite(req, tx)
		if err != nil {
			return
		}
		defer dlg.Close()
		f.dialogs.Store(req.CallID().Value(), dlg)
		inv := &phoneInvite{req: req, answer: make(chan int, 1), done: make(chan string, 1)}
		f.invites <- inv
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		select {
		case code := <-inv.answer:
			if code != sip.StatusOK {
				_ = dlg.Respond(code, "Test", nil)
				inv.done <- "final"
				return
			}
			body, _ := sdpAnswer(t, req.Body())
			_ = dlg.RespondSDP(body)
		case <-dlg.Context().Done():
			inv.done <- "cancel"
			return
		}
		<-dlg.Context().Done()
		inv.done <- "bye"
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if d, ok := f.dialogs.Load(req.CallID().Value()); ok {
			if d.(byeReader).ReadBye(req, tx) == nil {
				return
			}
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "No Dialog", nil))
	})
	go srv.ServeUDP(pc)
	f.stopPhone = sync.OnceFunc(func() { srv.Close(); ua.Close(); pc.Close() })
	t.Cleanup(f.stopPhone)
	f.phoneUA = ua
}

func sdpAnswer(t *testing.T, offer []byte) ([]byte, sdp.Media) {
	b, m, err := sdp.Answer(offer, sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: 40000, SessionID: 1})
	if err != nil {
		t.Errorf("the server's offer: %v", err)
	}
	return b, m
}

// next returns the next notification, failing the test after wait.
func (f *fixture) next() event {
	f.t.Helper()
	select {
	case ev := <-f.events:
		return ev
	case <-time.After(wait):
		f.t.Fatal("no notification came")
		return event{}
	}
}

// until skips notifications until one in state, and returns it.
func (f *fixture) until(state string) event {
	f.t.Helper()
	for {
		if ev := f.next(); ev.state == state {
			return ev
		}
	}
}

func (f *fixture) invite() *phoneInvite {
	f.t.Helper()
	select {
	case inv := <-f.invites:
		return inv
	case <-time.After(wait):
		f.t.Fatal("the phone got no INVITE")
		return nil
	}
}

func ended(t *testing.T, inv *phoneInvite) string {
	t.Helper()
	select {
	case how := <-inv.done:
		return how
	case <-time.After(wait):
		t.Fatal("the phone's call did not end")
		return ""
	}
}

// call makes the test's phone call user at the server, and returns its
// dialog once the INVITE is sent.
func (f *fixture) call(ctx context.Context, user string) *sipgo.DialogClientSession {
	f.t.Helper()
	sock, err := rtpmedia.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { sock.Close() })
	offer, err := sdp.Offer(sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: int(sock.LocalAddr().Port()), SessionID: 7})
	if err != nil {
		f.t.Fatal(err)
	}
	addr := f.srv.Addr()
	to := sip.Uri{Scheme: "sip", User: user, Host: addr.Addr().String(), Port: int(addr.Port())}
	me := f.phoneURI
	me.User = "+15550100"
	from := &sip.FromHeader{Address: me, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	d, err := f.phoneDUA.Invite(ctx, to, offer, sip.NewHeader("Content-Type", "application/sdp"), from)
	if err != nil {
		f.t.Fatal(err)
	}
	f.dialogs.Store(d.InviteRequest.CallID().Value(), d)
	return d
}

var serviceHosted = model.AnswerRequest{MediaConfig: &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig},
	AcceptedModalities: []model.Modality{model.ModalityAudio}}

func TestPhoneCallsApplication(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	d := f.call(ctx, bot.AppID)
	answered := make(chan error, 1)
	go func() { answered <- d.WaitAnswer(ctx, sipgo.AnswerOptions{}) }()
	in := f.until("incoming")
	if err := f.svc.Answer(ctx, bot, in.callID, serviceHosted); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(0) // the answer's connect timer
	if err := <-answered; err != nil {
		t.Fatalf("the phone's call was not answered: %v", err)
	}
	if _, err := sdp.ParseAnswer(d.InviteResponse.Body(), sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: 1}); err != nil {
		t.Fatalf("the 200 OK carries no usable SDP answer: %v\n%s", err, d.InviteResponse.Body())
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	f.until("established")
	if n := f.rooms.count(); n != 1 {
		t.Fatalf("%d endpoints in media rooms; want the phone's", n)
	}
	conv, err := f.svc.Conversation(in.callID)
	if err != nil {
		t.Fatal(err)
	}
	if src := conv.Legs[0].Spec.Source; src == nil || src.Identity.Phone == nil || src.Identity.Phone.ID != "+15550100" {
		t.Fatalf("source = %+v; want the phone bob", src)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := f.until("terminated"); ev.result != codes(calls.ResultRemoteEnded) {
		t.Fatalf("ended with %+v; want %+v", ev.result, codes(calls.ResultRemoteEnded))
	}
	waitFor(t, func() bool { return f.rooms.count() == 0 })
}

func TestApplicationRejectsPhone(t *testing.T) {
	for _, tc := range []struct {
		reason model.RejectReason
		status int
	}{
		{model.RejectReasonBusy, sip.StatusBusyHere},
		{model.RejectReasonForbidden, sip.StatusGlobalDecline},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			f := newFixture(t)
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			d := f.call(ctx, bot.AppID)
			answered := make(chan error, 1)
			go func() { answered <- d.WaitAnswer(ctx, sipgo.AnswerOptions{}) }()
			in := f.until("incoming")
			if err := f.svc.Reject(ctx, bot, in.callID, model.RejectRequest{Reason: tc.reason}); err != nil {
				t.Fatal(err)
			}
			var got *sipgo.ErrDialogResponse
			if err := <-answered; !errorsAs(err, &got) || got.Res.StatusCode != tc.status {
				t.Fatalf("the phone got %v; want status %d", err, tc.status)
			}
		})
	}
}

func TestPhoneHangsUpWhileRinging(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	ringing, stop := context.WithCancel(ctx)
	d := f.call(ringing, bot.AppID)
	answered := make(chan error, 1)
	go func() {
		answered <- d.WaitAnswer(ringing, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.StatusCode == sip.StatusRinging {
				stop() // CANCEL once it rings
			}
			return nil
		}})
	}()
	in := f.until("incoming")
	if ev := f.until("terminated"); ev.callID != in.callID || ev.result != codes(calls.ResultCallerHungUp) {
		t.Fatalf("ended with %+v; want %+v", ev, codes(calls.ResultCallerHungUp))
	}
	<-answered
}

func TestUnknownTargetIsNotFound(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	d := f.call(ctx, "nobody")
	var got *sipgo.ErrDialogResponse
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); !errorsAs(err, &got) || got.Res.StatusCode != sip.StatusNotFound {
		t.Fatalf("INVITE to an unknown user: %v; want 404", err)
	}
}

func p2pTo(user string) model.Call {
	return model.Call{
		CallbackURI:         "http://127.0.0.1:9/cb",
		Targets:             []model.InvitationParticipantInfo{{Identity: &model.IdentitySet{User: &model.Identity{ID: user}}}},
		RequestedModalities: []model.Modality{model.ModalityAudio},
		MediaConfig:         &model.MediaConfig{ODataType: model.TypeServiceHostedMediaConfig},
	}
}

func TestApplicationCallsPhone(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	leg, err := f.svc.Create(ctx, bot, p2pTo("phone-bob"))
	if err != nil {
		t.Fatal(err)
	}
	inv := f.invite()
	if m, err := sdpAnswerMedia(inv.req.Body()); err != nil || m.EventPT == 0 {
		t.Fatalf("the INVITE's offer: %+v, %v; want PCMU/PCMA with telephone-event", m, err)
	}
	inv.answer <- sip.StatusOK
	if ev := f.until("established"); ev.callID != leg.ID {
		t.Fatalf("established %+v", ev)
	}
	waitFor(t, func() bool { return f.rooms.count() == 1 })
	if err := f.svc.HangUp(ctx, bot, leg.ID); err != nil {
		t.Fatal(err)
	}
	if how := ended(t, inv); how != "bye" {
		t.Fatalf("the phone's call ended by %s; want a BYE", how)
	}
	waitFor(t, func() bool { return f.rooms.count() == 0 })
}

func TestPhoneFailuresEndTheCall(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   calls.ResultInfo
	}{
		{sip.StatusBusyHere, calls.ResultBusy},
		{sip.StatusGlobalDecline, calls.ResultDeclined},
		{sip.StatusNotFound, calls.ResultUnreachable},
		{sip.StatusTemporarilyUnavailable, calls.ResultUnreachable},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			f := newFixture(t)
			leg, err := f.svc.Create(t.Context(), bot, p2pTo("phone-bob"))
			if err != nil {
				t.Fatal(err)
			}
			f.invite().answer <- tc.status
			if ev := f.until("terminated"); ev.callID != leg.ID || ev.result != codes(tc.want) {
				t.Fatalf("ended with %+v; want %+v", ev, codes(tc.want))
			}
		})
	}
}

func TestUnregisteredPhoneIsUnreachable(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Create(t.Context(), bot, p2pTo("phone-offline")); err != nil {
		t.Fatal(err)
	}
	if ev := f.until("terminated"); ev.result != codes(calls.ResultUnreachable) {
		t.Fatalf("ended with %+v; want %+v", ev.result, codes(calls.ResultUnreachable))
	}
}

func TestRingTimeoutCancelsTheInvite(t *testing.T) {
	f := newFixture(t)
	leg, err := f.svc.Create(t.Context(), bot, p2pTo("phone-bob"))
	if err != nil {
		t.Fatal(err)
	}
	inv := f.invite()
	f.clk.Advance(30 * time.Second)
	if how := ended(t, inv); how != "cancel" {
		t.Fatalf("the phone's call ended by %s; want a CANCEL", how)
	}
	if ev := f.until("terminated"); ev.callID != leg.ID || ev.result != codes(calls.ResultNoAnswer) {
		t.Fatalf("ended with %+v; want %+v", ev, codes(calls.ResultNoAnswer))
	}
}

func TestSilentPhoneEndsWithMediaFailure(t *testing.T) {
	f := newFixture(t)
	leg, err := f.svc.Create(t.Context(), bot, p2pTo("phone-bob"))
	if err != nil {
		t.Fatal(err)
	}
	inv := f.invite()
	inv.answer <- sip.StatusOK
	f.until("established")
	f.clk.Advance(5 * time.Second) // the phone sends no RTP at all
	if ev := f.until("terminated"); ev.callID != leg.ID || ev.result != codes(calls.ResultMediaTimeout) {
		t.Fatalf("ended with %+v; want %+v", ev, codes(calls.ResultMediaTimeout))
	}
	if how := ended(t, inv); how != "bye" {
		t.Fatalf("the phone's call ended by %s; want a BYE", how)
	}
}

func sdpAnswerMedia(offer []byte) (sdp.Media, error) {
	_, m, err := sdp.Answer(offer, sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: 40000, SessionID: 1})
	return m, err
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func errorsAs(err error, target **sipgo.ErrDialogResponse) bool {
	e, ok := err.(*sipgo.ErrDialogResponse)
	if ok {
		*target = e
	}
	return ok
}

// codes is a result without its message, as events carry it.
func codes(r calls.ResultInfo) calls.ResultInfo {
	return calls.ResultInfo{Code: r.Code, Subcode: r.Subcode}
}

func TestRegisteredPhoneIsCalledWhereItIs(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if _, err := f.svc.Create(ctx, bot, p2pTo("phone-alice")); err != nil {
		t.Fatal(err)
	}
	if ev := f.until("terminated"); ev.result != codes(calls.ResultUnreachable) {
		t.Fatalf("calling alice before she registered ended with %+v; want unreachable", ev.result)
	}
	addr := f.srv.Addr()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: addr.Addr().String(), Port: int(addr.Port())})
	aor := sip.Uri{Scheme: "sip", User: "alice", Host: addr.Addr().String()}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: f.phoneURI})
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	res, err := f.phoneCli.Do(ctx, req)
	if err != nil || res.StatusCode != sip.StatusUnauthorized {
		t.Fatalf("REGISTER without credentials: %v, %v; want 401", res, err)
	}
	res, err = f.phoneCli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "secret"})
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("REGISTER with credentials: %v, %v; want 200", res, err)
	}
	leg, err := f.svc.Create(ctx, bot, p2pTo("phone-alice"))
	if err != nil {
		t.Fatal(err)
	}
	inv := f.invite()
	inv.answer <- sip.StatusOK
	if ev := f.until("established"); ev.callID != leg.ID {
		t.Fatalf("established %+v", ev)
	}
}

func TestPhonesAuthenticateOutsideDevelopmentMode(t *testing.T) {
	f := newFixtureWith(t, false)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	// Without credentials: challenged, and nothing rings.
	d := f.call(ctx, bot.AppID)
	var got *sipgo.ErrDialogResponse
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); !errorsAs(err, &got) || got.Res.StatusCode != sip.StatusProxyAuthRequired {
		t.Fatalf("INVITE without credentials: %v; want 407", err)
	}
	// With a wrong password: refused.
	d = f.call(ctx, bot.AppID)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: "alice", Password: "wrong"}); !errorsAs(err, &got) || got.Res.StatusCode != sip.StatusForbidden {
		t.Fatalf("INVITE with a wrong password: %v; want 403", err)
	}
	// With the account's credentials: the caller is the user it is bound to.
	d = f.call(ctx, bot.AppID)
	answered := make(chan error, 1)
	go func() { answered <- d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: "alice", Password: "secret"}) }()
	in := f.until("incoming")
	conv, err := f.svc.Conversation(in.callID)
	if err != nil {
		t.Fatal(err)
	}
	src := conv.Legs[0].Spec.Source
	if src == nil || src.Identity.User == nil || src.Identity.User.ID != "phone-alice" || src.Identity.User.DisplayName == nil || *src.Identity.User.DisplayName != "Alice" {
		t.Fatalf("source = %+v; want the user alice's account is bound to", src)
	}
	if err := f.svc.Reject(ctx, bot, in.callID, model.RejectRequest{Reason: model.RejectReasonBusy}); err != nil {
		t.Fatal(err)
	}
	<-answered
}

func TestCloseDoesNotWaitForAPhoneThatIsGone(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Create(t.Context(), bot, p2pTo("phone-bob")); err != nil {
		t.Fatal(err)
	}
	f.invite()
	f.stopPhone() // ringing, and then gone: the CANCEL gets no answer
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := f.srv.Close(ctx); err != nil {
		t.Fatalf("Close with a ringing phone that is gone: %v; want it done within its grace", err)
	}
}

func TestCallToANumberGoesThroughItsTrunk(t *testing.T) {
	f := newFixture(t)
	call := p2pTo("x")
	call.Targets[0].Identity = &model.IdentitySet{Phone: &model.Identity{ID: "+1 555 0199"}}
	leg, err := f.svc.Create(t.Context(), bot, call)
	if err != nil {
		t.Fatal(err)
	}
	inv := f.invite()
	if got := inv.req.Recipient.User; got != "+15550199" {
		t.Fatalf("the trunk got an INVITE for %q; want the number +15550199", got)
	}
	inv.answer <- sip.StatusOK
	if ev := f.until("established"); ev.callID != leg.ID {
		t.Fatalf("established %+v", ev)
	}
}
