package phones

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// memAccounts is an Accounts source in memory, as the store is.
type memAccounts struct {
	mu   sync.Mutex
	byID map[string]StoredAccount // by lower-case username
}

func (m *memAccounts) SIPAccount(_ context.Context, username string) (StoredAccount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byID[strings.ToLower(username)]
	if !ok {
		return StoredAccount{}, ErrNoAccount
	}
	return a, nil
}

func (m *memAccounts) SIPAccountBound(_ context.Context, id Identity) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.byID {
		if a.Identity().key() == id.key() && tenantMatches(a.Tenant, id.Tenant) {
			return true, nil
		}
	}
	return false, nil
}

func (m *memAccounts) add(a StoredAccount) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID == nil {
		m.byID = map[string]StoredAccount{}
	}
	m.byID[strings.ToLower(a.Username)] = a
}

func newDir(t *testing.T, cfg Config, accounts Accounts) (*Directory, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	d, err := New(cfg, Options{Accounts: accounts, Clock: clk, Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	return d, clk
}

func routingConfig() Config {
	return Config{
		Accounts: []Account{
			{Username: "alice", User: "User-A", Password: "alice-pw"},
			{Username: "desk", Phone: "+15550002222", Password: "desk-pw"},
			{Username: "contoso", User: "U-C", Tenant: "contoso", Password: "c-pw"},
		},
		Contacts: []Contact{
			{User: "user-static", URI: "sip:static@127.0.0.1:5062", Transport: "tcp"},
			{Phone: "+15550001111", URI: "sip:pbx@127.0.0.1:5070"},
		},
		Trunks: []Trunk{
			{Name: "us", Address: "192.0.2.10:5060", Numbers: []string{"+1*"}, Username: "acct", Password: "trunk-pw"},
			{Name: "nyc", Address: "192.0.2.11:5080", Transport: "tcp", Numbers: []string{"+1212*", "+15559999999"}},
			{Name: "world", Address: "192.0.2.12:5060", Numbers: []string{"*"}},
			{Name: "long", Address: "192.0.2.13:5060", Numbers: []string{"+155599999*"}},
		},
	}
}

func TestRoute(t *testing.T) {
	d, _ := newDir(t, routingConfig(), nil)
	register(t, d, "alice", "alice-pw", "sip:alice@10.0.0.5:5062", 600)
	register(t, d, "desk", "desk-pw", "sip:desk@10.0.0.6:5062;transport=tcp", 600)

	tests := []struct {
		name string
		id   Identity
		want Route
		ok   bool
	}{
		{"static contact, user id in another case", User("USER-STATIC"),
			Route{Kind: RouteContact, URI: "sip:static@127.0.0.1:5062", Transport: "tcp"}, true},
		{"static contact beats the trunk", Phone("+1-555-000-1111"),
			Route{Kind: RouteContact, URI: "sip:pbx@127.0.0.1:5070", Transport: "udp"}, true},
		{"registered user", User("user-a"),
			Route{Kind: RouteRegistration, URI: "sip:alice@10.0.0.5:5062", Transport: "udp", Account: "alice", Source: netip.MustParseAddrPort("10.0.0.5:5062")}, true},
		{"registered number beats the trunk", Phone("+1 555 000 2222"),
			Route{Kind: RouteRegistration, URI: "sip:desk@10.0.0.6:5062;transport=tcp", Transport: "tcp", Account: "desk", Source: netip.MustParseAddrPort("10.0.0.5:5062")}, true},
		{"trunk by prefix, with credentials", Phone("+1 (303) 555-0100"),
			Route{Kind: RouteTrunk, URI: "sip:+13035550100@192.0.2.10:5060", Transport: "udp", Trunk: "us", Username: "acct", Password: "trunk-pw"}, true},
		{"longer prefix wins", Phone("+12125550100"),
			Route{Kind: RouteTrunk, URI: "sip:+12125550100@192.0.2.11:5080", Transport: "tcp", Trunk: "nyc"}, true},
		{"exact number beats a longer prefix", Phone("+15559999999"),
			Route{Kind: RouteTrunk, URI: "sip:+15559999999@192.0.2.11:5080", Transport: "tcp", Trunk: "nyc"}, true},
		{"the longest prefix", Phone("+15559999990"),
			Route{Kind: RouteTrunk, URI: "sip:+15559999990@192.0.2.13:5060", Transport: "udp", Trunk: "long"}, true},
		{"catch-all", Phone("+442079460000"),
			Route{Kind: RouteTrunk, URI: "sip:+442079460000@192.0.2.12:5060", Transport: "udp", Trunk: "world"}, true},
		{"a user never goes to a trunk", User("nobody"), Route{}, false},
		{"account not registered", User("U-C"), Route{}, false},
		{"unknown kind", Identity{ID: "x"}, Route{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := d.Route(tc.id)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Route(%v) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBound(t *testing.T) {
	stored := &memAccounts{}
	stored.add(StoredAccount{Account: Account{Username: "carol", User: "U-Carol", Tenant: "fabrikam", HA1: bobHA1}, Realm: DefaultRealm})
	cfg := routingConfig()
	cfg.Trunks = cfg.Trunks[:2] // no catch-all
	d, _ := newDir(t, cfg, stored)
	tests := []struct {
		id   Identity
		want bool
	}{
		{User("user-static"), true}, // contact
		{User("user-a"), true},      // account, not registered
		{Identity{Kind: IdentityUser, ID: "u-c", Tenant: "contoso"}, true}, // account of the tenant
		{Identity{Kind: IdentityUser, ID: "u-c", Tenant: "fabrikam"}, false},
		{User("u-carol"), true}, // stored account
		{Identity{Kind: IdentityUser, ID: "U-CAROL", Tenant: "contoso"}, false},
		{Phone("+13035550100"), true}, // trunk pattern
		{Phone("+442079460000"), false},
		{User("nobody"), false},
	}
	for _, tc := range tests {
		got, err := d.Bound(t.Context(), tc.id)
		if err != nil || got != tc.want {
			t.Errorf("Bound(%+v) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	// Bound but not registered: the caller reports it unreachable.
	if _, ok := d.Route(User("user-a")); ok {
		t.Error("an unregistered account has a route")
	}
}

func TestRouteNewestRegistrationAndTenant(t *testing.T) {
	cfg := Config{Accounts: []Account{
		{Username: "desk1", User: "U-1", Password: "pw"},
		{Username: "desk2", User: "u-1", Password: "pw", Tenant: "contoso"},
	}}
	d, clk := newDir(t, cfg, nil)
	register(t, d, "desk1", "pw", "sip:one@10.0.0.1", 600)
	clk.Advance(time.Second)
	register(t, d, "desk2", "pw", "sip:two@10.0.0.2", 600)
	if r, _ := d.Route(User("U-1")); r.URI != "sip:two@10.0.0.2" {
		t.Errorf("Route = %s, want the newest registration", r.URI)
	}
	if r, _ := d.Route(Identity{Kind: IdentityUser, ID: "U-1", Tenant: "fabrikam"}); r.URI != "sip:one@10.0.0.1" {
		t.Errorf("Route in another tenant = %s, want the account of no tenant", r.URI)
	}
	clk.Advance(time.Second)
	register(t, d, "desk1", "pw", "sip:one@10.0.0.1", 600) // a refresh makes it the newest
	if r, _ := d.Route(User("U-1")); r.URI != "sip:one@10.0.0.1" {
		t.Errorf("Route after a refresh = %s", r.URI)
	}
}
