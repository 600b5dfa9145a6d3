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
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/core/storetest"
	"usercenter/postgres/pgtest"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/storecache"
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

// eventually polls check until it returns nil, and fails t unless that
// happens within the bound a node promises: one second. It returns how
// long it took.
func eventually(t *testing.T, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			took := time.Since(start)
			t.Logf("%s after %v", what, took.Round(time.Millisecond))
			return took
		}
		if time.Since(start) > time.Second {
			t.Fatalf("%s: still not after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustUpdate(t *testing.T, s core.Store, fn func(core.Tx) error) {
	t.Helper()
	storetest.MustUpdate(t, s, fn)
}

func wantCached(t *testing.T, s *storecache.Store, cache string, hitsBefore int64) {
	t.Helper()
	if got := s.Stats()[cache].Hits; got <= hitsBefore {
		t.Fatalf("the %s cache did not answer the read: %d hits, as before", cache, got)
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
	wantCached(t, a, "keys", 0)

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
	wantCached(t, a, "users", 0)

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
	wantCached(t, a, "tokens", 0)

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
	wantCached(t, a, "enterprise-tokens", 0)
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
	wantCached(t, a, "apps", 0)
	wantCached(t, a, "domains", 0)
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

// TestExpiry: an entry is served for at most storecache.TTL.
func TestExpiry(t *testing.T) {
	a, _ := nodes(t)
	storetest.AddApps(t, a, 1)
	a.App(ctx, 1)
	a.App(ctx, 1)
	before := a.Stats()["apps"]
	if before.Hits != 1 || before.Misses != 1 {
		t.Fatalf("stats %+v, want one miss then one hit", before)
	}
	time.Sleep(storecache.TTL + 50*time.Millisecond)
	a.App(ctx, 1)
	if after := a.Stats()["apps"]; after.Misses != 2 {
		t.Fatalf("stats %+v after the TTL, want a second miss", after)
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
	// The most recent reads are the ones kept.
	before := s.Stats()["users"].Hits
	s.User(ctx, users[len(users)-1].ID)
	wantCached(t, s, "users", before)
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
		"InsertApp", "InsertKey", "RevokeKey", "InsertUser", "InsertUsers", "UpdateUser", "DeleteUser", "InsertAudits",
		"InsertToken", "DeleteExpiredTokens", "SetMeta", "InsertAudit", "UpdateSealed", "UpdateApp",
		"InsertCode", "TakeCode", "CodeAttempts", "SetCodeAttempts", "DeleteExpiredCodes",
		"InsertEnterpriseToken", "DeleteExpiredEnterpriseTokens", "TrimEnterpriseTokens",
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
		core.WithClock(now), core.WithLoginReplay(replay.New(core.LoginReplayWindow, core.LoginReplayEntries)))
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
	app, key, err := a.CreateApp(ctx, core.NewApp{Name: "nodes", RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	register := func(name string) *core.Session {
		t.Helper()
		s, err := a.RegisterUser(ctx, key.Actor(), core.Registration{SdkAppID: app.SdkAppID, Name: name})
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
		if err := b.SetUserStatus(ctx, key.Actor(), sess.User.ID, usercenter.UserDisabled); err != nil {
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
		k, err := a.CreateKey(ctx, "revoked", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
		if err != nil {
			t.Fatal(err)
		}
		u, p := signedLogin(k, now())
		ent, err := a.AccessKeyLogin(ctx, u, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, check := range []func() error{
			func() error { _, err := a.Key(ctx, k.SecretID); return err },
			func() error { _, err := a.EnterpriseActor(ctx, ent.Token); return err },
		} {
			if err := check(); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.RevokeKey(ctx, k.SecretID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Key(ctx, k.SecretID); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Fatalf("Key on the node that revoked it: %v", err)
		}
		eventually(t, "a key revoked on node b, and its access tokens, are refused on node a", func() error {
			if _, err := a.Key(ctx, k.SecretID); usercenter.ErrorCode(err) != usercenter.ENotFound {
				return fmt.Errorf("Key: %v", err)
			}
			if _, err := a.EnterpriseActor(ctx, ent.Token); !errors.Is(err, core.ErrBadEnterpriseToken) {
				return fmt.Errorf("EnterpriseActor: %v", err)
			}
			return nil
		})
	})

	t.Run("expired tokens", func(t *testing.T) {
		sess := register("expiring")
		k, err := a.CreateKey(ctx, "expiring", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
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
			if _, err := a.EnterpriseActor(ctx, ent.Token); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		offset += core.DefaultEnterpriseTokenTTL + time.Second
		mu.Unlock()
		if _, err := a.EnterpriseActor(ctx, ent.Token); !errors.Is(err, core.ErrBadEnterpriseToken) {
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
	return u, core.AccessKeySignature(u, key.SecretKey)
}
