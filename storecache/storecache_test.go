package storecache_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usercenter"
	"usercenter/aksig"
	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/postgres/pgtest"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/storecache"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

var ctx = context.Background()

func openSQLite(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the store contract through the caches: whatever it
// writes it reads back at once, as from the store beneath.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		return storecache.New(openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db")), storecache.DefaultLimits)
	})
}

// TestContractPostgres is TestContract over PostgreSQL (skipped without
// USERCENTER_TEST_POSTGRES).
func TestContractPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		return storecache.New(pgtest.Open(t), storecache.DefaultLimits)
	})
}

// nodes are two cached stores over one database, as two servers are.
// Writes through b reach a only through the database.
func nodes(t *testing.T) (a, b *storecache.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "usercenter.db")
	return storecache.New(openSQLite(t, path), storecache.DefaultLimits),
		storecache.New(openSQLite(t, path), storecache.DefaultLimits)
}

// eventually polls check, which reads through a node, until it returns
// nil, and returns how long that took. It is called right after a write
// through another node returned, and fails t if a read that began TTL or
// more after that still saw the database as it was before the write: an
// entry lives at most TTL from the moment its database read began, and a
// read that saw the old row began before the write. That is the promise,
// checked without a bound on how fast a loaded machine gets round to the
// reads: load delays the reads, never makes a stale answer right.
func eventually(t *testing.T, what string, check func() error) time.Duration {
	t.Helper()
	written := time.Now()
	for {
		began := time.Now()
		err := check()
		if err == nil {
			took := time.Since(written)
			t.Logf("%s after %v", what, took.Round(time.Millisecond))
			return took
		}
		if late := began.Sub(written); late >= storecache.TTL {
			t.Fatalf("%s: a read begun %v after the write still saw the old row: %v", what, late.Round(time.Millisecond), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustUpdate(t *testing.T, s core.Store, fn func(core.Tx) error) {
	t.Helper()
	storetest.MustUpdate(t, s, fn)
}

// wantCached fails unless read, done twice, is answered the second time
// by the named cache. Two reads more than TTL apart prove nothing (the
// entry may have expired in between), as happens on a loaded machine: such
// a pair is read again, for up to a minute.
func wantCached(t *testing.T, s *storecache.Store, cache string, read func()) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		began := time.Now()
		read()
		hits := s.Stats()[cache].Hits
		read()
		if s.Stats()[cache].Hits > hits {
			return
		}
		if took := time.Since(began); took < storecache.TTL {
			t.Fatalf("the %s cache did not answer a read repeated after %v", cache, took.Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s cache: no two reads within %v of each other in a minute", cache, storecache.TTL)
		}
	}
}

func newKey(id string, apps ...uint64) *core.KeyRecord {
	return &core.KeyRecord{
		APIKey: usercenter.APIKey{
			SecretID: id, Name: "k", Apps: apps, CreatedAt: storetest.Base,
			Permissions: []usercenter.Permission{usercenter.PermUsersRead},
		},
		SealedSecretKey: []byte("sealed-" + id),
	}
}

func TestKeyInvalidation(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1, 2)
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertKey(ctx, newKey("k1", 1)) })
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertKey(ctx, newKey("k2", 2)) })
	for range 2 {
		k, err := a.Key(ctx, "k1")
		if err != nil || k.Revoked() || !slices.Equal(k.Apps, []uint64{1}) {
			t.Fatalf("Key k1 = %+v, %v", k, err)
		}
	}
	wantCached(t, a, "keys", func() { a.Key(ctx, "k1") })

	// Revoked through this node: refused at once.
	mustUpdate(t, a, func(tx core.Tx) error { return tx.RevokeKey(ctx, "k1", time.Now()) })
	if k, err := a.Key(ctx, "k1"); err != nil || !k.Revoked() {
		t.Fatalf("Key k1 right after its revocation through this node: %+v, %v", k, err)
	}

	// Revoked through another node: refused within a second.
	if k, err := a.Key(ctx, "k2"); err != nil || k.Revoked() {
		t.Fatalf("Key k2 = %+v, %v", k, err)
	}
	mustUpdate(t, b, func(tx core.Tx) error { return tx.RevokeKey(ctx, "k2", time.Now()) })
	eventually(t, "a key revoked on another node is revoked here", func() error {
		k, err := a.Key(ctx, "k2")
		if err != nil {
			return err
		}
		if !k.Revoked() {
			return errors.New("not revoked")
		}
		return nil
	})
}

func TestUserInvalidation(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1)
	u := storetest.FullUser(1, "u", storetest.Base)
	storetest.AddUser(t, a, u)
	read := func(s core.Store) *core.UserRecord {
		t.Helper()
		got, err := s.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	read(a)
	if got := read(a); got.Nickname != u.Nickname || got.ThirdParty["qq"] != "qq-u" {
		t.Fatalf("User = %+v", got)
	}
	wantCached(t, a, "users", func() { read(a) })

	// A caller may change what it was handed; the cache keeps its own.
	got := read(a)
	got.Nickname = "scribbled"
	got.ThirdParty["qq"] = "scribbled"
	if again := read(a); again.Nickname != u.Nickname || again.ThirdParty["qq"] != "qq-u" {
		t.Fatalf("a caller's change reached the cache: %+v", again)
	}

	// Updated through this node: read back at once.
	u.Nickname = "renamed"
	mustUpdate(t, a, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	if got := read(a); got.Nickname != "renamed" {
		t.Fatalf("nickname right after an update through this node: %q", got.Nickname)
	}

	// Disabled through another node: seen within a second.
	read(a)
	u.Status = usercenter.UserDisabled
	mustUpdate(t, b, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	eventually(t, "a user disabled on another node is disabled here", func() error {
		if got := read(a); got.Status != usercenter.UserDisabled {
			return fmt.Errorf("status %d", got.Status)
		}
		return nil
	})

	// Deleted through another node: gone within a second.
	read(a)
	mustUpdate(t, b, func(tx core.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	eventually(t, "a user deleted on another node is gone here", func() error {
		_, err := a.User(ctx, u.ID)
		if usercenter.ErrorCode(err) != usercenter.ENotFound {
			return fmt.Errorf("User: %v", err)
		}
		return nil
	})

	// Deleted through this node: gone at once.
	v := storetest.NewUser(1, "v", storetest.Base)
	storetest.AddUser(t, a, v)
	readV := func() error { _, err := a.User(ctx, v.ID); return err }
	if err := readV(); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, a, func(tx core.Tx) error { return tx.DeleteUser(ctx, v.ID) })
	if err := readV(); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("User right after its deletion through this node: %v", err)
	}
}

func newToken(name string, u *core.UserRecord, expires time.Time) *core.Token {
	return &core.Token{Hash: storetest.HashOf(name), UserID: u.ID, SdkAppID: u.SdkAppID, CreatedAt: storetest.Base, ExpiresAt: expires}
}

func TestTokenInvalidation(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1)
	u1, u2 := storetest.NewUser(1, "u1", storetest.Base), storetest.NewUser(1, "u2", storetest.Base)
	storetest.AddUser(t, a, u1)
	storetest.AddUser(t, a, u2)
	t1, t2 := newToken("t1", u1, time.Now().Add(time.Hour)), newToken("t2", u2, time.Now().Add(time.Hour))
	mustUpdate(t, a, func(tx core.Tx) error {
		if err := tx.InsertToken(ctx, t1); err != nil {
			return err
		}
		return tx.InsertToken(ctx, t2)
	})
	for _, tok := range []*core.Token{t1, t2, t1, t2} {
		if got, err := a.Token(ctx, tok.Hash); err != nil || got.UserID != tok.UserID {
			t.Fatalf("Token = %+v, %v", got, err)
		}
	}
	wantCached(t, a, "tokens", func() { a.Token(ctx, t1.Hash) })

	// The user deleted through this node takes their token at once.
	mustUpdate(t, a, func(tx core.Tx) error { return tx.DeleteUser(ctx, u1.ID) })
	if _, err := a.Token(ctx, t1.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("Token of a user just deleted through this node: %v", err)
	}
	// Through another node, within a second.
	if _, err := a.Token(ctx, t2.Hash); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, b, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) })
	eventually(t, "a token whose user was deleted on another node is gone here", func() error {
		_, err := a.Token(ctx, t2.Hash)
		if usercenter.ErrorCode(err) != usercenter.ENotFound {
			return fmt.Errorf("Token: %v", err)
		}
		return nil
	})

	// Purging expired tokens through this node drops them at once.
	u3 := storetest.NewUser(1, "u3", storetest.Base)
	storetest.AddUser(t, a, u3)
	old := newToken("old", u3, storetest.Base)
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertToken(ctx, old) })
	if _, err := a.Token(ctx, old.Hash); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, a, func(tx core.Tx) error { _, err := tx.DeleteExpiredTokens(ctx, time.Now()); return err })
	if _, err := a.Token(ctx, old.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("Token just purged through this node: %v", err)
	}

	// Revoking a user's tokens through this node drops theirs at once,
	// and only theirs: another user's stays cached.
	u4 := storetest.NewUser(1, "u4", storetest.Base)
	storetest.AddUser(t, a, u4)
	revoked, kept := newToken("revoked", u3, time.Now().Add(time.Hour)), newToken("kept", u4, time.Now().Add(time.Hour))
	mustUpdate(t, a, func(tx core.Tx) error {
		if err := tx.InsertToken(ctx, revoked); err != nil {
			return err
		}
		return tx.InsertToken(ctx, kept)
	})
	// Each round caches both, revokes, and reads kept again: a hit unless
	// the round took longer than the TTL, when it tries again.
	for deadline := time.Now().Add(time.Minute); ; {
		began := time.Now()
		for _, tok := range []*core.Token{revoked, kept} {
			if _, err := a.Token(ctx, tok.Hash); err != nil {
				t.Fatal(err)
			}
		}
		mustUpdate(t, a, func(tx core.Tx) error { _, err := tx.DeleteUserTokens(ctx, u3.ID); return err })
		if _, err := a.Token(ctx, revoked.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Fatalf("Token just revoked through this node: %v", err)
		}
		hits := a.Stats()["tokens"].Hits
		if _, err := a.Token(ctx, kept.Hash); err != nil {
			t.Fatal(err)
		}
		if a.Stats()["tokens"].Hits > hits {
			break
		}
		if took := time.Since(began); took < storecache.TTL {
			t.Fatalf("revoking one user's tokens dropped another's from the cache (round of %v)", took.Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			t.Fatal("no round within the TTL in a minute")
		}
		mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertToken(ctx, revoked) })
	}
}

func TestEnterpriseTokenInvalidation(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1)
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertKey(ctx, newKey("k", 1)) })
	tok := &core.EnterpriseToken{Hash: storetest.HashOf("e"), SecretID: "k", CreatedAt: storetest.Base, ExpiresAt: storetest.Base}
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertEnterpriseToken(ctx, tok) })
	for range 2 {
		if got, err := a.EnterpriseToken(ctx, tok.Hash); err != nil || got.SecretID != "k" {
			t.Fatalf("EnterpriseToken = %+v, %v", got, err)
		}
	}
	wantCached(t, a, "enterprise-tokens", func() { a.EnterpriseToken(ctx, tok.Hash) })
	mustUpdate(t, b, func(tx core.Tx) error { _, err := tx.DeleteExpiredEnterpriseTokens(ctx, time.Now()); return err })
	eventually(t, "an enterprise token purged on another node is gone here", func() error {
		_, err := a.EnterpriseToken(ctx, tok.Hash)
		if usercenter.ErrorCode(err) != usercenter.ENotFound {
			return fmt.Errorf("EnterpriseToken: %v", err)
		}
		return nil
	})
	tok2 := &core.EnterpriseToken{Hash: storetest.HashOf("e2"), SecretID: "k", CreatedAt: storetest.Base, ExpiresAt: storetest.Base}
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertEnterpriseToken(ctx, tok2) })
	if _, err := a.EnterpriseToken(ctx, tok2.Hash); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, a, func(tx core.Tx) error { _, err := tx.DeleteExpiredEnterpriseTokens(ctx, time.Now()); return err })
	if _, err := a.EnterpriseToken(ctx, tok2.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("EnterpriseToken just purged through this node: %v", err)
	}
}

// TestEnterpriseTokenTrimInvalidation: a trim drops the trimmed key's
// tokens from the cache of the node it ran on at once, and from another
// node's within a second.
func TestEnterpriseTokenTrimInvalidation(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1)
	mustUpdate(t, a, func(tx core.Tx) error {
		if err := tx.InsertKey(ctx, newKey("k", 1)); err != nil {
			return err
		}
		return tx.InsertKey(ctx, newKey("other", 1))
	})
	expires := time.Now().Add(time.Hour)
	old := &core.EnterpriseToken{Hash: storetest.HashOf("old"), SecretID: "k", CreatedAt: storetest.Base, ExpiresAt: expires}
	kept := &core.EnterpriseToken{Hash: storetest.HashOf("kept"), SecretID: "k", CreatedAt: storetest.Base.Add(time.Second), ExpiresAt: expires}
	other := &core.EnterpriseToken{Hash: storetest.HashOf("other"), SecretID: "other", CreatedAt: storetest.Base, ExpiresAt: expires}
	mustUpdate(t, a, func(tx core.Tx) error {
		for _, e := range []*core.EnterpriseToken{old, kept, other} {
			if err := tx.InsertEnterpriseToken(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	for _, n := range []*storecache.Store{a, b} {
		for _, e := range []*core.EnterpriseToken{old, kept, other} {
			if _, err := n.EnterpriseToken(ctx, e.Hash); err != nil {
				t.Fatal(err)
			}
		}
	}
	trim := func(s core.Store, keep int) {
		t.Helper()
		mustUpdate(t, s, func(tx core.Tx) error { _, err := tx.TrimEnterpriseTokens(ctx, "k", keep); return err })
	}
	trim(a, 1)
	if _, err := a.EnterpriseToken(ctx, old.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("EnterpriseToken just trimmed through this node: %v", err)
	}
	for _, e := range []*core.EnterpriseToken{kept, other} {
		if _, err := a.EnterpriseToken(ctx, e.Hash); err != nil {
			t.Fatalf("EnterpriseToken %s after a trim that keeps it: %v", e.SecretID, err)
		}
	}
	eventually(t, "an enterprise token trimmed on another node is gone here", func() error {
		if _, err := b.EnterpriseToken(ctx, old.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
			return fmt.Errorf("EnterpriseToken: %v", err)
		}
		return nil
	})
	trim(b, 0)
	if _, err := b.EnterpriseToken(ctx, kept.Hash); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("EnterpriseToken just trimmed through this node: %v", err)
	}
}

func TestAppInvalidation(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1)
	app := storetest.NewApp(1)
	for range 2 {
		if got, err := a.App(ctx, 1); err != nil || got.Status != usercenter.AppActive {
			t.Fatalf("App = %+v, %v", got, err)
		}
		if got, err := a.AppByDomain(ctx, app.UserDomain); err != nil || got.SdkAppID != 1 {
			t.Fatalf("AppByDomain = %+v, %v", got, err)
		}
	}
	wantCached(t, a, "apps", func() { a.App(ctx, 1) })
	wantCached(t, a, "domains", func() { a.AppByDomain(ctx, app.UserDomain) })
	if _, err := a.AppByDomain(ctx, "nowhere.example"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("AppByDomain of no app: %v", err)
	}

	// Through this node: at once, by ID and by domain.
	app.Name = "renamed"
	mustUpdate(t, a, func(tx core.Tx) error { return tx.UpdateApp(ctx, app) })
	if got, _ := a.App(ctx, 1); got.Name != "renamed" {
		t.Fatalf("App right after an update through this node: %+v", got)
	}
	if got, _ := a.AppByDomain(ctx, app.UserDomain); got.Name != "renamed" {
		t.Fatalf("AppByDomain right after an update through this node: %+v", got)
	}

	// Disabled through another node: within a second.
	app.Status = usercenter.AppDisabled
	mustUpdate(t, b, func(tx core.Tx) error { return tx.UpdateApp(ctx, app) })
	eventually(t, "an app disabled on another node is disabled here", func() error {
		for _, read := range []func() (*core.AppRecord, error){
			func() (*core.AppRecord, error) { return a.App(ctx, 1) },
			func() (*core.AppRecord, error) { return a.AppByDomain(ctx, app.UserDomain) },
		} {
			got, err := read()
			if err != nil {
				return err
			}
			if got.Status != usercenter.AppDisabled {
				return errors.New("still active")
			}
		}
		return nil
	})

	// A new app is found at once: absences are never cached.
	if _, err := a.App(ctx, 2); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatal(err)
	}
	storetest.AddApps(t, b, 2)
	if _, err := a.App(ctx, 2); err != nil {
		t.Fatalf("an app created on another node right after this node missed it: %v", err)
	}
}

// TestSealedInvalidation: a master-key rotation re-seals values through
// UpdateSealed, and the rows it touched are read afresh.
func TestSealedInvalidation(t *testing.T) {
	a, _ := nodes(t)
	storetest.AddApps(t, a, 1)
	mustUpdate(t, a, func(tx core.Tx) error { return tx.InsertKey(ctx, newKey("k", 1)) })
	u := storetest.FullUser(1, "u", storetest.Base)
	storetest.AddUser(t, a, u)
	a.App(ctx, 1)
	a.Key(ctx, "k")
	a.User(ctx, u.ID)
	mustUpdate(t, a, func(tx core.Tx) error {
		for _, v := range []core.SealedValue{
			{Kind: core.SealedAppSecret, RowKey: fmt.Sprintf("%020d", 1), Value: []byte("new-app")},
			{Kind: core.SealedKeySecret, RowKey: "k", Value: []byte("new-key")},
			{Kind: core.SealedUserPhone, RowKey: u.ID, Value: []byte("new-phone")},
		} {
			if err := tx.UpdateSealed(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if app, _ := a.App(ctx, 1); string(app.SealedSuperAppSecret) != "new-app" {
		t.Errorf("app secret after re-sealing: %q", app.SealedSuperAppSecret)
	}
	if k, _ := a.Key(ctx, "k"); string(k.SealedSecretKey) != "new-key" {
		t.Errorf("key secret after re-sealing: %q", k.SealedSecretKey)
	}
	if got, _ := a.User(ctx, u.ID); string(got.SealedPhone) != "new-phone" {
		t.Errorf("phone after re-sealing: %q", got.SealedPhone)
	}
}

// TestEmailIndexInvalidation: re-indexing a user's email drops the cached
// user, so this node reads the new index at once.
func TestEmailIndexInvalidation(t *testing.T) {
	a, _ := nodes(t)
	storetest.AddApps(t, a, 1)
	u := storetest.FullUser(1, "u", storetest.Base)
	storetest.AddUser(t, a, u)
	wantCached(t, a, "users", func() { a.User(ctx, u.ID) })
	mustUpdate(t, a, func(tx core.Tx) error { return tx.SetEmailIndex(ctx, u.ID, []byte("reindexed")) })
	if got, _ := a.User(ctx, u.ID); string(got.EmailIndex) != "reindexed" {
		t.Errorf("email index after re-indexing: %q", got.EmailIndex)
	}
}

// TestExpiry: an entry is served for at most storecache.TTL.
func TestExpiry(t *testing.T) {
	a, _ := nodes(t)
	storetest.AddApps(t, a, 1)
	wantCached(t, a, "apps", func() { a.App(ctx, 1) })
	before := a.Stats()["apps"]
	// The entry was read at the latest now: sleeping is a lower bound on
	// its age, which load can only make longer.
	time.Sleep(storecache.TTL + 50*time.Millisecond)
	a.App(ctx, 1)
	if after := a.Stats()["apps"]; after.Misses != before.Misses+1 {
		t.Fatalf("stats %+v after the TTL, want a miss more than %+v", after, before)
	}
}

// TestBounds: however many rows are read, a cache holds at most its
// limit.
func TestBounds(t *testing.T) {
	const limit = 64
	s := storecache.New(openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db")), storecache.Limits{Users: limit, Tokens: limit})
	storetest.AddApps(t, s, 1)
	var users []*core.UserRecord
	mustUpdate(t, s, func(tx core.Tx) error {
		users = users[:0]
		for i := range 1000 {
			u := storetest.NewUser(1, strconv.Itoa(i), storetest.Base)
			users = append(users, u)
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			if err := tx.InsertToken(ctx, newToken(strconv.Itoa(i), u, time.Now().Add(time.Hour))); err != nil {
				return err
			}
		}
		return nil
	})
	for round := range 3 {
		for i, u := range users {
			if got, err := s.User(ctx, u.ID); err != nil || got.ID != u.ID {
				t.Fatalf("User = %+v, %v", got, err)
			}
			if got, err := s.Token(ctx, storetest.HashOf(strconv.Itoa(i))); err != nil || got.UserID != u.ID {
				t.Fatalf("Token = %+v, %v", got, err)
			}
		}
		for _, name := range []string{"users", "tokens"} {
			if n := s.Stats()[name].Len; n > limit || n == 0 {
				t.Fatalf("round %d: the %s cache holds %d entries, limit %d", round, name, n, limit)
			}
		}
	}
	// The most recent reads are the ones kept: the cache is full, and
	// still answers for the last user read.
	wantCached(t, s, "users", func() { s.User(ctx, users[len(users)-1].ID) })
}

// slowStore holds a user read until released, returning what it read
// before it was held: a read that raced a write.
type slowStore struct {
	core.Store
	mu      sync.Mutex
	hold    chan struct{}
	reading chan struct{}
}

func (s *slowStore) User(ctx context.Context, id string) (*core.UserRecord, error) {
	u, err := s.Store.User(ctx, id)
	s.mu.Lock()
	hold, reading := s.hold, s.reading
	s.mu.Unlock()
	if hold != nil {
		close(reading)
		<-hold
	}
	return u, err
}

// TestLoadRacingWrite: a read that began before a write through this node
// and returns after it must not leave its stale row in the cache.
func TestLoadRacingWrite(t *testing.T) {
	slow := &slowStore{Store: openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db"))}
	s := storecache.New(slow, storecache.DefaultLimits)
	storetest.AddApps(t, s, 1)
	u := storetest.NewUser(1, "u", storetest.Base)
	u.Nickname = "before"
	storetest.AddUser(t, s, u)

	slow.mu.Lock()
	slow.hold, slow.reading = make(chan struct{}), make(chan struct{})
	hold, reading := slow.hold, slow.reading
	slow.mu.Unlock()
	done := make(chan *core.UserRecord)
	go func() {
		got, _ := s.User(ctx, u.ID)
		done <- got
	}()
	<-reading
	slow.mu.Lock()
	slow.hold = nil
	slow.mu.Unlock()
	u.Nickname = "after"
	mustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	close(hold)
	if got := <-done; got.Nickname != "before" {
		t.Fatalf("the held read returned %q", got.Nickname)
	}
	if got, err := s.User(ctx, u.ID); err != nil || got.Nickname != "after" {
		t.Fatalf("User after the write, once the racing read returned: %+v, %v", got, err)
	}
}

// TestClosed: a closed store fails its reads, cached or not.
func TestClosed(t *testing.T) {
	s := storecache.New(openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db")), storecache.DefaultLimits)
	storetest.AddApps(t, s, 1)
	if _, err := s.App(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.App(ctx, 1); usercenter.ErrorCode(err) != usercenter.EUnavailable {
		t.Fatalf("App after Close: %v", err)
	}
}

// TestTxMethodsKnown: every method of core.Tx is either a read, which a Tx
// passes to the store beneath, or a write this package has decided about.
// A new write method must be added to the txn of storecache (to drop what
// it changes) and here.
func TestTxMethodsKnown(t *testing.T) {
	reads := reflect.TypeFor[core.Reader]()
	writes := []string{
		"EraseEventsUser", // the outbox is not cached
		"InsertApp", "InsertKey", "RevokeKey", "InsertUser", "InsertUsers", "UpdateUser", "DeleteUser", "InsertAudits",
		"InsertToken", "DeleteExpiredTokens", "SetMeta", "InsertAudit", "UpdateSealed", "SetEmailIndex", "UpdateApp",
		"InsertCode", "TakeCode", "CodeAttempts", "SetCodeAttempts", "DeleteExpiredCodes",
		"InsertEnterpriseToken", "DeleteExpiredEnterpriseTokens", "TrimEnterpriseTokens", "EraseAuditUser", "InsertEvents",
		"DeleteUserTokens", "DeleteOldEvents",
		// Nothing of the console is cached: a session ended on one node
		// must end on every node at once.
		"InsertConsoleAccount", "UpdateConsoleAccount", "InsertConsoleLink", "TakeConsoleLink", "InsertConsoleSession",
		"TouchConsoleSession", "DeleteConsoleSession", "DeleteConsoleSessions", "SetConsoleAttempts", "DeleteExpiredConsole",
		// Webhook endpoints and their logs are not cached: nothing to drop.
		"InsertWebhook", "UpdateWebhook", "DeleteWebhook", "ClaimWebhook", "SaveWebhookState", "InsertWebhookDeliveries",
		// SCIM tokens are never cached: a revocation holds at once.
		"InsertSCIMToken", "RevokeSCIMToken",
	}
	tx := reflect.TypeFor[core.Tx]()
	for i := range tx.NumMethod() {
		name := tx.Method(i).Name
		if _, ok := reads.MethodByName(name); ok {
			continue
		}
		if !slices.Contains(writes, name) {
			t.Errorf("core.Tx has a method %s that storecache does not know: decide what it invalidates", name)
		}
	}
}

// service builds a node: the service over a cached store of the database
// at path, with the clock now.
func service(t *testing.T, path string, ring *vault.Keyring, now func() time.Time) *core.Service {
	t.Helper()
	svc, err := core.NewService(ctx, storecache.New(openSQLite(t, path), storecache.DefaultLimits), ring,
		core.WithClock(now), core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare)))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestNodesRefuse checks the promise end to end, through the use cases of
// two nodes over one database: what one node revokes, deletes or disables
// the other refuses within a second, and an expired token is refused the
// moment it expires, whatever is cached.
func TestNodesRefuse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usercenter.db")
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		offset time.Duration
	)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	a, b := service(t, path, ring, now), service(t, path, ring, now)
	app, key, err := a.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "nodes", RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	register := func(name string) *core.Session {
		t.Helper()
		s, err := svctest.RegisterUser(a, ctx, key.Actor(), svctest.Registration{SdkAppID: app.SdkAppID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	me := func(s *core.Service, token string) error { _, err := s.Me(ctx, token); return err }

	t.Run("deleted user", func(t *testing.T) {
		sess := register("deleted")
		if err := me(a, sess.Token); err != nil {
			t.Fatal(err)
		}
		if err := b.DeleteUser(ctx, key.Actor(), sess.User.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a user deleted on node b is refused on node a", func() error {
			if err := me(a, sess.Token); !errors.Is(err, core.ErrBadToken) {
				return fmt.Errorf("Me: %v", err)
			}
			return nil
		})
	})

	t.Run("disabled user", func(t *testing.T) {
		sess := register("disabled")
		if err := me(a, sess.Token); err != nil {
			t.Fatal(err)
		}
		if err := svctest.SetUserStatus(b, ctx, key.Actor(), sess.User.ID, usercenter.UserDisabled); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a user disabled on node b is refused on node a", func() error {
			if err := me(a, sess.Token); !errors.Is(err, core.ErrUserDisabled) {
				return fmt.Errorf("Me: %v", err)
			}
			return nil
		})
		// And on node b at once.
		if err := me(b, sess.Token); !errors.Is(err, core.ErrUserDisabled) {
			t.Fatalf("Me on the node that disabled the user: %v", err)
		}
	})

	t.Run("revoked key", func(t *testing.T) {
		k, err := a.CreateKey(ctx, usercenter.Operator(), "revoked", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
		if err != nil {
			t.Fatal(err)
		}
		u, p := signedLogin(k, now())
		ent, err := a.AccessKeyLogin(ctx, u, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, check := range []func() error{
			func() error { _, err := a.AuthenticateKey(ctx, k.SecretID, k.SecretKey); return err },
			func() error { _, err := a.AuthenticateAccessToken(ctx, ent.Token); return err },
		} {
			if err := check(); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.RevokeKey(ctx, usercenter.Operator(), k.SecretID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.AuthenticateKey(ctx, k.SecretID, k.SecretKey); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Fatalf("Key on the node that revoked it: %v", err)
		}
		eventually(t, "a key revoked on node b, and its access tokens, are refused on node a", func() error {
			if _, err := a.AuthenticateKey(ctx, k.SecretID, k.SecretKey); usercenter.ErrorCode(err) != usercenter.ENotFound {
				return fmt.Errorf("Key: %v", err)
			}
			if _, err := a.AuthenticateAccessToken(ctx, ent.Token); !errors.Is(err, core.ErrBadEnterpriseToken) {
				return fmt.Errorf("EnterpriseActor: %v", err)
			}
			return nil
		})
	})

	t.Run("expired tokens", func(t *testing.T) {
		sess := register("expiring")
		k, err := a.CreateKey(ctx, usercenter.Operator(), "expiring", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
		if err != nil {
			t.Fatal(err)
		}
		u, p := signedLogin(k, now())
		ent, err := a.AccessKeyLogin(ctx, u, p)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second from the caches
			if err := me(a, sess.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := a.AuthenticateAccessToken(ctx, ent.Token); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		offset += core.DefaultEnterpriseTokenTTL + time.Second
		mu.Unlock()
		if _, err := a.AuthenticateAccessToken(ctx, ent.Token); !errors.Is(err, core.ErrBadEnterpriseToken) {
			t.Fatalf("an expired access token, just read from the cache: %v", err)
		}
		mu.Lock()
		offset += app.TokenTTL
		mu.Unlock()
		if err := me(a, sess.Token); !errors.Is(err, core.ErrBadToken) {
			t.Fatalf("an expired login token, just read from the cache: %v", err)
		}
	})
}

func signedLogin(key *usercenter.APIKey, ts time.Time) (string, string) {
	u := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + key.SecretID + "&timestamp=" + strconv.FormatInt(ts.UnixMilli(), 10)
	return u, aksig.Password(u, key.SecretKey)
}

// countingStore counts the user reads that reach the store beneath.
type countingStore struct {
	core.Store
	userReads atomic.Int64
}

func (s *countingStore) User(ctx context.Context, id string) (*core.UserRecord, error) {
	s.userReads.Add(1)
	return s.Store.User(ctx, id)
}

func (s *countingStore) UserCard(ctx context.Context, id string) (*core.UserCard, error) {
	s.userReads.Add(1)
	return s.Store.UserCard(ctx, id)
}

func (s *countingStore) UserCardInApp(ctx context.Context, sdkAppID uint64, id string) (*core.UserCard, error) {
	s.userReads.Add(1)
	return s.Store.UserCardInApp(ctx, sdkAppID, id)
}

// TestCardInAppMissesCached: an app's lookup of a UserId no user of the
// app has is kept, whether another app's user has it or no one does, so
// that the two take the same path, a cache hit, from the second lookup on.
func TestCardInAppMissesCached(t *testing.T) {
	inner := &countingStore{Store: openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db"))}
	s := storecache.New(inner, storecache.DefaultLimits)
	storetest.AddApps(t, s, 1, 2)
	mine := storetest.NewUser(1, "mine", storetest.Base)
	other := storetest.NewUser(2, "other-tenant", storetest.Base)
	storetest.AddUser(t, s, mine)
	storetest.AddUser(t, s, other)
	missing := storetest.NewUser(1, "missing", storetest.Base) // never stored

	for _, id := range []string{other.ID, missing.ID} {
		before := inner.userReads.Load()
		for i := range 3 {
			if _, err := s.UserCardInApp(ctx, 1, id); !isUserNotFound(err) {
				t.Fatalf("lookup %d of %s in app 1: %v, want the user not found", i, id, err)
			}
		}
		if n := inner.userReads.Load() - before; n != 2 {
			t.Errorf("three lookups of %s in app 1 reached the store %d times, want twice (the first miss and what the UserId is)", id, n)
		}
	}
	before := inner.userReads.Load()
	for range 2 {
		if c, err := s.UserCardInApp(ctx, 1, mine.ID); err != nil || c.ID != mine.ID {
			t.Fatalf("the app's own user: %+v, %v", c, err)
		}
	}
	if n := inner.userReads.Load() - before; n != 1 {
		t.Errorf("two lookups of the app's own user reached the store %d times, want once", n)
	}
	// The other app finds its user, from the card kept for app 1's miss.
	if c, err := s.UserCardInApp(ctx, 2, other.ID); err != nil || c.ID != other.ID || inner.userReads.Load() != before+1 {
		t.Fatalf("app 2's own user after app 1's miss: %+v, %v", c, err)
	}
}

func isUserNotFound(err error) bool {
	e := usercenter.ErrorOf(err)
	return e != nil && e.Code == usercenter.ENotFound && e.Resource == usercenter.ResourceUser
}

// TestMissingUserCached: that no user has a UserId is cached like a user
// that exists, so a missing UserId and another tenant's take the same
// path; and an insert of that UserId through this node is seen at once.
func TestMissingUserCached(t *testing.T) {
	inner := &countingStore{Store: openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db"))}
	s := storecache.New(inner, storecache.DefaultLimits)
	storetest.AddApps(t, s, 1, 2)
	other := storetest.NewUser(2, "other-tenant", storetest.Base)
	storetest.AddUser(t, s, other)
	missing := storetest.NewUser(1, "missing", storetest.Base) // its UserId, not yet stored

	reads := func() int64 { return inner.userReads.Load() }
	for _, id := range []string{other.ID, missing.ID} {
		before := reads()
		for i := range 3 {
			_, err := s.User(ctx, id)
			if id == missing.ID && (usercenter.ErrorCode(err) != usercenter.ENotFound || usercenter.ErrorOf(err).Resource != usercenter.ResourceUser) {
				t.Fatalf("read %d of a missing user: %v, want the store's user not found", i, err)
			}
			if id == other.ID && err != nil {
				t.Fatalf("read %d of an existing user: %v", i, err)
			}
		}
		if n := reads() - before; n != 1 {
			t.Errorf("three reads of %s reached the store %d times, want once", id, n)
		}
	}

	// Inserted through this node: found at once, from the store.
	storetest.AddUser(t, s, missing)
	before := reads()
	got, err := s.User(ctx, missing.ID)
	if err != nil || got.ID != missing.ID {
		t.Fatalf("User right after its insert through this node: %+v, %v", got, err)
	}
	if reads() != before+1 {
		t.Fatalf("the read after the insert did not reach the store")
	}

	// Deleted through this node: missing at once, then cached as missing.
	mustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, missing.ID) })
	for range 2 {
		if _, err := s.User(ctx, missing.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Fatalf("User right after its deletion through this node: %v", err)
		}
	}
	if reads() != before+2 {
		t.Fatalf("two reads after the deletion reached the store %d times, want once", reads()-before-1)
	}

	// Inserted in a batch: found at once as well.
	batch := storetest.NewUser(1, "batch", storetest.Base)
	if _, err := s.User(ctx, batch.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatal(err)
	}
	mustUpdate(t, s, func(tx core.Tx) error { return tx.InsertUsers(ctx, []*core.UserRecord{batch}) })
	if got, err := s.User(ctx, batch.ID); err != nil || got.ID != batch.ID {
		t.Fatalf("User right after InsertUsers through this node: %+v, %v", got, err)
	}
}

// TestMissingUserRacingInsert: a read that found no user before an insert
// through this node committed, and returns after it, must not leave the
// absence in the cache.
func TestMissingUserRacingInsert(t *testing.T) {
	slow := &slowStore{Store: openSQLite(t, filepath.Join(t.TempDir(), "usercenter.db"))}
	s := storecache.New(slow, storecache.DefaultLimits)
	storetest.AddApps(t, s, 1)
	u := storetest.NewUser(1, "late", storetest.Base)

	slow.mu.Lock()
	slow.hold, slow.reading = make(chan struct{}), make(chan struct{})
	hold, reading := slow.hold, slow.reading
	slow.mu.Unlock()
	done := make(chan error)
	go func() {
		_, err := s.User(ctx, u.ID)
		done <- err
	}()
	<-reading
	slow.mu.Lock()
	slow.hold = nil
	slow.mu.Unlock()
	storetest.AddUser(t, s, u)
	close(hold)
	if err := <-done; usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("the held read: %v, want not found", err)
	}
	if got, err := s.User(ctx, u.ID); err != nil || got.ID != u.ID {
		t.Fatalf("User after the insert, once the racing read returned: %+v, %v", got, err)
	}
}

// TestMissingUserOtherNode: a user created on another node under a UserId
// this node found missing is seen here once the absence expires, as any
// write of another node is. (Only a guess can look a UserId up before its
// user exists.) The bound polled is generous: what is checked is that the
// absence does expire.
func TestMissingUserOtherNode(t *testing.T) {
	a, b := nodes(t)
	storetest.AddApps(t, a, 1)
	u := storetest.NewUser(1, "elsewhere", storetest.Base)
	if _, err := a.User(ctx, u.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatal(err)
	}
	storetest.AddUser(t, b, u)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := a.User(ctx, u.ID)
		if err == nil {
			break
		}
		if usercenter.ErrorCode(err) != usercenter.ENotFound || time.Now().After(deadline) {
			t.Fatalf("a user created on another node is still not found here: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
