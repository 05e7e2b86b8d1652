package calls

import (
	"regexp"
	"testing"
	"testing/synctest"
	"time"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ids are version 7 UUIDs: the ids of one millisecond differ, and ids of a
// later millisecond sort after, so that the store's indexes grow at one end.
func TestNewIDIsTimeOrdered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seen := make(map[string]bool)
		prev := ""
		for i := range 200 {
			id := newID()
			if !uuidV7.MatchString(id) {
				t.Fatalf("newID() = %q, not a lower-case version 7 UUID", id)
			}
			if seen[id] {
				t.Fatalf("newID() repeated %q", id)
			}
			seen[id] = true
			if i%10 == 0 {
				if id <= prev {
					t.Fatalf("id %q of a later millisecond sorts before %q", id, prev)
				}
				prev = id
				time.Sleep(time.Millisecond)
			}
		}
		at := time.Now().UnixMilli()
		id := newID()
		hexMS := id[0:8] + id[9:13]
		var ms int64
		for _, c := range hexMS {
			ms = ms<<4 | int64(hexDigit(c))
		}
		if ms != at {
			t.Errorf("id %q carries millisecond %d, want %d", id, ms, at)
		}
	})
}

func hexDigit(c rune) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c-'a') + 10
}
