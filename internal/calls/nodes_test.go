package calls_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/calls/callstest"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/sim"
)

// partitioned is a node's view of the cluster that can be cut: a node whose
// heartbeats stop reaching the store (a network partition, a long pause)
// while its commits, worst case, still do.
type partitioned struct {
	calls.Cluster
	cut atomic.Bool
}

var errCut = errors.New("test: the node is cut off")

func (p *partitioned) Heartbeat(ctx context.Context, n calls.Node, first bool) error {
	if p.cut.Load() {
		return errCut
	}
	return p.Cluster.Heartbeat(ctx, n, first)
}

func (p *partitioned) Claim(ctx context.Context, node string, now time.Time, limit int) ([]calls.Claimed, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Cluster.Claim(ctx, node, now, limit)
}

// adopted collects what a node's Adopted hook hears.
type adopted struct {
	mu    sync.Mutex
	calls []string
}

func (a *adopted) add(_ context.Context, ids []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, ids...)
	return nil
}
func (a *adopted) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// newNode runs a Service as node id of a cluster on store.
func newNode(t *testing.T, store *callstest.Store, id string, cluster calls.Cluster, hook *adopted, rules ...sim.Rule) *fixture {
	t.Helper()
	return newFixtureWith(t, store, func(c *calls.Config) {
		c.Cluster = cluster
		c.Node = calls.Node{ID: id, Name: id, Address: "http://" + id + ".test"}
		c.LeaseTTL = 15 * time.Second
		if hook != nil {
			c.Adopted = hook.add
		}
	}, rules...)
}

// A node cut off from the cluster loses its conversations to another,
// which carries them on: the simulated person's hang-up, a timer set on the
// first node, fires on the second, and the call's notifications go on with
// the next sequence number. The first node, still able to write, is fenced
// off: its own copy of the timer commits nothing, and it sends requests
// for the call to the new owner.
func TestNodeCutOffLosesConversationsToAnother(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		rule := sim.Rule{ID: "dora", HangUpAfter: "2m"}
		viewA := &partitioned{Cluster: store}
		var hook adopted
		a := newNode(t, store, "a", viewA, nil, rule)
		b := newNode(t, store, "b", store, &hook, rule)

		leg, err := a.svc.Create(t.Context(), alice, p2p("dora"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // dora answers after 1 s
		synctest.Wait()
		before := notifications(t, a, leg.ID)
		if last := before[len(before)-1]; last.state != "established" {
			t.Fatalf("on node a: %+v, want the call established", before)
		}
		// b does not hold a's call; it knows where it is.
		var elsewhere *calls.ElsewhereError
		if _, err := b.svc.Get(t.Context(), alice, leg.ID); !errors.As(err, &elsewhere) || elsewhere.Node.ID != "a" {
			t.Fatalf("get on node b: %v, want it served by node a", err)
		}

		viewA.cut.Store(true)
		time.Sleep(30 * time.Second) // a's lease runs out; b claims at a heartbeat
		synctest.Wait()
		if got := hook.got(); len(got) != 1 || got[0] != leg.ID {
			t.Fatalf("node b adopted calls %v, want [%s]", got, leg.ID)
		}
		got, err := b.svc.Get(t.Context(), alice, leg.ID)
		if err != nil || got.State != calls.StateEstablished {
			t.Fatalf("get on node b after the takeover: %+v, %v", got, err)
		}

		time.Sleep(2 * time.Minute) // dora hangs up: on both nodes' timers
		synctest.Wait()
		if n := len(a.disp.For(leg.ID)); n != len(before) {
			t.Fatalf("node a sent %d notifications after it was cut off", n-len(before))
		}
		after := b.disp.For(leg.ID)
		if len(after) == 0 || after[0].Seq != int64(len(before))+1 {
			t.Fatalf("node b's notifications %+v, want them to go on from sequence %d", after, len(before)+1)
		}
		if _, err := b.svc.Get(t.Context(), alice, leg.ID); !errors.Is(err, calls.ErrNotFound) {
			t.Fatalf("the call on node b after dora hung up: %v, want it ended", err)
		}
	})
}

// A draining node hands its conversations over without ending them: the
// other node claims them at its next heartbeat, and the first refuses new
// calls.
func TestDrainHandsConversationsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		var hook adopted
		a := newNode(t, store, "a", store, nil)
		b := newNode(t, store, "b", store, &hook)
		leg, err := a.svc.Create(t.Context(), alice, p2p("dora"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if err := a.svc.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Create(t.Context(), alice, p2p("erin")); !errors.Is(err, calls.ErrUnavailable) {
			t.Fatalf("create on a draining node: %v, want ErrUnavailable", err)
		}
		time.Sleep(5 * time.Second) // b's next heartbeat
		synctest.Wait()
		if got := hook.got(); len(got) != 1 || got[0] != leg.ID {
			t.Fatalf("node b adopted %v, want [%s]", got, leg.ID)
		}
		if got, err := b.svc.Get(t.Context(), alice, leg.ID); err != nil || got.State != calls.StateEstablished {
			t.Fatalf("the call on node b: %+v, %v; want it still established", got, err)
		}
		if err := b.svc.HangUp(t.Context(), alice, leg.ID); err != nil {
			t.Fatalf("hang up on the new owner: %v", err)
		}
	})
}

// countingOwner counts the store lookups of a call's owner.
type countingOwner struct {
	calls.Cluster
	owners atomic.Int32
}

func (c *countingOwner) Owner(ctx context.Context, callID string) (calls.Node, string, error) {
	c.owners.Add(1)
	return c.Cluster.Owner(ctx, callID)
}

// A node forwarding requests for another node's call asks the store who
// owns it once a second, not once a request.
func TestLocateCachesOwners(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		a := newNode(t, store, "a", store, nil)
		view := &countingOwner{Cluster: store}
		b := newNode(t, store, "b", view, nil)
		leg, err := a.svc.Create(t.Context(), alice, p2p("dora"))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if n, ok := b.svc.Locate(t.Context(), leg.ID); !ok || n.ID != "a" {
				t.Fatalf("locate on b: %+v %v, want node a", n, ok)
			}
		}
		if got := view.owners.Load(); got != 1 {
			t.Fatalf("%d owner lookups for 3 requests within a second, want 1", got)
		}
		time.Sleep(2 * time.Second)
		b.svc.Locate(t.Context(), leg.ID)
		if got := view.owners.Load(); got != 2 {
			t.Fatalf("%d owner lookups after the cache expired, want 2", got)
		}
	})
}

// A consultative transfer between calls on two nodes moves the
// consultation call's conversation to the node of the transferred call,
// which commits both; nobody else's call moves that way.
func TestConsultativeTransferAcrossNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		nodes := map[string]*fixture{}
		for _, id := range []string{"a", "b"} {
			nodes[id] = newFixtureWith(t, store, func(c *calls.Config) {
				c.Cluster = store
				c.Node = calls.Node{ID: id, Name: id, Address: "http://" + id + ".test"}
				c.LeaseTTL = 15 * time.Second
				c.AskHandOver = func(ctx context.Context, from calls.Node, callID string) error {
					return nodes[from.ID].svc.HandOver(ctx, callID, id)
				}
			})
		}
		a, b := nodes["a"], nodes["b"]
		first, err := a.svc.Create(t.Context(), alice, p2p("bob"))
		if err != nil {
			t.Fatal(err)
		}
		consult, err := b.svc.Create(t.Context(), alice, p2p("dave"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		req := model.TransferRequest{TransferTarget: &model.InvitationParticipantInfo{
			Identity: &model.IdentitySet{User: &model.Identity{ID: "dave"}}, ReplacesCallID: consult.ID}}

		// Another application names alice's call on b: nothing moves.
		other, err := a.svc.Create(t.Context(), mallory, p2p("erin"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if err := a.svc.Transfer(t.Context(), mallory, other.ID, req); err == nil {
			t.Fatal("another application's transfer replacing alice's call succeeded")
		}
		if n, _, err := store.Owner(t.Context(), consult.ID); err != nil || n.ID != "b" {
			t.Fatalf("owner of the consultation call after another app named it: %+v, %v; want b", n, err)
		}

		if err := a.svc.Transfer(t.Context(), alice, first.ID, req); err != nil {
			t.Fatalf("consultative transfer across nodes: %v", err)
		}
		for _, id := range []string{first.ID, consult.ID} {
			if _, err := a.svc.Get(t.Context(), alice, id); !errors.Is(err, calls.ErrNotFound) {
				t.Fatalf("call %s after the transfer: %v, want it ended", id, err)
			}
		}
		// The consultation call's notifications go on from where b left
		// them, sent by a.
		fromB, fromA := b.disp.For(consult.ID), a.disp.For(consult.ID)
		if len(fromB) == 0 || len(fromA) == 0 || fromA[0].Seq != fromB[len(fromB)-1].Seq+1 {
			t.Fatalf("consultation call's notifications: %d from b, then %+v from a; want a to go on with the next sequence", len(fromB), fromA)
		}
		if last := fromA[len(fromA)-1]; !strings.Contains(string(last.Body), `"terminated"`) || !strings.Contains(string(last.Body), `"subcode":7015`) {
			t.Fatalf("consultation call's end: %s, want terminated with 7015", last.Body)
		}
	})
}

// The per-application limit of calls in progress counts the other nodes'
// calls as of the last heartbeat.
func TestOpenCallLimitSpansNodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := callstest.NewStore()
		limit := func(c *calls.Config) { c.MaxOpenCalls = 2 }
		a := newNode(t, store, "a", store, nil)
		b := newFixtureWith(t, store, func(c *calls.Config) {
			c.Cluster, c.Node, c.LeaseTTL = store, calls.Node{ID: "b", Name: "b", Address: "http://b.test"}, 15*time.Second
			limit(c)
		})
		for _, who := range []string{"dora", "erin"} {
			if _, err := a.svc.Create(t.Context(), alice, p2p(who)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second) // b's next heartbeat counts a's calls
		synctest.Wait()
		var limited *calls.LimitError
		if _, err := b.svc.Create(t.Context(), alice, p2p("frank")); !errors.As(err, &limited) {
			t.Fatalf("a third call through node b with two on node a: %v, want the limit of 2", err)
		}
		if _, err := b.svc.Create(t.Context(), mallory, p2p("frank")); err != nil {
			t.Fatalf("another application's call on node b: %v", err)
		}
	})
}
