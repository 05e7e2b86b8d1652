package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultFailoverCalls is the default of Config.Calls in failover mode.
const DefaultFailoverCalls = 50

// failoverPoll is the pause between two GETs of failover mode's poll.
const failoverPoll = 10 * time.Millisecond

// Failover is what failover mode measured. Times are in milliseconds from
// the moment sbload sent SIGKILL to the node behind the first target.
type Failover struct {
	// Calls counts the calls created through the first target (so owned
	// by its node); Established those established before the kill; Live
	// those of them not yet notified as terminated then: the calls timed.
	Calls       int `json:"calls"`
	Established int `json:"established"`
	Live        int `json:"live"`
	KilledPID   int `json:"killed_pid"`
	// KilledAfter is the time from the first "established" callback to
	// the kill: the calls' hang-ups must fall due after the kill, so the
	// callee's hangUpAfter must exceed it.
	KilledAfter float64 `json:"killed_after_first_established_ms"`
	// FirstCallback is when the first notification about any live call
	// arrived after the kill: the new owner's, since the killed node sends
	// nothing more. Callbacks is, over the live calls, when each one's
	// first notification after the kill arrived; Missing counts the live
	// calls without one within Config.EstablishWait.
	FirstCallback float64     `json:"first_callback_ms"`
	Callbacks     Percentiles `json:"callbacks"`
	Missing       int         `json:"missing"`
	// Served is when a GET of the first live call, sent through the other
	// targets in turn every failoverPoll, was first answered with anything
	// but 503 (the status of a request forwarded to a node that cannot be
	// reached) or a transport error; ServedStatus is that answer's status
	// (200, or 404 once the call has ended). Polls counts the GETs sent.
	// Served is 0 if no such answer came within Config.EstablishWait.
	Served       float64 `json:"served_ms"`
	ServedStatus int     `json:"served_status"`
	Polls        int     `json:"polls"`
}

// runFailover is failover mode. It creates cfg.Calls calls to cfg.Callee
// through the first target, whose node then owns them, and waits until
// they are established; then it kills that node with SIGKILL and measures,
// from that moment, (a) when the bot's receiver gets the first
// notification about one of the calls that were live, which only a node
// that took them over can send, and (b) when a GET of one of them through
// another node is first served instead of refused with 503.
//
// Established calls with nothing happening send no notification, so the
// callee must be a simulated user that hangs up on its own (hangUpAfter)
// shortly after answering: sooner than a lease can pass to another node,
// so that its hang-up falls due while the calls have no owner, and the new
// owner fires it, and notifies it, as soon as it takes a call over. Calls
// that hung up before the kill are not counted.
func runFailover(ctx context.Context, c *client, cfg *Config, rcv *receiver, body []byte, res *Result) error {
	if rcv == nil {
		return errNoReceiver
	}
	first := func(int) string { return c.callsURL }
	ids, err := precreate(ctx, c, cfg, body, first)
	if err != nil {
		return err
	}
	f := &Failover{Calls: len(ids), KilledPID: cfg.KillPID}
	res.Failover = f
	wctx, cancel := context.WithTimeout(ctx, cfg.EstablishWait)
	est := rcv.waitFor(wctx, ids)
	cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	f.Established = len(est)
	ended, _ := rcv.ended()
	var live []string
	for _, id := range ids {
		if _, ok := est[id]; ok && !ended[id] {
			live = append(live, id)
		}
	}
	f.Live = len(live)
	res.Setup = fmt.Sprintf("created %d calls through %s, %d established, %d still up at the kill", len(ids), c.target, f.Established, f.Live)
	if len(live) == 0 {
		return fmt.Errorf("load: none of the %d calls was up when the node was to be killed (established %d; a callee that hangs up too soon?)", len(ids), f.Established)
	}

	proc, err := os.FindProcess(cfg.KillPID)
	if err != nil {
		return fmt.Errorf("load: the node to kill: %w", err)
	}
	rcv.mark()
	killed := time.Now()
	if err := proc.Kill(); err != nil {
		return fmt.Errorf("load: killing process %d: %w", cfg.KillPID, err)
	}
	since := func(t time.Time) float64 { return ms(t.Sub(killed)) }
	firstUp := killed
	for _, at := range est {
		if at.Before(firstUp) {
			firstUp = at
		}
	}
	f.KilledAfter = ms(killed.Sub(firstUp))

	wctx, cancel = context.WithTimeout(ctx, cfg.EstablishWait)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := 0; wctx.Err() == nil; k++ {
			u := c.calls(1+k%(len(c.callsURLs)-1)) + "/" + live[0]
			rctx, rcancel := context.WithTimeout(wctx, cfg.Timeout)
			x := c.do(rctx, http.MethodGet, u, nil, false)
			rcancel()
			if wctx.Err() != nil {
				return
			}
			f.Polls++
			if x.err == nil && x.status != http.StatusServiceUnavailable {
				f.Served, f.ServedStatus = since(x.headersAt), x.status
				return
			}
			if !pause(wctx, failoverPoll) {
				return
			}
		}
	})
	after := rcv.waitAfter(wctx, live)
	wg.Wait()
	res.Duration = round3(time.Since(killed).Seconds())
	var delays []time.Duration
	for _, id := range live {
		if at, ok := after[id]; ok {
			delays = append(delays, at.Sub(killed))
		}
	}
	f.Missing = len(live) - len(delays)
	f.Callbacks = Summarize(delays)
	f.FirstCallback = f.Callbacks.Min
	return ctx.Err()
}

// details describes f in a few lines, for the summary and the report.
func (f *Failover) details() []string {
	lines := []string{fmt.Sprintf("calls:      %d created through the node killed, %d established, %d up at the kill (pid %d), %.3f s after the first was established",
		f.Calls, f.Established, f.Live, f.KilledPID, f.KilledAfter/1000)}
	if f.Callbacks.N > 0 {
		lines = append(lines, fmt.Sprintf("callbacks:  first %.3f s after the kill; per call (s): p50 %.3f  max %.3f  (n=%d, %d missing)",
			f.FirstCallback/1000, f.Callbacks.P50/1000, f.Callbacks.Max/1000, f.Callbacks.N, f.Missing))
	} else {
		lines = append(lines, fmt.Sprintf("callbacks:  NONE after the kill for the %d calls up then", f.Live))
	}
	if f.ServedStatus != 0 {
		lines = append(lines, fmt.Sprintf("served:     a GET through another node answered %d %.3f s after the kill (%d GETs, every %d ms)", f.ServedStatus, f.Served/1000, f.Polls, failoverPoll.Milliseconds()))
	} else {
		lines = append(lines, fmt.Sprintf("served:     NO GET through another node was served after the kill (%d GETs)", f.Polls))
	}
	return lines
}

// verdict is the one-line result of the report: there is no target.
func (f *Failover) verdict() string {
	var parts []string
	if f.Callbacks.N > 0 {
		parts = append(parts, fmt.Sprintf("first callback from the new owner %.2f s after the kill, the last of %d calls' first at %.2f s", f.FirstCallback/1000, f.Callbacks.N, f.Callbacks.Max/1000))
	} else {
		parts = append(parts, "no callback after the kill")
	}
	if f.Missing > 0 {
		parts = append(parts, fmt.Sprintf("%d calls never heard of again", f.Missing))
	}
	if f.ServedStatus != 0 {
		parts = append(parts, fmt.Sprintf("GET through another node served (%d) at %.2f s", f.ServedStatus, f.Served/1000))
	} else {
		parts = append(parts, "GET through another node never served")
	}
	return strings.Join(parts, "; ")
}

func (f *Failover) writeSummary(w io.Writer) {
	for _, line := range f.details() {
		fmt.Fprintf(w, "   %s\n", line)
	}
}
