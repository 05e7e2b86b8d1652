package phones

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestAdmit(t *testing.T) {
	cfg := routingConfig()
	cfg.Trunks[0].AllowFrom = []string{"192.0.2.0/24"}
	cfg.Limits = Limits{InviteRate: 1, InviteBurst: 2}
	d, clk := newDir(t, cfg, nil)
	register(t, d, "alice", "alice-pw", "sip:alice@10.0.0.5:5062", 600)

	trunk := netip.MustParseAddrPort("192.0.2.77:5060")
	for range 50 { // trunks are bounded by Acquire, not by rate
		if a := d.Admit(trunk); a.Origin != OriginTrunk || a.Trunk != "us" || !a.Allowed {
			t.Fatalf("Admit(trunk) = %+v", a)
		}
	}
	if a := d.Admit(netip.MustParseAddrPort("[::ffff:192.0.2.1]:5060")); a.Origin != OriginTrunk {
		t.Errorf("Admit(IPv4-mapped trunk address) = %+v", a)
	}
	phone := netip.MustParseAddrPort("10.0.0.5:40000") // another port of the registered address
	if a := d.Admit(phone); a.Origin != OriginPhone || a.Account != "alice" || !a.Allowed {
		t.Errorf("Admit(phone) = %+v", a)
	}
	stranger := netip.MustParseAddrPort("203.0.113.9:5060")
	if a := d.Admit(stranger); a.Origin != OriginUnknown || !a.Allowed {
		t.Errorf("Admit(stranger) = %+v", a)
	}
	d.Admit(stranger)
	a := d.Admit(stranger)
	if a.Allowed || a.RetryAfter != time.Second {
		t.Errorf("third INVITE of a burst of 2 = %+v, want refused for 1s", a)
	}
	clk.Advance(time.Second)
	if a := d.Admit(stranger); !a.Allowed {
		t.Errorf("after a second: %+v", a)
	}
	// An IPv6 source is limited by its /64.
	for i := range 2 {
		d.Admit(netip.MustParseAddrPort(fmt.Sprintf("[2001:db8::%x]:5060", i+1)))
	}
	if a := d.Admit(netip.MustParseAddrPort("[2001:db8::ffff]:5060")); a.Allowed {
		t.Errorf("a third address of the same /64 = %+v, want refused", a)
	}
	// The phone's registration expired: its address is a stranger's.
	clk.Advance(600 * time.Second)
	if a := d.Admit(phone); a.Origin != OriginUnknown {
		t.Errorf("Admit(expired phone) = %+v", a)
	}
}

// TestInviteLimiterMemoryBounded floods the limiter from forged sources:
// it remembers no more than Limits.MaxSources of them, forgetting the
// least recently seen.
func TestInviteLimiterMemoryBounded(t *testing.T) {
	cfg := Config{Limits: Limits{InviteRate: 1, InviteBurst: 1, MaxSources: 100}}
	d, _ := newDir(t, cfg, nil)
	busy := netip.MustParseAddrPort("198.51.100.1:5060")
	d.Admit(busy)
	for i := range 10000 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 5060)
		d.Admit(src)
		if i%10 == 0 {
			d.Admit(busy) // seen often: kept
		}
		if n := d.invites.len(); n > 100 {
			t.Fatalf("the limiter remembers %d sources after %d, want at most 100", n, i+1)
		}
	}
	if a := d.Admit(busy); a.Allowed {
		t.Error("a busy source was forgotten, and its bucket refilled, by the flood")
	}
	if d.invites.len() != 100 {
		t.Errorf("the limiter remembers %d sources, want 100", d.invites.len())
	}
}

func TestAcquire(t *testing.T) {
	cfg := routingConfig()
	cfg.Trunks[0].MaxCalls = 2
	d, _ := newDir(t, cfg, nil)
	r1, ok1 := d.Acquire("us")
	r2, ok2 := d.Acquire("US")
	if !ok1 || !ok2 {
		t.Fatal("the first two calls of a trunk of 2 were refused")
	}
	if _, ok := d.Acquire("us"); ok {
		t.Fatal("a third concurrent call of a trunk of 2 was admitted")
	}
	if _, ok := d.Acquire("nyc"); !ok {
		t.Error("another trunk's calls count against this one")
	}
	r1()
	r1() // a second release frees nothing more
	if _, ok := d.Acquire("us"); !ok {
		t.Error("a released slot was not free")
	}
	if _, ok := d.Acquire("us"); ok {
		t.Error("a double release freed two slots")
	}
	r2()
	if _, ok := d.Acquire("nowhere"); ok {
		t.Error("an unknown trunk was admitted")
	}
}
