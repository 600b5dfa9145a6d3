package sqlite

import (
	"context"
	"fmt"
	"runtime/debug"

	"usercenter"
	"usercenter/core"
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

	errs := make([]error, len(live))
	if err := s.wexec("BEGIN IMMEDIATE"); err != nil {
		// Whatever left a transaction open must not block every later
		// batch too.
		_ = s.wexec("ROLLBACK")
		for _, r := range live {
			r.done <- usercenter.Internal(err)
		}
		return nil
	}
	for i, r := range live {
		var lost error
		errs[i], lost = s.apply(r)
		if lost != nil {
			_ = s.wexec("ROLLBACK") // fails harmlessly if SQLite already rolled back
			for j, r := range live[:i+1] {
				if errs[j] == nil {
					errs[j] = usercenter.Internal(lost)
				}
				r.done <- errs[j]
			}
			return live[i+1:]
		}
	}
	if err := s.wexec("COMMIT"); err != nil {
		_ = s.wexec("ROLLBACK")
		for i := range errs {
			if errs[i] == nil {
				errs[i] = usercenter.Internal(err)
			}
		}
	}
	for i, r := range live {
		r.done <- errs[i]
	}
	return nil
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
		return usercenter.Internal(err), err
	}
	t := &txn{}
	t.reader = reader{s: s, run: runner{stmts: s.wstmts}, tx: t}
	fnErr = run(r.fn, t)
	t.finished.Store(true)
	if err := t.lostErr(); err != nil {
		if fnErr == nil {
			fnErr = usercenter.Internal(err)
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

// run calls fn, turning a panic into an error so that the writer, and the
// rest of the batch, carry on.
func run(fn func(core.Tx) error, t *txn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = usercenter.Internal(fmt.Errorf("sqlite: panic in Update: %v\n%s", p, debug.Stack()))
		}
	}()
	return fn(t)
}
