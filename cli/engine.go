package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"usercenter/core"
	"usercenter/postgres"
	"usercenter/sqlite"
	"usercenter/storecache"
)

// database is an opened store of either engine.
type database interface {
	core.Store
	// Applied lists the migrations that opening the store applied.
	Applied() []int
	SchemaVersion(ctx context.Context) (int, error)
}

// Engines.
const (
	engineSQLite   = "sqlite"
	enginePostgres = "postgres"
)

// dbTarget is where the database lives, parsed from --db.
type dbTarget struct {
	engine string
	path   string // SQLite: the file
	dsn    string // PostgreSQL: the connection string, password included
}

// String names the database for messages and logs; it never shows a
// password.
func (t dbTarget) String() string {
	if t.engine == enginePostgres {
		return redactDSN(t.dsn)
	}
	return t.path
}

// storeFlags are the flags every command that opens the store takes.
type storeFlags struct {
	db, data, masterKeyFile string
	pool                    postgres.Options
	// notices is where withInstance says what opening created.
	notices io.Writer
	// wrapStore, when set, wraps the store the service uses, beneath its
	// caches (serve's tracing).
	wrapStore func(core.Store) core.Store
	// cacheTTL is how long the caches keep entries while the invalidation
	// channel is up (serve's --cache-ttl); commands that do not serve
	// only publish on it.
	cacheTTL time.Duration
	// cacheLimits bound the caches (serve's --cache-mib); zero fields
	// take storecache.DefaultLimits.
	cacheLimits storecache.Limits
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "data directory: the default home of the database and the master key")
	fs.StringVar(&f.db, "db", "", "database: sqlite:PATH, a plain PATH, or postgres://USER:PASSWORD@HOST:PORT/DB (default DATA/usercenter.db)")
	fs.StringVar(&f.masterKeyFile, "master-key-file", "", "master key file (default DATA/master.key; serve, migrate and app create create it when missing)")
	fs.Func("db-max-conns", "PostgreSQL: the most connections this process opens (default 4 per CPU, at least 8)", func(s string) error {
		n, err := parsePositive(s, 1000)
		f.pool.MaxConns = int32(n)
		return err
	})
	fs.DurationVar(&f.pool.ConnectTimeout, "db-connect-timeout", 5*time.Second, "PostgreSQL: how long to wait for a new connection")
}

func parsePositive(s string, limit int) (int, error) {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || n < 1 || n > limit {
		return 0, fmt.Errorf("must be a whole number from 1 to %d", limit)
	}
	return n, nil
}

// target parses --db.
func (f *storeFlags) target() (dbTarget, error) {
	dsn := f.db
	switch {
	case dsn == "":
		return dbTarget{engine: engineSQLite, path: filepath.Join(f.data, "usercenter.db")}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return dbTarget{}, errors.New("the database DSN sqlite: needs a path, as in sqlite:./data/usercenter.db")
		}
		return dbTarget{engine: engineSQLite, path: path}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return dbTarget{engine: enginePostgres, dsn: dsn}, nil
	case strings.Contains(dsn, "://"):
		return dbTarget{}, fmt.Errorf("unsupported database DSN scheme in %q: use sqlite:PATH or postgres://…", redactDSN(dsn))
	}
	return dbTarget{engine: engineSQLite, path: dsn}, nil
}

// redactDSN hides a password that a DSN may carry, in its user info or as
// a password= parameter.
func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		if scheme := strings.Index(dsn, "://"); scheme >= 0 && scheme < at {
			dsn = dsn[:scheme+3] + "…" + dsn[at:]
		}
	}
	if i := strings.Index(dsn, "password="); i >= 0 {
		end := strings.IndexByte(dsn[i:], '&')
		if end < 0 {
			end = len(dsn) - i
		}
		dsn = dsn[:i] + "password=…" + dsn[i+end:]
	}
	return dsn
}

// openDB opens the store of either engine, applying missing migrations.
func (f *storeFlags) openDB(ctx context.Context, t dbTarget) (database, error) {
	switch t.engine {
	case enginePostgres:
		s, err := postgres.Open(ctx, t.dsn, f.pool)
		if err != nil {
			return nil, fmt.Errorf("opening database %s: %w%s", t, err, authHint(err))
		}
		return s, nil
	default:
		s, err := sqlite.Open(ctx, t.path)
		if err != nil {
			return nil, fmt.Errorf("opening database %s: %w", t, err)
		}
		return s, nil
	}
}

// authHint is what to check when PostgreSQL refused the user of --db.
func authHint(err error) string {
	if postgres.AuthFailed(err) {
		return "; check the user name and password in --db (USERCENTER_DB)"
	}
	return ""
}

// errLocked means another process holds the database's lock in a
// conflicting mode.
var errLocked = errors.New("locked")

// lockDatabase takes, without waiting, the lock that a server holds for
// as long as it runs and a master-key rotation needs alone. SQLite's is a
// flock on a file beside the database, held exclusively by servers too:
// one SQLite database serves one process. PostgreSQL's is an advisory
// lock held by a session, shared by the servers (every node of a
// cluster) and exclusive for a rotation, so that it also covers servers
// on other machines. Either is released when its process dies, even by
// kill -9.
//
// A server's PostgreSQL lock is watched: it is taken again after the
// database restarts, and if a rotation took it meanwhile lost is called
// (see postgres.HoldServerLock). lost may be nil for a rotation.
//
// A lock held elsewhere fails with errLocked, which for SQLite names its
// holder (see lockHolder). The returned function releases the lock and may
// be called more than once. Call it before closing the store: PostgreSQL's
// lock holds one of the store's connections, and closing waits for it.
func lockDatabase(ctx context.Context, t dbTarget, db database, exclusive bool, lost func(error)) (func(), error) {
	var (
		release func()
		err     error
	)
	if pg, ok := db.(*postgres.Store); ok {
		if exclusive {
			release, err = pg.TryLock(ctx, true)
		} else {
			release, err = pg.HoldServerLock(ctx, lost)
		}
		if errors.Is(err, postgres.ErrLocked) {
			return nil, errLocked
		}
	} else {
		holder := holderServer
		if exclusive {
			holder = holderRotation
		}
		release, err = lockFile(t.path, holder)
	}
	if err != nil {
		return nil, err
	}
	return sync.OnceFunc(release), nil
}

// databaseExists reports whether there is a database to work on. A
// PostgreSQL database is always taken to exist: opening it says otherwise.
func databaseExists(t dbTarget) error {
	if t.engine != engineSQLite {
		return nil
	}
	if _, err := os.Stat(t.path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("there is no database at %s: nothing to rotate", t)
		}
		return err
	}
	return nil
}
