package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/devcert"
)

const execUsage = `Usage: switchboard exec [flags] -- <command> [args...]

Starts a development server on free loopback ports with a temporary data
directory, runs the command with the variables below in its environment,
stops the server, and exits with the command's status. For tests of a bot
in CI, or on a laptop:

  switchboard exec -- go test ./mybot/...
  switchboard exec --keep-data ./sb-data -- npm test

The command's environment gets:
  SWITCHBOARD_URL, SWITCHBOARD_HTTPS_URL  the server's HTTP and HTTPS base URLs
  SWITCHBOARD_TENANT, SWITCHBOARD_CLIENT_ID, SWITCHBOARD_CLIENT_SECRET
                    the development application (switchboard sim reads these)
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
                    the same, as azidentity's environment credential reads them
  SWITCHBOARD_CA    the development CA (PEM file) of the HTTPS listener
  NODE_EXTRA_CA_CERTS  the same, for Node
  SSL_CERT_FILE     the system's roots plus the development CA, for Go and
                    OpenSSL (when the system's bundle is found)

Flags:
`

// execCmd is switchboard exec.
func execCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("keep-data", "", "use this data directory and keep it (default: a temporary one, removed at the end)")
	clockFlag := fs.String("clock", "real", "the server's clock: real, or virtual (time travel: switchboard sim clock +45m)")
	fs.Usage = func() { fmt.Fprint(stderr, execUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	command := fs.Args()
	if len(command) == 0 {
		fs.Usage()
		return errors.New("exec: no command given: switchboard exec -- <command> [args...]")
	}
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "switchboard-exec-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "data")
	}
	cfg := app.Defaults()
	cfg.Dev, cfg.DataDir, cfg.Clock = true, dir, *clockFlag
	cfg.Listen, cfg.ListenTLS = "127.0.0.1:0", "127.0.0.1:0" // free ports; SIP takes one too
	cfg.LogLevel = "warn"
	if err := cfg.Validate(); err != nil {
		return err
	}
	a, err := app.New(cfg, app.NewLogger(stderr, cfg))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Shutdown(sctx); err != nil {
			slog.Warn("exec: stopping the server", "err", err)
		}
	}()
	select {
	case <-a.Ready():
	case err := <-a.Errors():
		return err
	}
	vars, err := devEnv("http://"+a.Addr("http"), "https://"+a.Addr("https"), dir)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = os.Environ()
	for _, k := range sortedKeys(vars) {
		cmd.Env = append(cmd.Env, k+"="+vars[k])
	}
	// An interrupt goes to the command, which decides; the server stops after it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code := exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal()) // as a shell reports it
		}
		return exitStatus{code}
	}
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

// exitStatus is an error that makes switchboard exit with code, silently:
// the status of the command that exec ran.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("the command exited with status %d", e.code) }

// devEnv is what a development server's clients need to reach it: its URLs,
// the development application's credentials and the development CA. It
// writes the CA bundles into dir.
func devEnv(httpURL, httpsURL, dir string) (map[string]string, error) {
	b, err := devcert.Ensure(dir, time.Now())
	if err != nil {
		return nil, err
	}
	ca := filepath.Join(dir, devcert.CAFile)
	vars := map[string]string{
		"SWITCHBOARD_URL": httpURL, "SWITCHBOARD_HTTPS_URL": httpsURL,
		"SWITCHBOARD_TENANT": auth.DevTenantID, "SWITCHBOARD_CLIENT_ID": auth.DevClientID, "SWITCHBOARD_CLIENT_SECRET": auth.DevClientSecret,
		"AZURE_TENANT_ID": auth.DevTenantID, "AZURE_CLIENT_ID": auth.DevClientID, "AZURE_CLIENT_SECRET": auth.DevClientSecret,
		"SWITCHBOARD_CA": ca, "NODE_EXTRA_CA_CERTS": ca,
	}
	if roots := systemRoots(); roots != nil {
		bundle := filepath.Join(dir, "ca-bundle.pem")
		if err := os.WriteFile(bundle, append(append(roots, '\n'), b.CAPEM...), 0o644); err != nil {
			return nil, err
		}
		vars["SSL_CERT_FILE"] = bundle
	}
	return vars, nil
}

// systemRoots returns the system's CA bundle (the files Go reads on Linux
// and the BSDs), or nil when none is found.
func systemRoots() []byte {
	for _, f := range []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL
		"/etc/ssl/ca-bundle.pem",                            // openSUSE
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
		"/etc/ssl/cert.pem",                                 // Alpine, macOS, BSD
	} {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// envCmd is switchboard env: the variables of a running development
// server, as shell exports.
func envCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpURL := fs.String("url", envOr("url", "http://127.0.0.1:8080"), "the server's HTTP base URL")
	httpsURL := fs.String("https-url", envOr("https-url", "https://127.0.0.1:8443"), "the server's HTTPS base URL")
	data := fs.String("data", envOr("data", app.Defaults().DataDir), "the server's data directory (its development CA)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: switchboard env [flags]\n\nPrints, as shell exports, what a bot, a test runner or switchboard sim\nneeds to reach a development server: eval \"$(switchboard env)\".\nThe variables are those of switchboard exec (switchboard help exec).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	vars, err := devEnv(*httpURL, *httpsURL, *data)
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(vars) {
		fmt.Fprintf(stdout, "export %s=%s\n", k, shellQuote(vars[k]))
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
