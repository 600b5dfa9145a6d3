package postgres_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
)

// TestContractNodes runs the contract's two-node tests on two stores, as
// two nodes would open them, on one schema.
func TestContractNodes(t *testing.T) {
	storetest.RunNodes(t, func(t *testing.T) (core.Store, core.Store) {
		dsn := pgtest.DSN(t)
		return openDSN(t, dsn), openDSN(t, dsn)
	})
}

func openDSN(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBatchOneFailingUpdate runs the contract's test of failing Updates
// among others until the store has run them in batches, so that what it
// checks is checked of a batch: a failing Update fails alone.
func TestBatchOneFailingUpdate(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	taken := newUser(1, "taken", base)
	update(t, s, func(tx core.Tx) error { return tx.InsertUser(ctx, taken) })
	for round := 0; s.LargestBatch() < 4; round++ {
		if round == 50 {
			t.Fatalf("50 rounds of 24 concurrent Updates made no batch of more than %d", s.LargestBatch())
		}
		storetest.BatchOneFailingUpdate(t, s, 1)
		if t.Failed() {
			return
		}
	}
	t.Logf("largest batch: %d Updates", s.LargestBatch())
}

// crashDSNVar hands TestCrashChild the schema of TestKill9.
const crashDSNVar = "USERCENTER_TEST_CRASH_DSN"

// TestCrashChild is the process that TestKill9 kills.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashDSNVar)
	if os.Getenv(storetest.CrashEnv) == "" || dsn == "" {
		t.Skip("the process that TestKill9 starts and kills")
	}
	storetest.CrashChild(func() core.Store {
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestKill9 kills a process with batches of registrations in flight: every
// registration it acknowledged is stored.
func TestKill9(t *testing.T) {
	dsn := pgtest.DSN(t)
	storetest.Kill9(t, "TestCrashChild", []string{crashDSNVar + "=" + dsn}, func() core.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 500)
}

// TestBatchRunsAlone has an Update write in a batch and then call a method
// that needs SERIALIZABLE isolation: its batched run stops there and is
// undone, and it runs again alone, whose writes alone are kept.
func TestBatchRunsAlone(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u := newUser(1, "alone", base)
	var runs, counted int
	err := s.Update(ctx, func(tx core.Tx) error {
		runs++
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		n, err := tx.LiveTokens(ctx, u.ID, base) // a count: not in a batch
		if err != nil {
			return err
		}
		counted++
		return tx.SetMeta(ctx, "live", []byte(strconv.Itoa(n)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || counted != 1 {
		t.Fatalf("fn ran %d times and counted %d times; want 2 runs, the batched one stopped at the count", runs, counted)
	}
	if n := scalar[int64](t, s, `SELECT count(*) FROM users WHERE origin_id = 'alone'`); n != 1 {
		t.Fatalf("%d users stored, want 1", n)
	}
	if v, err := s.Meta(ctx, "live"); err != nil || string(v) != "0" {
		t.Fatalf("Meta = %q, %v; want 0", v, err)
	}
}

// TestBatchTakenOriginAlone runs rounds of concurrent registrations, one
// of whose OriginId is taken, until the store has run them in batches. A
// batch's first run sends its users' INSERTs only with COMMIT (see
// heldSteps), so the taken one is refused there, after its fn returned
// nil: only that registration fails, with EConflict on OriginId, and the
// others of its batch are stored whole and counted.
func TestBatchTakenOriginAlone(t *testing.T) { batchTakenOriginAlone(t, false) }

// TestBatchTakenOriginFlushedEarly: the same, where every registration but
// the taken one reads a user after its InsertUser. A read sends the
// batch's held INSERTs first (detached.flush), so the taken INSERT, held
// by an earlier fn of the batch, is refused on a later fn's read, whose
// fn sees the error; the rerun with a savepoint per Update must still
// fail the taken registration alone.
func TestBatchTakenOriginFlushedEarly(t *testing.T) { batchTakenOriginAlone(t, true) }

func batchTakenOriginAlone(t *testing.T, readAfterInsert bool) {
	s := openStore(t)
	addApps(t, s, 1)
	update(t, s, func(tx core.Tx) error { return tx.InsertUser(ctx, newUser(1, "taken", base)) })
	reread := newUser(1, "reread", base)
	update(t, s, func(tx core.Tx) error { return tx.InsertUser(ctx, reread) })
	const n, taken = 16, 5
	stored := 2
	for round := 0; round == 0 || s.LargestBatch() < 4; round++ {
		if round == 50 {
			t.Fatalf("50 rounds of %d concurrent Updates made no batch of more than %d", n, s.LargestBatch())
		}
		users := make([]*core.UserRecord, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			origin := "r" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
			if i == taken {
				origin = "taken"
			}
			users[i] = newUser(1, origin, base.Add(time.Duration(i)*time.Millisecond))
			wg.Go(func() {
				<-start
				u := users[i]
				errs[i] = s.Update(ctx, func(tx core.Tx) error {
					if err := tx.InsertUser(ctx, u); err != nil {
						return err
					}
					if readAfterInsert && i != taken {
						if _, err := tx.User(ctx, reread.ID); err != nil {
							return err
						}
					}
					if err := tx.InsertAudit(ctx, &usercenter.AuditEvent{At: base, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditCreate, Actor: "test"}); err != nil {
						return err
					}
					return tx.InsertToken(ctx, &core.Token{Hash: hashOf(u.ID), UserID: u.ID, SdkAppID: 1, CreatedAt: base, ExpiresAt: base.Add(time.Hour)})
				})
			})
		}
		close(start)
		wg.Wait()
		for i, u := range users {
			_, uerr := s.User(ctx, u.ID)
			_, terr := s.Token(ctx, hashOf(u.ID))
			if i == taken {
				wantErr(t, errs[i], usercenter.EConflict, "originId")
				if usercenter.ErrorCode(uerr) != usercenter.ENotFound || usercenter.ErrorCode(terr) != usercenter.ENotFound {
					t.Errorf("round %d: the refused registration left its user (%v) or its token (%v)", round, uerr, terr)
				}
				continue
			}
			if errs[i] != nil || uerr != nil || terr != nil {
				t.Errorf("round %d: registration %d beside the refused one: %v; user %v, token %v", round, i, errs[i], uerr, terr)
			}
		}
		stored += n - 1
		st, err := s.UserStats(ctx, 1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Active != stored {
			t.Errorf("round %d: the app counts %d active users, want %d", round, st.Active, stored)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("largest batch: %d Updates", s.LargestBatch())
}
