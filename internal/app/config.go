package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-dev/switchboard/internal/faults"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/mediabridge"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/sim"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Config is everything a Switchboard server is told. The zero value is not
// useful; start from Defaults.
type Config struct {
	// Listen is the plain HTTP listener's address ("" or "off": none).
	Listen string `yaml:"listen"`
	// ListenTLS is the HTTPS listener's address ("" or "off": none).
	ListenTLS string `yaml:"listenTLS"`
	// TLSCert and TLSKey are PEM files for the HTTPS listener. When both are
	// empty, development mode uses a generated development certificate.
	TLSCert string `yaml:"tlsCert"`
	TLSKey  string `yaml:"tlsKey"`
	// DataDir holds the SQLite database and the development certificates.
	DataDir string `yaml:"data"`
	// Store selects the store: empty for SQLite in DataDir (DatabaseFile),
	// or a postgres:// or postgresql:// URL of a PostgreSQL database, which
	// several servers may share. The database must exist; its tables are
	// created or migrated at start. The URL's password is never logged.
	Store string `yaml:"store"`
	// Cluster configures this server as one node of several sharing a
	// PostgreSQL Store (see docs/cluster.md); ignored with SQLite.
	Cluster ClusterConfig `yaml:"cluster"`
	// Dev turns on development mode: the well-known development application,
	// http:// callbacks to loopback, and the development certificate.
	Dev bool `yaml:"dev"`
	// DevAllowRemote lets a development server listen on addresses other
	// than loopback (an empty host, 0.0.0.0, [::], a host name other than
	// localhost, ...). Without it Validate refuses them in development
	// mode, whose well-known credentials hold every role; with it the
	// server warns at start. It means nothing outside development mode.
	DevAllowRemote bool `yaml:"devAllowRemote"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"logLevel"`
	// Apps are registered applications besides the development one.
	Apps []AppConfig `yaml:"apps"`
	// Simulation configures the simulated endpoints.
	Simulation SimulationConfig `yaml:"simulation"`
	// Calls tunes the calls engine.
	Calls CallsConfig `yaml:"calls"`
	// Notifications tunes callback delivery.
	Notifications NotifyConfig `yaml:"notifications"`
	// Throttle sets request rate limits and load shedding.
	Throttle ThrottleConfig `yaml:"throttle"`
	// Idempotency bounds what Idempotency-Key support remembers.
	Idempotency IdempotencyConfig `yaml:"idempotency"`
	// Media tunes service-hosted media.
	Media MediaConfig `yaml:"media"`
	// SIP serves phones, PBXs and trunks.
	SIP SIPConfig `yaml:"sip"`
	// WebRTC brings browsers into calls from the console.
	WebRTC WebRTCConfig `yaml:"webrtc"`
	// PublicURL is the base URL clients reach this server at, used in links
	// it hands out (recording locations). Default: the HTTP listener.
	PublicURL string `yaml:"publicUrl"`
	// LogFormat is text (key=value) or json (one object a line).
	LogFormat string `yaml:"logFormat"`
	// MetricsListen is where Prometheus metrics are served, at /metrics,
	// without authentication ("" or "off": nowhere).
	MetricsListen string `yaml:"metricsListen"`
	// PprofListen is where net/http/pprof is served, at /debug/pprof/
	// ("" or "off": nowhere). Only loopback addresses are accepted.
	PprofListen string `yaml:"pprofListen"`
	// Clock is "real" (the default) or "virtual": the wall clock plus
	// jumps that POST /switchboard/v1/simulation/clock makes (development
	// mode only; docs/time-travel.md).
	Clock string `yaml:"clock"`
	// Faults make the Graph API answer 429, 503 or 500 on cue
	// (development mode only; docs/faults.md).
	Faults []faults.Rule `yaml:"faults"`
}

// VirtualClock reports whether the configuration asks for time travel.
func (c *Config) VirtualClock() bool { return strings.EqualFold(c.Clock, "virtual") }

// MediaConfig tunes service-hosted media.
type MediaConfig struct {
	// RecordingRetention is how long recordResponse recordings stay
	// downloadable (Graph discards them when the call ends; Switchboard
	// keeps them this long after they were made).
	RecordingRetention Duration `yaml:"recordingRetention"`
	// RecordingDir is where recordings are kept; default "recordings" in
	// the data directory. The nodes of a cluster may share one (or each
	// keep its own: a node serves the others' through them).
	RecordingDir string `yaml:"recordingDir"`
	// PromptFetches bounds the prompts (playPrompt, recordResponse and
	// preFetchMedia) fetched at once, and PromptFetchesPerTenant those of
	// one tenant, so that one tenant cannot hold every fetch.
	PromptFetches          int `yaml:"promptFetches"`
	PromptFetchesPerTenant int `yaml:"promptFetchesPerTenant"`
	// PromptCacheMiB bounds, in MiB, the decoded prompts kept for reuse,
	// and PromptCacheMiBPerTenant those kept for one tenant; the least
	// recently used go first, and a prompt larger than a tenant's share is
	// played but not kept.
	PromptCacheMiB          int `yaml:"promptCacheMiB"`
	PromptCacheMiBPerTenant int `yaml:"promptCacheMiBPerTenant"`
}

// defaultMedia is the media section of Defaults.
var defaultMedia = MediaConfig{
	RecordingRetention:      Duration(24 * time.Hour),
	PromptFetches:           mediabridge.DefaultMaxFetches,
	PromptFetchesPerTenant:  mediabridge.DefaultMaxFetchesPerTenant,
	PromptCacheMiB:          mediabridge.DefaultCacheBytes >> 20,
	PromptCacheMiBPerTenant: mediabridge.DefaultTenantCacheBytes >> 20,
}

// validate reports the first media limit that is out of range.
func (m MediaConfig) validate() error {
	if m.PromptFetches < 1 || m.PromptFetchesPerTenant < 1 || m.PromptFetchesPerTenant > m.PromptFetches {
		return errors.New("config: media.promptFetches and media.promptFetchesPerTenant must be at least 1, and the per-tenant one at most the total")
	}
	if m.PromptCacheMiB < 1 || m.PromptCacheMiBPerTenant < 1 || m.PromptCacheMiBPerTenant > m.PromptCacheMiB {
		return errors.New("config: media.promptCacheMiB and media.promptCacheMiBPerTenant must be at least 1, and the per-tenant one at most the total")
	}
	return nil
}

// AppConfig registers an application.
type AppConfig struct {
	ClientID    string `yaml:"clientId"`
	TenantID    string `yaml:"tenantId"`
	DisplayName string `yaml:"displayName"`
	// SecretSHA256 is the hex SHA-256 of the client secret; Secret, the
	// secret itself, is accepted for convenience in development mode only.
	SecretSHA256 string   `yaml:"secretSha256"`
	Secret       string   `yaml:"secret"`
	Roles        []string `yaml:"roles"`
	// Webhook receives the application's incoming calls.
	Webhook string `yaml:"webhook"`
}

// SimulationConfig configures simulated people and phones.
type SimulationConfig struct {
	// AnswerDelay is how long an identity without a rule rings before it
	// answers.
	AnswerDelay Duration `yaml:"answerDelay"`
	// Identities give single identities their own behaviour.
	Identities []sim.Rule `yaml:"identities"`
}

// CallsConfig tunes the calls engine.
type CallsConfig struct {
	// RingTimeout ends an unanswered peer-to-peer call with 408/10057.
	RingTimeout Duration `yaml:"ringTimeout"`
	// MaxOpenCallsPerApp bounds the calls one application may have in
	// progress (403 quotaLimitReached beyond).
	MaxOpenCallsPerApp int `yaml:"maxOpenCallsPerApp"`
	// EndedRetention is how long an ended call stays in the store, with its
	// notification log, once every notification of it is delivered or
	// given up; a sweep deletes it after that. 0 keeps ended calls forever.
	EndedRetention Duration `yaml:"endedRetention"`
}

// NotifyConfig tunes callback delivery.
type NotifyConfig struct {
	MaxAttempts int      `yaml:"maxAttempts"`
	MaxBackoff  Duration `yaml:"maxBackoff"`
	// AllowNetworks admits callback destinations that the SSRF guard
	// refuses outside development mode (loopback, private, link-local ...),
	// as CIDR prefixes or addresses, such as 10.20.0.0/16.
	AllowNetworks []string `yaml:"allowNetworks"`
	// MaxInFlightPerApp bounds the callbacks of one application in flight at
	// once, so that a bot that never answers delays only its own calls;
	// 0 means a quarter of the 64 delivery goroutines.
	MaxInFlightPerApp int `yaml:"maxInFlightPerApp"`
	// MaxPendingPerCall bounds a call's notifications waiting to be
	// delivered; beyond, the oldest are given up. 0 means 1,000.
	MaxPendingPerCall int `yaml:"maxPendingPerCall"`
}

// IdempotencyConfig bounds the responses remembered for Idempotency-Key
// retries.
type IdempotencyConfig struct {
	// Retention is how long a key replays its first response (24h).
	Retention Duration `yaml:"retention"`
	// MaxKeysPerApp bounds the keys one application holds; a new key
	// beyond it forgets that application's oldest (5000).
	MaxKeysPerApp int `yaml:"maxKeysPerApp"`
}

// ThrottleConfig sets the request limits.
type ThrottleConfig struct {
	// Requests per Period are allowed for each application in each tenant
	// (Graph: 50,000 per 15 s); beyond, 429 with Retry-After. 0 disables.
	Requests int      `yaml:"requests"`
	Period   Duration `yaml:"period"`
	// MaxInFlight bounds the requests of the Graph and extension APIs
	// being served at once; beyond, 503 with Retry-After. 0 disables.
	MaxInFlight int `yaml:"maxInFlight"`
}

// Duration is a time.Duration written as "1.5s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 500ms or 2m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// String formats d as a Go duration, for flag.Value.
func (d *Duration) String() string { return time.Duration(*d).String() }

// Set parses a Go duration such as 24h or 90m, for flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 24h or 90m", s)
	}
	*d = Duration(v)
	return nil
}

// DefaultEndedRetention is how long ended calls stay in the store unless
// calls.endedRetention says otherwise.
const DefaultEndedRetention = 24 * time.Hour

// Defaults returns the configuration of `switchboard serve` with no flags.
func Defaults() Config {
	return Config{
		Listen:     "127.0.0.1:8080",
		ListenTLS:  "127.0.0.1:8443",
		DataDir:    "./switchboard-data",
		Dev:        true,
		LogLevel:   "info",
		Simulation: SimulationConfig{AnswerDelay: Duration(sim.DefaultAnswerDelay)},
		Calls:      CallsConfig{RingTimeout: Duration(60 * time.Second), MaxOpenCallsPerApp: 1000, EndedRetention: Duration(DefaultEndedRetention)},
		Throttle:   ThrottleConfig{Requests: 50000, Period: Duration(15 * time.Second), MaxInFlight: 4096},
		Media:      defaultMedia,
		LogFormat:  "text",

		// Metrics and profiles are served only when asked for.
		MetricsListen: "off",
		PprofListen:   "off",

		Idempotency: IdempotencyConfig{Retention: Duration(graph.DefaultIdempotencyTTL), MaxKeysPerApp: graph.DefaultIdempotencyMaxKeys},
	}
}

// LoadFile overlays the YAML file at path on c. Unknown keys are errors, so
// a typo does not silently fall back to a default.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	if off(c.Listen) && off(c.ListenTLS) {
		return errors.New("config: no listener: set --listen or --listen-tls")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: --tls-cert and --tls-key go together")
	}
	if !off(c.ListenTLS) && c.TLSCert == "" && !c.Dev {
		return errors.New("config: --listen-tls needs --tls-cert and --tls-key outside development mode (or --listen-tls=off)")
	}
	if c.DataDir == "" {
		return errors.New("config: --data must name a directory")
	}
	if c.Store != "" {
		if !store.IsPostgres(c.Store) {
			return fmt.Errorf("config: --store %q: expected empty (SQLite in --data) or a postgres:// URL", redact(c.Store))
		}
		if err := store.CheckPostgresURL(c.Store); err != nil {
			return fmt.Errorf("config: --store: not a usable PostgreSQL URL: %w", err)
		}
	}
	if len(c.Faults) > 0 && !c.Dev {
		return errors.New("config: faults are for development mode only (--dev)")
	}
	if _, err := faults.NewSet(c.Faults); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	switch strings.ToLower(c.Clock) {
	case "", "real":
	case "virtual":
		if !c.Dev {
			return errors.New("config: --clock virtual is for development mode only (--dev): it moves every call's time")
		}
		if c.Store != "" {
			return errors.New("config: --clock virtual runs on one node with SQLite: nodes on PostgreSQL share the wall clock")
		}
	default:
		return fmt.Errorf("config: --clock %q: use real or virtual", c.Clock)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log level %q: use debug, info, warn or error", c.LogLevel)
	}
	for i, a := range c.Apps {
		if a.ClientID == "" || a.TenantID == "" {
			return fmt.Errorf("config: apps[%d]: clientId and tenantId are required", i)
		}
		if a.Secret == "" && a.SecretSHA256 == "" {
			return fmt.Errorf("config: apps[%d] (%s): give secretSha256 (or secret)", i, a.ClientID)
		}
		// A configuration file is copied, committed and backed up; outside
		// development mode it holds a secret's hash, never the secret.
		if a.Secret != "" && !c.Dev {
			return fmt.Errorf("config: apps[%d] (%s): a plain 'secret' is accepted in development mode only; "+
				"give secretSha256, the hex SHA-256 of the secret (printf %%s \"$SECRET\" | sha256sum), instead", i, a.ClientID)
		}
	}
	if err := c.SIP.validate(c.sipListen()); err != nil {
		return err
	}
	if err := c.SIP.validatePhones(c.Dev); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if c.Calls.EndedRetention < 0 {
		return errors.New("config: calls.endedRetention (--ended-call-retention) must not be negative; 0 keeps ended calls forever")
	}
	if _, err := netguard.ParsePrefixes(c.Notifications.AllowNetworks); err != nil {
		return fmt.Errorf("config: notifications.allowNetworks: %w", err)
	}
	if c.Notifications.MaxInFlightPerApp < 0 || c.Notifications.MaxPendingPerCall < 0 {
		return errors.New("config: notifications.maxInFlightPerApp and maxPendingPerCall must not be negative; 0 takes the default")
	}
	if c.Idempotency.Retention <= 0 || c.Idempotency.MaxKeysPerApp <= 0 {
		return errors.New("config: idempotency: retention and maxKeysPerApp must be > 0")
	}
	if c.Throttle.Requests < 0 || c.Throttle.MaxInFlight < 0 || (c.Throttle.Requests > 0 && c.Throttle.Period <= 0) {
		return errors.New("config: throttle: requests and maxInFlight must be >= 0, and period > 0 when requests is set")
	}
	if err := c.Media.validate(); err != nil {
		return err
	}
	if _, err := sim.NewDirectory(time.Duration(c.Simulation.AnswerDelay), c.Simulation.Identities); err != nil {
		return fmt.Errorf("config: simulation: %w", err)
	}
	if err := c.validateTelemetry(); err != nil {
		return err
	}
	return c.validateDevListeners()
}

// StoreSpec is what store.Open opens: Store when set, otherwise the SQLite
// database file in DataDir.
func (c *Config) StoreSpec() string {
	if c.Store != "" {
		return c.Store
	}
	return filepath.Join(c.DataDir, DatabaseFile)
}

func off(addr string) bool { return addr == "" || strings.EqualFold(addr, "off") }

func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		return "***" + dsn[i:]
	}
	return dsn
}

// WebRTCConfig is the webrtc: section: how browsers reach the server's
// media (docs/console.md).
type WebRTCConfig struct {
	// Addresses are the IP addresses ICE offers browsers. Default: the
	// loopback address in development mode, every interface's otherwise.
	// Behind NAT, give the address browsers can reach.
	Addresses []string `yaml:"addresses"`
	// PortMin and PortMax bound the UDP ports; 0 and 0 mean any.
	PortMin uint16 `yaml:"portMin"`
	PortMax uint16 `yaml:"portMax"`
}
