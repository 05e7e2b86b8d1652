package app

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/notify"
)

type fakeLog struct {
	entries []notify.Entry
	err     error
}

func (l fakeLog) Notifications(_ context.Context, callID string, from int64, limit int) ([]notify.Entry, error) {
	var out []notify.Entry
	for _, e := range l.entries {
		if e.CallID == callID && e.Seq >= from && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, l.err
}

// TestLoadDelivery: replays read their row back from the notification log;
// a row that is gone is an error, not some later row.
func TestLoadDelivery(t *testing.T) {
	row := notify.Entry{Delivery: notify.Delivery{CallID: "c1", Seq: 3, URL: "https://bot.example/cb", Body: []byte(`{}`), Attempts: 2}}
	load := loadDelivery(fakeLog{entries: []notify.Entry{row}})
	if d, err := load(t.Context(), "c1", 3); err != nil || d.URL != row.URL || string(d.Body) != "{}" || d.Attempts != 2 {
		t.Errorf("load(c1, 3) = %+v, %v; want the row", d, err)
	}
	if d, err := load(t.Context(), "c1", 2); err == nil {
		t.Errorf("load(c1, 2) = %+v, want an error: seq 2 is gone and 3 is another row", d)
	}
	failing := errors.New("disk on fire")
	if _, err := loadDelivery(fakeLog{err: failing})(t.Context(), "c1", 3); !errors.Is(err, failing) {
		t.Errorf("load with a failing store = %v, want its error", err)
	}
}
