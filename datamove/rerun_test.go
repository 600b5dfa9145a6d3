package datamove_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/core"
	"usercenter/datamove"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/uctest/svctest"
)

// TestMigrateDataTwice runs a move again over its own result: nothing is
// written and the copy verifies.
func TestMigrateDataTwice(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 12)
	src.close(t)
	migrate(t, src, dsn, datamove.Options{})
	rep := migrate(t, src, dsn, datamove.Options{})
	if rep.Copied != 0 {
		t.Errorf("the second run copied %d rows", rep.Copied)
	}
	for _, r := range rep.Tables {
		if r.Inserted != 0 || r.Updated != 0 || r.Removed != 0 || r.Unchanged != r.Source || r.Destination != r.Source {
			t.Errorf("second run, %s: %+v", r.Table, r)
		}
	}
}

// TestMigrateDataResumes interrupts a move in the middle of the users and runs
// it again: it completes and verifies, and the users already copied are
// not copied again.
func TestMigrateDataResumes(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 40)
	src.close(t)

	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	_, err := datamove.Migrate(ctx, src.path, dsn, datamove.Options{Batch: 5, Keyring: src.ring, Progress: func(p datamove.Progress) {
		if p.Table == "users" && p.Done >= 15 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted move: %v, want context.Canceled", err)
	}
	had := pgCount(t, dsn, "users")
	if had < 15 || had >= int64(len(src.users)) {
		t.Fatalf("after the interruption the destination has %d users, want from 15 to %d", had, len(src.users)-1)
	}
	if n := pgCount(t, dsn, "tokens"); n != 0 {
		t.Fatalf("tokens were copied (%d) before the users were done", n)
	}

	rep := migrate(t, src, dsn, datamove.Options{Batch: 5})
	users := tableReport(t, rep, "users")
	if users.Unchanged != had || users.Inserted != users.Source-had {
		t.Errorf("the rerun's users: %+v, want %d unchanged", users, had)
	}
	if apps := tableReport(t, rep, "apps"); apps.Inserted != 0 {
		t.Errorf("the rerun copied apps again: %+v", apps)
	}
}

// TestMigrateDataDelta moves an instance whose server goes on writing, then
// moves it again: the second run brings over what changed, deletions
// included.
func TestMigrateDataDelta(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 10) // its store stays open: the server is running
	op := usercenter.Operator()
	migrate(t, src, dsn, datamove.Options{})

	changed := src.users[0]
	phone := "+86 139 0000 0001"
	if _, err := src.svc.UpdateUser(bg, op, changed.id, core.UserPatch{Nickname: ptr("renamed"), Phone: &phone}); err != nil {
		t.Fatal(err)
	}
	if err := src.svc.RevokeKey(bg, usercenter.Operator(), src.liveKey.SecretID); err != nil {
		t.Fatal(err)
	}
	gone := src.users[2]
	if err := src.svc.DeleteUser(bg, op, gone.id); err != nil {
		t.Fatal(err)
	}
	disabled := usercenter.UserDisabled
	if _, err := src.svc.UpdateUser(bg, op, src.users[3].id, core.UserPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	added, err := svctest.CreateUser(src.svc, bg, op, src.apps[0].SdkAppID, core.UserPatch{Nickname: ptr("late")})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := svctest.LoginUser(src.svc, bg, op, added.ID)
	if err != nil {
		t.Fatal(err)
	}

	rep := migrate(t, src, dsn, datamove.Options{})
	users := tableReport(t, rep, "users")
	if users.Inserted != 1 || users.Updated != 2 || users.Removed != 1 {
		t.Errorf("users: %+v, want 1 inserted, 2 updated, 1 removed", users)
	}
	if keys := tableReport(t, rep, "api_keys"); keys.Updated != 1 {
		t.Errorf("api_keys: %+v, want the revocation", keys)
	}

	d, err := openDest(t, dsn, src.ring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.AuthenticateKey(bg, src.liveKey.SecretID, src.liveKey.SecretKey); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("the key revoked during the move still works: %v", err)
	}
	if _, err := d.svc.GetUser(bg, op, gone.id, nil); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("the user deleted during the move: %v", err)
	}
	got, err := d.svc.GetUser(bg, op, changed.id, []usercenter.PIIField{usercenter.FieldPhone})
	if err != nil || got.Nickname != "renamed" || got.Phone != "+8613900000001" {
		t.Errorf("the changed user: %+v %v", got, err)
	}
	found, err := svctest.FindUsers(d.svc, bg, op, src.apps[0].SdkAppID, core.UserQuery{Phone: phone}, nil)
	if err != nil || len(found) != 1 || found[0].ID != changed.id {
		t.Errorf("lookup by the new phone: %v %v", found, err)
	}
	if _, err := d.svc.Me(bg, sess.Token); err != nil {
		t.Errorf("a token issued during the move: %v", err)
	}
	// The destination's triggers counted the users as they came, changed
	// and went: its counts are the source's.
	for _, app := range src.apps {
		want, err := src.store.UserStats(bg, app.SdkAppID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.store.UserStats(bg, app.SdkAppID, time.Time{})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("app %d: the destination counts %+v (%v), the source %+v", app.SdkAppID, got, err, want)
		}
	}
}

// TestMigrateDataRefusesOtherInstance: a destination that a server has
// initialised, under another master key or even under the same one, is
// not written to.
func TestMigrateDataRefusesOtherInstance(t *testing.T) {
	for _, sameKey := range []bool{false, true} {
		t.Run(fmt.Sprintf("sameKey=%v", sameKey), func(t *testing.T) {
			dsn := pgtest.DSN(t)
			src := newSource(t, 3)
			src.close(t)
			ring := mustRing(t)
			if sameKey {
				ring = src.ring
			}
			d, err := openDest(t, dsn, ring)
			if err != nil {
				t.Fatal(err)
			}
			d.store.Close()

			_, err = datamove.Migrate(bg, src.path, dsn, datamove.Options{})
			if !errors.Is(err, datamove.ErrRefused) || !strings.Contains(err.Error(), "another usercenter instance") {
				t.Fatalf("Migrate: %v, want a refusal", err)
			}
			// The server's first open wrote the key check, the blind index
			// key and the email index version, and nothing more came.
			for table, want := range map[string]int64{"apps": 0, "users": 0, "audit_events": 0, "meta": 3} {
				if n := pgCount(t, dsn, table); n != want {
					t.Errorf("%s has %d rows after the refusal, want %d", table, n, want)
				}
			}
		})
	}
}

// TestMigrateDataRefusesForeignUsers: a destination with users the source never
// had is not a copy of it.
func TestMigrateDataRefusesForeignUsers(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 3)
	src.close(t)
	migrate(t, src, dsn, datamove.Options{})
	d, err := openDest(t, dsn, src.ring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svctest.CreateUser(d.svc, bg, usercenter.Operator(), src.apps[0].SdkAppID, core.UserPatch{Nickname: ptr("only in postgres")}); err != nil {
		t.Fatal(err)
	}
	users := pgCount(t, dsn, "users")
	_, err = datamove.Migrate(bg, src.path, dsn, datamove.Options{})
	if !errors.Is(err, datamove.ErrRefused) || !strings.Contains(err.Error(), "1 user the source never had") {
		t.Fatalf("Migrate: %v, want a refusal", err)
	}
	if n := pgCount(t, dsn, "users"); n != users {
		t.Errorf("users: %d, want %d", n, users)
	}
}

// TestMigrateDataRefusesWhileServerRuns: a server on the destination holds its
// lock.
func TestMigrateDataRefusesWhileServerRuns(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 2)
	src.close(t)
	server, err := postgres.Open(bg, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	release, err := server.TryLock(bg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = datamove.Migrate(bg, src.path, dsn, datamove.Options{})
	if !errors.Is(err, datamove.ErrRefused) || !strings.Contains(err.Error(), "server is running") {
		t.Fatalf("Migrate: %v, want a refusal", err)
	}
	if n := pgCount(t, dsn, "meta"); n != 0 {
		t.Errorf("meta has %d rows", n)
	}
}

// TestMigrateDataWrongKey: a keyring that does not open the source stops the
// move before it writes.
func TestMigrateDataWrongKey(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 2)
	src.close(t)
	_, err := datamove.Migrate(bg, src.path, dsn, datamove.Options{Keyring: mustRing(t)})
	if !errors.Is(err, core.ErrWrongMasterKey) {
		t.Fatalf("Migrate: %v, want ErrWrongMasterKey", err)
	}
	c, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(bg)
	var n int
	if err := c.QueryRow(bg, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the destination has %d tables (%v)", n, err)
	}
}

// TestMigrateDataSourceChecks: only an existing usercenter database is read,
// and nothing else is changed.
func TestMigrateDataSourceChecks(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if _, err := datamove.Migrate(bg, missing, dsn, datamove.Options{}); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("missing source: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing source was created: %v", err)
	}

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	_, err = datamove.Migrate(bg, other, dsn, datamove.Options{})
	if err == nil || !strings.Contains(err.Error(), "not a usercenter database") {
		t.Errorf("foreign source: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the foreign source now has %d schema objects (%v)", n, err)
	}
	db.Close()
}

// TestMigrateDataDetectsDamage: verification finds rows that differ, are
// missing, or do not decrypt.
func TestMigrateDataDetectsDamage(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 5)
	src.close(t)
	victim := src.users[0].id
	undo := datamove.SetBeforeVerify(func(ctx context.Context, dst *pgx.Conn) error {
		_, err := dst.Exec(ctx, `UPDATE users SET nickname = 'tampered', phone_enc = substr(phone_enc, 1, length(phone_enc) - 1) || '\x00'::bytea WHERE user_id = $1`, victim)
		if err == nil {
			_, err = dst.Exec(ctx, `DELETE FROM tokens WHERE token_hash = (SELECT token_hash FROM tokens ORDER BY token_hash LIMIT 1)`)
		}
		return err
	})
	rep, err := datamove.Migrate(bg, src.path, dsn, datamove.Options{Keyring: src.ring})
	undo()
	if !errors.Is(err, datamove.ErrMismatch) {
		t.Fatalf("Migrate: %v, want ErrMismatch", err)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		fmt.Sprintf("users: 1 of %d sampled rows differ from the source: user_id=%s: nickname, phone_enc differ", len(src.users), victim),
		"rows, 1 fewer than the source",
		"users: sampled sealed values that do not open with the master key in the destination (1): the phone of user " + victim,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if rep.Verified {
		t.Error("Verified is set")
	}
	// The next run repairs it.
	migrate(t, src, dsn, datamove.Options{})
}

// TestMigrateDataLarge moves 20,000 users with links and tokens.
func TestMigrateDataLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	dsn := pgtest.DSN(t)
	src := newSource(t, 0)
	app := src.apps[0].SdkAppID
	op := usercenter.Operator()
	var ids []string
	for b := range 20 {
		regs := make([]svctest.Registration, core.MaxBatchUsers)
		for i := range regs {
			regs[i] = svctest.Registration{SdkAppID: app, Name: fmt.Sprintf("bulk %d", b*1000+i), OriginID: fmt.Sprintf("bulk-%d", b*1000+i)}
		}
		users, err := svctest.BatchRegister(src.svc, bg, op, regs)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			ids = append(ids, u.ID)
		}
	}
	// Concurrent logins share SQLite commits.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < 4000; i += 16 {
				if _, err := svctest.LoginUser(src.svc, bg, op, ids[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	src.close(t)

	rep := migrate(t, src, dsn, datamove.Options{})
	users := tableReport(t, rep, "users")
	if users.Inserted != 20000 || users.Destination != 20000 || users.Sampled != datamove.DefaultSample {
		t.Errorf("users: %+v", users)
	}
	audit := tableReport(t, rep, "audit_events")
	t.Logf("users: %d rows in %.2fs, %.0f rows/s; audit events: %.0f rows/s; tokens: %.0f rows/s; whole run %.2fs",
		users.Inserted, users.Seconds, users.RowsPerSecond, audit.RowsPerSecond, tableReport(t, rep, "tokens").RowsPerSecond, rep.Seconds)
}

// TestMigrateDataRate measures the writer on realistic user rows (sealed
// values and indexes of their real sizes) made straight in SQLite:
// DATAMOVE_RATE=200000 go test ./datamove -run TestMigrateDataRate -v
func TestMigrateDataRate(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DATAMOVE_RATE"))
	if n == 0 {
		t.Skip("set DATAMOVE_RATE to a number of users")
	}
	src := newSource(t, 0)
	src.close(t)
	db, err := sql.Open("sqlite", src.path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	blob := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	ins, err := tx.Prepare(`INSERT INTO users (user_id, sdk_app_id, origin_id, nickname, avatar, status, created_at, updated_at,
		phone_enc, phone_idx, email_enc, email_idx, address_enc, city) VALUES (?, ?, ?, ?, '', 1, ?, ?, ?, ?, ?, ?, ?, 'Shenzhen')`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := ins.Exec(fmt.Sprintf("2%026d", i), int64(src.apps[0].SdkAppID), fmt.Sprintf("o%d", i), fmt.Sprintf("user %d", i),
			int64(i), int64(i), blob(42), blob(32), blob(50), blob(32), blob(60)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, c := range []struct {
		values bool
		batch  int
	}{{false, 1000}, {false, 2000}, {false, 5000}, {true, 1000}} {
		dsn := pgtest.DSN(t)
		undo := datamove.UseValues(c.values)
		for _, run := range []string{"first run", "rerun"} {
			rep, err := datamove.Migrate(bg, src.path, dsn, datamove.Options{Batch: c.batch})
			if err != nil {
				t.Fatal(err)
			}
			u := tableReport(t, rep, "users")
			t.Logf("values=%v batch=%d %s: users %d rows in %.2fs = %.0f rows/s (whole run %.2fs)", c.values, c.batch, run, u.Source, u.Seconds, u.RowsPerSecond, rep.Seconds)
		}
		undo()
	}
}
