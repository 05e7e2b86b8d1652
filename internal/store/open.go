package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/notify"
	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/store/postgres"
	"github.com/switchboard-dev/switchboard/internal/store/sqlite"
)

// Store is every port a store implements, as the server and the
// switchboard commands use them: *sqlite.Store and *postgres.Store are
// both one.
type Store interface {
	calls.Store
	notify.Outbox
	notify.PendingForCalls
	auth.KeyStore
	auth.AppStore
	auth.AssertionIDStore
	idempotency.Store
	phones.Accounts

	// Notifications returns the outbox rows of callID with Seq >= fromSeq,
	// in Seq order, at most limit (<= 0: all), with their delivery state.
	Notifications(ctx context.Context, callID string, fromSeq int64, limit int) ([]notify.Entry, error)
	// CallOwner returns the tenant and application of a call, ended or
	// not; an error matching calls.ErrNotFound if there is none.
	CallOwner(ctx context.Context, callID string) (tenantID, appID string, err error)
	// RecentCalls returns the calls of a tenant (all when "") and an
	// application (all of the tenant's when ""), live or ended and not yet
	// deleted, newest first, at most limit, with their Spec.
	RecentCalls(ctx context.Context, tenantID, appID string, limit int) ([]*calls.Call, error)
	// CallConversation returns the conversation holding callID, live or
	// ended and not yet deleted; calls.ErrNotFound when there is none.
	CallConversation(ctx context.Context, callID string) (*calls.Conversation, error)
	// DeleteEnded deletes at most limit conversations that ended before
	// before, with their calls and outbox rows, and returns how many; a
	// conversation with a notification still pending is kept.
	DeleteEnded(ctx context.Context, before time.Time, limit int) (int, error)

	// CreateSIPAccount, ListSIPAccounts and DeleteSIPAccount manage the
	// SIP accounts that phones.Accounts looks up.
	CreateSIPAccount(ctx context.Context, a phones.StoredAccount) error
	ListSIPAccounts(ctx context.Context) ([]phones.StoredAccount, error)
	DeleteSIPAccount(ctx context.Context, username string) error

	// Close waits for the writes under way and closes the store.
	Close() error
}

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = (*postgres.Store)(nil)
)

// Options tunes the store Open opens. The zero value is a good default.
type Options struct {
	// Clock stamps applied migrations; nil means clock.Real.
	Clock clock.Clock
	// Logger receives the stores' messages; nil means slog.Default().
	Logger *slog.Logger
	// ObserveBatch, when set, is called after each write transaction with
	// the number of write requests it carried and how long it took.
	ObserveBatch func(requests int, took time.Duration)
	// MaxConns caps PostgreSQL's connection pool (zero: the URL's
	// pool_max_conns, or pgx's default). SQLite ignores it.
	MaxConns int
}

// IsPostgres reports whether spec names a PostgreSQL database: a
// postgres:// or postgresql:// URL.
func IsPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// Open opens the store spec names: a PostgreSQL database for a postgres://
// or postgresql:// URL (which must exist), otherwise the SQLite database
// file at the path spec (created if missing). Either way it applies the
// migrations this build knows. Its errors never carry a URL's password.
func Open(ctx context.Context, spec string, opts Options) (Store, error) {
	if spec == "" {
		return nil, errors.New("store: no database given")
	}
	if IsPostgres(spec) {
		s, err := postgres.Open(ctx, spec, postgres.Options{Clock: opts.Clock, Logger: opts.Logger, ObserveBatch: opts.ObserveBatch, MaxConns: opts.MaxConns})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, spec, sqlite.Options{Clock: opts.Clock, Logger: opts.Logger, ObserveBatch: opts.ObserveBatch})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Describe names the store spec names, for logs and messages: "sqlite"
// and the file's path, or "postgres" and the URL with its password
// redacted.
func Describe(spec string) (kind, where string) {
	if IsPostgres(spec) {
		return "postgres", postgres.Redact(spec)
	}
	return "sqlite", spec
}

// CheckPostgresURL reports whether url is a PostgreSQL URL that the
// PostgreSQL store can use, without connecting. The error never carries
// the URL's password.
func CheckPostgresURL(url string) error {
	if !IsPostgres(url) {
		return fmt.Errorf("store: %s is not a postgres:// or postgresql:// URL", postgres.Redact(url))
	}
	return postgres.CheckURL(url)
}
