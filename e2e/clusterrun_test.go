package e2e

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/pgtest"
)

// clusterRunEnv, set to 1, runs this package's tests against a cluster:
// every server the harness starts is two nodes on PostgreSQL behind a
// load balancer (startServerWith). scripts/test runs the package once
// without it and once with it.
const clusterRunEnv = "SWITCHBOARD_E2E_CLUSTER"

func clusterRun() bool { return os.Getenv(clusterRunEnv) == "1" }

// TestMain stops the PostgreSQL server that a cluster run's databases
// live on.
func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// clusterDatabases keeps a data directory's database, so that a test that
// restarts its server on the same directory finds its data again.
var clusterDatabases sync.Map // data directory -> postgres:// URL

// clusterDatabase is the database of the cluster run's server on dataDir:
// a new one on the shared PostgreSQL server the first time, dropped when
// the test ends.
func clusterDatabase(t *testing.T, dataDir string) string {
	t.Helper()
	if url, ok := clusterDatabases.Load(dataDir); ok {
		return url.(string)
	}
	url := pgtest.Database(t)
	clusterDatabases.Store(dataDir, url)
	t.Cleanup(func() { clusterDatabases.Delete(dataDir) })
	return url
}

// front is the load balancer of a cluster run, in front of the nodes'
// listeners of one kind: a TCP proxy on loopback that gives each new
// connection to the next node in turn, as a round-robin load balancer
// does (TLS passes through to the node). It is bound before the nodes
// start, so that they can be told its URL (publicUrl), and stops when the
// test ends.
type front struct {
	ln    net.Listener
	next  atomic.Uint32
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// listenFront binds a front on a free loopback port.
func listenFront(t *testing.T) *front {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{ln: ln, conns: map[net.Conn]bool{}}
	t.Cleanup(f.close)
	return f
}

// Addr is the front's address, host:port.
func (f *front) Addr() string { return f.ln.Addr().String() }

// serve starts handing connections to the targets (host:port), in turn.
func (f *front) serve(targets []string) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			in, err := f.ln.Accept()
			if err != nil {
				return // closed at the end of the test
			}
			target := targets[int(f.next.Add(1)-1)%len(targets)]
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return // the node is gone: the client sees a closed connection
				}
				defer out.Close()
				f.track(in, out, true)
				defer f.track(in, out, false)
				pipe(in, out)
			}()
		}
	}()
}

func (f *front) track(a, b net.Conn, open bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range []net.Conn{a, b} {
		if open {
			f.conns[c] = true
		} else {
			delete(f.conns, c)
		}
	}
}

func (f *front) close() {
	f.ln.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// pipe copies both ways until either side is done, then closes both.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // a reset ends the pair as a close does
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}
