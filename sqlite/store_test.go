package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/core/storetest"
)

var ctx = context.Background()

// The contract suite's helpers, under the names these tests have always
// used, so that the SQLite-only tests read like the rest.
var (
	base        = storetest.Base
	newApp      = storetest.NewApp
	newUser     = storetest.NewUser
	fullUser    = storetest.FullUser
	newCode     = storetest.NewCode
	hashOf      = storetest.HashOf
	update      = storetest.MustUpdate
	addApps     = storetest.AddApps
	addUser     = storetest.AddUser
	addCode     = storetest.AddCode
	take        = storetest.Take
	setAttempts = storetest.SetAttempts
	wantErr     = storetest.WantErr
	wantUser    = storetest.WantUser
)

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "db", "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

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
	if got := s.Applied(); !reflect.DeepEqual(got, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}) {
		t.Fatalf("first Open applied %v, want [1 2 3 4 5 6 7 8 9 10 11 12 13]", got)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 13 {
		t.Fatalf("SchemaVersion = %d, %v; want 13", v, err)
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
	if v, err := s.SchemaVersion(ctx); err != nil || v != 13 {
		t.Fatalf("SchemaVersion = %d, %v; want 13", v, err)
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

// TestTimeRange checks the limit of storing times as int64 nanoseconds:
// a time the column cannot hold is refused, not wrapped around. (The zero
// time is the contract's.)
func TestTimeRange(t *testing.T) {
	s := openStore(t)
	for _, at := range []time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		far := newApp(1)
		far.CreatedAt = at
		wantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, far) }), usercenter.EInternal, "")
	}
	if apps, _ := s.Apps(ctx); len(apps) != 0 {
		t.Fatal("an app with an unstorable time was stored")
	}
}

// TestNullColumns checks how "no value" is stored: the zero time and an
// empty ciphertext or index are NULL, never 0 or an empty blob, so that
// the partial indexes and IS NULL tests the queries rely on hold.
func TestNullColumns(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	isNull := func(query string, args ...any) {
		t.Helper()
		var null bool
		if err := s.rdb.QueryRowContext(ctx, query, args...).Scan(&null); err != nil || !null {
			t.Fatalf("%s: %v, %v; want NULL", query, null, err)
		}
	}

	k := &core.KeyRecord{
		APIKey:          usercenter.APIKey{SecretID: "AKIDone", Name: "ops", Apps: []uint64{1}, CreatedAt: base},
		SealedSecretKey: []byte("sealed"),
	}
	update(t, s, func(tx core.Tx) error { return tx.InsertKey(ctx, k) })
	isNull(`SELECT revoked_at IS NULL FROM api_keys WHERE secret_id = 'AKIDone'`)
	update(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDone", base) })
	update(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDone", time.Time{}) })
	isNull(`SELECT revoked_at IS NULL FROM api_keys WHERE secret_id = 'AKIDone'`)

	u := newUser(1, "alice", base)
	u.LastLoginAt = base.Add(time.Minute)
	addUser(t, s, u)
	u.LastLoginAt = time.Time{}
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	isNull(`SELECT last_login_at IS NULL FROM users WHERE user_id = ?`, u.ID)

	empty := newUser(1, "carol", base)
	empty.SealedPhone, empty.EmailIndex = []byte{}, []byte{}
	addUser(t, s, empty)
	isNull(`SELECT phone_enc IS NULL AND email_idx IS NULL FROM users WHERE user_id = ?`, empty.ID)
}
