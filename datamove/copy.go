package datamove

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// copyTable copies every row of t in primary-key order. One goroutine
// reads the source while this one writes the previous batch, so SQLite's
// decoding and PostgreSQL's round trips overlap.
func (m *mover) copyTable(ctx context.Context, t *table, rep *TableReport) error {
	start := time.Now()
	total := m.counts[t.name]
	progress := func(done int64, finished bool) {
		if m.opts.Progress != nil {
			m.opts.Progress(Progress{Table: t.name, Done: done, Total: total, Elapsed: time.Since(start), Finished: finished})
		}
	}
	progress(0, false)

	w, err := m.newWriter(ctx, t)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan [][]any, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- m.readTable(rctx, t, batches)
	}()
	var done int64
	for b := range batches {
		ins, upd, err := w.write(ctx, b)
		if err != nil {
			cancel()
			for range batches {
			}
			<-readErr
			return fmt.Errorf("copying %s (after %d rows): %w", t.name, done, err)
		}
		rep.Inserted += ins
		rep.Updated += upd
		rep.Unchanged += int64(len(b)) - ins - upd
		done += int64(len(b))
		progress(done, false)
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("reading the source's %s: %w", t.name, err)
	}
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.RowsPerSecond = float64(done) / rep.Seconds
	}
	progress(done, true)
	return nil
}

// readTable sends t's rows in primary-key order, in batches.
func (m *mover) readTable(ctx context.Context, t *table, out chan<- [][]any) error {
	rows, err := m.src.tx.QueryContext(ctx, `SELECT `+quoteList(t.cols)+` FROM `+quote(t.name)+` ORDER BY `+t.sqliteOrderBy())
	if err != nil {
		return err
	}
	defer rows.Close()
	batch := make([][]any, 0, m.opts.Batch)
	send := func() error {
		select {
		case out <- batch:
			batch = make([][]any, 0, m.opts.Batch)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for rows.Next() {
		row, err := scanRow(rows, len(t.cols))
		if err != nil {
			return err
		}
		if err := checkTypes(t, row); err != nil {
			return err
		}
		batch = append(batch, row)
		if len(batch) == m.opts.Batch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return send()
	}
	return nil
}

// writer writes batches of one table, each in its own transaction.
type writer struct {
	conn   *pgx.Conn
	t      *table
	temp   string
	upsert string
	values bool // multi-row INSERT instead of COPY into the temporary table
}

// useValues picks multi-row INSERT … VALUES over COPY into a temporary
// table followed by INSERT … SELECT. COPY measured faster (see the
// package tests' benchmark), so it is the default.
var useValues = false

func (m *mover) newWriter(ctx context.Context, t *table) (*writer, error) {
	w := &writer{conn: m.dst, t: t, temp: "datamove_" + t.name, values: useValues}
	if !w.values {
		// Per session, emptied by every commit: each batch starts afresh
		// and a failed one leaves nothing behind.
		_, err := m.dst.Exec(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS `+quote(w.temp)+
			` (LIKE `+quote(t.name)+`) ON COMMIT DELETE ROWS`)
		if err != nil {
			return nil, fmt.Errorf("preparing to copy %s: %w", t.name, err)
		}
		w.upsert = upsertSQL(t, `SELECT `+quoteList(t.cols)+` FROM `+quote(w.temp))
	}
	return w, nil
}

// upsertSQL inserts the rows of from, updates those the destination has
// with other values, leaves identical ones alone (so a re-run writes
// nothing), and counts the inserted and the updated rows.
func upsertSQL(t *table, from string) string {
	var sets, mine, theirs []string
	for i, c := range t.cols {
		if isKey(t, i) {
			continue
		}
		sets = append(sets, quote(c)+" = EXCLUDED."+quote(c))
		mine = append(mine, "d."+quote(c))
		theirs = append(theirs, "EXCLUDED."+quote(c))
	}
	conflict := "DO NOTHING"
	if len(sets) > 0 {
		conflict = "DO UPDATE SET " + strings.Join(sets, ", ") +
			" WHERE ROW(" + strings.Join(mine, ", ") + ") IS DISTINCT FROM ROW(" + strings.Join(theirs, ", ") + ")"
	}
	return `WITH w AS (INSERT INTO ` + quote(t.name) + ` AS d (` + quoteList(t.cols) + `) ` + from +
		` ON CONFLICT (` + quoteList(t.keyCols()) + `) ` + conflict +
		` RETURNING d.xmax = 0 AS inserted)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w`
}

func isKey(t *table, col int) bool {
	for _, k := range t.key {
		if k == col {
			return true
		}
	}
	return false
}

func (w *writer) write(ctx context.Context, rows [][]any) (inserted, updated int64, err error) {
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if w.values {
		per := maxParams / len(w.t.cols)
		for len(rows) > 0 && err == nil {
			n := min(per, len(rows))
			sql, args := w.valuesSQL(rows[:n])
			var ins, upd int64
			err = tx.QueryRow(ctx, sql, args...).Scan(&ins, &upd)
			inserted, updated, rows = inserted+ins, updated+upd, rows[n:]
		}
	} else {
		if _, err = tx.CopyFrom(ctx, pgx.Identifier{w.temp}, w.t.cols, pgx.CopyFromRows(rows)); err != nil {
			return 0, 0, err
		}
		err = tx.QueryRow(ctx, w.upsert).Scan(&inserted, &updated)
	}
	if err != nil {
		return 0, 0, err
	}
	return inserted, updated, tx.Commit(ctx)
}

// maxParams is PostgreSQL's limit on the parameters of one statement.
const maxParams = 65535

// valuesSQL builds one multi-row INSERT; rows may not hold more than
// maxParams values in all.
func (w *writer) valuesSQL(rows [][]any) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(rows)*len(w.t.cols))
	b.WriteString("VALUES ")
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, row[j])
			fmt.Fprintf(&b, "$%d::%s", len(args), w.t.types[j].pgType())
		}
		b.WriteByte(')')
	}
	return upsertSQL(w.t, b.String()), args
}
