package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/notify"
)

// NotificationLog is what the extension API reads of a store: the outbox of
// one call with its delivery state, and who owns a call.
type NotificationLog interface {
	Notifications(ctx context.Context, callID string, fromSeq int64, limit int) ([]notify.Entry, error)
	CallOwner(ctx context.Context, callID string) (tenantID, appID string, err error)
}

// testExtensions holds the stores to the ports of the extension API and of
// Idempotency-Key support: the notification log and idempotency.Store. A
// store under test must implement both.
func testExtensions(t *testing.T, h *harness) {
	logTests := []struct {
		name string
		run  func(t *testing.T, h *harness, log NotificationLog)
	}{
		{"NotificationLogListsStatus", testLogStatus},
		{"NotificationLogPages", testLogPages},
		{"NotificationLogSurvivesReopen", testLogReopen},
		{"DeliveredAfterGiveUp", testDeliveredAfterGiveUp},
		{"CallOwner", testCallOwner},
	}
	for _, tc := range logTests {
		t.Run(tc.name, func(t *testing.T) {
			sh := &harness{open: h.open}
			log, ok := sh.store(t).(NotificationLog)
			if !ok {
				t.Fatalf("%T does not implement storetest.NotificationLog", sh.store(t))
			}
			tc.run(t, sh, log)
		})
	}
	t.Run("Idempotency", func(t *testing.T) {
		RunIdempotencyContract(t, func(t *testing.T) idempotency.Store {
			sh := &harness{open: h.open}
			s, ok := sh.store(t).(idempotency.Store)
			if !ok {
				t.Fatalf("%T does not implement idempotency.Store", sh.store(t))
			}
			return s
		})
	})
}

func listLog(t *testing.T, log NotificationLog, callID string, from int64, limit int) []notify.Entry {
	t.Helper()
	es, err := log.Notifications(t.Context(), callID, from, limit)
	if err != nil {
		t.Fatalf("Notifications(%s, %d, %d): %v", callID, from, limit, err)
	}
	return es
}

func seqs(es []notify.Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

// logFixture commits conversation conv-1 with five outbox entries for its
// call and one for another call, then records: 1 delivered, 2 given up, 3
// failed once and waiting; 4 and 5 untouched.
func logFixture(t *testing.T, s StoreUnderTest) (callID string, entries []calls.OutboxEntry) {
	t.Helper()
	c := Conversation("conv-1", base)
	callID = c.Legs[0].ID
	for seq := int64(1); seq <= 5; seq++ {
		entries = append(entries, Entry(callID, seq, base.Add(time.Duration(seq)*time.Second)))
	}
	commit(t, s, c, entries...)
	other := Conversation("conv-2", base)
	commit(t, s, other, Entry(other.Legs[0].ID, 1, base))

	ctx := t.Context()
	if err := s.Delivered(ctx, callID, 1, base.Add(10*time.Second), 1); err != nil {
		t.Fatalf("Delivered: %v", err)
	}
	if err := s.Attempted(ctx, callID, 2, 12, time.Time{}, "notify: callback answered 500", true); err != nil {
		t.Fatalf("Attempted: %v", err)
	}
	if err := s.Attempted(ctx, callID, 3, 1, base.Add(time.Minute), "notify: connection refused", false); err != nil {
		t.Fatalf("Attempted: %v", err)
	}
	return callID, entries
}

func testLogStatus(t *testing.T, h *harness, log NotificationLog) {
	callID, entries := logFixture(t, h.store(t))
	got := listLog(t, log, callID, 0, 0)
	want := []notify.Entry{
		{Delivery: delivery(entries[0], 1), Status: notify.StatusDelivered, DeliveredAt: base.Add(10 * time.Second)},
		{Delivery: delivery(entries[1], 12), Status: notify.StatusGaveUp, LastError: "notify: callback answered 500"},
		{Delivery: delivery(entries[2], 1), Status: notify.StatusPending, LastError: "notify: connection refused", NextAttemptAt: base.Add(time.Minute)},
		{Delivery: delivery(entries[3], 0), Status: notify.StatusPending},
		{Delivery: delivery(entries[4], 0), Status: notify.StatusPending},
	}
	sameEntries(t, got, want)
}

func sameEntries(t *testing.T, got, want []notify.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("Notifications returned seqs %v, want %v", seqs(got), seqs(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		for _, tm := range []struct {
			name      string
			got, want *time.Time
		}{
			{"CreatedAt", &g.CreatedAt, &w.CreatedAt},
			{"DeliveredAt", &g.DeliveredAt, &w.DeliveredAt},
			{"NextAttemptAt", &g.NextAttemptAt, &w.NextAttemptAt},
		} {
			if !tm.got.Equal(*tm.want) {
				t.Errorf("entry %d: %s = %v, want %v", w.Seq, tm.name, *tm.got, *tm.want)
			}
			*tm.got, *tm.want = time.Time{}, time.Time{}
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("entry %d:\ngot:  %+v\nwant: %+v", w.Seq, g, w)
		}
	}
}

func testLogPages(t *testing.T, h *harness, log NotificationLog) {
	callID, _ := logFixture(t, h.store(t))
	tests := []struct {
		name  string
		from  int64
		limit int
		want  []int64
	}{
		{"all from zero", 0, 0, []int64{1, 2, 3, 4, 5}},
		{"all from one", 1, 0, []int64{1, 2, 3, 4, 5}},
		{"first page", 1, 2, []int64{1, 2}},
		{"middle page", 3, 2, []int64{3, 4}},
		{"last short page", 5, 2, []int64{5}},
		{"past the end", 6, 2, []int64{}},
		{"negative from", -3, 1, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := seqs(listLog(t, log, callID, tt.from, tt.limit)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Notifications(from %d, limit %d) = %v, want %v", tt.from, tt.limit, got, tt.want)
			}
		})
	}
	if got := listLog(t, log, "no-such-call", 0, 0); len(got) != 0 {
		t.Errorf("Notifications of an unknown call = %v, want none", seqs(got))
	}
}

func testLogReopen(t *testing.T, h *harness, log NotificationLog) {
	callID, _ := logFixture(t, h.store(t))
	before := listLog(t, log, callID, 0, 0)
	log, ok := h.reopen(t).(NotificationLog)
	if !ok {
		t.Fatal("the reopened store does not implement NotificationLog")
	}
	sameEntries(t, listLog(t, log, callID, 0, 0), before)
}

// testDeliveredAfterGiveUp: a replay that succeeds records a given-up (or
// delivered) row as delivered again, with the new time and attempts.
func testDeliveredAfterGiveUp(t *testing.T, h *harness, log NotificationLog) {
	s := h.store(t)
	callID, _ := logFixture(t, s)
	at := base.Add(time.Hour)
	for _, seq := range []int64{1, 2} {
		if err := s.Delivered(t.Context(), callID, seq, at, 13); err != nil {
			t.Fatalf("Delivered(%d) after it finished: %v", seq, err)
		}
	}
	for _, e := range listLog(t, log, callID, 1, 2) {
		if e.Status != notify.StatusDelivered || !e.DeliveredAt.Equal(at) || e.Attempts != 13 {
			t.Errorf("entry %d after a replay: status %v, delivered %v, attempts %d; want delivered, %v, 13",
				e.Seq, e.Status, e.DeliveredAt, e.Attempts, at)
		}
	}
}

func testCallOwner(t *testing.T, h *harness, log NotificationLog) {
	s := h.store(t)
	c := Conversation("conv-1", base)
	c.Legs[0].TenantID, c.Legs[0].AppID = "tenant-x", "app-x"
	commit(t, s, c)
	tenant, app, err := log.CallOwner(t.Context(), c.Legs[0].ID)
	if err != nil || tenant != "tenant-x" || app != "app-x" {
		t.Errorf("CallOwner = %q, %q, %v; want tenant-x, app-x", tenant, app, err)
	}
	commit(t, s, end(c, base.Add(time.Minute)))
	if _, _, err := log.CallOwner(t.Context(), c.Legs[0].ID); err != nil {
		t.Errorf("CallOwner of an ended call: %v, want its owner", err)
	}
	if _, _, err := log.CallOwner(t.Context(), "no-such-call"); !errors.Is(err, calls.ErrNotFound) {
		t.Errorf("CallOwner of an unknown call: %v, want calls.ErrNotFound", err)
	}
}

// RunIdempotencyContract runs the contract of idempotency.Store as
// subtests of t. open is called with each subtest's t and must return an
// empty store; the subtests do not close it.
func RunIdempotencyContract(t *testing.T, open func(t *testing.T) idempotency.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s idempotency.Store)
	}{
		{"ReserveCompleteReplay", testIdemReserveComplete},
		{"InFlightRefusesSecond", testIdemInFlight},
		{"StaleReservationIsTakenOver", testIdemStale},
		{"ReleaseFreesKey", testIdemRelease},
		{"ExpiredRecordIsReplaced", testIdemExpiry},
		{"ScopesAreIndependent", testIdemScopes},
		{"ConcurrentReserveOneWins", testIdemConcurrent},
		{"QuotaEvictsOldestOfItsScope", testIdemQuotaEvicts},
		{"QuotaKeepsReservationsInFlight", testIdemQuotaInFlight},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// idemRecord is a reservation of key in scope made at base+at, expiring a
// day later.
func idemRecord(scope, key, token string, at time.Duration) idempotency.Record {
	return idempotency.Record{
		Scope: scope, Key: key, Token: token,
		RequestHash: bytes.Repeat([]byte{byte(len(token))}, 32),
		CreatedAt:   base.Add(at), ExpiresAt: base.Add(at + 24*time.Hour),
	}
}

func reserve(t *testing.T, s idempotency.Store, rec idempotency.Record, now time.Time) (idempotency.Record, bool) {
	t.Helper()
	got, ok, err := s.ReserveIdempotency(t.Context(), rec, now, now.Add(-time.Minute), 0)
	if err != nil {
		t.Fatalf("ReserveIdempotency(%s): %v", rec.Key, err)
	}
	return got, ok
}

func testIdemReserveComplete(t *testing.T, s idempotency.Store) {
	rec := idemRecord("t/a", "k1", "tok-1", 0)
	if _, ok := reserve(t, s, rec, base); !ok {
		t.Fatal("first reservation refused")
	}
	resp := idempotency.Response{
		Status: 201,
		Header: map[string][]string{"Location": {"https://x/calls/1"}, "Content-Type": {"application/json"}},
		Body:   []byte(`{"id":"1"}`),
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-1", resp); err != nil {
		t.Fatalf("CompleteIdempotency: %v", err)
	}
	got, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-22", time.Hour), base.Add(time.Hour))
	if ok {
		t.Fatal("a completed key was reserved again")
	}
	if got.Response == nil || !reflect.DeepEqual(*got.Response, resp) {
		t.Fatalf("stored response = %+v, want %+v", got.Response, resp)
	}
	if !bytes.Equal(got.RequestHash, rec.RequestHash) || got.Token != "tok-1" || !got.CreatedAt.Equal(rec.CreatedAt) || !got.ExpiresAt.Equal(rec.ExpiresAt) {
		t.Errorf("stored record = %+v, want the first reservation's hash, token and times", got)
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-1", resp); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Errorf("second CompleteIdempotency: %v, want ErrNotHeld", err)
	}
	if err := s.ReleaseIdempotency(t.Context(), "t/a", "k1", "tok-1"); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Errorf("ReleaseIdempotency of a completed key: %v, want ErrNotHeld", err)
	}
}

func testIdemInFlight(t *testing.T, s idempotency.Store) {
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-1", 0), base); !ok {
		t.Fatal("first reservation refused")
	}
	got, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-22", time.Second), base.Add(time.Second))
	if ok {
		t.Fatal("a key in flight was reserved twice")
	}
	if got.Response != nil || got.Token != "tok-1" {
		t.Errorf("in-flight record = %+v, want tok-1 without response", got)
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-22", idempotency.Response{Status: 200}); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Errorf("CompleteIdempotency with another token: %v, want ErrNotHeld", err)
	}
}

func testIdemStale(t *testing.T, s idempotency.Store) {
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-1", 0), base); !ok {
		t.Fatal("first reservation refused")
	}
	// reserve treats reservations older than a minute as abandoned.
	later := base.Add(2 * time.Minute)
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-22", 2*time.Minute), later); !ok {
		t.Fatal("an abandoned reservation was not taken over")
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-1", idempotency.Response{Status: 200}); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Errorf("CompleteIdempotency by the abandoned request: %v, want ErrNotHeld", err)
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-22", idempotency.Response{Status: 200, Body: []byte("ok")}); err != nil {
		t.Errorf("CompleteIdempotency by the new owner: %v", err)
	}
}

func testIdemRelease(t *testing.T, s idempotency.Store) {
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-1", 0), base); !ok {
		t.Fatal("first reservation refused")
	}
	if err := s.ReleaseIdempotency(t.Context(), "t/a", "k1", "tok-22"); !errors.Is(err, idempotency.ErrNotHeld) {
		t.Errorf("ReleaseIdempotency with another token: %v, want ErrNotHeld", err)
	}
	if err := s.ReleaseIdempotency(t.Context(), "t/a", "k1", "tok-1"); err != nil {
		t.Fatalf("ReleaseIdempotency: %v", err)
	}
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-22", time.Second), base.Add(time.Second)); !ok {
		t.Error("a released key could not be reserved again")
	}
}

func testIdemExpiry(t *testing.T, s idempotency.Store) {
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-1", 0), base); !ok {
		t.Fatal("first reservation refused")
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-1", idempotency.Response{Status: 200}); err != nil {
		t.Fatalf("CompleteIdempotency: %v", err)
	}
	justBefore := base.Add(24*time.Hour - time.Nanosecond)
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-22", 24*time.Hour-time.Nanosecond), justBefore); ok {
		t.Fatal("a record was replaced before it expired")
	}
	at := base.Add(24 * time.Hour)
	if _, ok := reserve(t, s, idemRecord("t/a", "k1", "tok-333", 24*time.Hour), at); !ok {
		t.Fatal("an expired record was not replaced")
	}
	if err := s.CompleteIdempotency(t.Context(), "t/a", "k1", "tok-333", idempotency.Response{Status: 202}); err != nil {
		t.Errorf("CompleteIdempotency of the new reservation: %v", err)
	}
}

func testIdemScopes(t *testing.T, s idempotency.Store) {
	for _, scope := range []string{"t/a", "t/b", "u/a"} {
		if _, ok := reserve(t, s, idemRecord(scope, "same-key", "tok-"+scope, 0), base); !ok {
			t.Errorf("reservation of the key in scope %s refused", scope)
		}
	}
}

func testIdemConcurrent(t *testing.T, s idempotency.Store) {
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range n {
		wg.Go(func() {
			_, ok, err := s.ReserveIdempotency(context.Background(), idemRecord("t/a", "k1", fmt.Sprintf("tok-%02d", i), 0), base, base.Add(-time.Minute), 0)
			if err != nil {
				t.Errorf("ReserveIdempotency: %v", err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d of %d concurrent reservations of one key succeeded, want 1", won, n)
	}
}

// reserveQuota reserves key in scope at base+at with quota; it fails the
// test on an error other than ErrQuota.
func reserveQuota(t *testing.T, s idempotency.Store, scope, key string, at time.Duration, quota int) (bool, error) {
	t.Helper()
	now := base.Add(at)
	_, ok, err := s.ReserveIdempotency(t.Context(), idemRecord(scope, key, "tok-"+key, at), now, now.Add(-time.Minute), quota)
	if err != nil && !errors.Is(err, idempotency.ErrQuota) {
		t.Fatalf("ReserveIdempotency(%s, %s): %v", scope, key, err)
	}
	return ok, err
}

// testIdemQuotaEvicts fills a scope's quota with completed keys: a new key
// makes room by deleting the scope's oldest, and another scope's keys, older
// still, are untouched.
func testIdemQuotaEvicts(t *testing.T, s idempotency.Store) {
	const quota = 3
	if ok, err := reserveQuota(t, s, "t/b", "b-old", 0, quota); !ok || err != nil {
		t.Fatalf("reservation in t/b: %v, %v", ok, err)
	}
	for i := range 5 {
		key := fmt.Sprintf("a-%d", i)
		if ok, err := reserveQuota(t, s, "t/a", key, time.Duration(i+1)*time.Second, quota); !ok || err != nil {
			t.Fatalf("reservation %s: %v, %v", key, ok, err)
		}
		if err := s.CompleteIdempotency(t.Context(), "t/a", key, "tok-"+key, idempotency.Response{Status: 201}); err != nil {
			t.Fatalf("CompleteIdempotency(%s): %v", key, err)
		}
	}
	// a-0 and a-1 made room for a-3 and a-4, so a-0 is free again (taking
	// it evicts a-2, now the oldest); a-3 and a-4 still count.
	at := 10 * time.Second
	if ok, _ := reserveQuota(t, s, "t/a", "a-0", at, quota); !ok {
		t.Error("evicted key a-0 still counts")
	}
	for _, key := range []string{"a-3", "a-4"} {
		if ok, _ := reserveQuota(t, s, "t/a", key, at, quota); ok {
			t.Errorf("a recent key %s was evicted", key)
		}
	}
	if ok, _ := reserveQuota(t, s, "t/b", "b-old", at, quota); ok {
		t.Error("another scope's key was evicted to make room")
	}
}

// testIdemQuotaInFlight fills a scope's quota with reservations in flight:
// none may be deleted, so a new key is refused with ErrQuota until one of
// them goes stale.
func testIdemQuotaInFlight(t *testing.T, s idempotency.Store) {
	const quota = 2
	for i := range quota {
		if ok, err := reserveQuota(t, s, "t/a", fmt.Sprintf("k%d", i), 0, quota); !ok || err != nil {
			t.Fatalf("reservation %d: %v, %v", i, ok, err)
		}
	}
	if ok, err := reserveQuota(t, s, "t/a", "k-new", time.Second, quota); ok || !errors.Is(err, idempotency.ErrQuota) {
		t.Fatalf("a key beyond a quota of reservations in flight: %v, %v; want ErrQuota", ok, err)
	}
	if ok, err := reserveQuota(t, s, "t/b", "k-new", time.Second, quota); !ok || err != nil {
		t.Fatalf("another scope was refused: %v, %v", ok, err)
	}
	// reserveQuota counts reservations older than a minute as stale.
	if ok, err := reserveQuota(t, s, "t/a", "k-new", time.Minute+time.Second, quota); !ok || err != nil {
		t.Fatalf("a stale reservation did not make room: %v, %v", ok, err)
	}
}
