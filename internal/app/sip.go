package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/sip"
)

// SIPConfig configures SIP phones, PBXs and trunks.
type SIPConfig struct {
	// Listen is where SIP is served, over UDP and TCP ("off": nowhere).
	// Empty means 127.0.0.1:5060 in development mode (any free port when
	// --listen's port is 0) and off otherwise.
	Listen string `yaml:"listen"`
	// PublicAddress is the IP address written into SDP and Contact
	// headers: the address phones reach this server at, for a server
	// behind NAT. Default: the SIP listener's address.
	PublicAddress string `yaml:"publicAddress"`
	// RTPPorts is the UDP port range of RTP, one port a call, such as
	// "10000-20000". Empty: any free port.
	RTPPorts string `yaml:"rtpPorts"`
	// RTPTimeout ends a call whose phone sent no RTP for this long, with
	// 410/301005. Default 30s.
	RTPTimeout Duration `yaml:"rtpTimeout"`
	// Tenant is the tenant whose meetings phones dial into by join id
	// (sip:<joinMeetingId>@host). Default: the development tenant in
	// development mode; without it, outside development mode, phones
	// cannot dial into meetings.
	Tenant string `yaml:"tenant"`
	// Accounts, static contacts, trunks, the digest realm and the INVITE
	// rate limits (docs/sip.md).
	phones.Config `yaml:",inline"`
}

// defaultSIPPort is SIP's well-known port.
const defaultSIPPort = 5060

// sipListen resolves the SIP listener's address: "" when SIP is off.
func (c *Config) sipListen() string {
	l := c.SIP.Listen
	switch {
	case off(l) && l != "":
		return ""
	case l != "":
		return l
	case !c.Dev:
		return ""
	}
	// Tests and `switchboard exec` ask for free ports with --listen
	// host:0; SIP follows, so that two development servers never fight
	// over 5060.
	if _, p, err := net.SplitHostPort(c.Listen); err == nil && p == "0" {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(defaultSIPPort))
}

// validate checks the SIP settings.
func (s SIPConfig) validate(listen string) error {
	if listen != "" {
		if _, err := netip.ParseAddrPort(listen); err != nil {
			return fmt.Errorf("config: sip.listen (--sip-listen) %q: want an IP address and port, such as 127.0.0.1:5060, or off", listen)
		}
	}
	if s.PublicAddress != "" {
		a, err := netip.ParseAddr(s.PublicAddress)
		if err != nil || a.IsUnspecified() {
			return fmt.Errorf("config: sip.publicAddress %q: want the IP address phones reach this server at", s.PublicAddress)
		}
	}
	if _, _, err := s.rtpPorts(); err != nil {
		return err
	}
	if s.RTPTimeout < 0 {
		return errors.New("config: sip.rtpTimeout must not be negative")
	}
	return nil
}

// validatePhones checks accounts, contacts and trunks (on a copy: the
// directory hashes plain development passwords itself).
func (s SIPConfig) validatePhones(dev bool) error {
	_, err := phones.New(s.Config, phones.Options{Dev: dev})
	return err
}

// rtpPorts parses RTPPorts: 0, 0 for any free port.
func (s SIPConfig) rtpPorts() (first, last int, err error) {
	if s.RTPPorts == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s.RTPPorts, "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || first < 1024 || last > 65535 || last < first+1 {
		return 0, 0, fmt.Errorf("config: sip.rtpPorts %q: want a range of at least two ports between 1024 and 65535, such as 10000-20000", s.RTPPorts)
	}
	return first, last, nil
}

// sipApplications resolves the user part of an INVITE's request URI to a
// registered application, by client id.
type sipApplications struct{ a *App }

func (r sipApplications) Application(ctx context.Context, user string) (sip.App, bool) {
	app, err := r.a.auth.App(ctx, user)
	if err != nil {
		if !errors.Is(err, auth.ErrAppNotFound) {
			r.a.log.Warn("sip: looking up the application called failed", "user", user, "err", err)
		}
		return sip.App{}, false
	}
	if app.WebhookURL == "" {
		r.a.log.Warn("sip: a phone called an application that has no webhook for incoming calls; refused", "app", app.ClientID)
		return sip.App{}, false
	}
	return sip.App{TenantID: app.TenantID, AppID: app.ClientID, Webhook: app.WebhookURL}, true
}

// newSIP returns the SIP server, or nil when SIP is off.
func (a *App) newSIP() (*sip.Server, error) {
	listen := a.cfg.sipListen()
	if listen == "" {
		return nil, nil
	}
	first, last, err := a.cfg.SIP.rtpPorts()
	if err != nil {
		return nil, err
	}
	var public netip.Addr
	if a.cfg.SIP.PublicAddress != "" {
		public = netip.MustParseAddr(a.cfg.SIP.PublicAddress)
	}
	return sip.New(sip.Config{
		Listen: listen, PublicAddr: public, RTPPortMin: first, RTPPortMax: last,
		RTPTimeout: time.Duration(a.cfg.SIP.RTPTimeout), TenantID: a.sipTenant(),
		Rooms: a.engine, Phones: a.phones, Applications: sipApplications{a}, AllowAnonymous: a.cfg.Dev,
		Clock: a.wallClock, Logger: a.log.With("component", "sip"),
	})
}

// sipTenant is the tenant of meetings phones dial into.
func (a *App) sipTenant() string {
	if a.cfg.SIP.Tenant == "" && a.cfg.Dev {
		return auth.DevApp().TenantID
	}
	return a.cfg.SIP.Tenant
}

// newPhones returns the directory of SIP accounts (configured, then
// stored), static contacts and trunks.
func (a *App) newPhones() (*phones.Directory, error) {
	d, err := phones.New(a.cfg.SIP.Config, phones.Options{Accounts: a.store, Clock: a.wallClock, Dev: a.cfg.Dev})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return d, nil
}
