package sqlite

import (
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
	"usercenter/sqlstore"
)

// TestTakeCodeBatched races takes of one code inside one group commit,
// where they share a transaction and only savepoints keep them apart:
// exactly one wins, and the row records the winner's time.
func TestTakeCodeBatched(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u := newUser(1, "u", base)
	addUser(t, s, u)
	const n = 20
	c := newCode("batched", u, usercenter.FieldPhone, base.Add(time.Hour))
	addCode(t, s, c)

	release := holdWriter(t, s)
	errs := make([]error, n)
	got := make([]*core.Code, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = take(s, c.Hash, base.Add(time.Duration(i+1)*time.Second))
		})
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()

	won := -1
	for i, err := range errs {
		if err == nil {
			if won >= 0 {
				t.Fatalf("takes %d and %d both got the code", won, i)
			}
			won = i
			continue
		}
		wantErr(t, err, usercenter.ENotFound, "code")
	}
	if won < 0 {
		t.Fatal("no take got the code")
	}
	var usedAt int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT used_at FROM codes WHERE code_hash = ?`, c.Hash).Scan(&usedAt); err != nil {
		t.Fatal(err)
	}
	if !sqlstore.DecodeTime(usedAt).Equal(got[won].UsedAt) {
		t.Fatalf("used_at %v, winner's %v", sqlstore.DecodeTime(usedAt), got[won].UsedAt)
	}
}

// TestCodeAttemptRows checks that code attempts are one row per user,
// upserted in place, and that clearing or a refusal leaves no row.
func TestCodeAttemptRows(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1, 2)
	u := newUser(1, "u", base)
	addUser(t, s, u)
	for _, n := range []int{1, 4} {
		if err := setAttempts(s, 1, u.ID, n, base.Add(time.Duration(n)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if c := count(t, s, "code_attempts", "user_id = ?", u.ID); c != 1 {
			t.Fatalf("%d attempt rows for one user", c)
		}
	}
	for range 2 {
		if err := setAttempts(s, 1, u.ID, 0, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if c := count(t, s, "code_attempts", "user_id = ?", u.ID); c != 0 {
			t.Fatalf("clear left %d rows", c)
		}
	}
	for _, refused := range []error{
		setAttempts(s, 1, u.ID, -1, base),
		setAttempts(s, 2, u.ID, 1, base),
		setAttempts(s, 1, "nobody", 1, base),
		setAttempts(s, 1, u.ID, 1, time.Time{}),
	} {
		if refused == nil {
			t.Fatal("SetCodeAttempts accepted what the contract refuses")
		}
	}
	if c := count(t, s, "code_attempts", "user_id IN (?, 'nobody')", u.ID); c != 0 {
		t.Fatalf("refused SetCodeAttempts stored %d rows", c)
	}
}

// TestDeleteUserRows checks, row by row, that DeleteUser takes the user's
// codes, code attempts and links with it, and nobody else's.
func TestDeleteUserRows(t *testing.T) {
	s := openStore(t)
	addApps(t, s, 1)
	u, v := fullUser(1, "u", base), fullUser(1, "v", base.Add(time.Second))
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
	for _, table := range []string{"codes", "code_attempts", "user_links"} {
		if n := count(t, s, table, "user_id = ?", u.ID); n != 0 {
			t.Errorf("%d %s rows of the deleted user left", n, table)
		}
	}
	for table, want := range map[string]int{"codes": 2, "code_attempts": 1, "user_links": 2} {
		if n := count(t, s, table, "user_id = ?", v.ID); n != want {
			t.Errorf("%d %s rows of the other user left, want %d", n, table, want)
		}
	}
}

// TestDeletedKeyTakesTokens checks the cascade from an API key to its
// enterprise tokens, which the contract cannot reach: it has no way to
// delete a key.
func TestDeletedKeyTakesTokens(t *testing.T) {
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
			e := &core.EnterpriseToken{Hash: hashOf(id), SecretID: id, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
			if err := tx.InsertEnterpriseToken(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
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
		{reads.AppByDomain, []any{"a"}, "sqlite_autoindex_apps_1"},
	})
}

// TestTrimEnterpriseTokensPlan: a trim reads a key's tokens newest first
// through enterprise_tokens_key, rather than sorting them.
func TestTrimEnterpriseTokensPlan(t *testing.T) {
	plan := queryPlan(t, openStore(t), qTrimEnterpriseTokens, "a", 1)
	if !strings.Contains(plan, "enterprise_tokens_key") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("trim plan %q: want enterprise_tokens_key, and no sort", plan)
	}
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
	if got := s.Applied(); !reflect.DeepEqual(got, []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}) {
		t.Fatalf("Open applied %v, want [3 4 5 6 7 8 9 10 11 12 13]", got)
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
	if err := want.Validate(); usercenter.ErrorOf(err).Field != usercenter.FieldSuperAppSecretKey {
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
