package postgres

import (
	"context"
	"errors"
	"fmt"

	"usercenter/sqlstore"
)

// ErrReadOnly is what Update returns on a store opened with
// Options.ReadOnly.
var ErrReadOnly = errors.New("postgres: the database is open read-only")

// ErrNotMigrated means a read-only Open found a schema that is not the one
// this program writes: it has no usercenter tables, or an older version
// of them. Opening it without ReadOnly, which applies the migrations,
// makes it one.
var ErrNotMigrated = errors.New("postgres: the database schema is not this program's")

// checkSchema stands in for migrate in a read-only Open: it fails unless
// the schema is at the latest version, and changes nothing.
func (s *Store) checkSchema(ctx context.Context) error {
	ms, err := sqlstore.Migrations("postgres", migrationFiles, "migrations")
	if err != nil {
		return err
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: %w", mapErr(ctx, false, err))
	}
	if !exists {
		return fmt.Errorf("%w: the schema %q has no usercenter tables", ErrNotMigrated, s.schema)
	}
	var current int
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: read schema version: %w", mapErr(ctx, false, err))
	}
	switch latest := ms[len(ms)-1].Version; {
	case current > latest:
		return fmt.Errorf("postgres: database schema version %d is newer than this program's %d", current, latest)
	case current < latest:
		return fmt.Errorf("%w: the schema %q is at version %d, this program's is %d", ErrNotMigrated, s.schema, current, latest)
	}
	return nil
}
