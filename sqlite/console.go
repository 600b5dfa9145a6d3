package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"usercenter/core"
	"usercenter/sqlstore"
)

// The console's writes are sqlstore's (sqlstore.ConsoleTx) over
// consoleWriter.

type consoleWriter txn

func (w *consoleWriter) Begin(ctx context.Context) (context.Context, error) {
	return (*txn)(w).begin(ctx)
}

func (w *consoleWriter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	t := (*txn)(w)
	n, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, t.failWrite(err, "")
	}
	return n, nil
}

// Row runs an UPDATE … RETURNING; one that finds no row changed nothing,
// and is not counted as a write (see TakeCode).
func (w *consoleWriter) Row(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return countedRow{w.run.queryRow(ctx, query, args...), (*txn)(w)}
}

type countedRow struct {
	row sqlstore.Scanner
	t   *txn
}

func (r countedRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		r.t.writes--
	}
	return err
}

func (w *consoleWriter) NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func (w *consoleWriter) Fail(_ context.Context, err error) error { return (*txn)(w).fail(err) }

func (t *txn) console() sqlstore.ConsoleTx {
	return sqlstore.ConsoleTx{P: sqlstore.Question, Engine: engine, W: (*consoleWriter)(t)}
}

// InsertConsoleAccount fails with EConflict (Field "email").
func (t *txn) InsertConsoleAccount(ctx context.Context, a *core.ConsoleAccountRecord) error {
	return t.console().InsertConsoleAccount(ctx, a)
}

func (t *txn) UpdateConsoleAccount(ctx context.Context, a *core.ConsoleAccountRecord) error {
	return t.console().UpdateConsoleAccount(ctx, a)
}

func (t *txn) InsertConsoleLink(ctx context.Context, l *core.ConsoleLink) error {
	return t.console().InsertConsoleLink(ctx, l)
}

func (t *txn) TakeConsoleLink(ctx context.Context, hash []byte, at time.Time) (*core.ConsoleLink, error) {
	return t.console().TakeConsoleLink(ctx, hash, at)
}

func (t *txn) InsertConsoleSession(ctx context.Context, s *core.ConsoleSession) error {
	return t.console().InsertConsoleSession(ctx, s)
}

func (t *txn) TouchConsoleSession(ctx context.Context, hash []byte, at time.Time) error {
	return t.console().TouchConsoleSession(ctx, hash, at)
}

func (t *txn) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	return t.console().DeleteConsoleSession(ctx, hash)
}

func (t *txn) DeleteConsoleSessions(ctx context.Context, accountID string) (int, error) {
	return t.console().DeleteConsoleSessions(ctx, accountID)
}

func (t *txn) SetConsoleAttempts(ctx context.Context, key string, n int, since time.Time) error {
	return t.console().SetConsoleAttempts(ctx, key, n, since)
}

func (t *txn) DeleteExpiredConsole(ctx context.Context, now time.Time) (int, error) {
	return t.console().DeleteExpiredConsole(ctx, now)
}
