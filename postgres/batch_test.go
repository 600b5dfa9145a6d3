package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"

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
