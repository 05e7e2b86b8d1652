// Package netguard keeps callbacks away from where they must not go
// (server-side request forgery): loopback, link-local (including the cloud
// metadata address 169.254.169.254), private, shared, multicast and other
// special-purpose addresses are refused unless an operator allow-list
// admits them. The same Policy checks a URL when a bot gives it (after
// resolving its host) and every connection when it is dialled (Control), so
// a name that resolves to a public address at creation and to 127.0.0.1 at
// delivery time (DNS rebinding) is still refused.
//
// It imports only the standard library.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is wrapped by every refusal; match it with errors.Is.
var ErrForbidden = errors.New("netguard: destination not allowed")

// Policy decides which destinations callbacks may reach. The zero value
// refuses every special-purpose address and allows public ones. It is safe
// for concurrent use once built.
type Policy struct {
	// AllowAll turns the guard off (development mode).
	AllowAll bool
	// Allow admits addresses that would otherwise be refused.
	Allow []netip.Prefix
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// ResolveTimeout bounds CheckURL's lookup; default 3 s.
	ResolveTimeout time.Duration
}

// special lists the ranges refused by default, with the reason given.
var special = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a 'this network' address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (cloud metadata lives here)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// CheckAddr reports whether callbacks may connect to ip.
func (p *Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowAll {
		return nil
	}
	ip = ip.Unmap()
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return nil
		}
	}
	if ip.Zone() != "" {
		return fmt.Errorf("%w: %s is a scoped address", ErrForbidden, ip)
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return fmt.Errorf("%w: %s is %s", ErrForbidden, ip, s.why)
		}
	}
	if ip == netip.IPv4Unspecified() || (ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return fmt.Errorf("%w: %s is not a unicast address", ErrForbidden, ip)
	}
	return nil
}

// CheckURL resolves u's host and refuses the URL if any of its addresses is
// refused. A name that does not resolve is refused too.
func (p *Policy) CheckURL(ctx context.Context, u *url.URL) error {
	if p.AllowAll {
		return nil
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host in %q", ErrForbidden, u.Redacted())
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ip)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		if p.allowsLoopback() {
			return nil
		}
		return fmt.Errorf("%w: %s is a loopback name", ErrForbidden, host)
	}
	timeout := p.ResolveTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: cannot resolve %s: %v", ErrForbidden, host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: %s has no address", ErrForbidden, host)
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return fmt.Errorf("%s resolves to a refused address: %w", host, err)
		}
	}
	return nil
}

func (p *Policy) allowsLoopback() bool {
	return p.CheckAddr(netip.MustParseAddr("127.0.0.1")) == nil
}

// Control is a net.Dialer Control function: it refuses a connection whose
// actual destination address is refused, whatever name led there.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q", ErrForbidden, address)
	}
	return p.CheckAddr(ap.Addr())
}

// ParsePrefixes parses an operator allow-list of CIDR prefixes or single
// addresses, such as "10.1.0.0/16" or "192.168.1.20".
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("netguard: %q is neither an address nor a CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
