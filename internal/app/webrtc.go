package app

import (
	"fmt"
	"net/netip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/webrtc"
)

// newWebRTC makes the browsers' endpoint server: ICE on the configured
// addresses, loopback by default in development mode.
func (a *App) newWebRTC() (*webrtc.Server, error) {
	cfg := webrtc.Config{PortMin: a.cfg.WebRTC.PortMin, PortMax: a.cfg.WebRTC.PortMax}
	for _, s := range a.cfg.WebRTC.Addresses {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("app: webrtc.addresses: %q is not an IP address", s)
		}
		cfg.Addresses = append(cfg.Addresses, ip)
	}
	if len(cfg.Addresses) == 0 && a.cfg.Dev {
		cfg.Addresses = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}
	return webrtc.NewServer(cfg, a.engine, a.log)
}

// liveEndpoints is the calls domain's one Endpoints over every kind of
// live endpoint (browsers, SIP phones): an identity is bound by the first
// that knows it, a dial goes to the kind it was bound to (Dial.Endpoint),
// and each endpoint ignores participants it does not hold.
type liveEndpoints []liveKind

// liveKind is one kind of live endpoint.
type liveKind interface {
	calls.Endpoints
	Kind() string // its calls.Endpoint* kind
}

var _ calls.Endpoints = liveEndpoints(nil)

func (l liveEndpoints) Bind(tenantID string, id model.IdentitySet) string {
	for _, e := range l {
		if k := e.Bind(tenantID, id); k != calls.EndpointSimulated {
			return k
		}
	}
	return calls.EndpointSimulated
}

func (l liveEndpoints) Dial(ref calls.EndpointRef, d calls.Dial) {
	for _, e := range l {
		if e.Kind() == d.Endpoint {
			e.Dial(ref, d)
			return
		}
	}
}

func (l liveEndpoints) Accept(ref calls.EndpointRef) {
	for _, e := range l {
		e.Accept(ref)
	}
}

func (l liveEndpoints) End(ref calls.EndpointRef, why calls.Release) {
	for _, e := range l {
		e.End(ref, why)
	}
}

func (l liveEndpoints) Mute(ref calls.EndpointRef, muted bool) {
	for _, e := range l {
		e.Mute(ref, muted)
	}
}

func (l liveEndpoints) Hold(ref calls.EndpointRef, held bool) {
	for _, e := range l {
		e.Hold(ref, held)
	}
}
