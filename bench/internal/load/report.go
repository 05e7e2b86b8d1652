package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Labels that Report treats specially: the GET ratio is
// LabelGet / LabelBaselineGet.
const (
	LabelBaselineGet = "baseline-get"
	LabelGet         = "switchboard-get"
)

// Targets are the performance targets of docs/performance.md.
const (
	TargetGetRatio        = 0.7
	TargetCreatesPerSec   = 2000
	TargetListPagesPerSec = 2000 // first pages of 100, with CALLS live calls
	TargetEstablishedP99  = 10.0 // milliseconds, from the 201
	targetEstablishedMode = ModeEstablished

	// TargetIdleCalls established calls with nothing happening cost less
	// than TargetIdleCPU percent of one core and TargetIdleRSS MB of
	// resident memory.
	TargetIdleCalls = 10000
	TargetIdleCPU   = 5.0
	TargetIdleRSS   = 200.0
	// TargetMediaCalls calls, each playing a prompt and then recording,
	// keep the media engine in real time (no skipped frames) on less than
	// TargetMediaCPU percent of one core.
	TargetMediaCalls = 1000
	TargetMediaCPU   = 100.0
	// TargetSIPLegs SIP legs, each with a prompt playing and then a
	// recorder running, are held with less than TargetSIPLossPct percent
	// of the RTP lost and the media engine in real time, after being set
	// up at TargetSIPCallsPerSec or more.
	TargetSIPLegs        = 1000
	TargetSIPCallsPerSec = 100.0
	TargetSIPLossPct     = 1.0
)

// ReadResults reads the JSON lines that Run's results were printed as;
// other lines are skipped.
func ReadResults(r io.Reader) ([]*Result, error) {
	var out []*Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("load: results: %w", err)
		}
		out = append(out, &res)
	}
	return out, sc.Err()
}

// NoisyOther is the CPU share of other processes, in percent of one core,
// above which Report marks a run as disturbed.
const NoisyOther = 25

// Report writes the results as a table, the GET/baseline ratio and the
// verdict on each target.
func Report(w io.Writer, results []*Result) {
	fmt.Fprintf(w, "%-24s %-11s %-10s %10s %9s %9s %9s %9s %9s  %-17s %s\n", "run", "mode", "load", "ok/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "srv µs/op", "cpu srv/gen/oth", "errors")
	byLabel := make(map[string]*Result)
	noisy := false
	for _, r := range results {
		byLabel[r.Label] = r
		load := fmt.Sprintf("c=%d", r.Concurrency)
		if r.Rate > 0 {
			load = fmt.Sprintf("%.0f/s", r.Rate)
		}
		errs := "-"
		if len(r.Errors) > 0 {
			errs = formatErrors(r.Errors)
		}
		l := r.Latency
		cpu, perOp := "-", "-"
		if c := r.CPU; c != nil {
			cpu = fmt.Sprintf("%.0f/%.0f/%.0f%%", c.Server, c.Loadgen, c.Other)
			if c.Server < 10 {
				cpu = fmt.Sprintf("%.1f/%.0f/%.0f%%", c.Server, c.Loadgen, c.Other)
			}
			if c.Other > NoisyOther {
				cpu += " *"
				noisy = true
			}
			if r.RPS > 0 && c.Server > 0 {
				perOp = fmt.Sprintf("%.0f", ServerMicrosPerOp(r))
			}
		}
		if f := r.Failover; f != nil {
			fmt.Fprintf(w, "%-24s %-11s %-10s %10s %9s %9s %9s %9s %9s  %-17s %s\n", r.Label, r.Mode, fmt.Sprintf("n=%d", f.Calls), "-", "-", "-", "-", "-", "-", "-", errs)
			for _, line := range f.details() {
				fmt.Fprintf(w, "  ↳ %s\n", line)
			}
			continue
		}
		if h := r.Held; h != nil {
			// No requests in the window: the figures are CPU, memory and
			// the engine's, on the lines below.
			fmt.Fprintf(w, "%-24s %-11s %-10s %10s %9s %9s %9s %9s %9s  %-17s %s\n", r.Label, r.Mode, fmt.Sprintf("n=%d", h.Calls), "-", "-", "-", "-", "-", "-", cpu, errs)
			for _, line := range h.details() {
				fmt.Fprintf(w, "  ↳ %s\n", line)
			}
			continue
		}
		fmt.Fprintf(w, "%-24s %-11s %-10s %10.0f %9.3f %9.3f %9.3f %9.3f %9s  %-17s %s\n", r.Label, r.Mode, load, r.RPS, l.P50, l.P95, l.P99, l.Max, perOp, cpu, errs)
		if c := r.CPU; c != nil && (c.Servers > 1 || c.DB > 0) {
			line := fmt.Sprintf("  ↳ server: %d processes", max(1, c.Servers))
			if c.DB > 0 {
				line += fmt.Sprintf("; database %.0f%% of a core", c.DB)
				if r.RPS > 0 {
					line += fmt.Sprintf(", %.0f µs/op", DBMicrosPerOp(r))
				}
			}
			fmt.Fprintln(w, line)
		}
		if line := r.countersLine(); line != "" {
			fmt.Fprintf(w, "  ↳ counters: %s\n", line)
		}
		if e := r.Established; e != nil {
			for _, row := range []struct {
				name string
				p    Percentiles
			}{{"  ↳ est. from 201", e.From201}, {"  ↳ est. from send", e.FromSend}} {
				fmt.Fprintf(w, "%-47s %-10s %9.3f %9.3f %9.3f %9.3f  %d/%d established\n", row.name, "", row.p.P50, row.p.P95, row.p.P99, row.p.Max, e.Established, e.Created)
			}
		}
	}
	fmt.Fprintln(w, "srv µs/op: server CPU time per successful request, which other processes on the machine disturb far less than ok/s")
	fmt.Fprintln(w, "cpu: percent of one core used by the server (all its processes) / sbload / other processes in the measured window")
	fmt.Fprintln(w, "     (a database whose process was given is in neither: see its ↳ line)")
	fmt.Fprintln(w, "     (kernel interrupt time, mostly loopback networking, is in neither; see the JSON)")
	if noisy {
		fmt.Fprintf(w, "*: other processes used more than %d%% of a core: that run's ok/s and latencies understate the server\n", NoisyOther)
	}
	fmt.Fprintln(w)
	if b, g := byLabel[LabelBaselineGet], byLabel[LabelGet]; b != nil && g != nil && b.RPS > 0 {
		ratio := g.RPS / b.RPS
		fmt.Fprintf(w, "GET / baseline:          %.0f / %.0f = %.3f× (target ≥ %.2f×): %s\n", g.RPS, b.RPS, ratio, TargetGetRatio, verdict(ratio >= TargetGetRatio))
	}
	for _, r := range results {
		switch {
		case r.Mode == ModeCreate:
			fmt.Fprintf(w, "creates/s (%s):  %.0f (target ≥ %d): %s\n", r.Label, r.RPS, TargetCreatesPerSec, verdict(r.RPS >= TargetCreatesPerSec && len(r.Errors) == 0))
		case r.Mode == ModeList:
			fmt.Fprintf(w, "list pages/s (%s): %.0f (target ≥ %d): %s\n", r.Label, r.RPS, TargetListPagesPerSec, verdict(r.RPS >= TargetListPagesPerSec && len(r.Errors) == 0))
		case r.Mode == targetEstablishedMode && r.Established != nil:
			e := r.Established
			fmt.Fprintf(w, "established p99 (%s): %.3f ms from 201, %.3f ms from send (target < %.0f ms): %s\n",
				r.Label, e.From201.P99, e.FromSend.P99, TargetEstablishedP99, verdict(e.Missing == 0 && e.From201.N > 0 && e.From201.P99 < TargetEstablishedP99))
		case r.Mode == ModeIdle && r.Held != nil:
			fmt.Fprintf(w, "idle calls (%s): %s\n", r.Label, idleVerdict(r))
		case r.Mode == ModeMedia && r.Held != nil:
			fmt.Fprintf(w, "media load (%s): %s\n", r.Label, mediaVerdict(r))
		case r.Mode == ModeSIPOut && r.Held != nil && r.Held.Placement != nil:
			fmt.Fprintf(w, "calls out (%s, to %s): %s\n", r.Label, r.Held.Placement.Callee, sipVerdict(r))
		case r.Mode == ModeFailover && r.Failover != nil:
			fmt.Fprintf(w, "failover (%s): %s\n", r.Label, r.Failover.verdict())
		case r.Mode == ModeStream && r.Held != nil && r.Held.Stream != nil:
			fmt.Fprintf(w, "streams (%s): %s\n", r.Label, streamVerdict(r))
		}
	}
	for _, line := range streamSummary(results) {
		fmt.Fprintln(w, line)
	}
}

// idleVerdict judges an idle run against the idle-calls target.
func idleVerdict(r *Result) string {
	h := r.Held
	var figures, missed, unknown []string
	figures = append(figures, fmt.Sprintf("%d established calls", h.Established))
	if h.Established < h.Calls {
		unknown = append(unknown, fmt.Sprintf("%d of %d calls were not established", h.Calls-h.Established, h.Calls))
	}
	if c := r.CPU; c != nil {
		figures = append(figures, fmt.Sprintf("server %.1f%% of a core (target < %.0f%%)", c.Server, TargetIdleCPU))
		if c.Server >= TargetIdleCPU {
			missed = append(missed, "CPU")
		}
	} else {
		unknown = append(unknown, "no CPU figures")
	}
	if m := h.Memory; m != nil {
		figures = append(figures, fmt.Sprintf("RSS %.1f MB (target < %.0f MB)", m.RSS, TargetIdleRSS))
		if m.RSS >= TargetIdleRSS {
			missed = append(missed, "RSS")
		}
	} else {
		unknown = append(unknown, "no memory figures")
	}
	return strings.Join(figures, ", ") + ": " + heldVerdict(h.Established, TargetIdleCalls, missed, unknown)
}

// mediaVerdict judges a media run against the media-load target.
func mediaVerdict(r *Result) string {
	h := r.Held
	var figures, missed, unknown []string
	figures = append(figures, fmt.Sprintf("%d calls with a %s running", h.Started-int(h.Ended), h.Operation))
	if h.Established < h.Calls || h.Started < h.Calls {
		unknown = append(unknown, fmt.Sprintf("only %d of %d calls established and %d started", h.Established, h.Calls, h.Started))
	}
	if h.Ended > 0 {
		unknown = append(unknown, fmt.Sprintf("%d operations ended before the window closed", h.Ended))
	}
	if e := h.Engine; e != nil && e.SkippedFrames != nil {
		figures = append(figures, fmt.Sprintf("%.0f skipped frames (target 0)", *e.SkippedFrames))
		if *e.SkippedFrames > 0 {
			missed = append(missed, "real time")
		}
	} else {
		figures = append(figures, "skipped frames unknown")
		note := h.EngineNote
		if note == "" {
			note = "no " + metricSkipped
		}
		unknown = append(unknown, "no engine metrics ("+note+"): CPU only")
	}
	if c := r.CPU; c != nil {
		figures = append(figures, fmt.Sprintf("server %.0f%% of a core (target < %.0f%%)", c.Server, TargetMediaCPU))
		if c.Server >= TargetMediaCPU {
			missed = append(missed, "CPU")
		}
	} else {
		unknown = append(unknown, "no CPU figures")
	}
	loaded := h.Started - int(h.Ended)
	if loaded > h.Established {
		loaded = h.Established
	}
	return strings.Join(figures, ", ") + ": " + heldVerdict(loaded, TargetMediaCalls, missed, unknown)
}

// sipVerdict judges a sip-out run against the SIP targets: the calls set
// up per second, and the legs held with a media operation running, in real
// time and with less than TargetSIPLossPct of the datagrams lost.
func sipVerdict(r *Result) string {
	h, p := r.Held, r.Held.Placement
	var figures, missed, unknown []string
	up := h.Calls - p.Failed - h.EndedInWindow
	figures = append(figures, fmt.Sprintf("%d calls up through the window", up))
	if p.Failed > 0 || h.EndedInWindow > 0 {
		figures = append(figures, fmt.Sprintf("%d failed and %d ended during it", p.Failed, h.EndedInWindow))
	}
	figures = append(figures, fmt.Sprintf("%.1f calls/s set up (target ≥ %.0f), setup p99 %.1f ms", p.CallsPerSec, TargetSIPCallsPerSec, p.FromSend.P99))
	if p.CallsPerSec < TargetSIPCallsPerSec {
		missed = append(missed, "calls/s")
	}
	loaded := up
	if h.Operation != "" {
		loaded = min(up, h.Started-int(h.Ended))
		figures = append(figures, fmt.Sprintf("%d with a %s running", h.Started-int(h.Ended), h.Operation))
		if h.Ended > 0 {
			unknown = append(unknown, fmt.Sprintf("%d operations ended before the window closed", h.Ended))
		}
	} else {
		unknown = append(unknown, "no prompt or recorder ran (-no-media)")
	}
	if e := h.Engine; e != nil && e.SkippedFrames != nil {
		figures = append(figures, fmt.Sprintf("%.0f skipped frames (target 0)", *e.SkippedFrames))
		if *e.SkippedFrames > 0 {
			missed = append(missed, "real time")
		}
	} else {
		unknown = append(unknown, "no engine metrics")
	}
	if u := h.UDP; u != nil {
		figures = append(figures, fmt.Sprintf("%.3f%% of UDP datagrams lost (target < %.0f%%)", u.LossPct, TargetSIPLossPct))
		if u.LossPct >= TargetSIPLossPct {
			missed = append(missed, "loss")
		}
	} else {
		unknown = append(unknown, "no UDP counters")
	}
	if p := h.RTP; p != nil && p.LossPct != nil {
		figures = append(figures, fmt.Sprintf("%.3f%% of the phones' RTP lost as the server saw it (target < %.0f%%)", *p.LossPct, TargetSIPLossPct))
		if *p.LossPct >= TargetSIPLossPct && !slices.Contains(missed, "loss") {
			missed = append(missed, "loss")
		}
	}
	if c := r.CPU; c != nil {
		figures = append(figures, fmt.Sprintf("server %.0f%%, SIP peer %.0f%% of a core", c.Server, c.Peer))
	}
	return strings.Join(figures, ", ") + ": " + heldVerdict(loaded, TargetSIPLegs, missed, unknown)
}

// heldVerdict judges a run that held n calls against a target stated for
// want. What a run costs grows with its calls, so a run with fewer calls
// can show that a target is missed but not that it is met; missed names
// the figures over their targets, unknown what keeps the run from showing
// the target met.
func heldVerdict(n, want int, missed, unknown []string) string {
	switch {
	case len(missed) > 0 && n < want:
		return fmt.Sprintf("MISSED (%s), already with %d of the target's %d calls", strings.Join(missed, ", "), n, want)
	case len(missed) > 0:
		return fmt.Sprintf("MISSED (%s)", strings.Join(missed, ", "))
	case n < want:
		unknown = append(unknown, fmt.Sprintf("%d calls, the target is for %d", n, want))
	}
	if len(unknown) > 0 {
		return "NOT SHOWN: " + strings.Join(unknown, "; ")
	}
	return "MET"
}

// DBMicrosPerOp is the database's CPU time per successful request, in
// microseconds; 0 when unknown.
func DBMicrosPerOp(r *Result) float64 {
	if r.CPU == nil || r.RPS <= 0 {
		return 0
	}
	return r.CPU.DB / 100 / r.RPS * 1e6
}

// ServerMicrosPerOp is the server's CPU time per successful request, in
// microseconds; 0 when unknown.
func ServerMicrosPerOp(r *Result) float64 {
	if r.CPU == nil || r.RPS <= 0 {
		return 0
	}
	return r.CPU.Server / 100 / r.RPS * 1e6
}

func verdict(met bool) string {
	if met {
		return "MET"
	}
	return "MISSED"
}
