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
	Cores int     `json:"cores"`
	Busy  float64 `json:"busy_pct"`
	// Server is the server's, summed over its processes (the nodes of a
	// cluster).
	Server float64 `json:"server_pct,omitempty"`
	// Servers is the number of server processes Server sums, when more
	// than one.
	Servers int `json:"servers,omitempty"`
	// Peer is the SIP peer's (sipp's), when its process id was given.
	Peer float64 `json:"peer_pct,omitempty"`
	// DB is the database server's: its main process and its children
	// (PostgreSQL's backends and background processes), when the main
	// process's id was given.
	DB         float64 `json:"db_pct,omitempty"`
	Loadgen    float64 `json:"loadgen_pct"`
	Interrupts float64 `json:"interrupts_pct"`
	Other      float64 `json:"other_pct"`
}

// cpuSample is a reading of /proc: the machine's busy and total ticks, and
// the ticks used by sbload, by the server, by the SIP peer and by the
// database.
type cpuSample struct {
	busy, total                         int64
	irq                                 int64
	self, server, peer, db              int64
	servers                             int
	ok, serverKnown, peerKnown, dbKnown bool
}

// sampleCPU reads /proc/stat and /proc/{self,pid}/stat; on systems without
// them the sample is not ok and no usage is reported. The server's ticks
// are the sum of serverPIDs', known only if every one was read; the
// database's are dbPID's process tree (dbTicks). A pid of 0 is not read.
func sampleCPU(serverPIDs []int, peerPID, dbPID int) cpuSample {
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
	if len(serverPIDs) > 0 {
		s.serverKnown, s.servers = true, len(serverPIDs)
		for _, pid := range serverPIDs {
			t, ok := procTicks(strconv.Itoa(pid))
			s.server += t
			s.serverKnown = s.serverKnown && ok
		}
	}
	if peerPID > 0 {
		s.peer, s.peerKnown = procTicks(strconv.Itoa(peerPID))
	}
	if dbPID > 0 {
		s.db, s.dbKnown = dbTicks(dbPID)
	}
	s.ok = true
	return s
}

// dbTicks returns the CPU ticks of the process pid and of its children:
// their own and those of their children that have exited and been waited
// for (cutime and cstime). A child that exits between two samples moves
// its ticks into its parent's cutime and cstime, so the sum stays
// monotonic; PostgreSQL's postmaster waits for its backends.
func dbTicks(pid int) (int64, bool) {
	total, ok := procTicksAll(strconv.Itoa(pid))
	if !ok {
		return 0, false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	parent := strconv.Itoa(pid)
	for _, e := range entries {
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // gone meanwhile: its ticks went to its parent
		}
		if f := statFields(b); len(f) > 1 && f[1] == parent {
			if t, ok := ticksOf(f, true); ok {
				total += t
			}
		}
	}
	return total, true
}

// procTicks returns utime+stime of /proc/{pid}/stat.
func procTicks(pid string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	return ticksOf(statFields(b), false)
}

// procTicksAll returns utime+stime+cutime+cstime of /proc/{pid}/stat.
func procTicksAll(pid string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	return ticksOf(statFields(b), true)
}

// statFields returns the fields of a /proc/{pid}/stat line after the
// command name: the state is the first, the parent's pid the second.
func statFields(b []byte) []string {
	// The command name, in parentheses, may contain spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// ticksOf returns utime+stime of statFields' fields, and with children
// cutime+cstime too.
func ticksOf(f []string, children bool) (int64, bool) {
	n := 13
	if children {
		n = 15
	}
	if len(f) < n {
		return 0, false
	}
	var sum int64
	for _, v := range f[11:n] {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		sum += t
	}
	return sum, true
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
		if b.servers > 1 {
			u.Servers = b.servers
		}
	}
	if a.peerKnown && b.peerKnown {
		u.Peer = pct(b.peer - a.peer)
	}
	if a.dbKnown && b.dbKnown {
		u.DB = pct(b.db - a.db)
	}
	u.Other = round3(max(0, u.Busy-u.Server-u.Peer-u.DB-u.Loadgen-u.Interrupts))
	return u
}
