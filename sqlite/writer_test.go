package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// holdWriter occupies the writer goroutine until the returned func is
// called, so that Updates sent meanwhile queue up and are committed as one
// batch.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(core.Tx) error {
			close(started)
			<-gate
			return nil
		})
	}()
	<-started
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// waitQueued waits until n requests are queued for the writer. The bound
// only stops a broken test; a loaded machine may take seconds.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(s.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Updates queued", len(s.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

var errRefused = errors.New("refused")

// TestBatchIsolation commits a batch in which some Updates fail after
// writing, and checks that exactly the others were kept.
func TestBatchIsolation(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	const n = 100 // below maxBatch: one batch
	release := holdWriter(t, s)
	users := make([]*core.UserRecord, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		users[i] = newUser(1, fmt.Sprint("user", i), base)
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				if err := tx.InsertUser(ctx, users[i]); err != nil {
					return err
				}
				if i%3 == 0 {
					return errRefused
				}
				if i%7 == 0 {
					// An error fn swallows does not spoil the batch.
					err := tx.InsertUser(ctx, users[i])
					if usercenter.ErrorCode(err) != usercenter.EConflict {
						return fmt.Errorf("duplicate insert: %v", err)
					}
				}
				return nil
			})
		})
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()

	for i, err := range errs {
		_, rerr := s.User(ctx, users[i].ID)
		if i%3 == 0 {
			if err != errRefused {
				t.Errorf("update %d: got %v, want errRefused", i, err)
			}
			if usercenter.ErrorCode(rerr) != usercenter.ENotFound {
				t.Errorf("update %d failed but its user was kept: %v", i, rerr)
			}
		} else {
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
			if rerr != nil {
				t.Errorf("update %d succeeded but its user is missing: %v", i, rerr)
			}
		}
	}
	_, total, _ := s.ListUsers(ctx, 1, 0, 0)
	if want := n - (n+2)/3; total != want {
		t.Fatalf("%d users stored, want %d", total, want)
	}
}

// TestRegistrationBatched runs the registration race of the contract
// inside one group commit: each Update sees the writes of the savepoints
// before it, so the first inserts and every other finds that user.
func TestRegistrationBatched(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	const n = 50
	release := holdWriter(t, s)
	errs := make([]error, n)
	inserted := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				_, err := tx.UserByOrigin(ctx, 1, "same")
				if usercenter.ErrorCode(err) != usercenter.ENotFound {
					return err
				}
				inserted[i] = true
				return tx.InsertUser(ctx, newUser(1, "same", base))
			})
		})
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()
	inserts := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("registration %d: %v", i, err)
		}
		if inserted[i] {
			inserts++
		}
	}
	if _, total, err := s.ListUsers(ctx, 1, 0, 0); err != nil || total != 1 || inserts != 1 {
		t.Fatalf("%d users from %d inserts, %v; want 1 from 1", total, inserts, err)
	}
}

// TestPanicContained panics in the middle of a batch: the panic fails its
// own Update only, and its neighbours in the shared transaction commit.
func TestPanicContained(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	release := holdWriter(t, s)
	before, after := newUser(1, "before", base), newUser(1, "after", base)
	panicker := newUser(1, "panicker", base)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	send := func(i int, fn func(core.Tx) error) {
		wg.Go(func() { errs[i] = s.Update(ctx, fn) })
		waitQueued(t, s, i+1) // keep the order within the batch
	}
	send(0, func(tx core.Tx) error { return tx.InsertUser(ctx, before) })
	send(1, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, panicker); err != nil {
			return err
		}
		panic("boom")
	})
	send(2, func(tx core.Tx) error { return tx.InsertUser(ctx, after) })
	release()
	wg.Wait()

	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("neighbours of the panic failed: %v, %v", errs[0], errs[2])
	}
	wantErr(t, errs[1], usercenter.EInternal, "")
	if _, err := s.User(ctx, panicker.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("panicking Update's write was kept: %v", err)
	}
	for _, u := range []*core.UserRecord{before, after} {
		if _, err := s.User(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The writer lives on.
	addUser(t, s, newUser(1, "later", base))
}

func TestCanceledWhileQueued(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	release := holdWriter(t, s)
	cctx, cancel := context.WithCancel(ctx)
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- s.Update(cctx, func(tx core.Tx) error {
			ran = true
			return nil
		})
	}()
	waitQueued(t, s, 1)
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if ran {
		t.Fatal("fn of a canceled Update ran")
	}

	// A ctx that ends while fn runs fails fn's later calls, not the batch
	// it shares: its neighbour commits.
	release = holdWriter(t, s)
	cctx, cancel = context.WithCancel(ctx)
	u, neighbour := newUser(1, "x", base), newUser(1, "y", base)
	canceled, other := make(chan error, 1), make(chan error, 1)
	go func() {
		canceled <- s.Update(cctx, func(tx core.Tx) error {
			cancel()
			return tx.InsertUser(cctx, u)
		})
	}()
	waitQueued(t, s, 1)
	go func() { other <- s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, neighbour) }) }()
	waitQueued(t, s, 2)
	release()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if err := <-other; err != nil {
		t.Fatalf("neighbour of a canceled Update: %v", err)
	}
	if _, err := s.User(ctx, u.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("canceled Update wrote: %v", err)
	}
	if _, err := s.User(ctx, neighbour.ID); err != nil {
		t.Fatalf("neighbour of a canceled Update: %v", err)
	}
}

// TestClose closes the store with Updates queued: they are still
// committed, and survive a reopen. (What a closed store answers is the
// contract's.)
func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addApps(t, s, 1)

	// Updates queued when Close is called are still committed.
	release := holdWriter(t, s)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				return tx.InsertUser(ctx, newUser(1, fmt.Sprint("u", i), base))
			})
		})
	}
	waitQueued(t, s, n)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	for !s.closed.Load() {
		time.Sleep(time.Millisecond)
	}
	wantErr(t, s.Update(ctx, func(core.Tx) error { return nil }), usercenter.EUnavailable, "")
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued update %d: %v", i, err)
		}
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, total, err := s.ListUsers(ctx, 1, 0, 0); err != nil || total != n {
		t.Fatalf("after reopen: %d users, %v; want %d", total, err, n)
	}
}

func BenchmarkUpdate(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	var seq atomic.Int64
	// Many more writers than CPUs, as a server has, so that commits are
	// shared.
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			u := newUser(1, fmt.Sprint("user", i), base)
			if err := s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkUserRead(b *testing.B) {
	s := openStore(b)
	addApps(b, s, 1)
	ids := make([]string, 1000)
	update(b, s, func(tx core.Tx) error {
		for i := range ids {
			u := newUser(1, fmt.Sprint("user", i), base)
			ids[i] = u.ID
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.User(ctx, ids[rand.IntN(len(ids))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestLostTransaction makes one Update hit SQLITE_FULL, after which SQLite
// may have rolled back the whole transaction. Every caller must then be
// told the truth: an Update reported as committed is stored and one
// reported as failed is not, and Updates not yet run get a fresh
// transaction.
func TestLostTransaction(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	var pages int
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// Room for small writes, but not for a megabyte.
	if _, err := s.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+20)); err != nil {
		t.Fatal(err)
	}

	release := holdWriter(t, s)
	users := []*core.UserRecord{newUser(1, "a", base), nil, newUser(1, "c", base)}
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				if i == 1 {
					return tx.SetMeta(ctx, "big", make([]byte, 1<<20))
				}
				return tx.InsertUser(ctx, users[i])
			})
		})
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()

	// A full database is unavailable, retried later, for the Update that
	// filled it and the one that shared its lost transaction.
	wantErr(t, errs[0], usercenter.EUnavailable, "")
	wantErr(t, errs[1], usercenter.EUnavailable, "")
	if errs[2] != nil {
		t.Fatalf("update after the lost transaction: %v", errs[2])
	}
	for i, u := range users {
		if u == nil {
			continue
		}
		_, err := s.User(ctx, u.ID)
		if stored := err == nil; stored != (errs[i] == nil) {
			t.Errorf("update %d: reported %v, stored %v", i, errs[i], stored)
		}
	}
	if v, err := s.Meta(ctx, "big"); err != nil || v != nil {
		t.Fatalf("failed SetMeta stored %d bytes, %v", len(v), err)
	}
	addUser(t, s, newUser(1, "d", base))
}

// TestSnapshotsDoNotDeadlock has every read connection held by a snapshot
// that then runs a query not prepared in advance: had a snapshot waited for
// a second connection to prepare it, they would all wait for ever.
func TestSnapshotsDoNotDeadlock(t *testing.T) {
	s := openStore(t)
	n := s.rdb.Stats().MaxOpenConnections
	done := make(chan struct{})
	go func() {
		defer close(done)
		var all, wg sync.WaitGroup
		all.Add(n)
		for i := range n {
			wg.Go(func() {
				err := s.snapshot(ctx, func(ctx context.Context, q runner) error {
					var one int
					if err := q.queryRow(ctx, reads.Meta, "x").Scan(&one); err != sql.ErrNoRows {
						return fmt.Errorf("first query: %v", err)
					}
					all.Done()
					all.Wait() // now every connection is taken
					return q.queryRow(ctx, "SELECT 1 + ?", i).Scan(&one)
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("snapshot reads deadlocked")
	}
}

// TestUnjournaledRunsOnce: a batch whose Updates either succeed or fail
// before writing commits in its first, unjournaled run; each fn runs once.
func TestUnjournaledRunsOnce(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	addUser(t, s, newUser(1, "taken", base))
	const n = 40
	release := holdWriter(t, s)
	errs := make([]error, n)
	runs := make([]atomic.Int32, n)
	users := make([]*core.UserRecord, n)
	var wg sync.WaitGroup
	for i := range n {
		users[i] = newUser(1, fmt.Sprint("u", i), base)
		if i%4 == 0 {
			users[i].OriginID = "taken" // refused by the first statement: nothing to undo
		}
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				runs[i].Add(1)
				if err := tx.InsertUser(ctx, users[i]); err != nil {
					return err
				}
				return tx.InsertAudit(ctx, &usercenter.AuditEvent{At: base, SdkAppID: 1, UserID: users[i].ID, Action: usercenter.AuditCreate})
			})
		})
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()
	for i := range n {
		if got := runs[i].Load(); got != 1 {
			t.Errorf("update %d ran %d times, want once", i, got)
		}
		if i%4 == 0 {
			wantErr(t, errs[i], usercenter.EConflict, "originId")
		} else if errs[i] != nil {
			t.Errorf("update %d: %v", i, errs[i])
		}
	}
	if got := count(t, s, "users", "sdk_app_id = 1"); got != 1+n-n/4 {
		t.Fatalf("%d users, want %d", got, 1+n-n/4)
	}
}

// TestUnjournaledRedoneWithSavepoints: when a Tx method fails after
// writing part of what it does, and fn shrugs the error off, only a
// savepoint can undo that part. The batch then runs again with savepoints,
// and every Update gets the outcome it would have had alone.
func TestUnjournaledRedoneWithSavepoints(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	owner := fullUser(1, "owner", base)
	addUser(t, s, owner)
	release := holdWriter(t, s)
	var (
		wg                 sync.WaitGroup
		before, after      = newUser(1, "before", base), newUser(1, "after", base)
		half, kept         = fullUser(1, "half", base), newUser(1, "kept", base)
		runs               [3]atomic.Int32
		errBefore, errHalf error
		errAfter           error
		swallowed          error
	)
	// Its row goes in, then its qq link conflicts with the owner's.
	half.ThirdParty[usercenter.ProviderQQ] = owner.ThirdParty[usercenter.ProviderQQ]
	wg.Go(func() {
		errBefore = s.Update(ctx, func(tx core.Tx) error { runs[0].Add(1); return tx.InsertUser(ctx, before) })
	})
	waitQueued(t, s, 1)
	wg.Go(func() {
		errHalf = s.Update(ctx, func(tx core.Tx) error {
			runs[1].Add(1)
			swallowed = tx.InsertUser(ctx, half)
			return tx.InsertUser(ctx, kept)
		})
	})
	waitQueued(t, s, 2)
	wg.Go(func() {
		errAfter = s.Update(ctx, func(tx core.Tx) error { runs[2].Add(1); return tx.InsertUser(ctx, after) })
	})
	waitQueued(t, s, 3)
	release()
	wg.Wait()
	for i, err := range []error{errBefore, errHalf, errAfter} {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		// The unjournaled run stops at the spoiled Update; the batch then
		// runs again from the start.
		if want := map[int]int32{0: 2, 1: 2, 2: 1}[i]; runs[i].Load() != want {
			t.Errorf("update %d ran %d times, want %d", i, runs[i].Load(), want)
		}
	}
	wantErr(t, swallowed, usercenter.EConflict, "thirdPartyIds.qq")
	if _, err := s.User(ctx, half.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("the user whose link conflicted was kept: %v", err)
	}
	for _, u := range []*core.UserRecord{before, kept, after, owner} {
		if _, err := s.User(ctx, u.ID); err != nil {
			t.Fatalf("user %s: %v", u.OriginID, err)
		}
	}
}

// TestAcknowledgedIsCommitted checks the half of durability that is the
// writer's: an Update returns nil only once COMMIT has returned. Each
// Update, as soon as it returns, looks for its row through a connection
// of its own, outside the store: SQLite shows another connection only a
// committed transaction, and with synchronous=FULL (TestOpenSettings)
// COMMIT returns only after fsyncing the WAL. So what was acknowledged
// survives a power cut, not just the process's death (which
// cmd/usercenter's TestCrashSafety covers). Batches of both kinds run:
// unjournaled ones, and ones run again with savepoints because an Update
// fails after writing.
func TestAcknowledgedIsCommitted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "u.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addApps(t, s, 1)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			u := newUser(1, fmt.Sprint("u", i), base)
			err := s.Update(ctx, func(tx core.Tx) error {
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
				if i%50 == 0 {
					return errRefused // after writing: its batch runs again with savepoints
				}
				return nil
			})
			var seen int
			if qerr := other.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE user_id = ?`, u.ID).Scan(&seen); qerr != nil {
				errs <- qerr
				return
			}
			switch {
			case err == nil && seen != 1:
				errs <- fmt.Errorf("update %d was acknowledged before its transaction committed", i)
			case err != nil && seen != 0:
				errs <- fmt.Errorf("update %d failed (%v) but its row is visible", i, err)
			case err != nil && err != errRefused:
				errs <- fmt.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
