package sip

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/phones"
)

// fuzzTx is a server transaction that ends as soon as it gets a response of
// 180 or more, so that every INVITE handler returns.
type fuzzTx struct {
	mu        sync.Mutex
	done      chan struct{}
	responses []int
	onEnd     []sip.FnTxTerminate
	ended     bool
}

func newFuzzTx() *fuzzTx { return &fuzzTx{done: make(chan struct{})} }

func (tx *fuzzTx) Respond(res *sip.Response) error {
	tx.mu.Lock()
	tx.responses = append(tx.responses, res.StatusCode)
	tx.mu.Unlock()
	if res.StatusCode >= 180 {
		tx.Terminate()
	}
	return nil
}

func (tx *fuzzTx) Terminate() {
	tx.mu.Lock()
	if tx.ended {
		tx.mu.Unlock()
		return
	}
	tx.ended = true
	fns := tx.onEnd
	close(tx.done)
	tx.mu.Unlock()
	for _, f := range fns {
		f("fuzz", nil)
	}
}

func (tx *fuzzTx) OnTerminate(f sip.FnTxTerminate) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.ended {
		return false
	}
	tx.onEnd = append(tx.onEnd, f)
	return true
}

func (tx *fuzzTx) Done() <-chan struct{}          { return tx.done }
func (tx *fuzzTx) Err() error                     { return nil }
func (tx *fuzzTx) Acks() <-chan *sip.Request      { return nil }
func (tx *fuzzTx) OnCancel(f sip.FnTxCancel) bool { return !tx.ended }

// refusingCalls refuses every call and meeting join, so that each INVITE
// ends with a final response (the answered path, which waits for a BYE, is
// covered by server_test.go).
type refusingCalls struct{}

func (refusingCalls) Incoming(context.Context, calls.IncomingCall) (*calls.Call, calls.EndpointRef, error) {
	return nil, calls.EndpointRef{}, calls.ErrUnavailable
}
func (refusingCalls) JoinMeetingAs(context.Context, string, model.Call, model.IdentitySet, string) (calls.EndpointRef, error) {
	return calls.EndpointRef{}, calls.ErrNotFound
}
func (refusingCalls) Signal(context.Context, calls.EndpointRef, calls.Signal) error { return nil }

type nullRooms struct{}

func (nullRooms) AddEndpoint(string, media.Endpoint) error { return nil }
func (nullRooms) RemoveEndpoint(string, string) error      { return nil }

type anyApp struct{}

func (anyApp) Application(_ context.Context, user string) (App, bool) {
	return App{TenantID: "t", AppID: user, Webhook: "http://127.0.0.1:9/cb"}, user == "bot"
}

func fuzzInvite(user, body string) string {
	return fmt.Sprintf("INVITE sip:%s@127.0.0.1:5060 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK776asdhds\r\n"+
		"Max-Forwards: 70\r\n"+
		"To: <sip:%s@127.0.0.1>\r\n"+
		"From: \"Alice\" <sip:+15551234@127.0.0.1>;tag=1928301774\r\n"+
		"Call-ID: a84b4c76e66710@pc33\r\n"+
		"CSeq: 314159 INVITE\r\n"+
		"Contact: <sip:alice@127.0.0.1:5062>\r\n"+
		"Content-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s", user, user, len(body), body)
}

const fuzzOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"

// FuzzRequest feeds any SIP message to the server's request handlers, as
// the transport would: whatever a peer sends, the handlers answer or
// ignore it, never panic, and leave no dialog or RTP socket behind.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(fuzzInvite("bot", fuzzOffer)))
	f.Add([]byte(fuzzInvite("12345678", fuzzOffer)))
	f.Add([]byte(fuzzInvite("bot", "v=0\r\nm=audio 0 RTP/AVP 18\r\n")))
	f.Add([]byte(fuzzInvite("nobody", "")))
	f.Add([]byte("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nContact: <sip:alice@127.0.0.1:5062>;expires=120\r\nAuthorization: Digest username=\"alice\", realm=\"switchboard\", nonce=\"x\", uri=\"sip:127.0.0.1\", response=\"0\", qop=auth, nc=00000001, cnonce=\"c\"\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("BYE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: a84b4c76e66710@pc33\r\nCSeq: 2 BYE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nContent-Length: 0\r\n\r\n"))
	s := startRefusing(f)
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := parser.ParseSIP(msg)
		if err != nil {
			return // the transport drops what does not parse
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		tx := newFuzzTx()
		switch req.Method {
		case sip.INVITE:
			s.onInvite(req, tx)
		case sip.BYE:
			s.onBye(req, tx)
		case sip.ACK:
			s.onAck(req, tx)
		case sip.OPTIONS:
			s.onOptions(req, tx)
		case sip.REGISTER:
			s.onRegister(req, tx)
		}
		tx.mu.Lock()
		final := req.Method != sip.INVITE || len(tx.responses) > 0 && tx.responses[len(tx.responses)-1] >= 300
		tx.mu.Unlock()
		if !final {
			t.Fatalf("an INVITE got no final failure response\n%s", msg)
		}
		s.mu.Lock()
		left := len(s.byRef) + len(s.byCall)
		s.mu.Unlock()
		if left != 0 {
			t.Fatalf("%d dialogs left behind by\n%s", left, msg)
		}
	})
}

// startRefusing starts a Server on loopback whose calls domain refuses
// every call, with one account (alice, secret) and development mode's
// anonymous callers.
func startRefusing(tb testing.TB) *Server {
	tb.Helper()
	dir, err := phones.New(phones.Config{Accounts: []phones.Account{{Username: "alice", User: "u-alice", Password: "secret"}}},
		phones.Options{Dev: true})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Config{Listen: "127.0.0.1:0", Rooms: nullRooms{}, Phones: dir, Applications: anyApp{}, AllowAnonymous: true,
		Calls: refusingCalls{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close(context.Background()) })
	return s
}
