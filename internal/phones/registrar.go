package phones

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Registration limits.
const (
	MinExpires     = 60 * time.Second // a shorter registration gets 423
	MaxExpires     = time.Hour        // a longer one is shortened to this
	DefaultExpires = time.Hour        // when the REGISTER names none
	MaxBindings    = 10               // contacts per account; the oldest go first
)

// Header is a header field of a response.
type Header struct{ Name, Value string }

// Response is a SIP response for the server to send: the status, its
// reason phrase and the header fields to add.
type Response struct {
	Status  int
	Reason  string
	Headers []Header
}

// Challenge is how a request without valid credentials is challenged:
// 401 with WWW-Authenticate for REGISTER (the credentials then come in
// Authorization), 407 with Proxy-Authenticate for INVITE and others (the
// credentials in Proxy-Authorization).
type Challenge struct {
	Status int
	Header string
}

// The two ways of challenging.
var (
	WWWAuthenticate   = Challenge{Status: 401, Header: "WWW-Authenticate"}
	ProxyAuthenticate = Challenge{Status: 407, Header: "Proxy-Authenticate"}
)

// AuthRequest is what digest authentication needs of a request.
type AuthRequest struct {
	// Method and URI are the request's method and request URI.
	Method, URI string
	// Authorization is the value of the Authorization (or
	// Proxy-Authorization) header; empty when there is none.
	Authorization string
	// Username, when set, is the user the request speaks for (the To user
	// of a REGISTER): credentials of another username are refused. It also
	// picks the challenge's algorithms.
	Username string
	// Source is where the request came from: its failures are counted.
	Source netip.AddrPort
}

// Authenticate checks the request's digest credentials and returns the
// account they prove. Otherwise it returns the response to send: ch's
// status with a fresh challenge (no credentials, another realm, a nonce
// that is stale or not ours though the response is right; stale=true in
// the last two cases), 400 for malformed credentials or an algorithm or
// qop this server does not offer, 403 for a wrong response whether or not
// the username exists, and 403 without looking when the source failed too
// often (10 times a minute). qop=auth is required.
func (d *Directory) Authenticate(ctx context.Context, ch Challenge, req AuthRequest) (Account, Response, bool) {
	now := d.clock.Now()
	if req.Authorization == "" {
		return Account{}, d.challenge(ctx, ch, req.Username, now, false), false
	}
	c, err := ParseAuthorization(req.Authorization)
	if err != nil {
		return Account{}, Response{Status: 400, Reason: "Malformed Authorization"}, false
	}
	if c.Realm != d.cfg.Realm {
		return Account{}, d.challenge(ctx, ch, req.Username, now, false), false
	}
	alg, ok := algorithmOf(c.Algorithm)
	if !ok {
		return Account{}, Response{Status: 400, Reason: "Unsupported Digest Algorithm"}, false
	}
	if !strings.EqualFold(c.QOP, "auth") || c.CNonce == "" || len(c.NC) != 8 {
		return Account{}, Response{Status: 400, Reason: "Digest Needs qop=auth, nc and cnonce"}, false
	}
	if !uriMatches(c.URI, req.URI) {
		return Account{}, Response{Status: 400, Reason: "Digest URI Differs From Request URI"}, false
	}
	src := sourceAddr(req.Source)
	if ok, _ := d.failures.peek(src, now); !ok {
		return Account{}, forbidden(), false
	}
	a, err := d.lookup(ctx, c.Username)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return Account{}, Response{Status: 500, Reason: "Account Lookup Failed"}, false
	}
	ha1 := a.HA1
	if alg.name == algSHA256.name {
		ha1 = a.HA1SHA256
	}
	if !known || ha1 == "" {
		// The same work as for a real account, so that time tells nothing.
		ha1 = d.decoyHA1(c.Username, alg)
		known = false
	}
	want := expectedResponse(alg, ha1, req.Method, c)
	right := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
	if req.Username != "" && !strings.EqualFold(req.Username, c.Username) {
		right = false
	}
	if !right || !known {
		d.failures.allow(src, now)
		return Account{}, forbidden(), false
	}
	if d.nonces.check(c.Nonce, now, d.cfg.Realm) != nonceFresh {
		return Account{}, d.challenge(ctx, ch, c.Username, now, true), false
	}
	return a, Response{}, true
}

func forbidden() Response { return Response{Status: 403, Reason: "Forbidden"} }

// challenge returns ch's response with an MD5 challenge and, when the
// account can answer it, a SHA-256 one. An unknown username gets the
// SHA-256 challenge or not by a keyed hash of its name, always the same
// way, so that the challenge does not tell which usernames exist.
func (d *Directory) challenge(ctx context.Context, ch Challenge, username string, now time.Time, stale bool) Response {
	nonce := d.nonces.make(now, d.cfg.Realm)
	r := Response{Status: ch.Status, Reason: "Unauthorized", Headers: []Header{{ch.Header, challenge(d.cfg.Realm, nonce, algMD5, stale)}}}
	if ch.Status == 407 {
		r.Reason = "Proxy Authentication Required"
	}
	offerSHA := false
	if username != "" {
		if a, err := d.lookup(ctx, username); err == nil {
			offerSHA = a.HA1SHA256 != ""
		} else {
			offerSHA = d.decoyHA1(username, algSHA256)[0]&1 == 1
		}
	}
	if offerSHA {
		r.Headers = append(r.Headers, Header{ch.Header, challenge(d.cfg.Realm, nonce, algSHA256, stale)})
	}
	return r
}

// decoyHA1 is a hash no password gives, stable per username, for unknown
// accounts.
func (d *Directory) decoyHA1(username string, alg algorithm) string {
	m := hmac.New(sha256.New, d.nonces[:])
	m.Write([]byte("decoy\x00" + strings.ToLower(username)))
	return alg.hex(string(m.Sum(nil)))
}

// uriMatches reports whether the digest uri names the request URI:
// scheme, user and host compared case-insensitively, parameters ignored,
// and a port compared only when both give one. An empty request URI
// matches anything.
func uriMatches(digestURI, requestURI string) bool {
	if requestURI == "" {
		return true
	}
	a, b := bareURI(digestURI), bareURI(requestURI)
	if a == b {
		return true
	}
	ah, ap := splitPort(a)
	bh, bp := splitPort(b)
	return ah == bh && (ap == "" || bp == "")
}

// splitPort splits "user@host:port" (host possibly [IPv6]) at its port.
func splitPort(s string) (host, port string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Contains(s[i:], "]") || (strings.Count(s, ":") > 1 && !strings.Contains(s, "]")) {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// bareURI is a URI without angle brackets, parameters, headers and
// scheme, lower-cased: "user@host:port".
func bareURI(s string) string {
	s = strings.ToLower(strings.Trim(strings.TrimSpace(s), "<>"))
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	if _, rest, ok := strings.Cut(s, ":"); ok && (strings.HasPrefix(s, "sip:") || strings.HasPrefix(s, "sips:")) {
		s = rest
	}
	return s
}

// RequestContact is a Contact of a REGISTER: its URI and, when the contact
// has an expires parameter, its value in seconds.
type RequestContact struct {
	URI        string
	Expires    int
	HasExpires bool
}

// RegisterRequest is a REGISTER as the registrar needs it. Username (in
// AuthRequest) is the user of its To header, the address of record.
type RegisterRequest struct {
	AuthRequest
	// Contacts are the Contact header's URIs; none asks for the current
	// bindings.
	Contacts []RequestContact
	// Wildcard is "Contact: *", which with "Expires: 0" removes every
	// binding.
	Wildcard bool
	// Expires is the Expires header in seconds, when HasExpires.
	Expires    int
	HasExpires bool
	// Transport is the transport the REGISTER came over, "udp" or "tcp":
	// the binding's, unless its URI names one.
	Transport string
}

// Binding is a registered contact of an account.
type Binding struct {
	URI        string
	Transport  string
	Source     netip.AddrPort // where the REGISTER came from
	Registered time.Time
	Expires    time.Time
}

// RegisterResult is the registrar's answer to a REGISTER.
type RegisterResult struct {
	Response
	// Account is the authenticated account (Status 200).
	Account Account
	// Bindings are the account's live bindings after the request, newest
	// first (Status 200); Response has a Contact header for each.
	Bindings []Binding
}

type registration struct {
	key      string // identity key of the account
	tenant   string
	bindings []Binding // oldest first
}

// Register authenticates a REGISTER (with WWWAuthenticate, see
// Authenticate) and applies it: each contact is bound for its expires
// parameter, else the Expires header, else an hour, shortened to an hour;
// a contact asking for less than a minute gets 423 with Min-Expires and
// changes nothing; 0 removes the contact, and "*" with "Expires: 0" every
// contact. Nothing is stored: registrations end with the process.
func (d *Directory) Register(ctx context.Context, req RegisterRequest) RegisterResult {
	if req.Username == "" {
		return RegisterResult{Response: Response{Status: 400, Reason: "No Address Of Record"}}
	}
	a, resp, ok := d.Authenticate(ctx, WWWAuthenticate, req.AuthRequest)
	if !ok {
		return RegisterResult{Response: resp}
	}
	type change struct {
		uri, transport string
		ttl            time.Duration
	}
	var changes []change
	switch {
	case req.Wildcard && (len(req.Contacts) > 0 || !req.HasExpires || req.Expires != 0):
		return RegisterResult{Response: Response{Status: 400, Reason: "Contact * Needs Expires: 0 Alone"}}
	case req.HasExpires && req.Expires < 0:
		return RegisterResult{Response: Response{Status: 400, Reason: "Bad Expires"}}
	}
	for _, c := range req.Contacts {
		uri := strings.Trim(strings.TrimSpace(c.URI), "<>")
		if checkSIPURI(uri) != nil {
			return RegisterResult{Response: Response{Status: 400, Reason: "Bad Contact"}}
		}
		ttl := DefaultExpires
		switch {
		case c.HasExpires:
			ttl = time.Duration(c.Expires) * time.Second
		case req.HasExpires:
			ttl = time.Duration(req.Expires) * time.Second
		}
		switch {
		case ttl < 0 || c.HasExpires && c.Expires < 0:
			return RegisterResult{Response: Response{Status: 400, Reason: "Bad Expires"}}
		case ttl > 0 && ttl < MinExpires:
			return RegisterResult{Response: Response{Status: 423, Reason: "Interval Too Brief",
				Headers: []Header{{"Min-Expires", strconv.Itoa(int(MinExpires / time.Second))}}}}
		case ttl > MaxExpires:
			ttl = MaxExpires
		}
		changes = append(changes, change{uri, contactTransport(uri, req.Transport), ttl})
	}

	now := d.clock.Now()
	user := strings.ToLower(a.Username)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.purgeLocked(now)
	reg := d.regs[user]
	if reg == nil {
		id := a.Identity()
		reg = &registration{key: id.key(), tenant: a.Tenant}
	}
	reg.bindings = liveBindings(reg.bindings, now)
	if req.Wildcard {
		reg.bindings = nil
	}
	for _, ch := range changes {
		reg.bindings = slices.DeleteFunc(reg.bindings, func(b Binding) bool { return b.URI == ch.uri })
		if ch.ttl > 0 {
			reg.bindings = append(reg.bindings, Binding{URI: ch.uri, Transport: ch.transport, Source: req.Source, Registered: now, Expires: now.Add(ch.ttl)})
		}
	}
	if n := len(reg.bindings); n > MaxBindings {
		reg.bindings = slices.Delete(reg.bindings, 0, n-MaxBindings)
	}
	d.storeLocked(user, reg)

	res := RegisterResult{Response: Response{Status: 200, Reason: "OK"}, Account: a}
	for i := len(reg.bindings) - 1; i >= 0; i-- {
		b := reg.bindings[i]
		res.Bindings = append(res.Bindings, b)
		secs := int((b.Expires.Sub(now) + time.Second - 1) / time.Second)
		res.Headers = append(res.Headers, Header{"Contact", "<" + b.URI + ">;expires=" + strconv.Itoa(secs)})
	}
	return res
}

// contactTransport is the transport a contact URI names, else def, else udp.
func contactTransport(uri, def string) string {
	for _, p := range strings.Split(uri, ";")[1:] {
		if k, v, _ := strings.Cut(p, "="); strings.EqualFold(strings.TrimSpace(k), "transport") {
			if v = strings.ToLower(strings.TrimSpace(v)); v == "tcp" || v == "udp" {
				return v
			}
		}
	}
	if d := strings.ToLower(def); d == "tcp" {
		return d
	}
	return "udp"
}

// liveBindings drops the bindings expired at now, in place.
func liveBindings(bs []Binding, now time.Time) []Binding {
	return slices.DeleteFunc(bs, func(b Binding) bool { return !now.Before(b.Expires) })
}

// storeLocked keeps reg as user's registration, or forgets it when it has
// no binding left, and keeps the identity index in step.
func (d *Directory) storeLocked(user string, reg *registration) {
	if len(reg.bindings) == 0 {
		delete(d.regs, user)
		if set := d.regsByID[reg.key]; set != nil {
			delete(set, user)
			if len(set) == 0 {
				delete(d.regsByID, reg.key)
			}
		}
		return
	}
	d.regs[user] = reg
	set := d.regsByID[reg.key]
	if set == nil {
		set = map[string]struct{}{}
		d.regsByID[reg.key] = set
	}
	set[user] = struct{}{}
}

// purgeLocked forgets expired bindings, at most once a minute.
func (d *Directory) purgeLocked(now time.Time) {
	if now.Sub(d.lastPurge) < time.Minute {
		return
	}
	d.lastPurge = now
	for user, reg := range d.regs {
		reg.bindings = liveBindings(reg.bindings, now)
		d.storeLocked(user, reg)
	}
}

// registered returns the route to the newest live binding of an account
// bound to the identity (key is id.key()).
func (d *Directory) registered(id Identity, key string) (Route, bool) {
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	var best Binding
	var bestUser string
	for user := range d.regsByID[key] {
		reg := d.regs[user]
		if !tenantMatches(reg.tenant, id.Tenant) {
			continue
		}
		for _, b := range reg.bindings {
			if now.Before(b.Expires) && (bestUser == "" || b.Registered.After(best.Registered)) {
				best, bestUser = b, user
			}
		}
	}
	if bestUser == "" {
		return Route{}, false
	}
	return Route{Kind: RouteRegistration, URI: best.URI, Transport: best.Transport, Account: bestUser, Source: best.Source}, true
}
