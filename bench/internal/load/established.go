package load

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// placed is one call created during an established run.
type placed struct {
	id          string
	sent, at201 time.Time
}

// runEstablished creates calls, at cfg.Rate per second or in a closed loop,
// and times each measured call's "established" callback from the moment its
// create request was sent and from the moment its 201 arrived.
func runEstablished(ctx context.Context, c *client, cfg *Config, rcv *receiver, body []byte, res *Result) error {
	per := make([][]placed, cfg.Concurrency)
	start := time.Now()

	var g gate
	var dropped atomic.Int64
	if cfg.Rate > 0 {
		ch := make(chan time.Time)
		g = ch
		pctx, stop := context.WithCancel(ctx)
		paced := make(chan struct{})
		defer func() { stop(); <-paced }()
		interval := time.Duration(float64(time.Second) / cfg.Rate)
		until := start.Add(cfg.Warmup + cfg.Duration)
		go func() {
			defer close(paced)
			tick := time.NewTicker(interval)
			defer tick.Stop()
			// The first call is due at once, the others every interval.
			// The workers may not be waiting yet for the first.
			select {
			case ch <- start:
			case <-pctx.Done():
				return
			}
			for {
				var due time.Time
				select {
				case <-pctx.Done():
					return
				case due = <-tick.C:
				}
				select {
				case ch <- due:
				default:
					if due.Before(until) {
						dropped.Add(1)
					}
				}
			}
		}()
	}

	t := closedLoop(ctx, cfg, start, g, func(ctx context.Context, worker, i int, measured bool) exchange {
		sent := time.Now()
		x := c.do(ctx, http.MethodPost, c.calls(worker+i), body, true)
		if measured && x.err == nil && x.status == http.StatusCreated {
			per[worker] = append(per[worker], placed{id: createdID(x), sent: sent, at201: x.headersAt})
		}
		return x
	}, http.StatusCreated)
	t.fill(res)

	var calls []placed
	for _, p := range per {
		calls = append(calls, p...)
	}
	ids := make([]string, len(calls))
	for i, p := range calls {
		ids[i] = p.id
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.Drain)
	defer cancel()
	est := rcv.waitFor(dctx, ids)

	st := &EstablishedStats{Created: len(calls), Dropped: dropped.Load()}
	var from201, fromSend []time.Duration
	for _, p := range calls {
		at, ok := est[p.id]
		if !ok {
			st.Missing++
			continue
		}
		st.Established++
		if at.Before(p.at201) {
			st.Before201++
		}
		from201 = append(from201, at.Sub(p.at201))
		fromSend = append(fromSend, at.Sub(p.sent))
	}
	st.From201 = Summarize(from201)
	st.FromSend = Summarize(fromSend)
	res.Established = st
	return nil
}
