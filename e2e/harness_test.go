package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
)

// The development application that dev mode registers (auth.DevApp).
const (
	devTenant   = auth.DevTenantID
	devClientID = auth.DevClientID
	devSecret   = auth.DevClientSecret
)

// waitTimeout bounds every wait in these tests. It is a failure timeout, not
// a pace: a healthy run is done with each wait in milliseconds.
const waitTimeout = 10 * time.Second

// server is one in-process Switchboard App started for a test; in a
// cluster run, a node of a two-node cluster behind a load balancer.
type server struct {
	*app.App
	// peers are the other nodes of a cluster run (none otherwise).
	peers   []*app.App
	DataDir string
	// HTTPS and HTTP are the base URLs of the two listeners, such as
	// "https://127.0.0.1:41234" (no trailing slash); in a cluster run, of
	// the load balancer in front of the nodes.
	HTTPS, HTTP string
	stopped     bool
}

// startServer starts an App in development mode on loopback ports chosen by
// the kernel, with its data in dataDir (a new temporary directory when
// dataDir is ""), and waits until it accepts connections. The App is shut
// down when the test ends unless the test stopped it first.
func startServer(t *testing.T, dataDir string) *server {
	t.Helper()
	return startServerWith(t, dataDir, nil)
}

// startServerWith is startServer with configure applied to the
// configuration last, when it is not nil: for tests that register more
// applications or give simulated identities their behaviour.
// opts are passed to app.New (app.WithManualMedia for tests that listen to
// audio).
func startServerWith(t *testing.T, dataDir string, configure func(*app.Config), opts ...app.Option) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := app.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.ListenTLS = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.Dev = true
	cfg.Simulation.AnswerDelay = app.Duration(50 * time.Millisecond)
	// Retry failed callbacks quickly, and often enough that a receiver that
	// is down for a while on a slow CI machine loses nothing.
	cfg.Notifications.MaxBackoff = app.Duration(200 * time.Millisecond)
	cfg.Notifications.MaxAttempts = 1000
	if configure != nil {
		configure(&cfg)
	}

	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	if !clusterRun() {
		a := startApp(t, cfg, log, opts...)
		s := &server{App: a, DataDir: dataDir, HTTPS: "https://" + a.Addr("https"), HTTP: "http://" + a.Addr("http")}
		t.Cleanup(func() { s.stop(t) })
		return s
	}
	// A cluster run: two nodes on one PostgreSQL database and one data
	// directory (shared recordings), behind a load balancer that gives
	// each connection to the next node; the test's clients open one
	// connection per request (devTransport, plainClient), so requests
	// alternate between nodes and half of them are forwarded.
	// The nodes name themselves by the front's HTTPS URL (publicUrl), as
	// nodes behind a load balancer must: an issuer or a link with a node's
	// own address would not match what the bot reached.
	fronts := map[string]*front{"https": listenFront(t), "http": listenFront(t)}
	cfg.Store = clusterDatabase(t, dataDir)
	cfg.Cluster.LeaseTTL = app.Duration(clusterLeaseTTL)
	cfg.PublicURL = "https://" + fronts["https"].Addr()
	s := &server{DataDir: dataDir, HTTPS: "https://" + fronts["https"].Addr(), HTTP: "http://" + fronts["http"].Addr()}
	t.Cleanup(func() { s.stop(t) })
	for i, name := range []string{"a", "b"} {
		node := cfg
		node.Cluster.NodeName = name
		// Recordings of its own: a node serves the other's through it.
		node.Media.RecordingDir = filepath.Join(dataDir, "recordings-"+name)
		if i > 0 {
			node.SIP.Listen = "off" // phones talk to the first node
		}
		a := startApp(t, node, log.With("node", name), opts...)
		if i == 0 {
			s.App = a
		} else {
			s.peers = append(s.peers, a)
		}
	}
	for kind, f := range fronts {
		var targets []string
		for _, a := range s.nodes() {
			targets = append(targets, a.Addr(kind))
		}
		f.serve(targets)
	}
	return s
}

// startApp starts one App and waits until it accepts connections.
func startApp(t *testing.T, cfg app.Config, log *slog.Logger, opts ...app.Option) *app.App {
	t.Helper()
	a, err := app.New(cfg, log, opts...)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	select {
	case <-a.Ready():
	case err := <-a.Errors():
		t.Fatalf("app: listener failed: %v", err)
	case <-ctx.Done():
		t.Fatalf("app: not ready after %v", waitTimeout)
	}
	if len(a.DevCA()) == 0 {
		t.Fatal("app: no development CA although the HTTPS listener uses the development certificate")
	}
	return a
}

// nodes are the server's Apps: one, or each node of a cluster run.
func (s *server) nodes() []*app.App {
	if s.App == nil {
		return s.peers
	}
	return append([]*app.App{s.App}, s.peers...)
}

// StepMedia advances every node's media engine (app.WithManualMedia): a
// call's media lives on whichever node owns it.
func (s *server) StepMedia(ctx context.Context, d time.Duration) error {
	for _, a := range s.nodes() {
		if err := a.StepMedia(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// stop shuts the Apps down gracefully, one after the other (a cluster's
// first node hands its calls to the second, which hands them to the
// nodes of a restart); a second call does nothing.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	for _, a := range s.nodes() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("app.Shutdown: %v", err)
		}
		cancel()
	}
}

// devHTTPClient returns an HTTP client that trusts the development CA in
// caPEM (app.DevCA, or `switchboard` writes it into the data directory) on
// top of nothing else: a client for Switchboard only.
func devHTTPClient(t testing.TB, caPEM []byte) *http.Client {
	t.Helper()
	return &http.Client{Transport: devTransport(t, caPEM), Timeout: 30 * time.Second}
}

// devTransport is http.DefaultTransport with the development CA as the only
// trusted root.
func devTransport(t testing.TB, caPEM []byte) *http.Transport {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("development CA: no certificate in the PEM")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.Proxy = nil                      // never send loopback traffic to an HTTPS_PROXY of the CI machine
	tr.DisableKeepAlives = clusterRun() // each request to the next node
	return tr
}
