package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// increment runs an Update that reads meta "counter" and writes it back
// plus one. The first run of each of the two calls waits at ready until
// both have read, so that they conflict for sure: each read what the
// other then writes, which SERIALIZABLE cannot let both commit.
func increment(s core.Store, runs *atomic.Int32, ready *sync.WaitGroup, swallow bool) error {
	first := true
	return s.Update(ctx, func(tx core.Tx) error {
		v, err := tx.Meta(ctx, "counter")
		if err != nil {
			return err
		}
		// Counted once it has read: in a batch the read stops fn, which
		// runs again alone (see postgres.Update).
		runs.Add(1)
		if first {
			first = false
			ready.Done()
			ready.Wait()
		}
		n, _ := strconv.Atoi(string(v))
		err = tx.SetMeta(ctx, "counter", []byte(strconv.Itoa(n+1)))
		if swallow {
			// Even if fn carries on as though nothing happened, a lost
			// race cannot commit.
			return nil
		}
		return err
	})
}

func TestRetrySerializationConflict(t *testing.T) {
	for _, swallow := range []bool{false, true} {
		t.Run(fmt.Sprintf("swallow=%v", swallow), func(t *testing.T) {
			s := openStore(t)
			update(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "counter", []byte("0")) })
			var (
				runs  atomic.Int32
				ready sync.WaitGroup
				wg    sync.WaitGroup
			)
			ready.Add(2)
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() { errs[i] = increment(s, &runs, &ready, swallow) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("Update %d: %v", i, err)
				}
			}
			if v, _ := s.Meta(ctx, "counter"); string(v) != "2" {
				t.Fatalf("counter = %s, want 2: an increment was lost", v)
			}
			// Both ran once, and the loser at least once more (again if
			// its retry still met the winner's transaction).
			if n := runs.Load(); n < 3 {
				t.Fatalf("fn ran %d times, want at least 3", n)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	s, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	update(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "counter", []byte("0")) })
	var (
		runs  atomic.Int32
		ready sync.WaitGroup
		wg    sync.WaitGroup
	)
	ready.Add(2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { errs[i] = increment(s, &runs, &ready, false) })
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			wantErr(t, err, usercenter.EUnavailable, "")
			failed++
		}
	}
	if failed != 1 || runs.Load() != 2 {
		t.Fatalf("%d Updates failed after %d runs; want 1 after 2 (no retries)", failed, runs.Load())
	}
	if v, _ := s.Meta(ctx, "counter"); string(v) != "1" {
		t.Fatalf("counter = %s, want 1", v)
	}
}

// TestRetryDeadlock has two Updates change two apps in opposite orders.
// PostgreSQL breaks the deadlock by failing one, which runs again.
func TestRetryDeadlock(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	var (
		runs  atomic.Int32
		ready sync.WaitGroup
		wg    sync.WaitGroup
	)
	ready.Add(2)
	errs := make([]error, 2)
	for i, order := range [][]uint64{{1, 2}, {2, 1}} {
		wg.Go(func() {
			first := true
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				runs.Add(1)
				for j, id := range order {
					a := newApp(id)
					a.Name = fmt.Sprintf("by %d", i)
					if err := tx.UpdateApp(ctx, a); err != nil {
						return err
					}
					if j == 0 && first {
						first = false
						ready.Done()
						ready.Wait()
					}
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	if n := runs.Load(); n < 3 {
		t.Fatalf("fn ran %d times, want at least 3", n)
	}
	a1, _ := s.App(ctx, 1)
	a2, _ := s.App(ctx, 2)
	if a1.Name != a2.Name {
		t.Fatalf("apps named %q and %q: the Updates interleaved", a1.Name, a2.Name)
	}
}

// TestUpdateHonoursDeadline blocks an Update on a row lock held by another
// session: its ctx's deadline ends it, with EUnavailable, and the store
// works on. The ctx ends only once the statement waits for the lock, so
// that it is the blocked statement that it ends however long the Update
// took to get there; the deadline is an expiringCtx, which passes when the
// test says rather than on a timer.
func TestUpdateHonoursDeadline(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	holder, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `UPDATE apps SET name = 'held' WHERE sdk_app_id = 1`); err != nil {
		t.Fatal(err)
	}
	var holderPID int32
	if err := holder.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&holderPID); err != nil {
		t.Fatal(err)
	}
	// blockedPIDs lists the sessions waiting for the holder's lock. An
	// Update whose ctx ended may leave its session waiting there until the
	// holder is done (the server notices no client gone meanwhile), so a
	// new wait is told by a new session.
	blockedPIDs := func(t *testing.T) []int32 {
		return scalar[[]int32](t, s, `SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, holderPID)
	}

	for _, c := range []struct {
		name string
		ctx  func() (context.Context, func())
		is   error
		code usercenter.Code
	}{
		{"deadline", func() (context.Context, func()) {
			c := newExpiringCtx()
			return c, c.expire
		}, context.DeadlineExceeded, usercenter.EUnavailable},
		{"cancel", func() (context.Context, func()) {
			return context.WithCancel(ctx)
		}, context.Canceled, usercenter.EInternal},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := blockedPIDs(t)
			cctx, end := c.ctx()
			defer end()
			var ran atomic.Bool
			done := make(chan error, 1)
			go func() {
				done <- s.Update(cctx, func(tx core.Tx) error {
					ran.Store(true)
					a := newApp(1)
					a.Name = "blocked"
					return tx.UpdateApp(cctx, a)
				})
			}()
			waiting := waitFor(time.Minute, func() bool {
				select {
				case err := <-done:
					t.Fatalf("Update returned before its ctx ended: %v", err)
				default:
				}
				return slices.ContainsFunc(blockedPIDs(t), func(pid int32) bool { return !slices.Contains(before, pid) })
			})
			if !waiting {
				t.Fatal("the Update's statement did not wait for the row lock")
			}
			end()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatal("the Update did not end when its ctx did")
			}
			if !ran.Load() || !errors.Is(err, c.is) {
				t.Fatalf("Update = %v (fn ran: %v), want %v", err, ran.Load(), c.is)
			}
			wantErr(t, err, c.code, "")
		})
	}
	holder.Rollback(ctx)
	if a, err := s.App(ctx, 1); err != nil || a.Name != newApp(1).Name {
		t.Fatalf("App = %+v, %v; want unchanged", a, err)
	}
	a := newApp(1)
	a.Name = "later"
	update(t, s, func(tx core.Tx) error { return tx.UpdateApp(ctx, a) })
}

// expiringCtx is a context whose deadline passes when expire is called.
type expiringCtx struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newExpiringCtx() *expiringCtx {
	return &expiringCtx{Context: ctx, done: make(chan struct{})}
}

func (c *expiringCtx) Done() <-chan struct{} { return c.done }

func (c *expiringCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *expiringCtx) expire() { c.once.Do(func() { close(c.done) }) }

// TestAuditIDsInCommitOrder has a transaction commit an audit event while
// another, which drew a lower ID, is still open: a read of the trail
// waits for the open one, so that it never returns the higher ID without
// the lower one (a cursor would skip it for good).
func TestAuditIDsInCommitOrder(t *testing.T) {
	s := openStore(t)
	first := &usercenter.AuditEvent{At: base, SdkAppID: 1, UserID: "u", Action: usercenter.AuditCreate, Actor: "a"}
	second := *first
	inserted, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	defer letGo() // a failing test must not leave the Update open: Close would wait for it
	done1 := make(chan error, 1)
	go func() {
		done1 <- s.Update(ctx, func(tx core.Tx) error {
			// A read of Meta makes the Update run alone, where the
			// event's ID is drawn at once, while the transaction stays
			// open; a batch would draw it only as it commits.
			if _, err := tx.Meta(ctx, "x"); err != nil {
				return err
			}
			if err := tx.InsertAudit(ctx, first); err != nil {
				return err
			}
			e := *first
			if err := tx.InsertAudit(ctx, &e); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	<-inserted
	// Writers of events do not wait for each other.
	update(t, s, func(tx core.Tx) error { return tx.InsertAudit(ctx, &second) })
	if second.ID <= first.ID {
		t.Fatalf("second event got ID %d, first %d", second.ID, first.ID)
	}
	read := make(chan []usercenter.AuditEvent, 1)
	go func() {
		evs, err := s.AuditEvents(ctx, usercenter.AuditFilter{Limit: 10})
		if err != nil {
			t.Error(err)
		}
		read <- evs
	}()
	// The read waits for the audit lock the open transaction holds shared:
	// seen in pg_locks, not guessed from how long it has not returned.
	_, _, auditKey := s.LockKeys()
	waiting := waitFor(time.Minute, func() bool {
		select {
		case evs := <-read:
			t.Fatalf("AuditEvents returned %+v while a lower ID was uncommitted", evs)
		default:
		}
		return scalar[int64](t, s, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND ((classid::bigint << 32) | objid::bigint) = $1`, auditKey) > 0
	})
	if !waiting {
		t.Fatal("AuditEvents did not wait for the audit lock while a lower ID was uncommitted")
	}
	// A read with a deadline gives up with EUnavailable.
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := s.AuditEvents(dctx, usercenter.AuditFilter{Limit: 10})
	wantErr(t, err, usercenter.EUnavailable, "")

	letGo()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if evs := <-read; len(evs) != 3 || evs[0].ID != first.ID || evs[2].ID != second.ID {
		t.Fatalf("AuditEvents = %+v", evs)
	}
}

// TestUnstorableText covers text PostgreSQL cannot hold (invalid UTF-8, a
// NUL), which SQLite would store: no row can hold it, so lookups by it
// find nothing, as they would in SQLite; writing it fails with EInvalid
// and, like any failed write, leaves the transaction usable.
func TestUnstorableText(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	for _, bad := range []string{"\xff", "a\x00b"} {
		_, err := s.User(ctx, bad)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
		_, err = s.UserByOrigin(ctx, 1, bad)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
		_, err = s.UserByLink(ctx, 1, usercenter.ProviderQQ, bad)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
		_, err = s.Key(ctx, bad)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceKey)
		_, err = s.AppByDomain(ctx, bad)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceApp)
		if v, err := s.Meta(ctx, bad); v != nil || err != nil {
			t.Fatalf("Meta(%q) = %q, %v", bad, v, err)
		}
		if l, err := s.UsersByOrigin(ctx, []uint64{1}, bad); len(l) != 0 || err != nil {
			t.Fatalf("UsersByOrigin(%q) = %+v, %v", bad, l, err)
		}
		if l, err := s.AuditEvents(ctx, usercenter.AuditFilter{UserID: bad, Limit: 10}); len(l) != 0 || err != nil {
			t.Fatalf("AuditEvents(%q) = %+v, %v", bad, l, err)
		}
		wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.DeleteUser(ctx, bad) }), usercenter.ENotFound, usercenter.ResourceUser)
		wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.RevokeKey(ctx, bad, base) }), usercenter.ENotFound, usercenter.ResourceKey)
		wantErr(t, s.Update(ctx, func(tx core.Tx) error {
			return tx.InsertToken(ctx, &core.Token{Hash: hashOf(bad), UserID: bad, SdkAppID: 1, CreatedAt: base, ExpiresAt: base})
		}), usercenter.ENotFound, usercenter.ResourceUser)

		good := newUser(1, "good"+strconv.Itoa(len(bad)), base)
		update(t, s, func(tx core.Tx) error {
			u := newUser(1, "bad", base)
			u.Nickname = bad
			wantErr(t, tx.InsertUser(ctx, u), usercenter.EInvalid, "")
			return tx.InsertUser(ctx, good)
		})
		if _, err := s.User(ctx, good.ID); err != nil {
			t.Fatalf("the write after a refused one was lost: %v", err)
		}
	}
}

// TestTxReadErrorLosesTransaction checks that after an error PostgreSQL
// aborted the transaction for, the Tx refuses further calls and the
// Update fails even if fn ignores the error.
func TestTxReadErrorLosesTransaction(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u := newUser(1, "u", base)
	err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		// An UpdateApp whose value PostgreSQL refuses (a NUL in the name)
		// is not in a savepoint, so it costs the transaction.
		a := newApp(1)
		a.Name = "x\x00y"
		wantErr(t, tx.UpdateApp(ctx, a), usercenter.EInvalid, "")
		_, err := tx.App(ctx, 1)
		wantErr(t, err, usercenter.EInternal, "")
		return nil
	})
	wantErr(t, err, usercenter.EInternal, "")
	if _, err := s.User(ctx, u.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("a lost transaction committed: %v", err)
	}
}
