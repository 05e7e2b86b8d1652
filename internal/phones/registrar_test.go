package phones

import (
	"crypto/md5" //nolint:gosec // RFC 2617
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

var phoneSource = netip.MustParseAddrPort("10.0.0.5:5062")

func md5Hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) } //nolint:gosec // RFC 2617

func sha256Hex(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

var nonceRE = regexp.MustCompile(`nonce="([^"]*)"`)

// answer computes, by hand as RFC 2617 section 3.2.2 says, the
// Authorization value a phone sends in answer to the challenge value.
func answer(t *testing.T, chal, user, realm, pass, method, uri string, sha bool) string {
	t.Helper()
	m := nonceRE.FindStringSubmatch(chal)
	if m == nil {
		t.Fatalf("no nonce in %q", chal)
	}
	h, alg := md5Hex, "MD5"
	if sha {
		h, alg = sha256Hex, "SHA-256"
	}
	ha1 := h(user + ":" + realm + ":" + pass)
	ha2 := h(method + ":" + uri)
	resp := h(ha1 + ":" + m[1] + ":00000001:c0ffee:auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, cnonce="c0ffee", nc=00000001, qop=auth`,
		user, realm, m[1], uri, resp, alg)
}

func registerReq(user, authz, contact string, expires int) RegisterRequest {
	r := RegisterRequest{
		AuthRequest: AuthRequest{Method: "REGISTER", URI: "sip:127.0.0.1", Authorization: authz, Username: user, Source: phoneSource},
		Transport:   "udp",
	}
	if contact != "" {
		r.Contacts = []RequestContact{{URI: contact}}
		r.Expires, r.HasExpires = expires, true
	}
	return r
}

// register registers contact for user with its password, answering the
// challenge, and fails the test unless it gets 200.
func register(t *testing.T, d *Directory, user, pass, contact string, expires int) RegisterResult {
	t.Helper()
	res := d.Register(t.Context(), registerReq(user, "", contact, expires))
	if res.Status != 401 || len(res.Headers) == 0 || res.Headers[0].Name != "WWW-Authenticate" {
		t.Fatalf("REGISTER without credentials = %+v, want 401 with WWW-Authenticate", res.Response)
	}
	authz := answer(t, res.Headers[0].Value, user, d.Realm(), pass, "REGISTER", "sip:127.0.0.1", false)
	res = d.Register(t.Context(), registerReq(user, authz, contact, expires))
	if res.Status != 200 {
		t.Fatalf("REGISTER %s with credentials = %+v, want 200", user, res.Response)
	}
	return res
}

func TestDigestRFC2617Example(t *testing.T) {
	// RFC 2617 section 3.5: Mufasa, "Circle Of Life", GET /dir/index.html.
	c, err := ParseAuthorization(`Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	if err != nil {
		t.Fatal(err)
	}
	ha1, _ := HashPassword("Mufasa", "testrealm@host.com", "Circle Of Life")
	if got := expectedResponse(algMD5, ha1, "GET", c); got != c.Response {
		t.Errorf("MD5 response = %s, want %s", got, c.Response)
	}
	// RFC 7616 section 3.9.1: the same user with "Circle of Life", MD5 and SHA-256.
	for _, tc := range []struct {
		alg      algorithm
		response string
	}{
		{algMD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{algSHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		c := Credentials{Username: "Mufasa", Realm: "http-auth@example.org", Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"}
		md5HA1, shaHA1 := HashPassword("Mufasa", "http-auth@example.org", "Circle of Life")
		ha1 := md5HA1
		if tc.alg.name == "SHA-256" {
			ha1 = shaHA1
		}
		if got := expectedResponse(tc.alg, ha1, "GET", c); got != tc.response {
			t.Errorf("%s response = %s, want %s", tc.alg.name, got, tc.response)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	good := `Digest username="bob", realm="switchboard", nonce="n", uri="sip:h", response="r"`
	tests := []struct {
		in   string
		want Credentials
		ok   bool
	}{
		{good, Credentials{Username: "bob", Realm: "switchboard", Nonce: "n", URI: "sip:h", Response: "r"}, true},
		{`digest  username = "a\"b" ,realm="x",nonce=n,uri="u",response=r, algorithm=SHA-256,qop=auth,nc=00000001,cnonce="c",opaque="o",extra=1`,
			Credentials{Username: `a"b`, Realm: "x", Nonce: "n", URI: "u", Response: "r", Algorithm: "SHA-256", QOP: "auth", NC: "00000001", CNonce: "c", Opaque: "o"}, true},
		{`Basic Ym9iOnB3`, Credentials{}, false},
		{`Digest username="bob"`, Credentials{}, false},                           // no realm, nonce...
		{good + `, username="eve"`, Credentials{}, false},                         // twice
		{`Digest username="bob, realm=x`, Credentials{}, false},                   // unterminated
		{`Digest username="bob" realm="x"`, Credentials{}, false},                 // no comma
		{`Digest =x`, Credentials{}, false},                                       // no name
		{`Digest username=`, Credentials{}, false},                                // no value
		{"Digest " + strings.Repeat("a", maxAuthorization), Credentials{}, false}, // too long
	}
	for _, tc := range tests {
		got, err := ParseAuthorization(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseAuthorization(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzAuthorization(f *testing.F) {
	for _, s := range []string{
		`Digest username="bob", realm="switchboard", nonce="n", uri="sip:h", response="r", qop=auth, nc=00000001, cnonce="c"`,
		`Digest username="a\"b\\", realm=x`,
		`Digest ,,,`, `Digest a="`, `Digest a=\`, "Digest a=\"\\", `Digest a=b  ,  c="d"`,
	} {
		f.Add(s)
	}
	d, err := New(Config{Accounts: []Account{{Username: "bob", User: "U", HA1: bobHA1}}}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseAuthorization(v)
		if err == nil && (c.Username == "" || c.Nonce == "" || c.Response == "") {
			t.Fatalf("accepted %q without its required parameters: %+v", v, c)
		}
		_, res, ok := d.Authenticate(t.Context(), ProxyAuthenticate, AuthRequest{Method: "INVITE", URI: "sip:x@h", Authorization: v})
		if ok || res.Status < 400 || res.Status > 499 {
			t.Fatalf("Authenticate(%q) = %+v, %v; want a 4xx refusal", v, res, ok)
		}
	})
}

func TestRegisterChallengeAndBindings(t *testing.T) {
	d, clk := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U-Bob", Password: "secret"}}}, nil)
	res := d.Register(t.Context(), registerReq("bob", "", "sip:bob@10.0.0.5:5062", 600))
	if res.Status != 401 || len(res.Headers) != 2 {
		t.Fatalf("first REGISTER = %+v, want 401 with an MD5 and a SHA-256 challenge", res.Response)
	}
	for i, alg := range []string{"MD5", "SHA-256"} {
		h := res.Headers[i]
		if h.Name != "WWW-Authenticate" || !strings.HasPrefix(h.Value, `Digest realm="switchboard", nonce="`) ||
			!strings.Contains(h.Value, "algorithm="+alg) || !strings.Contains(h.Value, `qop="auth"`) || strings.Contains(h.Value, "stale") {
			t.Errorf("challenge %d = %s: %q", i, h.Name, h.Value)
		}
	}
	// SHA-256 (RFC 8760) works as well as MD5.
	authz := answer(t, res.Headers[1].Value, "bob", "switchboard", "secret", "REGISTER", "sip:127.0.0.1", true)
	res = d.Register(t.Context(), registerReq("bob", authz, "<sip:bob@10.0.0.5:5062>", 7200))
	if res.Status != 200 || res.Account.Username != "bob" || len(res.Bindings) != 1 {
		t.Fatalf("REGISTER = %+v", res)
	}
	b := res.Bindings[0]
	if b.URI != "sip:bob@10.0.0.5:5062" || !b.Expires.Equal(t0.Add(MaxExpires)) || b.Source != phoneSource {
		t.Errorf("binding = %+v, want one for an hour (7200 s shortened)", b)
	}
	if len(res.Headers) != 1 || res.Headers[0] != (Header{"Contact", "<sip:bob@10.0.0.5:5062>;expires=3600"}) {
		t.Errorf("headers = %+v", res.Headers)
	}

	// A second contact with its own expires parameter; the nonce is reused.
	clk.Advance(10 * time.Second)
	req := registerReq("bob", authz, "", 0)
	req.Contacts = []RequestContact{{URI: "sip:bob@10.0.0.9", Expires: 120, HasExpires: true}}
	res = d.Register(t.Context(), req)
	if res.Status != 200 || len(res.Bindings) != 2 || res.Bindings[0].URI != "sip:bob@10.0.0.9" {
		t.Fatalf("second contact: %+v", res)
	}
	if r, _ := d.Route(User("u-bob")); r.URI != "sip:bob@10.0.0.9" {
		t.Errorf("Route = %s, want the newest contact", r.URI)
	}

	// A query (no Contact) lists the bindings, and changes nothing.
	if res = d.Register(t.Context(), registerReq("bob", authz, "", 0)); res.Status != 200 || len(res.Bindings) != 2 {
		t.Errorf("query: %+v", res)
	}

	// The short one expires on the clock; the route falls back.
	clk.Advance(120 * time.Second)
	if r, _ := d.Route(User("u-bob")); r.URI != "sip:bob@10.0.0.5:5062" {
		t.Errorf("Route after the short binding expired = %s", r.URI)
	}
	// Too brief.
	res = d.Register(t.Context(), registerReq("bob", authz, "sip:bob@10.0.0.5:5062", 30))
	if res.Status != 423 || len(res.Headers) != 1 || res.Headers[0] != (Header{"Min-Expires", "60"}) {
		t.Errorf("Expires 30: %+v, want 423 with Min-Expires 60", res.Response)
	}
	// Expires: 0 removes a contact; * removes them all.
	res = d.Register(t.Context(), registerReq("bob", authz, "sip:bob@10.0.0.5:5062", 0))
	if res.Status != 200 || len(res.Bindings) != 0 {
		t.Errorf("Expires 0: %+v", res)
	}
	register(t, d, "bob", "secret", "sip:bob@10.0.0.5:5062", 600)
	register(t, d, "bob", "secret", "sip:bob@10.0.0.6:5062", 600)
	star := registerReq("bob", authz, "", 0)
	star.Wildcard = true
	star.Expires, star.HasExpires = 0, true
	if res = d.Register(t.Context(), star); res.Status != 200 || len(res.Bindings) != 0 {
		t.Errorf("Contact *: %+v", res)
	}
	if _, ok := d.Route(User("u-bob")); ok {
		t.Error("a route after Contact: *")
	}
	star.HasExpires = false
	if res = d.Register(t.Context(), star); res.Status != 400 {
		t.Errorf("Contact * without Expires: 0: %+v, want 400", res.Response)
	}
}

func TestRegistrationExpires(t *testing.T) {
	d, clk := newDir(t, Config{Accounts: []Account{{Username: "bob", Phone: "+15550001234", Password: "secret"}}}, nil)
	register(t, d, "bob", "secret", "sip:bob@10.0.0.5:5062", 60)
	clk.Advance(59 * time.Second)
	if _, ok := d.Route(Phone("+15550001234")); !ok {
		t.Fatal("no route 59 s into a 60 s registration")
	}
	clk.Advance(time.Second)
	if r, ok := d.Route(Phone("+15550001234")); ok {
		t.Fatalf("route %+v after the registration expired", r)
	}
	if ok, _ := d.Bound(t.Context(), Phone("+15550001234")); !ok {
		t.Error("an expired registration unbinds the account")
	}
	// The purge forgets it (a minute later, on the next REGISTER).
	clk.Advance(time.Minute)
	register(t, d, "bob", "secret", "", 0)
	d.mu.Lock()
	n := len(d.regs) + len(d.regsByID)
	d.mu.Unlock()
	if n != 0 {
		t.Errorf("%d registrations kept after expiry", n)
	}
}

func TestRegisterBindingsBounded(t *testing.T) {
	d, _ := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U", Password: "secret"}}}, nil)
	var res RegisterResult
	for i := range MaxBindings + 5 {
		res = register(t, d, "bob", "secret", fmt.Sprintf("sip:bob@10.0.0.%d", i), 600)
	}
	if len(res.Bindings) != MaxBindings || res.Bindings[0].URI != fmt.Sprintf("sip:bob@10.0.0.%d", MaxBindings+4) {
		t.Errorf("%d bindings, newest %s; want %d, the newest kept", len(res.Bindings), res.Bindings[0].URI, MaxBindings)
	}
}

// TestWrongPasswordLooksLikeUnknownUser checks that the registrar tells no
// one which usernames exist: the challenge and the refusal are the same.
func TestWrongPasswordLooksLikeUnknownUser(t *testing.T) {
	d, _ := newDir(t, Config{Accounts: []Account{
		{Username: "bob", User: "U", HA1: md5Hex("bob:switchboard:secret")},
		{Username: "sha", User: "U2", Password: "secret"}, // MD5 and SHA-256
	}}, nil)
	shape := func(r Response) string {
		var names []string
		for _, h := range r.Headers {
			names = append(names, h.Name+":"+nonceRE.ReplaceAllString(h.Value, "nonce=N"))
		}
		return fmt.Sprintf("%d %s %v", r.Status, r.Reason, names)
	}
	try := func(user, pass string) (string, string) {
		first := d.Register(t.Context(), registerReq(user, "", "sip:x@10.0.0.5", 600))
		authz := answer(t, first.Headers[0].Value, user, "switchboard", pass, "REGISTER", "sip:127.0.0.1", false)
		second := d.Register(t.Context(), registerReq(user, authz, "sip:x@10.0.0.5", 600))
		return shape(first.Response), shape(second.Response)
	}
	md5Only, r1 := try("bob", "wrong")
	both, r2 := try("sha", "wrong")
	if md5Only == both {
		t.Fatalf("accounts with and without a SHA-256 hash get the same challenge %s", both)
	}
	for _, user := range []string{"mallory", "trudy", "oscar", "BOB2"} {
		c, r := try(user, "wrong")
		if c != md5Only && c != both {
			t.Errorf("unknown user %s is challenged with %s, like no account", user, c)
		}
		if again, _ := try(user, "wrong"); again != c {
			t.Errorf("unknown user %s is challenged with %s, then %s", user, c, again)
		}
		if r != r1 || r != r2 {
			t.Errorf("unknown user %s refused with %s; accounts with %s and %s", user, r, r1, r2)
		}
	}
	if r1 != "403 Forbidden []" {
		t.Errorf("wrong password: %s, want 403", r1)
	}
	// Credentials of one account do not register another's address of record.
	first := d.Register(t.Context(), registerReq("eve", "", "sip:x@10.0.0.5", 600))
	authz := answer(t, first.Headers[0].Value, "bob", "switchboard", "secret", "REGISTER", "sip:127.0.0.1", false)
	if res := d.Register(t.Context(), registerReq("eve", authz, "sip:x@10.0.0.5", 600)); res.Status != 403 {
		t.Errorf("bob's credentials for eve: %+v, want 403", res.Response)
	}
}

func TestStaleNonce(t *testing.T) {
	d, clk := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U", Password: "secret"}}}, nil)
	first := d.Register(t.Context(), registerReq("bob", "", "sip:x@10.0.0.5", 600))
	authz := answer(t, first.Headers[0].Value, "bob", "switchboard", "secret", "REGISTER", "sip:127.0.0.1", false)
	clk.Advance(NonceLifetime)
	if res := d.Register(t.Context(), registerReq("bob", authz, "sip:x@10.0.0.5", 600)); res.Status != 200 {
		t.Fatalf("a nonce at the end of its life: %+v", res.Response)
	}
	clk.Advance(time.Second)
	res := d.Register(t.Context(), registerReq("bob", authz, "sip:x@10.0.0.5", 600))
	if res.Status != 401 || !strings.Contains(res.Headers[0].Value, "stale=true") {
		t.Fatalf("an expired nonce with the right password: %+v, want 401 stale=true", res.Response)
	}
	if nonceRE.FindString(res.Headers[0].Value) == nonceRE.FindString(first.Headers[0].Value) {
		t.Error("the stale challenge repeats the old nonce")
	}
	// With the wrong password an old nonce is just refused.
	wrong := answer(t, first.Headers[0].Value, "bob", "switchboard", "guess", "REGISTER", "sip:127.0.0.1", false)
	if res := d.Register(t.Context(), registerReq("bob", wrong, "sip:x@10.0.0.5", 600)); res.Status != 403 {
		t.Errorf("an expired nonce with the wrong password: %+v, want 403", res.Response)
	}
	// A nonce of another process (another key) is stale too, so phones
	// re-register after a restart without asking anyone.
	other, _ := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U", Password: "secret"}}}, nil)
	fresh := other.Register(t.Context(), registerReq("bob", "", "sip:x@10.0.0.5", 600))
	authz = answer(t, fresh.Headers[0].Value, "bob", "switchboard", "secret", "REGISTER", "sip:127.0.0.1", false)
	if res := d.Register(t.Context(), registerReq("bob", authz, "sip:x@10.0.0.5", 600)); res.Status != 401 || !strings.Contains(res.Headers[0].Value, "stale=true") {
		t.Errorf("another process's nonce: %+v, want 401 stale=true", res.Response)
	}
}

func TestAuthenticateRefusals(t *testing.T) {
	d, _ := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U", Password: "secret"}}}, nil)
	first := d.Register(t.Context(), registerReq("bob", "", "", 0))
	good := answer(t, first.Headers[0].Value, "bob", "switchboard", "secret", "INVITE", "sip:app@127.0.0.1", false)
	tests := []struct {
		name   string
		authz  string
		uri    string
		status int
	}{
		{"right", good, "sip:app@127.0.0.1", 0},
		{"right, port and parameters", good, "sip:app@127.0.0.1:5060;transport=udp", 0},
		{"none", "", "sip:app@127.0.0.1", 407},
		{"another realm", strings.Replace(good, `realm="switchboard"`, `realm="other"`, 1), "sip:app@127.0.0.1", 407},
		{"malformed", "Digest username=", "sip:app@127.0.0.1", 400},
		{"unknown algorithm", strings.Replace(good, "algorithm=MD5", "algorithm=MD5-sess", 1), "sip:app@127.0.0.1", 400},
		{"no qop", strings.Replace(good, ", qop=auth", "", 1), "sip:app@127.0.0.1", 400},
		{"another request URI", good, "sip:other@127.0.0.1", 400},
		{"tampered response", strings.Replace(good, `response="`, `response="0`, 1), "sip:app@127.0.0.1", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, res, ok := d.Authenticate(t.Context(), ProxyAuthenticate, AuthRequest{Method: "INVITE", URI: tc.uri, Authorization: tc.authz})
			if tc.status == 0 {
				if !ok || a.Username != "bob" || a.Identity() != User("U") {
					t.Errorf("Authenticate = %+v, %+v, %v; want bob", a, res, ok)
				}
				return
			}
			if ok || res.Status != tc.status {
				t.Errorf("Authenticate = %+v, %v; want %d", res, ok, tc.status)
			}
			if tc.status == 407 && (len(res.Headers) == 0 || res.Headers[0].Name != "Proxy-Authenticate") {
				t.Errorf("407 without Proxy-Authenticate: %+v", res)
			}
		})
	}
}

// TestAuthenticationFailuresLimited checks that a source guessing
// passwords is refused without a look after ten failures a minute, even
// with the right password, and that another source is not.
func TestAuthenticationFailuresLimited(t *testing.T) {
	d, clk := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U", Password: "secret"}}}, nil)
	first := d.Register(t.Context(), registerReq("bob", "", "", 0))
	good := answer(t, first.Headers[0].Value, "bob", "switchboard", "secret", "REGISTER", "sip:127.0.0.1", false)
	bad := answer(t, first.Headers[0].Value, "bob", "switchboard", "guess", "REGISTER", "sip:127.0.0.1", false)
	for range authFailureBurst {
		if res := d.Register(t.Context(), registerReq("bob", bad, "", 0)); res.Status != 403 {
			t.Fatalf("guess: %+v", res.Response)
		}
	}
	if res := d.Register(t.Context(), registerReq("bob", good, "", 0)); res.Status != 403 {
		t.Fatalf("the right password from a source out of failures: %+v, want 403", res.Response)
	}
	other := registerReq("bob", good, "", 0)
	other.Source = netip.MustParseAddrPort("10.9.9.9:5060")
	if res := d.Register(t.Context(), other); res.Status != 200 {
		t.Errorf("another source: %+v, want 200", res.Response)
	}
	clk.Advance(time.Minute / authFailureBurst)
	if res := d.Register(t.Context(), registerReq("bob", good, "", 0)); res.Status != 200 {
		t.Errorf("after a failure's worth of time: %+v, want 200", res.Response)
	}
}

func TestStoredAccounts(t *testing.T) {
	stored := &memAccounts{}
	ha1, sha := HashPassword("carol", "switchboard", "pw")
	stored.add(StoredAccount{Account: Account{Username: "carol", User: "U-Carol", HA1: ha1, HA1SHA256: sha}, Realm: "switchboard"})
	stored.add(StoredAccount{Account: Account{Username: "dave", User: "U-Dave", HA1: md5Hex("dave:elsewhere:pw")}, Realm: "elsewhere"})
	d, _ := newDir(t, Config{Accounts: []Account{{Username: "bob", User: "U", Password: "secret"}}}, stored)
	register(t, d, "carol", "pw", "sip:carol@10.0.0.7", 600)
	if r, ok := d.Route(User("u-carol")); !ok || r.Account != "carol" {
		t.Errorf("Route of a stored account = %+v, %v", r, ok)
	}
	// An account added while the server runs is seen at once.
	stored.add(StoredAccount{Account: Account{Username: "erin", Phone: "+15550009999", HA1: md5Hex("erin:switchboard:pw")}, Realm: "switchboard"})
	register(t, d, "erin", "pw", "sip:erin@10.0.0.8", 600)
	// An account hashed for another realm cannot log in.
	first := d.Register(t.Context(), registerReq("dave", "", "", 0))
	authz := answer(t, first.Headers[0].Value, "dave", "switchboard", "pw", "REGISTER", "sip:127.0.0.1", false)
	if res := d.Register(t.Context(), registerReq("dave", authz, "", 0)); res.Status != 403 {
		t.Errorf("an account of another realm: %+v, want 403", res.Response)
	}
}
