package rtpmedia

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// ErrNoPorts: every port of a Ports range is taken.
var ErrNoPorts = errors.New("rtpmedia: no free RTP port")

// Receiver takes the packets a Socket reads. Leg is one.
type Receiver interface {
	// Receive is called on the Socket's goroutine for each datagram; b is
	// reused after it returns.
	Receive(b []byte, from netip.AddrPort)
}

// maxDatagram is the read buffer: any RTP packet on an Ethernet path fits,
// and a longer datagram is cut and then fails to parse or is dropped as too
// long.
const maxDatagram = 2048

// Socket is the UDP socket of one RTP leg: Start reads its datagrams on a
// goroutine of its own into a Receiver, WriteTo sends (it is the leg's
// Writer). It is safe for concurrent use.
type Socket struct {
	conn    *net.UDPConn
	release func()

	startOnce sync.Once
	closeOnce sync.Once
	done      chan struct{}
	closeErr  error
}

// Listen opens a Socket on addr; port 0 lets the system choose.
func Listen(addr netip.AddrPort) (*Socket, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	return newSocket(conn, nil), nil
}

func newSocket(conn *net.UDPConn, release func()) *Socket {
	return &Socket{conn: conn, release: release, done: make(chan struct{})}
}

// LocalAddr returns the address the socket is bound to.
func (s *Socket) LocalAddr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Start starts reading datagrams into r, until Close. Later calls do
// nothing.
func (s *Socket) Start(r Receiver) {
	s.startOnce.Do(func() { go s.read(r) })
}

func (s *Socket) read(r Receiver) {
	defer close(s.done)
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// ICMP errors reported on the socket and the like concern a
			// packet sent earlier, not the socket: keep reading.
			continue
		}
		r.Receive(buf[:n], from)
	}
}

// WriteTo sends one datagram.
func (s *Socket) WriteTo(b []byte, to netip.AddrPort) error {
	_, err := s.conn.WriteToUDPAddrPort(b, to)
	return err
}

// Close closes the socket, waits for Start's goroutine to end (so the
// Receiver gets nothing more once Close returns; do not call it from
// Receive) and gives the port back to its Ports. Later calls return the
// first one's result.
func (s *Socket) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.conn.Close()
		started := true
		s.startOnce.Do(func() { started = false })
		if started {
			<-s.done
		}
		if s.release != nil {
			s.release()
		}
	})
	return s.closeErr
}

// Ports hands out RTP sockets on the even ports of a range (RTP takes the
// even port, RTCP the odd one above it, RFC 3550 §11). It remembers which
// ports its Sockets hold and skips them; a port another process holds is
// found busy at bind time and skipped too. It starts each search after
// the port it gave last, so a port just given back rests before it is used
// again (late packets of the old call die there). Safe for concurrent use.
type Ports struct {
	addr     netip.Addr
	min, max int // even

	mu   sync.Mutex
	next int
	used map[int]bool

	listen func(netip.AddrPort) (*net.UDPConn, error)
}

// NewPorts returns the allocator of the even ports from first to last on
// addr (an unspecified address binds every interface). It fails with
// ErrInvalid when the range holds no even port or leaves 1-65535.
func NewPorts(addr netip.Addr, first, last int) (*Ports, error) {
	lo, hi := first+first%2, last-last%2
	if first < 1 || last > 65535 || lo > hi || !addr.IsValid() {
		return nil, fmt.Errorf("%w: RTP ports %d-%d on %v", ErrInvalid, first, last, addr)
	}
	return &Ports{addr: addr, min: lo, max: hi, next: lo, used: make(map[int]bool), listen: listenUDP}, nil
}

func listenUDP(a netip.AddrPort) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
}

// Listen opens a Socket on the next free even port; its Close gives the
// port back. It fails with ErrNoPorts when every port is taken, and with
// the system's error when binding fails for another reason than the port
// being in use.
func (p *Ports) Listen() (*Socket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.max-p.min)/2 + 1
	for range n {
		port := p.next
		if p.next += 2; p.next > p.max {
			p.next = p.min
		}
		if p.used[port] {
			continue
		}
		conn, err := p.listen(netip.AddrPortFrom(p.addr, uint16(port)))
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p.used[port] = true
		return newSocket(conn, func() { p.free(port) }), nil
	}
	return nil, fmt.Errorf("%w: all %d even ports of %d-%d are taken", ErrNoPorts, n, p.min, p.max)
}

func (p *Ports) free(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, port)
}

// InUse reports how many ports the allocator's Sockets hold.
func (p *Ports) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}
