package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/recordings"
)

// TestShutdownWaitsForRecordingsSweep: a sweep of expired recordings that
// is running when Shutdown is called finishes before Shutdown returns, so
// nothing touches the data directory once the server says it stopped.
func TestShutdownWaitsForRecordingsSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		inSweep := make(chan struct{})
		release := make(chan struct{})
		finish := sync.OnceFunc(func() { close(release) })
		defer finish()
		// The sweep asks the time once per recording: that is where it is
		// held, half way through.
		now := func() time.Time {
			inSweep <- struct{}{}
			<-release
			return fake.Now()
		}
		dir := t.TempDir()
		rs, err := recordings.New(dir, func() string { return "http://127.0.0.1" }, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		a := &App{log: slog.New(slog.DiscardHandler), clock: fake, recordings: rs}
		a.sweepRecordings() // at start: nothing to sweep yet
		meta := `{"expires":"2026-01-01T00:30:00Z"}`
		if err := os.WriteFile(filepath.Join(dir, "0123456789abcdef0123456789abcdef.json"), []byte(meta), 0o600); err != nil {
			t.Fatal(err)
		}
		fake.Advance(time.Hour)
		<-inSweep

		done := make(chan error, 1)
		go func() { done <- a.Shutdown(t.Context()) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned (%v) while a sweep was still running", err)
		default:
		}
		finish()
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		default:
			t.Fatal("Shutdown still waits after the sweep finished")
		}
		if fake.Pending() != 0 {
			t.Errorf("%d timers still scheduled after Shutdown; the sweep rescheduled itself", fake.Pending())
		}
	})
}
