package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// recordSeconds is what media mode asks of each recorder: Graph's largest
// maxRecordDurationInSeconds, initialSilenceTimeoutInSeconds and
// maxSilenceTimeoutInSeconds, so that a silent callee keeps it running for
// two minutes after its prompt.
const recordSeconds = 120

// operationName describes media mode's operation in results.
const operationName = "recordResponse"

// runHold is idle and media mode: it creates cfg.Calls calls, waits for
// them to be established, in media mode starts a recordResponse on each,
// lets the server settle for cfg.Warmup, and then measures the server's CPU,
// memory and media engine over cfg.Duration, sending nothing at all.
//
// In sip-out mode the calls are placed at cfg.Rate instead (placeCalls),
// each timed to its "established" callback, and the window also measures
// the machine's UDP traffic and losses, and counts the calls that ended.
func runHold(ctx context.Context, c *client, cfg *Config, rcv *receiver, body []byte, res *Result) error {
	start := time.Now()
	var ids []string
	var est map[string]time.Time
	h := &Held{}
	res.Held = h
	if cfg.Mode == ModeSIPOut {
		ids, est, h.Placement = placeCalls(ctx, c, cfg, rcv, body)
		h.Calls, h.Established = cfg.Calls, h.Placement.Established
		if h.Placement.Created == 0 && ctx.Err() == nil {
			return fmt.Errorf("load: the server created no call to %s (%s)", cfg.Callee, formatErrors(h.Placement.CreateErrors))
		}
	} else {
		var err error
		if ids, err = precreate(ctx, c, cfg, body, c.calls); err != nil {
			return err
		}
		h.Calls = len(ids)
		wctx, cancel := context.WithTimeout(ctx, cfg.EstablishWait)
		h.Established = rcv.waitCount(wctx, len(ids))
		cancel()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cfg.media() {
		h.Operation, h.Prompt = operationName, cfg.Prompt.Seconds()
		up := ids
		if est != nil {
			up = make([]string, 0, len(est))
			for _, id := range ids {
				if _, ok := est[id]; ok {
					up = append(up, id)
				}
			}
		}
		if len(up) == 0 {
			return fmt.Errorf("load: none of the %d calls was established", len(ids))
		}
		h.Started, res.Errors = startMedia(ctx, c, cfg, rcv, up)
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.Started == 0 {
			return fmt.Errorf("load: the server accepted no %s (%s)", operationName, formatErrors(res.Errors))
		}
	}
	// What the set-up set off (callbacks, prompt fetches) is over before
	// the warm-up begins, as far as the receiver can tell.
	qctx, cancel := context.WithTimeout(ctx, cfg.Drain)
	rcv.quiesce(qctx, quietTime)
	cancel()
	h.SetupSeconds = round3(time.Since(start).Seconds())
	res.Setup = fmt.Sprintf("created %d calls, %d established", h.Calls, h.Established)
	if h.Started > 0 {
		res.Setup += fmt.Sprintf(", %d %s started", h.Started, operationName)
	}
	res.Setup += fmt.Sprintf(" in %.1f s", h.SetupSeconds)

	if !pause(ctx, cfg.Warmup) {
		return ctx.Err()
	}
	// The scrapes cost the server some CPU, so they stay outside the
	// sampled interval.
	mBefore, mErr := metricsAt(ctx, c, cfg)
	memBefore, err := readMem(cfg.ServerPIDs[0])
	if err != nil {
		return fmt.Errorf("load: the server's memory: %w", err)
	}
	endedBefore, firstEnd := rcv.ended()
	if p := h.Placement; p != nil {
		p.settle(cfg.Calls, ids, est, endedBefore, firstEnd)
	}
	var udpBefore, udpAfter udpCounters
	var udpErr error
	if cfg.Mode == ModeSIPOut {
		udpBefore, udpErr = readUDP()
	}
	cbBefore := rcv.callbacks.Load()
	from := time.Now()
	before := sampleCPU(cfg.ServerPIDs, cfg.PeerPID, cfg.DBPID)
	if !pause(ctx, cfg.Duration) {
		return ctx.Err()
	}
	after := sampleCPU(cfg.ServerPIDs, cfg.PeerPID, cfg.DBPID)
	to := time.Now()
	if cfg.Mode == ModeSIPOut {
		if udpErr == nil {
			udpAfter, udpErr = readUDP()
		}
		if udpErr == nil {
			h.UDP = udpTraffic(udpBefore, udpAfter, to.Sub(from).Seconds())
		} else {
			h.UDPNote = udpErr.Error()
		}
		endedAfter, _ := rcv.ended()
		h.EndedInWindow = len(endedAfter) - len(endedBefore)
	}
	h.CallbacksInWindow = rcv.callbacks.Load() - cbBefore
	h.Ended, h.Failed, h.Failure = rcv.opsEnded.Load(), rcv.opsFailed.Load(), rcv.failure()
	h.PromptFetches = rcv.promptFetches.Load()
	memAfter, err := readMem(cfg.ServerPIDs[0])
	if err != nil {
		return fmt.Errorf("load: the server's memory: %w", err)
	}
	h.Memory = memory(memBefore, memAfter)
	res.CPU = usage(before, after, runtime.NumCPU())
	res.Duration = round3(to.Sub(from).Seconds())
	mAfter, err := metricsAt(ctx, c, cfg)
	switch {
	case cfg.MetricsURL == "":
		h.EngineNote = "no -metrics URL"
	case mErr != nil:
		h.EngineNote = mErr.Error()
	case err != nil:
		h.EngineNote = err.Error()
	default:
		if cfg.Mode == ModeSIPOut {
			h.RTP = phoneRTP(mBefore, mAfter)
		}
		if h.Engine = engine(mBefore, mAfter); h.Engine == nil {
			h.EngineNote = "the server's /metrics has no media engine families"
		}
	}
	return nil
}

// pause waits for d, and reports false if ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// metricsAt reads cfg.MetricsURL, if set.
func metricsAt(ctx context.Context, c *client, cfg *Config) (scrape, error) {
	if cfg.MetricsURL == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	return readMetrics(ctx, c.hc, cfg.MetricsURL)
}

// startMedia starts a recordResponse on each call and returns how many the
// server accepted, and the others by status. The first goes alone, and the
// others wait until the server has fetched its prompt once (or
// cfg.Timeout); the next cfg.Concurrency go one at a time, while the server
// decodes the prompt, and the rest with cfg.Concurrency workers. So most
// find the prompt in the server's cache instead of all fetching it at once
// (Held.PromptFetches says how many did not).
func startMedia(ctx context.Context, c *client, cfg *Config, rcv *receiver, ids []string) (int, map[string]int64) {
	body := recordBody(rcv.promptURI)
	var (
		mu      sync.Mutex
		errs    map[string]int64
		started atomic.Int64
	)
	start := func(id string) {
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		x := c.do(rctx, http.MethodPost, c.callsURL+"/"+id+"/recordResponse", body, false)
		cancel()
		if x.err == nil && x.status/100 == 2 {
			started.Add(1)
			return
		}
		key := "transport"
		if x.err == nil {
			key = strconv.Itoa(x.status)
		}
		mu.Lock()
		if errs == nil {
			errs = make(map[string]int64)
		}
		errs[key]++
		mu.Unlock()
	}
	start(ids[0])
	wctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	select {
	case <-rcv.fetched:
	case <-wctx.Done():
	}
	cancel()
	ramp := min(len(ids), 1+cfg.Concurrency)
	for _, id := range ids[1:ramp] {
		if ctx.Err() != nil {
			break
		}
		start(id)
	}
	var next atomic.Int64
	next.Store(int64(ramp))
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				start(ids[i])
			}
		})
	}
	wg.Wait()
	return int(started.Load()), errs
}

// recordBody is the POST /communications/calls/{id}/recordResponse body of
// media mode: the prompt at promptURI, then a recorder that nothing but its
// limits stops.
func recordBody(promptURI string) []byte {
	b, _ := json.Marshal(map[string]any{
		"clientContext": "sbload",
		"prompts": []any{map[string]any{
			"@odata.type": "#microsoft.graph.mediaPrompt",
			"mediaInfo":   map[string]any{"uri": promptURI},
		}},
		"bargeInAllowed":                 false,
		"playBeep":                       true,
		"initialSilenceTimeoutInSeconds": recordSeconds,
		"maxSilenceTimeoutInSeconds":     recordSeconds,
		"maxRecordDurationInSeconds":     recordSeconds,
	})
	return b
}

// writeSummary writes the human summary of idle and media mode.
func (h *Held) writeSummary(w io.Writer) {
	for _, line := range h.details() {
		fmt.Fprintf(w, "   %s\n", line)
	}
}

// details describes h in a few lines, for the summary and the report.
func (h *Held) details() []string {
	lines := []string{fmt.Sprintf("calls:      %d/%d established; %d callbacks during the window", h.Established, h.Calls, h.CallbacksInWindow)}
	if p := h.Placement; p != nil {
		lines = append(lines, p.details(h.Calls)...)
	}
	if st := h.Stream; st != nil {
		lines = append(lines, st.details(h.Calls)...)
	}
	if h.Operation != "" {
		line := fmt.Sprintf("media:      %d/%d %s started (a %.0f s prompt, then a recorder of up to %d s); %d ended by the end of the window",
			h.Started, h.Calls, h.Operation, h.Prompt, recordSeconds, h.Ended)
		if h.Failed > 0 {
			line += fmt.Sprintf(", %d failed (first: %s)", h.Failed, h.Failure)
		}
		lines = append(lines, line+fmt.Sprintf("; the server fetched the prompt %d times", h.PromptFetches))
	}
	if m := h.Memory; m != nil {
		lines = append(lines, fmt.Sprintf("memory:     server RSS %.1f MB at the end of the window (%+.1f MB during it), peak %.1f MB (MB = 10⁶ bytes)",
			m.RSS, m.RSS-m.RSSStart, m.Peak))
	}
	if h.UDP != nil {
		lines = append(lines, "udp:        "+h.UDP.String())
	} else if h.UDPNote != "" {
		lines = append(lines, "udp:        no figures: "+h.UDPNote)
	}
	if h.RTP != nil {
		lines = append(lines, "rtp:        "+h.RTP.String())
	}
	if h.Placement != nil {
		lines = append(lines, fmt.Sprintf("ended:      %d calls terminated during the window", h.EndedInWindow))
	}
	if e := h.Engine; e != nil {
		lines = append(lines, "engine:     "+e.String())
	} else if h.EngineNote != "" {
		lines = append(lines, "engine:     no figures: "+h.EngineNote)
	}
	return lines
}

func (e *Engine) String() string {
	var parts []string
	add := func(v *float64, format string) {
		if v != nil {
			parts = append(parts, fmt.Sprintf(format, *v))
		}
	}
	add(e.SkippedFrames, "%.0f skipped frames")
	add(e.Frames, "%.0f frames")
	add(e.RoomTicks, "%.0f room-frames")
	add(e.MeanLag, "tick lag mean %.3f ms")
	add(e.LastLag, "last %.3f ms")
	if e.AwakeRooms != nil && e.Rooms != nil {
		parts = append(parts, fmt.Sprintf("%.0f of %.0f rooms awake", *e.AwakeRooms, *e.Rooms))
	} else {
		add(e.AwakeRooms, "%.0f rooms awake")
		add(e.Rooms, "%.0f rooms")
	}
	return strings.Join(parts, ", ")
}
