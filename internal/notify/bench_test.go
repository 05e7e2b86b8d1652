package notify_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/notify/notifytest"
)

// BenchmarkCommitToCallback measures the time from Enqueue to the callback
// arriving at the bot, and reports its median and 99th percentile.
func BenchmarkCommitToCallback(b *testing.B) {
	arrived := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- time.Now()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	outbox := &notifytest.MemoryOutbox{}
	w := notify.New(notify.Config{Outbox: outbox, Clock: clock.Real{}})
	if err := w.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := w.Shutdown(b.Context()); err != nil {
			b.Error(err)
		}
	}()

	var lat []time.Duration
	var seq int64
	for b.Loop() {
		seq++
		d := delivery("bench", seq, srv.URL)
		outbox.Add(d)
		start := time.Now()
		w.Enqueue(d)
		lat = append(lat, (<-arrived).Sub(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
