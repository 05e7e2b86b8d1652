package load

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Mode is what a run measures.
type Mode string

// The modes of a run.
const (
	// ModeCreate POSTs calls in a closed loop.
	ModeCreate Mode = "create"
	// ModeGet pre-creates Config.Calls calls, then GETs them round-robin.
	ModeGet Mode = "get"
	// ModeList GETs the call collection.
	ModeList Mode = "list"
	// ModeEstablished creates calls and times their "established" callback.
	ModeEstablished Mode = "established"
	// ModeIdle creates Config.Calls calls, waits until they are
	// established, and measures the server's CPU and memory while nothing
	// happens: no requests, no media.
	ModeIdle Mode = "idle"
	// ModeMedia creates Config.Calls calls, starts a recordResponse with a
	// long prompt on each, and measures the server's CPU and whether its
	// media engine kept real time while they play and then record.
	ModeMedia Mode = "media"
	// ModeSIPOut places Config.Calls calls at Config.Rate per second to
	// Config.Callee, a user bound to a SIP peer that answers and echoes RTP
	// (or a simulated user, for the baseline), times each from create to
	// "established", starts a recordResponse on each (unless
	// Config.NoMedia), and then measures the server like media mode, with
	// the machine's UDP traffic and losses besides.
	ModeSIPOut Mode = "sip-out"
	// ModeFailover creates Config.Calls calls to Config.Callee through the
	// first of several cluster nodes, waits until they are established,
	// kills that node (SIGKILL to Config.KillPID) and times how long the
	// calls take to come back under another node: see runFailover.
	ModeFailover Mode = "failover"
	// ModeStream creates Config.Calls calls to a simulated user with
	// app-hosted media, connects a bot to each call's media stream (a
	// WebSocket) that echoes every frame of the mix back as its voice,
	// makes each callee say a long speech-like WAV, and measures the
	// server's CPU and media engine, the frames each bot got, and the
	// latency from a callee's sound to the bot: see runStream. With
	// Config.ServiceHosted, the baseline: the same calls and speech with
	// service-hosted media and no bots.
	ModeStream Mode = "stream"
)

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case ModeCreate, ModeGet, ModeList, ModeEstablished, ModeIdle, ModeMedia, ModeSIPOut, ModeFailover, ModeStream:
		return m, nil
	}
	return "", fmt.Errorf("load: unknown mode %q: use create, get, list, established, idle, media, sip-out, failover or stream", s)
}

// holds reports whether m is one of the modes that hold calls open and
// measure the server while it is left alone with them.
func (m Mode) holds() bool {
	return m == ModeIdle || m == ModeMedia || m == ModeSIPOut || m == ModeStream
}

// media reports whether a run of c starts a recordResponse on each call.
func (c *Config) media() bool { return c.Mode == ModeMedia || (c.Mode == ModeSIPOut && !c.NoMedia) }

// DefaultCalls is the default of Config.Calls in mode m: the number of
// calls the targets of docs/performance.md are stated for in idle and media
// mode, none in list mode (which lists what is there), and Defaults().Calls
// otherwise.
func DefaultCalls(m Mode) int {
	switch m {
	case ModeIdle:
		return TargetIdleCalls
	case ModeMedia:
		return TargetMediaCalls
	case ModeSIPOut:
		return TargetSIPLegs
	case ModeFailover:
		return DefaultFailoverCalls
	case ModeStream:
		return DefaultStreamCalls
	case ModeList:
		return 0
	}
	return Defaults().Calls
}

// Development credentials of a Switchboard server in dev mode.
const (
	DevTenantID     = "0000000d-0000-4000-8000-000000000001"
	DevClientID     = "0000000d-0000-4000-8000-000000000002"
	DevClientSecret = "switchboard-dev-secret"
)

// NoToken as Config.Token sends no Authorization header at all.
const NoToken = "none"

// Config describes one run. Zero fields take the defaults of Defaults.
type Config struct {
	Mode Mode
	// Target is the server's base URL, e.g. http://127.0.0.1:8080, or the
	// base URLs of several nodes of a cluster separated by commas. With
	// several, create, get, list and established mode send each worker's
	// requests to them in turn (round-robin), and failover mode creates its
	// calls through the first and polls the others; the other modes take
	// one URL.
	Target string
	// targets is Target split at the commas, by validate.
	targets []string
	// Token is the bearer token; empty fetches one with the client
	// credentials below, NoToken sends none.
	Token                            string
	TenantID, ClientID, ClientSecret string

	// Concurrency is the number of workers: requests in flight at once.
	Concurrency int
	// Warmup runs the load unmeasured before Duration, the measured window.
	Warmup, Duration time.Duration
	// Timeout bounds each request.
	Timeout time.Duration

	// Calls is how many calls get, idle and media mode create first (list
	// mode too, when positive).
	Calls int
	// Rate, in established mode, is the fixed create rate in calls per
	// second; 0 runs a closed loop of Concurrency workers.
	Rate float64
	// Drain, in established mode, is how long to wait after the window for
	// the callbacks of calls still establishing.
	Drain time.Duration
	// ListQuery is the query string of list mode, without "?".
	ListQuery string
	// EstablishWait, in idle and media mode, bounds the wait for the
	// "established" callbacks of the calls, after the last one was created.
	EstablishWait time.Duration
	// Prompt, in media mode, is the length of the prompt each call's
	// recordResponse plays before it records; 0 chooses Warmup + Duration/2,
	// so that the prompts play in the first half of the measured window and
	// the recorders run in the second.
	Prompt time.Duration
	// MetricsURL, in idle and media mode, is the server's Prometheus
	// /metrics URL, read at both ends of the window for the media engine's
	// figures; empty reports CPU and memory only.
	MetricsURL string

	// Callee, in sip-out mode, is the user id the calls are placed to: one
	// bound to a SIP peer (a static contact), or a simulated user for the
	// baseline. NoMedia leaves the calls without an operation: the legs
	// then carry the silence the server sends, echoed back.
	Callee  string
	NoMedia bool
	// PeerPID, when positive, is the process id of the SIP peer (sipp), so
	// that its CPU is reported apart from other processes'.
	PeerPID int

	// ServiceHosted, in stream mode, gives the calls service-hosted media
	// and connects no bots: the baseline of the same calls, speech and
	// probe requests without the streams.
	ServiceHosted bool
	// Probes, in stream mode, is how many latency probes each call gets
	// during the measured window (the callee says a loud burst, and its
	// bot times it); 0 sends none. Negative chooses DefaultProbes.
	Probes int

	// KillPID, in failover mode, is the process id of the node behind the
	// first target, which the run kills with SIGKILL once its calls are
	// established.
	KillPID int

	// CallbackURI is the callbackUri of created calls. Empty starts a
	// receiver on CallbackListen and uses it; established mode needs that
	// receiver.
	CallbackURI    string
	CallbackListen string

	// Label names the run in the results.
	Label string
	// ServerPIDs are the server's process ids (one per node of a
	// cluster), so that the result says how much CPU the server used: the
	// sum of theirs (Linux only). Idle, media and sip-out mode take one,
	// whose memory they also report.
	ServerPIDs []int
	// DBPID, when positive, is the process id of the database server's
	// main process (PostgreSQL's postmaster), so that the CPU of it and of
	// its child processes is reported apart from other processes'.
	DBPID int
	// WindowCmd, when set, is a shell command (sh -c) that create, get,
	// list and established mode run at both ends of the measured window,
	// just after sampling the CPU. It prints counters as name=value pairs
	// separated by white space (such as the database's transaction count);
	// the result reports how much each grew over the window.
	WindowCmd string
}

// Defaults returns the defaults of every Config field.
func Defaults() Config {
	return Config{
		Mode: ModeGet, Target: "http://127.0.0.1:8080",
		TenantID: DevTenantID, ClientID: DevClientID, ClientSecret: DevClientSecret,
		Concurrency: 16, Warmup: 2 * time.Second, Duration: 10 * time.Second, Timeout: 10 * time.Second,
		Calls: 1000, Drain: 5 * time.Second, EstablishWait: time.Minute, CallbackListen: "127.0.0.1:0",
		Probes: -1,
	}
}

func (c *Config) validate() error {
	c.targets = c.targets[:0]
	for _, t := range strings.Split(c.Target, ",") {
		t = strings.TrimRight(strings.TrimSpace(t), "/")
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("load: target %q: want a base URL such as http://127.0.0.1:8080, or several separated by commas", t)
		}
		c.targets = append(c.targets, t)
	}
	c.Target = strings.Join(c.targets, ",")
	switch {
	case c.Concurrency < 1:
		return errors.New("load: concurrency must be at least 1")
	case c.Duration <= 0:
		return errors.New("load: duration must be positive")
	case c.Warmup < 0:
		return errors.New("load: warm-up must not be negative")
	case c.Mode == ModeGet && c.Calls < 1:
		return errors.New("load: get mode needs at least one call (-n)")
	case c.Rate < 0:
		return errors.New("load: rate must not be negative")
	case c.Mode == ModeEstablished && c.CallbackURI != "":
		return errors.New("load: established mode runs its own callback receiver; leave the callback URI empty")
	case c.Mode.holds() && c.CallbackURI != "":
		return fmt.Errorf("load: %s mode runs its own callback receiver; leave the callback URI empty", c.Mode)
	case c.Mode.holds() && c.Calls < 1:
		return fmt.Errorf("load: %s mode needs at least one call (-n)", c.Mode)
	case c.Mode.holds() && len(c.ServerPIDs) != 1:
		return fmt.Errorf("load: %s mode measures the server's CPU and memory: give its one process id (-server-pid)", c.Mode)
	case slices.ContainsFunc(c.ServerPIDs, func(pid int) bool { return pid <= 0 }):
		return errors.New("load: server process ids must be positive")
	case len(c.targets) > 1 && c.Mode.holds():
		return fmt.Errorf("load: %s mode takes one target", c.Mode)
	case c.Mode == ModeFailover && len(c.targets) < 2:
		return errors.New("load: failover mode needs the node to kill and at least one other (-target URL1,URL2,...)")
	case c.Mode == ModeFailover && c.KillPID <= 0:
		return errors.New("load: failover mode kills the first target's node: give its process id (-kill-pid)")
	case c.Mode != ModeFailover && c.KillPID != 0:
		return errors.New("load: -kill-pid is for failover mode")
	case c.Mode == ModeFailover && c.Calls < 1:
		return errors.New("load: failover mode needs at least one call (-n)")
	case c.Mode == ModeFailover && c.CallbackURI != "":
		return errors.New("load: failover mode runs its own callback receiver; leave the callback URI empty")
	case c.Mode == ModeFailover && strings.TrimSpace(c.Callee) == "":
		return errors.New("load: failover mode needs a simulated user that hangs up on its own (-callee)")
	case c.Prompt < 0:
		return errors.New("load: prompt length must not be negative")
	case c.Mode == ModeSIPOut && c.Rate <= 0:
		return errors.New("load: sip-out mode places calls at a fixed rate: give it (-rate)")
	case c.Mode == ModeSIPOut && strings.TrimSpace(c.Callee) == "":
		return errors.New("load: sip-out mode needs the user the calls go to (-callee)")
	case c.Mode != ModeStream && c.ServiceHosted:
		return errors.New("load: -service-hosted is for stream mode")
	case c.Mode != ModeStream && c.Probes > 0:
		return errors.New("load: -probes is for stream mode")
	case c.Mode != ModeSIPOut && c.Mode != ModeFailover && c.Callee != "":
		return fmt.Errorf("load: %s mode calls the simulated user %q; -callee is for sip-out and failover mode", c.Mode, defaultCallee)
	}
	if c.Mode == ModeStream && c.Probes < 0 {
		c.Probes = DefaultProbes
	}
	if c.EstablishWait <= 0 {
		c.EstablishWait = time.Minute
	}
	if c.media() && c.Prompt == 0 {
		c.Prompt = (c.Warmup + c.Duration/2 + time.Second - 1).Truncate(time.Second)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Label == "" {
		c.Label = string(c.Mode)
	}
	return nil
}
