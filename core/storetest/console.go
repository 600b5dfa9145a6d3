package storetest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

func init() {
	tests = append(tests,
		test{"ConsoleAccounts", testConsoleAccounts},
		test{"ConsoleLinks", testConsoleLinks},
		test{"ConsoleSessions", testConsoleSessions},
		test{"ConsoleAttempts", testConsoleAttempts},
	)
}

func consoleAccount(id, email string) *core.ConsoleAccountRecord {
	return &core.ConsoleAccountRecord{ConsoleAccount: usercenter.ConsoleAccount{
		ID: id, Email: email, Role: usercenter.RoleViewer, Status: usercenter.ConsoleInvited, CreatedAt: Base,
	}}
}

func hash32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func testConsoleAccounts(t *testing.T, s core.Store) {
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, NewApp(1400000001)) })
	full := consoleAccount("acc-b", "b@example.com")
	full.Role, full.Status, full.Apps = usercenter.RoleSupport, usercenter.ConsoleActive, []uint64{1400000001, 1400000002}
	full.PasswordHash = "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"
	full.SealedTOTP = []byte("sealed secret")
	full.TOTPStep = 59000000
	full.RecoveryCodes = [][]byte{hash32(1), hash32(2)}
	full.FailedSignIns = 3
	full.LockedUntil = Base.Add(time.Minute)
	full.LastSignInAt = Base.Add(time.Second)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertConsoleAccount(ctx, full); err != nil {
			return err
		}
		return tx.InsertConsoleAccount(ctx, consoleAccount("acc-a", "a@example.com"))
	})

	want := *full
	want.TwoFactor = true
	want.CreatedAt, want.LockedUntil, want.LastSignInAt = Base.UTC(), full.LockedUntil.UTC(), full.LastSignInAt.UTC()
	got, err := s.ConsoleAccount(ctx, "acc-b")
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("ConsoleAccount = %+v, %v; want %+v", got, err, want)
	}
	byEmail, err := s.ConsoleAccountByEmail(ctx, "b@example.com")
	if err != nil || byEmail.ID != "acc-b" {
		t.Fatalf("ConsoleAccountByEmail = %+v, %v", byEmail, err)
	}
	plain, err := s.ConsoleAccount(ctx, "acc-a")
	if err != nil || plain.Apps != nil || plain.TwoFactor || plain.SealedTOTP != nil || plain.RecoveryCodes != nil ||
		!plain.LockedUntil.IsZero() || !plain.LastSignInAt.IsZero() {
		t.Fatalf("an account with nothing set reads back %+v, %v", plain, err)
	}
	for _, err := range []error{
		func() error { _, err := s.ConsoleAccount(ctx, "nobody"); return err }(),
		func() error { _, err := s.ConsoleAccountByEmail(ctx, "nobody@example.com"); return err }(),
	} {
		if e := usercenter.ErrorOf(err); e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceConsoleAccount {
			t.Errorf("a missing account: %v", err)
		}
	}

	// Same created_at: ordered by ID.
	all, err := s.ConsoleAccounts(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "acc-a" || all[1].ID != "acc-b" {
		t.Fatalf("ConsoleAccounts = %+v, %v", all, err)
	}

	err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertConsoleAccount(ctx, consoleAccount("acc-c", "a@example.com")) })
	if e := usercenter.ErrorOf(err); e.Code != usercenter.EConflict || e.Field != usercenter.FieldEmail {
		t.Errorf("a second account with one email: %v", err)
	}

	// Update writes every field but ID and CreatedAt; clearing works too.
	upd := *got
	upd.Email, upd.Role, upd.Status, upd.Apps = "b2@example.com", usercenter.RoleAdmin, usercenter.ConsoleDisabled, nil
	upd.SealedTOTP, upd.RecoveryCodes, upd.TwoFactor, upd.TOTPStep = nil, [][]byte{hash32(2)}, false, 59000001
	upd.FailedSignIns, upd.LockedUntil, upd.PasswordHash = 0, time.Time{}, "other"
	upd.CreatedAt = Base.Add(time.Hour) // not written
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateConsoleAccount(ctx, &upd) })
	again, err := s.ConsoleAccount(ctx, "acc-b")
	upd.CreatedAt = Base.UTC()
	if err != nil || !reflect.DeepEqual(*again, upd) {
		t.Fatalf("after UpdateConsoleAccount: %+v, %v; want %+v", again, err, upd)
	}
	err = s.Update(ctx, func(tx core.Tx) error { return tx.UpdateConsoleAccount(ctx, consoleAccount("nobody", "n@example.com")) })
	if usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("updating a missing account: %v", err)
	}
	bad := *plain
	bad.Email = "b2@example.com"
	err = s.Update(ctx, func(tx core.Tx) error { return tx.UpdateConsoleAccount(ctx, &bad) })
	if e := usercenter.ErrorOf(err); e.Code != usercenter.EConflict || e.Field != usercenter.FieldEmail {
		t.Errorf("updating to another's email: %v", err)
	}
}

func testConsoleLinks(t *testing.T, s core.Store) {
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertConsoleAccount(ctx, consoleAccount("acc", "a@example.com")) })
	invite := &core.ConsoleLink{Hash: hash32(1), AccountID: "acc", CreatedAt: Base, ExpiresAt: Base.Add(time.Hour)}
	setup := &core.ConsoleLink{Hash: hash32(2), CreatedAt: Base, ExpiresAt: Base.Add(-time.Minute)}
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertConsoleLink(ctx, invite); err != nil {
			return err
		}
		return tx.InsertConsoleLink(ctx, setup)
	})
	got, err := s.ConsoleLink(ctx, hash32(2))
	if err != nil || got.AccountID != "" || !got.ExpiresAt.Equal(setup.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Fatalf("the setup link reads back %+v, %v", got, err)
	}
	err = s.Update(ctx, func(tx core.Tx) error {
		return tx.InsertConsoleLink(ctx, &core.ConsoleLink{Hash: hash32(3), AccountID: "nobody", CreatedAt: Base, ExpiresAt: Base})
	})
	if err == nil {
		t.Error("a link of a missing account was stored")
	}

	at := Base.Add(time.Second)
	var taken *core.ConsoleLink
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		taken, err = tx.TakeConsoleLink(ctx, hash32(1), at)
		return err
	})
	if taken.AccountID != "acc" || !taken.UsedAt.Equal(at) {
		t.Fatalf("TakeConsoleLink = %+v", taken)
	}
	err = s.Update(ctx, func(tx core.Tx) error { _, err := tx.TakeConsoleLink(ctx, hash32(1), at); return err })
	if e := usercenter.ErrorOf(err); e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceToken {
		t.Errorf("taking a link twice: %v", err)
	}
	if l, err := s.ConsoleLink(ctx, hash32(1)); err != nil || !l.UsedAt.Equal(at) {
		t.Errorf("a used link reads back %+v, %v", l, err)
	}

	// The expired setup link goes; the used invitation is not expired yet.
	var n int
	MustUpdate(t, s, func(tx core.Tx) error { var err error; n, err = tx.DeleteExpiredConsole(ctx, Base); return err })
	if n != 1 {
		t.Errorf("DeleteExpiredConsole removed %d, want 1", n)
	}
	if _, err := s.ConsoleLink(ctx, hash32(2)); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("the expired link: %v", err)
	}
}

func testConsoleSessions(t *testing.T, s core.Store) {
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertConsoleAccount(ctx, consoleAccount("acc", "a@example.com")); err != nil {
			return err
		}
		return tx.InsertConsoleAccount(ctx, consoleAccount("other", "o@example.com"))
	})
	sess := func(b byte, acc string, expires time.Time) *core.ConsoleSession {
		return &core.ConsoleSession{Hash: hash32(b), AccountID: acc, CreatedAt: Base, LastSeenAt: Base, ExpiresAt: expires}
	}
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, x := range []*core.ConsoleSession{sess(1, "acc", Base.Add(time.Hour)), sess(2, "acc", Base.Add(time.Hour)),
			sess(3, "other", Base.Add(time.Hour)), sess(4, "other", Base.Add(-time.Second))} {
			if err := tx.InsertConsoleSession(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.ConsoleSession(ctx, hash32(1))
	if err != nil || got.AccountID != "acc" || !got.LastSeenAt.Equal(Base) || !got.ExpiresAt.Equal(Base.Add(time.Hour)) {
		t.Fatalf("ConsoleSession = %+v, %v", got, err)
	}
	seen := Base.Add(2 * time.Minute)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.TouchConsoleSession(ctx, hash32(1), seen) })
	if got, err := s.ConsoleSession(ctx, hash32(1)); err != nil || !got.LastSeenAt.Equal(seen) {
		t.Errorf("after TouchConsoleSession: %+v, %v", got, err)
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteConsoleSession(ctx, hash32(1)) })
	if _, err := s.ConsoleSession(ctx, hash32(1)); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("a deleted session: %v", err)
	}
	err = s.Update(ctx, func(tx core.Tx) error { return tx.TouchConsoleSession(ctx, hash32(1), seen) })
	if usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("touching a deleted session: %v", err)
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteConsoleSession(ctx, hash32(9)) }) // absent: no error

	var n int
	MustUpdate(t, s, func(tx core.Tx) error { var err error; n, err = tx.DeleteConsoleSessions(ctx, "other"); return err })
	if n != 2 {
		t.Errorf("DeleteConsoleSessions removed %d, want 2", n)
	}
	if _, err := s.ConsoleSession(ctx, hash32(2)); err != nil {
		t.Errorf("another account's session went too: %v", err)
	}
	err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertConsoleSession(ctx, sess(5, "nobody", Base)) })
	if err == nil {
		t.Error("a session of a missing account was stored")
	}
}

func testConsoleAttempts(t *testing.T, s core.Store) {
	if n, since, err := s.ConsoleAttempts(ctx, "addr:x"); n != 0 || !since.IsZero() || err != nil {
		t.Fatalf("no attempts: %d %v %v", n, since, err)
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetConsoleAttempts(ctx, "addr:x", 3, Base) })
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetConsoleAttempts(ctx, "addr:x", 4, Base) })
	if n, since, err := s.ConsoleAttempts(ctx, "addr:x"); n != 4 || !since.Equal(Base) || err != nil {
		t.Fatalf("ConsoleAttempts = %d %v %v", n, since, err)
	}
	var purged int
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		purged, err = tx.DeleteExpiredConsole(ctx, Base.Add(25*time.Hour))
		return err
	})
	if n, _, _ := s.ConsoleAttempts(ctx, "addr:x"); n != 0 || purged != 1 {
		t.Errorf("a day-old count survived the purge (%d left, %d purged)", n, purged)
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetConsoleAttempts(ctx, "addr:x", 1, Base) })
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetConsoleAttempts(ctx, "addr:x", 0, time.Time{}) })
	if n, _, _ := s.ConsoleAttempts(ctx, "addr:x"); n != 0 {
		t.Errorf("a cleared count reads %d", n)
	}
}
