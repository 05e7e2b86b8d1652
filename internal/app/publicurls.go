package app

import (
	"net"
	"net/netip"
	"slices"
	"strings"
)

// knownURLs returns the base URLs clients may reach the server at, the
// canonical one first, for the token service's discovery documents,
// issuers and client-assertion audiences (auth.Config.PublicURLs). It is
// safe for concurrent use: serve replaces the list as listeners are bound.
func (a *App) knownURLs() []string {
	if p := a.urls.Load(); p != nil {
		return *p
	}
	return nil
}

// updateKnownURLs recomputes knownURLs from the configuration and the
// listeners bound so far. It runs on the goroutine that binds them.
func (a *App) updateKnownURLs() {
	var ifaces []netip.Addr
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ad := range addrs {
			if p, err := netip.ParsePrefix(ad.String()); err == nil {
				ifaces = append(ifaces, p.Addr())
			}
		}
	}
	urls := baseURLs(a.cfg.PublicURL, a.addrs["https"], a.addrs["http"], ifaces)
	a.urls.Store(&urls)
}

// baseURLs lists the base URLs of a server: public (the configured
// publicUrl) first, then those of the HTTPS listener bound at httpsAddr and
// of the HTTP one at httpAddr (either may be empty). A listener bound to a
// loopback address is also reached as localhost; one bound to an
// unspecified address (0.0.0.0, [::]) at every loopback name and at each
// of ifaces that is not link-local, but not at its own address, which no
// client can use. Host names that resolve to the machine are known only
// through publicUrl.
func baseURLs(public, httpsAddr, httpAddr string, ifaces []netip.Addr) []string {
	var out []string
	add := func(u string) {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if public != "" {
		add(strings.TrimRight(public, "/"))
	}
	for _, l := range []struct{ scheme, addr string }{{"https", httpsAddr}, {"http", httpAddr}} {
		host, port, err := net.SplitHostPort(l.addr)
		if err != nil {
			continue
		}
		ip, err := netip.ParseAddr(host)
		switch {
		case err != nil:
			add(l.scheme + "://" + net.JoinHostPort(host, port))
		case ip.IsUnspecified():
			for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
				add(l.scheme + "://" + net.JoinHostPort(h, port))
			}
			for _, a := range ifaces {
				if a.IsValid() && !a.IsLoopback() && !a.IsLinkLocalUnicast() && (ip.Is6() || a.Is4()) {
					add(l.scheme + "://" + net.JoinHostPort(a.Unmap().String(), port))
				}
			}
		default:
			add(l.scheme + "://" + net.JoinHostPort(ip.String(), port))
			if ip.IsLoopback() {
				add(l.scheme + "://" + net.JoinHostPort("localhost", port))
			}
		}
	}
	return out
}
