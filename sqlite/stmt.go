package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"usercenter/sqlstore"
)

// stmts keeps each query prepared. Parsing SQL costs about as much as
// running one of these small queries, so reusing prepared statements
// roughly halves the cost of a read.
type stmts struct {
	prepare func(ctx context.Context, query string) (*sql.Stmt, error) // of a *sql.DB or *sql.Conn

	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmts(prepare func(context.Context, string) (*sql.Stmt, error)) *stmts {
	return &stmts{prepare: prepare, m: make(map[string]*sql.Stmt)}
}

func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st := c.m[query]
	c.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[query]; old != nil { // another goroutine won the race
		st.Close()
		return old, nil
	}
	c.m[query] = st
	return st, nil
}

// cached returns the statement for query if it has been prepared.
func (c *stmts) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// runner runs cached statements, either directly or inside a read
// snapshot.
type runner struct {
	stmts *stmts
	tx    *sql.Tx // nil: outside any database/sql transaction
	// writes, on the writer's connection, counts the statements that may
	// have changed the database (see txn.writes).
	writes *int64
}

// noteWrite counts a statement that may have changed the database: any
// that ran to completion through exec, and any other than a SELECT
// through query or queryRow (an UPDATE … RETURNING), counted before it
// runs because what it did is known only once its rows are read.
func (r runner) noteWrite() {
	if r.writes != nil {
		*r.writes++
	}
}

func isSelect(query string) bool {
	return strings.HasPrefix(strings.TrimLeft(query, " \t\n"), "SELECT")
}

func (r runner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if r.tx == nil {
		return r.stmts.get(ctx, query)
	}
	// Preparing a new statement for the pool takes a connection from it.
	// Inside a snapshot this goroutine already holds one, and if every
	// goroutine holding one did that they would wait for each other for
	// ever. So a snapshot only uses statements prepared before (Open
	// prepares every read query) and prepares anything else just for
	// itself.
	if st := r.stmts.cached(query); st != nil {
		// Reuses the statement if it is already prepared on the
		// transaction's connection; the tx closes it when it ends.
		return r.tx.StmtContext(ctx, st), nil
	}
	return r.tx.PrepareContext(ctx, query)
}

func (r runner) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if !isSelect(query) {
		r.noteWrite()
	}
	return st.QueryContext(ctx, args...)
}

// errRow is a row that failed before the query ran.
type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

func (r runner) queryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if !isSelect(query) {
		r.noteWrite()
	}
	return st.QueryRowContext(ctx, args...)
}

func (r runner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err == nil {
		r.noteWrite()
	}
	return res, err
}
