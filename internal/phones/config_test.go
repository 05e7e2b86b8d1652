package phones

import (
	"strings"
	"testing"
)

const bobHA1 = "3b1a5c8a0f3e0a7a9b4ec4c0d5bb8b8e" // any 32 hex digits

func validConfig() Config {
	return Config{
		Accounts: []Account{{Username: "bob", User: "U-Bob", HA1: bobHA1}},
		Contacts: []Contact{{Phone: "+1 (555) 000-1111", URI: "sip:pbx@127.0.0.1:5070"}},
		Trunks: []Trunk{{Name: "carrier", Address: "192.0.2.10:5060", Numbers: []string{"+1555*"},
			AllowFrom: []string{"192.0.2.0/24", "198.51.100.7"}, Username: "u", Password: "p"}},
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		dev    bool
		change func(*Config)
		want   string // substring of the error; "" for none
	}{
		{name: "valid", change: func(*Config) {}},
		{name: "empty config", change: func(c *Config) { *c = Config{} }},
		{name: "realm with a quote", change: func(c *Config) { c.Realm = `a"b` }, want: "sip.realm"},
		{name: "username missing", change: func(c *Config) { c.Accounts[0].Username = "" }, want: "sip.accounts[0].username: required"},
		{name: "username with @", change: func(c *Config) { c.Accounts[0].Username = "bob@x" }, want: "sip.accounts[0].username"},
		{name: "duplicate username", change: func(c *Config) {
			c.Accounts = append(c.Accounts, Account{Username: "BOB", Phone: "+15550001", HA1: bobHA1})
		}, want: "sip.accounts[1].username \"BOB\": sip.accounts[0] has it already"},
		{name: "no identity", change: func(c *Config) { c.Accounts[0].User = "" }, want: "sip.accounts[0].user: required"},
		{name: "both identities", change: func(c *Config) { c.Accounts[0].Phone = "+15550001" }, want: "not both"},
		{name: "phone not E.164", change: func(c *Config) { c.Accounts[0].User, c.Accounts[0].Phone = "", "5550001" }, want: "sip.accounts[0].phone"},
		{name: "phone too long", change: func(c *Config) { c.Accounts[0].User, c.Accounts[0].Phone = "", "+1234567890123456" }, want: "sip.accounts[0].phone"},
		{name: "no credentials", change: func(c *Config) { c.Accounts[0].HA1 = "" }, want: "sip.accounts[0].ha1: required"},
		{name: "short ha1", change: func(c *Config) { c.Accounts[0].HA1 = "abc" }, want: "sip.accounts[0].ha1: want 32"},
		{name: "bad ha1Sha256", change: func(c *Config) { c.Accounts[0].HA1SHA256 = bobHA1 }, want: "sip.accounts[0].ha1Sha256"},
		{name: "password outside dev mode", change: func(c *Config) { c.Accounts[0].HA1, c.Accounts[0].Password = "", "pw" }, want: "sip.accounts[0].password: a plain-text password is accepted in development mode only"},
		{name: "password in dev mode", dev: true, change: func(c *Config) { c.Accounts[0].HA1, c.Accounts[0].Password = "", "pw" }},
		{name: "password and ha1", dev: true, change: func(c *Config) { c.Accounts[0].Password = "pw" }, want: "not both"},
		{name: "contact without uri", change: func(c *Config) { c.Contacts[0].URI = "" }, want: "sip.contacts[0].uri: required"},
		{name: "contact uri not sip", change: func(c *Config) { c.Contacts[0].URI = "http://x" }, want: "sip.contacts[0].uri"},
		{name: "contact uri bad port", change: func(c *Config) { c.Contacts[0].URI = "sip:a@h:99999" }, want: "sip.contacts[0].uri"},
		{name: "contact transport", change: func(c *Config) { c.Contacts[0].Transport = "sctp" }, want: "sip.contacts[0].transport"},
		{name: "duplicate contact", change: func(c *Config) {
			c.Contacts = append(c.Contacts, Contact{Phone: "+15550001111", URI: "sip:x@127.0.0.1"})
		}, want: "sip.contacts[1]: phone:+15550001111 has a contact already"},
		{name: "trunk without name", change: func(c *Config) { c.Trunks[0].Name = "" }, want: "sip.trunks[0].name: required"},
		{name: "trunk address without port", change: func(c *Config) { c.Trunks[0].Address = "192.0.2.10" }, want: "sip.trunks[0].address"},
		{name: "trunk username alone", change: func(c *Config) { c.Trunks[0].Password = "" }, want: "sip.trunks[0].username"},
		{name: "trunk without numbers", change: func(c *Config) { c.Trunks[0].Numbers = nil }, want: "sip.trunks[0].numbers: required"},
		{name: "trunk bad pattern", change: func(c *Config) { c.Trunks[0].Numbers = []string{"+1*5"} }, want: "sip.trunks[0].numbers[0]"},
		{name: "trunk bare plus star", change: func(c *Config) { c.Trunks[0].Numbers = []string{"+*"} }, want: "sip.trunks[0].numbers[0]"},
		{name: "trunk catch-all", change: func(c *Config) { c.Trunks[0].Numbers = []string{"*"} }},
		{name: "trunk bad allowFrom", change: func(c *Config) { c.Trunks[0].AllowFrom = []string{"example.com"} }, want: "sip.trunks[0].allowFrom[0]"},
		{name: "trunk negative maxCalls", change: func(c *Config) { c.Trunks[0].MaxCalls = -1 }, want: "sip.trunks[0].maxCalls"},
		{name: "duplicate trunk name", change: func(c *Config) {
			c.Trunks = append(c.Trunks, Trunk{Name: "Carrier", Address: "h:5060", Numbers: []string{"+44*"}})
		}, want: "sip.trunks[1].name"},
		{name: "pattern on two trunks", change: func(c *Config) {
			c.Trunks = append(c.Trunks, Trunk{Name: "other", Address: "h:5060", Numbers: []string{"+1 555*"}})
		}, want: "sip.trunks[1].numbers: \"+1555*\" is served by sip.trunks[0]"},
		{name: "negative rate", change: func(c *Config) { c.Limits.InviteRate = -1 }, want: "sip.limits.inviteRate"},
		{name: "negative sources", change: func(c *Config) { c.Limits.MaxSources = -1 }, want: "sip.limits.maxSources"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate(tc.dev)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate succeeded, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestConfigDefaultsAndHashing(t *testing.T) {
	c := validConfig()
	c.Accounts[0].HA1, c.Accounts[0].Password = "", "secret"
	if err := c.Validate(true); err != nil {
		t.Fatal(err)
	}
	a := c.Accounts[0]
	// What printf 'bob:switchboard:secret' | md5sum (and sha256sum) print.
	if a.HA1 != "2a2fb05e481dc39de81d686c08bc814e" || a.HA1SHA256 != "298969986c43edb2d8f4755c60f369cb213948776a23c995fea20fd7ec32e37a" {
		t.Errorf("hashes = %s, %s", a.HA1, a.HA1SHA256)
	}
	if a.Password != "" {
		t.Error("Validate kept the plain-text password")
	}
	if c.Realm != DefaultRealm || c.Limits != (Limits{InviteRate: DefaultInviteRate, InviteBurst: DefaultInviteBurst, MaxSources: DefaultMaxSources}) {
		t.Errorf("defaults: realm %q, limits %+v", c.Realm, c.Limits)
	}
	if c.Contacts[0].Phone != "+15550001111" || c.Contacts[0].Transport != "udp" {
		t.Errorf("contact not normalised: %+v", c.Contacts[0])
	}
	if c.Trunks[0].MaxCalls != DefaultMaxCalls || c.Trunks[0].Transport != "udp" {
		t.Errorf("trunk defaults: %+v", c.Trunks[0])
	}
	before := c.Accounts[0]
	if err := c.Validate(false); err != nil {
		t.Fatalf("Validate is not idempotent: %v", err)
	}
	if c.Accounts[0] != before {
		t.Errorf("second Validate changed the account: %+v", c.Accounts[0])
	}
}

func TestNewLeavesConfigAlone(t *testing.T) {
	c := validConfig()
	c.Accounts[0].HA1, c.Accounts[0].Password = "", "secret"
	c.Trunks[0].Numbers[0] = "+1 555*"
	if _, err := New(c, Options{Dev: true}); err != nil {
		t.Fatal(err)
	}
	if c.Accounts[0].Password != "secret" || c.Trunks[0].Numbers[0] != "+1 555*" {
		t.Error("New changed its caller's configuration")
	}
	if _, err := New(c, Options{}); err == nil {
		t.Error("New accepted a plain-text password outside development mode")
	}
}

func TestIdentityKindRoundTrip(t *testing.T) {
	for _, k := range []IdentityKind{IdentityUser, IdentityPhone} {
		got, err := ParseIdentityKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseIdentityKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseIdentityKind("unknown"); err == nil {
		t.Error("ParseIdentityKind(unknown) succeeded")
	}
}

func TestNormalizeNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+1 (555) 123-4567":  "+15551234567",
		" +44.20.7946.0000 ": "+442079460000",
		"555-1234":           "5551234",
	} {
		if got := NormalizeNumber(in); got != want {
			t.Errorf("NormalizeNumber(%q) = %q, want %q", in, got, want)
		}
	}
	if isE164(NormalizeNumber("++1")) {
		t.Error("++1 is taken for an E.164 number")
	}
}
