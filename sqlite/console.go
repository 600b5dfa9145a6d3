package sqlite

import (
	"context"
	"database/sql"
	"errors"

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

// bindConsole gives t the console's writes, sqlstore's, over its
// statements: t must not move after.
func (t *txn) bindConsole() {
	t.ConsoleTx = sqlstore.ConsoleTx{P: sqlstore.Question, Engine: engine, W: (*consoleWriter)(t)}
}
