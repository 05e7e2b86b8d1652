package auth

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// Keys handed out by rotation tests' generators: generated once, since RSA
// key generation is slow, and distinct from sharedKeys.
var (
	poolOnce sync.Once
	poolKeys [3]StoredKey
	poolErr  error
)

// keyPool returns a key generator for Config.generateKey that hands out the
// pool's keys in order, each stamped with the time it is generated at.
func keyPool(t testing.TB) func(time.Time) (StoredKey, error) {
	t.Helper()
	poolOnce.Do(func() {
		for i := range poolKeys {
			if poolKeys[i], poolErr = NewStoredKey(testStart); poolErr != nil {
				return
			}
		}
	})
	if poolErr != nil {
		t.Fatal(poolErr)
	}
	var mu sync.Mutex
	next := 0
	return func(now time.Time) (StoredKey, error) {
		mu.Lock()
		defer mu.Unlock()
		if next == len(poolKeys) {
			t.Error("the test generated more keys than the pool holds")
			return StoredKey{}, context.Canceled
		}
		k := poolKeys[next]
		next++
		k.CreatedAt = now.UTC()
		return k, nil
	}
}

func TestRotationPlan(t *testing.T) {
	r := rotation{period: 30 * 24 * time.Hour, lead: 24 * time.Hour, retireAfter: 66 * time.Minute}
	t0 := testStart
	day := 24 * time.Hour
	set := func(created ...time.Time) *keySet {
		ks := &keySet{lead: r.lead}
		for i, c := range created {
			ks.keys = append(ks.keys, &signingKey{id: string(rune('a' + i)), createdAt: c})
		}
		return ks
	}
	tests := []struct {
		name         string
		keys         *keySet
		now          time.Time
		wantGenerate bool
		wantRetire   []string
		wantNext     time.Time
	}{
		{"no key: generate one", set(), t0, true, nil, t0},
		{"young key: wait until period minus lead", set(t0), t0.Add(time.Hour), false, nil, t0.Add(29 * day)},
		{"key due a successor", set(t0), t0.Add(29 * day), true, nil, t0.Add(58 * day)},
		{"successor published, not signing: old key stays", set(t0, t0.Add(29*day)), t0.Add(29*day + time.Hour), false, nil,
			t0.Add(30*day + 66*time.Minute)},
		{"successor signing, old tokens may live", set(t0, t0.Add(29*day)), t0.Add(30*day + 66*time.Minute - time.Second), false, nil,
			t0.Add(30*day + 66*time.Minute)},
		{"old key's tokens all expired: retire it", set(t0, t0.Add(29*day)), t0.Add(30*day + 66*time.Minute), false, []string{"a"},
			t0.Add(58 * day)},
		{"after downtime: two old keys retire, newest due a successor", set(t0, t0.Add(29*day), t0.Add(58*day)), t0.Add(100 * day), true, []string{"a", "b"},
			t0.Add(129 * day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := r.plan(tt.keys, tt.now)
			if p.generate != tt.wantGenerate || !slices.Equal(p.retire, tt.wantRetire) || !p.next.Equal(tt.wantNext) {
				t.Errorf("plan = generate %v, retire %v, next %v; want %v, %v, %v",
					p.generate, p.retire, p.next.Sub(t0), tt.wantGenerate, tt.wantRetire, tt.wantNext.Sub(t0))
			}
		})
	}
}

// rotationFixture is a Service over a MemoryKeyStore whose keys come from
// the pool, with a fake clock at testStart.
func rotationFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{clock: clock.NewFake(testStart), store: &MemoryKeyStore{}}
	gen := keyPool(t)
	fx.start(t, gen)
	return fx
}

// start (re)starts the fixture's Service over its store, as a new process
// would.
func (fx *fixture) start(t *testing.T, gen func(time.Time) (StoredKey, error)) {
	t.Helper()
	svc, err := New(t.Context(), Config{Clock: fx.clock, Keys: fx.store, Apps: testApps(), generateKey: gen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	fx.svc = svc
}

// check runs a rotation check now, as the timer does.
func (fx *fixture) check(t *testing.T) {
	t.Helper()
	if _, err := fx.svc.rotateKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// published returns the kids of the JWKS, sorted.
func (fx *fixture) published(t *testing.T) []string {
	t.Helper()
	var out []string
	for kid := range jwks(t, fx.do(http.MethodGet, testBase+"/common/discovery/v2.0/keys", nil, nil).Body.Bytes()) {
		out = append(out, kid)
	}
	slices.Sort(out)
	return out
}

func (fx *fixture) stored(t *testing.T) []string {
	t.Helper()
	keys, err := fx.store.LoadKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	slices.Sort(out)
	return out
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := h.Header["kid"].(string)
	return kid
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

func TestKeyRotationPublishesBeforeUseAndRetiresAfterLastToken(t *testing.T) {
	fx := rotationFixture(t)
	day := 24 * time.Hour
	k0 := fx.stored(t)
	if len(k0) != 1 {
		t.Fatalf("a fresh store got %d keys, want 1", len(k0))
	}
	first := k0[0]
	if kid := kidOf(t, fx.token(t)); kid != first {
		t.Fatalf("the first key does not sign at once: kid %s", kid)
	}

	// Just before period-lead nothing happens; at period-lead a successor
	// is published in both key sets but does not sign.
	fx.clock.Advance(29*day - time.Second)
	fx.check(t)
	if got := fx.stored(t); !slices.Equal(got, k0) {
		t.Fatalf("a key was generated early: %v", got)
	}
	fx.clock.Advance(time.Second)
	fx.check(t)
	both := fx.stored(t)
	if len(both) != 2 {
		t.Fatalf("at period-lead the store holds %v, want two keys", both)
	}
	second := both[0]
	if second == first {
		second = both[1]
	}
	if got := fx.published(t); !slices.Equal(got, both) {
		t.Errorf("JWKS = %v, want both keys %v", got, both)
	}
	cbKeys := jwks(t, fx.do(http.MethodGet, testBase+"/callbacks/v1/keys", nil, nil).Body.Bytes())
	if cbKeys[second] == nil {
		t.Error("the callback key set lacks the new key")
	}
	if kid := kidOf(t, fx.token(t)); kid != first {
		t.Errorf("the new key signs before it has been published for the lead: kid %s", kid)
	}

	// A token of the old key, minted just before the switch.
	fx.clock.Advance(day - time.Second)
	fx.check(t)
	lastOld := fx.token(t)
	if kid := kidOf(t, lastOld); kid != first {
		t.Fatalf("kid %s a second before the switch", kid)
	}
	cbOld, err := fx.svc.CallbackToken("app", "tenant")
	if err != nil {
		t.Fatal(err)
	}
	fx.clock.Advance(time.Second)
	if kid := kidOf(t, fx.token(t)); kid != second {
		t.Errorf("after the lead the new key does not sign: kid %s", kid)
	}

	// The old key stays published while its last token may be valid: the
	// token lifetime (callback tokens: 65 minutes) plus the leeway.
	fx.clock.Advance(time.Hour - time.Second)
	fx.check(t)
	if _, err := fx.authenticate("Bearer " + lastOld); err != nil {
		t.Errorf("the old key's last access token is refused an hour later: %v", err)
	}
	fx.clock.Advance(CallbackTokenLifetime + clockLeeway - time.Hour - time.Second)
	fx.check(t)
	// A bot checks the callback token against the published keys, with a
	// minute of leeway as Authenticate allows.
	keys := jwks(t, fx.do(http.MethodGet, testBase+"/callbacks/v1/keys", nil, nil).Body.Bytes())
	_, err = jwt.NewParser(jwt.WithLeeway(clockLeeway), jwt.WithTimeFunc(fx.clock.Now)).Parse(cbOld, func(tok *jwt.Token) (any, error) {
		return keys[tok.Header["kid"].(string)], nil
	})
	if err != nil {
		t.Errorf("the old key's last callback token does not verify against the published keys: %v", err)
	}
	fx.clock.Advance(time.Second) // the callback token has expired; a second before retirement
	fx.check(t)
	if got := fx.published(t); !slices.Equal(got, both) {
		t.Errorf("the old key left the JWKS early: %v", got)
	}
	fx.clock.Advance(time.Second)
	fx.check(t)
	if got := fx.published(t); !slices.Equal(got, []string{second}) {
		t.Errorf("JWKS after retirement = %v, want only %s", got, second)
	}
	if got := fx.stored(t); !slices.Equal(got, []string{second}) {
		t.Errorf("store after retirement = %v, want only %s", got, second)
	}
}

func TestKeyRotationAcrossRestart(t *testing.T) {
	fx := rotationFixture(t)
	day := 24 * time.Hour
	first := fx.stored(t)[0]
	fx.clock.Advance(29*day + time.Hour)
	fx.check(t)
	before := fx.token(t)
	both := fx.stored(t)

	// A restart while the new key is only published: the same key signs,
	// both are published, no key is generated.
	fx.start(t, failingGenerator(t))
	if got := fx.stored(t); !slices.Equal(got, both) {
		t.Fatalf("restart changed the stored keys to %v", got)
	}
	if got := fx.published(t); !slices.Equal(got, both) {
		t.Errorf("JWKS after restart = %v", got)
	}
	if kid := kidOf(t, fx.token(t)); kid != first {
		t.Errorf("after restart kid %s signs, want %s still", kid, first)
	}
	if _, err := fx.authenticate("Bearer " + before); err != nil {
		t.Errorf("token from before the restart: %v", err)
	}

	// A restart after the switch: the new key signs, and a token of the old
	// one minted before the restart still validates.
	fx.clock.Advance(day)
	fx.start(t, failingGenerator(t))
	if kid := kidOf(t, fx.token(t)); kid == first {
		t.Error("after the switch and a restart the old key still signs")
	}
	recent := signWithStored(t, fx, first)
	if _, err := fx.authenticate("Bearer " + recent); err != nil {
		t.Errorf("a valid token of the published old key is refused after restart: %v", err)
	}
}

// failingGenerator fails the test if a key is generated.
func failingGenerator(t *testing.T) func(time.Time) (StoredKey, error) {
	return func(time.Time) (StoredKey, error) {
		t.Error("a key was generated")
		return StoredKey{}, context.Canceled
	}
}

// signWithStored signs a valid access token now with the stored key kid.
func signWithStored(t *testing.T, fx *fixture, kid string) string {
	t.Helper()
	keys, err := fx.store.LoadKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == kid {
			return signWith(t, k, kid, validClaims(fx.clock.Now()))
		}
	}
	t.Fatalf("key %s is not stored", kid)
	return ""
}

// TestKeyRotationOnTimer lets the rotation timer do the work, with the
// real clock in a synctest bubble, where a month passes at once.
func TestKeyRotationOnTimer(t *testing.T) {
	gen := keyPool(t) // outside the bubble: the pool's keys are made once
	synctest.Test(t, func(t *testing.T) {
		store := &MemoryKeyStore{}
		svc, err := New(t.Context(), Config{Keys: store, Apps: testApps(), generateKey: gen})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		count := func() int {
			keys, _ := store.LoadKeys(t.Context())
			return len(keys)
		}
		if n := count(); n != 1 {
			t.Fatalf("New left %d keys, want 1", n)
		}
		time.Sleep(29*24*time.Hour + time.Minute)
		synctest.Wait()
		if n := count(); n != 2 {
			t.Fatalf("after period-lead the timer left %d keys, want 2", n)
		}
		time.Sleep(24*time.Hour + CallbackTokenLifetime + 2*clockLeeway)
		synctest.Wait()
		if n := count(); n != 1 {
			t.Fatalf("after the old key's tokens expired the timer left %d keys, want 1", n)
		}
	})
}

func TestCloseStopsTheRotationTimer(t *testing.T) {
	fx := newFixture(t)
	if n := fx.clock.Pending(); n != 1 {
		t.Fatalf("%d timers pending, want the rotation timer", n)
	}
	fx.svc.Close()
	fx.svc.Close()
	if n := fx.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending after Close", n)
	}
	// The Service still serves with the keys it has.
	if _, err := fx.authenticate("Bearer " + fx.token(t)); err != nil {
		t.Errorf("after Close: %v", err)
	}
}

func TestKeySetsCacheForHalfTheLeadAtMost(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.KeyPublicationLead = 4 * time.Hour })
	for _, path := range []string{"/common/discovery/v2.0/keys", "/" + DevTenantID + "/discovery/keys", "/callbacks/v1/keys"} {
		if cc := fx.do(http.MethodGet, testBase+path, nil, nil).Header().Get("Cache-Control"); cc != "max-age=7200, private" {
			t.Errorf("%s: Cache-Control = %q, want max-age=7200 (half the lead)", path, cc)
		}
	}
	fx = newFixture(t)
	if cc := fx.do(http.MethodGet, testBase+"/common/discovery/v2.0/keys", nil, nil).Header().Get("Cache-Control"); cc != "max-age=43200, private" {
		t.Errorf("default Cache-Control = %q", cc)
	}
}
