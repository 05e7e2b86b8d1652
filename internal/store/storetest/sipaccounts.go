package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/phones"
)

// SIPAccountStore is what a store keeps of SIP accounts: the lookups the
// phones directory makes (phones.Accounts), and the management that the
// switchboard sip-accounts command does.
type SIPAccountStore interface {
	phones.Accounts
	CreateSIPAccount(ctx context.Context, a phones.StoredAccount) error
	ListSIPAccounts(ctx context.Context) ([]phones.StoredAccount, error)
	DeleteSIPAccount(ctx context.Context, username string) error
}

// SIPAccount returns an account named username bound to id, with the
// hashes of the password "pw" in the realm "switchboard", created at a
// time with nanoseconds.
func SIPAccount(username string, id phones.Identity) phones.StoredAccount {
	ha1, sha := phones.HashPassword(username, "switchboard", "pw")
	a := phones.StoredAccount{Account: phones.Account{Username: username, HA1: ha1, HA1SHA256: sha, Tenant: id.Tenant},
		Realm: "switchboard", CreatedAt: time.Unix(1700000000, 5).UTC()}
	if id.Kind == phones.IdentityPhone {
		a.Phone = id.ID
	} else {
		a.User, a.DisplayName = id.ID, "Bob Example"
	}
	return a
}

// RunSIPAccountContract runs the contract of a store's SIP accounts as
// subtests of t. open is called with each subtest's t and must return an
// empty store; the subtests do not close it.
func RunSIPAccountContract(t *testing.T, open func(t *testing.T) SIPAccountStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s SIPAccountStore)
	}{
		{"CreateLookUpListDelete", testSIPAccounts},
		{"BoundToIdentity", testSIPAccountBound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// sipFixture stores bob (a user of contoso) and desk (a phone number, any
// tenant), desk a second after bob.
func sipFixture(t *testing.T, s SIPAccountStore) (bob, desk phones.StoredAccount) {
	t.Helper()
	bob = SIPAccount("Bob", phones.Identity{Kind: phones.IdentityUser, ID: "U-Bob", Tenant: "contoso"})
	desk = SIPAccount("desk", phones.Phone("+15550001234"))
	desk.CreatedAt = bob.CreatedAt.Add(time.Second)
	for _, a := range []phones.StoredAccount{desk, bob} {
		if err := s.CreateSIPAccount(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	return bob, desk
}

func testSIPAccounts(t *testing.T, s SIPAccountStore) {
	ctx := t.Context()
	bob, desk := sipFixture(t, s)
	if err := s.CreateSIPAccount(ctx, SIPAccount("BOB", phones.User("x"))); !errors.Is(err, phones.ErrAccountExists) {
		t.Errorf("a second BOB: %v, want ErrAccountExists", err)
	}
	withPassword := SIPAccount("carol", phones.User("c"))
	withPassword.Password = "pw"
	if err := s.CreateSIPAccount(ctx, withPassword); err == nil {
		t.Error("an account with a plain-text password was stored")
	}
	twoIdentities := SIPAccount("dave", phones.User("d"))
	twoIdentities.Phone = "+15550009999"
	if err := s.CreateSIPAccount(ctx, twoIdentities); err == nil {
		t.Error("an account with two identities was stored")
	}

	got, err := s.SIPAccount(ctx, "bob")
	if err != nil || got != bob {
		t.Errorf("SIPAccount(bob) = %+v, %v; want %+v", got, err, bob)
	}
	if _, err := s.SIPAccount(ctx, "nobody"); !errors.Is(err, phones.ErrNoAccount) {
		t.Errorf("SIPAccount(nobody): %v, want ErrNoAccount", err)
	}
	list, err := s.ListSIPAccounts(ctx)
	if err != nil || len(list) != 2 || list[0] != bob || list[1] != desk {
		t.Errorf("ListSIPAccounts = %+v, %v; want bob, desk", list, err)
	}
	if err := s.DeleteSIPAccount(ctx, "BOB"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSIPAccount(ctx, "bob"); !errors.Is(err, phones.ErrNoAccount) {
		t.Errorf("deleting twice: %v, want ErrNoAccount", err)
	}
	if _, err := s.SIPAccount(ctx, "bob"); !errors.Is(err, phones.ErrNoAccount) {
		t.Errorf("SIPAccount after delete: %v", err)
	}
	if ok, err := s.SIPAccountBound(ctx, phones.User("u-bob")); ok || err != nil {
		t.Errorf("SIPAccountBound after delete = %v, %v", ok, err)
	}
}

func testSIPAccountBound(t *testing.T, s SIPAccountStore) {
	sipFixture(t, s)
	for _, tc := range []struct {
		id   phones.Identity
		want bool
	}{
		{phones.User("u-bob"), true},
		{phones.Identity{Kind: phones.IdentityUser, ID: "U-BOB", Tenant: "Contoso"}, true},
		{phones.Identity{Kind: phones.IdentityUser, ID: "U-Bob", Tenant: "fabrikam"}, false},
		{phones.Phone("+15550001234"), true},
		{phones.Identity{Kind: phones.IdentityPhone, ID: "+15550001234", Tenant: "any"}, true},
		{phones.Phone("U-Bob"), false},
		{phones.User("+15550001234"), false},
	} {
		if ok, err := s.SIPAccountBound(t.Context(), tc.id); err != nil || ok != tc.want {
			t.Errorf("SIPAccountBound(%+v) = %v, %v; want %v", tc.id, ok, err, tc.want)
		}
	}
}

// testSIPAccountsReopen checks that SIP accounts survive a restart.
func testSIPAccountsReopen(t *testing.T, h *harness) {
	s, ok := h.store(t).(SIPAccountStore)
	if !ok {
		t.Fatalf("%T does not implement storetest.SIPAccountStore", h.store(t))
	}
	bob, desk := sipFixture(t, s)
	s = h.reopen(t).(SIPAccountStore)
	list, err := s.ListSIPAccounts(t.Context())
	if err != nil || len(list) != 2 || list[0] != bob || list[1] != desk {
		t.Errorf("ListSIPAccounts after reopening = %+v, %v; want bob, desk", list, err)
	}
}
