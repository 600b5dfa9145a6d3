package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"usercenter/core"
	"usercenter/postgres"
	"usercenter/sqlite"
	"usercenter/storecache"
	"usercenter/vault"
)

// access is what a command may do to the instance it opens. A mistyped
// --db, --data or --master-key-file must never leave a new, empty instance
// behind (or a new master key beside an old database), so only the
// commands that set an instance up create anything.
type access int

const (
	// readOnly commands only look (app list, user get, audit…): they open
	// the database read-only, apply no migration and create nothing, and
	// fail when the database or the master key is not there.
	readOnly access = iota
	// readWrite commands change data in an instance that exists (key
	// create, user set…). They create nothing either: on a new database
	// every one of them could only fail after creating it.
	readWrite
	// create commands set an instance up (serve, migrate, app create):
	// they create the data directory, the master key and the database when
	// missing, apply migrations, and say what they created.
	create
)

func (f *storeFlags) keyPath() string {
	if f.masterKeyFile != "" {
		return f.masterKeyFile
	}
	return filepath.Join(f.data, "master.key")
}

// instance is an opened store with the service over it.
type instance struct {
	store database
	// cache is the store the service reads through.
	cache   *storecache.Store
	svc     *core.Service
	db      dbTarget
	keyPath string
	// created lists, for a person, what opening created.
	created    []string
	keyCreated bool
}

func (i *instance) Close() error { return i.store.Close() }

// withInstance opens the store, runs use with it and closes it again. A
// command calls it only once its arguments are known to be good, so that a
// usage error never creates anything.
func (f *storeFlags) withInstance(ctx context.Context, acc access, use func(*instance) error) error {
	return f.withInstanceOpts(ctx, acc, nil, use)
}

// withInstanceOpts is withInstance with options for the service.
func (f *storeFlags) withInstanceOpts(ctx context.Context, acc access, opts []core.Option, use func(*instance) error) error {
	inst, err := f.open(ctx, acc, opts...)
	if err != nil {
		return err
	}
	defer inst.Close()
	if f.notices != nil {
		for _, c := range inst.created {
			fmt.Fprintf(f.notices, "usercenter: %s\n", c)
		}
	}
	return use(inst)
}

// open opens the store and the vault as acc allows.
func (f *storeFlags) open(ctx context.Context, acc access, opts ...core.Option) (*instance, error) {
	target, err := f.target()
	if err != nil {
		return nil, err
	}
	if f.db == "" || f.masterKeyFile == "" {
		if err := checkDataDir(f.data); err != nil {
			return nil, err
		}
	}
	if acc == create {
		return f.openCreating(ctx, target, opts...)
	}
	if err := f.databaseThere(target); err != nil {
		return nil, err
	}
	// The read-only open checks, without changing anything, that the
	// database is this program's; only then may a write open follow.
	store, err := f.openReadOnly(ctx, target)
	if err != nil {
		return nil, err
	}
	if acc == readWrite {
		store.Close()
		if store, err = f.openDB(ctx, target); err != nil {
			return nil, err
		}
	}
	keys, err := vault.ReadKeyFile(f.keyPath())
	if errors.Is(err, fs.ErrNotExist) {
		err = f.noKey()
	}
	var ring *vault.Keyring
	if err == nil {
		ring, err = vault.New(keys...)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	return f.newService(ctx, store, ring, &instance{db: target, keyPath: f.keyPath()}, opts...)
}

// checkDataDir refuses a data directory that others than its owner may
// write to (mode 0775, 0777, or 1777 like /tmp): they could replace the
// database or the master key, or plant a link where one is created.
// A missing directory is created later, mode 0700.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("the data directory %s is not a directory: check --data or USERCENTER_DATA", dir)
	}
	mode := fi.Mode()
	if mode.Perm()&0o022 == 0 {
		return nil
	}
	if mode&fs.ModeSticky != 0 {
		return fmt.Errorf("the data directory %s is shared, writable by everyone (mode %v, like /tmp): give usercenter a directory of its own, for example: mkdir -m 700 %s", dir, mode, filepath.Join(dir, "usercenter"))
	}
	return fmt.Errorf("the data directory %s is writable by others than its owner (mode %v), who could replace the database or the master key; fix it with: chmod 700 %s", dir, mode.Perm(), dir)
}

// openCreating opens the store and the vault, creating what is missing.
func (f *storeFlags) openCreating(ctx context.Context, target dbTarget, opts ...core.Option) (*instance, error) {
	inst := &instance{db: target, keyPath: f.keyPath()}
	if f.masterKeyFile == "" {
		if _, err := os.Stat(f.data); errors.Is(err, fs.ErrNotExist) {
			inst.created = append(inst.created, "created the data directory "+f.data)
		}
		if err := os.MkdirAll(f.data, 0o700); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(f.keyPath()); errors.Is(err, fs.ErrNotExist) {
		// A new key opens only a new database: next to an existing one
		// the key file was mistyped, or lost.
		if f.databaseIsThere(ctx, target) {
			return nil, fmt.Errorf("there is no master key file at %s, and a new one would not open the database %s, which exists: check --master-key-file or --data", f.keyPath(), target)
		}
	}
	ring, created, err := vault.LoadFile(f.keyPath(), true)
	if err != nil {
		return nil, err
	}
	if created {
		inst.keyCreated = true
		inst.created = append(inst.created, fmt.Sprintf("created the master key %s (mode 0600): back it up, nothing stored can be read without it", f.keyPath()))
	}
	newDB := false
	if target.engine == engineSQLite {
		_, err := os.Stat(target.path)
		newDB = errors.Is(err, fs.ErrNotExist)
	}
	store, err := f.openDB(ctx, target)
	if err != nil {
		return nil, err
	}
	switch applied := store.Applied(); {
	case newDB:
		inst.created = append(inst.created, "created the database "+target.String())
	case len(applied) > 0 && applied[0] == 1:
		inst.created = append(inst.created, "created the usercenter tables in the database "+target.String())
	case len(applied) > 0:
		inst.created = append(inst.created, fmt.Sprintf("applied the migrations %v to the database %s", applied, target))
	}
	return f.newService(ctx, store, ring, inst, opts...)
}

// newService builds the service over an opened store, closing the store
// when that fails.
func (f *storeFlags) newService(ctx context.Context, store database, ring *vault.Keyring, inst *instance, opts ...core.Option) (*instance, error) {
	// The service reads through the caches of storecache; every write goes
	// through them too, so this process reads its own writes at once. Every
	// process, a command as well as a server, publishes what its writes
	// change on the database's invalidation bus, so that servers hearing it
	// keep entries for serve's --cache-ttl (see listenForInvalidations):
	// on PostgreSQL the schema's LISTEN/NOTIFY channel, on SQLite the
	// table cache_invalidations, appended to in the write's own
	// transaction and polled by serve.
	var under core.Store = store
	if f.wrapStore != nil {
		under = f.wrapStore(store)
	}
	cache := storecache.New(under, f.cacheLimits)
	switch st := store.(type) {
	case *postgres.Store:
		cache.UseBus(st.InvalidationBus(), f.cacheTTL)
	case *sqlite.Store:
		cache.UseBus(storecache.PollLog(st.InvalidationBus(), storecache.LogPollInterval), f.cacheTTL)
	}
	svc, err := core.NewService(ctx, cache, ring, opts...)
	if err != nil {
		store.Close()
		switch {
		case errors.Is(err, core.ErrWrongMasterKey):
			return nil, fmt.Errorf("%w; the key file is %s", err, f.keyPath())
		case errors.Is(err, sqlite.ErrReadOnly), errors.Is(err, postgres.ErrReadOnly):
			// The service writes its instance secrets on the first open
			// only: this database has tables but was never used.
			return nil, fmt.Errorf("the database %s has never been opened with a master key: set it up with usercenter migrate or usercenter serve", inst.db)
		}
		return nil, err
	}
	inst.store, inst.cache, inst.svc = store, cache, svc
	return inst, nil
}

// openReadOnly opens an existing database without writing to it.
func (f *storeFlags) openReadOnly(ctx context.Context, t dbTarget) (database, error) {
	var (
		s   database
		err error
	)
	switch t.engine {
	case enginePostgres:
		opts := f.pool
		opts.ReadOnly = true
		s, err = postgres.Open(ctx, t.dsn, opts)
	default:
		s, err = sqlite.OpenReadOnly(ctx, t.path)
	}
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, f.noDatabase(t)
	case errors.Is(err, sqlite.ErrNotMigrated), errors.Is(err, postgres.ErrNotMigrated):
		return nil, fmt.Errorf("opening database %s: %w; set it up with usercenter migrate", t, err)
	}
	return nil, fmt.Errorf("opening database %s: %w%s", t, err, authHint(err))
}

// databaseIsThere reports whether the database holds an instance: a
// SQLite file with anything in it, or a PostgreSQL schema with the tables.
func (f *storeFlags) databaseIsThere(ctx context.Context, t dbTarget) bool {
	if t.engine == engineSQLite {
		fi, err := os.Stat(t.path)
		return err == nil && fi.Size() > 0
	}
	opts := f.pool
	opts.ReadOnly = true
	s, err := postgres.Open(ctx, t.dsn, opts)
	if err != nil {
		return false
	}
	s.Close()
	return true
}

// databaseThere fails with a message for a person when the SQLite
// database is not there. A PostgreSQL database is checked by opening it.
func (f *storeFlags) databaseThere(t dbTarget) error {
	if t.engine != engineSQLite {
		return nil
	}
	_, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return f.noDatabase(t)
	}
	return err
}

// noDatabase says that the SQLite database is missing, and which setting
// to check.
func (f *storeFlags) noDatabase(t dbTarget) error {
	if f.db == "" {
		if _, err := os.Stat(f.data); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("there is no data directory %s (with the database usercenter.db): check --data or USERCENTER_DATA; usercenter serve, migrate or app create set up a new instance", f.data)
		}
		return fmt.Errorf("there is no database at %s: check --data or USERCENTER_DATA; usercenter serve, migrate or app create set up a new instance", t)
	}
	return fmt.Errorf("there is no database at %s: check --db or USERCENTER_DB; usercenter serve, migrate or app create set up a new instance", t)
}

// noKey says that the master key file is missing, and which setting to
// check. A new key would not open the database, so none is made.
func (f *storeFlags) noKey() error {
	if f.masterKeyFile == "" {
		return fmt.Errorf("there is no master key file at %s: check --data or --master-key-file (USERCENTER_MASTER_KEY_FILE)", f.keyPath())
	}
	return fmt.Errorf("there is no master key file at %s: check --master-key-file or USERCENTER_MASTER_KEY_FILE", f.keyPath())
}
