package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned by Open for a database that a newer build of
// Switchboard has migrated: it holds a migration this build does not know,
// and writing to it could corrupt what the newer build relies on.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this build of switchboard")

// migrationLock is the key of the transaction-scoped advisory lock that
// serialises migrations: the nodes starting at once on one database take
// turns, and each finds what the ones before it applied. (Advisory locks
// are per database, so other databases on the server do not contend.)
const migrationLock int64 = 0x73776974636862 // "switchb"

// migration is one step of the schema, applied in its own transaction.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema of this build, in order.
var migrations = mustLoadMigrations(migrationFiles, "migrations")

// mustLoadMigrations reads files named NNNN_name.sql from dir (see
// codec.LoadMigrations).
func mustLoadMigrations(fsys fs.FS, dir string) []migration {
	ms, err := loadMigrations(fsys, dir)
	if err != nil {
		panic(err)
	}
	return ms
}

func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	ms, err := codec.LoadMigrations(fsys, dir, "postgres")
	if err != nil {
		return nil, err
	}
	out := make([]migration, len(ms))
	for i, m := range ms {
		out[i] = migration{version: m.Version, name: m.Name, sql: m.SQL}
	}
	return out, nil
}

// migrate brings the database up to ms. Each migration runs in one
// transaction together with its schema_migrations row, after taking the
// transaction-scoped advisory lock migrationLock and checking, under it,
// whether the step is still missing: several nodes starting at once apply
// each step once, the others waiting and then finding it done. The lock is
// released with its transaction, so it works through a connection pooler
// that hands each transaction a different server connection. It returns
// the migrations it applied; after an error, the ones it applied before.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration, now int64) ([]migration, error) {
	var applied []migration
	for _, m := range ms {
		ran, err := applyMigration(ctx, pool, m, len(ms), now)
		if err != nil {
			return applied, err
		}
		if ran {
			applied = append(applied, m)
		}
	}
	if len(ms) == 0 { // still check the database is not newer
		if _, err := applyMigration(ctx, pool, migration{}, 0, now); err != nil {
			return nil, err
		}
	}
	return applied, nil
}

// applyMigration runs m unless it is recorded already, and reports whether
// it ran. It fails with ErrSchemaTooNew when the database records a
// migration beyond known, this build's last. A zero m only checks that.
func applyMigration(ctx context.Context, pool *pgxpool.Pool, m migration, known int, now int64) (ran bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("postgres: lock for migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer NOT NULL PRIMARY KEY,
	name       text    NOT NULL,
	applied_at bigint  NOT NULL
)`); err != nil {
			return fmt.Errorf("postgres: create schema_migrations: %w", err)
		}
		var newest int
		var newestName string
		err := tx.QueryRow(ctx, `SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&newest, &newestName)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: read schema_migrations: %w", err)
		}
		if newest > known {
			return fmt.Errorf("%w: it has migration %d (%s), this build knows up to %d; run a newer switchboard or restore a backup",
				ErrSchemaTooNew, newest, newestName, known)
		}
		if m.version == 0 || m.version <= newest {
			return nil
		}
		// A simple-protocol Exec: a migration is several statements.
		if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, m.version, m.name, now); err != nil {
			return fmt.Errorf("postgres: record migration %s: %w", m.name, err)
		}
		ran = true
		return nil
	})
	return ran, err
}
