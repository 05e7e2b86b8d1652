package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

var _ calls.Store = (*Store)(nil)

// ErrClosed is returned by every method called after Close has begun.
var ErrClosed = errors.New("postgres: store is closed")

// ErrNotFound is returned by Delivered and Attempted for an outbox entry
// that does not exist.
var ErrNotFound = errors.New("postgres: outbox entry not found")

// maxRememberedLegs bounds the calls rows the store remembers having
// written (see codec.Legs): a node forgets the legs of conversations that
// ended elsewhere only by forgetting everything.
const maxRememberedLegs = 1 << 17

// Options tunes a Store. The zero value is a good default.
type Options struct {
	// Clock stamps applied migrations; nil means clock.Real.
	Clock clock.Clock
	// Logger receives migration messages; nil means slog.Default().
	Logger *slog.Logger
	// MaxConns caps the connections of the store's pool. Zero leaves the
	// URL's pool_max_conns, or pgxpool's default (the greater of 4 and the
	// number of CPUs).
	MaxConns int
	// ObserveBatch, when set, is called after each write transaction with
	// the number of requests it carried (always 1: each write is its own
	// transaction) and how long it took, from taking a connection to the
	// outcome. It must return quickly.
	ObserveBatch func(requests int, took time.Duration)

	// tracer, for tests, sees every query and batch.
	tracer pgx.QueryTracer
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is a PostgreSQL database holding conversations, the notification
// outbox, the signing keys, the registered applications, idempotency
// records, used assertion ids and SIP accounts. It implements the same
// ports as the SQLite store, with the same contract. It is safe for
// concurrent use, and several processes may share one database.
type Store struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	observe func(requests int, took time.Duration)

	// legs knows the calls rows that this store committed, which commits
	// need not write again while they are unchanged.
	legs codec.Legs

	// mu guards closed: every method holds it for reading while it uses
	// the pool, so Close, holding it for writing, closes the pool once no
	// call is under way.
	mu     sync.RWMutex
	closed bool
}

// Open connects to the database at url (a postgres:// or postgresql://
// URL, or a key=value connection string, as libpq takes them), which must
// exist, and applies the migrations this build knows. It refuses, with an
// error wrapping ErrSchemaTooNew, a database migrated by a newer build.
// Errors never carry the URL's password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors redact the password themselves.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.tracer != nil {
		cfg.ConnConfig.Tracer = opts.tracer
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<30))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s: %w", Redact(url), err)
	}
	s := &Store{pool: pool, log: opts.Logger, observe: opts.ObserveBatch}
	applied, err := migrate(ctx, pool, migrations, opts.Clock.Now().UnixNano())
	for _, m := range applied {
		s.log.Info("postgres: applied migration", "database", Redact(url), "migration", m.name)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w (database %s)", err, Redact(url))
	}
	return s, nil
}

// Close waits for the calls under way, then closes every connection. Calls
// made after Close has begun fail with ErrClosed. A second call does
// nothing and returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.pool.Close()
	}
	return nil
}

// use fails after Close has begun; otherwise it makes Close wait until the
// caller calls done.
func (s *Store) use() (done func(), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	return s.mu.RUnlock, nil
}

// write runs f, one write transaction, on a connection of the pool. ctx
// counts only until a connection is taken: f gets a context that is never
// cancelled, so that a write under way completes and its caller learns
// the outcome, as with the SQLite store.
func (s *Store) write(ctx context.Context, f func(ctx context.Context, conn *pgxpool.Conn) error) error {
	done, err := s.use()
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Release()
	err = f(context.WithoutCancel(ctx), conn)
	if s.observe != nil {
		s.observe(1, time.Since(start))
	}
	return err
}

// sendBatch sends b in one round trip, as one implicit transaction: all
// of it is committed, or, at its first error, none of it.
func (s *Store) sendBatch(ctx context.Context, b *pgx.Batch) error {
	return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.SendBatch(ctx, b).Close()
	})
}

// nanos encodes t for a time column: unix nanoseconds, NULL for the zero
// time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// nullable binds 0 as NULL, as nanos does the zero time.
func nullable(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// fromNanos decodes a time column written by nanos, in UTC.
func fromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Redact returns the URL s with its password, in the user info or a
// password parameter, replaced by "xxxxx", for logs and errors. Anything
// that is not a postgres:// or postgresql:// URL comes back as a
// placeholder, since it cannot be redacted reliably.
func Redact(s string) string {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return "(connection string)"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable postgres URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// CheckURL reports whether url is a connection string Open can use, without
// connecting. The error never carries the URL's password.
func CheckURL(url string) error {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return fmt.Errorf("postgres: %w", err) // pgconn redacts the password
	}
	return nil
}
