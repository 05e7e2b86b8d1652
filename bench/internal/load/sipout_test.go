package load

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// snmp is /proc/net/snmp as Linux 6.x writes it, cut to the lines that
// matter here (Udp's, and UdpLite's, which must not be taken for them).
const snmp = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 1000
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 15665 62 7 23310 5 1 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 1 2 3 4 5 6 7 8 9
`

func TestParseSNMP(t *testing.T) {
	c, err := parseSNMP([]byte(snmp), "Udp")
	if err != nil {
		t.Fatal(err)
	}
	want := udpCounters{"InDatagrams": 15665, "NoPorts": 62, "InErrors": 7, "OutDatagrams": 23310, "RcvbufErrors": 5, "SndbufErrors": 1, "InCsumErrors": 0, "IgnoredMulti": 0, "MemErrors": 0}
	if len(c) != len(want) {
		t.Errorf("parseSNMP = %v, want %v", c, want)
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %d, want %d", k, c[k], v)
		}
	}
	for _, tt := range []struct{ name, text, err string }{
		{"no Udp", "Ip: Forwarding\nIp: 1\n", "no Udp counters"},
		{"names only", "Udp: InDatagrams NoPorts\n", "no Udp counters"},
		{"fewer values", "Udp: InDatagrams NoPorts\nUdp: 1\n", "2 Udp names but 1 values"},
		{"not a number", "Udp: InDatagrams NoPorts\nUdp: 1 x\n", "NoPorts"},
		{"a counter missing", "Udp: InDatagrams NoPorts\nUdp: 1 2\n", "no Udp OutDatagrams"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseSNMP([]byte(tt.text), "Udp"); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseSNMP: %v, want an error with %q", err, tt.err)
			}
		})
	}
	if _, err := os.Stat("/proc/net/snmp"); err == nil {
		if c, err := readUDP(); err != nil || c["OutDatagrams"] < 0 {
			t.Errorf("readUDP = %v, %v", c, err)
		}
	}
}

func FuzzParseSNMP(f *testing.F) {
	f.Add([]byte(snmp))
	f.Add([]byte("Udp: InDatagrams\nUdp: -1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseSNMP(b, "Udp")
		if err == nil && (c == nil || len(c) < 6) {
			t.Errorf("parseSNMP(%q) = %v with no error", b, c)
		}
	})
}

func TestUDPTraffic(t *testing.T) {
	a := udpCounters{"InDatagrams": 1000, "OutDatagrams": 1000, "InErrors": 1, "RcvbufErrors": 1, "NoPorts": 0, "SndbufErrors": 0}
	// Over 2 s: 100,000 sent and 9 could not be, 99,980 delivered, 15
	// dropped on receipt (10 of them full buffers) and 5 to closed ports.
	b := udpCounters{"InDatagrams": 100980, "OutDatagrams": 101000, "InErrors": 16, "RcvbufErrors": 11, "NoPorts": 5, "SndbufErrors": 9}
	got := udpTraffic(a, b, 2)
	want := UDPTraffic{InPerSec: 49990, OutPerSec: 50000, InErrors: 15, RcvbufErrors: 10, NoPorts: 5, SndbufErrors: 9, LossPct: round3(100 * 29.0 / 100009)}
	if *got != want {
		t.Errorf("udpTraffic = %+v, want %+v", *got, want)
	}
	if got := udpTraffic(a, a, 0); *got != (UDPTraffic{}) {
		t.Errorf("udpTraffic of nothing = %+v, want zeros", *got)
	}
}

func TestPlacement(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	calls := []placed{
		{id: "a", sent: ms(0), at201: ms(2)},
		{id: "b", sent: ms(10), at201: ms(12)},
		{id: "c", sent: ms(20), at201: ms(22)},
		{id: "d", sent: ms(30), at201: ms(32)},
	}
	// a, b and c are established (c last, 50 ms after a was sent); b is
	// then terminated; d never answered. Five were asked for, so one create
	// failed too.
	est := map[string]time.Time{"a": ms(5), "b": ms(20), "c": ms(50)}
	p := &Placement{}
	p.fill(calls, est)
	if p.Established != 3 || p.CallsPerSec != 60 {
		t.Errorf("fill: %d established at %v calls/s, want 3 at 60", p.Established, p.CallsPerSec)
	}
	if want := (Percentiles{N: 3, P50: 10, P95: 30, P99: 30, Max: 30, Mean: 15, Min: 5}); p.FromSend != want {
		t.Errorf("from send %+v, want %+v", p.FromSend, want)
	}
	if want := (Percentiles{N: 3, P50: 8, P95: 28, P99: 28, Max: 28, Mean: 13, Min: 3}); p.From201 != want {
		t.Errorf("from 201 %+v, want %+v", p.From201, want)
	}
	p.settle(5, []string{"a", "b", "c", "d"}, est, map[string]bool{"b": true, "other": true}, "terminated: 486/0 busy")
	if p.Terminated != 1 || p.Failed != 3 || p.Failure != "terminated: 486/0 busy" {
		t.Errorf("settle: %d terminated, %d failed (%q); want 1 and 3 (b; d; the refused create)", p.Terminated, p.Failed, p.Failure)
	}
	empty := &Placement{}
	empty.fill(calls, nil)
	if empty.Established != 0 || empty.CallsPerSec != 0 || empty.FromSend.N != 0 {
		t.Errorf("fill with nothing established: %+v", empty)
	}
}

func TestSIPVerdict(t *testing.T) {
	run := func(calls, failed, ended int, cps float64, skipped float64, loss float64, started int) *Result {
		return &Result{Label: "sip-out", Mode: ModeSIPOut, CPU: &CPUUsage{Cores: 2, Server: 120, Peer: 60},
			Held: &Held{Calls: calls, Established: calls - failed, Operation: operationName, Started: started, EndedInWindow: ended,
				Placement: &Placement{Callee: "u", CallsPerSec: cps, Failed: failed, FromSend: Percentiles{P99: 42}},
				Engine:    &Engine{SkippedFrames: &skipped}, UDP: &UDPTraffic{LossPct: loss}}}
	}
	tests := []struct {
		name string
		r    *Result
		want string
	}{
		{"met", run(1000, 0, 0, 100.2, 0, 0.01, 1000), "1000 calls up through the window, 100.2 calls/s set up (target ≥ 100), setup p99 42.0 ms, 1000 with a recordResponse running, 0 skipped frames (target 0), 0.010% of UDP datagrams lost (target < 1%), server 120%, SIP peer 60% of a core: MET"},
		{"slow set-up", run(1000, 0, 0, 80, 0, 0, 1000), ": MISSED (calls/s)"},
		{"loss and skips", run(1000, 0, 0, 100, 3, 2.5, 1000), ": MISSED (real time, loss)"},
		{"missed with fewer calls", run(500, 0, 0, 100, 0, 1, 500), ": MISSED (loss), already with 500 of the target's 1000 calls"},
		{"failures", run(1000, 10, 5, 100, 0, 0, 990), "985 calls up through the window, 10 failed and 5 ended during it, 100.0 calls/s set up (target ≥ 100), setup p99 42.0 ms, 990 with a recordResponse running, 0 skipped frames (target 0), 0.000% of UDP datagrams lost (target < 1%), server 120%, SIP peer 60% of a core: NOT SHOWN: 985 calls, the target is for 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sipVerdict(tt.r); !strings.HasSuffix(got, tt.want) {
				t.Errorf("verdict\n  %s\nwant it to end with\n  %s", got, tt.want)
			}
		})
	}
	r := run(1000, 0, 0, 100, 0, 0, 1000)
	r.Held.Operation, r.Held.UDP, r.Held.Engine = "", nil, nil
	if got, want := sipVerdict(r), "NOT SHOWN: no prompt or recorder ran (-no-media); no engine metrics; no UDP counters"; !strings.HasSuffix(got, want) {
		t.Errorf("verdict without figures\n  %s\nwant it to end with\n  %s", got, want)
	}
	var out bytes.Buffer
	Report(&out, []*Result{run(1000, 0, 0, 100, 0, 0, 1000)})
	for _, want := range []string{"↳ set-up:     1000 calls to u at 0/s asked", "↳ udp:        0 datagrams/s received", "calls out (sip-out, to u): 1000 calls up"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSIPOutConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{"no rate", func(c *Config) { c.Rate = 0 }, "-rate"},
		{"no callee", func(c *Config) { c.Callee = " " }, "-callee"},
		{"callee in another mode", func(c *Config) { c.Mode = ModeMedia }, "-callee is for sip-out and failover mode"},
		{"no server pid", func(c *Config) { c.ServerPIDs = nil }, "-server-pid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quick(ModeSIPOut, "http://127.0.0.1:9")
			cfg.Rate, cfg.Callee, cfg.ServerPIDs = 100, "u", []int{1}
			tt.edit(&cfg)
			if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("validate: %v, want an error with %q", err, tt.err)
			}
		})
	}
	if DefaultCalls(ModeSIPOut) != TargetSIPLegs {
		t.Errorf("DefaultCalls(sip-out) = %d, want %d", DefaultCalls(ModeSIPOut), TargetSIPLegs)
	}
}

// TestSIPOut runs sip-out mode end to end against fakeGraph, which fails
// every fifth call to flakyCallee, with sbload's own process standing in
// for the server's and the SIP peer's.
func TestSIPOut(t *testing.T) {
	if _, err := os.Stat("/proc/net/snmp"); err != nil {
		t.Skip("no /proc")
	}
	srv := fakeGraph(t)
	cfg := quick(ModeSIPOut, srv.URL)
	cfg.Token, cfg.ServerPIDs, cfg.PeerPID, cfg.MetricsURL = NoToken, []int{os.Getpid()}, os.Getpid(), srv.URL+"/metrics"
	cfg.Callee, cfg.Rate, cfg.EstablishWait = flakyCallee, 1000, 10*time.Second
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := res.Held
	if h == nil || h.Placement == nil {
		t.Fatalf("result %+v: no placement", res)
	}
	p := h.Placement
	if p.Created != 10 || p.Established != 8 || p.Terminated != 2 || p.Failed != 2 || p.Failure != "terminated: 486/0 busy" || p.CreateErrors != nil {
		t.Errorf("placement %+v; want 10 created, 8 established, 2 terminated (486) and failed", p)
	}
	if p.FromSend.N != 8 || p.CallsPerSec <= 0 || p.Callee != flakyCallee || p.Rate != 1000 {
		t.Errorf("placement %+v; want 8 latencies and a rate", p)
	}
	if h.Calls != 10 || h.Established != 8 || h.Started != 8 || h.UDP == nil || h.Engine == nil || h.Memory == nil || res.CPU == nil {
		t.Errorf("held %+v, cpu %+v; want 8 of 10 calls with a recordResponse, and UDP, engine, memory and CPU figures", h, res.CPU)
	}
}

func TestPhoneRTP(t *testing.T) {
	before, err := parseMetrics(strings.NewReader("# TYPE switchboard_sip_rtp_packets_received_total counter\nswitchboard_sip_rtp_packets_received_total 1000\n" +
		"# TYPE switchboard_sip_rtp_packets_sent_total counter\nswitchboard_sip_rtp_packets_sent_total 1000\n" +
		"# TYPE switchboard_sip_rtp_packets_lost_total counter\nswitchboard_sip_rtp_packets_lost_total 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseMetrics(strings.NewReader("# TYPE switchboard_sip_dialogs gauge\nswitchboard_sip_dialogs 1000\n" +
		"# TYPE switchboard_sip_rtp_packets_received_total counter\nswitchboard_sip_rtp_packets_received_total 500000\n" +
		"# TYPE switchboard_sip_rtp_packets_sent_total counter\nswitchboard_sip_rtp_packets_sent_total 501000\n" +
		"# TYPE switchboard_sip_rtp_packets_lost_total counter\nswitchboard_sip_rtp_packets_lost_total 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := phoneRTP(before, after)
	if p == nil || p.Dialogs == nil || *p.Dialogs != 1000 || *p.Received != 499000 || *p.Sent != 500000 || *p.Lost != 1000 || *p.LossPct != 0.2 {
		t.Fatalf("phoneRTP = %v, want 1000 dialogs, 499000 received, 500000 sent, 1000 lost (0.2%%)", p)
	}
	if got, want := p.String(), "1000 SIP dialogs, 499000 packets received from phones, 500000 sent, 1000 lost, (0.200%)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if p := phoneRTP(scrape{}, scrape{metricFrames: 1}); p != nil {
		t.Errorf("phoneRTP without SIP families = %v, want nil", p)
	}
	// The server's view of loss counts against the target as the kernel's does.
	r := &Result{Mode: ModeSIPOut, Held: &Held{Calls: 1000, Operation: operationName, Started: 1000,
		Placement: &Placement{CallsPerSec: 100}, Engine: &Engine{SkippedFrames: f64(0)}, UDP: &UDPTraffic{},
		RTP: &PhoneRTP{LossPct: f64(1.5)}}}
	if got, want := sipVerdict(r), "1.500% of the phones' RTP lost as the server saw it (target < 1%): MISSED (loss)"; !strings.HasSuffix(got, want) {
		t.Errorf("verdict\n  %s\nwant it to end with\n  %s", got, want)
	}
}
