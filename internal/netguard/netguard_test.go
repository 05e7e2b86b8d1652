package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
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
