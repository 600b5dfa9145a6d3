package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// Retry backoff: the n-th retry waits a random time up to
// min(maxBackoff, baseBackoff<<n). Full jitter spreads out transactions
// that collided, so that they do not collide again in step.
const (
	baseBackoff = 2 * time.Millisecond
	maxBackoff  = 100 * time.Millisecond
)

// queueAfter is how many races an Update may lose before it runs alone.
// Under heavy contention on one row a transaction could otherwise lose
// every race until its retries run out, where SQLite's single writer
// would simply have run it. Every transaction holds the schema's retry
// lock shared; one that runs alone first takes it exclusively at the
// session level, before BEGIN, so that it waits for the transactions in
// flight, holds back new ones (PostgreSQL queues a shared request behind
// a waiting exclusive one), and takes its snapshot only once it is alone:
// it then cannot lose a race.
const queueAfter = 2

// updateAlone runs fn in one SERIALIZABLE transaction of its own and
// commits it: the path of an Update that the batches cannot take (see
// Update). At that
// isolation PostgreSQL lets concurrent transactions, on this node or any
// other, commit only if the outcome is that of running them one at a
// time, which is what SQLite's single writer gives; when it cannot, it
// fails one of them with a serialization failure (or a deadlock), and
// Update then runs the whole of fn again in a new transaction, up to
// Options.MaxRetries times with a short random backoff, before failing
// with EUnavailable. fn may therefore run more than once, and must not
// have effects outside the Tx that it cannot repeat.
//
// If fn returns an error or panics (a panic becomes an Internal error),
// the transaction is rolled back and nothing it wrote is kept. A Tx
// method that fails with a domain error (a conflict, a missing row) has
// written nothing, and fn may carry on, as with SQLite: each method that
// can fail so runs inside its own savepoint.
//
// Every statement runs with ctx. If ctx ends before COMMIT is sent
// nothing is committed; if it ends while COMMIT runs the outcome is not
// known, and Update reports an error.
//
// fn must not call Update itself, use the Tx from several goroutines at
// once, nor keep the Tx after it returns.
func (s *Store) updateAlone(ctx context.Context, fn func(core.Tx) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return ctxError(err)
		}
		if s.closed.Load() {
			return sqlstore.ErrClosed()
		}
		again, err := s.attempt(ctx, fn, attempt >= queueAfter)
		if !again {
			return err
		}
		if attempt >= s.maxRetries {
			return &usercenter.Error{Code: usercenter.EUnavailable,
				Message: "the database is too busy with conflicting writes; try again", Err: err}
		}
		wait := rand.N(backoff(attempt)) + time.Millisecond
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctxError(ctx.Err())
		case <-timer.C:
		}
	}
}

// backoff is the longest wait before retry n (from 0).
func backoff(n int) time.Duration {
	if n >= 6 { // 2ms<<6 is past maxBackoff; larger shifts would overflow
		return maxBackoff
	}
	return min(maxBackoff, baseBackoff<<n)
}

// attempt runs fn in one transaction. again reports that the transaction
// lost a race and fn should run again.
// With alone set it runs with no other transaction of the schema (see
// queueAfter).
func (s *Store) attempt(ctx context.Context, fn func(core.Tx) error, alone bool) (again bool, err error) {
	var tx pgx.Tx
	if alone {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return false, s.fail(ctx, err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, s.keys.retry); err != nil {
			// The lock may have been granted just as ctx ended.
			closeConn(conn)
			return false, s.fail(ctx, err)
		}
		defer unlockOrClose(conn, `SELECT pg_advisory_unlock($1)`, s.keys.retry)
		if tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}); err != nil {
			return false, s.fail(ctx, err)
		}
	} else {
		// The shared lock rides in BEGIN's round trip.
		begin := fmt.Sprintf("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_advisory_xact_lock_shared(%d)", s.keys.retry)
		if tx, err = s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable, BeginQuery: begin}); err != nil {
			return false, s.fail(ctx, err)
		}
	}
	t := &txn{s: s, tx: tx}
	t.reader = reader{s: s, tx: t}
	t.reader.bind()
	t.bindConsole()
	fnErr := sqlstore.Run(engine, fn, t)
	t.finished.Store(true)
	if lost := t.lostErr(); lost != nil {
		rollback(tx)
		if retryable(lost) {
			return true, lost
		}
		if fnErr != nil {
			return false, fnErr
		}
		return false, t.s.fail(ctx, lost)
	}
	if fnErr != nil {
		rollback(tx)
		return false, fnErr
	}
	if err := ctx.Err(); err != nil {
		rollback(tx)
		return false, ctxError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		rollback(tx)
		if retryable(err) {
			return true, err
		}
		if pgError(err) == nil && !errors.Is(err, pgx.ErrTxCommitRollback) && !pgconn.SafeToRetry(err) {
			// The connection failed, or ctx ended, after COMMIT may have
			// reached the server.
			return false, &usercenter.Error{Code: usercenter.EUnavailable,
				Message: "the connection failed while committing; the outcome is unknown", Err: err}
		}
		return false, s.fail(ctx, err)
	}
	return false, nil
}

// txn is the core.Tx handed to an Update's fn.
type txn struct {
	reader
	sqlstore.ConsoleTx // the console's writes (see bindConsole)

	s        *Store
	tx       querier     // the transaction: a pgx.Tx, or a batch's connection
	finished atomic.Bool // fn has returned; the Tx must not be used again

	// readCommitted marks an Update run in a batch, at READ COMMITTED
	// (see Update): only the methods that are safe there run; any other
	// sets needsAlone and stops fn, and the Update runs again on its own.
	readCommitted bool
	needsAlone    bool
	wrote         bool            // a write of fn's has taken effect in the transaction
	unsaved       bool            // the batch's first run: atomically sets no savepoint
	lockedUsers   map[string]bool // users whose rows fn has read, locked, through User
	// deferred, when not nil, takes the rows of InsertAudit(s),
	// InsertEvents and InsertToken, which the batch writes for all its
	// Updates at once before COMMIT (see deferred).
	deferred *deferred

	auditLocked bool // the audit lock is held; see InsertAudit

	mu   sync.Mutex
	lost error // an error that aborted the transaction
}

var _ core.Tx = (*txn)(nil)

// begin checks that the Tx may still be used, by a method that needs
// SERIALIZABLE isolation. In a batch it stops fn (see needsAlone).
func (t *txn) begin(ctx context.Context) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	if t.readCommitted {
		t.needsAlone = true
		panic(needsAlone{})
	}
	return nil
}

// beginBatched checks that the Tx may still be used, by a method that is
// as correct at READ COMMITTED as at SERIALIZABLE (see Update).
func (t *txn) beginBatched(ctx context.Context) error {
	if t.needsAlone {
		panic(needsAlone{}) // fn recovered the first one
	}
	if t.finished.Load() {
		return usercenter.Internal(errors.New("postgres: Tx used after its Update returned"))
	}
	if err := t.lostErr(); err != nil {
		return usercenter.Internal(err)
	}
	if err := ctx.Err(); err != nil {
		return ctxError(err)
	}
	return nil
}

// lose notes that the transaction can no longer be used: PostgreSQL
// aborts a transaction at its first error, unlike SQLite.
func (t *txn) lose(err error) {
	t.mu.Lock()
	if t.lost == nil {
		t.lost = err
	}
	t.mu.Unlock()
}

func (t *txn) lostErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost
}

// fail maps an unexpected error, noting that it cost the transaction.
func (t *txn) fail(ctx context.Context, err error) error {
	t.lose(err)
	if retryable(err) {
		// fn will run again; whatever it makes of this error is dropped.
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the transaction lost a race and will run again", Err: err}
	}
	if badText(err) {
		return errBadText(err)
	}
	return t.s.fail(ctx, err)
}

// failWrite maps the error of a write that ran in its own savepoint (so
// that a statement-level error left the transaction usable): a constraint
// violation as sqlstore.WriteError does (parent, if not "", names the
// resource a foreign key refers to), text PostgreSQL cannot hold as
// EInvalid.
func (t *txn) failWrite(ctx context.Context, err error, parent string) error {
	if e := sqlstore.WriteError(err, violation(err), uniqueFields, parent); e != nil {
		return e
	}
	if badText(err) {
		return errBadText(err)
	}
	if statementLevel(err) {
		return usercenter.Internal(err) // the savepoint kept the transaction
	}
	return t.s.fail(ctx, err) // atomically has noted the loss
}

// exec runs one statement that cannot fail but for the transaction's
// sake, and returns how many rows it changed.
func (t *txn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, t.fail(ctx, err)
	}
	t.wrote = true
	return tag.RowsAffected(), nil
}

// execFound runs a statement that must change a row: one that updates or
// deletes the row of an ID. Changing none means that row does not exist:
// NotFound (resource).
func (t *txn) execFound(ctx context.Context, resource, query string, args ...any) error {
	n, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return usercenter.NotFound(resource)
	}
	return nil
}

// step is one statement of a method that writes.
type step struct {
	sql  string
	args []any
}

// atomically runs steps inside a savepoint, so that a method whose
// statements may fail on a constraint (and whose failure fn may shrug off)
// either writes everything or nothing and leaves the transaction usable,
// as SQLite does. SAVEPOINT, the steps and RELEASE go out as one pipelined
// batch: one round trip when all goes well, two when a step fails.
//
// It returns the command tag of each step, or the index of the step that
// failed and its error. A statement-level error (a constraint, a bad
// value) is rolled back to the savepoint; any other loses the transaction.
func (t *txn) atomically(ctx context.Context, steps ...step) (tags []pgconn.CommandTag, failed int, err error) {
	// In a batch's first run (see runBatch) a failing step costs the
	// transaction, and the batch runs again with savepoints: a savepoint
	// is a subtransaction, which PostgreSQL's statements and snapshots
	// pay for, for the rare write that fails.
	saved := !t.unsaved
	b := &pgx.Batch{}
	if saved {
		b.Queue(`SAVEPOINT method`)
	}
	for _, s := range steps {
		b.Queue(s.sql, s.args...)
	}
	if saved {
		b.Queue(`RELEASE SAVEPOINT method`)
	}
	br := t.tx.SendBatch(ctx, b)
	failed = -1
	if saved {
		_, err = br.Exec()
	}
	if err == nil {
		tags = make([]pgconn.CommandTag, 0, len(steps))
		for i := range steps {
			tag, serr := br.Exec()
			if serr != nil {
				err, failed = serr, i
				break
			}
			tags = append(tags, tag)
		}
		if err == nil && saved {
			_, err = br.Exec()
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		t.wrote = true
		return tags, -1, nil
	}
	if saved && failed >= 0 && statementLevel(err) && !retryable(err) {
		// Without arguments pgx sends this with the simple protocol, so
		// both statements go in one message.
		if _, rerr := t.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT method; RELEASE SAVEPOINT method`); rerr != nil {
			t.lose(rerr)
			return nil, failed, rerr
		}
		return nil, failed, err
	}
	t.lose(err)
	return nil, failed, err
}
