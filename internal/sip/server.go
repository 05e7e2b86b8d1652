package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/rtpmedia"
)

// Calls is the calls domain as the SIP server drives it
// (*calls.Service).
type Calls interface {
	Incoming(ctx context.Context, in calls.IncomingCall) (*calls.Call, calls.EndpointRef, error)
	JoinMeetingAs(ctx context.Context, tenantID string, spec model.Call, who model.IdentitySet, endpoint string) (calls.EndpointRef, error)
	Signal(ctx context.Context, ref calls.EndpointRef, sig calls.Signal) error
}

// Rooms is the media engine's membership (*media.Engine): a connected
// phone's RTP leg is an endpoint of its conversation's room.
type Rooms interface {
	AddEndpoint(room string, ep media.Endpoint) error
	RemoveEndpoint(room, id string) error
}

// Applications resolves the user part of a request URI.
type Applications interface {
	// Application returns the application an INVITE to user reaches: its
	// client id, or a number or alias assigned to it.
	Application(ctx context.Context, user string) (App, bool)
}

// App is an application that takes calls.
type App struct {
	TenantID string
	AppID    string
	Webhook  string // its incoming-call notification URL
}

// Config configures a Server.
type Config struct {
	// Listen is the address SIP is served on, over UDP and TCP.
	Listen string
	// MediaAddr is the address RTP sockets bind to; default Listen's host.
	MediaAddr netip.Addr
	// PublicAddr is the address written into SDP and Contact headers, for
	// a server behind NAT; default MediaAddr.
	PublicAddr netip.Addr
	// RTPPortMin and RTPPortMax bound the RTP ports (one per call); zero
	// means any free port.
	RTPPortMin, RTPPortMax int
	// RTPTimeout is how long a connected phone may send no RTP before the
	// call ends with 410/301005; zero means DefaultRTPTimeout.
	RTPTimeout time.Duration
	// TenantID is the tenant of meetings phones dial into by join id.
	TenantID string

	// Calls is the calls domain; it may be set with Attach instead, as
	// the domain needs the Server too (as its Endpoints).
	Calls        Calls
	Rooms        Rooms
	Applications Applications
	// Phones says where identities are reached (static contacts,
	// registrations, trunks), authenticates phones and admits sources.
	Phones *phones.Directory
	// AllowAnonymous takes an INVITE without credentials from a source
	// that is neither a trunk nor a registered phone's address as from
	// the phone number in its From header (development mode). Otherwise
	// such an INVITE is challenged (407) and needs an account.
	AllowAnonymous bool
	Clock          clock.Clock  // default clock.Real
	Logger         *slog.Logger // default slog.Default()
}

// MaxMessageSize bounds a SIP message, headers and body: a longer one is
// dropped unread (and a TCP connection carrying one is closed). Real
// INVITEs are well under 4 KiB; SDP bodies are bounded by sdp.MaxSize.
const MaxMessageSize = 32 << 10

// DefaultRTPTimeout is Config.RTPTimeout's default.
const DefaultRTPTimeout = 30 * time.Second

// Server is a SIP user agent that connects phones to calls. Create it with
// New, then Start; Close ends every dialog.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dua    *sipgo.DialogUA
	ports  *rtpmedia.Ports  // nil: any free port
	sender *rtpmedia.Sender // sends the legs' RTP off the media engine's goroutine
	host   string
	port   int

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // dialogs' goroutines

	ended rtpTotals // RTP figures of the legs that are gone

	mu      sync.Mutex
	byRef   map[string]*dialog // by participant id
	byCall  map[string]*dialog // by Call-ID
	udp     net.PacketConn
	tcp     net.Listener
	started bool
	closing bool // Close began: no new dialog goroutines (see track)
}

// New checks cfg and returns a Server that is not listening yet.
func New(cfg Config) (*Server, error) {
	if cfg.Rooms == nil || cfg.Phones == nil || cfg.Applications == nil {
		return nil, errors.New("sip: Rooms, Phones and Applications are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RTPTimeout <= 0 {
		cfg.RTPTimeout = DefaultRTPTimeout
	}
	ap, err := netip.ParseAddrPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip: listen address %q: want an IP address and port, such as 127.0.0.1:5060", cfg.Listen)
	}
	if !cfg.MediaAddr.IsValid() {
		cfg.MediaAddr = ap.Addr()
	}
	if !cfg.PublicAddr.IsValid() {
		cfg.PublicAddr = cfg.MediaAddr
	}
	if cfg.PublicAddr.IsUnspecified() {
		return nil, errors.New("sip: the public address (written into SDP) must not be unspecified: set it when listening on 0.0.0.0 or ::")
	}
	var ports *rtpmedia.Ports
	if cfg.RTPPortMin != 0 || cfg.RTPPortMax != 0 {
		if ports, err = rtpmedia.NewPorts(cfg.MediaAddr, cfg.RTPPortMin, cfg.RTPPortMax); err != nil {
			return nil, fmt.Errorf("sip: RTP ports: %w", err)
		}
	}
	return &Server{cfg: cfg, log: cfg.Logger, ports: ports,
		byRef: make(map[string]*dialog), byCall: make(map[string]*dialog)}, nil
}

// Attach sets the calls domain, before Start.
func (s *Server) Attach(c Calls) { s.cfg.Calls = c }

// listenBoth binds UDP and TCP on one port. When ap's port is 0 the system
// picks a free UDP port, which may be taken for TCP (an outgoing
// connection's ephemeral port, say): then it tries another, a few times.
func listenBoth(ap netip.AddrPort) (net.PacketConn, net.Listener, error) {
	const attempts = 8
	for i := 0; ; i++ {
		udp, err := net.ListenPacket("udp", ap.String())
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen udp: %w", err)
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", netip.AddrPortFrom(ap.Addr(), uint16(port)).String())
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if ap.Port() != 0 || i+1 == attempts {
			return nil, nil, fmt.Errorf("sip: listen tcp: %w", err)
		}
	}
}

// Start listens on cfg.Listen over UDP and TCP (on the same port, chosen by
// the system when it is 0) and serves until Close.
func (s *Server) Start(ctx context.Context) error {
	if s.cfg.Calls == nil {
		return errors.New("sip: no calls domain attached")
	}
	udp, tcp, err := listenBoth(netip.MustParseAddrPort(s.cfg.Listen))
	if err != nil {
		return err
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	s.host, s.port = s.cfg.PublicAddr.String(), port
	parser := sip.NewParser()
	parser.MaxMessageLength = MaxMessageSize
	s.ua, err = sipgo.NewUA(sipgo.WithUserAgent("Switchboard"), sipgo.WithUserAgentHostname(s.host), sipgo.WithUserAgentParser(parser))
	if err == nil {
		s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(s.log))
	}
	if err == nil {
		s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(s.host), sipgo.WithClientPort(port), sipgo.WithClientLogger(s.log))
	}
	if err != nil {
		udp.Close()
		tcp.Close()
		return fmt.Errorf("sip: %w", err)
	}
	s.dua = &sipgo.DialogUA{Client: s.client, ContactHDR: s.contact()}
	s.sender = rtpmedia.NewSender(senderWorkers, senderQueue)
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnRegister(s.onRegister)
	s.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL that matched an INVITE was answered by the transaction
		// layer; this one matched nothing.
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	})
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.udp, s.tcp, s.started = udp, tcp, true
	s.mu.Unlock()
	go s.serve("udp", func() error { return s.srv.ServeUDP(udp) })
	go s.serve("tcp", func() error { return s.srv.ServeTCP(tcp) })
	s.log.Info("sip: listening", "addr", udp.LocalAddr().String(), "transports", "udp,tcp", "public_addr", s.host)
	return nil
}

func (s *Server) serve(network string, run func() error) {
	if err := run(); err != nil && s.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		s.log.Error("sip: listener failed", "network", network, "err", err)
	}
}

// Addr is the address SIP is served on (UDP and TCP), once started.
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return netip.AddrPort{}
	}
	return s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// track counts a new dialog goroutine in s.wg, unless Close began: a
// WaitGroup must not go up from zero while Close waits on it. Goroutines
// started by a tracked one (a BYE) may Add directly.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

// Close hangs up every call, stops listening and waits for the dialogs'
// goroutines, or for ctx to end.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	dialogs := make([]*dialog, 0, len(s.byRef))
	for _, d := range s.byRef {
		dialogs = append(dialogs, d)
	}
	s.mu.Unlock()
	for _, d := range dialogs {
		s.end(d, calls.Release{Result: calls.ResultInfo{Code: 503, Message: "The server is shutting down."}})
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	// Dialogs end on their own once told to, while the listeners still
	// carry their BYEs, CANCELs and final responses; those that wait on a
	// peer that is gone (a CANCEL waits up to 32 s for its answer) end
	// when the transactions are closed after closeGrace.
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
	case <-ctx.Done():
	}
	// Dials still ringing stop waiting without sending a CANCEL: the
	// client closes under them (and sipgo's CANCEL on a closed client
	// dereferences a nil response).
	s.cancel(sipgo.WaitAnswerForceCancelErr)
	s.srv.Close()
	s.client.Close()
	s.ua.Close()
	s.udp.Close()
	s.tcp.Close()
	defer s.sender.Close()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The RTP sender: two goroutines (the engine computes on one core, they
// send on the other), and a queue of 100 ms of 1,000 legs' packets.
const (
	senderWorkers = 2
	senderQueue   = 5000
)

// closeGrace is how long Close lets dialogs end by themselves.
const closeGrace = 3 * time.Second

// listenRTP opens a call's RTP socket: in the configured port range, or
// on any free port.
func (s *Server) listenRTP() (*rtpmedia.Socket, error) {
	if s.ports == nil {
		return rtpmedia.Listen(netip.AddrPortFrom(s.cfg.MediaAddr, 0))
	}
	return s.ports.Listen()
}

// contact is the Contact header of Switchboard's requests and responses.
func (s *Server) contact() sip.ContactHeader {
	return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "switchboard", Host: s.host, Port: s.port}}
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res) // the peer retransmits, or gives up, if this is lost
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, sip.StatusOK, "OK", sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"),
		sip.NewHeader("Accept", "application/sdp"))
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if d := s.byCallID(req); d != nil && d.srv != nil {
		_ = d.srv.ReadAck(req, tx) // a stray ACK changes nothing
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	d := s.byCallID(req)
	if d == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	var err error
	if d.srv != nil {
		err = d.srv.ReadBye(req, tx)
	} else if d.cli != nil {
		err = d.cli.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	// The dialog's goroutine sees its context end and reports the hang-up.
}

func (s *Server) byCallID(req *sip.Request) *dialog {
	id := req.CallID()
	if id == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byCall[id.Value()]
}

// Stats are the server's figures: the dialogs in progress, and the RTP of
// every phone leg since the server started.
type Stats struct {
	Dialogs                                int
	RTPReceived, RTPSent, RTPLost, RTPKeys uint64
}

// rtpTotals adds up the RTP figures of legs that are gone.
type rtpTotals struct {
	mu sync.Mutex
	s  Stats
}

func (t *rtpTotals) add(st rtpmedia.Stats) {
	t.mu.Lock()
	t.s.RTPReceived += st.Received
	t.s.RTPSent += st.Sent
	t.s.RTPLost += st.Lost
	t.s.RTPKeys += st.Keys
	t.mu.Unlock()
}

// Stats returns the server's figures now.
func (s *Server) Stats() Stats {
	s.ended.mu.Lock()
	out := s.ended.s
	s.ended.mu.Unlock()
	s.mu.Lock()
	dialogs := make([]*dialog, 0, len(s.byRef))
	for _, d := range s.byRef {
		dialogs = append(dialogs, d)
	}
	s.mu.Unlock()
	out.Dialogs = len(dialogs)
	for _, d := range dialogs {
		d.mu.Lock()
		leg := d.leg
		d.mu.Unlock()
		if leg != nil {
			st := leg.Stats()
			out.RTPReceived += st.Received
			out.RTPSent += st.Sent
			out.RTPLost += st.Lost
			out.RTPKeys += st.Keys
		}
	}
	return out
}
