package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// testUpdateReturnsFnError checks that Update hands back fn's error
// itself: core and the facades map errors by their usercenter.Error code,
// field and resource, so an engine must neither wrap nor replace them.
func testUpdateReturnsFnError(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	for _, want := range []error{
		errRefused,
		usercenter.Invalid(usercenter.FieldNickname, "is too long"),
		usercenter.NotFound(usercenter.ResourceUser),
		&usercenter.Error{Code: usercenter.EConflict, Field: "originId", Message: "taken"},
		usercenter.ErrorOf(context.DeadlineExceeded),
		fmt.Errorf("wrapped: %w", usercenter.NotFound("code")),
	} {
		// Both after a write and with none: an engine must not swap the
		// error for one of its own while rolling back.
		for _, write := range []bool{false, true} {
			err := s.Update(ctx, func(tx core.Tx) error {
				if write {
					if err := tx.SetMeta(ctx, "k", []byte("v")); err != nil {
						return err
					}
				}
				return want
			})
			if err != want {
				t.Fatalf("Update(write %v) returned %#v, want fn's %#v unchanged", write, err, want)
			}
		}
	}
	// An error a store method returns, handed straight back, keeps its
	// code and field.
	u := NewUser(1, "taken", Base)
	AddUser(t, s, u)
	again := NewUser(1, "taken", Base)
	var inner error
	err := s.Update(ctx, func(tx core.Tx) error {
		inner = tx.InsertUser(ctx, again)
		return inner
	})
	if err != inner {
		t.Fatalf("Update returned %v, want the InsertUser error %v unchanged", err, inner)
	}
	WantErr(t, err, usercenter.EConflict, "originId")
	if v, err := s.Meta(ctx, "k"); err != nil || v != nil {
		t.Fatalf("a failed Update's SetMeta was kept: %q, %v", v, err)
	}
}

// testUpdateRollsBack makes one Update write one of every kind of row,
// then fail: nothing of it may be kept, and the store is as before.
func testUpdateRollsBack(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	old := FullUser(1, "old", Base)
	AddUser(t, s, old)
	key := &core.KeyRecord{
		APIKey:          usercenter.APIKey{SecretID: "AKIDold", Name: "old", Apps: []uint64{1}, Permissions: []usercenter.Permission{usercenter.PermUsersRead}, CreatedAt: Base},
		SealedSecretKey: []byte("sk"),
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertKey(ctx, key) })
	appBefore, _ := s.App(ctx, 1)
	eventsBefore, _ := s.AuditEvents(ctx, usercenter.AuditFilter{Limit: 100})

	u := FullUser(1, "new", Base)
	changed := *old
	changed.Nickname = "changed"
	changed.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderApple: "apple-old"}
	renamed := *appBefore
	renamed.Name = "renamed"
	code := NewCode("rolled", old, usercenter.FieldPhone, Base.Add(time.Hour))
	err := s.Update(ctx, func(tx core.Tx) error {
		for _, step := range []func() error{
			func() error { return tx.InsertApp(ctx, NewApp(2)) },
			func() error { return tx.UpdateApp(ctx, &renamed) },
			func() error {
				return tx.InsertKey(ctx, &core.KeyRecord{
					APIKey:          usercenter.APIKey{SecretID: "AKIDnew", Name: "new", Apps: []uint64{1}, CreatedAt: Base},
					SealedSecretKey: []byte("sk"),
				})
			},
			func() error { return tx.RevokeKey(ctx, "AKIDold", Base) },
			func() error { return tx.InsertUser(ctx, u) },
			func() error { return tx.UpdateUser(ctx, &changed) },
			func() error {
				return tx.InsertToken(ctx, &core.Token{Hash: HashOf("tok"), UserID: u.ID, SdkAppID: 1, CreatedAt: Base, ExpiresAt: Base.Add(time.Hour)})
			},
			func() error { return tx.SetMeta(ctx, "m", []byte("v")) },
			func() error {
				return tx.InsertAudit(ctx, &usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditCreate, Actor: "x"})
			},
			func() error {
				return tx.UpdateSealed(ctx, core.SealedValue{Kind: core.SealedUserPhone, RowKey: old.ID, Value: []byte("rotated")})
			},
			func() error { return tx.InsertCode(ctx, code) },
			func() error { return tx.SetCodeAttempts(ctx, 1, old.ID, 3, Base) },
			func() error {
				return tx.InsertEnterpriseToken(ctx, &core.EnterpriseToken{Hash: HashOf("ent"), SecretID: "AKIDold", CreatedAt: Base, ExpiresAt: Base.Add(time.Hour)})
			},
		} {
			if err := step(); err != nil {
				return fmt.Errorf("setup: %w", err)
			}
		}
		return errRefused
	})
	if err != errRefused {
		t.Fatalf("Update = %v, want errRefused", err)
	}

	if apps, err := s.Apps(ctx); err != nil || len(apps) != 1 || apps[0].Name != appBefore.Name {
		t.Errorf("apps after a failed Update = %+v, %v", apps, err)
	}
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 1 || !keys[0].RevokedAt.IsZero() {
		t.Errorf("keys after a failed Update = %+v, %v", keys, err)
	}
	if _, err := s.User(ctx, u.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("inserted user kept: %v", err)
	}
	got, err := s.User(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, old)
	if _, err := s.UserByLink(ctx, 1, usercenter.ProviderApple, "apple-old"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("link kept: %v", err)
	}
	if _, err := s.Token(ctx, HashOf("tok")); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("token kept: %v", err)
	}
	if v, err := s.Meta(ctx, "m"); err != nil || v != nil {
		t.Errorf("meta kept: %q, %v", v, err)
	}
	if evs, err := s.AuditEvents(ctx, usercenter.AuditFilter{Limit: 100}); err != nil || len(evs) != len(eventsBefore) {
		t.Errorf("audit events after a failed Update = %+v, %v", evs, err)
	}
	if unusedCode(t, s, code.Hash) || codesStored(t, s) != 0 {
		t.Error("code kept")
	}
	if n, _ := Attempts(t, s, 1, old.ID); n != 0 {
		t.Errorf("code attempts kept: %d", n)
	}
	if _, err := s.EnterpriseToken(ctx, HashOf("ent")); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("enterprise token kept: %v", err)
	}
}

// testUpdateUserAndAuditAtomic checks the guarantee disclosures rest on:
// a user change and its audit event, written in one Update, are kept
// together or not at all.
func testUpdateUserAndAuditAtomic(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u := FullUser(1, "u", Base)
	AddUser(t, s, u)

	write := func(nickname string, result error) error {
		return s.Update(ctx, func(tx core.Tx) error {
			changed, err := tx.User(ctx, u.ID)
			if err != nil {
				return err
			}
			changed.Nickname = nickname
			changed.UpdatedAt = Base.Add(time.Minute)
			if err := tx.UpdateUser(ctx, changed); err != nil {
				return err
			}
			e := &usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditUpdate, Field: "nickname", Actor: "AKIDx", RequestID: nickname}
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
			// Both are visible inside the Tx before it ends.
			if got, err := tx.User(ctx, u.ID); err != nil || got.Nickname != nickname {
				t.Errorf("Tx reads user %+v, %v", got, err)
			}
			if evs, err := tx.AuditEvents(ctx, usercenter.AuditFilter{UserID: u.ID, Limit: 10}); err != nil || len(evs) == 0 || evs[len(evs)-1].RequestID != nickname {
				t.Errorf("Tx reads events %+v, %v", evs, err)
			}
			return result
		})
	}

	if err := write("failed", errRefused); err != errRefused {
		t.Fatalf("Update = %v, want errRefused", err)
	}
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, u)
	if evs, err := s.AuditEvents(ctx, usercenter.AuditFilter{UserID: u.ID, Limit: 10}); err != nil || len(evs) != 0 {
		t.Fatalf("events of a failed Update = %+v, %v", evs, err)
	}

	if err := write("kept", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.User(ctx, u.ID); err != nil || got.Nickname != "kept" {
		t.Fatalf("user after a committed Update = %+v, %v", got, err)
	}
	evs, err := s.AuditEvents(ctx, usercenter.AuditFilter{UserID: u.ID, Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].RequestID != "kept" || evs[0].Field != "nickname" {
		t.Fatalf("events of a committed Update = %+v, %v", evs, err)
	}
}

// testSwallowedErrorKeepsUpdate checks that a store call that fails inside
// an Update fails alone: fn may handle the error and go on, and what fn
// wrote before and after it is committed. (An engine whose transactions
// abort on the first error must isolate each call.)
func testSwallowedErrorKeepsUpdate(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	taken := NewUser(1, "taken", Base)
	AddUser(t, s, taken)
	before, after := NewUser(1, "before", Base), NewUser(1, "after", Base)
	sameID := NewUser(1, "same id", Base)
	sameID.ID = before.ID
	var failed []error
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, before); err != nil {
			return err
		}
		failed = []error{
			tx.InsertUser(ctx, NewUser(1, "taken", Base)),
			tx.InsertUser(ctx, sameID),
			tx.InsertApp(ctx, NewApp(1)),
			tx.InsertUser(ctx, NewUser(9, "x", Base)),
			tx.DeleteUser(ctx, "nobody"),
		}
		// Reads still work after the failures.
		if _, err := tx.User(ctx, before.ID); err != nil {
			return err
		}
		return tx.InsertUser(ctx, after)
	})
	for i, want := range []struct {
		code usercenter.Code
		what string
	}{
		{usercenter.EConflict, "originId"},
		{usercenter.EConflict, "userId"},
		{usercenter.EConflict, "sdkAppId"},
		{usercenter.ENotFound, usercenter.ResourceApp},
		{usercenter.ENotFound, usercenter.ResourceUser},
	} {
		WantErr(t, failed[i], want.code, want.what)
	}
	for _, u := range []*core.UserRecord{taken, before, after} {
		if _, err := s.User(ctx, u.ID); err != nil {
			t.Fatalf("user %s: %v", u.OriginID, err)
		}
	}
	if _, total, err := s.ListUsers(ctx, 1, 0, 0); err != nil || total != 3 {
		t.Fatalf("%d users, %v; want 3", total, err)
	}
}

// testUpdatePanic checks that a panic in fn becomes the Update's error,
// keeps nothing fn wrote, and leaves the store working.
func testUpdatePanic(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	panicker := NewUser(1, "panicker", Base)
	err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, panicker); err != nil {
			return err
		}
		if err := tx.InsertAudit(ctx, &usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: panicker.ID, Action: usercenter.AuditCreate, Actor: "x"}); err != nil {
			return err
		}
		panic("boom")
	})
	WantErr(t, err, usercenter.EInternal, "")
	if _, err := s.User(ctx, panicker.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("panicking Update's user was kept: %v", err)
	}
	if evs, err := s.AuditEvents(ctx, usercenter.AuditFilter{Limit: 10}); err != nil || len(evs) != 0 {
		t.Fatalf("panicking Update's event was kept: %+v, %v", evs, err)
	}
	// A panic with an error value is contained the same way.
	err = s.Update(ctx, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, panicker); err != nil {
			return err
		}
		panic(errRefused)
	})
	WantErr(t, err, usercenter.EInternal, "")
	if _, err := s.User(ctx, panicker.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("panicking Update's user was kept: %v", err)
	}
	// A nil fn is a panic too.
	WantErr(t, s.Update(ctx, nil), usercenter.EInternal, "")
	// The store lives on, and the same writes now succeed.
	AddUser(t, s, panicker)
	if _, err := s.User(ctx, panicker.ID); err != nil {
		t.Fatal(err)
	}
}

// testTxAfterUpdate checks that a Tx kept past its Update fails rather
// than writing outside any transaction.
func testTxAfterUpdate(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	var kept core.Tx
	MustUpdate(t, s, func(tx core.Tx) error { kept = tx; return nil })
	late := NewUser(1, "late", Base)
	WantErr(t, kept.InsertUser(ctx, late), usercenter.EInternal, "")
	_, err := kept.App(ctx, 1)
	WantErr(t, err, usercenter.EInternal, "")
	if _, err := s.User(ctx, late.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("a Tx used after its Update wrote: %v", err)
	}
}

// testCanceledContext checks that a canceled context fails an Update with
// the context's error and keeps nothing, whether it was canceled before
// the Update or while fn ran.
func testCanceledContext(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Update(cctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "early", []byte("x")) }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Update with a canceled ctx: %v", err)
	}
	if v, err := s.Meta(ctx, "early"); err != nil || v != nil {
		t.Fatalf("Update with a canceled ctx wrote: %q, %v", v, err)
	}

	// A ctx that ends while fn runs fails fn's later calls.
	cctx, cancel = context.WithCancel(ctx)
	u := NewUser(1, "x", Base)
	err := s.Update(cctx, func(tx core.Tx) error {
		cancel()
		return tx.InsertUser(cctx, u)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := s.User(ctx, u.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("a canceled Update wrote: %v", err)
	}
	AddUser(t, s, NewUser(1, "y", Base))
}

// testConcurrentUpdates runs many writers at once alongside readers: none
// may see an error, however the engine serializes them.
func testConcurrentUpdates(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	const n = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reads atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.ListUsers(ctx, 1, 0, 10); err != nil {
					t.Errorf("read: %v", err)
					return
				}
				reads.Add(1)
			}
		})
	}
	var writers sync.WaitGroup
	for i := range n {
		writers.Go(func() {
			u := NewUser(1, fmt.Sprint("user", i), Base.Add(time.Duration(i)))
			err := s.Update(ctx, func(tx core.Tx) error {
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
				return tx.SetMeta(ctx, "last", []byte(u.ID))
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if _, total, err := s.ListUsers(ctx, 1, 0, 0); err != nil || total != n {
		t.Fatalf("%d users, %v; want %d", total, err, n)
	}
	if reads.Load() == 0 {
		t.Fatal("no read ran alongside the writers")
	}
}

// testConcurrentSameOrigin races inserts of one OriginId: exactly one wins,
// and every other fails with EConflict on Field "OriginId".
func testConcurrentSameOrigin(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	const n = 50
	errs := make([]error, n)
	users := make([]*core.UserRecord, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		users[i] = NewUser(1, "same", Base)
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, users[i]) })
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			if won >= 0 {
				t.Fatalf("inserts %d and %d both succeeded", won, i)
			}
			won = i
			continue
		}
		WantErr(t, err, usercenter.EConflict, "originId")
	}
	if won < 0 {
		t.Fatal("no insert succeeded")
	}
	got, err := s.UserByOrigin(ctx, 1, "same")
	if err != nil || got.ID != users[won].ID {
		t.Fatalf("UserByOrigin = %+v, %v; want the winner %s", got, err, users[won].ID)
	}
}

// testConcurrentRegistration races 50 registrations of one (app, OriginId)
// the way core registers: look the OriginId up and insert if it is not
// found, in one Update. Whatever the interleaving, exactly one user
// results; an Update either succeeds (it inserted the user, or found it)
// or fails with EConflict on Field "OriginId" (it lost the race to insert)
// and never with any other error.
func testConcurrentRegistration(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	// The same OriginId in another app is another user, and no conflict.
	other := NewUser(2, "same", Base)
	AddUser(t, s, other)

	const n = 50
	errs := make([]error, n)
	users := make([]*core.UserRecord, n)
	inserted := make([]bool, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		users[i] = NewUser(1, "same", Base.Add(time.Duration(i)*time.Millisecond))
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				// An engine may run fn again; only the last run counts.
				inserted[i] = false
				_, err := tx.UserByOrigin(ctx, 1, "same")
				if usercenter.ErrorCode(err) != usercenter.ENotFound {
					return err // found (nil), or a real failure
				}
				if err := tx.InsertUser(ctx, users[i]); err != nil {
					return err
				}
				inserted[i] = true
				return nil
			})
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err != nil {
			WantErr(t, err, usercenter.EConflict, "originId")
			if _, err := s.User(ctx, users[i].ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
				t.Fatalf("registration %d failed but its user is stored: %v", i, err)
			}
			continue
		}
		if inserted[i] {
			if winner >= 0 {
				t.Fatalf("registrations %d and %d both inserted", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no registration inserted the user")
	}
	got, err := s.UserByOrigin(ctx, 1, "same")
	if err != nil || got.ID != users[winner].ID {
		t.Fatalf("UserByOrigin = %+v, %v; want the winner %s", got, err, users[winner].ID)
	}
	if _, total, err := s.ListUsers(ctx, 1, 0, 0); err != nil || total != 1 {
		t.Fatalf("app holds %d users, %v; want exactly 1", total, err)
	}
	if l, err := s.UsersByOrigin(ctx, []uint64{1, 2}, "same"); err != nil || len(l) != 2 || l[0].ID != users[winner].ID || l[1].ID != other.ID {
		t.Fatalf("UsersByOrigin = %+v, %v", l, err)
	}
}

// testClose checks that a closed store refuses work as unavailable, and
// that closing twice does no harm (open's cleanup closes it again).
func testClose(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	WantErr(t, s.Update(ctx, func(core.Tx) error { return nil }), usercenter.EUnavailable, "")
	_, err := s.App(ctx, 1)
	WantErr(t, err, usercenter.EUnavailable, "")
	WantErr(t, s.Ping(ctx), usercenter.EUnavailable, "")
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
