package load

import (
	"errors"
	"fmt"
	"net/url"
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
)

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case ModeCreate, ModeGet, ModeList, ModeEstablished, ModeIdle, ModeMedia, ModeSIPOut:
		return m, nil
	}
	return "", fmt.Errorf("load: unknown mode %q: use create, get, list, established, idle, media or sip-out", s)
}

// holds reports whether m is one of the modes that hold calls open and
// measure the server while it is left alone with them.
func (m Mode) holds() bool { return m == ModeIdle || m == ModeMedia || m == ModeSIPOut }

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
	// Target is the server's base URL, e.g. http://127.0.0.1:8080.
	Target string
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

	// CallbackURI is the callbackUri of created calls. Empty starts a
	// receiver on CallbackListen and uses it; established mode needs that
	// receiver.
	CallbackURI    string
	CallbackListen string

	// Label names the run in the results.
	Label string
	// ServerPID, when positive, is the server's process id, so that the
	// result says how much CPU the server used (Linux only).
	ServerPID int
}

// Defaults returns the defaults of every Config field.
func Defaults() Config {
	return Config{
		Mode: ModeGet, Target: "http://127.0.0.1:8080",
		TenantID: DevTenantID, ClientID: DevClientID, ClientSecret: DevClientSecret,
		Concurrency: 16, Warmup: 2 * time.Second, Duration: 10 * time.Second, Timeout: 10 * time.Second,
		Calls: 1000, Drain: 5 * time.Second, EstablishWait: time.Minute, CallbackListen: "127.0.0.1:0",
	}
}

func (c *Config) validate() error {
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("load: target %q: want a base URL such as http://127.0.0.1:8080", c.Target)
	}
	c.Target = strings.TrimRight(c.Target, "/")
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
	case c.Mode.holds() && c.ServerPID <= 0:
		return fmt.Errorf("load: %s mode measures the server's CPU and memory: give its process id (-server-pid)", c.Mode)
	case c.Prompt < 0:
		return errors.New("load: prompt length must not be negative")
	case c.Mode == ModeSIPOut && c.Rate <= 0:
		return errors.New("load: sip-out mode places calls at a fixed rate: give it (-rate)")
	case c.Mode == ModeSIPOut && strings.TrimSpace(c.Callee) == "":
		return errors.New("load: sip-out mode needs the user the calls go to (-callee)")
	case c.Mode != ModeSIPOut && c.Callee != "":
		return fmt.Errorf("load: %s mode calls the simulated user %q; -callee is for sip-out mode", c.Mode, defaultCallee)
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
