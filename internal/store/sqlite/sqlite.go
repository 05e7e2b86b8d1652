package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/clock"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ calls.Store = (*Store)(nil)

// ErrClosed is returned by every method called after Close has begun.
var ErrClosed = errors.New("sqlite: store is closed")

// ErrNotFound is returned by Delivered and Attempted for an outbox entry
// that does not exist.
var ErrNotFound = errors.New("sqlite: outbox entry not found")

// Defaults for the zero fields of Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultMaxBatch    = 256
	DefaultReadConns   = 4
)

// Options tunes a Store. The zero value is a good default.
type Options struct {
	// BusyTimeout is how long a connection waits for a lock held by another
	// process (or a checkpoint) before failing; zero means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// MaxBatch caps the write requests grouped into one transaction; zero
	// means DefaultMaxBatch.
	MaxBatch int
	// ReadConns caps the connections serving LoadLive, Pending and LoadKeys;
	// zero means DefaultReadConns.
	ReadConns int
	// Clock stamps applied migrations; nil means clock.Real.
	Clock clock.Clock
	// Logger receives migration and shutdown messages; nil means
	// slog.Default().
	Logger *slog.Logger
	// ObserveBatch, when set, is called by the writer goroutine after each
	// write transaction with the number of requests it carried and how long
	// it took, BEGIN to COMMIT (or to the failure), on the process's
	// monotonic clock. It must return quickly: the next batch waits for it.
	ObserveBatch func(requests int, took time.Duration)
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.ReadConns <= 0 {
		o.ReadConns = DefaultReadConns
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is a SQLite database file holding conversations, the notification
// outbox, the signing keys and the registered applications. It implements
// calls.Store, notify.Outbox, auth.KeyStore and auth.AppStore. It is safe
// for concurrent use.
//
// Writes (Commit, Delivered, Attempted, SaveKey, the application writes)
// are queued to one writer goroutine that groups them into transactions;
// reads run on a separate pool of read-only connections and see every write
// whose method has returned.
type Store struct {
	log     *slog.Logger
	writeDB *sql.DB
	readDB  *sql.DB
	w       *writer
	read    readStmts

	// mu guards closed and sends on queue: senders hold it for reading, so
	// Close, holding it for writing, knows no send is in flight when it
	// closes the queue.
	mu     sync.RWMutex
	closed bool
	queue  chan *request

	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	// batches and batched count transactions and the requests they carried,
	// for tests and benchmarks.
	batches, batched atomic.Int64
	// checkpoints counts the checkpoints run, for tests.
	checkpoints  atomic.Int64
	ckpt         *checkpointer
	observeBatch func(requests int, took time.Duration)
}

// Open opens the database file at path, creating it (and its directory) if
// missing, for the owner alone (0600, directory 0700; an existing database,
// -wal or -shm file is tightened to 0600), and applies the migrations this
// build knows. It refuses, with an error wrapping ErrSchemaTooNew, a
// database migrated by a newer build. The returned Store runs a writer
// goroutine until Close.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := prepareFiles(abs); err != nil {
		return nil, err
	}

	writeDB, err := sql.Open("sqlite", dsn(abs, opts, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	// The writer holds its one connection for the life of the Store; a second
	// one would only contend with it for the database lock.
	writeDB.SetMaxOpenConns(1)
	writeDB.SetMaxIdleConns(1)
	writeDB.SetConnMaxLifetime(0)
	writeDB.SetConnMaxIdleTime(0)

	s := &Store{log: opts.Logger, writeDB: writeDB, observeBatch: opts.ObserveBatch}
	if err := s.open(ctx, abs, opts); err != nil {
		s.closeDBs()
		return nil, err
	}
	s.queue = make(chan *request, opts.MaxBatch*4)
	s.writerDone = make(chan struct{})
	go s.ckpt.run(s)
	go s.run(opts.MaxBatch)
	return s, nil
}

func (s *Store) open(ctx context.Context, abs string, opts Options) error {
	conn, err := s.writeDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		conn.Close()
		return fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	if mode != "wal" {
		conn.Close()
		return fmt.Errorf("sqlite: open %s: journal_mode is %q, want wal", abs, mode)
	}
	applied, err := migrate(ctx, conn, migrations, opts.Clock.Now().UnixNano())
	for _, m := range applied {
		s.log.Info("sqlite: applied migration", "path", abs, "migration", m.name)
	}
	if err != nil {
		conn.Close()
		return err
	}
	s.w, err = newWriter(ctx, conn)
	if err != nil {
		conn.Close()
		return err
	}

	s.readDB, err = sql.Open("sqlite", dsn(abs, opts, true))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.readDB.SetMaxOpenConns(opts.ReadConns)
	s.readDB.SetMaxIdleConns(opts.ReadConns)
	s.readDB.SetConnMaxLifetime(0)
	s.readDB.SetConnMaxIdleTime(0)
	if err := s.read.prepare(ctx, s.readDB); err != nil {
		return err
	}
	s.ckpt, err = newCheckpointer(ctx, abs, opts)
	return err
}

// dsn builds the driver's data source name: a file: URI, so that any
// character in path is escaped, with the pragmas every connection needs.
// synchronous=FULL makes a WAL commit durable before it returns.
func dsn(abs string, opts Options, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// Every request in a batch runs under a savepoint; keep the statement
		// journal that backs it in memory rather than in a temporary file.
		q.Add("_pragma", "temp_store(MEMORY)")
		// Keep the WAL from staying large after a burst.
		q.Add("_pragma", "journal_size_limit(67108864)")
		// The store checkpoints from a connection of its own (checkpointer),
		// not in the writer's commits.
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	p := filepath.ToSlash(abs)
	if p[0] != '/' {
		p = "/" + p // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// Close stops accepting requests, lets the writer finish every request
// already queued, waits for it, and closes the database. It returns the first
// error met in closing; a second call returns the same.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		<-s.writerDone
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.ckpt != nil {
		// Before the writer's connection, whose close (the last one)
		// checkpoints the whole WAL and removes it.
		errs = append(errs, s.ckpt.stop())
	}
	s.read.close()
	if s.readDB != nil {
		errs = append(errs, s.readDB.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.close())
	}
	errs = append(errs, s.writeDB.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// nanos encodes t for a time column: unix nanoseconds, NULL for the zero time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos decodes a time column written by nanos, in UTC.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
