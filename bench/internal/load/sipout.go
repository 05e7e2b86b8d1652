package load

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Placement is how sip-out mode set its calls up: created at a fixed rate,
// each timed from its create request to its "established" callback.
type Placement struct {
	// Callee is the user the calls went to.
	Callee string `json:"callee"`
	// Rate is the create rate asked for, in calls per second; Late counts
	// the creates sent more than one interval after they were due, because
	// Config.Concurrency creates were already waiting for their 201.
	Rate float64 `json:"rate_per_s"`
	Late int     `json:"late"`
	// Created counts the creates answered 201, CreateErrors the others by
	// status (or "transport"). Established counts the calls whose
	// "established" callback arrived within Config.EstablishWait, and
	// Terminated the calls notified as terminated before the measured
	// window opened, with the resultInfo of the first in Failure.
	Created      int              `json:"created"`
	CreateErrors map[string]int64 `json:"create_errors,omitempty"`
	Established  int              `json:"established"`
	Terminated   int              `json:"terminated"`
	Failure      string           `json:"failure,omitempty"`
	// Failed counts the calls asked for that were not up when the measured
	// window opened: refused creates, calls never established, and calls
	// terminated.
	Failed int `json:"failed"`
	// CallsPerSec is the calls set up per second: Established over the
	// time from the first create sent to the last "established" callback.
	CallsPerSec float64 `json:"calls_per_s"`
	// FromSend is the setup latency: the "established" callback's arrival
	// minus the moment the create was handed to the HTTP client; From201
	// from the moment its 201 arrived.
	FromSend Percentiles `json:"from_send"`
	From201  Percentiles `json:"from_201"`
}

// placeCalls creates cfg.Calls calls to cfg.Callee, the i-th due at
// cfg.Rate calls per second after the first, with at most cfg.Concurrency
// creates waiting for their 201, and waits (cfg.EstablishWait at most,
// after the last create) until each is established. It returns the ids of
// the calls created, when each was established, and how the set-up went.
func placeCalls(ctx context.Context, c *client, cfg *Config, rcv *receiver, body []byte) ([]string, map[string]time.Time, *Placement) {
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	calls := make([]placed, cfg.Calls)
	status := make([]string, cfg.Calls) // "" for a 201
	var next, late atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.Calls {
					return
				}
				due := start.Add(time.Duration(i) * interval)
				if !pause(ctx, time.Until(due)) {
					return
				}
				sent := time.Now()
				if sent.Sub(due) > interval {
					late.Add(1)
				}
				rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				x := c.do(rctx, http.MethodPost, c.callsURL, body, true)
				cancel()
				switch {
				case x.err != nil:
					status[i] = "transport"
				case x.status != http.StatusCreated:
					status[i] = strconv.Itoa(x.status)
				default:
					calls[i] = placed{id: createdID(x), sent: sent, at201: x.headersAt}
				}
			}
		})
	}
	wg.Wait()
	p := &Placement{Callee: cfg.Callee, Rate: cfg.Rate, Late: int(late.Load())}
	var ids []string
	var ok []placed
	for i, s := range status {
		switch {
		case s != "":
			if p.CreateErrors == nil {
				p.CreateErrors = make(map[string]int64)
			}
			p.CreateErrors[s]++
		case calls[i].id != "":
			ids = append(ids, calls[i].id)
			ok = append(ok, calls[i])
		}
	}
	p.Created = len(ids)
	wctx, cancel := context.WithTimeout(ctx, cfg.EstablishWait)
	est := rcv.waitFor(wctx, ids)
	cancel()
	p.fill(ok, est)
	return ids, est, p
}

// settle counts, among the calls asked for, those terminated by now, and
// so those that failed.
func (p *Placement) settle(calls int, ids []string, est map[string]time.Time, terminated map[string]bool, first string) {
	up := 0
	for _, id := range ids {
		if terminated[id] {
			p.Terminated++
		} else if _, ok := est[id]; ok {
			up++
		}
	}
	p.Failed = calls - up
	if p.Terminated > 0 {
		p.Failure = first
	}
}

// fill computes p's latencies and rate from the calls created and the
// times their "established" callbacks arrived.
func (p *Placement) fill(calls []placed, est map[string]time.Time) {
	var fromSend, from201 []time.Duration
	var first, last time.Time
	for _, c := range calls {
		if first.IsZero() || c.sent.Before(first) {
			first = c.sent
		}
		at, ok := est[c.id]
		if !ok {
			continue
		}
		p.Established++
		if at.After(last) {
			last = at
		}
		fromSend = append(fromSend, at.Sub(c.sent))
		from201 = append(from201, at.Sub(c.at201))
	}
	p.FromSend, p.From201 = Summarize(fromSend), Summarize(from201)
	if span := last.Sub(first); p.Established > 0 && span > 0 {
		p.CallsPerSec = round3(float64(p.Established) / span.Seconds())
	}
}

func (p *Placement) details(calls int) []string {
	line := fmt.Sprintf("set-up:     %d calls to %s at %.0f/s asked: %d created, %d established, %.1f calls/s (first create to last established)",
		calls, p.Callee, p.Rate, p.Created, p.Established, p.CallsPerSec)
	if p.Late > 0 {
		line += fmt.Sprintf("; %d creates sent late (all workers waiting for a 201)", p.Late)
	}
	lines := []string{line,
		"setup ms:   create sent → established: " + p.FromSend.String(),
		"            201 received → established: " + p.From201.String()}
	failed := fmt.Sprintf("failed:     %d", p.Failed)
	if len(p.CreateErrors) > 0 {
		failed += "; creates refused: " + formatErrors(p.CreateErrors)
	}
	if p.Terminated > 0 {
		failed += fmt.Sprintf("; %d terminated before the window (first: %s)", p.Terminated, p.Failure)
	}
	return append(lines, failed)
}
