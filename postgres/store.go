// Package postgres implements core.Store on PostgreSQL (15 or later) with
// github.com/jackc/pgx/v5, for running several usercenter nodes on one
// database. It behaves exactly as the SQLite store does: same schema (see
// migrations/0001_init.sql), same results, same errors.
//
// SQLite runs one write transaction at a time. Here concurrent Updates of
// a node are gathered into batches, each one READ COMMITTED transaction
// with one COMMIT, for the Updates whose Tx methods are as correct at
// that isolation as they would be at SERIALIZABLE (inserts that unique
// and foreign keys decide, reads of rows they lock); any other Update
// runs alone at SERIALIZABLE, which gives concurrent nodes the same
// one-at-a-time semantics, and is retried whole when PostgreSQL reports
// that it lost a race (serialization failure or deadlock). See Update.
// Reads
// outside Update are single statements on the pool, each consistent in
// itself; the few reads made of two statements run in one read-only
// snapshot.
//
// Times are BIGINT nanoseconds since the Unix epoch, as in SQLite, so that
// a time round-trips exactly and both engines order and compare alike.
//
// Statements are prepared implicitly: pgx caches each statement text per
// connection, so every query here is a constant text (or one of a bounded
// set) with its values as parameters.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"usercenter/core"
)

var _ core.Store = (*Store)(nil)

// Options tunes the connection pool and retries. Every zero value means
// its default.
type Options struct {
	// MaxConns is the most connections the pool opens. Default: the DSN's
	// pool_max_conns if it has one, else 4 per CPU and at least 8.
	MaxConns int32
	// MinConns is how many idle connections the pool keeps open. Default:
	// the DSN's pool_min_conns if it has one, else none.
	MinConns int32
	// ConnectTimeout bounds opening one connection. Default: the DSN's
	// connect_timeout if it has one, else 5 seconds.
	ConnectTimeout time.Duration
	// MaxRetries is how many times Update runs a transaction again after a
	// serialization failure or deadlock. Default 10; negative means never.
	MaxRetries int
	// Writers is how many batches of Updates run at once, each in a
	// transaction on a connection of its own (see Update). Default: a
	// quarter of MaxConns, at least 2.
	Writers int
	// ReadOnly opens the schema for reading only: Open applies no
	// migrations and fails with ErrNotMigrated unless the schema is at the
	// latest version, every session's transactions are read-only
	// (default_transaction_read_only), and Update fails with ErrReadOnly.
	ReadOnly bool
}

const (
	defaultConnectTimeout = 5 * time.Second
	defaultMaxRetries     = 10
	// cleanupTimeout bounds a ROLLBACK or an unlock, which run even when
	// the caller's ctx has ended, so that a dead server cannot hang them.
	cleanupTimeout = 5 * time.Second
)

// Store is a core.Store on a PostgreSQL database: the schema that the
// DSN's search_path selects (public by default).
type Store struct {
	reader // reads through the pool

	pool       *pgxpool.Pool
	schema     string
	maxRetries int
	keys       lockKeys
	applied    []int
	readOnly   bool

	closed    atomic.Bool
	closeOnce sync.Once

	reqs       chan *request // Updates waiting for a writer
	quit       chan struct{} // closed by Close: the writers stop
	writers    sync.WaitGroup
	beginBatch string // BEGIN of a batch's transaction, with the retry lock
	channel    string // the caches' invalidation channel (see InvalidationBus)
	// largestBatch is the most Updates a batch has held, for the tests.
	largestBatch atomic.Int64

	mu    sync.Mutex
	locks map[*heldLock]struct{} // TryLock sessions, closed by Close
}

// Open connects to the database of dsn (a postgres:// URL or a key=value
// string that pgx understands) and applies any migrations the schema
// lacks, one node at a time. Applied reports which ones that were.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: the DSN is not valid: " + parseProblem(err))
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else if !dsnSets(dsn, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.NumCPU()))
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	cfg.MinConns = min(cfg.MinConns, cfg.MaxConns)
	if opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	} else if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "usercenter"
	}
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, maxRetries: opts.MaxRetries, readOnly: opts.ReadOnly, locks: make(map[*heldLock]struct{})}
	switch {
	case s.maxRetries == 0:
		s.maxRetries = defaultMaxRetries
	case s.maxRetries < 0:
		s.maxRetries = 0
	}
	s.reader = reader{s: s}
	s.reader.bind()
	var schema *string // NULL when no schema of the search_path exists
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", mapErr(ctx, false, err))
	}
	if schema == nil {
		pool.Close()
		return nil, errors.New("postgres: the search_path names no schema that exists")
	}
	s.schema = *schema
	s.keys = newLockKeys(s.schema)
	s.channel = invalidationChannel(s.schema)
	s.beginBatch = fmt.Sprintf("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock_shared(%d)", s.keys.retry)
	if s.readOnly {
		err = s.checkSchema(ctx)
	} else {
		s.applied, err = s.migrate(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	if !s.readOnly {
		writers := opts.Writers
		if writers <= 0 {
			writers = max(2, int(cfg.MaxConns)/4)
		}
		s.startWriters(writers)
	}
	return s, nil
}

// parseProblem returns what pgx found wrong with a DSN, without the DSN,
// which pgx quotes with passwords hidden only on a best-effort basis.
func parseProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return msg[i+3:]
	}
	return "cannot parse it"
}

// dsnSets reports whether the connection string sets a parameter that
// pgconn does not know (pgxpool's own), which it keeps as a run-time one.
func dsnSets(dsn, param string) bool {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := cfg.RuntimeParams[param]
	return ok
}

// Applied returns the versions of the migrations that Open applied, in
// order; it is empty when the schema was already up to date.
func (s *Store) Applied() []int { return slices.Clone(s.applied) }

// Schema returns the name of the schema the store uses.
func (s *Store) Schema() string { return s.schema }

// fail maps an unexpected error of a statement outside Update.
func (s *Store) fail(ctx context.Context, err error) error {
	return mapErr(ctx, s.closed.Load(), err)
}

// Close stops accepting Updates and reads, releases the locks TryLock
// holds, waits for Updates under way to finish, and closes the pool.
// Later calls do nothing. Everything after Close fails with EUnavailable.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		held := make([]*heldLock, 0, len(s.locks))
		for l := range s.locks {
			held = append(held, l)
		}
		s.mu.Unlock()
		for _, l := range held {
			l.release()
		}
		s.stopWriters()
		// Waits for every acquired connection to come back, that is for
		// Updates and reads under way.
		s.pool.Close()
	})
	return nil
}

// lockKeys are the advisory lock keys of one schema. They are derived
// from the schema's name so that two usercenter schemas in one database
// never share a lock; the purpose is part of the hash so that the locks of
// one schema are distinct from each other.
type lockKeys struct {
	migrate int64 // held by the node applying migrations
	server  int64 // TryLock: shared by servers, exclusive for a rotation
	audit   int64 // orders audit event IDs by commit; see InsertAudit
	retry   int64 // taken by Updates that lost races repeatedly; see queueAfter
}

func newLockKeys(schema string) lockKeys {
	key := func(purpose string) int64 {
		h := fnv.New64a()
		h.Write([]byte("usercenter\x00" + purpose + "\x00" + schema))
		return int64(h.Sum64())
	}
	return lockKeys{migrate: key("migrate"), server: key("server"), audit: key("audit"), retry: key("retry")}
}
