package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// maxBatch is the most Updates one batch runs. Each registration of a
// batch writes in two savepoints (InsertUser's, InsertToken's), and each
// savepoint that writes takes a subtransaction ID: past 64 of them in one
// transaction PostgreSQL's snapshots overflow their subtransaction cache
// and every session's visibility checks slow down. 24 keeps a batch of
// registrations under it, with room for the savepoint per Update of a
// journaled run.
const maxBatch = 24

// needsAlone is what a Tx method that READ COMMITTED cannot run
// correctly panics with inside a batch; sqlstore.Run stops it there, and
// the Update runs again alone. A panic rather than an error, so that fn
// never sees an outcome of a run that does not count: it just stops, as
// fn may be run again anyway, and whatever it did is undone.
type needsAlone struct{}

// request is one Update waiting for a batch.
type request struct {
	ctx  context.Context
	fn   func(core.Tx) error
	done chan error // buffered: the writer never waits for the caller
	// alone is set once fn has called a method that needs SERIALIZABLE:
	// the batch's later runs leave it out, it will run alone.
	alone bool
}

// runAlone is sent on a request's done channel when its fn called a method
// that needs SERIALIZABLE isolation: the caller then runs it alone.
var runAlone = errors.New("postgres: run alone")

// Update runs fn in a transaction and commits it; a nil error means that
// what fn wrote is committed (COMMIT has returned), a non-nil one that
// nothing of it is, except that an error whose commit outcome is unknown
// is EUnavailable, as ever.
//
// Concurrent Updates of this node are gathered into batches, each run by
// one of the store's writers in one READ COMMITTED transaction with one
// COMMIT, so that one WAL flush serves all of them (group commit, as the
// SQLite store's single writer does). A writer takes whatever Updates are
// waiting when it is free, and never waits for more: a lone Update is not
// delayed. Each fn runs as if alone: one that fails, or whose Tx method
// fails, fails only its own Update (see runBatch).
//
// READ COMMITTED is not SERIALIZABLE, so a batch runs only the Tx methods
// for which it makes no difference (see Tx methods calling beginBatched):
//   - inserts, where the unique and foreign keys decide between
//     concurrent writers on every node (two registrations of one OriginId:
//     the second waits for the first's transaction, and fails with the
//     conflict if it commits), and the audit trail and outbox, whose
//     order the audit lock keeps (see InsertAudit);
//   - User, which locks the user's row (SELECT … FOR UPDATE) before
//     reading it, so that it reads the newest committed version and no
//     other transaction can change it before the batch commits;
//   - UpdateUser of a user fn read so: a read-modify-write that loses no
//     concurrent update.
//
// A transaction that only reads rows it locks and only writes those rows
// or rows no one else can hold is ordered like a SERIALIZABLE one: it
// reads nothing stale that it writes on. Every other method (a count, a
// list, a read of a row not locked, a delete, a take) stops fn (see
// needsAlone), fn's writes are undone, and once the batch has committed
// fn runs again alone in a SERIALIZABLE transaction, as every Update ran
// before batches (see updateAlone), retried on serialization failures.
// The contract lets fn run more than once.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return ctxError(err)
	}
	if s.closed.Load() {
		return sqlstore.ErrClosed()
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return sqlstore.ErrClosed()
	case <-ctx.Done():
		return ctxError(ctx.Err())
	}
	// Once a writer has the request, its answer is awaited even if ctx
	// ends: only then is it known whether fn's writes committed, and fn
	// may be running, on what the caller shares with it. The batch ends by
	// the earliest deadline of its requests (see batchContext), so the
	// answer comes by ctx's.
	err := <-r.done
	if err == runAlone {
		return s.updateAlone(ctx, fn)
	}
	return err
}

// startWriters starts n writers.
func (s *Store) startWriters(n int) {
	s.reqs = make(chan *request)
	s.quit = make(chan struct{})
	s.writers.Add(n)
	for range n {
		go s.writeLoop()
	}
}

// stopWriters stops the writers once each has answered its batch.
func (s *Store) stopWriters() {
	if s.quit == nil {
		return
	}
	close(s.quit)
	s.writers.Wait()
}

// writeLoop is one writer: it runs batches until the store closes.
func (s *Store) writeLoop() {
	defer s.writers.Done()
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
		// Take whatever else is already waiting, without waiting for
		// more: under load batches grow by themselves.
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if !s.runBatchGuarded(batch) {
			return
		}
		clear(batch) // let answered requests be collected
	}
}

// runBatchGuarded runs the batch and reports true, unless an fn ended the
// writer's goroutine (runtime.Goexit, as t.FailNow does in a test): then
// it fails every request of the batch, starts a writer in this one's
// place, and reports false. A panic never gets here: sqlstore.Run makes
// it fn's error.
func (s *Store) runBatchGuarded(batch []*request) (ok bool) {
	defer func() {
		if ok {
			return
		}
		for _, r := range batch {
			select {
			case r.done <- usercenter.Internal(errors.New("postgres: an Update's fn ended the writer's goroutine")):
			default:
			}
		}
		s.writers.Add(1)
		go s.writeLoop()
	}()
	s.runBatch(batch)
	return true
}

// outcome is how a run of a batch ended.
type outcome int

const (
	answered  outcome = iota // every request has its answer in errs
	journal                  // run again with a savepoint per Update
	immediate                // run again with no deferred rows (see deferred)
	again                    // run again as before, without the Updates that must run alone
	raceLost                 // lost a race (deadlock): run the whole batch again
)

// runMode is how a run of a batch goes about it.
type runMode struct {
	journaled bool // a savepoint around each fn
	immediate bool // each Tx method writes its rows itself
}

// runBatch runs batch and answers every request in it.
//
// The first run puts no savepoint around each fn: a savepoint costs a
// round trip and a subtransaction, spent for the rare fn that fails after
// writing. Tx methods that can fail on a constraint have their own
// savepoints (see atomically), so an fn that fails on one, such as a
// registration whose OriginId is taken, has nothing to undo. Only when an
// fn fails after writing, or an error costs the transaction, is the run
// rolled back and the batch run again with a savepoint per fn, where a
// failing fn is rolled back to its savepoint and the others commit.
//
// The first run also defers the rows that fns append and never read back
// in a batch (audit events, outbox events, login tokens) and writes them
// for the whole batch with one multi-row statement each, pipelined with
// COMMIT (see deferred), and holds the users' INSERTs back until the
// batch's next round trip, COMMIT's for a batch of registrations (see
// heldSteps): a batch of registrations costs two round trips, however
// many it holds. If a user's INSERT is refused (an OriginId taken), the
// batch runs again with a savepoint per fn; if a deferred row is (a
// token's user is gone, a text PostgreSQL refuses), it runs again with
// every method writing its rows itself; either way the failure is the
// failing fn's alone.
func (s *Store) runBatch(batch []*request) {
	if n := int64(len(batch)); n > s.largestBatch.Load() {
		s.largestBatch.Store(n) // only a hint for the tests: a lost race does no harm
	}
	errs := make([]error, len(batch))
	var mode runMode
	for attempt := 0; ; attempt++ {
		clear(errs)
		switch s.tryBatch(batch, errs, mode) {
		case answered:
			for i, r := range batch {
				r.done <- errs[i]
			}
			return
		case journal:
			mode.journaled = true
			continue
		case immediate:
			mode.immediate = true
			continue
		case again:
			continue
		}
		if attempt >= s.maxRetries {
			for _, r := range batch {
				r.done <- &usercenter.Error{Code: usercenter.EUnavailable,
					Message: "the database is too busy with conflicting writes; try again"}
			}
			return
		}
		time.Sleep(rand.N(backoff(attempt)) + time.Millisecond)
	}
}

// tryBatch runs batch in one transaction on a connection of its own and,
// when the outcome is answered, commits it and fills errs.
func (s *Store) tryBatch(batch []*request, errs []error, mode runMode) outcome {
	// The writer's statements run on no caller's ctx: one caller giving up
	// must not cancel the transaction of the others. But the batch ends by
	// the earliest deadline among them, so that a database that hangs
	// holds no request past its time.
	bg, cancel := batchContext(batch)
	defer cancel()
	conn, err := s.pool.Acquire(bg)
	if err != nil {
		return s.failAll(batch, errs, s.fail(bg, err))
	}
	defer conn.Release()
	// The retry lock, shared, rides in BEGIN's round trip: an Update that
	// lost races repeatedly takes it exclusively to run with no other
	// transaction under way, batches included (see queueAfter), where a
	// batch's row lock could otherwise make it lose once more. One lock a
	// batch, not one an Update.
	if _, err := conn.Exec(bg, s.beginBatch); err != nil {
		closeConn(conn)
		return s.failAll(batch, errs, s.fail(bg, err))
	}
	var rows deferred
	var held *heldSteps
	if !mode.journaled && !mode.immediate {
		held = &heldSteps{}
		rows.users = held
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = ctxError(err) // canceled before its turn: never run
			continue
		}
		if r.alone {
			errs[i] = runAlone
			continue
		}
		if mode.journaled {
			if _, err := conn.Exec(bg, `SAVEPOINT request`); err != nil {
				return s.abandon(conn, batch, errs, err)
			}
		}
		t := &txn{s: s, tx: detached{conn, bg, held}, readCommitted: true}
		if !mode.immediate {
			t.deferred = &deferred{}
		}
		t.unsaved = !mode.journaled
		t.reader = reader{s: s, tx: t}
		t.reader.bind()
		t.bindConsole()
		fnErr := sqlstore.Run(engine, r.fn, t)
		t.finished.Store(true)
		lost := t.lostErr()
		switch {
		case lost != nil && retryable(lost):
			rollbackConn(conn)
			return raceLost
		case lost != nil && (!mode.journaled || !statementLevel(lost)):
			if !mode.journaled {
				rollbackConn(conn)
				return journal // find out which fn it was, and keep the others
			}
			if fnErr == nil {
				fnErr = s.fail(bg, lost)
			}
			errs[i] = fnErr
			return s.abandon(conn, batch, errs, lost)
		case lost != nil:
			// A statement-level error that no savepoint of a method's
			// caught: the savepoint of the request still can.
			if fnErr == nil {
				fnErr = usercenter.Internal(lost)
			}
		}
		if t.needsAlone {
			fnErr = runAlone
			if !mode.journaled && t.wrote && lost == nil {
				// Its writes cannot be undone alone; but it has no place
				// in this batch anyway.
				r.alone = true
				rollbackConn(conn)
				return again
			}
		}
		if fnErr != nil && (t.wrote || lost != nil) {
			if !mode.journaled {
				rollbackConn(conn)
				return journal
			}
			if _, err := conn.Exec(bg, `ROLLBACK TO SAVEPOINT request`); err != nil {
				return s.abandon(conn, batch, errs, err)
			}
		}
		if mode.journaled {
			if _, err := conn.Exec(bg, `RELEASE SAVEPOINT request`); err != nil {
				return s.abandon(conn, batch, errs, err)
			}
		}
		if fnErr == nil && t.deferred != nil {
			rows.add(t.deferred) // a failed fn's rows are dropped with it
		}
		errs[i] = fnErr
	}
	tag, err := rows.writeAndCommit(bg, conn, s.keys.audit, s.channel)
	if err == nil && tag.String() != "COMMIT" {
		// PostgreSQL answers COMMIT of a transaction that an error
		// aborted with ROLLBACK: lostErr should have caught it first.
		err = errors.New("postgres: the batch's transaction was rolled back at COMMIT")
	}
	if err != nil {
		if retryable(err) {
			rollbackConn(conn)
			return raceLost
		}
		if pgError(err) != nil && held != nil && held.written < len(held.steps) {
			// A user's row was refused (an OriginId taken): find out
			// whose, and keep the others.
			rollbackConn(conn)
			return journal
		}
		if pgError(err) != nil && !rows.empty() && !mode.immediate {
			// A deferred row was refused, and COMMIT skipped.
			rollbackConn(conn)
			return immediate
		}
		closeConn(conn)
		if pgError(err) == nil && !pgconn.SafeToRetry(err) {
			// The connection failed after COMMIT may have reached the
			// server.
			err = &usercenter.Error{Code: usercenter.EUnavailable,
				Message: "the connection failed while committing; the outcome is unknown", Err: err}
		} else {
			err = s.fail(bg, err)
		}
		return s.failAll(batch, errs, err)
	}
	rows.setIDs()
	return answered
}

// deferred are the rows of a batch's Updates that the batch writes for
// all of them at once, before COMMIT. They are the rows fns append and
// no Tx method a batch runs reads back (User reads no token, and reads of
// the audit trail or the outbox need an Update alone); so an fn cannot
// tell they are not written yet, and their IDs are set before Update
// returns. A token's user is written by then, by its fn or an earlier
// one: its foreign key holds.
type deferred struct {
	users  *heldSteps // the users' INSERTs, which go first
	audits []*usercenter.AuditEvent
	events []*usercenter.Event
	tokens []*core.Token
	// notices are the caches' invalidation messages (see PublishOnCommit).
	notices []string
	// The IDs the multi-row inserts returned, set by writeAndCommit.
	auditIDs, eventIDs []int64
}

func (d *deferred) add(o *deferred) {
	d.audits = append(d.audits, o.audits...)
	d.events = append(d.events, o.events...)
	d.tokens = append(d.tokens, o.tokens...)
	d.notices = append(d.notices, o.notices...)
}

func (d *deferred) empty() bool {
	return len(d.audits) == 0 && len(d.events) == 0 && len(d.tokens) == 0 && len(d.notices) == 0
}

const qInsertTokens = `INSERT INTO tokens (` + sqlstore.TokenColumns + `)
	SELECT * FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])`

// writeAndCommit writes the rows, each kind with one statement, and
// commits, all in one round trip: the audit lock first, shared, so that
// IDs become visible in order (see InsertAudit), then the audit events
// and the outbox's events in the batch's order, their IDs increasing in
// it, then the tokens, then the caches' invalidation notices, then
// COMMIT. PostgreSQL skips the rest of the pipeline at the first error,
// COMMIT included.
func (d *deferred) writeAndCommit(ctx context.Context, conn *pgxpool.Conn, auditLock int64, channel string) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	d.users.queue(b)
	if len(d.audits) > 0 || len(d.events) > 0 {
		b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, auditLock)
	}
	ids := func(dst *[]int64) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			var err error
			*dst, err = pgx.AppendRows((*dst)[:0], rows, pgx.RowTo[int64])
			return err
		}
	}
	if len(d.audits) > 0 {
		cols, err := auditColumns(d.audits) // checked when added: cannot fail
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		b.Queue(qInsertAudits, cols...).Query(ids(&d.auditIDs))
	}
	if len(d.events) > 0 {
		cols, err := eventColumns(d.events)
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		b.Queue(qInsertEvents, cols...).Query(ids(&d.eventIDs))
	}
	if n := len(d.tokens); n > 0 {
		hashes, users := make([][]byte, n), make([]string, n)
		apps, created, expires := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, tok := range d.tokens {
			args, err := sqlstore.TokenArgs(engine, tok)
			if err != nil {
				return pgconn.CommandTag{}, err
			}
			hashes[i], users[i], apps[i], created[i], expires[i] = args[0].([]byte), args[1].(string), args[2].(int64), args[3].(int64), args[4].(int64)
		}
		b.Queue(qInsertTokens, hashes, users, apps, created, expires)
	}
	if len(d.notices) > 0 {
		b.Queue(`SELECT pg_notify($1, n) FROM unnest($2::text[]) n`, channel, d.notices)
	}
	var tag pgconn.CommandTag
	b.Queue(`COMMIT`).Exec(func(ct pgconn.CommandTag) error {
		tag = ct
		return nil
	})
	err := conn.SendBatch(ctx, b).Close()
	return tag, err
}

// setIDs hands the rows' IDs to their events, in the order given. An
// INSERT … RETURNING returns a row per row inserted; were it otherwise,
// the events would keep ID 0 rather than wrong ones.
func (d *deferred) setIDs() {
	if len(d.auditIDs) != len(d.audits) || len(d.eventIDs) != len(d.events) {
		return
	}
	slices.Sort(d.auditIDs)
	for i, e := range d.audits {
		e.ID = d.auditIDs[i]
	}
	slices.Sort(d.eventIDs)
	for i, e := range d.events {
		e.ID = d.eventIDs[i]
	}
}

// abandon ends the batch's transaction after err made it unusable, and
// fails every request that has no answer yet.
func (s *Store) abandon(conn *pgxpool.Conn, batch []*request, errs []error, err error) outcome {
	closeConn(conn) // whatever state the session is in, it is not kept
	return s.failAll(batch, errs, s.fail(context.Background(), err))
}

// failAll gives every request without an error err, and reports the batch
// answered.
func (s *Store) failAll(batch []*request, errs []error, err error) outcome {
	for i := range batch {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return answered
}

// rollbackConn rolls back the transaction open on conn, or ends the
// session if that fails.
func rollbackConn(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, `ROLLBACK`); err != nil {
		closeConn(conn)
	}
}

// detached runs fn's statements in a batch on the batch's connection and
// context (see batchContext), not the caller's: pgx answers a canceled
// statement by ending the session, which would roll back every Update of
// the batch. A Tx method still checks its ctx first (txn.begin), so a
// canceled fn's later calls fail.
//
// In a batch's first run it also sends the statements held back (see
// heldSteps) before any other, in one round trip.
type detached struct {
	c    *pgxpool.Conn
	ctx  context.Context
	held *heldSteps // nil: nothing is held back
}

func (d detached) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := d.flush(); err != nil {
		return nil, err
	}
	return d.c.Query(d.ctx, sql, args...)
}

func (d detached) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	if err := d.flush(); err != nil {
		return errRow{err}
	}
	return d.c.QueryRow(d.ctx, sql, args...)
}

func (d detached) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := d.flush(); err != nil {
		return pgconn.CommandTag{}, err
	}
	return d.c.Exec(d.ctx, sql, args...)
}

func (d detached) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := d.flush(); err != nil {
		return errBatch{err: err}
	}
	return d.c.SendBatch(d.ctx, b)
}

// flush sends the statements held back, if any.
func (d detached) flush() error {
	if d.held == nil || d.held.written == len(d.held.steps) {
		return nil
	}
	b := &pgx.Batch{}
	d.held.queue(b)
	return d.c.SendBatch(d.ctx, b).Close()
}

// heldSteps are the users' INSERTs of a batch's first run, which the
// batch sends together with its next statement's round trip or, for
// registrations, with its deferred rows and COMMIT (writeAndCommit): a
// batch of registrations then costs two round trips, BEGIN's and
// COMMIT's, instead of one more per registration.
//
// InsertUser returns nil for a held INSERT, before PostgreSQL has seen
// it. That is safe in the first run alone, which holds no savepoints: a
// refused INSERT there aborts the whole transaction, whenever it is sent,
// and the batch runs again with a savepoint per Update (journal), in
// which InsertUser sends its INSERT at once and returns its own error.
// Until then nothing can tell the row is not written: every other
// statement of the batch sends the held ones first.
type heldSteps struct {
	steps   []step
	written int // steps[:written] have been sent, and PostgreSQL took them
}

// heldSafe reports whether steps may be held back: text PostgreSQL
// would refuse (invalid UTF-8, NUL) is a caller's error, which InsertUser
// reports at once, as fn may expect; what only the database can decide
// (a unique or foreign key) may wait.
func heldSafe(steps []step) bool {
	for _, st := range steps {
		if !storableArgs(st.args) {
			return false
		}
	}
	return true
}

// queue queues the steps not sent yet in b, ahead of what b holds.
func (h *heldSteps) queue(b *pgx.Batch) {
	if h == nil {
		return
	}
	for _, st := range h.steps[h.written:] {
		b.Queue(st.sql, st.args...).Exec(func(pgconn.CommandTag) error {
			h.written++
			return nil
		})
	}
}

// errRow is a row whose query could not be sent.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errBatch is the results of a batch that could not be sent. (The
// interface it embeds, nil, only supplies what no caller here uses.)
type errBatch struct {
	pgx.BatchResults
	err error
}

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow{b.err} }
func (b errBatch) Close() error                     { return b.err }

// batchContext is the context of a batch's statements: no request's, but
// ending at the earliest deadline among the requests. Past it, one of
// them has given up and the database answers too slowly for the others
// to wait much longer; failing the batch then (EUnavailable, or an unknown
// outcome if COMMIT was under way) answers each by its deadline, which a
// request whose writes may still run in the batch could not otherwise be.
func batchContext(batch []*request) (context.Context, context.CancelFunc) {
	var first time.Time
	for _, r := range batch {
		if d, ok := r.ctx.Deadline(); ok && (first.IsZero() || d.Before(first)) {
			first = d
		}
	}
	if first.IsZero() {
		return context.WithCancel(context.Background())
	}
	return context.WithDeadline(context.Background(), first)
}

// qLockUser locks a user's row for the rest of the transaction.
const qLockUser = `SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE`

// User reads a user. In a batch it first locks the user's row, in the
// same round trip, and reads it in a statement of its own, whose snapshot
// is taken once the lock is held: the read is of the newest version,
// links included, and stays so until the batch commits (see Update).
func (t *txn) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	if !t.readCommitted {
		return t.reader.User(ctx, userID)
	}
	if err := t.beginBatched(ctx); err != nil {
		return nil, err
	}
	if !storable(userID) {
		return nil, usercenter.NotFound(usercenter.ResourceUser) // no row can have that ID
	}
	var (
		u     core.UserRecord
		found bool
	)
	b := &pgx.Batch{}
	b.Queue(qLockUser, userID)
	b.Queue(reads.User, userID).QueryRow(func(row pgx.Row) error {
		var err error
		if u, err = scanUser(row); errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, t.fail(ctx, err)
	}
	if !found {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	if t.lockedUsers == nil {
		t.lockedUsers = make(map[string]bool)
	}
	t.lockedUsers[userID] = true
	return &u, nil
}
