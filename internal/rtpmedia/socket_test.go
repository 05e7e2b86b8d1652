package rtpmedia

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/media"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// notifying passes packets on to a Receiver and then says so.
type notifying struct {
	r  Receiver
	ch chan struct{}
}

func (n notifying) Receive(b []byte, from netip.AddrPort) {
	n.r.Receive(b, from)
	n.ch <- struct{}{}
}

// await waits for n packets to have been received, failing the test if
// they have not after a generous bound (the machine may be busy; nothing
// here measures time).
func await(t *testing.T, ch chan struct{}, n int) {
	t.Helper()
	bound := time.NewTimer(20 * time.Second)
	defer bound.Stop()
	for i := range n {
		select {
		case <-ch:
		case <-bound.C:
			t.Fatalf("%d of %d packets arrived", i, n)
		}
	}
}

func listen(t *testing.T) *Socket {
	t.Helper()
	s, err := Listen(netip.AddrPortFrom(loopback, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Two legs talk over real UDP sockets on 127.0.0.1: audio one way, RFC 4733
// the other, with the answerer latching the caller's address.
func TestLoopbackUDP(t *testing.T) {
	sa, sb := listen(t), listen(t)
	ma, mb := pcmu(), pcmu()
	ma.Remote = sb.LocalAddr()
	mb.Remote = netip.MustParseAddrPort("10.9.9.9:9") // behind NAT: the SDP lies
	a := newLeg(t, Config{ID: "a", Media: ma, Writer: sa})
	b := newLeg(t, Config{ID: "b", Media: mb, Writer: sb, Latch: true})
	atA, atB := make(chan struct{}, 64), make(chan struct{}, 64)
	sa.Start(notifying{a, atA})
	sb.Start(notifying{b, atB})

	in := voice(time.Second)
	var heard []int16
	for _, f := range frames(in) {
		a.Hear(&f)
		await(t, atB, 1)
		var g media.Frame
		b.Speak(&g)
		heard = append(heard, g[:]...)
	}
	if _, score := media.Locate(media.Audio{Samples: heard}, media.Audio{Samples: in.Samples[:len(in.Samples)/2]}); score < 0.99 {
		t.Fatalf("b heard a with score %.3f", score)
	}
	if s := b.Stats(); !s.Latched || s.Remote != sa.LocalAddr() || s.Received != 50 {
		t.Fatalf("b: %+v", s)
	}

	if err := b.SendDigits("5"); err != nil {
		t.Fatal(err)
	}
	var silence media.Frame
	for range 7 { // 5 ticks of tone and two repeats of the final packet
		b.Hear(&silence)
	}
	await(t, atA, 7)
	if _, keys := speakN(a, 7); string(keys) != "5" {
		t.Fatalf("a got keys %q, want \"5\"", string(keys))
	}
	if err := sa.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sa.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestSocketCloseWithoutStart(t *testing.T) {
	s := listen(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Start(notifying{}) // after Close: does nothing
}

// fakeBinds makes a Ports whose binds fail as told; the others get a real
// loopback socket (on any port, which is fine for counting).
func fakeBinds(t *testing.T, first, last int, fail map[int]error) *Ports {
	t.Helper()
	p, err := NewPorts(loopback, first, last)
	if err != nil {
		t.Fatal(err)
	}
	p.listen = func(a netip.AddrPort) (*net.UDPConn, error) {
		if err := fail[int(a.Port())]; err != nil {
			return nil, &net.OpError{Op: "listen", Net: "udp", Err: err}
		}
		return listenUDP(netip.AddrPortFrom(loopback, 0))
	}
	return p
}

func TestPortsSkipsBusyPorts(t *testing.T) {
	p := fakeBinds(t, 9999, 10011, map[int]error{10000: syscall.EADDRINUSE, 10004: syscall.EADDRINUSE})
	var got []*Socket
	for range 4 {
		s, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("fifth Listen: %v, want ErrNoPorts", err)
	}
	if p.InUse() != 4 {
		t.Fatalf("InUse %d", p.InUse())
	}
	// the port of the second socket (10006) is given back and taken again
	if err := got[1].Close(); err != nil {
		t.Fatal(err)
	}
	if p.InUse() != 3 {
		t.Fatalf("InUse %d after Close", p.InUse())
	}
	s, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, s)
	for _, s := range got {
		_ = s.Close()
	}
	if p.InUse() != 0 {
		t.Fatalf("InUse %d after closing all", p.InUse())
	}
}

func TestPortsReportsOtherErrors(t *testing.T) {
	p := fakeBinds(t, 10000, 10010, map[int]error{10000: syscall.EACCES})
	if _, err := p.Listen(); !errors.Is(err, syscall.EACCES) {
		t.Fatalf("Listen: %v, want EACCES", err)
	}
}

func TestNewPortsRefuses(t *testing.T) {
	for _, r := range [][2]int{{0, 10}, {10, 70000}, {11, 11}, {20, 10}} {
		if _, err := NewPorts(loopback, r[0], r[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", r, err)
		}
	}
	if _, err := NewPorts(netip.Addr{}, 10000, 10010); !errors.Is(err, ErrInvalid) {
		t.Errorf("no address: %v", err)
	}
}

// On real sockets: a port some other socket holds is skipped, and the
// ports given are even, distinct and in range.
func TestPortsOnLoopback(t *testing.T) {
	blocker, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	busy := int(blocker.LocalAddr().(*net.UDPAddr).Port)
	first := busy &^ 1
	p, err := NewPorts(loopback, first, first+40)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for range 2 {
		s, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		port := int(s.LocalAddr().Port())
		if port == busy || port%2 != 0 || port < first || port > first+40 || seen[port] {
			t.Fatalf("got port %d (busy %d, range %d-%d, seen %v)", port, busy, first, first+40, seen)
		}
		seen[port] = true
	}
}

// Socket is a Leg's Writer.
var _ Writer = (*Socket)(nil)
