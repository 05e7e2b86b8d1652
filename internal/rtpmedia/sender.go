package rtpmedia

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// ErrSendQueueFull is what a Sender's writer returns for a packet it drops
// because its queue is full.
var ErrSendQueueFull = errors.New("rtpmedia: send queue full")

// Sender moves the sending of packets off the media engine's goroutine:
// a leg's Hear, called from the engine's tick, only copies its packet into
// a bounded queue, and a few goroutines of the Sender make the system
// calls, on the other cores, while the engine computes the next legs. A
// packet that finds the queue full is dropped (and counted): a late RTP
// packet is worth nothing. Create it with NewSender and Close it once no
// leg sends through it any more.
type Sender struct {
	queue   chan outPacket
	done    chan struct{}
	wg      sync.WaitGroup
	dropped atomic.Uint64
	bufs    sync.Pool
}

type outPacket struct {
	w   Writer
	buf *[]byte
	to  netip.AddrPort
}

// NewSender starts workers goroutines sending from a queue of queue
// packets.
func NewSender(workers, queue int) *Sender {
	s := &Sender{queue: make(chan outPacket, queue), done: make(chan struct{})}
	s.bufs.New = func() any { b := make([]byte, 0, maxDatagram); return &b }
	for range workers {
		s.wg.Add(1)
		go s.run()
	}
	return s
}

func (s *Sender) run() {
	defer s.wg.Done()
	for {
		select {
		case p := <-s.queue:
			_ = p.w.WriteTo(*p.buf, p.to) // a lost datagram is RTP's lot
			s.bufs.Put(p.buf)
		case <-s.done:
			return
		}
	}
}

// Writer returns a Writer that queues packets for w.
func (s *Sender) Writer(w Writer) Writer { return queued{s, w} }

// Dropped counts the packets dropped because the queue was full.
func (s *Sender) Dropped() uint64 { return s.dropped.Load() }

// Close stops the workers; packets still queued are not sent, and later
// writes are dropped.
func (s *Sender) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.wg.Wait()
}

type queued struct {
	s *Sender
	w Writer
}

// WriteTo copies b into the queue, or drops it when the queue is full or
// the Sender closed.
func (q queued) WriteTo(b []byte, to netip.AddrPort) error {
	buf := q.s.bufs.Get().(*[]byte)
	*buf = append((*buf)[:0], b...)
	select {
	case <-q.s.done:
		q.s.bufs.Put(buf)
		return ErrSendQueueFull
	default:
	}
	select {
	case q.s.queue <- outPacket{w: q.w, buf: buf, to: to}:
		return nil
	default:
		q.s.bufs.Put(buf)
		q.s.dropped.Add(1)
		return ErrSendQueueFull
	}
}
