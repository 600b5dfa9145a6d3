package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

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

// bindConsole gives t the console's writes, sqlstore's, over its
// statements: t must not move after.
func (t *txn) bindConsole() {
	t.ConsoleTx = sqlstore.ConsoleTx{P: sqlstore.Dollar, Engine: engine, W: (*consoleWriter)(t)}
}
