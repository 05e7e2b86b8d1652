package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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
	TargetGetRatio        = 0.5
	TargetCreatesPerSec   = 2000
	TargetEstablishedP99  = 10.0 // milliseconds, from the 201
	targetEstablishedMode = ModeEstablished
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
			if c.Other > NoisyOther {
				cpu += " *"
				noisy = true
			}
			if r.RPS > 0 && c.Server > 0 {
				perOp = fmt.Sprintf("%.0f", ServerMicrosPerOp(r))
			}
		}
		fmt.Fprintf(w, "%-24s %-11s %-10s %10.0f %9.3f %9.3f %9.3f %9.3f %9s  %-17s %s\n", r.Label, r.Mode, load, r.RPS, l.P50, l.P95, l.P99, l.Max, perOp, cpu, errs)
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
	fmt.Fprintln(w, "cpu: percent of one core used by the server / sbload / other processes in the measured window")
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
		case r.Mode == targetEstablishedMode && r.Established != nil:
			e := r.Established
			fmt.Fprintf(w, "established p99 (%s): %.3f ms from 201, %.3f ms from send (target < %.0f ms): %s\n",
				r.Label, e.From201.P99, e.FromSend.P99, TargetEstablishedP99, verdict(e.Missing == 0 && e.From201.N > 0 && e.From201.P99 < TargetEstablishedP99))
		}
	}
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
