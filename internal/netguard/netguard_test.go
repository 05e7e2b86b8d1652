package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	var p Policy
	refused := []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "fe80::1", "fc00::1",
		"fd12:3456::1", "ff02::1", "::", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "240.0.0.1",
	}
	for _, s := range refused {
		if err := p.CheckAddr(netip.MustParseAddr(s)); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "52.114.0.1", "2606:4700::1111", "::ffff:8.8.8.8"} {
		if err := p.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	allow, err := ParsePrefixes([]string{"10.1.0.0/16", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	p.Allow = allow
	if p.CheckAddr(netip.MustParseAddr("10.1.2.3")) != nil || p.CheckAddr(netip.MustParseAddr("127.0.0.1")) != nil {
		t.Error("allow-list ignored")
	}
	if p.CheckAddr(netip.MustParseAddr("10.2.0.1")) == nil || p.CheckAddr(netip.MustParseAddr("127.0.0.2")) == nil {
		t.Error("allow-list admits too much")
	}
	if _, err := ParsePrefixes([]string{"ten.one"}); err == nil {
		t.Error("bad prefix accepted")
	}
	if (&Policy{AllowAll: true}).CheckAddr(netip.MustParseAddr("127.0.0.1")) != nil {
		t.Error("AllowAll refused loopback")
	}
}

// TestCheckAddrEmbeddedAndSpecialIPv6 covers the IPv6 forms that carry an
// IPv4 address inside them, and the rest of the IANA special-purpose
// registry. NAT64's well-known prefix is unwrapped and its IPv4 address
// checked (DNS64 hands these out for every IPv4-only host); every other
// embedding and deprecated range is refused whatever it embeds.
func TestCheckAddrEmbeddedAndSpecialIPv6(t *testing.T) {
	tests := []struct {
		name, addr string
		allowed    bool
		why        string // part of the refusal
	}{
		{"IPv4-compatible loopback", "::127.0.0.1", false, "IPv4-compatible"},
		{"IPv4-compatible metadata", "::169.254.169.254", false, "IPv4-compatible"},
		{"IPv4-compatible public", "::8.8.8.8", false, "IPv4-compatible"},
		{"IPv4-translated loopback", "::ffff:0:127.0.0.1", false, "IPv4-translated"},
		{"IPv4-translated public", "::ffff:0:8.8.8.8", false, "IPv4-translated"},
		{"6to4 of loopback", "2002:7f00:1::1", false, "6to4"},
		{"6to4 of metadata", "2002:a9fe:a9fe::1", false, "6to4"},
		{"6to4 of a public address", "2002:808:808::1", false, "6to4"},
		{"Teredo with obfuscated loopback", "2001:0:4136:e378:8000:63bf:80ff:fffe", false, "Teredo"},
		{"Teredo public", "2001:0:4136:e378:8000:63bf:f7f7:f7f7", false, "Teredo"},
		{"NAT64 of loopback", "64:ff9b::127.0.0.1", false, "loopback"},
		{"NAT64 of metadata", "64:ff9b::169.254.169.254", false, "link-local"},
		{"NAT64 of a private address", "64:ff9b::10.0.0.1", false, "private"},
		{"NAT64 of a public address", "64:ff9b::8.8.8.8", true, ""},
		{"NAT64 beyond the /96", "64:ff9b::1:808:808", false, "2000::/3"},
		{"local-use NAT64", "64:ff9b:1::8.8.8.8", false, "local-use"},
		{"local-use NAT64 of loopback", "64:ff9b:1:7f00:0:100::", false, "local-use"},
		{"site-local", "fec0::1", false, "site-local"},
		{"site-local upper", "feff::1", false, "site-local"},
		{"discard-only", "100::1", false, "discard"},
		{"dummy prefix", "100:0:0:1::1", false, "dummy"},
		{"IETF protocol assignment", "2001:1::1", false, "IETF protocol"},
		{"benchmarking", "2001:2::1", false, "IETF protocol"},
		{"ORCHIDv2", "2001:20::1", false, "IETF protocol"},
		{"documentation 2001:db8", "2001:db8::1", false, "documentation"},
		{"documentation 3fff", "3fff::1", false, "documentation"},
		{"segment routing", "5f00::1", false, "segment routing"},
		{"unique local", "fd00::1", false, "unique local"},
		{"link-local", "fe80::1", false, "link-local"},
		{"multicast", "ff05::1", false, "multicast"},
		{"6to4 relay anycast (IPv4)", "192.88.99.1", false, "6to4"},
		{"IPv4-mapped 6to4 relay", "::ffff:192.88.99.1", false, "6to4"},
		{"global unicast", "2606:4700::1111", true, ""},
		{"global unicast next to Teredo", "2001:200::1", true, ""},
		{"global unicast next to 6to4", "2003::1", true, ""},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.allowed {
				if err != nil {
					t.Fatalf("%s refused: %v", tt.addr, err)
				}
				return
			}
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("%s allowed (err %v)", tt.addr, err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("%s: %q does not say %q", tt.addr, err, tt.why)
			}
		})
	}
}

// TestNAT64AllowList shows that the allow-list applies to the address a
// NAT64 address stands for, as it would to the IPv4 address itself.
func TestNAT64AllowList(t *testing.T) {
	allow, err := ParsePrefixes([]string{"10.1.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Allow: allow}
	if err := p.CheckAddr(netip.MustParseAddr("64:ff9b::10.1.2.3")); err != nil {
		t.Errorf("allow-listed network behind NAT64 refused: %v", err)
	}
	if err := p.CheckAddr(netip.MustParseAddr("64:ff9b::10.2.0.1")); !errors.Is(err, ErrForbidden) {
		t.Errorf("network outside the allow-list behind NAT64 allowed: %v", err)
	}
}

// FuzzCheckAddr checks CheckAddr's contract on any 16 bytes, read both as
// an IPv6 address and by their first four as IPv4: an admitted address is
// global unicast, outside every refused range and (IPv6) inside 2000::/3,
// and the IPv4 address a NAT64 address stands for is itself admitted.
func FuzzCheckAddr(f *testing.F) {
	for _, s := range []string{"::127.0.0.1", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::8.8.8.8",
		"64:ff9b::a9fe:a9fe", "::ffff:0:7f00:1", "fec0::1", "2606:4700::1111", "::ffff:8.8.8.8"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}
	var p Policy
	nat64 := netip.MustParsePrefix("64:ff9b::/96")
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b [16]byte
		copy(b[:], raw)
		for _, ip := range []netip.Addr{netip.AddrFrom16(b), netip.AddrFrom4([4]byte(b[:4]))} {
			if p.CheckAddr(ip) != nil {
				continue
			}
			u := ip.Unmap()
			if !u.IsGlobalUnicast() || u.IsPrivate() {
				t.Fatalf("%s admitted but not public unicast", ip)
			}
			for _, s := range special {
				if s.prefix.Contains(u) {
					t.Fatalf("%s admitted inside %s (%s)", ip, s.prefix, s.why)
				}
			}
			if u.Is6() && !globalUnicast6.Contains(u) && !nat64.Contains(u) {
				t.Fatalf("%s admitted outside 2000::/3", ip)
			}
			if nat64.Contains(u) {
				a := u.As16()
				if v4 := netip.AddrFrom4([4]byte(a[12:])); p.CheckAddr(v4) != nil {
					t.Fatalf("%s admitted though it stands for %s", ip, v4)
				}
			}
		}
	})
}

func TestCheckURLResolves(t *testing.T) {
	var p Policy
	for _, raw := range []string{"https://127.0.0.1/cb", "https://[::1]:8443/cb", "https://localhost/cb", "https://api.localhost/cb", "https://169.254.169.254/latest", "https:///cb", "https://no-such-host.invalid/cb"} {
		u, _ := url.Parse(raw)
		if err := p.CheckURL(context.Background(), u); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", raw, err)
		}
	}
	u, _ := url.Parse("https://8.8.8.8/cb")
	if err := p.CheckURL(context.Background(), u); err != nil {
		t.Errorf("public literal refused: %v", err)
	}
}

// TestControlRefusesAtConnect shows the dial-time check: even when a URL
// was admitted earlier, the connection itself to a loopback server fails.
func TestControlRefusesAtConnect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var p Policy
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Control: p.Control}).DialContext}}
	_, err := client.Get(srv.URL)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("dial to %s: %v, want ErrForbidden", srv.URL, err)
	}
	p.Allow, _ = ParsePrefixes([]string{"127.0.0.0/8"})
	res, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("allow-listed dial failed: %v", err)
	}
	res.Body.Close()
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://127.0.0.1/", "https://[fe80::1%25eth0]/", "http://0x7f.1/", "https://[::ffff:a9fe:a9fe]/"} {
		f.Add(s)
	}
	p := Policy{Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("no DNS in fuzzing")
	}}}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if err := p.CheckURL(context.Background(), u); err == nil {
			ip, perr := netip.ParseAddr(u.Hostname())
			if perr != nil {
				t.Fatalf("%q allowed without resolving", raw)
			}
			if ip.Unmap().IsLoopback() || ip.Unmap().IsPrivate() || ip.Unmap().IsLinkLocalUnicast() {
				t.Fatalf("%q allowed", raw)
			}
		}
	})
}
