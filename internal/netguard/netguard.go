// Package netguard keeps callbacks away from where they must not go
// (server-side request forgery): loopback, link-local (including the cloud
// metadata address 169.254.169.254), private, shared, multicast and other
// special-purpose addresses are refused unless an operator allow-list
// admits them. IPv6 forms that embed an IPv4 address are refused too (6to4,
// Teredo, IPv4-compatible and -translated, local-use NAT64), except the
// well-known NAT64 prefix, whose IPv4 address is checked instead. The same Policy checks a URL when a bot gives it (after
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

// special lists the ranges refused by default, with the reason given: the
// IANA IPv4 and IPv6 special-purpose address registries, less the entries
// that are globally reachable services, plus deprecated ranges. A more
// specific prefix comes before the one that contains it. IPv6 forms that
// embed an IPv4 address (IPv4-compatible, IPv4-translated, 6to4, Teredo,
// local-use NAT64) are refused whatever they embed: nothing legitimate
// calls back through them, and their relays may reach where the embedded
// address alone would be refused. Only the well-known NAT64 prefix is
// unwrapped instead (see nat64).
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
	{netip.MustParsePrefix("192.88.99.0/24"), "a deprecated 6to4 relay anycast address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address (deprecated; it embeds an IPv4 address)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "an IPv4-translated address (it embeds an IPv4 address)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address (it embeds an IPv4 address of the local network)"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("100:0:0:1::/64"), "a dummy address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address (deprecated; it embeds an IPv4 address)"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol assignment (benchmarking, ORCHID, anycast services)"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address (deprecated; it embeds an IPv4 address)"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation address"},
	{netip.MustParsePrefix("5f00::/16"), "a segment routing (SRv6) address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// nat64 is the well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d is how
// DNS64 names the IPv4 host a.b.c.d on an IPv6-only network, so it is
// admitted exactly when a.b.c.d is. RFC 6052 forbids it for non-global
// IPv4 addresses, which are therefore refused.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// globalUnicast6 is the only IPv6 space IANA allocates for global unicast;
// an IPv6 address outside it, and not NAT64, is refused.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// CheckAddr reports whether callbacks may connect to ip. An IPv4-mapped
// address (::ffff:a.b.c.d) is checked as its IPv4 address, a well-known
// NAT64 address as the IPv4 address it stands for, and the allow-list
// applies to both forms. The error wraps ErrForbidden and says why.
func (p *Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowAll {
		return nil
	}
	if why := p.refusal(ip.Unmap()); why != "" {
		return fmt.Errorf("%w: %s", ErrForbidden, why)
	}
	return nil
}

// refusal returns why ip is refused, or "" when it is admitted.
func (p *Policy) refusal(ip netip.Addr) string {
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return ""
		}
	}
	if ip.Zone() != "" {
		return ip.String() + " is a scoped address"
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if why := p.refusal(v4); why != "" {
			return fmt.Sprintf("%s is a NAT64 address standing for %s", ip, why)
		}
		return ""
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return ip.String() + " is " + s.why
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return ip.String() + " is outside the IPv6 global unicast space 2000::/3"
	}
	return ""
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
