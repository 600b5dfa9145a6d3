package sqlite

import (
	"context"

	"usercenter/sqlstore"
)

// writeLoop is the writer goroutine. It returns once Close has closed the
// queue and every queued request has been answered.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*request, 0, maxBatch)
	for {
		r, ok := <-s.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		open := true
		// Take whatever else is already waiting, without waiting for more:
		// under load batches grow by themselves, and a lone Update is not
		// delayed.
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					open = false
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		for rest := batch; len(rest) > 0; {
			rest = s.commit(rest)
		}
		clear(batch) // let answered requests be collected
		if !open {
			return
		}
	}
}

// commit runs batch in one transaction and answers every request in it,
// except that if the transaction is lost midway (SQLite rolls back the whole
// transaction on errors such as SQLITE_FULL or SQLITE_IOERR) it answers the
// requests that had run and returns those that had not, to be run in a
// fresh transaction.
//
// It first runs the batch unjournaled, every fn straight in the
// transaction; only if one of them leaves writes that must be undone on
// their own does it roll back and run the batch again with a savepoint
// for each fn (see commitUnjournaled).
func (s *Store) commit(batch []*request) (notRun []*request) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return nil
	}
	if notRun, done := s.commitUnjournaled(live); done {
		return notRun
	}

	errs := make([]error, len(live))
	if err := s.begin(live); err != nil {
		return nil
	}
	for i, r := range live {
		var lost error
		errs[i], lost = s.apply(r)
		if lost != nil {
			return s.lose(live, errs, i, lost)
		}
	}
	s.finish(live, errs)
	return nil
}

// commitUnjournaled runs batch with no savepoint around each fn, and
// reports false, having rolled back, when that cannot give each Update
// its own outcome: when an fn failed after writing, or a Tx method failed
// after writing part of what it does (see txn.atomically). The batch
// must then run again with savepoints, which the contract allows: fn may
// run more than once.
//
// A savepoint is not free: SQLite copies every page an Update changes
// first into the savepoint's journal, in case it has to roll back to
// it. That is about 13% of the writer's time per registration and 20% per
// user of a bulk import (sqlite.BenchmarkRegister, BenchmarkInsertUsers),
// spent for the rare Update that fails after writing. An fn that fails
// before writing, such as a registration whose OriginId is taken, needs
// no undoing and keeps the unjournaled run.
func (s *Store) commitUnjournaled(batch []*request) (notRun []*request, done bool) {
	errs := make([]error, len(batch))
	if err := s.begin(batch); err != nil {
		return nil, true
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err // canceled while earlier requests of the batch ran
			continue
		}
		t := s.newTxn(true)
		fnErr := sqlstore.Run(engine, r.fn, t)
		t.finished.Store(true)
		if lost := t.lostErr(); lost != nil {
			if fnErr == nil {
				fnErr = unexpected(lost)
			}
			errs[i] = fnErr
			return s.lose(batch, errs, i, lost), true
		}
		if t.dirty || (fnErr != nil && t.writes > 0) {
			_ = s.wexec("ROLLBACK")
			return nil, false
		}
		errs[i] = fnErr
	}
	s.finish(batch, errs)
	return nil, true
}

// begin opens the batch's transaction, or fails every request of it.
func (s *Store) begin(batch []*request) error {
	err := s.wexec("BEGIN IMMEDIATE")
	if err != nil {
		// Whatever left a transaction open must not block every later
		// batch too.
		_ = s.wexec("ROLLBACK")
		for _, r := range batch {
			r.done <- unexpected(err)
		}
	}
	return err
}

// lose answers the requests up to batch[i], whose transaction SQLite may
// have rolled back, and returns the rest, which have not run.
func (s *Store) lose(batch []*request, errs []error, i int, lost error) []*request {
	_ = s.wexec("ROLLBACK") // fails harmlessly if SQLite already rolled back
	for j, r := range batch[:i+1] {
		if errs[j] == nil {
			errs[j] = unexpected(lost)
		}
		r.done <- errs[j]
	}
	return batch[i+1:]
}

// finish commits the batch's transaction and answers every request. The
// answers go out only once COMMIT has returned, that is once SQLite has
// written the transaction to the WAL and, with synchronous=FULL, fsynced
// it: an Update that returns nil is on disk.
func (s *Store) finish(batch []*request, errs []error) {
	if err := s.wexec("COMMIT"); err != nil {
		_ = s.wexec("ROLLBACK")
		for i := range errs {
			if errs[i] == nil {
				errs[i] = unexpected(err)
			}
		}
	} else {
		s.ckpt.committed()
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// newTxn returns a Tx on the writer's transaction.
func (s *Store) newTxn(unjournaled bool) *txn {
	t := &txn{unjournaled: unjournaled}
	t.reader = reader{s: s, run: runner{stmts: s.wstmts, writes: &t.writes}, tx: t}
	t.reader.bind()
	t.bindConsole()
	return t
}

// wexec runs a statement of the writer's own. Its context is never a
// caller's: modernc.org/sqlite interrupts the connection when a ctx ends,
// and an interrupted write rolls back the whole transaction, that is every
// Update in the batch.
func (s *Store) wexec(query string) error {
	_, err := runner{stmts: s.wstmts}.exec(context.Background(), query)
	return err
}

// apply runs one request inside its own savepoint of the open transaction.
// fnErr is what the caller gets if the transaction then commits; lost is
// non-nil if the transaction can no longer be used.
func (s *Store) apply(r *request) (fnErr, lost error) {
	if err := r.ctx.Err(); err != nil {
		return err, nil // canceled while earlier requests of the batch ran
	}
	if err := s.wexec("SAVEPOINT request"); err != nil {
		return unexpected(err), err
	}
	t := s.newTxn(false)
	fnErr = sqlstore.Run(engine, r.fn, t)
	t.finished.Store(true)
	if err := t.lostErr(); err != nil {
		if fnErr == nil {
			fnErr = unexpected(err)
		}
		return fnErr, err
	}
	if fnErr != nil {
		if err := s.wexec("ROLLBACK TO request"); err != nil {
			return fnErr, err
		}
	}
	// RELEASE also fails if SQLite rolled the transaction back behind fn's
	// back (fn ignored the error that did it), which would otherwise leave
	// the next requests running outside any transaction.
	if err := s.wexec("RELEASE request"); err != nil {
		return fnErr, err
	}
	return fnErr, nil
}
