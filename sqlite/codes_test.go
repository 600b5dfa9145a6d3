package sqlite

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// count returns how many rows of table match where, as readers see them.
func count(t testing.TB, s *Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// raw runs a statement on the writer, for what the contract has no method
// for (deleting an API key).
func raw(t testing.TB, s *Store, query string, args ...any) {
	t.Helper()
	update(t, s, func(tx core.Tx) error {
		_, err := tx.(*txn).exec(ctx, query, args...)
		return err
	})
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newCode(name string, u *core.UserRecord, field usercenter.PIIField, expires time.Time) *core.Code {
	return &core.Code{
		Hash:      hashOf(name),
		SdkAppID:  u.SdkAppID,
		UserID:    u.ID,
		Field:     field,
		CreatedAt: base,
		ExpiresAt: expires,
	}
}

func addCode(t testing.TB, s *Store, c *core.Code) {
	t.Helper()
	update(t, s, func(tx core.Tx) error { return tx.InsertCode(ctx, c) })
}

// take runs TakeCode in its own Update.
func take(s *Store, hash []byte, at time.Time) (*core.Code, error) {
	var c *core.Code
	err := s.Update(ctx, func(tx core.Tx) error {
		var err error
		c, err = tx.TakeCode(ctx, hash, at)
		return err
	})
	return c, err
}

func TestUpdateApp(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	before2, _ := s.App(ctx, 2)

	changed := &core.AppRecord{
		App: usercenter.App{
			SdkAppID:       1,
			Name:           "Renamed",
			UserDomain:     "ignored.example", // UserDomain stays
			Status:         usercenter.AppDisabled,
			RateLimit:      77,
			TokenTTL:       3 * time.Hour,
			PhoneRegion:    "US",
			SuperAppCipher: usercenter.CipherAESCBCBase64,
			CodeTTL:        90*time.Second + 700*time.Millisecond, // stored in whole seconds
			CreatedAt:      base.Add(time.Hour),                   // CreatedAt stays
		},
		SealedSuperAppSecret: []byte("resealed"),
	}
	update(t, s, func(tx core.Tx) error {
		if err := tx.UpdateApp(ctx, changed); err != nil {
			return err
		}
		// A Tx reads its own writes.
		if got, err := tx.App(ctx, 1); err != nil || got.Name != "Renamed" {
			t.Errorf("Tx reads %+v, %v after UpdateApp", got, err)
		}
		return nil
	})

	want := *changed
	want.UserDomain = "app1.example"
	want.CreatedAt = base.UTC()
	want.CodeTTL = 90 * time.Second
	got, err := s.App(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("App after UpdateApp = %+v\nwant %+v", *got, want)
	}
	if byDomain, err := s.AppByDomain(ctx, "app1.example"); err != nil || !reflect.DeepEqual(*byDomain, want) {
		t.Fatalf("AppByDomain after UpdateApp = %+v, %v", byDomain, err)
	}
	if _, err := s.AppByDomain(ctx, "ignored.example"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("UpdateApp changed the UserDomain: %v", err)
	}
	// Rotation sees the resealed secret.
	vals, err := s.SealedValues(ctx, core.SealedAppSecret, "", 10)
	if err != nil || len(vals) != 2 || !bytes.Equal(vals[0].Value, []byte("resealed")) {
		t.Fatalf("SealedValues = %+v, %v", vals, err)
	}
	// The other app is untouched.
	if after2, _ := s.App(ctx, 2); !reflect.DeepEqual(after2, before2) {
		t.Fatalf("app 2 changed: %+v, was %+v", after2, before2)
	}

	// Defaults are core's: the store keeps an unset cipher and code TTL
	// as they are given, and CreatedAt as it was.
	unset := *got
	unset.SuperAppCipher, unset.CodeTTL, unset.CreatedAt = "", 0, time.Time{}
	update(t, s, func(tx core.Tx) error { return tx.UpdateApp(ctx, &unset) })
	if got, _ := s.App(ctx, 1); got.SuperAppCipher != "" || got.CodeTTL != 0 || !got.CreatedAt.Equal(base) {
		t.Fatalf("App = %+v; want the cipher and code TTL as given (unset), CreatedAt kept", got)
	}

	missing := newApp(3)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateApp(ctx, missing) }), usercenter.ENotFound, usercenter.ResourceApp)

	// An empty secret would lose the app its key; it is refused and
	// nothing changes.
	noSecret := *got
	noSecret.Name = "No secret"
	noSecret.SealedSuperAppSecret = nil
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateApp(ctx, &noSecret) }), usercenter.EInternal, "")
	if got, _ := s.App(ctx, 1); got.Name != "Renamed" || !bytes.Equal(got.SealedSuperAppSecret, []byte("resealed")) {
		t.Fatalf("a refused UpdateApp changed the app: %+v", got)
	}

	// A failed Update keeps nothing of UpdateApp.
	rolled := *got
	rolled.Name = "Rolled back"
	err = s.Update(ctx, func(tx core.Tx) error {
		if err := tx.UpdateApp(ctx, &rolled); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatal(err)
	}
	if got, _ := s.App(ctx, 1); got.Name != "Renamed" {
		t.Fatalf("rolled-back UpdateApp kept: %+v", got)
	}
}

// TestAppStoresGiven checks that the store applies no defaults, which are
// core's: an app reads back with the cipher and code TTL it was given.
func TestAppStoresGiven(t *testing.T) {
	s := openStore(t)
	a := newApp(1)
	a.SuperAppCipher, a.CodeTTL = "", 0
	update(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, a) })
	got, err := s.App(ctx, 1)
	if err != nil || got.SuperAppCipher != "" || got.CodeTTL != 0 || got.PhoneRegion != a.PhoneRegion {
		t.Fatalf("App = %+v, %v; want the cipher and code TTL as given (unset)", got, err)
	}
	// Every cipher round-trips.
	for _, c := range []usercenter.SuperAppCipher{usercenter.CipherAESCBCBase64, usercenter.CipherAESGCMBase64, usercenter.CipherAESECBHex} {
		a.SuperAppCipher = c
		update(t, s, func(tx core.Tx) error { return tx.UpdateApp(ctx, a) })
		if got, err := s.App(ctx, 1); err != nil || got.SuperAppCipher != c {
			t.Fatalf("App = %+v, %v; want cipher %s", got, err, c)
		}
	}
	empty := newApp(3)
	empty.SealedSuperAppSecret = []byte{}
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, empty) }), usercenter.EInternal, "")
}

func TestAppByDomain(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 1<<63+7)
	for _, id := range []uint64{1, 1<<63 + 7} {
		want, err := s.App(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.AppByDomain(ctx, want.UserDomain)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("AppByDomain(%q) = %+v, %v; want %+v", want.UserDomain, got, err, want)
		}
	}
	for _, d := range []string{"", "nope.example", "APP1.example", "app1.example "} {
		_, err := s.AppByDomain(ctx, d)
		wantErr(t, err, usercenter.ENotFound, usercenter.ResourceApp)
	}
	update(t, s, func(tx core.Tx) error {
		if err := tx.InsertApp(ctx, newApp(5)); err != nil {
			return err
		}
		if got, err := tx.AppByDomain(ctx, "app5.example"); err != nil || got.SdkAppID != 5 {
			t.Errorf("Tx AppByDomain = %+v, %v", got, err)
		}
		return nil
	})
}

func TestCodes(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	u := newUser(1, "u", base)
	addUser(t, s, u)
	expires := base.Add(5 * time.Minute)

	c := newCode("one", u, usercenter.FieldPhone, expires)
	addCode(t, s, c)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertCode(ctx, newCode("one", u, usercenter.FieldEmail, expires)) }),
		usercenter.EConflict, "Code")

	at := base.Add(time.Minute)
	got, err := take(s, c.Hash, at)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.CreatedAt, want.ExpiresAt, want.UsedAt = base.UTC(), expires.UTC(), at.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("TakeCode = %+v\nwant %+v", *got, want)
	}
	wantUTC(t, "UsedAt", got.UsedAt, at)
	wantUTC(t, "ExpiresAt", got.ExpiresAt, expires)

	// A code is taken once.
	_, err = take(s, c.Hash, at.Add(time.Second))
	wantErr(t, err, usercenter.ENotFound, "code")
	_, err = take(s, hashOf("never issued"), at)
	wantErr(t, err, usercenter.ENotFound, "code")
	_, err = take(s, nil, at)
	wantErr(t, err, usercenter.ENotFound, "code")

	// TakeCode leaves expiry to the caller: an expired code is taken, and
	// its ExpiresAt says so.
	old := newCode("expired", u, usercenter.FieldEmail, base.Add(-time.Minute))
	addCode(t, s, old)
	got, err = take(s, old.Hash, at)
	if err != nil || !got.ExpiresAt.Equal(old.ExpiresAt) || got.Field != usercenter.FieldEmail {
		t.Fatalf("TakeCode(expired) = %+v, %v", got, err)
	}

	// A taken code whose Update fails stays unused.
	c2 := newCode("two", u, usercenter.FieldEmail, expires)
	addCode(t, s, c2)
	err = s.Update(ctx, func(tx core.Tx) error {
		if _, err := tx.TakeCode(ctx, c2.Hash, at); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatal(err)
	}
	if _, err := take(s, c2.Hash, at); err != nil {
		t.Fatalf("code taken by a failed Update: %v", err)
	}

	// Inserted and taken in one Update: a Tx sees its own writes, and the
	// second take in it fails.
	c3 := newCode("three", u, usercenter.FieldPhone, expires)
	update(t, s, func(tx core.Tx) error {
		if err := tx.InsertCode(ctx, c3); err != nil {
			return err
		}
		if _, err := tx.TakeCode(ctx, c3.Hash, at); err != nil {
			return err
		}
		if _, err := tx.TakeCode(ctx, c3.Hash, at); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Errorf("second TakeCode in one Tx: %v", err)
		}
		return nil
	})

	// A zero time would leave the code unused; it is refused.
	c4 := newCode("four", u, usercenter.FieldPhone, expires)
	addCode(t, s, c4)
	_, err = take(s, c4.Hash, time.Time{})
	wantErr(t, err, usercenter.EInternal, "")
	if _, err := take(s, c4.Hash, at); err != nil {
		t.Fatalf("code used by a refused TakeCode: %v", err)
	}

	// A code is bound to its user's app, to a real user, and to a phone or
	// an email.
	for _, bad := range []struct {
		mut      func(*core.Code)
		code     usercenter.Code
		resource string
	}{
		{func(c *core.Code) { c.SdkAppID = 2 }, usercenter.ENotFound, usercenter.ResourceUser},
		{func(c *core.Code) { c.UserID = "nobody" }, usercenter.ENotFound, usercenter.ResourceUser},
		{func(c *core.Code) { c.Field = usercenter.FieldAddress }, usercenter.EInvalid, "Field"},
		{func(c *core.Code) { c.Field = "" }, usercenter.EInvalid, "Field"},
		{func(c *core.Code) { c.ExpiresAt = time.Time{} }, usercenter.EInternal, ""},
	} {
		c := newCode("bad", u, usercenter.FieldPhone, expires)
		bad.mut(c)
		wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertCode(ctx, c) }), bad.code, bad.resource)
	}
	if n := count(t, s, "codes", "code_hash = ?", hashOf("bad")); n != 0 {
		t.Fatalf("%d refused codes stored", n)
	}
}

// TestTakeCodeConcurrent races takes of one code: exactly one wins, both
// when the takes share one group commit and when they arrive one by one.
func TestTakeCodeConcurrent(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u := newUser(1, "u", base)
	addUser(t, s, u)
	const n = 20
	for _, batched := range []bool{true, false} {
		name := "batched"
		if !batched {
			name = "free"
		}
		c := newCode(name, u, usercenter.FieldPhone, base.Add(time.Hour))
		addCode(t, s, c)

		var release func()
		if batched {
			release = holdWriter(t, s)
		}
		start := make(chan struct{})
		errs := make([]error, n)
		got := make([]*core.Code, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = take(s, c.Hash, base.Add(time.Duration(i+1)*time.Second))
			})
		}
		close(start)
		if batched {
			waitQueued(t, s, n)
			release()
		}
		wg.Wait()

		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatalf("%s: takes %d and %d both got the code", name, won, i)
				}
				won = i
				continue
			}
			wantErr(t, err, usercenter.ENotFound, "code")
		}
		if won < 0 {
			t.Fatalf("%s: no take got the code", name)
		}
		// The code records the winner's time.
		var usedAt int64
		if err := s.rdb.QueryRowContext(ctx, `SELECT used_at FROM codes WHERE code_hash = ?`, c.Hash).Scan(&usedAt); err != nil {
			t.Fatal(err)
		}
		if !decodeTime(usedAt).Equal(got[won].UsedAt) {
			t.Fatalf("%s: used_at %v, winner's %v", name, decodeTime(usedAt), got[won].UsedAt)
		}
	}
}

func TestDeleteExpiredCodes(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u := newUser(1, "u", base)
	addUser(t, s, u)
	now := base.Add(time.Hour)
	for name, exp := range map[string]time.Time{
		"long ago":      now.Add(-time.Hour),
		"just expired":  now.Add(-time.Nanosecond),
		"expires now":   now, // not before now: kept
		"expires later": now.Add(time.Minute),
	} {
		addCode(t, s, newCode(name, u, usercenter.FieldPhone, exp))
	}
	used := newCode("used and expired", u, usercenter.FieldEmail, now.Add(-time.Minute))
	addCode(t, s, used)
	if _, err := take(s, used.Hash, base); err != nil {
		t.Fatal(err)
	}

	var n int
	update(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredCodes(ctx, now)
		return err
	})
	if n != 3 {
		t.Fatalf("DeleteExpiredCodes removed %d, want 3", n)
	}
	for name, left := range map[string]bool{
		"long ago": false, "just expired": false, "used and expired": false,
		"expires now": true, "expires later": true,
	} {
		if got := count(t, s, "codes", "code_hash = ?", hashOf(name)) == 1; got != left {
			t.Errorf("code %q left = %v, want %v", name, got, left)
		}
	}
	update(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredCodes(ctx, now)
		return err
	})
	if n != 0 {
		t.Fatalf("second DeleteExpiredCodes removed %d", n)
	}
	wantErr(t, s.Update(ctx, func(tx core.Tx) error {
		_, err := tx.DeleteExpiredCodes(ctx, time.Time{})
		return err
	}), usercenter.EInternal, "")
}

// attempts reads a user's code attempts in an Update.
func attempts(t testing.TB, s *Store, app uint64, userID string) (int, time.Time) {
	t.Helper()
	var (
		n     int
		since time.Time
	)
	update(t, s, func(tx core.Tx) error {
		var err error
		n, since, err = tx.CodeAttempts(ctx, app, userID)
		return err
	})
	return n, since
}

func setAttempts(s *Store, app uint64, userID string, n int, since time.Time) error {
	return s.Update(ctx, func(tx core.Tx) error { return tx.SetCodeAttempts(ctx, app, userID, n, since) })
}

func TestCodeAttempts(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	u, v := newUser(1, "u", base), newUser(1, "v", base.Add(time.Second))
	addUser(t, s, u)
	addUser(t, s, v)

	if n, since := attempts(t, s, 1, u.ID); n != 0 || !since.IsZero() {
		t.Fatalf("CodeAttempts before any = %d, %v", n, since)
	}
	if n, since := attempts(t, s, 1, "nobody"); n != 0 || !since.IsZero() {
		t.Fatalf("CodeAttempts of nobody = %d, %v", n, since)
	}

	if err := setAttempts(s, 1, u.ID, 1, base); err != nil {
		t.Fatal(err)
	}
	n, since := attempts(t, s, 1, u.ID)
	if n != 1 {
		t.Fatalf("CodeAttempts = %d, want 1", n)
	}
	wantUTC(t, "since", since, base)

	// Upsert: count and start both replaced.
	later := base.Add(time.Minute)
	if err := setAttempts(s, 1, u.ID, 4, later); err != nil {
		t.Fatal(err)
	}
	n, since = attempts(t, s, 1, u.ID)
	if n != 4 {
		t.Fatalf("CodeAttempts = %d, want 4", n)
	}
	wantUTC(t, "since", since, later)
	if c := count(t, s, "code_attempts", "user_id = ?", u.ID); c != 1 {
		t.Fatalf("%d attempt rows for one user", c)
	}
	// Another user's count is their own.
	if n, _ := attempts(t, s, 1, v.ID); n != 0 {
		t.Fatalf("CodeAttempts of v = %d", n)
	}

	// A Tx sees its own count.
	update(t, s, func(tx core.Tx) error {
		if err := tx.SetCodeAttempts(ctx, 1, v.ID, 2, base); err != nil {
			return err
		}
		if n, _, err := tx.CodeAttempts(ctx, 1, v.ID); err != nil || n != 2 {
			t.Errorf("Tx CodeAttempts = %d, %v; want 2", n, err)
		}
		return nil
	})

	// 0 clears, whether or not there is a count.
	for range 2 {
		if err := setAttempts(s, 1, u.ID, 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if n, since := attempts(t, s, 1, u.ID); n != 0 || !since.IsZero() {
			t.Fatalf("CodeAttempts after clear = %d, %v", n, since)
		}
	}
	if c := count(t, s, "code_attempts", "user_id = ?", u.ID); c != 0 {
		t.Fatalf("clear left %d rows", c)
	}
	if n, _ := attempts(t, s, 1, v.ID); n != 2 {
		t.Fatalf("clearing u cleared v: %d", n)
	}

	wantErr(t, setAttempts(s, 1, u.ID, -1, base), usercenter.EInvalid, "attempts")
	wantErr(t, setAttempts(s, 2, u.ID, 1, base), usercenter.ENotFound, usercenter.ResourceUser) // not u's app
	wantErr(t, setAttempts(s, 1, "nobody", 1, base), usercenter.ENotFound, usercenter.ResourceUser)
	wantErr(t, setAttempts(s, 1, u.ID, 1, time.Time{}), usercenter.EInternal, "")
	if c := count(t, s, "code_attempts", "user_id IN (?, 'nobody')", u.ID); c != 0 {
		t.Fatalf("refused SetCodeAttempts stored %d rows", c)
	}
}

// TestDeleteUserCascades checks that a user's codes and code attempts go
// with it, and nobody else's.
func TestDeleteUserCascades(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u, v := newUser(1, "u", base), newUser(1, "v", base.Add(time.Second))
	addUser(t, s, u)
	addUser(t, s, v)
	for _, who := range []*core.UserRecord{u, v} {
		addCode(t, s, newCode(who.ID+"-a", who, usercenter.FieldPhone, base.Add(time.Hour)))
		addCode(t, s, newCode(who.ID+"-b", who, usercenter.FieldEmail, base.Add(time.Hour)))
		if _, err := take(s, hashOf(who.ID+"-b"), base); err != nil {
			t.Fatal(err)
		}
		if err := setAttempts(s, 1, who.ID, 3, base); err != nil {
			t.Fatal(err)
		}
	}
	update(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	if n := count(t, s, "codes", "user_id = ?", u.ID); n != 0 {
		t.Errorf("%d codes of the deleted user left", n)
	}
	if n := count(t, s, "code_attempts", "user_id = ?", u.ID); n != 0 {
		t.Errorf("%d attempt counts of the deleted user left", n)
	}
	if n := count(t, s, "codes", "user_id = ?", v.ID); n != 2 {
		t.Errorf("%d codes of the other user left, want 2", n)
	}
	if n, _ := attempts(t, s, 1, v.ID); n != 3 {
		t.Errorf("other user's attempts = %d, want 3", n)
	}
	_, err := take(s, hashOf(u.ID+"-a"), base)
	wantErr(t, err, usercenter.ENotFound, "code")
}

func TestEnterpriseTokens(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	update(t, s, func(tx core.Tx) error {
		for _, id := range []string{"AKIDa", "AKIDb"} {
			k := &core.KeyRecord{
				APIKey:          usercenter.APIKey{SecretID: id, Name: id, Apps: []uint64{1}, Permissions: []usercenter.Permission{usercenter.PermUsersRead}, CreatedAt: base},
				SealedSecretKey: []byte("sk-" + id),
			}
			if err := tx.InsertKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	now := base.Add(time.Hour)
	tok := func(name, key string, exp time.Time) *core.EnterpriseToken {
		return &core.EnterpriseToken{Hash: hashOf(name), SecretID: key, CreatedAt: base, ExpiresAt: exp}
	}
	insert := func(e *core.EnterpriseToken) error {
		return s.Update(ctx, func(tx core.Tx) error { return tx.InsertEnterpriseToken(ctx, e) })
	}
	live := tok("live", "AKIDa", now.Add(time.Hour))
	for _, e := range []*core.EnterpriseToken{
		live,
		tok("expired", "AKIDa", now.Add(-time.Second)),
		tok("expires now", "AKIDa", now),
		tok("b live", "AKIDb", now.Add(time.Hour)),
		tok("b expired", "AKIDb", now.Add(-time.Hour)),
	} {
		if err := insert(e); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.EnterpriseToken(ctx, live.Hash)
	if err != nil {
		t.Fatal(err)
	}
	want := *live
	want.CreatedAt, want.ExpiresAt = base.UTC(), live.ExpiresAt.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("EnterpriseToken = %+v, want %+v", *got, want)
	}
	wantUTC(t, "ExpiresAt", got.ExpiresAt, live.ExpiresAt)
	// Expired tokens are returned until purged; the caller checks.
	if got, err := s.EnterpriseToken(ctx, hashOf("expired")); err != nil || !got.ExpiresAt.Before(now) {
		t.Fatalf("EnterpriseToken(expired) = %+v, %v", got, err)
	}
	_, err = s.EnterpriseToken(ctx, hashOf("never issued"))
	wantErr(t, err, usercenter.ENotFound, "token")
	// Login tokens and enterprise tokens are apart.
	_, err = s.Token(ctx, live.Hash)
	wantErr(t, err, usercenter.ENotFound, "token")

	wantErr(t, insert(tok("live", "AKIDb", now)), usercenter.EConflict, "Token")
	wantErr(t, insert(tok("orphan", "AKIDnone", now)), usercenter.ENotFound, usercenter.ResourceKey)
	wantErr(t, insert(tok("no expiry", "AKIDa", time.Time{})), usercenter.EInternal, "")

	// A Tx sees its own token.
	update(t, s, func(tx core.Tx) error {
		e := tok("in tx", "AKIDa", now.Add(time.Hour))
		if err := tx.InsertEnterpriseToken(ctx, e); err != nil {
			return err
		}
		if got, err := tx.EnterpriseToken(ctx, e.Hash); err != nil || got.SecretID != "AKIDa" {
			t.Errorf("Tx EnterpriseToken = %+v, %v", got, err)
		}
		return nil
	})

	var n int
	update(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredEnterpriseTokens(ctx, now)
		return err
	})
	if n != 2 {
		t.Fatalf("DeleteExpiredEnterpriseTokens removed %d, want 2", n)
	}
	for name, left := range map[string]bool{"expired": false, "b expired": false, "expires now": true, "live": true, "b live": true} {
		_, err := s.EnterpriseToken(ctx, hashOf(name))
		if (err == nil) != left {
			t.Errorf("token %q: %v, want left = %v", name, err, left)
		}
	}

	// Revoking a key keeps its tokens (every use checks the key);
	// deleting its row takes them with it.
	update(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDa", now) })
	if _, err := s.EnterpriseToken(ctx, live.Hash); err != nil {
		t.Fatalf("token gone after revoke: %v", err)
	}
	raw(t, s, `DELETE FROM api_keys WHERE secret_id = ?`, "AKIDa")
	if n := count(t, s, "enterprise_tokens", "secret_id = ?", "AKIDa"); n != 0 {
		t.Fatalf("%d tokens of a deleted key left", n)
	}
	if n := count(t, s, "enterprise_tokens", "secret_id = ?", "AKIDb"); n != 1 {
		t.Fatalf("%d tokens of the other key left, want 1", n)
	}
}

// TestNewForeignKeys checks the schema's foreign keys, which the cascades
// of DeleteUser and of deleting an API key rest on.
func TestNewForeignKeys(t *testing.T) {
	s := openStore(t)
	for _, c := range []struct{ table, from, to, parent string }{
		{"codes", "user_id", "user_id", "users"},
		{"code_attempts", "user_id", "user_id", "users"},
		{"enterprise_tokens", "secret_id", "secret_id", "api_keys"},
	} {
		rows, err := s.rdb.QueryContext(ctx, `SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, c.table)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for rows.Next() {
			var parent, from, to, onDelete string
			if err := rows.Scan(&parent, &from, &to, &onDelete); err != nil {
				t.Fatal(err)
			}
			found = append(found, parent+"."+to+" <- "+from+" "+onDelete)
		}
		rows.Close()
		want := c.parent + "." + c.to + " <- " + c.from + " CASCADE"
		if !reflect.DeepEqual(found, []string{want}) {
			t.Errorf("%s foreign keys %q, want [%q]", c.table, found, want)
		}
	}
}

// TestCodeQueryPlans checks that purges and cascades use their indexes.
func TestCodeQueryPlans(t *testing.T) {
	checkQueryPlans(t, openStore(t), []planCase{
		{`SELECT 1 FROM codes WHERE expires_at < ?`, []any{1}, "codes_expires"},
		{`SELECT 1 FROM codes WHERE user_id = ?`, []any{"a"}, "codes_user"},
		{`SELECT 1 FROM code_attempts WHERE user_id = ?`, []any{"a"}, "code_attempts_user"},
		{`SELECT 1 FROM enterprise_tokens WHERE expires_at < ?`, []any{1}, "enterprise_tokens_expires"},
		{`SELECT 1 FROM enterprise_tokens WHERE secret_id = ?`, []any{"a"}, "enterprise_tokens_key"},
		{qAppByDomain, []any{"a"}, "sqlite_autoindex_apps_1"},
	})
}

// TestMigrateFromV2 builds a database as the program of migration 2 left
// it, with data, and checks that Open brings it up to date, that old apps
// read back with the default cipher and code TTL, and that old users take
// codes.
func TestMigrateFromV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	db, err := sql.Open("sqlite", dsn(path, []string{"foreign_keys(1)"}))
	if err != nil {
		t.Fatal(err)
	}
	created := base.UnixNano()
	userID := usercenter.NewUserID(base)
	var stmts []struct {
		q    string
		args []any
	}
	add := func(q string, args ...any) {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{q, args})
	}
	for _, name := range []string{"0001_init.sql", "0002_profile_links_audit.sql"} {
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		add(string(body))
	}
	add(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`)
	add(`INSERT INTO schema_migrations VALUES (1, '2025-01-01T00:00:00Z'), (2, '2025-02-01T00:00:00Z')`)
	add(`INSERT INTO apps (sdk_app_id, name, user_domain, status, rate_limit, token_ttl_seconds, superapp_secret, created_at, phone_region)
		VALUES (1, 'Old', 'old.example', 1, 20, 604800, x'0102', ?, 'SG')`, created)
	add(`INSERT INTO users (user_id, sdk_app_id, origin_id, nickname, avatar, status, created_at, updated_at)
		VALUES (?, 1, 'origin', 'Nick', '', 1, ?, ?)`, userID, created, created)
	add(`INSERT INTO api_keys VALUES ('AKIDold', x'03', 'old', 'users.read', ?, NULL)`, created)
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st.q, st.args...); err != nil {
			t.Fatalf("%.40s: %v", st.q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Applied(); !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("Open applied %v, want [3]", got)
	}
	want := &core.AppRecord{
		App: usercenter.App{
			SdkAppID: 1, Name: "Old", UserDomain: "old.example", Status: usercenter.AppActive,
			RateLimit: 20, TokenTTL: 7 * 24 * time.Hour, PhoneRegion: "SG",
			SuperAppCipher: usercenter.CipherAESECBHex, CodeTTL: 5 * time.Minute,
			CreatedAt: base.UTC(),
		},
		SealedSuperAppSecret: []byte{1, 2},
	}
	for _, read := range []func() (*core.AppRecord, error){
		func() (*core.AppRecord, error) { return s.App(ctx, 1) },
		func() (*core.AppRecord, error) { return s.AppByDomain(ctx, "old.example") },
		func() (*core.AppRecord, error) {
			apps, err := s.Apps(ctx)
			if err != nil || len(apps) != 1 {
				return nil, errors.Join(err, errors.New("want one app"))
			}
			return &apps[0], nil
		},
	} {
		got, err := read()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("old app = %+v, %v\nwant %+v", got, err, want)
		}
	}
	if err := want.Validate(); err == nil || !strings.Contains(err.Error(), "SuperAppSecretKey") {
		// Only the (sealed, so empty here) plain secret may fail.
		t.Fatalf("old app with defaults fails validation elsewhere: %v", err)
	}

	// The old app updates, and the old user and key take codes, attempts
	// and tokens.
	up := *want
	up.CodeTTL = time.Minute
	update(t, s, func(tx core.Tx) error { return tx.UpdateApp(ctx, &up) })
	if got, _ := s.App(ctx, 1); got.CodeTTL != time.Minute {
		t.Fatalf("CodeTTL after update = %v", got.CodeTTL)
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	c := newCode("old user's", u, usercenter.FieldPhone, base.Add(time.Minute))
	addCode(t, s, c)
	if err := setAttempts(s, 1, userID, 1, base); err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx core.Tx) error {
		return tx.InsertEnterpriseToken(ctx, &core.EnterpriseToken{Hash: hashOf("t"), SecretID: "AKIDold", CreatedAt: base, ExpiresAt: base.Add(time.Hour)})
	})
	if _, err := take(s, c.Hash, base); err != nil {
		t.Fatal(err)
	}
}
