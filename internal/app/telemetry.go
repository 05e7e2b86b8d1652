package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/extapi"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/recordings"
	"github.com/switchboard-dev/switchboard/internal/telemetry"
)

// validateTelemetry checks the log format and the metrics and profiling
// listeners.
func (c *Config) validateTelemetry() error {
	switch strings.ToLower(c.LogFormat) {
	case "", "text", "json":
	default:
		return fmt.Errorf("config: log format %q: use text or json", c.LogFormat)
	}
	if !off(c.MetricsListen) {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("config: --metrics-listen %q: %w (use an address such as 127.0.0.1:8081, or off)", c.MetricsListen, err)
		}
	}
	if !off(c.PprofListen) {
		if err := LoopbackOnly(c.PprofListen); err != nil {
			return fmt.Errorf("config: --pprof-listen %q: %w; profiles show the process's memory and stacks and cost CPU while they run, "+
				"so they are served on loopback only (such as 127.0.0.1:6060; reach it from elsewhere through an SSH tunnel)", c.PprofListen, err)
		}
	}
	return nil
}

// loopbackOnly accepts host:port where host is a loopback IP address or
// "localhost".
func LoopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	if host == "" {
		return errors.New("an empty host listens on every interface, not on loopback")
	}
	return errors.New("not a loopback address")
}

// NewLogger returns the server's logger for the configured level and
// format, writing to w.
func NewLogger(w io.Writer, cfg Config) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newMetrics returns the metrics when --metrics-listen asks for them, or
// nil. Their gauges read the services at scrape time, once Start has built
// them (the metrics listener starts after that).
func (a *App) newMetrics() *telemetry.Metrics {
	if off(a.cfg.MetricsListen) {
		return nil
	}
	return telemetry.New(telemetry.Config{Version: Version, Sources: telemetry.Sources{
		CallsByState: func() map[string]int {
			counts := a.calls.CountByState()
			byName := make(map[string]int, int(calls.StateTerminated))
			for s := calls.StateIncoming; s < calls.StateTerminated; s++ {
				byName[s.String()] = counts[s]
			}
			return byName
		},
		OutboxDepth: func() int { return a.notify.Backlog() },
		Media: func() telemetry.MediaStats {
			s := a.engine.Stats()
			return telemetry.MediaStats{
				Rooms: s.Rooms, AwakeRooms: s.AwakeRooms, Legs: s.Members,
				Frames: s.Frames, RoomTicks: s.RoomTicks, SkippedFrames: s.Skipped,
				Lag: s.Lag, LagSum: s.LagSum,
			}
		},
		SIP: a.sipStats(),
	}})
}

// sipStats reports the SIP server's figures, or nil when SIP is off. The
// server starts after the metrics are made: before that it reports zeros.
func (a *App) sipStats() func() telemetry.SIPStats {
	if a.cfg.sipListen() == "" {
		return nil
	}
	return func() telemetry.SIPStats {
		if a.sip == nil {
			return telemetry.SIPStats{}
		}
		s := a.sip.Stats()
		return telemetry.SIPStats{Dialogs: s.Dialogs, RTPReceived: s.RTPReceived, RTPSent: s.RTPSent, RTPLost: s.RTPLost, RTPKeys: s.RTPKeys}
	}
}

// batchObserver feeds the store's write transactions to the metrics.
func (a *App) batchObserver() func(int, time.Duration) {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.StoreBatch
}

// deliveryObserver feeds notification delivery attempts to the metrics.
// The latency runs from the commit to the acknowledgement on the server's
// clock, the one that stamped the commit.
func (a *App) deliveryObserver() func(notify.Delivery, int, error, bool, bool) {
	if a.metrics == nil {
		return nil
	}
	return func(d notify.Delivery, _ int, _ error, delivered, gaveUp bool) {
		latency := time.Duration(-1)
		if delivered && !d.Replay && !d.CreatedAt.IsZero() {
			latency = a.clock.Now().Sub(d.CreatedAt)
		}
		a.metrics.DeliveryResult(delivered, gaveUp, latency)
	}
}

// callObserver feeds committed call changes to the metrics and to the
// console's live view.
func (a *App) callObserver() calls.Observer {
	o := observers{hub: a.hub, streams: a.streams}
	if a.metrics != nil {
		o.metrics = callMetrics{a.metrics}
	}
	return o
}

type callMetrics struct{ m *telemetry.Metrics }

func (o callMetrics) CallChanged(from calls.State, c *calls.Call) {
	if from == calls.StateUnknown {
		o.m.CallCreated(c.Direction)
	}
	switch {
	case c.State == calls.StateEstablished && (from == calls.StateUnknown || from == calls.StateIncoming || from == calls.StateEstablishing):
		o.m.CallAnswered(c.Direction) // not a return from hold or a failed transfer
	case c.State.Ended():
		var code, subcode int
		if c.Result != nil {
			code, subcode = int(c.Result.Code), int(c.Result.Subcode)
		}
		o.m.CallEnded(code, subcode)
	}
}

// routeLabel names a request's route template for the HTTP metrics, as
// the handler tree of App.handler dispatches it.
func (a *App) routeLabel() func(*http.Request) string {
	ext := telemetry.NewRouteTable(extapi.Routes()...)
	tokens := telemetry.NewRouteTable(auth.Routes()...)
	return func(r *http.Request) string {
		first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch strings.ToLower(first) {
		case "v1.0", "beta":
			return graph.RouteLabel(r.Method, r.URL.Path)
		case "switchboard":
			if strings.HasPrefix(r.URL.Path, recordings.PathPrefix) {
				return recordings.PathPrefix + "{id}"
			}
			if _, ok := mediaCallID(r.URL.Path); ok {
				return mediaPathPrefix + "{id}" + mediaPathSuffix // its duration is the stream's life
			}
			return ext.Route(r)
		}
		return tokens.Route(r)
	}
}

// listenTelemetry starts the metrics and profiling listeners the
// configuration asks for, each with a mux of its own.
func (a *App) listenTelemetry() error {
	if a.metrics != nil {
		ln, err := net.Listen("tcp", a.cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("app: --metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.Handler())
		a.serveAux("metrics", ln, mux, 30*time.Second)
	}
	if !off(a.cfg.PprofListen) {
		ln, err := net.Listen("tcp", a.cfg.PprofListen)
		if err != nil {
			return fmt.Errorf("app: --pprof-listen: %w", err)
		}
		// A CPU profile or trace streams for as long as it was asked to
		// (?seconds=N), so no write timeout.
		a.serveAux("pprof", ln, telemetry.ProfileHandler(), 0)
	}
	return nil
}

// serveAux serves h on ln like serve, with its own write timeout; Shutdown
// stops it with the others.
func (a *App) serveAux(name string, ln net.Listener, h http.Handler, writeTimeout time.Duration) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.servers = append(a.servers, srv)
	a.addrs[name] = ln.Addr().String()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("app: listener failed", "scheme", name, "err", err)
			a.serveErrs <- err
		}
	}()
}
