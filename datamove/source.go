package datamove

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"usercenter/core"
	"usercenter/sqlite"
	"usercenter/vault"
)

// source is the SQLite database being copied, read in one transaction so
// that every table is seen as of one instant even while a server writes to
// the file.
type source struct {
	path string
	db   *sql.DB
	tx   *sql.Tx
}

// openSource checks that path is a usercenter database, brings its schema
// up to date, and starts the read transaction.
func openSource(ctx context.Context, path string, ring *vault.Keyring) (*source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("there is no database at %s", path)
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("%s is a directory, not a database file", path)
	case fi.Size() == 0:
		return nil, fmt.Errorf("%s is empty: not a usercenter database", path)
	}
	// sqlite.Open would happily add usercenter's tables to any SQLite file,
	// so look before letting it migrate.
	if err := probe(ctx, abs); err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, abs)
	if err != nil {
		return nil, fmt.Errorf("opening the source %s: %w", path, err)
	}
	if ring != nil {
		if err := checkKey(ctx, st, ring); err != nil {
			st.Close()
			return nil, err
		}
	}
	if err := st.Close(); err != nil {
		return nil, fmt.Errorf("closing the source %s: %w", path, err)
	}

	db, err := sql.Open("sqlite", readOnlyDSN(abs))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the source %s: %w", path, err)
	}
	// A deferred transaction takes its snapshot at the first read.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		tx.Rollback()
		db.Close()
		return nil, fmt.Errorf("reading the source %s: %w", path, err)
	}
	return &source{path: path, db: db, tx: tx}, nil
}

// checkKey fails unless ring opens the source, so that a wrong key file
// stops the move before anything is written rather than failing its
// verification afterwards. A source that holds no key check has never been
// opened by a service, and holds nothing sealed: core.NewService would
// write one, which is not for a copy to do.
func checkKey(ctx context.Context, st *sqlite.Store, ring *vault.Keyring) error {
	check, err := st.Meta(ctx, "master_key_check")
	if err != nil || check == nil {
		return err
	}
	if _, err := core.NewService(ctx, st, ring); err != nil {
		return fmt.Errorf("the source: %w", err)
	}
	return nil
}

func (s *source) Close() error {
	s.tx.Rollback()
	return s.db.Close()
}

// probe fails unless the file is a SQLite database with usercenter's
// migration table, without changing it.
func probe(ctx context.Context, abs string) error {
	db, err := sql.Open("sqlite", readOnlyDSN(abs))
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'apps', 'users')`).Scan(&n)
	if err != nil {
		return fmt.Errorf("%s is not a usercenter database: %w", abs, err)
	}
	if n != 3 {
		return fmt.Errorf("%s is not a usercenter database (it lacks usercenter's tables)", abs)
	}
	return nil
}

// readOnlyDSN opens the file read-only (mode=ro) and refuses writes on the
// connection too (query_only), so that nothing here can change the source.
func readOnlyDSN(abs string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return u.String() + "?mode=ro&_pragma=" + url.QueryEscape("query_only(1)") + "&_pragma=" + url.QueryEscape("busy_timeout(5000)")
}

func (s *source) count(ctx context.Context, t *table) (int64, error) {
	var n int64
	err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(t.name)).Scan(&n)
	return n, err
}

// scanRow reads one row into values of the column types: int64, string,
// []byte or nil.
func scanRow(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return vals, nil
}

// checkTypes fails if a value is not of its column's type: the
// destination would store it differently, and the byte-for-byte checks
// could not hold.
func checkTypes(t *table, row []any) error {
	for i, v := range row {
		ok := v == nil
		switch v.(type) {
		case int64:
			ok = t.types[i] == colInt
		case string:
			ok = t.types[i] == colText
		case []byte:
			ok = t.types[i] == colBlob
		}
		if !ok {
			return fmt.Errorf("source %s.%s holds a %T, not a %s", t.name, t.cols[i], v, t.types[i].pgType())
		}
	}
	return nil
}
