package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/devcert"
	"github.com/switchboard-dev/switchboard/internal/sim"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/pgtest"
)

// The cluster test runs three Switchboard nodes as processes of their own
// on one PostgreSQL server (a fresh one, on loopback), so that a node can be
// killed with SIGKILL as a machine dies. Each node is this test binary run
// again with SWITCHBOARD_E2E_NODE set: TestClusterNode then runs one
// server until it is signalled.

// nodeEnv carries a node's configuration to the child process (JSON).
const nodeEnv = "SWITCHBOARD_E2E_NODE"

// nodeSpec is what a node process is told.
type nodeSpec struct {
	Name     string
	Store    string
	DataDir  string
	LeaseTTL time.Duration
	Webhook  string
	AddrFile string // where the node writes its listeners' addresses once ready
}

// clusterLeaseTTL is the nodes' lease TTL: a killed node's calls move
// within it plus a heartbeat (a third of it).
const clusterLeaseTTL = 3 * time.Second

// The people the cluster test calls: the first hangs up long after it
// answered (its call outlives the node that placed it), the second never.
var (
	clusterPerson  = sim.Rule{ID: "7a000000-0000-4000-8000-00000000c1a0", DisplayName: "Cluster person", HangUpAfter: "15s"}
	clusterPerson2 = sim.Rule{ID: "7a000000-0000-4000-8000-00000000c1a1", DisplayName: "Cluster person 2"}
)

// TestClusterNode is a node process of the cluster test; it does nothing
// unless the test runs it as one.
func TestClusterNode(t *testing.T) {
	raw := os.Getenv(nodeEnv)
	if raw == "" {
		t.Skip("run as a child process by TestCluster")
	}
	var spec nodeSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	cfg := app.Defaults()
	cfg.Listen, cfg.ListenTLS = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir, cfg.Store, cfg.Dev = spec.DataDir, spec.Store, true
	cfg.SIP.Listen = "off"
	cfg.Cluster = app.ClusterConfig{NodeName: spec.Name, LeaseTTL: app.Duration(spec.LeaseTTL)}
	cfg.Simulation.AnswerDelay = app.Duration(50 * time.Millisecond)
	cfg.Simulation.Identities = []sim.Rule{clusterPerson, clusterPerson2}
	cfg.Notifications.MaxBackoff = app.Duration(200 * time.Millisecond)
	cfg.Notifications.MaxAttempts = 1000
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", spec.Name)
	a, err := app.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-a.Ready()
	addrs, _ := json.Marshal(map[string]string{"http": a.Addr("http"), "https": a.Addr("https")})
	if err := os.WriteFile(spec.AddrFile+".tmp", addrs, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(spec.AddrFile+".tmp", spec.AddrFile); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done() // SIGTERM: drain and stop; SIGKILL never gets here
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
}

// clusterNode is a running node process.
type clusterNode struct {
	name        string
	cmd         *exec.Cmd
	done        chan struct{} // closed once the process exited
	err         error         // its exit, once done is closed
	HTTP, HTTPS string
}

// startClusterNode runs a node process and waits until it serves.
func startClusterNode(t *testing.T, spec nodeSpec) *clusterNode {
	t.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^TestClusterNode$", "-test.v", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), nodeEnv+"="+string(raw))
	logFile, err := os.Create(filepath.Join(filepath.Dir(spec.AddrFile), spec.Name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{name: spec.Name, cmd: cmd, done: make(chan struct{})}
	go func() { n.err = cmd.Wait(); logFile.Close(); close(n.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("node %s log:\n%s", spec.Name, tail(string(b), 12000))
		}
	})
	deadline := time.Now().Add(2 * time.Minute) // a cold start on a busy machine
	for {
		b, err := os.ReadFile(spec.AddrFile)
		if err == nil {
			var addrs map[string]string
			if err := json.Unmarshal(b, &addrs); err != nil {
				t.Fatal(err)
			}
			n.HTTP, n.HTTPS = "http://"+addrs["http"], "https://"+addrs["https"]
			return n
		}
		select {
		case <-n.done:
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("node %s exited before it was ready: %v\n%s", spec.Name, n.err, tail(string(b), 8000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not ready after 2 minutes", spec.Name)
		}
	}
}

// kill ends the node at once, as a machine that dies (SIGKILL).
func (n *clusterNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.done
}

// terminate asks the node to drain and stop (SIGTERM) and waits for it.
func (n *clusterNode) terminate(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.done:
		if n.err != nil {
			t.Fatalf("node %s did not stop cleanly: %v", n.name, n.err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("node %s still running a minute after SIGTERM", n.name)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestCluster: three nodes on one PostgreSQL. A bot creates calls through
// different nodes and acts on them through nodes that do not own them
// (requests are forwarded). The node that owns live calls is killed with
// SIGKILL mid-call: the calls go on under another node (the simulated
// person hangs up on schedule, and the bot's callbacks arrive in order with
// no gap and no loss). A node stopped with SIGTERM hands its call over
// without ending it. The bot is the official msgraph-sdk-go client.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three server processes")
	}
	if clusterRun() {
		t.Skip("runs in the single-node run: it starts its own cluster")
	}
	pg := pgtest.Start(t)
	dbURL := pg.CreateDatabase(t)
	// Migrate once, before the nodes start; share one data directory, for
	// the development certificate the bot trusts (and the recordings).
	s, err := store.Open(t.Context(), dbURL, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	dataDir := t.TempDir()
	if err := app.PrepareDataDir(dataDir); err != nil {
		t.Fatal(err)
	}
	certs, err := devcert.Ensure(dataDir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	rcv.timeout = time.Minute
	dir := os.Getenv("SWITCHBOARD_E2E_CLUSTER_DIR") // to keep the nodes' logs
	if dir == "" {
		dir = t.TempDir()
	}
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		name := fmt.Sprintf("node%d", i+1)
		nodes[i] = startClusterNode(t, nodeSpec{Name: name, Store: dbURL, DataDir: dataDir, LeaseTTL: clusterLeaseTTL,
			AddrFile: filepath.Join(dir, name+".json")})
	}
	bots := make([]*bot, 3)
	for i, n := range nodes {
		bots[i] = newBotAt(t, n.HTTPS, certs.CAPEM, devApp)
	}

	// Calls created through nodes 1 and 2; each read and acted on through
	// the node after it.
	ids := make([]string, 2)
	for i := range ids {
		person := []string{clusterPerson.ID, clusterPerson2.ID}[i]
		ids[i] = str(createCall(t, bots[i].GraphServiceClient, callRequest(rcv.URL(), person)).GetId())
		rcv.expectStates(t, ids[i], 0, "updated:establishing", "updated:established")
		other := bots[i+1]
		if got, err := other.call(ids[i]).Get(t.Context(), nil); err != nil || str(got.GetId()) != ids[i] {
			t.Fatalf("get call %d through node %d: %s", i+1, i+2, describe(err))
		}
		send := communications.NewCallsItemSendDtmfTonesPostRequestBody()
		send.SetTones([]models.Tone{models.TONE1_TONE})
		send.SetClientContext(ptr("keys"))
		op, err := other.call(ids[i]).SendDtmfTones().Post(t.Context(), send, nil)
		if err != nil {
			t.Fatalf("sendDtmfTones on call %d through node %d: %s", i+1, i+2, describe(err))
		}
		rcv.operationDone(t, ids[i], str(op.GetId()), "keys")
	}

	// Node 1 dies with call 1 live; another node carries it on: the
	// person's hang-up, due 15 s after joining, ends it there.
	nodes[0].kill(t)
	killed := time.Now()
	n := rcv.First(t, ids[0], "call 1 ended by the person after node 1 died", func(n notification) bool { return n.State() == "terminated" })
	checkResult(t, n, 200, 4521)
	t.Logf("call 1 ended %v after node 1 was killed", time.Since(killed).Round(time.Millisecond))
	if _, err := bots[2].call(ids[0]).Get(t.Context(), nil); err == nil {
		t.Error("call 1 is still live after the person hung up")
	}

	// Node 2 drains with call 2 live: the call goes on under node 3, which
	// a hang-up through it reaches.
	nodes[1].terminate(t)
	if got, err := bots[2].call(ids[1]).Get(t.Context(), nil); err != nil || got.GetState() == nil {
		t.Fatalf("call 2 through node 3 after node 2 drained: %s", describe(err))
	}
	mark := rcv.lastSeq(ids[1])
	if err := bots[2].call(ids[1]).Delete(t.Context(), nil); err != nil {
		t.Fatalf("hang up call 2 through node 3: %s", describe(err))
	}
	rcv.expectStates(t, ids[1], mark, "updated:terminating", "deleted:terminated")
	// The receiver fails the test at its end if any notification came out
	// of order, twice with different bodies, or not at all (a gap).
}

// newBotAt is newBot against a server given by its HTTPS base URL and the
// development CA it presents.
func newBotAt(t *testing.T, httpsURL string, ca []byte, a appCreds) *bot {
	t.Helper()
	cred := newAppCredential(t, httpsURL+"/", devHTTPClient(t, ca), a.tenant, a.clientID, a.secret)
	w := &wireLog{next: devTransport(t, ca)}
	return &bot{GraphServiceClient: newGraphClientOver(t, cred, httpsURL+"/v1.0", w), wire: w}
}
