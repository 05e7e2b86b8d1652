// Command sbload puts load on a Switchboard server, or on the bare baseline
// of bench/cmd/baseline, and reports throughput and latency.
//
//	sbload -mode get -target http://127.0.0.1:8080 -c 16 -d 10s
//	sbload -mode idle -n 10000 -server-pid 1234 -metrics http://127.0.0.1:8081/metrics
//	sbload -mode sip-out -callee <user bound to a SIP peer> -rate 100 -n 1000 -server-pid 1234 -peer-pid 1235
//	sbload -mode create -target http://127.0.0.1:8081,http://127.0.0.1:8082 -server-pid 1234,1235 -db-pid 1200
//	sbload -mode failover -target http://127.0.0.1:8081,http://127.0.0.1:8082 -kill-pid 1234 -callee <a user who hangs up>
//	sbload -mode stream -n 100 -server-pid 1234 -metrics http://127.0.0.1:8081/metrics [-service-hosted]
//	sbload -report results.jsonl
//
// Each run prints a human summary on standard error and one JSON line on
// standard output; -report turns a file of those lines into a table.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/switchboard-dev/switchboard/bench/internal/load"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "sbload:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg := load.Defaults()
	fs := flag.NewFlagSet("sbload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", string(cfg.Mode), "create, get, list, established, idle, media, sip-out, failover or stream")
	fs.StringVar(&cfg.Target, "target", cfg.Target, "server base URL; or several, comma-separated (the nodes of a cluster): create, get, list and established mode send each worker's requests to them in turn, failover mode creates through the first and kills it")
	fs.StringVar(&cfg.Token, "token", "", "bearer token; empty fetches one with the client credentials, \"none\" sends no Authorization header")
	fs.StringVar(&cfg.TenantID, "tenant", cfg.TenantID, "tenant of the token request")
	fs.StringVar(&cfg.ClientID, "client-id", cfg.ClientID, "client id of the token request")
	fs.StringVar(&cfg.ClientSecret, "client-secret", cfg.ClientSecret, "client secret of the token request")
	fs.IntVar(&cfg.Concurrency, "c", cfg.Concurrency, "workers (requests in flight); in established mode with -rate, the most in flight; in idle and media mode, the workers that set the calls up")
	fs.DurationVar(&cfg.Duration, "d", cfg.Duration, "measured duration")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured load before the measured duration")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "timeout of each request")
	fs.IntVar(&cfg.Calls, "n", cfg.Calls, fmt.Sprintf("calls to create first (get mode; list mode creates none unless set; default %d in idle mode, %d in media mode, %d in sip-out mode, %d in stream mode)", load.DefaultCalls(load.ModeIdle), load.DefaultCalls(load.ModeMedia), load.DefaultCalls(load.ModeSIPOut), load.DefaultCalls(load.ModeStream)))
	fs.Float64Var(&cfg.Rate, "rate", 0, "established mode: calls per second (0: closed loop of -c workers); sip-out mode: the calls placed per second (required)")
	fs.StringVar(&cfg.Callee, "callee", "", "sip-out mode: the user id the calls go to, bound to a SIP peer that answers and echoes RTP (or a simulated user, for the baseline); failover mode: a simulated user who hangs up on its own (hangUpAfter) sooner than a lease TTL")
	fs.BoolVar(&cfg.NoMedia, "no-media", false, "sip-out mode: start no recordResponse on the calls")
	fs.BoolVar(&cfg.ServiceHosted, "service-hosted", false, "stream mode: the baseline: service-hosted media and no bots (the same calls, speech and probe requests)")
	fs.IntVar(&cfg.Probes, "probes", cfg.Probes, fmt.Sprintf("stream mode: latency probes per call in the measured window (-1: %d)", load.DefaultProbes))
	fs.IntVar(&cfg.PeerPID, "peer-pid", 0, "the SIP peer's process id (sipp), to report its CPU apart from other processes' (Linux)")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "established mode: how long to wait for outstanding callbacks")
	fs.DurationVar(&cfg.EstablishWait, "establish-wait", cfg.EstablishWait, "idle, media, sip-out and stream mode: how long to wait for the calls' \"established\" callbacks")
	fs.DurationVar(&cfg.Prompt, "prompt", 0, "media and sip-out mode: length of the prompt played before each recorder (0: -warmup plus half of -d)")
	fs.StringVar(&cfg.MetricsURL, "metrics", "", "idle, media, sip-out and stream mode: the server's Prometheus /metrics URL, for the media engine's figures")
	fs.StringVar(&cfg.ListQuery, "query", "", "list mode: query string, e.g. '$top=100'")
	fs.StringVar(&cfg.CallbackURI, "callback-uri", "", "callbackUri of created calls (default: a receiver sbload runs)")
	fs.StringVar(&cfg.CallbackListen, "callback-listen", cfg.CallbackListen, "address of sbload's callback receiver")
	fs.StringVar(&cfg.Label, "label", "", "name of the run in the results (default: the mode)")
	serverPIDs := fs.String("server-pid", "", "the server's process id, to report its CPU use, and its memory in idle, media and sip-out mode (Linux; required in those modes); or several, comma-separated (a cluster's nodes), whose CPU is summed")
	fs.IntVar(&cfg.DBPID, "db-pid", 0, "the database server's main process id (PostgreSQL's postmaster), to report the CPU of it and its children apart (Linux)")
	fs.StringVar(&cfg.WindowCmd, "window-cmd", "", "create, get, list and established mode: a shell command run at both ends of the measured window that prints name=number counters (such as the database's transactions); the result reports their growth")
	fs.IntVar(&cfg.KillPID, "kill-pid", 0, "failover mode: the process id of the first target's node, which is killed with SIGKILL once its calls are established")
	quiet := fs.Bool("q", false, "print only the JSON line")
	report := fs.String("report", "", "print a table of the JSON lines in this file ('-': standard input) instead of running")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: sbload [flags]\n\nLoad generator for Switchboard; see docs/performance.md.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *serverPIDs != "" {
		for _, f := range strings.Split(*serverPIDs, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || pid <= 0 {
				return fmt.Errorf("-server-pid %q: want process ids separated by commas", *serverPIDs)
			}
			cfg.ServerPIDs = append(cfg.ServerPIDs, pid)
		}
	}
	if *report != "" {
		return printReport(*report, stdout)
	}
	var err error
	if cfg.Mode, err = load.ParseMode(*mode); err != nil {
		return err
	}
	if !flagSet(fs, "n") {
		cfg.Calls = load.DefaultCalls(cfg.Mode)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if !*quiet {
		res.WriteSummary(stderr)
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}

func printReport(path string, stdout io.Writer) error {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	results, err := load.ReadResults(in)
	if err != nil {
		return err
	}
	load.Report(stdout, results)
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
