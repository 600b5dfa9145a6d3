package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

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
	// SQLite creates the WAL and its index (-wal, -shm) to read a WAL
	// database, and a read-only connection cannot remove them on its way
	// out as the last writer does. If they are not there yet, Close
	// removes them when it can tell that no one else uses them.
	leftovers := !exists(abs+"-wal") && !exists(abs+"-shm")
	rdb, err := sql.Open("sqlite", dsn(abs, []string{"busy_timeout(5000)", "foreign_keys(1)", "query_only(1)"}, "mode=ro"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	openedHere(abs)
	fail := func(err error) (*Store, error) {
		closedHere(abs, rdb.Close() == nil && leftovers)
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
	s.roCleanup, s.path = leftovers, abs
	close(s.writerDone)
	s.rstmts = newStmts(rdb.PrepareContext)
	s.reader = reader{s: s, run: runner{stmts: s.rstmts}}
	s.reader.bind()
	for _, q := range readQueries {
		if _, err := s.rstmts.get(ctx, q); err != nil {
			s.rstmts.close()
			return fail(fmt.Errorf("sqlite: prepare %q: %w", q, err))
		}
	}
	return s, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// SQLite's locks on the database file (os_unix.c): every open connection
// holds a read lock on the shared range for as long as it is open in WAL
// mode, so a write lock on it proves there is none, in any process.
const (
	sqliteSharedFirst = 0x40000000 + 2
	sqliteSharedSize  = 510
)

// openHere counts the stores of this process open on each database file:
// a lock that this process takes on the file cannot tell them apart.
var openHere = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func openedHere(path string) {
	openHere.Lock()
	openHere.n[path]++
	openHere.Unlock()
}

// closedHere counts a store of path closed, and with cleanup removes the
// WAL files its read-only open created, unless another store still has
// the database open. It holds openHere meanwhile, so that none opens it.
func closedHere(path string, cleanup bool) {
	openHere.Lock()
	defer openHere.Unlock()
	if openHere.n[path]--; openHere.n[path] > 0 {
		return
	}
	delete(openHere.n, path)
	if cleanup {
		removeLeftovers(path)
	}
}

// removeLeftovers removes the empty WAL and its index that a read-only
// open created, unless another connection has opened the database since:
// its WAL may hold commits, and its index is in use. Any doubt leaves them.
// Another store of this process must not have it open: closing f releases
// every lock this process holds on the file, that store's included.
func removeLeftovers(path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close() // releases the lock
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart, Start: sqliteSharedFirst, Len: sqliteSharedSize}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lock); err != nil {
		return
	}
	if fi, err := os.Lstat(path + "-wal"); err != nil || fi.Size() != 0 {
		return
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
}
