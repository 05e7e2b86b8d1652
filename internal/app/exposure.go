package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// listenerFlag names a listener setting by its flag, for messages.
type listenerFlag struct{ flag, addr string }

// listeners returns every listener setting that is not off.
func (c *Config) listeners() []listenerFlag {
	var out []listenerFlag
	for _, l := range []listenerFlag{{"--listen", c.Listen}, {"--listen-tls", c.ListenTLS}, {"--metrics-listen", c.MetricsListen}, {"--pprof-listen", c.PprofListen}, {"--sip-listen", c.sipListen()}} {
		if !off(l.addr) {
			out = append(out, l)
		}
	}
	return out
}

// validateDevListeners keeps a development server on loopback: it serves
// the well-known development credentials, which hold every role, so a
// listener anyone else can reach hands the server to them. Loopback means
// localhost or a loopback IP address; an empty host, 0.0.0.0, [::] and
// host names other than localhost are not. DevAllowRemote lifts the rule.
func (c *Config) validateDevListeners() error {
	if !c.Dev || c.DevAllowRemote {
		return nil
	}
	for _, l := range c.listeners() {
		if err := LoopbackOnly(l.addr); err != nil {
			return fmt.Errorf("config: %s %q: %v: development mode serves the well-known development credentials, which hold every role, "+
				"so it listens on loopback only (such as 127.0.0.1:8080); run with --dev=false for a server others reach, "+
				"or give --dev-allow-remote to expose the development server anyway", l.flag, l.addr, err)
		}
	}
	return nil
}

// remoteListeners returns the listener settings that are not loopback.
func (c *Config) remoteListeners() []string {
	var out []string
	for _, l := range c.listeners() {
		if LoopbackOnly(l.addr) != nil {
			out = append(out, l.flag+"="+l.addr)
		}
	}
	return out
}

// PrepareDataDir makes sure dir can hold the database and its signing
// keys: it creates a missing dir with mode 0700 (set with Chmod, so the
// umask does not matter), and refuses an existing one that group or others
// may write to, since whoever can write there can replace the database,
// keys and all. The error names the directory and the fix.
func PrepareDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("app: data directory: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("app: data directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("app: data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("app: data directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("app: data directory %s is writable by group or others (mode %o), who could replace the database and its signing keys; "+
			"make it the owner's alone with: chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	return nil
}
