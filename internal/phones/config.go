package phones

import (
	"crypto/md5" //nolint:gosec // RFC 2617 digest: MD5 is what phones speak
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Defaults of Config.
const (
	DefaultRealm       = "switchboard"
	DefaultMaxCalls    = 100   // per trunk
	DefaultInviteRate  = 10    // INVITEs a second per source
	DefaultInviteBurst = 20    // INVITEs at once per source
	DefaultMaxSources  = 10000 // sources the INVITE limiter remembers
)

// Config is the SIP identities section of Switchboard's configuration (the
// `sip:` section of its YAML). Call Validate before use; New does.
type Config struct {
	// Realm is the digest realm of the accounts' HA1 hashes. Default
	// "switchboard".
	Realm string `yaml:"realm"`
	// Accounts are the phones that register.
	Accounts []Account `yaml:"accounts"`
	// Contacts are identities reached at a fixed SIP URI, without REGISTER.
	Contacts []Contact `yaml:"contacts"`
	// Trunks are gateways to phone numbers.
	Trunks []Trunk `yaml:"trunks"`
	// Limits bound INVITEs from the network.
	Limits Limits `yaml:"limits"`
}

// Account is a SIP phone that registers with a username and password, bound
// to one Graph identity: a user (User, with DisplayName) or a phone number
// (Phone). Exactly one of User and Phone is set.
type Account struct {
	Username    string `yaml:"username"`
	User        string `yaml:"user,omitempty"`
	DisplayName string `yaml:"displayName,omitempty"`
	Phone       string `yaml:"phone,omitempty"`
	// Tenant is the tenant of the identity; empty means any tenant.
	Tenant string `yaml:"tenant,omitempty"`
	// HA1 is the hex MD5 of "username:realm:password" (RFC 2617).
	HA1 string `yaml:"ha1,omitempty"`
	// HA1SHA256 is the hex SHA-256 of the same (RFC 7616, RFC 8760);
	// optional, it lets phones answer with SHA-256.
	HA1SHA256 string `yaml:"ha1Sha256,omitempty"`
	// Password is accepted in development mode only: Validate replaces it
	// with HA1 and HA1SHA256 and clears it.
	Password string `yaml:"password,omitempty"`
}

// Identity returns the Graph identity the account is bound to.
func (a Account) Identity() Identity {
	if a.Phone != "" {
		return Identity{Kind: IdentityPhone, ID: NormalizeNumber(a.Phone), Tenant: a.Tenant}
	}
	return Identity{Kind: IdentityUser, ID: a.User, Tenant: a.Tenant}
}

// Contact is an identity reached at a fixed SIP URI, with no REGISTER: a
// test phone, or a PBX.
type Contact struct {
	User  string `yaml:"user,omitempty"`
	Phone string `yaml:"phone,omitempty"`
	// URI is where INVITEs go, such as sip:bob@127.0.0.1:5062.
	URI string `yaml:"uri"`
	// Transport is udp (default) or tcp.
	Transport string `yaml:"transport,omitempty"`
}

// Identity returns the Graph identity the contact is bound to.
func (c Contact) Identity() Identity {
	if c.Phone != "" {
		return Phone(NormalizeNumber(c.Phone))
	}
	return User(c.User)
}

// Trunk is a gateway to phone numbers.
type Trunk struct {
	Name string `yaml:"name"`
	// Address is the gateway's host:port.
	Address string `yaml:"address"`
	// Transport is udp (default) or tcp.
	Transport string `yaml:"transport,omitempty"`
	// Username and Password answer the gateway's digest challenges. The
	// password is kept as given: answering a challenge needs it.
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
	// Numbers are the E.164 numbers the trunk serves: exact (+15551234),
	// a prefix with a trailing * (+1555*), or * for every number. The
	// longest matching pattern of all trunks wins.
	Numbers []string `yaml:"numbers"`
	// AllowFrom are the addresses (CIDR prefixes or single addresses)
	// whose INVITEs are calls from this trunk.
	AllowFrom []string `yaml:"allowFrom,omitempty"`
	// MaxCalls bounds the trunk's concurrent calls. Default 100.
	MaxCalls int `yaml:"maxCalls,omitempty"`

	allow []netip.Prefix // parsed AllowFrom
}

// Limits bound what the network may ask of the SIP server.
type Limits struct {
	// InviteRate is how many INVITEs a second each source address (an
	// IPv6 source by its /64) may send, trunks excepted. Default 10.
	InviteRate float64 `yaml:"inviteRate,omitempty"`
	// InviteBurst is how many INVITEs a source may send at once. Default 20.
	InviteBurst int `yaml:"inviteBurst,omitempty"`
	// MaxSources bounds how many sources the rate limiter remembers; the
	// least recently seen is forgotten first. Default 10,000.
	MaxSources int `yaml:"maxSources,omitempty"`
}

// Validate checks c and fills in its defaults. Errors name the field, as
// `sip.accounts[2].username: ...`. In development mode (dev) an account
// may give a plain Password: Validate replaces it with its hashes and
// clears it, so the plain text is not kept; outside development mode a
// Password is an error. Validate is idempotent.
func (c *Config) Validate(dev bool) error {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if err := checkToken(c.Realm); err != nil {
		return fmt.Errorf("sip.realm %q: %w", c.Realm, err)
	}
	var errs []error
	users := map[string]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		field := fmt.Sprintf("sip.accounts[%d]", i)
		if err := a.validate(c.Realm, dev); err != nil {
			errs = append(errs, fmt.Errorf("%s.%w", field, err))
			continue
		}
		u := strings.ToLower(a.Username)
		if j, dup := users[u]; dup {
			errs = append(errs, fmt.Errorf("%s.username %q: sip.accounts[%d] has it already", field, a.Username, j))
		}
		users[u] = i
	}
	contacts := map[string]int{}
	for i := range c.Contacts {
		ct := &c.Contacts[i]
		field := fmt.Sprintf("sip.contacts[%d]", i)
		if err := ct.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s.%w", field, err))
			continue
		}
		k := ct.Identity().key()
		if j, dup := contacts[k]; dup {
			errs = append(errs, fmt.Errorf("%s: %s has a contact already, sip.contacts[%d]", field, ct.Identity(), j))
		}
		contacts[k] = i
	}
	names, patterns := map[string]int{}, map[string]int{}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		field := fmt.Sprintf("sip.trunks[%d]", i)
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s.%w", field, err))
			continue
		}
		if j, dup := names[strings.ToLower(t.Name)]; dup {
			errs = append(errs, fmt.Errorf("%s.name %q: sip.trunks[%d] has it already", field, t.Name, j))
		}
		names[strings.ToLower(t.Name)] = i
		for _, p := range t.Numbers {
			if j, dup := patterns[p]; dup && j != i {
				errs = append(errs, fmt.Errorf("%s.numbers: %q is served by sip.trunks[%d] already", field, p, j))
			}
			patterns[p] = i
		}
	}
	if err := c.Limits.validate(); err != nil {
		errs = append(errs, fmt.Errorf("sip.limits.%w", err))
	}
	return errors.Join(errs...)
}

func (a *Account) validate(realm string, dev bool) error {
	if a.Username == "" {
		return errors.New("username: required")
	}
	if err := checkUser(a.Username); err != nil {
		return fmt.Errorf("username %q: %w", a.Username, err)
	}
	if err := checkIdentity(&a.User, &a.Phone); err != nil {
		return err
	}
	a.HA1, a.HA1SHA256 = strings.ToLower(a.HA1), strings.ToLower(a.HA1SHA256)
	switch {
	case a.Password != "" && !dev:
		return errors.New("password: a plain-text password is accepted in development mode only; give ha1, the hex MD5 of username:realm:password (see docs/sip.md)")
	case a.Password != "" && (a.HA1 != "" || a.HA1SHA256 != ""):
		return errors.New("password: give either password (development mode) or ha1, not both")
	case a.Password != "":
		a.HA1, a.HA1SHA256 = HashPassword(a.Username, realm, a.Password)
		a.Password = ""
	case a.HA1 == "":
		return errors.New("ha1: required: the hex MD5 of username:realm:password, such as printf 'bob:switchboard:secret' | md5sum")
	}
	if !isHex(a.HA1, md5.Size) {
		return fmt.Errorf("ha1: want 32 hexadecimal digits (an MD5), got %d characters", len(a.HA1))
	}
	if a.HA1SHA256 != "" && !isHex(a.HA1SHA256, sha256.Size) {
		return fmt.Errorf("ha1Sha256: want 64 hexadecimal digits (a SHA-256), got %d characters", len(a.HA1SHA256))
	}
	return nil
}

func (c *Contact) validate() error {
	if err := checkIdentity(&c.User, &c.Phone); err != nil {
		return err
	}
	if c.URI == "" {
		return errors.New("uri: required, such as sip:bob@127.0.0.1:5062")
	}
	if err := checkSIPURI(c.URI); err != nil {
		return fmt.Errorf("uri %q: %w", c.URI, err)
	}
	return checkTransport(&c.Transport)
}

func (t *Trunk) validate() error {
	if t.Name == "" {
		return errors.New("name: required")
	}
	host, port, err := net.SplitHostPort(t.Address)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: want host:port, such as 192.0.2.10:5060", t.Address)
	}
	if err := checkTransport(&t.Transport); err != nil {
		return err
	}
	if (t.Username == "") != (t.Password == "") {
		return errors.New("username: username and password go together")
	}
	if len(t.Numbers) == 0 {
		return errors.New("numbers: required: the numbers the trunk serves, such as +1555* or *")
	}
	for j, p := range t.Numbers {
		n := NormalizeNumber(p)
		digits := strings.TrimSuffix(n, "*")
		if n != "*" && !isE164(digits) {
			return fmt.Errorf("numbers[%d] %q: want an E.164 number (+15551234), a prefix with * (+1555*) or *", j, p)
		}
		t.Numbers[j] = n
	}
	t.allow = t.allow[:0]
	for j, s := range t.AllowFrom {
		p, err := parsePrefix(s)
		if err != nil {
			return fmt.Errorf("allowFrom[%d] %q: want an address or a CIDR prefix, such as 192.0.2.0/24", j, s)
		}
		t.allow = append(t.allow, p)
	}
	switch {
	case t.MaxCalls == 0:
		t.MaxCalls = DefaultMaxCalls
	case t.MaxCalls < 0:
		return fmt.Errorf("maxCalls %d: must not be negative", t.MaxCalls)
	}
	return nil
}

func (l *Limits) validate() error {
	switch {
	case l.InviteRate < 0:
		return fmt.Errorf("inviteRate %v: must not be negative", l.InviteRate)
	case l.InviteBurst < 0:
		return fmt.Errorf("inviteBurst %d: must not be negative", l.InviteBurst)
	case l.MaxSources < 0:
		return fmt.Errorf("maxSources %d: must not be negative", l.MaxSources)
	}
	if l.InviteRate == 0 {
		l.InviteRate = DefaultInviteRate
	}
	if l.InviteBurst == 0 {
		l.InviteBurst = DefaultInviteBurst
	}
	if l.MaxSources == 0 {
		l.MaxSources = DefaultMaxSources
	}
	return nil
}

// parsePrefix parses a CIDR prefix or a single address (as a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// checkIdentity checks that exactly one of user and phone is set, and
// normalises the phone number.
func checkIdentity(user, phone *string) error {
	switch {
	case *user != "" && *phone != "":
		return errors.New("user: give either user (a Graph user id) or phone (an E.164 number), not both")
	case *user == "" && *phone == "":
		return errors.New("user: required: user (a Graph user id) or phone (an E.164 number)")
	case *phone != "":
		n := NormalizeNumber(*phone)
		if !isE164(n) {
			return fmt.Errorf("phone %q: want an E.164 number, + and up to 15 digits, such as +15551234567", *phone)
		}
		*phone = n
	case strings.ContainsFunc(*user, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("user %q: a user id has no spaces or control characters", *user)
	}
	return nil
}

func checkTransport(t *string) error {
	switch strings.ToLower(*t) {
	case "", "udp":
		*t = "udp"
	case "tcp":
		*t = "tcp"
	default:
		return fmt.Errorf("transport %q: want udp or tcp", *t)
	}
	return nil
}

// checkUser accepts what RFC 3261 allows unescaped in a SIP URI's user part.
func checkUser(s string) error {
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"@:<>;\/?[]{}|^`+"`", r) {
			return fmt.Errorf("%q is not allowed in a SIP username", r)
		}
	}
	return nil
}

// checkToken accepts a value that may appear inside a quoted string of a
// header: no quotes, backslashes or control characters.
func checkToken(s string) error {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '"' || r == '\\' {
			return fmt.Errorf("%q is not allowed", r)
		}
	}
	return nil
}

// checkSIPURI checks the shape of a sip: URI: scheme, optional user, a
// host, an optional port.
func checkSIPURI(s string) error {
	rest, ok := strings.CutPrefix(strings.ToLower(s), "sip:")
	if !ok {
		return errors.New("want a sip: URI")
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host, port := rest, ""
	if h, p, err := net.SplitHostPort(rest); err == nil {
		host, port = h, p
	}
	if host == "" || strings.ContainsAny(host, " <>\"") {
		return errors.New("no host")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q", port)
		}
	}
	return nil
}

func isHex(s string, bytes int) bool {
	if len(s) != 2*bytes {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// HashPassword returns the hex MD5 and SHA-256 digests of
// "username:realm:password", the HA1 of RFC 2617 and RFC 7616 that the
// registrar keeps instead of the password.
func HashPassword(username, realm, password string) (ha1, ha1SHA256 string) {
	s := username + ":" + realm + ":" + password
	m := md5.Sum([]byte(s)) //nolint:gosec // RFC 2617
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(m[:]), hex.EncodeToString(h[:])
}
