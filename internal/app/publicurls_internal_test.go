package app

import (
	"net/netip"
	"slices"
	"testing"
)

func TestBaseURLs(t *testing.T) {
	ifaces := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.10"),
		netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::10")}
	for _, tc := range []struct {
		name, public, https, http string
		want                      []string
	}{
		{"development defaults", "", "127.0.0.1:8443", "127.0.0.1:8080",
			[]string{"https://127.0.0.1:8443", "https://localhost:8443", "http://127.0.0.1:8080", "http://localhost:8080"}},
		{"public URL first", "https://switchboard.example/", "", "127.0.0.1:8080",
			[]string{"https://switchboard.example", "http://127.0.0.1:8080", "http://localhost:8080"}},
		{"IPv4 wildcard", "", "0.0.0.0:8443", "",
			[]string{"https://localhost:8443", "https://127.0.0.1:8443", "https://[::1]:8443", "https://192.0.2.10:8443"}},
		{"dual-stack wildcard", "", "", "[::]:8080",
			[]string{"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080", "http://192.0.2.10:8080", "http://[2001:db8::10]:8080"}},
		{"IPv6 loopback", "", "[::1]:9443", "",
			[]string{"https://[::1]:9443", "https://localhost:9443"}},
		{"nothing bound yet", "", "", "", nil},
	} {
		if got := baseURLs(tc.public, tc.https, tc.http, ifaces); !slices.Equal(got, tc.want) {
			t.Errorf("%s: baseURLs = %q, want %q", tc.name, got, tc.want)
		}
	}
}
