// Command switchboard runs a self-hosted Microsoft Graph calls server.
//
// main only parses flags and subcommands; everything else lives in
// internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/devcert"
)

const usage = `Switchboard: a self-hosted Microsoft Graph calls API server.

Usage:
  switchboard serve [flags]     run the server (development mode by default)
  switchboard dev-cert [flags]  print the development CA certificate (PEM)
  switchboard apps <command>    register applications: create, list, rotate-secret, ...
  switchboard sip-accounts <command>  SIP accounts of phones that register: create, list, delete
  switchboard sim <command>     drive simulated people and phones on a running server
  switchboard callbacks [flags] receive, verify and print the callbacks a bot would get
  switchboard exec -- <command> run a command against a throwaway development server
  switchboard env [flags]       print the variables that reach a development server
  switchboard version           print the version
  switchboard help [command]    show help

Run 'switchboard help serve' for the server's flags.
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		var status exitStatus
		if errors.As(err, &status) {
			os.Exit(status.code) // switchboard exec: the command's own status
		}
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(rest, stderr)
	case "dev-cert":
		return devCert(rest, stdout, stderr)
	case "apps":
		return appsCmd(rest, stdout, stderr)
	case "sip-accounts":
		return sipAccountsCmd(rest, stdout, stderr)
	case "sim":
		return simCommand(rest, stdout, stderr)
	case "exec":
		return execCmd(rest, stdout, stderr)
	case "env":
		return envCmd(rest, stdout, stderr)
	case "callbacks":
		return callbacksCmd(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "switchboard", app.Version)
		return nil
	case "help", "-h", "--help":
		if len(rest) > 0 {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// serveFlags binds the serve flags to cfg. Each flag's default comes from
// its SWITCHBOARD_<NAME> environment variable when set.
func serveFlags(fs *flag.FlagSet, cfg *app.Config, configPath *string) {
	str := func(p *string, name, help string) {
		fs.StringVar(p, name, envOr(name, *p), help+" (env "+envName(name)+")")
	}
	fs.StringVar(configPath, "config", envOr("config", ""), "YAML configuration file; flags and environment override it (env SWITCHBOARD_CONFIG)")
	str(&cfg.Listen, "listen", "HTTP listen address; \"off\" disables it")
	str(&cfg.ListenTLS, "listen-tls", "HTTPS listen address; \"off\" disables it")
	str(&cfg.TLSCert, "tls-cert", "PEM certificate for --listen-tls; in dev mode a development certificate is generated when empty")
	str(&cfg.TLSKey, "tls-key", "PEM private key for --tls-cert")
	str(&cfg.DataDir, "data", "directory for the SQLite database and development certificates")
	str(&cfg.Store, "store", "store to use: empty for SQLite in --data, or a postgres://user:password@host:5432/db?sslmode=verify-full URL of an existing PostgreSQL database, which several servers may share (its password is never logged)")
	str(&cfg.Cluster.NodeName, "node-name", "with a PostgreSQL --store: this node's name in logs and the nodes table; empty: the host name")
	str(&cfg.Cluster.AdvertiseURL, "advertise-url", "with a PostgreSQL --store: the base URL other nodes forward this node's calls to, such as http://10.0.0.5:8080; empty: http:// and the --listen address, unless that is 0.0.0.0 or [::]")
	fs.Var(&cfg.Cluster.LeaseTTL, "lease-ttl", "with a PostgreSQL --store: how long this node's calls stay its own after its last heartbeat before other nodes take them over (renewed every third of it); 0: 15s (env "+envName("lease-ttl")+")")
	str(&cfg.LogLevel, "log-level", "log level: debug, info, warn or error")
	str(&cfg.LogFormat, "log-format", "log format: text (key=value) or json (one object a line)")
	str(&cfg.MetricsListen, "metrics-listen", "address serving Prometheus metrics at /metrics, without authentication, such as 127.0.0.1:8081; \"off\" disables it")
	str(&cfg.Clock, "clock", "real, or virtual (development mode): time travels when POST /switchboard/v1/simulation/clock or `switchboard sim clock +45m` says so")
	str(&cfg.PprofListen, "pprof-listen", "loopback address serving net/http/pprof at /debug/pprof/, such as 127.0.0.1:6060; \"off\" disables it")
	str(&cfg.SIP.Listen, "sip-listen", "SIP address (UDP and TCP) for phones, PBXs and trunks, such as 127.0.0.1:5060; empty: 127.0.0.1:5060 in dev mode (any free port when --listen's port is 0), off otherwise; \"off\" disables it")
	fs.BoolVar(&cfg.Dev, "dev", envBool("dev", cfg.Dev), "development mode: well-known dev credentials, http:// callbacks to loopback, dev TLS certificate (env SWITCHBOARD_DEV)")
	fs.BoolVar(&cfg.DevAllowRemote, "dev-allow-remote", envBool("dev-allow-remote", cfg.DevAllowRemote), "let a development server listen on non-loopback addresses, exposing its well-known credentials, which hold every role, to whoever reaches it; logged at WARN (env SWITCHBOARD_DEV_ALLOW_REMOTE)")
	fs.Var(&cfg.Calls.EndedRetention, "ended-call-retention", "how long an ended call and its notification log stay in the store before a sweep deletes them, such as 24h or 168h; 0 keeps them forever (env "+envName("ended-call-retention")+")")
}

// durationsFromEnv sets each duration flag that the command line left out
// from its SWITCHBOARD_<NAME> environment variable, after parsing, so that
// a flag wins over the environment and a malformed value is an error.
func durationsFromEnv(fs *flag.FlagSet) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(*app.Duration); !ok || given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), serr)
			}
		}
	})
	return err
}

const serveHelp = `Usage: switchboard serve [flags]

Runs the Graph calls API (/v1.0 and /beta), its Entra-compatible token
service and the extension API (/switchboard/v1) on the same listeners.

With no flags it is a complete development server: HTTP on 127.0.0.1:8080,
HTTPS on 127.0.0.1:8443 with a generated development certificate (export its
CA with 'switchboard dev-cert'), data in ./switchboard-data, and the
well-known development application:
  tenant        0000000d-0000-4000-8000-000000000001
  client id     0000000d-0000-4000-8000-000000000002
  client secret switchboard-dev-secret
Since anyone may use these credentials, a development server listens on
loopback only (localhost, 127.0.0.0/8, ::1): it refuses 0.0.0.0, [::], an
empty host or another host name unless --dev-allow-remote is given. Use
--dev=false for a server others reach.

Metrics and profiles have listeners of their own, off by default, never the
API's: --metrics-listen 127.0.0.1:8081 serves Prometheus metrics at /metrics
(no token: bind it to loopback or a network only your monitoring reaches),
and --pprof-listen 127.0.0.1:6060 serves net/http/pprof (loopback only).

Precedence: flag > SWITCHBOARD_* environment variable > --config file > default.

Flags:
`

func serve(args []string, stderr io.Writer) error {
	cfg := app.Defaults()
	var configPath string
	// The config file is read first so that flags and environment override it.
	if p := findConfigArg(args); p != "" {
		if err := cfg.LoadFile(p); err != nil {
			return err
		}
	} else if p := os.Getenv(envName("config")); p != "" {
		if err := cfg.LoadFile(p); err != nil {
			return err
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveHelp); fs.PrintDefaults() }
	serveFlags(fs, &cfg, &configPath)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := durationsFromEnv(fs); err != nil {
		return err
	}
	log := app.NewLogger(stderr, cfg)
	a, err := app.New(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil {
		return err
	}
	if cfg.Dev {
		log.Warn("development mode: well-known credentials are active and http:// callbacks to loopback are allowed; use --dev=false in production")
	}
	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-a.Errors():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(runErr, a.Shutdown(sctx))
}

func devCert(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev-cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("data", app.Defaults().DataDir), "data directory of the server (env SWITCHBOARD_DATA)")
	out := fs.String("out", "", "write the CA certificate to this file instead of standard output")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: switchboard dev-cert [flags]\n\nPrints the development CA certificate that signs the HTTPS listener's\ndevelopment certificate, generating both on first use. Trust it in your\nclient, for example NODE_EXTRA_CA_CERTS=ca.pem or an x509.CertPool in Go.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := app.PrepareDataDir(*data); err != nil {
		return err
	}
	b, err := devcert.Ensure(*data, time.Now())
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b.CAPEM)
		return err
	}
	return os.WriteFile(*out, b.CAPEM, 0o644)
}

func findConfigArg(args []string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "config="); ok {
			return v
		}
		if a == "config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func envName(flagName string) string {
	return "SWITCHBOARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envOr(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}

func envBool(flagName string, def bool) bool {
	switch strings.ToLower(os.Getenv(envName(flagName))) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	return def
}
