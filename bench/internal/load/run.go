package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Run performs the run cfg describes and returns its result. It fails only
// when the run could not take place (bad config, no token, a failed
// set-up); errors of individual requests are counted in the result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := newClient(&cfg)
	defer c.close()
	if err := c.authorize(ctx, &cfg); err != nil {
		return nil, err
	}
	var rcv *receiver
	needsCalls := cfg.Mode != ModeList || cfg.Calls > 0
	if needsCalls && cfg.CallbackURI == "" {
		var prompt []byte
		if cfg.media() {
			prompt = toneWAV(cfg.Prompt)
		}
		var err error
		parse := cfg.Mode == ModeEstablished || cfg.Mode == ModeFailover || cfg.Mode.holds()
		if rcv, err = startReceiver(cfg.CallbackListen, parse, prompt); err != nil {
			return nil, fmt.Errorf("load: callback receiver: %w", err)
		}
		cfg.CallbackURI = rcv.uri
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			rcv.shutdown(sctx)
		}()
	}
	res := &Result{
		Label: cfg.Label, Mode: cfg.Mode, Target: cfg.Target, Concurrency: cfg.Concurrency, Rate: cfg.Rate,
		Warmup: cfg.Warmup.Seconds(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU: runtime.NumCPU(), Start: time.Now().UTC(),
	}
	callee := defaultCallee
	if cfg.Mode == ModeSIPOut || cfg.Mode == ModeFailover {
		callee = cfg.Callee
	}
	body := createBody(cfg.CallbackURI, callee)
	if cfg.Mode == ModeStream && !cfg.ServiceHosted {
		body = appHostedBody(cfg.CallbackURI, callee)
	}
	var err error
	switch cfg.Mode {
	case ModeCreate:
		t := closedLoop(ctx, &cfg, time.Now(), nil, func(ctx context.Context, worker, i int, _ bool) exchange {
			return c.do(ctx, http.MethodPost, c.calls(worker+i), body, false)
		}, http.StatusCreated)
		t.fill(res)
	case ModeGet:
		var ids []string
		if ids, err = precreate(ctx, c, &cfg, body, c.calls); err != nil {
			return nil, err
		}
		res.Setup = fmt.Sprintf("created %d calls", len(ids))
		// urls[t][k] is call k through target t.
		urls := make([][]string, len(c.callsURLs))
		for t, calls := range c.callsURLs {
			urls[t] = make([]string, len(ids))
			for k, id := range ids {
				urls[t][k] = calls + "/" + id
			}
		}
		t := closedLoop(ctx, &cfg, time.Now(), nil, func(ctx context.Context, worker, i int, _ bool) exchange {
			// Worker w takes ids w, w+c, w+2c, ...: round-robin over all of
			// them with no shared counter; and the targets in turn, as the
			// other modes do. Call k was created through target k (modulo
			// their number), which owns it on a cluster; so with 3 nodes
			// about two GETs in three go to a node that forwards them.
			return c.do(ctx, http.MethodGet, urls[(worker+i)%len(urls)][(worker+i*cfg.Concurrency)%len(ids)], nil, false)
		}, http.StatusOK)
		t.fill(res)
	case ModeList:
		if cfg.Calls > 0 {
			ids, err := precreate(ctx, c, &cfg, body, c.calls)
			if err != nil {
				return nil, err
			}
			res.Setup = fmt.Sprintf("created %d calls", len(ids))
		}
		query := ""
		if cfg.ListQuery != "" {
			query = "?" + cfg.ListQuery
		}
		if res.ListItems, err = pageSize(ctx, c, c.callsURL+query, cfg.Timeout); err != nil {
			return nil, err
		}
		t := closedLoop(ctx, &cfg, time.Now(), nil, func(ctx context.Context, worker, i int, _ bool) exchange {
			return c.do(ctx, http.MethodGet, c.calls(worker+i)+query, nil, false)
		}, http.StatusOK)
		t.fill(res)
	case ModeEstablished:
		if rcv == nil {
			return nil, errNoReceiver
		}
		err = runEstablished(ctx, c, &cfg, rcv, body, res)
	case ModeIdle, ModeMedia, ModeSIPOut:
		err = runHold(ctx, c, &cfg, rcv, body, res)
	case ModeStream:
		err = runStream(ctx, c, &cfg, rcv, body, res)
	case ModeFailover:
		err = runFailover(ctx, c, &cfg, rcv, body, res)
	}
	if rcv != nil && err == nil {
		dctx, cancel := context.WithTimeout(ctx, cfg.Drain)
		res.CallbacksDrained = rcv.quiesce(dctx, quietTime)
		cancel()
		res.Callbacks = rcv.callbacks.Load()
	}
	return res, err
}

// quietTime without a callback ends a run's drain.
const quietTime = 500 * time.Millisecond

// precreate creates cfg.Calls calls with cfg.Concurrency workers and
// returns their ids. Call k is created by a POST to through(k), a call
// collection URL.
func precreate(ctx context.Context, c *client, cfg *Config, body []byte, through func(k int) string) ([]string, error) {
	ids := make([]string, cfg.Calls)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				x := c.do(rctx, http.MethodPost, through(i), body, true)
				cancel()
				if x.err != nil || x.status != http.StatusCreated {
					once.Do(func() { firstErr = fmt.Errorf("load: creating calls: status %d, %v: %.300s", x.status, x.err, x.body) })
					return
				}
				ids[i] = createdID(x)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return ids, nil
}

// pageSize GETs u once and counts the items of the collection page.
func pageSize(ctx context.Context, c *client, u string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	x := c.do(ctx, http.MethodGet, u, nil, true)
	if x.err != nil || x.status != http.StatusOK {
		return 0, fmt.Errorf("load: list: status %d, %v: %.300s", x.status, x.err, x.body)
	}
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(x.body, &page); err != nil {
		return 0, fmt.Errorf("load: list: %w", err)
	}
	return len(page.Value), nil
}

// tally is what the workers of a closed loop measured.
type tally struct {
	lat      []time.Duration
	ok       int64
	requests int64
	bytes    int64
	errs     map[string]int64
	window   time.Duration
	cpu      *CPUUsage
	// counters is how much Config.WindowCmd's counters grew over the
	// window, or counterNote why there are none.
	counters    map[string]float64
	counterNote string
}

func (t *tally) fill(r *Result) {
	r.Requests, r.OK, r.Errors = t.requests, t.ok, t.errs
	r.Duration = round3(t.window.Seconds())
	if t.window > 0 {
		r.RPS = round3(float64(t.ok) / t.window.Seconds())
	}
	if t.ok > 0 {
		r.BytesPerResponse = round3(float64(t.bytes) / float64(t.ok))
	}
	r.Latency = Summarize(t.lat)
	r.CPU = t.cpu
	r.Counters, r.CounterNote = t.counters, t.counterNote
}

// gate hands out the permission to send, in fixed-rate runs, with the time
// the send was due.
type gate <-chan time.Time

// closedLoop runs cfg.Concurrency workers, each sending its next request as
// soon as the previous one is answered (or, with a gate, when the gate lets
// it), for the warm-up, which starts at start, and then the measured window.
// Requests sent (with a gate: due) during the window are measured, and each
// worker sends at least one, however late the scheduler runs it. want is
// the status that counts as OK. The window ends when the last measured
// request is answered.
func closedLoop(ctx context.Context, cfg *Config, start time.Time, g gate, send func(ctx context.Context, worker, i int, measured bool) exchange, want int) *tally {
	from := start.Add(cfg.Warmup)
	until := from.Add(cfg.Duration)
	var before cpuSample
	var countersBefore map[string]float64
	var countersErr error
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTimer(time.Until(from))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		before = sampleCPU(cfg.ServerPIDs, cfg.PeerPID, cfg.DBPID)
		if cfg.WindowCmd != "" {
			countersBefore, countersErr = readCounters(ctx, cfg.WindowCmd)
		}
	}()
	per := make([]*tally, cfg.Concurrency)
	lastEnd := make([]time.Time, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		t := &tally{errs: make(map[string]int64), lat: make([]time.Duration, 0, 1024)}
		per[w] = t
		wg.Go(func() {
			for i := 0; ; i++ {
				due := time.Now()
				if g != nil {
					select {
					case due = <-g:
					case <-ctx.Done():
						return
					}
				}
				if ctx.Err() != nil || (!due.Before(until) && t.requests > 0) {
					return
				}
				sent := time.Now()
				rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				x := send(rctx, w, i, !due.Before(from))
				cancel()
				end := time.Now()
				if due.Before(from) {
					continue
				}
				lastEnd[w] = end
				t.requests++
				t.lat = append(t.lat, end.Sub(sent))
				switch {
				case x.err != nil:
					t.errs["transport"]++
				case x.status != want:
					t.errs[strconv.Itoa(x.status)]++
				default:
					t.ok++
					t.bytes += x.bytes
				}
			}
		})
	}
	wg.Wait()
	after := sampleCPU(cfg.ServerPIDs, cfg.PeerPID, cfg.DBPID)
	<-sampled
	all := &tally{errs: make(map[string]int64), cpu: usage(before, after, runtime.NumCPU())}
	if cfg.WindowCmd != "" {
		var countersAfter map[string]float64
		if countersErr == nil {
			countersAfter, countersErr = readCounters(ctx, cfg.WindowCmd)
		}
		if countersErr == nil {
			all.counters = grown(countersBefore, countersAfter)
		} else {
			all.counterNote = countersErr.Error()
		}
	}
	last := from
	for w, t := range per {
		all.lat = append(all.lat, t.lat...)
		all.ok += t.ok
		all.requests += t.requests
		all.bytes += t.bytes
		for k, v := range t.errs {
			all.errs[k] += v
		}
		if lastEnd[w].After(last) {
			last = lastEnd[w]
		}
	}
	if len(all.errs) == 0 {
		all.errs = nil
	}
	all.window = last.Sub(from)
	return all
}
