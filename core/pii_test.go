package core_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// dbBytes returns everything env's store keeps, as an attacker with a copy
// of the data would see it: with SQLite the database file and its WAL;
// with PostgreSQL, whose files are the server's, every value of every
// table of the schema as the server holds it (see pgBytes).
func dbBytes(t *testing.T, env *uctest.Env) []byte {
	t.Helper()
	if env.Engine == svctest.Postgres {
		return pgBytes(t, env.DB)
	}
	var all []byte
	for _, name := range []string{"usercenter.db", "usercenter.db-wal"} {
		b, err := os.ReadFile(filepath.Join(env.Dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("no database bytes found")
	}
	return all
}

// pgBytes reads every row of every table in the schema of dsn on a
// connection of its own, and returns the raw bytes of all their values:
// bytea columns come in binary, so their bytes are what is stored, not a
// hex rendering that would hide plaintext from the search.
func pgBytes(t *testing.T, dsn string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "users") || !slices.Contains(tables, "audit_events") {
		t.Fatalf("schema holds tables %v: not the store's", tables)
	}
	var all []byte
	for _, table := range tables {
		rows, err := conn.Query(ctx, "SELECT * FROM "+pgx.Identifier{table}.Sanitize(), pgx.QueryResultFormats{pgx.BinaryFormatCode})
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			for _, v := range rows.RawValues() {
				all = append(all, v...)
				all = append(all, 0)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
	}
	return all
}

func TestPIIEncryptedAtRest(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	const marker = "PlainNicknameMarker7731"
	type person struct{ phoneIn, e164, national, email, address string }
	people := []person{
		{"+8613612346688", "+8613612346688", "13612346688", "Muzhiming@Tencent.com", "北京市海淀区中关村大街1号"},
		{"139 0000 7777", "+8613900007777", "13900007777", "second.person@example.org", "1 Infinite Loop, Cupertino"},
		{"+12025550123", "+12025550123", "2025550123", "us.person@example.net", "1600 Pennsylvania Avenue NW"},
	}
	var ids []string
	for i, p := range people {
		nick := "n"
		if i == 0 {
			nick = marker
		}
		u := mustUser(t, env.Svc, key, app, personal(nick, p.phoneIn, p.email, p.address))
		ids = append(ids, u.ID)
	}
	// Reveal and change some values too, so that they pass through every
	// write path (audit included).
	if _, err := env.Svc.GetUser(bg, key, ids[0], usercenter.PIIFields); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.UpdateUser(bg, key, ids[1], core.UserPatch{City: ptr("Shenzhen")}); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, raw []byte) {
		t.Helper()
		// The search works: the nickname, which is not personal data, is there.
		if !bytes.Contains(raw, []byte(marker)) {
			t.Fatalf("nickname %q not found in %d bytes of database: the search is broken", marker, len(raw))
		}
		for _, p := range people {
			digits := strings.TrimPrefix(p.e164, "+")
			for _, s := range []string{p.phoneIn, p.e164, digits, p.national, p.email, strings.ToLower(p.email), p.address} {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("plaintext %q found in the database", s)
				}
			}
		}
		// Nor a substring long enough to identify anyone.
		for _, s := range []string{"12346688", "中关村大街", "muzhiming", "Pennsylvania"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("plaintext fragment %q found in the database", s)
			}
		}
	}
	t.Run("open", func(t *testing.T) { check(t, dbBytes(t, env)) })
	if err := env.Store.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("closed and checkpointed", func(t *testing.T) { check(t, dbBytes(t, env)) })

	if logs := env.Log.String(); strings.Contains(logs, "13612346688") || strings.Contains(logs, "muzhiming") {
		t.Errorf("personal data in the logs: %s", logs)
	}
}

func TestBlindIndexLookups(t *testing.T) {
	env, appB, keyB := newEnv(t)
	keyA := env.Key.Actor()
	appA := env.App.SdkAppID
	uA := mustUser(t, env.Svc, keyA, appA, personal("a", "+8613612346688", "Muzhiming@Tencent.com", ""))
	mustUser(t, env.Svc, keyA, appA, personal("a2", "+8613900001111", "other@tencent.com", ""))
	uB := mustUser(t, env.Svc, keyB.Actor(), appB.SdkAppID, personal("b", "13612346688", "muzhiming@tencent.com", ""))

	for _, tc := range []struct {
		name string
		l    core.UserQuery
	}{
		{"phone E.164", core.UserQuery{Phone: "+8613612346688"}},
		{"phone national", core.UserQuery{Phone: "13612346688"}},
		{"phone spaced", core.UserQuery{Phone: "136 1234 6688"}},
		{"phone with country code and dashes", core.UserQuery{Phone: "+86-136-1234-6688"}},
		{"email as stored", core.UserQuery{Email: "muzhiming@tencent.com"}},
		{"email other case", core.UserQuery{Email: "MUZHIMING@TENCENT.COM"}},
		{"email mixed case", core.UserQuery{Email: "MuZhiMing@tencent.COM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, side := range []struct {
				actor *usercenter.Actor
				app   uint64
				want  string
			}{
				{keyA, appA, uA.ID},
				{keyB.Actor(), appB.SdkAppID, uB.ID},
				// The operator may read both apps, but a lookup stays in one.
				{usercenter.Operator(), appA, uA.ID},
				{usercenter.Operator(), appB.SdkAppID, uB.ID},
			} {
				users, err := svctest.FindUsers(env.Svc, bg, side.actor, side.app, tc.l, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(users) != 1 || users[0].ID != side.want {
					t.Fatalf("FindUsers in app %d found %+v, want only %s", side.app, users, side.want)
				}
				if users[0].SdkAppID != side.app {
					t.Fatalf("lookup in app %d returned a user of app %d", side.app, users[0].SdkAppID)
				}
			}
		})
	}

	// A different number or address finds nobody.
	for _, l := range []core.UserQuery{{Phone: "+8613612346689"}, {Email: "muzhiming@tencent.cn"}} {
		users, err := svctest.FindUsers(env.Svc, bg, keyA, appA, l, nil)
		if err != nil || len(users) != 0 {
			t.Errorf("FindUsers(%+v) = %+v, %v; want none", l, users, err)
		}
	}
	// A value that is not a phone or email is invalid, not "none".
	_, err := svctest.FindUsers(env.Svc, bg, keyA, appA, core.UserQuery{Phone: "abc"}, nil)
	wantCode(t, err, usercenter.EInvalid)
	// So is one that could never be stored: a lookup follows the rules
	// of what it looks for.
	for _, email := range []string{"A <a@b.c>", "  MuZhiMing@tencent.com ", "muzhiming@tencent.com\n", "mu\x00zhiming@tencent.com", "muzhiming@-tencent.com", strings.Repeat("m", 65) + "@tencent.com"} {
		_, err = svctest.FindUsers(env.Svc, bg, keyA, appA, core.UserQuery{Email: email}, nil)
		wantCode(t, err, usercenter.EInvalid)
	}

	// The same phone and email have different indexes in the two apps.
	recA, err := env.Store.User(bg, uA.ID)
	if err != nil {
		t.Fatal(err)
	}
	recB, err := env.Store.User(bg, uB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recA.PhoneIndex) != sha256.Size || len(recA.EmailIndex) != sha256.Size {
		t.Fatalf("indexes of %d and %d bytes", len(recA.PhoneIndex), len(recA.EmailIndex))
	}
	if bytes.Equal(recA.PhoneIndex, recB.PhoneIndex) {
		t.Error("the same phone has the same blind index in two apps")
	}
	if bytes.Equal(recA.EmailIndex, recB.EmailIndex) {
		t.Error("the same email has the same blind index in two apps")
	}
	// The index is keyed: not a plain hash of the value.
	for _, s := range []string{"+8613612346688", "muzhiming@tencent.com"} {
		h := sha256.Sum256([]byte(s))
		if bytes.Equal(recA.PhoneIndex, h[:]) || bytes.Equal(recA.EmailIndex, h[:]) {
			t.Errorf("blind index is the unkeyed SHA-256 of %q", s)
		}
	}
	// And A's index finds nothing in B.
	for _, c := range []struct {
		f   usercenter.PIIField
		idx []byte
	}{{usercenter.FieldPhone, recA.PhoneIndex}, {usercenter.FieldEmail, recA.EmailIndex}} {
		inA, err := env.Store.UsersByIndex(bg, appA, c.f, c.idx)
		if err != nil || len(inA) != 1 || inA[0].ID != uA.ID {
			t.Errorf("UsersByIndex(A, %s, A's index) = %d users, %v", c.f, len(inA), err)
		}
		inB, err := env.Store.UsersByIndex(bg, appB.SdkAppID, c.f, c.idx)
		if err != nil || len(inB) != 0 {
			t.Errorf("UsersByIndex(B, %s, A's index) = %d users, %v; want none", c.f, len(inB), err)
		}
	}

	// Changing the phone moves the index: the old number no longer finds
	// the user, the new one does.
	if _, err := env.Svc.UpdateUser(bg, keyA, uA.ID, core.UserPatch{Phone: ptr("+8613700002222")}); err != nil {
		t.Fatal(err)
	}
	if users, _ := svctest.FindUsers(env.Svc, bg, keyA, appA, core.UserQuery{Phone: "13612346688"}, nil); len(users) != 0 {
		t.Errorf("old phone still finds %d users", len(users))
	}
	if users, _ := svctest.FindUsers(env.Svc, bg, keyA, appA, core.UserQuery{Phone: "13700002222"}, nil); len(users) != 1 || users[0].ID != uA.ID {
		t.Errorf("new phone finds %+v", users)
	}
	// Clearing the email removes its index.
	if _, err := env.Svc.UpdateUser(bg, keyA, uA.ID, core.UserPatch{Email: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if rec, err := env.Store.User(bg, uA.ID); err != nil || rec.EmailIndex != nil || rec.SealedEmail != nil {
		t.Errorf("cleared email left index %x and value %x (%v)", rec.EmailIndex, rec.SealedEmail, err)
	}
}

// National numbers are read in the app's own region, for storage and for
// lookups alike.
func TestPhoneRegionPerApp(t *testing.T) {
	env := uctest.New(t)
	us, usKey, err := env.Svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "us app", PhoneRegion: "US"})
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, env.Svc, usKey.Actor(), us.SdkAppID, personal("u", "(202) 555-0123", "", ""))
	got, err := env.Svc.GetUser(bg, usKey.Actor(), u.ID, []usercenter.PIIField{usercenter.FieldPhone})
	if err != nil || got.Phone != "+12025550123" {
		t.Fatalf("stored phone %q, %v; want +12025550123", got.Phone, err)
	}
	for _, q := range []string{"202-555-0123", "+1 202 555 0123"} {
		users, err := svctest.FindUsers(env.Svc, bg, usKey.Actor(), us.SdkAppID, core.UserQuery{Phone: q}, nil)
		if err != nil || len(users) != 1 {
			t.Errorf("FindUsers(%q) = %d users, %v", q, len(users), err)
		}
	}
	// A CN national number is not a US one.
	_, err = svctest.CreateUser(env.Svc, bg, usKey.Actor(), us.SdkAppID, personal("x", "021-62345678", "", ""))
	wantCode(t, err, usercenter.EInvalid)
	if e := usercenter.ErrorOf(err); e.Field != "phone" {
		t.Errorf("field %q, want phone", e.Field)
	}
}
