package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// fullStore is a store whose disk fills up and empties on demand: while
// full, every Update fails as the engines report a full disk.
type fullStore struct {
	core.Store
	full    atomic.Bool
	updates atomic.Int32
}

func (s *fullStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	s.updates.Add(1)
	if s.full.Load() {
		return &usercenter.Error{Code: usercenter.EUnavailable, Message: "the database's disk is full", Err: fmt.Errorf("%w: disk full (13)", core.ErrStorage)}
	}
	return s.Store.Update(ctx, fn)
}

// Ready fails from the write that found the disk full until a write
// succeeds again; while writes fail it tries one itself at most once a
// second, so that a node recovers once space is freed.
func TestReadyWhileWritesFail(t *testing.T) {
	store := &fullStore{Store: svctest.OpenDatabase(t, svctest.NewDatabase(t))}
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	clock := &frozenClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc, err := core.NewService(bg, store, ring, core.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Ready(bg); err != nil {
		t.Fatalf("Ready of a fresh service: %v", err)
	}

	store.full.Store(true)
	if _, _, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "full"}); usercenter.ErrorCode(err) != usercenter.EUnavailable {
		t.Fatalf("CreateApp on a full disk: %v, want unavailable", err)
	}
	before := store.updates.Load()
	if err := svc.Ready(bg); !errors.Is(err, core.ErrStorage) {
		t.Fatalf("Ready right after a write failed on a full disk: %v", err)
	}
	if n := store.updates.Load(); n != before {
		t.Fatalf("Ready probed %d times within a second of the failure", n-before)
	}

	clock.Advance(time.Second)
	if err := svc.Ready(bg); !errors.Is(err, core.ErrStorage) {
		t.Fatalf("Ready while the disk stays full: %v", err)
	}
	if n := store.updates.Load(); n != before+1 {
		t.Fatalf("Ready a second later probed %d times, want 1", n-before)
	}
	if err := svc.Ready(bg); err == nil || store.updates.Load() != before+1 {
		t.Fatalf("Ready again at once: %v, %d probes; want a failure without a probe", err, store.updates.Load()-before)
	}

	store.full.Store(false) // space freed
	clock.Advance(time.Second)
	if err := svc.Ready(bg); err != nil {
		t.Fatalf("Ready after space was freed: %v", err)
	}
	if _, _, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "again"}); err != nil {
		t.Fatalf("CreateApp after space was freed: %v", err)
	}

	// A write that succeeds ends the failure too, without a probe.
	store.full.Store(true)
	if _, _, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "full2"}); err == nil {
		t.Fatal("CreateApp on a full disk succeeded")
	}
	store.full.Store(false)
	if _, _, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "third"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Ready(bg); err != nil {
		t.Fatalf("Ready after a write succeeded: %v", err)
	}
}
