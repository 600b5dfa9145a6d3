package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"usercenter/sqlstore"
)

// ErrReadOnly is what Update returns on a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("sqlite: the database is open read-only")

// ErrNotMigrated means OpenReadOnly found a database whose schema is not
// the one this program writes: it has none (an empty file, another
// program's database) or an older version. Opening it with Open, which
// applies the migrations, makes it one.
var ErrNotMigrated = errors.New("sqlite: the database schema is not this program's")

// OpenReadOnly opens an existing database for reading only. It creates
// nothing: a missing file is an error that matches fs.ErrNotExist, and it
// applies no migrations, failing with ErrNotMigrated when the schema is
// not the latest. Its connections are opened with mode=ro and query_only,
// so SQLite itself refuses any write, and Update fails with ErrReadOnly.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// SQLite would open a missing file as an empty database (mode=ro
	// fails only later, at the first read); say plainly that it is not there.
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sqlite: %s is not a file", abs)
	}
	ms, err := sqlstore.Migrations("sqlite", migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	rdb, err := sql.Open("sqlite", dsn(abs, []string{"busy_timeout(5000)", "foreign_keys(1)", "query_only(1)"}, "mode=ro"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	fail := func(err error) (*Store, error) {
		rdb.Close()
		return nil, err
	}

	var current int
	err = rdb.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return fail(fmt.Errorf("%w: it has no usercenter tables", ErrNotMigrated))
	case err != nil:
		return fail(fmt.Errorf("sqlite: read schema version: %w", err))
	}
	switch latest := ms[len(ms)-1].Version; {
	case current > latest:
		return fail(fmt.Errorf("sqlite: database schema version %d is newer than this program's %d", current, latest))
	case current < latest:
		return fail(fmt.Errorf("%w: its schema version is %d, this program's is %d", ErrNotMigrated, current, latest))
	}

	s := &Store{rdb: rdb, readOnly: true, writerDone: make(chan struct{})}
	close(s.writerDone)
	s.rstmts = newStmts(rdb.PrepareContext)
	s.reader = reader{s: s, run: runner{stmts: s.rstmts}}
	for _, q := range readQueries {
		if _, err := s.rstmts.get(ctx, q); err != nil {
			s.rstmts.close()
			return fail(fmt.Errorf("sqlite: prepare %q: %w", q, err))
		}
	}
	return s, nil
}
