package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Stream mode's defaults and limits.
const (
	// DefaultStreamCalls is the default of Config.Calls in stream mode.
	DefaultStreamCalls = 100
	// DefaultProbes is the default of Config.Probes: latency probes per
	// call in the measured window.
	DefaultProbes = 3
	// framesPerSecond is the stream's rate of mix frames: one per 20 ms.
	framesPerSecond = 50
	// StreamMinPct is the share of the frames due in the window, in
	// percent, that a bot must get to count as kept up with: 99% of 500
	// frames in 10 s tolerates 100 ms of lag gained over the window.
	StreamMinPct = 99.0
	// probeWait bounds the wait for a probe's burst at the bot, from the
	// say request's answer.
	probeWait = 2 * time.Second
	// speechSlack is how much longer than the warm-up and the window the
	// callees' first speech lasts (the set-up between the says and the
	// warm-up); probeSlack how much longer than the interval between two
	// probes of a call the speech after a burst lasts.
	speechSlack = 5 * time.Second
	probeSlack  = 2 * time.Second
	// mediaProtocol is the media stream's WebSocket subprotocol.
	mediaProtocol = "switchboard.media.v1"
	// mediaHeader is the size of an audio message's header: track (uint16
	// BE), two reserved bytes, frame sequence (uint32 BE).
	mediaHeader = 8
)

// Streams is what stream mode measured besides Held's figures: the
// callees' speech, the bots and their frames over the window, and the
// latency probes.
type Streams struct {
	// Hosted is "app" (a bot on each call's stream) or "service" (the
	// baseline: service-hosted media, no bots).
	Hosted string `json:"hosted"`
	// Callees counts the simulated callees found in the calls' rosters;
	// Speaking those whose say of the speech was accepted (SayErrors the
	// others, by status), Speech its length in seconds and ProbeSpeech
	// that of the speech after a probe's burst.
	Callees     int              `json:"callees"`
	Speaking    int              `json:"speaking"`
	SayErrors   map[string]int64 `json:"say_errors,omitempty"`
	Speech      float64          `json:"speech_s"`
	ProbeSpeech float64          `json:"probe_speech_s,omitempty"`

	// Bots counts the bots that connected and got their stream's start;
	// BotErrors the others, by what failed, with the first error in
	// BotError. Lost counts the bots whose connection ended before the
	// window closed.
	Bots      int              `json:"bots"`
	BotErrors map[string]int64 `json:"bot_errors,omitempty"`
	BotError  string           `json:"bot_error,omitempty"`
	Lost      int              `json:"lost"`
	// Expected is the mix frames due to each bot in the window (50 a
	// second); FramesMin, FramesMedian and FramesMax spread what the bots
	// got, FramesTotal sums it. Short counts the bots that got less than
	// StreamMinPct percent of Expected.
	Expected     float64 `json:"frames_expected,omitempty"`
	FramesMin    int64   `json:"frames_min,omitempty"`
	FramesMedian int64   `json:"frames_median,omitempty"`
	FramesMax    int64   `json:"frames_max,omitempty"`
	FramesTotal  int64   `json:"frames_total,omitempty"`
	Short        int     `json:"short_bots"`
	// Gaps counts the jumps in the frames' sequence numbers in the window
	// (frames the server dropped toward a bot), GapFrames the frames
	// missing in them and GappedBots the bots with any.
	Gaps       int64 `json:"gaps"`
	GapFrames  int64 `json:"gap_frames"`
	GappedBots int   `json:"gapped_bots"`
	// Echoed counts the frames the bots sent back as their voice in the
	// window, Events the text messages they got.
	Echoed int64 `json:"echoed,omitempty"`
	Events int64 `json:"events,omitempty"`

	// Probes counts the probes due in the window (Config.Probes a call),
	// Said those whose say was answered 204 (ProbeErrors the others),
	// Late those sent more than a frame after they were due (every
	// worker busy), Missed those whose burst no bot saw within probeWait.
	Probes      int              `json:"probes"`
	Said        int              `json:"probes_said"`
	ProbeErrors map[string]int64 `json:"probe_errors,omitempty"`
	Late        int              `json:"probes_late,omitempty"`
	Missed      int              `json:"probes_missed,omitempty"`
	// FromSay is the latency from a callee's sound to its bot: the bot's
	// receipt of the first loud frame minus the moment the say request's
	// answer arrived; FromSend minus the moment the request was sent.
	FromSay  Percentiles `json:"from_say"`
	FromSend Percentiles `json:"from_send"`
	// SayTime is how long the probes' say requests took, from sent to
	// answered: the gap between the two figures above.
	SayTime Percentiles `json:"say_time"`

	// DroppedToBot and DroppedFromBot are the server's count of stream
	// frames dropped in the window (switchboard_media_stream_dropped_frames_total),
	// Connections its bots connected when the window closed; nil when its
	// /metrics lacks them.
	DroppedToBot   *float64 `json:"dropped_to_bot,omitempty"`
	DroppedFromBot *float64 `json:"dropped_from_bot,omitempty"`
	Connections    *float64 `json:"connections,omitempty"`
}

// runStream is stream mode. It creates cfg.Calls calls to a simulated
// user, with app-hosted media (or, with cfg.ServiceHosted, service-hosted),
// waits until they are established, finds each call's simulated callee in
// its roster, connects a bot to each call's media endpoint (not for the
// baseline), and makes each callee say a long speech-like WAV. After
// cfg.Warmup it measures, over cfg.Duration, the server's CPU, memory and
// media engine, the frames each bot got, and cfg.Probes latency probes a
// call: the callee says a loud burst (and then speech again), and its bot
// times the first loud frame.
//
// Each bot reads everything its stream sends and echoes every frame of the
// mix back as its voice at once, so that audio flows both ways on every
// call.
func runStream(ctx context.Context, c *client, cfg *Config, rcv *receiver, body []byte, res *Result) error {
	start := time.Now()
	h := &Held{}
	res.Held = h
	st := &Streams{Hosted: "app"}
	if cfg.ServiceHosted {
		st.Hosted = "service"
	}
	h.Stream = st
	ids, err := precreate(ctx, c, cfg, body, c.calls)
	if err != nil {
		return err
	}
	h.Calls = len(ids)
	wctx, cancel := context.WithTimeout(ctx, cfg.EstablishWait)
	h.Established = rcv.waitCount(wctx, len(ids))
	cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	callees, calleeErr := findCallees(ctx, c, cfg, ids)
	for _, p := range callees {
		if p != "" {
			st.Callees++
		}
	}
	if st.Callees == 0 {
		return fmt.Errorf("load: no simulated callee in the calls' rosters (%v)", calleeErr)
	}

	// The bots: connected before the speech starts, so that each hears all
	// of it.
	bctx, stopBots := context.WithCancel(context.WithoutCancel(ctx))
	var bots []*bot
	defer func() {
		stopBots()
		for _, b := range bots {
			if b != nil {
				b.ws.CloseNow()
				<-b.done
			}
		}
	}()
	if !cfg.ServiceHosted {
		bots, st.BotErrors, st.BotError = connectBots(ctx, bctx, c, cfg, ids)
		for _, b := range bots {
			if b != nil {
				st.Bots++
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.Bots == 0 {
			return fmt.Errorf("load: no bot could connect to its call's media stream (%s; first: %s)", formatErrors(st.BotErrors), st.BotError)
		}
	}

	// The speech: long enough for the warm-up and the window, and after a
	// probe's burst until the call's next probe (or the window's end).
	speechLen := cfg.Warmup + cfg.Duration + speechSlack
	var probeLen time.Duration
	if cfg.Probes > 0 {
		probeLen = cfg.Duration/time.Duration(cfg.Probes) + probeSlack
	}
	pcm := speech(max(speechLen, probeLen), 1)
	first := pcmWAV(pcm[:int(speechLen*promptRate/time.Second)])
	probeWAV := pcmWAV(append(burst(), pcm[:int(probeLen*promptRate/time.Second)]...))
	st.Speech, st.ProbeSpeech = round3(speechLen.Seconds()), round3(probeLen.Seconds())
	st.Speaking, st.SayErrors = sayAll(ctx, c, cfg, ids, callees, first)
	if err := ctx.Err(); err != nil {
		return err
	}
	if st.Speaking == 0 {
		return fmt.Errorf("load: the server refused every say (%s)", formatErrors(st.SayErrors))
	}

	qctx, cancel := context.WithTimeout(ctx, cfg.Drain)
	rcv.quiesce(qctx, quietTime)
	cancel()
	h.SetupSeconds = round3(time.Since(start).Seconds())
	res.Setup = fmt.Sprintf("created %d calls, %d established, %d callees speaking", h.Calls, h.Established, st.Speaking)
	if !cfg.ServiceHosted {
		res.Setup += fmt.Sprintf(", %d bots connected", st.Bots)
	}
	res.Setup += fmt.Sprintf(" in %.1f s", h.SetupSeconds)
	if !pause(ctx, cfg.Warmup) {
		return ctx.Err()
	}

	mBefore, mErr := metricsAt(ctx, c, cfg)
	memBefore, err := readMem(cfg.ServerPIDs[0])
	if err != nil {
		return fmt.Errorf("load: the server's memory: %w", err)
	}
	cbBefore := rcv.callbacks.Load()
	countsBefore := counts(bots)
	from := time.Now()
	before := sampleCPU(cfg.ServerPIDs, cfg.PeerPID, cfg.DBPID)
	probes := startProbes(ctx, c, cfg, ids, callees, bots, probeWAV, from)
	if !pause(ctx, cfg.Duration) {
		return ctx.Err()
	}
	after := sampleCPU(cfg.ServerPIDs, cfg.PeerPID, cfg.DBPID)
	to := time.Now()
	countsAfter := counts(bots)
	h.CallbacksInWindow = rcv.callbacks.Load() - cbBefore
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
		if h.Engine = engine(mBefore, mAfter); h.Engine == nil {
			h.EngineNote = "the server's /metrics has no media engine families"
		}
		st.streamMetrics(mBefore, mAfter)
	}
	if !cfg.ServiceHosted {
		st.frames(countsBefore, countsAfter, to.Sub(from))
	}
	probes.wait().fill(st)
	return ctx.Err()
}

// findCallees returns the participant id of each call's simulated callee
// (the roster entry without a callId), "" where it found none, and the
// first error.
func findCallees(ctx context.Context, c *client, cfg *Config, ids []string) ([]string, error) {
	out := make([]string, len(ids))
	var firstErr error
	var once sync.Once
	forEach(ctx, cfg.Concurrency, len(ids), func(i int) {
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		x := c.do(rctx, http.MethodGet, simCallURL(c.target, ids[i]), nil, true)
		cancel()
		p, err := calleeOf(x)
		if err != nil {
			once.Do(func() { firstErr = err })
			return
		}
		out[i] = p
	})
	return out, firstErr
}

// calleeOf reads the simulated callee's participant id from the answer to
// GET /switchboard/v1/simulation/calls/{id}.
func calleeOf(x exchange) (string, error) {
	if x.err != nil || x.status != http.StatusOK {
		return "", fmt.Errorf("the simulation API answered %d, %v: %.300s", x.status, x.err, x.body)
	}
	var v struct {
		Roster []struct {
			ID     string `json:"id"`
			CallID string `json:"callId"`
		} `json:"roster"`
	}
	if err := json.Unmarshal(x.body, &v); err != nil {
		return "", fmt.Errorf("the simulation API's roster: %w", err)
	}
	for _, p := range v.Roster {
		if p.CallID == "" && p.ID != "" {
			return p.ID, nil
		}
	}
	return "", errors.New("the roster has no simulated participant (an entry without a callId)")
}

func simCallURL(target, id string) string { return target + "/switchboard/v1/simulation/calls/" + id }

func sayURL(target, id, participant string) string {
	return simCallURL(target, id) + "/participants/" + participant + "/say"
}

// sayAll makes every callee found say wav, and returns how many the
// server accepted, and the others by status.
func sayAll(ctx context.Context, c *client, cfg *Config, ids, callees []string, wav []byte) (int, map[string]int64) {
	var ok atomic.Int64
	errs := newTally()
	forEach(ctx, cfg.Concurrency, len(ids), func(i int) {
		if callees[i] == "" {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		x := c.send(rctx, http.MethodPost, sayURL(c.target, ids[i], callees[i]), wav, "audio/wav", false)
		cancel()
		if errs.check(x, http.StatusNoContent) {
			ok.Add(1)
		}
	})
	return int(ok.Load()), errs.get()
}

// forEach calls f(0) ... f(n-1) on workers goroutines, and returns when
// they are done or ctx has ended.
func forEach(ctx context.Context, workers, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// errTally counts failed exchanges by status ("transport" for no answer).
type errTally struct {
	mu sync.Mutex
	m  map[string]int64
}

func newTally() *errTally { return &errTally{} }

// check reports whether x has status want, and counts it if not.
func (t *errTally) check(x exchange, want int) bool {
	if x.err == nil && x.status == want {
		return true
	}
	key := "transport"
	if x.err == nil {
		key = strconv.Itoa(x.status)
	}
	t.add(key)
	return false
}

func (t *errTally) add(key string) {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]int64)
	}
	t.m[key]++
	t.mu.Unlock()
}

func (t *errTally) get() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m
}

// bot is one call's bot: a WebSocket connection to the call's media
// endpoint, read by its own goroutine (run), which echoes every frame of
// the mix back and counts what it got.
type bot struct {
	ws      *websocket.Conn
	started chan struct{} // closed at the stream's start message
	done    chan struct{} // closed when run returns

	frames, gaps, gapFrames, echoed, events atomic.Int64

	// A probe arms the bot; the first loud frame after that disarms it
	// and goes to hit. probing keeps a call's probes one at a time.
	armed   atomic.Bool
	hit     chan time.Time
	probing sync.Mutex

	// run's own state.
	seq     uint32
	seen    bool
	startOK bool
}

func newBot(ws *websocket.Conn) *bot {
	return &bot{ws: ws, started: make(chan struct{}), done: make(chan struct{}), hit: make(chan time.Time, 1)}
}

// run reads the stream until the connection ends.
func (b *bot) run(ctx context.Context) {
	defer close(b.done)
	buf := make([]byte, 0, 2048)
	for {
		typ, r, err := b.ws.Reader(ctx)
		if err != nil {
			return
		}
		if buf, err = readMessage(buf[:0], r); err != nil {
			return
		}
		if !b.receive(ctx, typ, buf, time.Now()) {
			return
		}
	}
}

// receive takes one message that arrived at at, and reports whether the
// connection is still good.
func (b *bot) receive(ctx context.Context, typ websocket.MessageType, msg []byte, at time.Time) bool {
	if typ == websocket.MessageText {
		b.events.Add(1)
		if !b.startOK {
			var e struct {
				Event string `json:"event"`
			}
			if json.Unmarshal(msg, &e) == nil && e.Event == "start" {
				b.startOK = true
				close(b.started)
			}
		}
		return true
	}
	if len(msg) < mediaHeader || (len(msg)-mediaHeader)%2 != 0 {
		return true
	}
	if track := uint16(msg[0])<<8 | uint16(msg[1]); track != 0 {
		return true // a participant's own track: the bot echoes the mix only
	}
	seq := uint32(msg[4])<<24 | uint32(msg[5])<<16 | uint32(msg[6])<<8 | uint32(msg[7])
	pcm := msg[mediaHeader:]
	b.frames.Add(1)
	if b.seen && seq != b.seq+1 {
		b.gaps.Add(1)
		if seq > b.seq {
			b.gapFrames.Add(int64(seq - b.seq - 1))
		}
	}
	b.seq, b.seen = seq, true
	if b.armed.Load() && loud(pcm) && b.armed.CompareAndSwap(true, false) {
		select {
		case b.hit <- at:
		default:
		}
	}
	if b.ws == nil { // a test's bot, without a connection
		return true
	}
	if err := b.ws.Write(ctx, websocket.MessageBinary, pcm); err != nil {
		return false
	}
	b.echoed.Add(1)
	return true
}

// readMessage appends what r holds to dst.
func readMessage(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, 1024)
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// connectBots connects a bot to each call's media endpoint (cfg.Concurrency
// at a time), starts its goroutine under bctx, and waits for its stream's
// start. It returns the bots by call (nil where it failed) and the
// failures by kind, with the first error.
func connectBots(ctx, bctx context.Context, c *client, cfg *Config, ids []string) ([]*bot, map[string]int64, string) {
	bots := make([]*bot, len(ids))
	errs := newTally()
	var firstErr string
	var once sync.Once
	fail := func(kind string, err error) {
		errs.add(kind)
		once.Do(func() { firstErr = err.Error() })
	}
	forEach(ctx, cfg.Concurrency, len(ids), func(i int) {
		dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		ws, resp, err := websocket.Dial(dctx, c.target+"/switchboard/v1/calls/"+ids[i]+"/media", &websocket.DialOptions{
			HTTPClient: c.hc, HTTPHeader: http.Header{"Authorization": {c.auth}}, Subprotocols: []string{mediaProtocol}})
		if err != nil {
			kind := "dial"
			if resp != nil {
				kind = strconv.Itoa(resp.StatusCode)
			}
			fail(kind, err)
			return
		}
		ws.SetReadLimit(1 << 20)
		b := newBot(ws)
		go b.run(bctx)
		select {
		case <-b.started:
			bots[i] = b
		case <-b.done:
			fail("closed before start", errors.New("the connection ended before the stream's start message"))
		case <-dctx.Done():
			ws.CloseNow()
			<-b.done
			fail("no start", fmt.Errorf("no start message within %s", cfg.Timeout))
		}
	})
	return bots, errs.get(), firstErr
}

// botCounts is what one bot had counted at a moment; lost says whether its
// connection had ended.
type botCounts struct {
	frames, gaps, gapFrames, echoed, events int64
	lost                                    bool
}

// counts reads every bot's counters (nil where there is no bot).
func counts(bots []*bot) []*botCounts {
	out := make([]*botCounts, len(bots))
	for i, b := range bots {
		if b == nil {
			continue
		}
		bc := &botCounts{frames: b.frames.Load(), gaps: b.gaps.Load(), gapFrames: b.gapFrames.Load(), echoed: b.echoed.Load(), events: b.events.Load()}
		select {
		case <-b.done:
			bc.lost = true
		default:
		}
		out[i] = bc
	}
	return out
}

// frames fills in the bots' figures over a window of length window, from
// their counters at both ends.
func (st *Streams) frames(before, after []*botCounts, window time.Duration) {
	st.Expected = round3(window.Seconds() * framesPerSecond)
	var got []int64
	for i, a := range after {
		b := before[i]
		if a == nil || b == nil {
			continue
		}
		if a.lost {
			st.Lost++
		}
		n := a.frames - b.frames
		got = append(got, n)
		st.FramesTotal += n
		if float64(n) < st.Expected*StreamMinPct/100 {
			st.Short++
		}
		if g := a.gaps - b.gaps; g > 0 {
			st.Gaps += g
			st.GapFrames += a.gapFrames - b.gapFrames
			st.GappedBots++
		}
		st.Echoed += a.echoed - b.echoed
		st.Events += a.events - b.events
	}
	if len(got) == 0 {
		return
	}
	slices.Sort(got)
	st.FramesMin, st.FramesMedian, st.FramesMax = got[0], got[(len(got)-1)/2], got[len(got)-1]
}

// streamMetrics fills in the server's stream figures from its /metrics at
// both ends of the window. A direction that dropped nothing yet has no
// series: it counts 0 when the server has the stream families at all
// (its connections gauge).
func (st *Streams) streamMetrics(before, after scrape) {
	st.Connections = gauge(after, metricStreamConns, 1)
	if st.Connections == nil {
		return
	}
	for _, d := range []struct {
		dir string
		dst **float64
	}{{"toBot", &st.DroppedToBot}, {"fromBot", &st.DroppedFromBot}} {
		key := series(metricStreamDropped, "direction", d.dir)
		v := after[key] - before[key]
		*d.dst = &v
	}
}

// probeRun is the probes of a window under way.
type probeRun struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	asked    int
	said     int
	late     int
	missed   int
	errs     *errTally
	fromSay  []time.Duration
	fromSend []time.Duration
	sayTime  []time.Duration
}

// startProbes sends cfg.Probes probes for each call that has a callee (and,
// with app-hosted media, a bot), spread evenly over the window that starts
// at from: call i's k-th at from + (k + (i+½)/n) × Duration/Probes, n the
// number of calls. A probe makes the callee say wav (a burst, then speech)
// and, with a bot, waits for the bot's first loud frame. At most
// cfg.Concurrency probes are in flight.
func startProbes(ctx context.Context, c *client, cfg *Config, ids, callees []string, bots []*bot, wav []byte, from time.Time) *probeRun {
	pr := &probeRun{errs: newTally()}
	if cfg.Probes <= 0 {
		return pr
	}
	type probe struct {
		call int
		due  time.Time
	}
	var probes []probe
	step := cfg.Duration / time.Duration(cfg.Probes)
	for i := range ids {
		if callees[i] == "" || (!cfg.ServiceHosted && bots[i] == nil) {
			continue
		}
		phase := (float64(i) + 0.5) / float64(len(ids))
		for k := range cfg.Probes {
			probes = append(probes, probe{call: i, due: from.Add(time.Duration((float64(k) + phase) * float64(step)))})
		}
	}
	slices.SortFunc(probes, func(a, b probe) int { return a.due.Compare(b.due) })
	pr.asked = len(probes)
	jobs := make(chan probe)
	for range min(cfg.Concurrency, len(probes)) {
		pr.wg.Go(func() {
			for p := range jobs {
				var b *bot
				if !cfg.ServiceHosted {
					b = bots[p.call]
				}
				pr.one(ctx, c, cfg, b, sayURL(c.target, ids[p.call], callees[p.call]), wav, p.due)
			}
		})
	}
	pr.wg.Go(func() {
		defer close(jobs)
		for _, p := range probes {
			if !pause(ctx, time.Until(p.due)) {
				return
			}
			select {
			case jobs <- p:
			case <-ctx.Done():
				return
			}
		}
	})
	return pr
}

// one sends one probe, due at due, and with a bot times its burst.
func (pr *probeRun) one(ctx context.Context, c *client, cfg *Config, b *bot, u string, wav []byte, due time.Time) {
	if b != nil {
		b.probing.Lock()
		defer b.probing.Unlock()
		select {
		case <-b.hit: // a burst seen after its probe gave up
		default:
		}
		b.armed.Store(true)
	}
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	x := c.send(rctx, http.MethodPost, u, wav, "audio/wav", false)
	cancel()
	answered := time.Now()
	late := sent.Sub(due) > time.Second/framesPerSecond
	if !pr.errs.check(x, http.StatusNoContent) {
		if b != nil {
			b.armed.Store(false)
		}
		pr.count(late, false, false, 0, 0)
		return
	}
	pr.mu.Lock()
	pr.sayTime = append(pr.sayTime, answered.Sub(sent))
	pr.mu.Unlock()
	if b == nil {
		pr.count(late, true, false, 0, 0)
		return
	}
	t := time.NewTimer(probeWait)
	defer t.Stop()
	select {
	case at := <-b.hit:
		pr.count(late, true, true, at.Sub(answered), at.Sub(sent))
	case <-t.C:
		b.armed.Store(false)
		pr.count(late, true, false, 0, 0)
		pr.mu.Lock()
		pr.missed++
		pr.mu.Unlock()
	case <-ctx.Done():
		b.armed.Store(false)
	}
}

func (pr *probeRun) count(late, said, seen bool, fromSay, fromSend time.Duration) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if late {
		pr.late++
	}
	if said {
		pr.said++
	}
	if seen {
		pr.fromSay = append(pr.fromSay, fromSay)
		pr.fromSend = append(pr.fromSend, fromSend)
	}
}

// wait returns pr once every probe is over.
func (pr *probeRun) wait() *probeRun {
	pr.wg.Wait()
	return pr
}

func (pr *probeRun) fill(st *Streams) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	st.Probes, st.Said, st.Late, st.Missed, st.ProbeErrors = pr.asked, pr.said, pr.late, pr.missed, pr.errs.get()
	st.FromSay, st.FromSend, st.SayTime = Summarize(pr.fromSay), Summarize(pr.fromSend), Summarize(pr.sayTime)
}

// details describes st in a few lines, for the summary and the report.
func (st *Streams) details(calls int) []string {
	line := fmt.Sprintf("callees:    %d of %d found, %d saying a %.0f s speech-like WAV", st.Callees, calls, st.Speaking, st.Speech)
	if st.ProbeSpeech > 0 {
		line += fmt.Sprintf(" (after each probe's burst, %.1f s more)", st.ProbeSpeech)
	}
	if len(st.SayErrors) > 0 {
		line += "; says refused: " + formatErrors(st.SayErrors)
	}
	lines := []string{line}
	if st.Hosted == "service" {
		lines = append(lines, "bots:       none: service-hosted media, the baseline")
	} else {
		line = fmt.Sprintf("bots:       %d of %d connected, each echoing the mix back as its voice; %d lost before the window closed", st.Bots, calls, st.Lost)
		if len(st.BotErrors) > 0 {
			line += fmt.Sprintf("; failed: %s (first: %s)", formatErrors(st.BotErrors), st.BotError)
		}
		lines = append(lines, line,
			fmt.Sprintf("frames:     per bot %d / %d / %d (min / median / max) of %.0f due (50/s); %d bots under %.0f%%; %d sequence gaps (%d frames) in %d bots; %d frames echoed back, %d events",
				st.FramesMin, st.FramesMedian, st.FramesMax, st.Expected, st.Short, StreamMinPct, st.Gaps, st.GapFrames, st.GappedBots, st.Echoed, st.Events))
	}
	if st.Probes > 0 {
		line = fmt.Sprintf("probes:     %d due, %d said", st.Probes, st.Said)
		if st.Hosted != "service" {
			line += fmt.Sprintf(", %d seen by the bot, %d not within %s", st.FromSay.N, st.Missed, probeWait)
		}
		if st.Late > 0 {
			line += fmt.Sprintf(", %d sent late (every worker busy)", st.Late)
		}
		if len(st.ProbeErrors) > 0 {
			line += "; refused: " + formatErrors(st.ProbeErrors)
		}
		lines = append(lines, line)
		if st.Hosted != "service" {
			lines = append(lines, "latency ms: say answered → bot got the burst: "+st.FromSay.String(),
				"            say sent → bot got the burst:     "+st.FromSend.String())
		}
		lines = append(lines, "say ms:     sent → answered (a probe's say): "+st.SayTime.String())
	}
	if st.Connections != nil {
		lines = append(lines, fmt.Sprintf("streams:    the server dropped %.0f frames toward bots and %.0f from them; %.0f bots connected at the end",
			deref(st.DroppedToBot), deref(st.DroppedFromBot), *st.Connections))
	}
	return lines
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// streamVerdict judges a stream run: real time when the engine skipped no
// frame and, with bots, every bot stayed connected and got at least
// StreamMinPct percent of its frames, with no gap in their sequence.
func streamVerdict(r *Result) string {
	figures, missed, unknown := judgeStream(r)
	out := strings.Join(figures, ", ") + ": "
	switch {
	case len(missed) > 0:
		return out + "NOT REAL TIME (" + strings.Join(missed, ", ") + ")"
	case len(unknown) > 0:
		return out + "NOT SHOWN: " + strings.Join(unknown, "; ")
	}
	return out + "REAL TIME"
}

// judgeStream returns a stream run's figures, what missed real time, and
// what keeps the run from showing it.
func judgeStream(r *Result) (figures, missed, unknown []string) {
	h := r.Held
	st := h.Stream
	if st.Hosted == "service" {
		figures = append(figures, fmt.Sprintf("%d service-hosted calls, %d callees speaking, no bots", h.Established, st.Speaking))
	} else {
		figures = append(figures, fmt.Sprintf("%d app-hosted calls, %d bots echoing", h.Established, st.Bots))
		if st.Bots < h.Calls {
			unknown = append(unknown, fmt.Sprintf("only %d of %d bots connected", st.Bots, h.Calls))
		}
	}
	if st.Speaking < h.Calls {
		unknown = append(unknown, fmt.Sprintf("only %d of %d callees speaking", st.Speaking, h.Calls))
	}
	if e := h.Engine; e != nil && e.SkippedFrames != nil {
		figures = append(figures, fmt.Sprintf("%.0f skipped frames", *e.SkippedFrames))
		if *e.SkippedFrames > 0 {
			missed = append(missed, "skipped frames")
		}
	} else {
		unknown = append(unknown, "no engine metrics")
	}
	if st.Hosted != "service" && st.Bots > 0 {
		if st.Expected > 0 {
			figures = append(figures, fmt.Sprintf("bots got %.1f–%.1f%% of their frames", 100*float64(st.FramesMin)/st.Expected, 100*float64(st.FramesMax)/st.Expected))
		}
		figures = append(figures, fmt.Sprintf("%d gaps", st.Gaps))
		if st.Short > 0 {
			missed = append(missed, fmt.Sprintf("%d bots under %.0f%% of their frames", st.Short, StreamMinPct))
		}
		if st.Gaps > 0 {
			missed = append(missed, fmt.Sprintf("gaps in %d bots", st.GappedBots))
		}
		if st.Lost > 0 {
			missed = append(missed, fmt.Sprintf("%d bots lost", st.Lost))
		}
		if st.FromSay.N > 0 {
			figures = append(figures, fmt.Sprintf("latency p50 %.1f / p99 %.1f ms", st.FromSay.P50, st.FromSay.P99))
		}
	}
	if c := r.CPU; c != nil {
		figures = append(figures, fmt.Sprintf("server %.0f%%, sbload %.0f%% of a core", c.Server, c.Loadgen))
	}
	return figures, missed, unknown
}

// streamSummary compares, for each number of calls, the app-hosted run
// with the service-hosted baseline of as many calls, and names the most
// calls kept in real time.
func streamSummary(results []*Result) []string {
	var app []*Result
	service := make(map[int]*Result)
	for _, r := range results {
		if r.Mode != ModeStream || r.Held == nil || r.Held.Stream == nil {
			continue
		}
		if r.Held.Stream.Hosted == "service" {
			service[r.Held.Calls] = r
		} else {
			app = append(app, r)
		}
	}
	var lines []string
	best, worst := 0, 0
	for _, r := range app {
		n := r.Held.Calls
		_, missed, unknown := judgeStream(r)
		switch {
		case len(missed) > 0:
			if worst == 0 || n < worst {
				worst = n
			}
		case len(unknown) == 0:
			best = max(best, n)
		}
		b := service[n]
		if b == nil || r.CPU == nil || b.CPU == nil || n == 0 {
			continue
		}
		d := r.CPU.Server - b.CPU.Server
		lines = append(lines, fmt.Sprintf("stream cost at %d calls: server %.0f%% with bots on app-hosted streams, %.0f%% service-hosted without: +%.0f%% of a core, %.2f%% a call; the bots (sbload) %.0f%%",
			n, r.CPU.Server, b.CPU.Server, d, d/float64(n), r.CPU.Loadgen))
	}
	if len(app) > 0 {
		line := "app-hosted streams in real time: "
		switch {
		case best == 0 && worst == 0:
			line += "not shown by these runs"
		case best == 0:
			line += fmt.Sprintf("none of these runs (already not at %d calls)", worst)
		case worst == 0:
			line += fmt.Sprintf("up to %d calls, the most these runs tried", best)
		default:
			line += fmt.Sprintf("up to %d calls; not at %d", best, worst)
		}
		lines = append(lines, line)
	}
	return lines
}
