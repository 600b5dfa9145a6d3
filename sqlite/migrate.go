package sqlite

import (
	"context"
	"embed"
	"fmt"
	"time"

	"usercenter/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations the database lacks, each in its own
// transaction, and returns their versions. It runs before the writer
// goroutine starts, so it has the write connection to itself; BEGIN
// IMMEDIATE serializes it against another process opening the same file.
func (s *Store) migrate(ctx context.Context) ([]int, error) {
	ms, err := sqlstore.Migrations("sqlite", migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if _, err := s.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL -- RFC 3339, UTC
	)`); err != nil {
		return nil, fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}

	var current int
	if err := s.wdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return nil, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		// A newer binary has been here; running against a schema this code
		// does not know could corrupt data.
		return nil, fmt.Errorf("sqlite: database schema version %d is newer than this program's %d", current, latest)
	}

	var applied []int
	for _, m := range ms {
		done, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// applyMigration applies m unless the database already has it.
func (s *Store) applyMigration(ctx context.Context, m sqlstore.Migration) (bool, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
