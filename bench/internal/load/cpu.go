package load

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// CPUUsage is where the machine's CPU time went during the measured window,
// in percent of one core (so 200 is two cores fully busy). Interrupts is
// the kernel's interrupt and softirq time, mostly loopback networking that
// no process is charged for. Other is the rest of the busy time: on a
// shared machine, someone else's work, which the throughput figures then
// understate.
type CPUUsage struct {
	Cores  int     `json:"cores"`
	Busy   float64 `json:"busy_pct"`
	Server float64 `json:"server_pct,omitempty"`
	// Peer is the SIP peer's (sipp's), when its process id was given.
	Peer       float64 `json:"peer_pct,omitempty"`
	Loadgen    float64 `json:"loadgen_pct"`
	Interrupts float64 `json:"interrupts_pct"`
	Other      float64 `json:"other_pct"`
}

// cpuSample is a reading of /proc: the machine's busy and total ticks, and
// the ticks used by sbload, by the server and by the SIP peer.
type cpuSample struct {
	busy, total                int64
	irq                        int64
	self, server, peer         int64
	ok, serverKnown, peerKnown bool
}

// sampleCPU reads /proc/stat and /proc/{self,pid}/stat; on systems without
// them the sample is not ok and no usage is reported. A pid of 0 is not
// read.
func sampleCPU(serverPID, peerPID int) cpuSample {
	var s cpuSample
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return s
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest time is already counted in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		s.total += n
		switch i {
		case 3, 4: // idle, iowait
		case 5, 6: // irq, softirq
			s.irq += n
			s.busy += n
		default:
			s.busy += n
		}
	}
	var ok bool
	if s.self, ok = procTicks("self"); !ok {
		return s
	}
	if serverPID > 0 {
		s.server, s.serverKnown = procTicks(strconv.Itoa(serverPID))
	}
	if peerPID > 0 {
		s.peer, s.peerKnown = procTicks(strconv.Itoa(peerPID))
	}
	s.ok = true
	return s
}

// procTicks returns utime+stime of /proc/{pid}/stat.
func procTicks(pid string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may contain spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	return u + st, err1 == nil && err2 == nil
}

// usage turns two samples into a CPUUsage; nil if either is not ok.
func usage(a, b cpuSample, cores int) *CPUUsage {
	total := b.total - a.total
	if !a.ok || !b.ok || total <= 0 || cores < 1 {
		return nil
	}
	pct := func(ticks int64) float64 {
		return round3(float64(ticks) / float64(total) * float64(cores) * 100)
	}
	u := &CPUUsage{Cores: cores, Busy: pct(b.busy - a.busy), Loadgen: pct(b.self - a.self), Interrupts: pct(b.irq - a.irq)}
	if a.serverKnown && b.serverKnown {
		u.Server = pct(b.server - a.server)
	}
	if a.peerKnown && b.peerKnown {
		u.Peer = pct(b.peer - a.peer)
	}
	u.Other = round3(max(0, u.Busy-u.Server-u.Peer-u.Loadgen-u.Interrupts))
	return u
}
