package postgres

import (
	"context"
	"errors"
	"sync"
	"time"
	"usercenter/sqlstore"

	"github.com/jackc/pgx/v5/pgxpool"

	"usercenter"
)

// ErrLocked is what TryLock returns when another session holds the lock in
// a conflicting mode. It is an EUnavailable error; compare with errors.Is.
var ErrLocked error = &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database is locked by another usercenter process"}

// heldLock is a TryLock session.
type heldLock struct {
	s         *Store
	conn      *pgxpool.Conn
	exclusive bool
	once      sync.Once
}

// TryLock takes the schema's server lock without waiting: shared (as every
// server holds it while it runs) or exclusive (as a master-key rotation
// needs it). It fails with ErrLocked if another session holds it in a
// conflicting mode. The lock is a PostgreSQL session advisory lock, held
// on a connection taken from the pool for as long as the lock is, so it
// covers every node on the database, and PostgreSQL drops it when that
// connection ends, even if the process dies by kill -9. release gives it
// back; it may be called more than once. Close releases it too.
//
// If the connection breaks (the server restarts, say) the lock is lost
// without notice, as it would be for any session lock.
func (s *Store) TryLock(ctx context.Context, exclusive bool) (release func(), err error) {
	l, err := s.tryLock(ctx, exclusive)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}

func (s *Store) tryLock(ctx context.Context, exclusive bool) (*heldLock, error) {
	if s.closed.Load() {
		return nil, sqlstore.ErrClosed()
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	query := `SELECT pg_try_advisory_lock_shared($1)`
	if exclusive {
		query = `SELECT pg_try_advisory_lock($1)`
	}
	var ok bool
	if err := conn.QueryRow(ctx, query, s.keys.server).Scan(&ok); err != nil {
		// The lock may have been granted just as ctx ended: ending the
		// session makes sure it is not left behind in the pool.
		closeConn(conn)
		conn.Release()
		return nil, s.fail(ctx, err)
	}
	if !ok {
		conn.Release()
		return nil, ErrLocked
	}
	l := &heldLock{s: s, conn: conn, exclusive: exclusive}
	// Registered under the same mutex under which Close marks the store
	// closed, so that either Close sees the lock and releases it, or this
	// sees Close and does: a lock Close missed would keep its connection,
	// and Close would wait for the pool for ever.
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		l.release()
		return nil, sqlstore.ErrClosed()
	}
	s.locks[l] = struct{}{}
	s.mu.Unlock()
	return l, nil
}

func (l *heldLock) release() {
	l.once.Do(func() {
		query := `SELECT pg_advisory_unlock_shared($1)`
		if l.exclusive {
			query = `SELECT pg_advisory_unlock($1)`
		}
		_ = unlockOrClose(l.conn, query, l.s.keys.server)
		l.s.mu.Lock()
		delete(l.s.locks, l)
		l.s.mu.Unlock()
		l.conn.Release()
	})
}

// lockCheckInterval is how often HoldServerLock checks that its session
// still holds the lock.
const lockCheckInterval = time.Second

// lockCheckTimeout bounds each check of the session and each attempt to
// take the lock again. It is much longer than the interval on purpose: a
// check that times out ends a session that may well still hold the lock,
// and a database slowed by load should not make a server let go of its
// lock (and a rotation in) because one answer took more than a second.
const lockCheckTimeout = 10 * time.Second

// watchServerLock runs check every lockCheckInterval until done is closed
// or check reports that the watch is over. It is a variable so that a test
// can run the checks on demand rather than on the clock.
var watchServerLock = func(done <-chan struct{}, check func() (more bool)) {
	t := time.NewTicker(lockCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if !check() {
			return
		}
	}
}

// HoldServerLock takes the server lock shared, as TryLock does, and keeps
// it: a session lock dies with its connection, so after the database
// restarts a running server would no longer keep a master-key rotation
// out, and would then serve with a key that no longer opens what the
// rotation re-encrypted. Every lockCheckInterval the session is checked;
// once it is found gone the lock is taken again as soon as the database
// answers. If a rotation took it first, lost is called once: the caller
// must stop serving. release stops the watch and gives the lock back.
func (s *Store) HoldServerLock(ctx context.Context, lost func(error)) (release func(), err error) {
	first, err := s.tryLock(ctx, false)
	if err != nil {
		return nil, err
	}
	var (
		mu      sync.Mutex
		current = first
		done    = make(chan struct{})
	)
	// check makes sure the lock is held, and reports whether the watch
	// goes on.
	check := func() bool {
		mu.Lock()
		select {
		case <-done:
			// Released while this waited: taking the lock again now
			// would keep it after release.
			mu.Unlock()
			return false
		default:
		}
		if current != nil && current.alive(lockCheckTimeout) {
			mu.Unlock()
			return true
		}
		if current != nil {
			current.release() // ends the broken session and returns it to the pool
			current = nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockCheckTimeout)
		next, err := s.tryLock(ctx, false)
		cancel()
		switch {
		case err == nil:
			current = next
		case errors.Is(err, ErrLocked):
			mu.Unlock()
			lost(errors.New("the server lock was lost when the database connection broke, and a master-key rotation holds it now"))
			return false
		}
		// Otherwise the database is still away: try again next time.
		mu.Unlock()
		return true
	}
	go watchServerLock(done, check) // read here, once: a test may swap it
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			mu.Lock()
			if current != nil {
				current.release()
				current = nil
			}
			mu.Unlock()
		})
	}, nil
}

// alive reports whether the lock's session still answers and holds it.
func (l *heldLock) alive(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted)`).Scan(&held)
	return err == nil && held
}
