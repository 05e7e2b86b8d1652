package phones

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/throttle"
)

// Errors of Accounts sources.
var (
	ErrNoAccount     = errors.New("phones: no such SIP account")
	ErrAccountExists = errors.New("phones: SIP account exists")
)

// StoredAccount is an account kept in the store (created by
// `switchboard sip-accounts`) rather than in the configuration. Its hashes
// were made for Realm: a Directory of another realm ignores it.
type StoredAccount struct {
	Account
	Realm     string
	CreatedAt time.Time
}

// Accounts is where accounts that are not in the configuration are looked
// up (the store). Implementations must be safe for concurrent use.
type Accounts interface {
	// SIPAccount returns the account with the username, compared
	// case-insensitively, or an error matching ErrNoAccount.
	SIPAccount(ctx context.Context, username string) (StoredAccount, error)
	// SIPAccountBound reports whether some account is bound to the
	// identity: same kind, same id (user ids case-insensitively, numbers
	// normalised), and, when the identity names a tenant, of that tenant
	// or of none.
	SIPAccountBound(ctx context.Context, id Identity) (bool, error)
}

// Options are a Directory's collaborators.
type Options struct {
	// Accounts are looked up after the configured ones; nil means none.
	Accounts Accounts
	// Clock is the time of registrations, nonces and rate limits; nil
	// means the wall clock.
	Clock clock.Clock
	// Dev accepts plain-text account passwords in the configuration.
	Dev bool
}

// Directory knows the SIP accounts, contacts and trunks, and the phones
// registered now. Create it with New; it is safe for concurrent use.
type Directory struct {
	cfg      Config
	accounts Accounts
	clock    clock.Clock
	nonces   nonceKey

	byUser   map[string]*Account       // configured accounts by lower-case username
	contacts map[string]Contact        // by identity key
	gates    map[string]*throttle.Gate // per trunk, by lower-case name

	invites  *sourceLimiter // INVITEs per source
	failures *sourceLimiter // authentication failures per source

	mu        sync.Mutex
	regs      map[string]*registration       // by lower-case username
	regsByID  map[string]map[string]struct{} // identity key -> lower-case usernames
	lastPurge time.Time
}

// New validates cfg (see Config.Validate) and returns its Directory, with
// no phone registered.
func New(cfg Config, opts Options) (*Directory, error) {
	cfg = cfg.clone()
	if err := cfg.Validate(opts.Dev); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	d := &Directory{
		cfg: cfg, accounts: opts.Accounts, clock: opts.Clock,
		byUser: map[string]*Account{}, contacts: map[string]Contact{}, gates: map[string]*throttle.Gate{},
		invites:  newSourceLimiter(cfg.Limits.InviteRate, cfg.Limits.InviteBurst, cfg.Limits.MaxSources),
		failures: newSourceLimiter(authFailureRate, authFailureBurst, cfg.Limits.MaxSources),
		regs:     map[string]*registration{}, regsByID: map[string]map[string]struct{}{},
	}
	if _, err := rand.Read(d.nonces[:]); err != nil {
		return nil, fmt.Errorf("phones: nonce key: %w", err)
	}
	for i := range d.cfg.Accounts {
		a := &d.cfg.Accounts[i]
		d.byUser[strings.ToLower(a.Username)] = a
	}
	for _, c := range d.cfg.Contacts {
		d.contacts[c.Identity().key()] = c
	}
	for _, t := range d.cfg.Trunks {
		d.gates[strings.ToLower(t.Name)] = throttle.NewGate(t.MaxCalls)
	}
	return d, nil
}

// clone copies the slices that Validate writes to, so New never changes
// its caller's configuration.
func (c Config) clone() Config {
	c.Accounts = append([]Account(nil), c.Accounts...)
	c.Contacts = append([]Contact(nil), c.Contacts...)
	c.Trunks = append([]Trunk(nil), c.Trunks...)
	for i := range c.Trunks {
		c.Trunks[i].Numbers = append([]string(nil), c.Trunks[i].Numbers...)
		c.Trunks[i].AllowFrom = append([]string(nil), c.Trunks[i].AllowFrom...)
		c.Trunks[i].allow = nil
	}
	return c
}

// Realm returns the digest realm.
func (d *Directory) Realm() string { return d.cfg.Realm }

// RouteKind is what a Route goes through. The zero value is unknown.
type RouteKind uint8

// Route kinds, in the order Route tries them.
const (
	RouteUnknown      RouteKind = iota
	RouteContact                // a static contact
	RouteRegistration           // a registered phone
	RouteTrunk                  // a trunk
)

// String returns "contact", "registration", "trunk" or "unknown".
func (k RouteKind) String() string {
	switch k {
	case RouteContact:
		return "contact"
	case RouteRegistration:
		return "registration"
	case RouteTrunk:
		return "trunk"
	}
	return "unknown"
}

// Route is where an identity is dialled.
type Route struct {
	Kind RouteKind
	// URI is the request URI of the INVITE, such as sip:bob@127.0.0.1:5062
	// or, through a trunk, sip:+15551234567@192.0.2.10:5060.
	URI string
	// Transport is "udp" or "tcp".
	Transport string
	// Trunk is the trunk's name (RouteTrunk); Username and Password answer
	// its digest challenges.
	Trunk              string
	Username, Password string
	// Account is the registered account's username, and Source where its
	// REGISTER came from (RouteRegistration): behind NAT the phone is
	// reached there rather than at its Contact.
	Account string
	Source  netip.AddrPort
}

// Route returns where to send an INVITE for the identity: its static
// contact, else the newest live registration of an account bound to it,
// else, for a phone number, the trunk with the longest matching number
// pattern. It reports false when none applies; see Bound.
func (d *Directory) Route(id Identity) (Route, bool) {
	key := id.key()
	if key == "" {
		return Route{}, false
	}
	if c, ok := d.contacts[key]; ok {
		return Route{Kind: RouteContact, URI: c.URI, Transport: c.Transport}, true
	}
	if r, ok := d.registered(id, key); ok {
		return r, true
	}
	if id.Kind == IdentityPhone {
		if t, ok := d.trunkFor(NormalizeNumber(id.ID)); ok {
			return Route{
				Kind: RouteTrunk, URI: "sip:" + NormalizeNumber(id.ID) + "@" + t.Address, Transport: t.Transport,
				Trunk: t.Name, Username: t.Username, Password: t.Password,
			}, true
		}
	}
	return Route{}, false
}

// Bound reports whether the identity is reached over SIP at all: it has a
// static contact, an account (configured or stored, registered now or
// not), or, for a phone number, a trunk pattern. A bound identity that
// Route cannot reach is unreachable (a phone not registered now), not
// unknown. An error of the Accounts source is returned with false.
func (d *Directory) Bound(ctx context.Context, id Identity) (bool, error) {
	key := id.key()
	if key == "" {
		return false, nil
	}
	if _, ok := d.contacts[key]; ok {
		return true, nil
	}
	if d.configuredAccountBound(id) {
		return true, nil
	}
	if id.Kind == IdentityPhone {
		if _, ok := d.trunkFor(NormalizeNumber(id.ID)); ok {
			return true, nil
		}
	}
	if d.accounts == nil {
		return false, nil
	}
	id.ID = strings.TrimSpace(id.ID)
	if id.Kind == IdentityPhone {
		id.ID = NormalizeNumber(id.ID)
	}
	return d.accounts.SIPAccountBound(ctx, id)
}

func (d *Directory) configuredAccountBound(id Identity) bool {
	for i := range d.cfg.Accounts {
		a := &d.cfg.Accounts[i]
		if a.Identity().key() == id.key() && tenantMatches(a.Tenant, id.Tenant) {
			return true
		}
	}
	return false
}

// tenantMatches reports whether an account of tenant serves an identity of
// want: either is empty, or they are the same (case-insensitively).
func tenantMatches(tenant, want string) bool {
	return tenant == "" || want == "" || strings.EqualFold(tenant, want)
}

// trunkFor returns the trunk whose pattern matches number longest: an
// exact number beats any prefix, a longer prefix a shorter one, and "*"
// matches what nothing else does.
func (d *Directory) trunkFor(number string) (*Trunk, bool) {
	var best *Trunk
	bestLen := -1
	for i := range d.cfg.Trunks {
		t := &d.cfg.Trunks[i]
		for _, p := range t.Numbers {
			n := -1
			switch prefix, wild := strings.CutSuffix(p, "*"); {
			case !wild && p == number:
				n = len(p) + 1 // exact beats a prefix of the same digits
			case wild && strings.HasPrefix(number, prefix):
				n = len(prefix)
			}
			if n > bestLen {
				best, bestLen = t, n
			}
		}
	}
	return best, best != nil
}

// trunk returns the configured trunk named name (case-insensitively).
func (d *Directory) trunk(name string) (*Trunk, bool) {
	for i := range d.cfg.Trunks {
		if strings.EqualFold(d.cfg.Trunks[i].Name, name) {
			return &d.cfg.Trunks[i], true
		}
	}
	return nil, false
}

// lookup returns the account named username: configured, else stored (of
// this realm). An unknown username is ErrNoAccount.
func (d *Directory) lookup(ctx context.Context, username string) (Account, error) {
	if a, ok := d.byUser[strings.ToLower(username)]; ok {
		return *a, nil
	}
	if d.accounts == nil {
		return Account{}, ErrNoAccount
	}
	sa, err := d.accounts.SIPAccount(ctx, username)
	if err != nil {
		return Account{}, err
	}
	if sa.Realm != d.cfg.Realm {
		return Account{}, fmt.Errorf("%w: %s is for realm %q", ErrNoAccount, sa.Username, sa.Realm)
	}
	return sa.Account, nil
}

// sourceAddr is the address a source is known by.
func sourceAddr(a netip.AddrPort) netip.Addr { return a.Addr().Unmap() }
