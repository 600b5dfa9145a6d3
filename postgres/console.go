package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter/core"
	"usercenter/sqlstore"
)

// The console's writes are sqlstore's (sqlstore.ConsoleTx) over
// consoleWriter.

type consoleWriter txn

func (w *consoleWriter) Begin(ctx context.Context) (context.Context, error) {
	return ctx, (*txn)(w).begin(ctx)
}

// Exec runs each write in a savepoint of its own, so that a conflict is
// reported as one and the transaction goes on (see atomically).
func (w *consoleWriter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	t := (*txn)(w)
	tags, _, err := t.atomically(ctx, step{query, args})
	if err != nil {
		return 0, t.failWrite(ctx, err, "")
	}
	return tags[0].RowsAffected(), nil
}

func (w *consoleWriter) Row(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return (*txn)(w).queryRow(ctx, query, args...)
}

func (w *consoleWriter) NoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func (w *consoleWriter) Fail(ctx context.Context, err error) error { return (*txn)(w).fail(ctx, err) }

func (t *txn) console() sqlstore.ConsoleTx {
	return sqlstore.ConsoleTx{P: sqlstore.Dollar, Engine: engine, W: (*consoleWriter)(t)}
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
