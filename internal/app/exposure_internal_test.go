package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRecordingLinksUseHTTPS: a recording's location carries its bearer
// token to whoever follows it, so with an HTTPS listener the link is
// https, whatever else listens; a configured publicUrl always wins.
func TestRecordingLinksUseHTTPS(t *testing.T) {
	for _, tt := range []struct {
		name, tls, public string
		want              func(a *App) string
	}{
		{"both listeners", "127.0.0.1:0", "", func(a *App) string { return "https://" + a.Addr("https") }},
		{"HTTP only", "off", "", func(a *App) string { return "http://" + a.Addr("http") }},
		{"configured", "127.0.0.1:0", "https://switchboard.example", func(*App) string { return "https://switchboard.example" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Listen, cfg.ListenTLS, cfg.DataDir, cfg.PublicURL = "127.0.0.1:0", tt.tls, t.TempDir(), tt.public
			a, err := New(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				a.Shutdown(ctx)
			})
			<-a.Ready()
			loc, _, err := a.recordings.Save(t.Context(), "t", "a", "c", "o", []byte("RIFF"))
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(a) + "/switchboard/v1/recordings/"; !strings.HasPrefix(loc, want) {
				t.Fatalf("recording location %s, want it under %s", loc, want)
			}
		})
	}
}
