// Package sqlite implements core.Store on a single SQLite file with the pure
// Go driver modernc.org/sqlite.
//
// SQLite allows one writer at a time. Rather than let goroutines fight over
// the write lock (and see SQLITE_BUSY), every Update goes to one writer
// goroutine that owns the only write connection. It commits whatever
// Updates have queued up in one transaction (group commit), so the cost of
// the fsync that makes a commit durable is shared by the whole batch, while
// savepoints keep each Update's success or failure its own. Reads go to a
// separate pool of read-only connections, which WAL mode lets run alongside
// the writer.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch and come
// back in UTC; see migrations/0001_init.sql. Phone numbers, emails and
// addresses are stored only as the vault ciphertext and blind indexes the
// Service hands over; see migrations/0002_profile_links_audit.sql.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"usercenter/core"
	"usercenter/sqlstore"
)

var _ core.Store = (*Store)(nil)

const (
	// maxBatch bounds how many Updates share one commit, so one slow batch
	// cannot hold every queued caller hostage.
	maxBatch = 128
	// queueLen is how many Updates may wait for the writer before Update
	// blocks its caller.
	queueLen = 1024
)

// Store is a core.Store backed by one SQLite database file.
type Store struct {
	reader // reads through the read pool

	rdb    *sql.DB   // read-only pool
	rstmts *stmts    // prepared on rdb
	wdb    *sql.DB   // holds the single write connection, wconn
	wconn  *sql.Conn // used only by Open and then the writer goroutine
	wstmts *stmts    // prepared on wconn
	ckpt   *checkpointer

	applied []int
	// readOnly is set by OpenReadOnly: there is no writer, and Update fails.
	readOnly bool
	// roCleanup says that Close removes the WAL files that the read-only
	// open created.
	roCleanup bool
	// path is the database file, absolute.
	path string

	// mu orders Update's send on reqs against Close's close(reqs): Update
	// holds it shared while sending, Close exclusively while closing.
	mu         sync.RWMutex
	closed     atomic.Bool
	reqs       chan *request
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// request is one Update waiting for the writer.
type request struct {
	ctx  context.Context
	fn   func(core.Tx) error
	done chan error // buffered, so the writer never waits for the caller
}

// Open opens the database at path, creating it and its directory if needed,
// and applies any migrations it lacks. Applied reports which ones that were.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// SQLite would create the file world-readable; it holds sealed secrets
	// and personal data, so create it private first. SQLite gives the WAL
	// and shared-memory files the same mode as the database.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f.Close()

	// synchronous=FULL fsyncs the WAL at every commit: an acknowledged
	// Update survives a crash of the process and of the machine.
	common := []string{"busy_timeout(5000)", "foreign_keys(1)", "synchronous(FULL)"}
	wdb, err := sql.Open("sqlite", dsn(abs, slices.Concat(common, writerPragmas), "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// One connection, kept open: the writer goroutine is the only writer,
	// so nothing ever waits on SQLite's write lock inside this process.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)

	// Read connections are only made once the writer has switched the file
	// to WAL, which is persistent, so readers need not (and, being
	// query_only, could not) set it.
	rdb, err := sql.Open("sqlite", dsn(abs, slices.Concat(common, []string{"query_only(1)"})))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)

	s := &Store{
		path:       abs,
		rdb:        rdb,
		wdb:        wdb,
		reqs:       make(chan *request, queueLen),
		writerDone: make(chan struct{}),
	}
	s.rstmts = newStmts(rdb.PrepareContext)
	s.reader = reader{s: s, run: runner{stmts: s.rstmts}}
	s.reader.bind()

	fail := func(err error) (*Store, error) {
		rdb.Close()
		wdb.Close()
		if sqliteCode(err) == sqlite3.SQLITE_IOERR_SHMSIZE {
			err = fmt.Errorf("%w: SQLite cannot make room for %s-shm, the index of its WAL, which it needs to read: is the disk full? Free some space and start again", err, abs)
		}
		return nil, err
	}
	if err := s.checkWAL(ctx); err != nil {
		return fail(err)
	}
	if s.applied, err = s.migrate(ctx); err != nil {
		return fail(err)
	}
	for _, q := range readQueries {
		if _, err := s.rstmts.get(ctx, q); err != nil {
			return fail(fmt.Errorf("sqlite: prepare %q: %w", q, err))
		}
	}
	// The writer keeps its connection for good, rather than borrowing it
	// from wdb per batch, so that statements prepared on it stay prepared.
	if s.wconn, err = wdb.Conn(ctx); err != nil {
		return fail(fmt.Errorf("sqlite: %w", err))
	}
	if err := keepWALFiles(s.wconn); err != nil {
		s.wconn.Close()
		return fail(err)
	}
	s.wstmts = newStmts(s.wconn.PrepareContext)
	cdb, err := sql.Open("sqlite", dsn(abs, common))
	if err != nil {
		s.wconn.Close()
		return fail(fmt.Errorf("sqlite: %w", err))
	}
	s.ckpt = newCheckpointer(cdb)
	openedHere(abs)
	go s.writeLoop()
	return s, nil
}

// keepWALFiles tells SQLite to keep the WAL and its index (-wal, -shm)
// when the writer connection, the last to close, has checkpointed the WAL
// into the database: it removes them otherwise. Every connection needs
// the index to read a WAL database, and SQLite creates it at the first
// open, 32 KiB at least: on a full disk it cannot (SQLITE_IOERR_SHMSIZE),
// and a server started again there could not even read. An index that was
// kept is only truncated and grown back into the pages it frees, so a
// server started again on a full disk, after a clean stop or a crash,
// serves reads while its writes fail as unavailable. Close empties the
// WAL, which then takes no space.
func keepWALFiles(c *sql.Conn) error {
	err := c.Raw(func(dc any) error {
		fc, ok := dc.(msqlite.FileControl)
		if !ok {
			return fmt.Errorf("the driver's connection %T has no file controls", dc)
		}
		_, err := fc.FileControlPersistWAL("main", 1)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: keeping the WAL files: %w", err)
	}
	return nil
}

// writerPragmas are the writer connection's own settings.
//
//   - temp_store(MEMORY) keeps statement and savepoint journals in memory.
//     Otherwise SQLite writes one to a temporary file once it passes
//     64 KiB, which the multi-row INSERTs of a bulk import do (and
//     savepoints did, when every Update had one): with neither this nor
//     the cache below, an imported user cost 54 µs of the writer's time
//     and 46 KiB written instead of 40 µs and 21 KiB
//     (BenchmarkInsertUsers).
//   - cache_size(-16384), a page cache of 16 MiB (the default is 2 MiB),
//     holds the pages a bulk import changes: the blind indexes of phones
//     and emails take their entries at random places, so a 1,000-user
//     import changes a page of each per user, and with a small cache
//     SQLite spills them to the WAL before the commit and reads them back
//     (an import into 200,000 users: 44 µs a user with 2 MiB, 40 with
//     64 MiB). The memory is taken only as pages are read, and only by
//     this one connection. Not more: each cached page costs twice its
//     size, since modernc.org/memory rounds a page and its header (4 KiB
//     and about 200 bytes) up to an 8 KiB slot, so 64 MiB took about
//     150 MB of the server's RSS (docs/performance.md, "SQLite's page
//     caches"), while at 10 M users even four times the cache saved only
//     8 % of an import's CPU.
//   - wal_autocheckpoint: see checkpoint.go.
//
// No page_size: the driver runs a DSN's _pragma values in alphabetical
// order, so one here would run after journal_mode(WAL) has fixed the page
// size and be ignored without an error. Nor would smaller pages pay: at a
// simulated 10 M users, 1 KiB pages did not make an import cheaper, since
// a random index page costs its system calls whatever its size
// (docs/performance.md, "10 M users, SQLite").
var writerPragmas = []string{"journal_mode(WAL)", "temp_store(MEMORY)", "cache_size(-16384)",
	fmt.Sprintf("wal_autocheckpoint(%d)", checkpointBackstop)}

// dsn builds a modernc.org/sqlite data source name. The path goes through
// url.URL so that '?', '#' and '%' in it are escaped rather than parsed as
// part of the query.
func dsn(path string, pragmas []string, extra ...string) string {
	q := make([]string, 0, len(pragmas)+len(extra))
	for _, p := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(p))
	}
	q = append(q, extra...)
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	return u.String() + "?" + strings.Join(q, "&")
}

// checkWAL fails Open if SQLite silently kept another journal mode (it
// does on file systems without shared memory), since readers would then
// block the writer.
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite: journal_mode is %q, not wal", mode)
	}
	return nil
}

// Applied returns the versions of the migrations that Open applied, in
// order; it is empty when the database was already up to date.
func (s *Store) Applied() []int { return slices.Clone(s.applied) }

// Update queues fn for the writer and waits until its transaction has been
// committed or rolled back. fn runs on the writer goroutine, possibly in the
// same SQLite transaction as other Updates but inside its own savepoint, so
// an error or panic from fn undoes only fn's writes. fn must not call
// Update itself (the writer would wait for itself) nor keep the Tx after it
// returns.
//
// Once fn has been queued Update waits for the outcome even if ctx ends, so
// that a nil error always means committed and a non-nil one means not: a
// canceled ctx makes the writer skip fn if it has not started, and makes
// fn's further Tx calls fail.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return sqlstore.ErrClosed()
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-r.done
}

// Close stops accepting Updates, lets the writer finish those already
// queued, then closes both connection pools. Later calls return the same
// result. Updates and reads after Close fail with EUnavailable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.readOnly {
			s.closed.Store(true)
			s.rstmts.close()
			s.closeErr = s.rdb.Close()
			closedHere(s.path, s.closeErr == nil && s.roCleanup)
			return
		}
		s.mu.Lock()
		s.closed.Store(true)
		close(s.reqs)
		s.mu.Unlock()
		<-s.writerDone
		ckptErr := s.ckpt.close()
		s.rstmts.close()
		s.wstmts.close()
		rdbErr := s.rdb.Close()
		// The writer connection closes last: as the last connection it
		// checkpoints the WAL into the database file, and then empties the
		// WAL (see keepWALFiles). But it is not the last while another
		// process has the database open (events tail, which may run for
		// days, or any reading command), and then SQLite leaves the
		// commits not yet copied in the WAL: so it checkpoints them itself
		// first, which waits (busy_timeout) for that process's reads under
		// way, and empties the WAL. An error here leaves the WAL as it is,
		// which is what a crash leaves: nothing to report.
		_, _ = s.wconn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
		_, _ = s.wconn.ExecContext(context.Background(), "PRAGMA journal_size_limit=0")
		s.closeErr = errors.Join(ckptErr, rdbErr, s.wconn.Close(), s.wdb.Close())
		closedHere(s.path, false)
	})
	return s.closeErr
}
