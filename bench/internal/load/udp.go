package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// UDPTraffic is the machine's UDP over IPv4 during the measured window, from
// the kernel's counters (/proc/net/snmp) at both ends. On loopback, where
// sip-out mode's RTP flows, a datagram is lost only by the kernel, and the
// kernel counts it: a full receive buffer (a reader that fell behind), a
// full send buffer, or a closed port. The counters are the machine's, not
// the server's: other processes' UDP is in them too.
type UDPTraffic struct {
	// InPerSec and OutPerSec are datagrams delivered to sockets and sent,
	// per second.
	InPerSec  float64 `json:"in_per_s"`
	OutPerSec float64 `json:"out_per_s"`
	// RcvbufErrors counts datagrams dropped because the receiving socket's
	// buffer was full, InErrors those dropped on receipt for any reason
	// (RcvbufErrors included), NoPorts those sent to a port nobody
	// listened on, and SndbufErrors those that could not be sent.
	InErrors     int64 `json:"in_errors"`
	RcvbufErrors int64 `json:"rcvbuf_errors"`
	NoPorts      int64 `json:"no_ports"`
	SndbufErrors int64 `json:"sndbuf_errors"`
	// LossPct is the datagrams lost (InErrors, NoPorts and SndbufErrors)
	// in percent of those sent or attempted (OutDatagrams and SndbufErrors).
	LossPct float64 `json:"loss_pct"`
}

// udpCounters is one reading of the Udp line of /proc/net/snmp.
type udpCounters map[string]int64

// readUDP reads /proc/net/snmp.
func readUDP() (udpCounters, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return nil, err
	}
	return parseSNMP(b, "Udp")
}

// parseSNMP reads the counters of protocol proto from the text of
// /proc/net/snmp, where each protocol has a line of names ("Udp: InDatagrams
// NoPorts ...") followed by a line of values ("Udp: 15665 62 ...").
func parseSNMP(b []byte, proto string) (udpCounters, error) {
	prefix := proto + ":"
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != prefix {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		if len(f)-1 != len(names) {
			return nil, fmt.Errorf("load: /proc/net/snmp: %d %s names but %d values", len(names), proto, len(f)-1)
		}
		c := make(udpCounters, len(names))
		for i, name := range names {
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("load: /proc/net/snmp: %s %s: %w", proto, name, err)
			}
			c[name] = n
		}
		for _, need := range []string{"InDatagrams", "OutDatagrams", "InErrors", "NoPorts", "RcvbufErrors", "SndbufErrors"} {
			if _, ok := c[need]; !ok {
				return nil, fmt.Errorf("load: /proc/net/snmp: no %s %s", proto, need)
			}
		}
		return c, nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("load: /proc/net/snmp: no " + proto + " counters")
}

// udpTraffic turns the readings at both ends of a window of seconds into a
// UDPTraffic.
func udpTraffic(a, b udpCounters, seconds float64) *UDPTraffic {
	d := func(name string) int64 { return b[name] - a[name] }
	t := &UDPTraffic{InErrors: d("InErrors"), RcvbufErrors: d("RcvbufErrors"), NoPorts: d("NoPorts"), SndbufErrors: d("SndbufErrors")}
	if seconds > 0 {
		t.InPerSec = round3(float64(d("InDatagrams")) / seconds)
		t.OutPerSec = round3(float64(d("OutDatagrams")) / seconds)
	}
	if sent := d("OutDatagrams") + t.SndbufErrors; sent > 0 {
		t.LossPct = round3(100 * float64(t.InErrors+t.NoPorts+t.SndbufErrors) / float64(sent))
	}
	return t
}

func (t *UDPTraffic) String() string {
	return fmt.Sprintf("%.0f datagrams/s received, %.0f/s sent; lost %.3f%% (%d receive errors, %d of them full buffers; %d to closed ports; %d send errors)",
		t.InPerSec, t.OutPerSec, t.LossPct, t.InErrors, t.RcvbufErrors, t.NoPorts, t.SndbufErrors)
}
