package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/cluster"
	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/recordings"
)

// ClusterConfig is the cluster: section: this server as one node of
// several on one PostgreSQL database (docs/cluster.md).
type ClusterConfig struct {
	// NodeName is the operator's name for this node, in logs and in the
	// nodes table. Default: the host name.
	NodeName string `yaml:"nodeName"`
	// AdvertiseURL is the base URL other nodes forward requests for this
	// node's calls to, such as http://10.0.0.5:8080. Default: http:// and
	// the --listen address, when that names a host (not 0.0.0.0 or [::]).
	AdvertiseURL string `yaml:"advertiseURL"`
	// LeaseTTL is how long this node's conversations stay its own after
	// its last heartbeat (it renews every third of it). Default 15s.
	LeaseTTL Duration `yaml:"leaseTTL"`
}

// clusterStore is a store several nodes share.
type clusterStore interface {
	calls.Cluster
	ClusterKey(ctx context.Context) ([]byte, error)
}

// nodeSetup is what a clustered App needs before its services start.
type nodeSetup struct {
	store     clusterStore
	node      calls.Node
	forwarder *cluster.Forwarder
}

// setupNode makes this App a node of the cluster its store serves, when
// the store is a shared one; nil otherwise. It binds the HTTP listener
// early when the advertised address must be learnt from it (a port of 0).
func (a *App) setupNode(ctx context.Context) (*nodeSetup, error) {
	cs, ok := a.store.(clusterStore)
	if !ok {
		return nil, nil
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	n := calls.Node{ID: hex.EncodeToString(id), Name: a.cfg.Cluster.NodeName, Address: a.cfg.Cluster.AdvertiseURL}
	if n.Name == "" {
		n.Name, _ = os.Hostname()
	}
	if n.Address == "" {
		if off(a.cfg.Listen) {
			return nil, fmt.Errorf("app: cluster.advertiseURL is required without --listen: the other nodes forward requests to it")
		}
		ln, err := net.Listen("tcp", a.cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("app: --listen: %w", err)
		}
		ap, err := netip.ParseAddrPort(ln.Addr().String())
		if err != nil || ap.Addr().IsUnspecified() {
			ln.Close()
			return nil, fmt.Errorf("app: --listen %s is every address: set cluster.advertiseURL (--advertise-url) to the one the other nodes reach", a.cfg.Listen)
		}
		a.earlyHTTP = ln
		n.Address = "http://" + ln.Addr().String()
	}
	key, err := cs.ClusterKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: cluster key: %w", err)
	}
	fwd, err := cluster.NewForwarder(key, n.ID, a.clock, a.log, nil)
	if err != nil {
		return nil, err
	}
	return &nodeSetup{store: cs, node: n, forwarder: fwd}, nil
}

// clusterConfig fills in calls.Config for a node: its cluster, and the
// hooks that move notifications with conversations.
func (ns *nodeSetup) callsConfig(cfg *calls.Config, a *App) {
	if ns == nil {
		return
	}
	cfg.Cluster, cfg.Node, cfg.LeaseTTL = ns.store, ns.node, time.Duration(a.cfg.Cluster.LeaseTTL)
	cfg.Adopted = a.notify.Adopt
	cfg.Evicted = func(callIDs []string) { a.notify.Forget(callIDs...) }
	cfg.AskHandOver = ns.askHandOver
}

// shareRecordings puts the metadata of the node's recordings in the
// shared store, so that any node checks a recording's token and forwards
// the request to the node that has the file (docs/cluster.md).
func (ns *nodeSetup) shareRecordings(a *App) {
	if ns == nil {
		return
	}
	idx, ok := ns.store.(recordings.Index)
	if !ok {
		return
	}
	a.recordings.Join(recordings.Cluster{Index: idx, Node: ns.node.Address,
		Remote: func(w http.ResponseWriter, r *http.Request, address string) {
			ns.forwarder.Forward(w, r, address, func(w http.ResponseWriter, r *http.Request, err error) {
				graph.WriteError(w, r, a.log, graph.NewError(http.StatusServiceUnavailable, "serviceNotAvailable",
					"The node that has this recording cannot be reached. Retry after the interval in Retry-After."))
			})
		}})
}

// handOverPath is where a node asks another to hand a conversation over
// (calls.Service.HandOver). Only requests another node signed reach it.
const handOverPath = "/switchboard/internal/handOver"

// askHandOver asks node from to give this node the conversation of callID.
func (ns *nodeSetup) askHandOver(ctx context.Context, from calls.Node, callID string) error {
	q := url.Values{"call": {callID}, "to": {ns.node.ID}}
	resp, err := ns.forwarder.Send(ctx, from.Address, http.MethodPost, handOverPath+"?"+q.Encode(), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil
	case http.StatusNotFound:
		return calls.ErrNotFound
	}
	return fmt.Errorf("node %s answered %s: %s", from.ID, resp.Status, body)
}

// serveHandOver is handOverPath: the other node named in "to" needs the
// conversation of "call" (a command on two calls). 204 once handed over,
// 404 when this node does not hold it.
func (a *App) serveHandOver(w http.ResponseWriter, r *http.Request) {
	if _, ok := cluster.FromNode(r.Context()); !ok || a.node == nil || r.Method != http.MethodPost {
		graph.WriteError(w, r, a.log, graph.NewError(http.StatusNotFound, "BadRequest", "There is no endpoint at '"+r.URL.Path+"'."))
		return
	}
	err := a.calls.HandOver(r.Context(), r.URL.Query().Get("call"), r.URL.Query().Get("to"))
	if err != nil {
		graph.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
