package load

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Percentiles summarises a latency sample, in milliseconds. The zero value
// means an empty sample.
type Percentiles struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
	Min  float64 `json:"min_ms"`
}

// Summarize sorts sample in place and returns its percentiles by the
// nearest-rank method. Negative durations are kept as they are.
func Summarize(sample []time.Duration) Percentiles {
	if len(sample) == 0 {
		return Percentiles{}
	}
	slices.Sort(sample)
	var sum float64
	for _, d := range sample {
		sum += ms(d)
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(sample)))) - 1
		return ms(sample[max(0, min(i, len(sample)-1))])
	}
	return Percentiles{
		N: len(sample), P50: rank(50), P95: rank(95), P99: rank(99),
		Max: ms(sample[len(sample)-1]), Min: ms(sample[0]), Mean: round3(sum / float64(len(sample))),
	}
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// round3 keeps microsecond resolution so the JSON stays readable.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// Result is one run of one mode; it is printed as one JSON line.
type Result struct {
	Label       string  `json:"label"`
	Mode        Mode    `json:"mode"`
	Target      string  `json:"target"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate_per_s,omitempty"`
	Warmup      float64 `json:"warmup_s"`
	Duration    float64 `json:"duration_s"` // the measured window, as it turned out
	// Requests counts measured requests; OK those with the expected status.
	Requests int64            `json:"requests"`
	OK       int64            `json:"ok"`
	Errors   map[string]int64 `json:"errors,omitempty"` // by HTTP status, or "transport"
	RPS      float64          `json:"rps"`              // OK / Duration
	Latency  Percentiles      `json:"latency"`          // of every measured request
	// BytesPerResponse is the mean response body size of the OK requests.
	BytesPerResponse float64 `json:"bytes_per_response"`
	// Setup is what was done before the measured window, e.g. "created 1000 calls".
	Setup string `json:"setup,omitempty"`
	// ListItems is the number of items on the first page, in list mode.
	ListItems int `json:"list_items,omitempty"`

	Established *EstablishedStats `json:"established,omitempty"`
	// Held is what idle and media mode measured.
	Held *Held `json:"held,omitempty"`
	// CPU is where the CPU time went during the measured window.
	CPU *CPUUsage `json:"cpu,omitempty"`
	// Counters is how much each counter of Config.WindowCmd grew over the
	// measured window, or CounterNote why there are none.
	Counters    map[string]float64 `json:"counters,omitempty"`
	CounterNote string             `json:"counter_note,omitempty"`
	// Failover is what failover mode measured.
	Failover *Failover `json:"failover,omitempty"`

	// Callbacks counts the notifications sbload's receiver got, during the
	// run and the drain after it; CallbacksDrained says whether they had
	// stopped coming before the drain time ran out.
	Callbacks        int64 `json:"callbacks_received"`
	CallbacksDrained bool  `json:"callbacks_drained"`

	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	Start      time.Time `json:"start"`
}

// EstablishedStats is the create→established measurement.
type EstablishedStats struct {
	// Created counts the measured calls that got a 201.
	Created int `json:"created"`
	// Established counts those whose "established" callback arrived.
	Established int `json:"established"`
	// Missing counts the rest: no established callback within the drain time.
	Missing int `json:"missing"`
	// Before201 counts callbacks that arrived before the 201 was read; their
	// From201 latency is negative.
	Before201 int `json:"callback_before_201"`
	// From201 is callback arrival minus the moment the 201 response's
	// headers were received.
	From201 Percentiles `json:"from_201"`
	// FromSend is callback arrival minus the moment the create request was
	// handed to the HTTP client.
	FromSend Percentiles `json:"from_send"`
	// Dropped counts pacer ticks skipped because every worker was busy.
	Dropped int64 `json:"dropped_ticks,omitempty"`
}

// Held is what idle and media mode measure: calls held open while the
// server is left alone with them, with no request at all during the
// measured window.
type Held struct {
	// Calls counts the calls created; Established those whose
	// "established" callback arrived before the window opened.
	Calls       int `json:"calls"`
	Established int `json:"established"`
	// SetupSeconds is how long creating them, waiting for "established"
	// and, in media mode, starting the operations took.
	SetupSeconds float64 `json:"setup_s"`
	// Memory is the server's resident memory; Engine what its media
	// engine's metrics say, or EngineNote why there are none.
	Memory     *Memory `json:"memory,omitempty"`
	Engine     *Engine `json:"engine,omitempty"`
	EngineNote string  `json:"engine_note,omitempty"`
	// CallbacksInWindow counts the notifications that arrived during the
	// window: none, when nothing happens.
	CallbacksInWindow int64 `json:"callbacks_in_window"`

	// Operation, in media mode, is what was started on each call, and
	// Prompt the length of its prompt in seconds. Started counts the
	// operations the server accepted; Ended those notified as completed or
	// failed by the time the window closed (their calls no longer loaded
	// the engine), Failed those that failed, and Failure says why the first
	// did. PromptFetches counts the times the server fetched the prompt.
	Operation     string  `json:"operation,omitempty"`
	Prompt        float64 `json:"prompt_s,omitempty"`
	Started       int     `json:"media_started,omitempty"`
	Ended         int64   `json:"media_ended,omitempty"`
	Failed        int64   `json:"media_failed,omitempty"`
	Failure       string  `json:"media_failure,omitempty"`
	PromptFetches int64   `json:"prompt_fetches,omitempty"`

	// Placement, in sip-out mode, is how the calls were set up; UDP the
	// machine's UDP traffic in the window (or UDPNote why there is none);
	// EndedInWindow the calls notified as terminated during it.
	Placement *Placement  `json:"placement,omitempty"`
	UDP       *UDPTraffic `json:"udp,omitempty"`
	UDPNote   string      `json:"udp_note,omitempty"`
	// RTP is what the server's /metrics say of its SIP legs' RTP in the
	// window, in sip-out mode (nil without them).
	RTP           *PhoneRTP `json:"rtp,omitempty"`
	EndedInWindow int       `json:"ended_in_window,omitempty"`

	// Stream is what stream mode measured of the callees' speech, the
	// bots and the latency probes.
	Stream *Streams `json:"stream,omitempty"`
}

// WriteSummary writes the human summary of r.
func (r *Result) WriteSummary(w io.Writer) {
	how := fmt.Sprintf("concurrency %d", r.Concurrency)
	if r.Rate > 0 {
		how = fmt.Sprintf("rate %.0f/s, max %d in flight", r.Rate, r.Concurrency)
	}
	if r.Held != nil {
		how = fmt.Sprintf("%d calls, set up by %d workers, then no requests", r.Held.Calls, r.Concurrency)
		if st := r.Held.Stream; st != nil {
			how = fmt.Sprintf("%d calls, set up by %d workers, then only %d probes' say requests", r.Held.Calls, r.Concurrency, st.Probes)
		}
	}
	noLoad := r.Held != nil || r.Failover != nil
	if f := r.Failover; f != nil {
		how = fmt.Sprintf("%d calls through the first target, then it is killed", f.Calls)
	}
	fmt.Fprintf(w, "== %s: %s %s (%s, %.1fs measured after %.1fs warm-up)\n", r.Label, r.Mode, r.Target, how, r.Duration, r.Warmup)
	if r.Setup != "" {
		fmt.Fprintf(w, "   setup:      %s\n", r.Setup)
	}
	if !noLoad {
		fmt.Fprintf(w, "   requests:   %d (%d ok), %.0f ok/s, %.0f bytes/response\n", r.Requests, r.OK, r.RPS, r.BytesPerResponse)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "   errors:     %s\n", formatErrors(r.Errors))
	}
	if !noLoad {
		fmt.Fprintf(w, "   latency ms: %s\n", r.Latency)
	}
	if c := r.CPU; c != nil {
		server := fmt.Sprintf("server %.0f%%", c.Server)
		if c.Servers > 1 {
			server = fmt.Sprintf("server (%d processes) %.0f%%", c.Servers, c.Server)
		}
		if c.DB > 0 {
			server += fmt.Sprintf(", database %.0f%%", c.DB)
		}
		fmt.Fprintf(w, "   cpu:        %.0f%% of %d cores busy: %s, sbload %.0f%%, kernel interrupts %.0f%%, other processes %.0f%% (100%% = one core)\n",
			c.Busy/float64(c.Cores), c.Cores, server, c.Loadgen, c.Interrupts, c.Other)
	}
	if line := r.countersLine(); line != "" {
		fmt.Fprintf(w, "   counters:   %s\n", line)
	}
	if r.ListItems > 0 {
		fmt.Fprintf(w, "   list page:  %d items\n", r.ListItems)
	}
	if e := r.Established; e != nil {
		fmt.Fprintf(w, "   calls:      %d created, %d established, %d missing, %d callbacks before their 201\n", e.Created, e.Established, e.Missing, e.Before201)
		fmt.Fprintf(w, "   create→established, from 201 received  (ms): %s\n", e.From201)
		fmt.Fprintf(w, "   create→established, from request sent  (ms): %s\n", e.FromSend)
		if e.Dropped > 0 {
			fmt.Fprintf(w, "   pacer:      %d ticks dropped (all workers busy): the rate was not reached\n", e.Dropped)
		}
	}
	if h := r.Held; h != nil {
		h.writeSummary(w)
	}
	if f := r.Failover; f != nil {
		f.writeSummary(w)
	}
	if r.Callbacks > 0 {
		drained := "then they stopped"
		if !r.CallbacksDrained {
			drained = "STILL ARRIVING when sbload stopped listening: the server has a callback backlog"
		}
		fmt.Fprintf(w, "   callbacks:  %d received; %s\n", r.Callbacks, drained)
	}
}

// countersLine describes r.Counters: each counter's growth over the
// window and, when requests succeeded, per successful request; "" without
// counters.
func (r *Result) countersLine() string {
	if len(r.Counters) == 0 {
		if r.CounterNote != "" {
			return "none: " + r.CounterNote
		}
		return ""
	}
	names := make([]string, 0, len(r.Counters))
	for name := range r.Counters {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		v := r.Counters[name]
		parts[i] = fmt.Sprintf("%s +%.0f", name, v)
		if r.OK > 0 {
			parts[i] += fmt.Sprintf(" (%.2f/ok)", v/float64(r.OK))
		}
	}
	return strings.Join(parts, ", ")
}

func (p Percentiles) String() string {
	if p.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (mean %.3f, n=%d)", p.P50, p.P95, p.P99, p.Max, p.Mean, p.N)
}

func formatErrors(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
