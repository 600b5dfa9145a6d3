// Package datamove copies a usercenter instance from its SQLite database
// into a PostgreSQL one, row by row and byte for byte, and then proves that
// the copy matches.
//
// It moves raw rows rather than going through core.Service: sealed values
// (secrets, phone numbers, emails, addresses) and blind indexes are copied
// as they are and stay valid, because their associated data names only the
// row (user ID, SdkAppId, SecretId, meta name), never the engine, and the
// same master key and the same blind index key (a meta row) come along.
//
// A move can be run again at any time, and after an interruption it simply
// goes on: each batch of rows is its own transaction, rows already there
// and unchanged are left alone, rows changed in the source since the last
// run are updated, and rows the source has deleted since are removed. So
// the delta written by a server during a first, long run is brought over
// by a second, short one with the server stopped.
//
// What it will not do is write into a database that is not a copy of this
// source, or that a server is using: see the checks in checkDestination.
package datamove

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"usercenter/postgres"
	"usercenter/vault"
)

// Defaults of Options.
const (
	DefaultBatch  = 5000
	DefaultSample = 1000
	MaxBatch      = 50000
)

// Options tune a move. Zero values mean the defaults.
type Options struct {
	// Batch is how many rows go into one destination transaction.
	Batch int
	// Sample is how many rows of each table, drawn at random from the
	// source, Verify compares column by column.
	Sample int
	// Keyring, when set, must be the instance's master key: verification
	// then also decrypts a sample of the copied values in the destination.
	Keyring *vault.Keyring
	// Postgres tunes the destination store that applies migrations and
	// holds the lock.
	Postgres postgres.Options
	// Progress, when set, is called after every batch and once when each
	// table is done, from the goroutine that called Migrate.
	Progress func(Progress)
}

// Progress reports how far the copy of one table has come.
type Progress struct {
	Table    string
	Done     int64 // source rows handled so far
	Total    int64 // source rows of the table
	Elapsed  time.Duration
	Finished bool
}

// RowsPerSecond is the rate so far.
func (p Progress) RowsPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// TableReport is what happened to one table.
type TableReport struct {
	Table         string
	Source        int64 // rows in the source snapshot
	Inserted      int64 // rows new to the destination
	Updated       int64 // rows the destination had with other values
	Unchanged     int64 // rows the destination already had as they are
	Removed       int64 // destination rows the source has deleted since an earlier run
	Destination   int64 // rows in the destination afterwards
	Sampled       int   // rows compared column by column
	Seconds       float64
	RowsPerSecond float64
}

// DecryptReport counts the sealed values opened in the destination with
// the master key.
type DecryptReport struct {
	Apps  int // SuperApp secrets
	Keys  int // API key secrets, revoked keys' included
	Users int // users whose phone, email and address all opened
}

// Report is the outcome of a move.
type Report struct {
	Tables    []TableReport
	Copied    int64 // rows inserted or updated, over all tables
	Seconds   float64
	Decrypted *DecryptReport `json:",omitempty"` // nil without a keyring
	// AuditNextID is the smallest ID the destination will give its next
	// audit event.
	AuditNextID int64
	Verified    bool
	Problems    []string // why verification failed
}

// ErrRefused wraps the reasons a move will not start; nothing was written.
var ErrRefused = errors.New("refused")

// ErrMismatch means the copy was made but verification found differences.
var ErrMismatch = errors.New("the destination does not match the source")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s; nothing was written", ErrRefused, fmt.Sprintf(format, args...))
}

// mover is one run.
type mover struct {
	opts   Options
	src    *source
	store  *postgres.Store
	dst    *pgx.Conn
	tables []*table
	counts map[string]int64 // source rows per table, in the snapshot
}

// Migrate copies the SQLite database at sourcePath into the PostgreSQL
// database of dsn, then verifies the copy. The report is returned also
// with ErrMismatch; with any other error it may be partial.
func Migrate(ctx context.Context, sourcePath, dsn string, opts Options) (*Report, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Batch > MaxBatch {
		return nil, fmt.Errorf("the batch size may be at most %d", MaxBatch)
	}
	if opts.Sample <= 0 {
		opts.Sample = DefaultSample
	}
	start := time.Now()

	src, err := openSource(ctx, sourcePath, opts.Keyring)
	if err != nil {
		return nil, err
	}
	defer src.Close()

	store, err := postgres.Open(ctx, dsn, opts.Postgres)
	if err != nil {
		return nil, fmt.Errorf("opening the destination: %w", err)
	}
	defer store.Close()
	unlock, err := store.TryLock(ctx, true)
	if errors.Is(err, postgres.ErrLocked) {
		return nil, refuse("a usercenter server is running on the destination; stop it (the destination must not be in use until the move is done)")
	}
	if err != nil {
		return nil, fmt.Errorf("locking the destination: %w", err)
	}
	// Released before the store closes: the lock holds one of its
	// connections.
	defer unlock()

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("the destination DSN is not valid") // pgx's message may quote the password
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "usercenter migrate-data"
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	dst, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("connecting to the destination: %w", err)
	}
	defer dst.Close(context.WithoutCancel(ctx))

	m := &mover{opts: opts, src: src, store: store, dst: dst, counts: map[string]int64{}}
	if m.tables, err = discover(ctx, src.tx, dst); err != nil {
		return nil, err
	}
	for _, t := range m.tables {
		if m.counts[t.name], err = src.count(ctx, t); err != nil {
			return nil, fmt.Errorf("counting the source's %s: %w", t.name, err)
		}
	}
	if err := m.checkDestination(ctx); err != nil {
		return nil, err
	}

	rep := &Report{}
	reports := map[string]*TableReport{}
	for _, t := range m.tables {
		rep.Tables = append(rep.Tables, TableReport{Table: t.name, Source: m.counts[t.name]})
	}
	for i := range rep.Tables {
		reports[rep.Tables[i].Table] = &rep.Tables[i]
	}
	if err := m.prune(ctx, reports); err != nil {
		return rep, err
	}
	for _, t := range m.tables {
		if err := m.copyTable(ctx, t, reports[t.name]); err != nil {
			return rep, err
		}
		rep.Copied += reports[t.name].Inserted + reports[t.name].Updated
	}
	if rep.AuditNextID, err = m.advanceIDs(ctx, "audit_events"); err != nil {
		return rep, err
	}
	if _, err = m.advanceIDs(ctx, "events"); err != nil {
		return rep, err
	}
	if _, err = m.advanceIDs(ctx, "webhook_deliveries"); err != nil {
		return rep, err
	}
	if testHookBeforeVerify != nil {
		if err := testHookBeforeVerify(ctx, dst); err != nil {
			return rep, err
		}
	}
	if err := m.verify(ctx, rep, reports); err != nil {
		return rep, err
	}
	rep.Seconds = time.Since(start).Seconds()
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%w: %d %s", ErrMismatch, len(rep.Problems), plural(len(rep.Problems), "problem", "problems"))
	}
	rep.Verified = true
	return rep, nil
}

// testHookBeforeVerify lets tests damage the copy that verify then checks.
var testHookBeforeVerify func(ctx context.Context, dst *pgx.Conn) error

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (m *mover) table(name string) *table {
	for _, t := range m.tables {
		if t.name == name {
			return t
		}
	}
	panic("datamove: no table " + name)
}

// advanceIDs moves the destination's ID sequence of table (audit_events,
// events or webhook_deliveries) past every ID the source has handed out, deleted events'
// included (SQLite's AUTOINCREMENT remembers those in sqlite_sequence),
// so that new events sort after the copied ones and no ID is used twice.
// It returns the next ID the destination will hand out.
func (m *mover) advanceIDs(ctx context.Context, table string) (int64, error) {
	var srcSeq int64
	err := m.src.tx.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, table).Scan(&srcSeq)
	if err != nil && !isNoRows(err) {
		return 0, fmt.Errorf("reading the source's %s ID sequence: %w", table, err)
	}
	var next int64
	// table is one of three constants, never input.
	err = m.dst.QueryRow(ctx, `
		WITH s AS (SELECT pg_get_serial_sequence('`+table+`', 'id') AS name),
		v AS (SELECT GREATEST($1::bigint,
				(SELECT COALESCE(max(id), 0) FROM `+table+`),
				(SELECT COALESCE(pg_sequence_last_value(name::regclass), 0) FROM s)) AS last)
		SELECT CASE WHEN last > 0 THEN setval((SELECT name FROM s), last, true) + 1 ELSE 1 END FROM v`, srcSeq).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("advancing the destination's %s ID sequence: %w", table, err)
	}
	return next, nil
}
