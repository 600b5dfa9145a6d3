package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"usercenter/sqlstore"
)

// The migrations of this engine, numbered on their own: version 1 here is
// the whole of SQLite's versions 1 to 3.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations the schema lacks, each in its own
// transaction, and returns their versions.
//
// Nodes that start together would otherwise race to create the same
// tables, so the whole check-and-apply runs under a session advisory lock
// of the schema, on one connection: the first node applies, the others
// wait for it and then find nothing to do. A session lock rather than a
// transaction's lets each migration commit on its own.
func (s *Store) migrate(ctx context.Context) (applied []int, err error) {
	ms, err := sqlstore.Migrations("postgres", migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", mapErr(ctx, false, err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, s.keys.migrate); err != nil {
		// The wait may have been cut short just as the lock was granted;
		// closing the session makes sure it goes back to the pool without.
		closeConn(conn)
		if ctx.Err() == nil {
			err = fmt.Errorf("postgres: waiting for the migration lock: %w", err)
		}
		return nil, fmt.Errorf("postgres: %w", mapErr(ctx, false, err))
	}
	defer func() {
		if uerr := unlockOrClose(conn, `SELECT pg_advisory_unlock($1)`, s.keys.migrate); uerr != nil && err == nil {
			err = fmt.Errorf("postgres: releasing the migration lock: %w", uerr)
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at TEXT COLLATE "C" NOT NULL -- RFC 3339, UTC
	)`); err != nil {
		return nil, fmt.Errorf("postgres: create schema_migrations: %w", mapErr(ctx, false, err))
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return nil, fmt.Errorf("postgres: read schema version: %w", mapErr(ctx, false, err))
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		// A newer program has been here; running against a schema this code
		// does not know could corrupt data.
		return nil, fmt.Errorf("postgres: database schema version %d is newer than this program's %d", current, latest)
	}
	for _, m := range ms {
		done, err := applyMigration(ctx, conn.Conn(), m)
		if err != nil {
			return applied, fmt.Errorf("postgres: migration %s: %w", m.Name, mapErr(ctx, false, err))
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// applyMigration applies m unless the schema already has it.
func applyMigration(ctx context.Context, conn *pgx.Conn, m sqlstore.Migration) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer rollback(tx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	// Without arguments pgx sends the file with the simple protocol, which
	// runs every statement in it.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.Version, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// rollback ends tx if it is still open. It runs when the caller's ctx may
// have ended, so it has its own short deadline; if it fails pgx closes the
// connection, which ends the transaction just as well.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// unlockOrClose releases a session advisory lock held by conn. If that
// fails the connection is closed instead, which releases every lock of its
// session, so that a lock is never left behind in the pool.
func unlockOrClose(conn *pgxpool.Conn, query string, key int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var ok bool
	err := conn.QueryRow(ctx, query, key).Scan(&ok)
	if err == nil && !ok {
		err = errors.New("the lock was not held")
	}
	if err != nil {
		closeConn(conn)
	}
	return err
}

// closeConn closes a pooled connection, which Release then discards.
func closeConn(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_ = conn.Conn().Close(ctx)
}
