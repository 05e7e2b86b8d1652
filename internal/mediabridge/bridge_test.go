package mediabridge

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/media"
)

// recorder is a Sink that keeps what it was told, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
	got    chan struct{}
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 64)} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) MediaPlayFinished(room, leg, opID string, err error) {
	if err != nil {
		r.add("play " + opID + " failed")
		return
	}
	r.add("play " + opID)
}
func (r *recorder) MediaRecordFinished(room, leg, opID string, rec calls.MediaRecording) {
	r.add("record " + opID + " " + string(rec.Reason))
}
func (r *recorder) MediaTonesSent(room, leg, opID string, canceled bool) {}
func (r *recorder) MediaToneDetected(room, leg string, key rune, from string) {
}

func (r *recorder) MediaSpeaking(room, member string, speaking bool) {}

// wait returns the first n events, or fails the test.
func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	for {
		r.mu.Lock()
		if len(r.events) >= n {
			ev := append([]string(nil), r.events...)
			r.mu.Unlock()
			return ev
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("waited for %d events, have %v", n, r.events)
		}
	}
}

// Scopes of two applications in two tenants.
var (
	tenantA = calls.MediaScope{Tenant: "tenant-a", App: "app-a"}
	tenantB = calls.MediaScope{Tenant: "tenant-b", App: "app-b"}
)

// start returns a started bridge on a manual engine with one leg in one room.
func start(t *testing.T, cfg Config) (*Bridge, *media.Engine, *recorder) {
	t.Helper()
	b := New(cfg)
	e := media.NewManual(b)
	b.Attach(e)
	rec := newRecorder()
	b.SetSink(rec)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := b.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	b.AddLeg("room", "bot")
	return b, e, rec
}

func wav(t *testing.T, d time.Duration) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := media.EncodeWAV(&buf, media.Tone(440, d, -12)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// step settles the bridge, then moves the engine by d.
func step(t *testing.T, b *Bridge, e *media.Engine, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Step(ctx, int(d/media.FrameDuration)); err != nil {
		t.Fatal(err)
	}
}

// Graph's media queue is first in, first out: a prompt that is slow to
// fetch still plays before one queued after it that is fetched at once.
func TestPlayKeepsOrderWhileFetching(t *testing.T) {
	release := make(chan struct{})
	short := wav(t, 200*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.wav" {
			<-release
		}
		w.Write(short)
	}))
	defer srv.Close()
	b, e, rec := start(t, Config{Client: srv.Client()})

	b.Play(tenantA, "room", "bot", "first", []model.MediaInfo{{URI: srv.URL + "/slow.wav"}})
	b.Play(tenantA, "room", "bot", "second", []model.MediaInfo{{URI: srv.URL + "/fast.wav"}})
	// Give the second fetch every chance to finish first.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := b.Settle(ctx); err == nil {
		t.Fatal("Settle returned while a prompt was still being fetched")
	}
	close(release)
	step(t, b, e, time.Second)
	got := rec.wait(t, 2)
	if got[0] != "play first" || got[1] != "play second" {
		t.Fatalf("events %v; want first, then second", got)
	}
}

// A prompt that cannot be fetched fails its own operation only, and the
// next one still plays.
func TestPlayFailedFetchFailsItsOperation(t *testing.T) {
	short := wav(t, 100*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing.wav" {
			http.NotFound(w, r)
			return
		}
		w.Write(short)
	}))
	defer srv.Close()
	b, e, rec := start(t, Config{Client: srv.Client()})

	b.Play(tenantA, "room", "bot", "missing", []model.MediaInfo{{URI: srv.URL + "/missing.wav"}})
	b.Play(tenantA, "room", "bot", "ok", []model.MediaInfo{{URI: srv.URL + "/ok.wav"}})
	step(t, b, e, time.Second)
	got := rec.wait(t, 2)
	if got[0] != "play missing failed" || got[1] != "play ok" {
		t.Fatalf("events %v; want the missing prompt to fail, then ok to play", got)
	}
}

// Canceling while a prompt is fetched reports the operation canceled once,
// and the late fetch changes nothing.
func TestCancelWhileFetching(t *testing.T) {
	release := make(chan struct{})
	short := wav(t, 100*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write(short)
	}))
	defer srv.Close()
	b, e, rec := start(t, Config{Client: srv.Client()})

	b.Play(tenantA, "room", "bot", "slow", []model.MediaInfo{{URI: srv.URL + "/slow.wav"}})
	b.Cancel("room", "bot")
	close(release)
	step(t, b, e, time.Second)
	got := rec.wait(t, 1)
	step(t, b, e, time.Second)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 1 || got[0] != "play slow failed" {
		t.Fatalf("events %v; want one cancellation", rec.events)
	}
}

// A simulated participant whose script says a WAV file joins once the file
// is read, off the caller's lock, and says it.
func TestPersonWithWAVJoinsOnceRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hello.wav")
	if err := os.WriteFile(path, wav(t, 300*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	b, e, _ := start(t, Config{AllowFile: true})
	b.AddPerson("room", "alice", calls.Behaviour{Script: []calls.Step{{WAV: path}}})
	step(t, b, e, time.Second)
	if b.Person("room", "alice") == nil {
		t.Fatal("alice did not join once her WAV was read")
	}

	// Leaving while the file is read means never joining.
	b.AddPerson("room", "bob", calls.Behaviour{Script: []calls.Step{{WAV: path}}})
	b.RemovePerson("room", "bob")
	step(t, b, e, time.Second)
	if b.Person("room", "bob") != nil {
		t.Fatal("bob joined after he left")
	}
}

// Shutdown ends the fetches in flight and waits for them; operations asked
// for afterwards fail at once instead of starting a fetch nobody waits for.
func TestShutdownWhileFetching(t *testing.T) {
	fetching := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(fetching)
		<-r.Context().Done() // never answers: only the bridge can end it
	}))
	defer srv.Close()
	b, e, _ := start(t, Config{Client: srv.Client()})

	b.Play(tenantA, "room", "bot", "stuck", []model.MediaInfo{{URI: srv.URL + "/stuck.wav"}})
	<-fetching
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a fetch in flight: %v", err)
	}
	b.Play(tenantA, "room", "bot", "late", []model.MediaInfo{{URI: srv.URL + "/late.wav"}})
	if err := b.Settle(ctx); err != nil {
		t.Fatalf("Settle after Shutdown: %v", err)
	}
	if err := e.Step(ctx, 5); err != nil {
		t.Fatal(err)
	}
}

// A resourceId names a prompt within one application and one URI: two
// applications of different tenants that play prompts under the same
// resourceId each hear their own, fetched from their own URI; and the same
// application reuses its cached prompt only for the same URI.
func TestPromptCacheIsScopedByTenantAppAndURI(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	long, short := wav(t, 3*time.Second), wav(t, 100*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/b.wav" {
			w.Write(long)
			return
		}
		w.Write(short)
	}))
	defer srv.Close()
	b, e, rec := start(t, Config{Client: srv.Client()})
	b.AddLeg("room2", "botB")
	id := "welcome"
	// Tenant A's prompt is cached first, under the shared resourceId.
	b.Play(tenantA, "room", "bot", "a", []model.MediaInfo{{URI: srv.URL + "/a.wav", ResourceID: &id}})
	step(t, b, e, time.Second)
	if got := rec.wait(t, 1); got[0] != "play a" {
		t.Fatalf("events %v", got)
	}
	// Tenant B plays its own 3 s prompt under the same resourceId: it is
	// fetched, and still playing after a second (A's lasts 100 ms).
	b.Play(tenantB, "room2", "botB", "b", []model.MediaInfo{{URI: srv.URL + "/b.wav", ResourceID: &id}})
	step(t, b, e, time.Second)
	rec.mu.Lock()
	n := len(rec.events)
	rec.mu.Unlock()
	if n != 1 {
		t.Fatalf("tenant B's 3 s prompt finished within a second: it heard tenant A's")
	}
	step(t, b, e, 3*time.Second)
	rec.wait(t, 2)
	// Another application of tenant A, same resourceId and URI: fetched
	// for itself. A itself, same resourceId and URI: from the cache.
	otherApp := calls.MediaScope{Tenant: tenantA.Tenant, App: "app-a2"}
	b.Play(otherApp, "room", "bot", "a2", []model.MediaInfo{{URI: srv.URL + "/a.wav", ResourceID: &id}})
	b.Play(tenantA, "room", "bot", "a3", []model.MediaInfo{{URI: srv.URL + "/a.wav", ResourceID: &id}})
	step(t, b, e, time.Second)
	rec.wait(t, 4)
	mu.Lock()
	defer mu.Unlock()
	if hits["/a.wav"] != 2 || hits["/b.wav"] != 1 {
		t.Fatalf("fetches %v; want a.wav twice (once per application) and b.wav once", hits)
	}
}

// Outside development mode a simulated participant never reads a local
// file: the step that says it is left out, and the bot hears silence.
func TestPersonWAVRefusedWithoutAllowFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.wav")
	if err := os.WriteFile(path, wav(t, 3*time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	b, e, rec := start(t, Config{})
	b.AddPerson("room", "alice", calls.Behaviour{Script: []calls.Step{{WAV: path}, {At: 2 * time.Second, Keys: "1"}}})
	b.Record(tenantA, "room", "bot", "rec", calls.RecordSpec{InitialSilence: time.Second, MaxSilence: time.Second, MaxDuration: 5 * time.Second})
	step(t, b, e, 6*time.Second)
	if got := rec.wait(t, 1); got[0] != "record rec "+string(model.RecordCompletionReasonInitialSilenceTimeout) {
		t.Fatalf("events %v; want the recording to hear only silence", got)
	}
	if b.Person("room", "alice") == nil {
		t.Fatal("alice did not join without her WAV step")
	}
}

// prefetchOne prefetches one prompt for scope and waits until it is in the
// cache (or was left out of it).
func prefetchOne(t *testing.T, b *Bridge, scope calls.MediaScope, uri string) {
	t.Helper()
	b.Prefetch(scope, []model.MediaInfo{{URI: uri}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

// One tenant prefetching many distinct prompts keeps the cache within its
// own byte budget and the total one, and evicts only its own prompts:
// another tenant's cached prompt is still played from the cache.
func TestPromptCacheBoundedByBytes(t *testing.T) {
	const perTenant, total = 100_000, 150_000 // a 1 s prompt decodes to 32,000 bytes
	var mu sync.Mutex
	hits := map[string]int{}
	second := wav(t, time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Write(second)
	}))
	defer srv.Close()
	b, e, rec := start(t, Config{Client: srv.Client(), TenantCacheBytes: perTenant, CacheBytes: total})

	prefetchOne(t, b, tenantB, srv.URL+"/b.wav")
	for i := range 40 {
		prefetchOne(t, b, tenantA, fmt.Sprintf("%s/a%d.wav", srv.URL, i))
		if all, mine := b.cacheBytes(tenantA.Tenant); mine > perTenant || all > total {
			t.Fatalf("after %d prompts the cache holds %d bytes, %d of them tenant A's; bounds %d and %d", i+1, all, mine, total, perTenant)
		}
	}
	b.Play(tenantB, "room", "bot", "b", []model.MediaInfo{{URI: srv.URL + "/b.wav"}})
	step(t, b, e, 2*time.Second)
	if got := rec.wait(t, 1); got[0] != "play b" {
		t.Fatalf("events %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/b.wav"] != 1 {
		t.Fatalf("tenant B's prompt was fetched %d times; want once: tenant A evicted it", hits["/b.wav"])
	}
}

// A prompt larger than a tenant's cache budget is played, every time, but
// never kept.
func TestOversizedPromptPlayedNotCached(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	second := wav(t, time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.Write(second)
	}))
	defer srv.Close()
	b, e, rec := start(t, Config{Client: srv.Client(), TenantCacheBytes: 10_000})
	id := "big"
	for _, op := range []string{"one", "two"} {
		b.Play(tenantA, "room", "bot", op, []model.MediaInfo{{URI: srv.URL + "/big.wav", ResourceID: &id}})
		step(t, b, e, 2*time.Second)
	}
	if got := rec.wait(t, 2); got[0] != "play one" || got[1] != "play two" {
		t.Fatalf("events %v; want both plays to succeed", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if all, _ := b.cacheBytes(""); hits != 2 || all != 0 {
		t.Fatalf("%d fetches, %d bytes cached; want 2 fetches and nothing cached", hits, all)
	}
}

// One tenant's stuck prompt server holds at most MaxFetchesPerTenant of
// the fetches: another tenant's prompt is still fetched meanwhile.
func TestFetchesBoundedPerTenant(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan string, 16)
	var mu sync.Mutex
	inA, maxA := 0, 0
	short := wav(t, 100*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/a") {
			mu.Lock()
			inA++
			maxA = max(maxA, inA)
			mu.Unlock()
			arrived <- r.URL.Path
			<-release
			mu.Lock()
			inA--
			mu.Unlock()
		} else {
			arrived <- r.URL.Path
		}
		w.Write(short)
	}))
	defer srv.Close()
	b, _, _ := start(t, Config{Client: srv.Client(), MaxFetches: 4, MaxFetchesPerTenant: 2})
	defer close(release)

	for i := range 6 {
		b.Prefetch(tenantA, []model.MediaInfo{{URI: fmt.Sprintf("%s/a%d.wav", srv.URL, i)}})
	}
	timeout := time.After(10 * time.Second)
	next := func() string {
		select {
		case p := <-arrived:
			return p
		case <-timeout:
			t.Fatal("a fetch never reached the server")
			return ""
		}
	}
	next()
	next() // tenant A holds its two fetches
	b.Prefetch(tenantB, []model.MediaInfo{{URI: srv.URL + "/b.wav"}})
	for next() != "/b.wav" {
	}
	mu.Lock()
	defer mu.Unlock()
	if maxA > 2 {
		t.Fatalf("tenant A had %d fetches at once; want at most 2", maxA)
	}
}
