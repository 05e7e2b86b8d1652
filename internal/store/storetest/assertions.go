package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

// RunAssertionIDContract runs the contract of auth.AssertionIDStore as
// subtests of t. open is called with each subtest's t and must return an
// empty store; the subtests do not close it.
func RunAssertionIDContract(t *testing.T, open func(t *testing.T) auth.AssertionIDStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s auth.AssertionIDStore)
	}{
		{"FirstUseThenReplay", testAssertionReplay},
		{"ExpiredIDIsForgotten", testAssertionExpiry},
		{"QuotaIsPerClient", testAssertionQuota},
		{"ConcurrentUseOneFirst", testAssertionConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// useID calls UseAssertionID at base+at for an id expiring ten minutes
// later; it fails the test on an error other than ErrAssertionIDQuota.
func useID(t *testing.T, s auth.AssertionIDStore, client, id string, at time.Duration, max int) (bool, error) {
	t.Helper()
	now := base.Add(at)
	first, err := s.UseAssertionID(t.Context(), client, id, now.Add(10*time.Minute), now, max)
	if err != nil && !errors.Is(err, auth.ErrAssertionIDQuota) {
		t.Fatalf("UseAssertionID(%s, %s): %v", client, id, err)
	}
	return first, err
}

func testAssertionReplay(t *testing.T, s auth.AssertionIDStore) {
	if first, _ := useID(t, s, "client-a", "jti-1", 0, 10); !first {
		t.Fatal("a new id was not first")
	}
	if first, _ := useID(t, s, "client-a", "jti-1", time.Minute, 10); first {
		t.Error("a replayed id was first again")
	}
	if first, _ := useID(t, s, "client-b", "jti-1", time.Minute, 10); !first {
		t.Error("another client's equal id was taken for a replay")
	}
}

func testAssertionExpiry(t *testing.T, s auth.AssertionIDStore) {
	useID(t, s, "client-a", "jti-1", 0, 10)
	if first, _ := useID(t, s, "client-a", "jti-1", 10*time.Minute-time.Nanosecond, 10); first {
		t.Error("an id was forgotten before it expired")
	}
	if first, _ := useID(t, s, "client-a", "jti-1", 10*time.Minute, 10); !first {
		t.Error("an expired id still counts")
	}
}

// testAssertionQuota fills one client's quota: its next id is refused,
// recording nothing, while another client goes on and the first client's
// ids are kept (a replay is still refused); once they expire there is room.
func testAssertionQuota(t *testing.T, s auth.AssertionIDStore) {
	const max = 3
	useID(t, s, "client-b", "b-1", 0, max)
	for i := range max {
		if first, err := useID(t, s, "client-a", fmt.Sprintf("a-%d", i), time.Second, max); !first || err != nil {
			t.Fatalf("id %d within the quota: %v, %v", i, first, err)
		}
	}
	if first, err := useID(t, s, "client-a", "a-extra", 2*time.Second, max); first || !errors.Is(err, auth.ErrAssertionIDQuota) {
		t.Fatalf("an id beyond the quota: %v, %v; want ErrAssertionIDQuota", first, err)
	}
	for i := range max - 1 {
		if first, _ := useID(t, s, "client-b", fmt.Sprintf("b-%d", i+2), 2*time.Second, max); !first {
			t.Errorf("another client's id %d was refused", i)
		}
	}
	if first, _ := useID(t, s, "client-b", "b-1", 3*time.Second, max); first {
		t.Error("a full quota of another client pushed an id out")
	}
	if first, err := useID(t, s, "client-a", "a-extra", 10*time.Minute+time.Second, max); !first || err != nil {
		t.Errorf("after the ids expired: %v, %v", first, err)
	}
}

func testAssertionConcurrent(t *testing.T, s auth.AssertionIDStore) {
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range n {
		wg.Go(func() {
			first, err := s.UseAssertionID(t.Context(), "client-a", "jti", base.Add(time.Minute), base, 100)
			if err != nil {
				t.Errorf("UseAssertionID: %v", err)
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d of %d concurrent uses of one id were first, want 1", firsts, n)
	}
}
