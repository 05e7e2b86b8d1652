package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/switchboard-dev/switchboard/internal/store/codec"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned by Open for a database that a newer build of
// Switchboard has migrated: it holds a migration this build does not know,
// and writing to it could corrupt what the newer build relies on.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this build of switchboard")

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
	ms, err := codec.LoadMigrations(fsys, dir, "sqlite")
	if err != nil {
		return nil, err
	}
	out := make([]migration, len(ms))
	for i, m := range ms {
		out[i] = migration{version: m.Version, name: m.Name, sql: m.SQL}
	}
	return out, nil
}

// migrate brings the database on conn up to ms. Each migration runs in one
// IMMEDIATE transaction together with its schema_migrations row, and checks
// inside that transaction whether it is still missing, so two processes
// opening the same new file do not apply a step twice. It returns the
// migrations it applied.
func migrate(ctx context.Context, conn *sql.Conn, ms []migration, now int64) ([]migration, error) {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	var newestName sql.NullString
	err := conn.QueryRowContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&newest, &newestName)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: read schema_migrations: %w", err)
	}
	if newest.Valid && newest.Int64 > int64(len(ms)) {
		return nil, fmt.Errorf("%w: it has migration %d (%s), this build knows up to %d; run a newer switchboard or restore a backup",
			ErrSchemaTooNew, newest.Int64, newestName.String, len(ms))
	}

	var applied []migration
	for _, m := range ms {
		done, err := applyMigration(ctx, conn, m, now)
		if err != nil {
			return applied, fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
		if done {
			applied = append(applied, m)
		}
	}
	return applied, nil
}

// applyMigration runs m unless it is already recorded, and reports whether it ran.
func applyMigration(ctx context.Context, conn *sql.Conn, m migration, now int64) (ran bool, err error) {
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return false, err
	}
	if n == 0 {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return false, err
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, now); err != nil {
			return false, err
		}
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return false, err
	}
	return n == 0, nil
}
