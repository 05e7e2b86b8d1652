package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// checkpointEvery is how many write transactions go by between two WAL
// checkpoints. SQLite's own automatic checkpoint (every 1000 pages) runs
// inside the COMMIT that crosses the threshold, on the writer goroutine,
// where every request of the next batch waits for it; the store turns it
// off and checkpoints from a connection of its own instead.
const checkpointEvery = 16

// checkpointer copies committed WAL frames into the database file, from its
// own connection and goroutine, whenever the writer asks. It runs PASSIVE
// checkpoints: it never waits for the writer or for readers, and copies
// what it can; the writer keeps appending to the WAL meanwhile.
type checkpointer struct {
	db   *sql.DB
	wake chan struct{} // buffered (1): the writer never blocks on it
	done chan struct{}
}

func newCheckpointer(ctx context.Context, abs string, opts Options) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(abs, opts, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", abs, err)
	}
	return &checkpointer{db: db, wake: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// run checkpoints once per wake-up until stop.
func (c *checkpointer) run(s *Store) {
	defer close(c.done)
	for range c.wake {
		var busy, logFrames, copied int
		err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied)
		if err != nil {
			s.log.Warn("sqlite: checkpoint failed", "err", err)
		}
		s.checkpoints.Add(1)
	}
}

// poke asks for a checkpoint; it never blocks.
func (c *checkpointer) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stop ends run, once no more pokes can come, and closes the connection.
func (c *checkpointer) stop() error {
	close(c.wake)
	<-c.done
	return c.db.Close()
}
