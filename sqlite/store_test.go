package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

var ctx = context.Background()

// base is a time with nanoseconds and a non-UTC zone, to check that both
// survive (the instant) and are normalized (the zone).
var base = time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.FixedZone("X", 8*3600))

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "db", "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func update(t testing.TB, s *Store, fn func(core.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func newApp(id uint64) *core.AppRecord {
	return &core.AppRecord{
		App: usercenter.App{
			SdkAppID:    id,
			Name:        fmt.Sprintf("App %d", id),
			UserDomain:  fmt.Sprintf("app%d.example", id),
			Status:      usercenter.AppActive,
			RateLimit:   20,
			TokenTTL:    7 * 24 * time.Hour,
			PhoneRegion: "SG",
			// Not the defaults, so that a round trip proves they are stored.
			SuperAppCipher: usercenter.CipherAESGCMBase64,
			CodeTTL:        2 * time.Minute,
			CreatedAt:      base,
		},
		SealedSuperAppSecret: []byte{1, 2, 3, byte(id)},
	}
}

func newUser(app uint64, origin string, at time.Time) *core.UserRecord {
	return &core.UserRecord{User: usercenter.User{
		ID:        usercenter.NewUserID(at),
		SdkAppID:  app,
		OriginID:  origin,
		Status:    usercenter.UserActive,
		CreatedAt: at,
		UpdatedAt: at,
		Profile: usercenter.Profile{
			Nickname: "Nick " + origin,
			Avatar:   "https://example.com/" + origin + ".png",
		},
	}}
}

func addApps(t testing.TB, s *Store, ids ...uint64) {
	t.Helper()
	update(t, s, func(tx core.Tx) error {
		for _, id := range ids {
			if err := tx.InsertApp(ctx, newApp(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

func addUser(t testing.TB, s *Store, u *core.UserRecord) {
	t.Helper()
	update(t, s, func(tx core.Tx) error { return tx.InsertUser(ctx, u) })
}

// wantErr checks err's domain code and its Field or Resource.
func wantErr(t testing.TB, err error, code usercenter.Code, fieldOrResource string) {
	t.Helper()
	var e *usercenter.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want a *usercenter.Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	if fieldOrResource != "" && e.Field != fieldOrResource && e.Resource != fieldOrResource {
		t.Fatalf("got field %q resource %q (%v), want %q", e.Field, e.Resource, err, fieldOrResource)
	}
}

func wantUTC(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Fatalf("%s = %v, want zero", what, got)
		}
		return
	}
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("%s = %v, want %v in UTC", what, got, want)
	}
}

// wantUser checks got against what storing want should read back: times
// in UTC, no empty links, and nil for empty ciphertexts and indexes.
func wantUser(t testing.TB, got *core.UserRecord, want *core.UserRecord) {
	t.Helper()
	w := *want
	w.CreatedAt = w.CreatedAt.UTC()
	w.UpdatedAt = w.UpdatedAt.UTC()
	if !w.LastLoginAt.IsZero() {
		w.LastLoginAt = w.LastLoginAt.UTC()
	}
	w.ThirdParty = nil
	for p, id := range want.ThirdParty {
		if id == "" {
			continue
		}
		if w.ThirdParty == nil {
			w.ThirdParty = make(map[usercenter.Provider]string)
		}
		w.ThirdParty[p] = id
	}
	for _, b := range []*[]byte{&w.SealedPhone, &w.SealedEmail, &w.SealedAddress, &w.PhoneIndex, &w.EmailIndex} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	if !reflect.DeepEqual(*got, w) {
		t.Fatalf("got user\n%+v\nwant\n%+v", *got, w)
	}
	wantUTC(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

func TestOpenSettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "x?y#z%.db") // characters a DSN must escape
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	// SQLite opened that very file, not one named after a mangled path.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("WAL file: %v; want mode 0600", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Fatalf("directory holds %d files, want the database, its WAL and shm", len(entries))
	}

	for _, c := range []struct {
		name, want string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := s.wconn.QueryRowContext(ctx, "PRAGMA "+c.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("writer: PRAGMA %s = %s, want %s", c.name, got, c.want)
		}
		if c.name == "journal_mode" {
			continue
		}
		if err := s.rdb.QueryRowContext(ctx, "PRAGMA "+c.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("reader: PRAGMA %s = %s, want %s", c.name, got, c.want)
		}
	}
	var queryOnly int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA query_only").Scan(&queryOnly); err != nil || queryOnly != 1 {
		t.Errorf("reader: query_only = %d, %v; want 1", queryOnly, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Applied(); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("first Open applied %v, want [1 2 3]", got)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 3 {
		t.Fatalf("SchemaVersion = %d, %v; want 3", v, err)
	}
	addApps(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Applied(); len(got) != 0 {
		t.Fatalf("reopen applied %v, want none", got)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 3 {
		t.Fatalf("SchemaVersion = %d, %v; want 3", v, err)
	}
	if _, err := s.App(ctx, 1); err != nil {
		t.Fatalf("data lost on reopen: %v", err)
	}
	// A version from a newer program must stop an older one.
	if _, err := s.wconn.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (999, 'x')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("Open accepted a database from a newer schema")
	}
}

func TestApps(t *testing.T) {
	s := openStore(t)
	a2, a1 := newApp(2), newApp(1)
	update(t, s, func(tx core.Tx) error {
		if err := tx.InsertApp(ctx, a2); err != nil {
			return err
		}
		if err := tx.InsertApp(ctx, a1); err != nil {
			return err
		}
		// A Tx reads its own writes; the read pool does not see them yet.
		if _, err := tx.App(ctx, 2); err != nil {
			t.Errorf("Tx cannot read its own write: %v", err)
		}
		if _, err := s.App(ctx, 2); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Errorf("uncommitted app visible to readers: %v", err)
		}
		return nil
	})

	got, err := s.App(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantUTC(t, "CreatedAt", got.CreatedAt, base)
	want := *a2
	want.CreatedAt = base.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("App = %+v, want %+v", *got, want)
	}
	apps, err := s.Apps(ctx)
	if err != nil || len(apps) != 2 || apps[0].SdkAppID != 1 || apps[1].SdkAppID != 2 {
		t.Fatalf("Apps = %+v, %v; want apps 1, 2", apps, err)
	}

	_, err = s.App(ctx, 3)
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceApp)

	dupID := newApp(1)
	dupID.UserDomain = "other.example"
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, dupID) }), usercenter.EConflict, "SdkAppId")
	dupDomain := newApp(3)
	dupDomain.UserDomain = a1.UserDomain
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, dupDomain) }), usercenter.EConflict, "UserDomain")

	// SdkAppIds above MaxInt64 survive the trip through SQLite's int64.
	big := newApp(1<<63 + 5)
	update(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, big) })
	if got, err := s.App(ctx, 1<<63+5); err != nil || got.SdkAppID != 1<<63+5 {
		t.Fatalf("big SdkAppId: %+v, %v", got, err)
	}
	apps, _ = s.Apps(ctx)
	if apps[len(apps)-1].SdkAppID != 1<<63+5 {
		t.Fatalf("Apps not in SdkAppId order: %+v", apps)
	}
}

func TestKeys(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2, 3)
	k := &core.KeyRecord{
		APIKey: usercenter.APIKey{
			SecretID:    "AKIDone",
			Name:        "ops",
			Apps:        []uint64{3, 1, 3},
			Permissions: []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead},
			CreatedAt:   base,
		},
		SealedSecretKey: []byte("sealed"),
	}
	update(t, s, func(tx core.Tx) error { return tx.InsertKey(ctx, k) })

	got, err := s.Key(ctx, "AKIDone")
	if err != nil {
		t.Fatal(err)
	}
	want := *k
	want.Apps = []uint64{1, 3}
	want.CreatedAt = base.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("Key = %+v, want %+v", *got, want)
	}
	if !got.RevokedAt.IsZero() {
		t.Fatal("new key is revoked")
	}

	_, err = s.Key(ctx, "AKIDnone")
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceKey)

	dup := *k
	dup.Apps = []uint64{2}
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertKey(ctx, &dup) }), usercenter.EConflict, "SecretId")

	// A missing app stores nothing of the key, even if fn shrugs it off.
	orphan := *k
	orphan.SecretID = "AKIDorphan"
	orphan.Apps = []uint64{1, 99}
	update(t, s, func(tx core.Tx) error {
		wantErr(t, tx.InsertKey(ctx, &orphan), usercenter.ENotFound, usercenter.ResourceApp)
		return nil
	})
	_, err = s.Key(ctx, "AKIDorphan")
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceKey)

	k2 := *k
	k2.SecretID = "AKIDtwo"
	k2.Apps = []uint64{2}
	k2.CreatedAt = base.Add(time.Second)
	update(t, s, func(tx core.Tx) error { return tx.InsertKey(ctx, &k2) })

	revoked := base.Add(time.Hour)
	update(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDone", revoked) })
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].SecretID != "AKIDone" || keys[1].SecretID != "AKIDtwo" {
		t.Fatalf("Keys = %+v", keys)
	}
	wantUTC(t, "RevokedAt", keys[0].RevokedAt, revoked)
	if !reflect.DeepEqual(keys[0].Apps, []uint64{1, 3}) || !reflect.DeepEqual(keys[1].Apps, []uint64{2}) {
		t.Fatalf("Keys apps = %v, %v", keys[0].Apps, keys[1].Apps)
	}
	if !keys[1].RevokedAt.IsZero() {
		t.Fatal("unrevoked key has RevokedAt")
	}

	// The zero time is NULL, and NULL reads back as the zero time.
	update(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDone", time.Time{}) })
	var null bool
	if err := s.rdb.QueryRowContext(ctx, `SELECT revoked_at IS NULL FROM api_keys WHERE secret_id = 'AKIDone'`).Scan(&null); err != nil || !null {
		t.Fatalf("revoked_at IS NULL = %v, %v", null, err)
	}
	if got, _ := s.Key(ctx, "AKIDone"); !got.RevokedAt.IsZero() {
		t.Fatalf("RevokedAt = %v, want zero", got.RevokedAt)
	}

	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDnone", revoked) }), usercenter.ENotFound, usercenter.ResourceKey)
}

func TestUsers(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2, 3)

	u := newUser(1, "alice", base)
	addUser(t, s, u)
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, got, u)
	if !got.LastLoginAt.IsZero() {
		t.Fatal("LastLoginAt set on a new user")
	}
	got, err = s.UserByOrigin(ctx, 1, "alice")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByOrigin = %+v, %v", got, err)
	}
	_, err = s.UserByOrigin(ctx, 2, "alice")
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	_, err = s.User(ctx, "nobody")
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)

	// Conflicts.
	sameOrigin := newUser(1, "alice", base)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, sameOrigin) }), usercenter.EConflict, "OriginId")
	sameID := newUser(2, "bob", base)
	sameID.ID = u.ID
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, sameID) }), usercenter.EConflict, "UserId")
	noApp := newUser(42, "carol", base)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, noApp) }), usercenter.ENotFound, usercenter.ResourceApp)

	// The same OriginId in other apps; UsersByOrigin orders by app.
	u3 := newUser(3, "alice", base.Add(time.Second))
	u2 := newUser(2, "alice", base.Add(2*time.Second))
	addUser(t, s, u3)
	addUser(t, s, u2)
	list, err := s.UsersByOrigin(ctx, []uint64{3, 1, 2, 77}, "alice")
	if err != nil || len(list) != 3 || list[0].SdkAppID != 1 || list[1].SdkAppID != 2 || list[2].SdkAppID != 3 {
		t.Fatalf("UsersByOrigin = %+v, %v", list, err)
	}
	wantUser(t, &list[1], u2)
	list, err = s.UsersByOrigin(ctx, []uint64{2}, "alice")
	if err != nil || len(list) != 1 || list[0].ID != u2.ID {
		t.Fatalf("UsersByOrigin(2) = %+v, %v", list, err)
	}
	if list, err := s.UsersByOrigin(ctx, nil, "alice"); err != nil || len(list) != 0 {
		t.Fatalf("UsersByOrigin(no apps) = %+v, %v", list, err)
	}

	// UpdateUser, including setting and clearing LastLoginAt.
	u.OriginID = "alice2"
	u.Nickname = "Alice"
	u.Avatar = ""
	u.Status = usercenter.UserDisabled
	u.UpdatedAt = base.Add(time.Minute)
	u.LastLoginAt = base.Add(2 * time.Minute)
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	got, _ = s.User(ctx, u.ID)
	wantUser(t, got, u)
	wantUTC(t, "LastLoginAt", got.LastLoginAt, u.LastLoginAt)
	u.LastLoginAt = time.Time{}
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	got, _ = s.User(ctx, u.ID)
	wantUser(t, got, u)
	var null bool
	if err := s.rdb.QueryRowContext(ctx, `SELECT last_login_at IS NULL FROM users WHERE user_id = ?`, u.ID).Scan(&null); err != nil || !null {
		t.Fatalf("last_login_at IS NULL = %v, %v", null, err)
	}

	// An OriginId is unique per app only.
	u3.OriginID = u.OriginID
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u3) })
	other := newUser(1, "taken", base)
	addUser(t, s, other)
	moved := *u
	moved.OriginID = "taken"
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, &moved) }), usercenter.EConflict, "OriginId")
	if got, _ := s.User(ctx, u.ID); got.OriginID != u.OriginID {
		t.Fatalf("failed UpdateUser changed OriginId to %q", got.OriginID)
	}
	ghost := newUser(1, "ghost", base)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, ghost) }), usercenter.ENotFound, usercenter.ResourceUser)

	// DeleteUser.
	update(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) })
	_, err = s.User(ctx, u2.ID)
	wantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) }), usercenter.ENotFound, usercenter.ResourceUser)
}

func TestListUsers(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	var want []*core.UserRecord
	update(t, s, func(tx core.Tx) error {
		// Inserted out of order, and two sharing a CreatedAt, which the
		// UserId then orders.
		for i := 9; i >= 0; i-- {
			at := base.Add(time.Duration(i/2) * time.Second)
			u := newUser(1, fmt.Sprint("u", i), at)
			want = append([]*core.UserRecord{u}, want...)
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return tx.InsertUser(ctx, newUser(2, "elsewhere", base))
	})
	for i := 0; i < len(want); i += 2 {
		if want[i].ID > want[i+1].ID {
			want[i], want[i+1] = want[i+1], want[i]
		}
	}

	var all []core.UserRecord
	for off := 0; off < 12; off += 4 {
		page, total, err := s.ListUsers(ctx, 1, off, 4)
		if err != nil || total != 10 {
			t.Fatalf("ListUsers(%d) total = %d, %v", off, total, err)
		}
		all = append(all, page...)
	}
	if len(all) != 10 {
		t.Fatalf("pages hold %d users, want 10", len(all))
	}
	for i := range all {
		wantUser(t, &all[i], want[i])
	}
	page, total, err := s.ListUsers(ctx, 1, 100, 4)
	if err != nil || total != 10 || len(page) != 0 {
		t.Fatalf("past the end: %d users, total %d, %v", len(page), total, err)
	}
	page, total, err = s.ListUsers(ctx, 3, 0, 10)
	if err != nil || total != 0 || len(page) != 0 {
		t.Fatalf("empty app: %d users, total %d, %v", len(page), total, err)
	}
	// In a Tx, ListUsers sees the Tx's own users.
	update(t, s, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, newUser(2, "more", base.Add(time.Hour))); err != nil {
			return err
		}
		page, total, err := tx.ListUsers(ctx, 2, 0, 10)
		if err != nil || total != 2 || len(page) != 2 || page[1].OriginID != "more" {
			t.Errorf("ListUsers in Tx = %+v, %d, %v", page, total, err)
		}
		return nil
	})
}

func TestTokens(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u1, u2 := newUser(1, "a", base), newUser(1, "b", base)
	addUser(t, s, u1)
	addUser(t, s, u2)

	tok := func(n int, u *core.UserRecord, expires time.Time) *core.Token {
		h := sha256.Sum256([]byte(fmt.Sprint("token", n)))
		return &core.Token{Hash: h[:], UserID: u.ID, SdkAppID: 1, CreatedAt: base, ExpiresAt: expires}
	}
	toks := []*core.Token{
		tok(0, u1, base.Add(time.Hour)),
		tok(1, u1, base.Add(-time.Hour)),
		tok(2, u2, base.Add(-time.Minute)),
		tok(3, u2, base.Add(time.Minute)),
		tok(4, u2, base), // expires exactly now: not yet "before now"
	}
	update(t, s, func(tx core.Tx) error {
		for _, tk := range toks {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Token(ctx, toks[0].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Hash, toks[0].Hash) || got.UserID != u1.ID || got.SdkAppID != 1 {
		t.Fatalf("Token = %+v", got)
	}
	wantUTC(t, "CreatedAt", got.CreatedAt, base)
	wantUTC(t, "ExpiresAt", got.ExpiresAt, toks[0].ExpiresAt)

	_, err = s.Token(ctx, []byte("nope"))
	wantErr(t, err, usercenter.ENotFound, "token")
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertToken(ctx, toks[0]) }), usercenter.EConflict, "Token")
	stray := tok(9, newUser(1, "ghost", base), base)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertToken(ctx, stray) }), usercenter.ENotFound, usercenter.ResourceUser)

	var n int
	update(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpiredTokens(ctx, base)
		return err
	})
	if n != 2 {
		t.Fatalf("DeleteExpiredTokens = %d, want 2", n)
	}
	for i, tk := range toks {
		_, err := s.Token(ctx, tk.Hash)
		if gone := usercenter.ErrorCode(err) == usercenter.ENotFound; gone != (i == 1 || i == 2) {
			t.Errorf("token %d: %v", i, err)
		}
	}

	// Deleting a user takes its tokens with it, and only its.
	update(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u2.ID) })
	for _, i := range []int{3, 4} {
		_, err := s.Token(ctx, toks[i].Hash)
		wantErr(t, err, usercenter.ENotFound, "token")
	}
	if _, err := s.Token(ctx, toks[0].Hash); err != nil {
		t.Fatalf("other user's token gone: %v", err)
	}
}

func TestMeta(t *testing.T) {
	s := openStore(t)
	if v, err := s.Meta(ctx, "k"); err != nil || v != nil {
		t.Fatalf("unset Meta = %q, %v; want nil", v, err)
	}
	update(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "k", []byte("one")) })
	update(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "k", []byte("two")) })
	if v, err := s.Meta(ctx, "k"); err != nil || string(v) != "two" {
		t.Fatalf("Meta = %q, %v; want two", v, err)
	}
	update(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "empty", nil) })
	if v, err := s.Meta(ctx, "empty"); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Meta(empty) = %#v, %v; want set and empty", v, err)
	}
}

func TestTimeRange(t *testing.T) {
	s := openStore(t)
	zero := newApp(1)
	zero.CreatedAt = time.Time{}
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, zero) }), usercenter.EInternal, "")
	far := newApp(1)
	far.CreatedAt = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, far) }), usercenter.EInternal, "")
	if apps, _ := s.Apps(ctx); len(apps) != 0 {
		t.Fatal("an app with an unstorable time was stored")
	}
}
