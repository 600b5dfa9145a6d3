package core_test

import (
	"errors"
	"fmt"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

func TestWrongMasterKeyFailsAtStart(t *testing.T) {
	db := svctest.NewDatabase(t)
	right := vault.NewKey()
	in, err := openInstance(t, db, mustRing(t, right))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	in.store.Close()

	svc, err := func() (*core.Service, error) {
		in, err := openInstance(t, db, mustRing(t, vault.NewKey()))
		if in != nil {
			return in.svc, err
		}
		return nil, err
	}()
	if !errors.Is(err, core.ErrWrongMasterKey) {
		t.Fatalf("NewService with another key = %v, want ErrWrongMasterKey", err)
	}
	if svc != nil {
		t.Error("NewService returned a service with its error")
	}

	// Even on a database with no app yet: the check value is written on
	// first start.
	empty := svctest.NewDatabase(t)
	in, err = openInstance(t, empty, mustRing(t, right))
	if err != nil {
		t.Fatal(err)
	}
	in.store.Close()
	if _, err := openInstance(t, empty, mustRing(t, vault.NewKey())); !errors.Is(err, core.ErrWrongMasterKey) {
		t.Fatalf("NewService with another key on an empty database = %v, want ErrWrongMasterKey", err)
	}

	// The right key still opens it, also as an older key of a ring.
	if _, err := openInstance(t, db, mustRing(t, right)); err != nil {
		t.Fatalf("NewService with the right key: %v", err)
	}
	if _, err := openInstance(t, db, mustRing(t, vault.NewKey(), right)); err != nil {
		t.Fatalf("NewService with the right key second: %v", err)
	}
}

func TestResealRotation(t *testing.T) {
	db := svctest.NewDatabase(t)
	oldKey, newKey := vault.NewKey(), vault.NewKey()
	in, err := openInstance(t, db, mustRing(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	svc := in.svc

	// Two apps, three keys, users with every combination of values.
	apps := map[uint64]string{}
	keys := map[string]string{}
	var first *usercenter.APIKey
	for _, name := range []string{"one", "two"} {
		app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		apps[app.SdkAppID] = app.SuperAppSecretKey
		keys[key.SecretID] = key.SecretKey
		if first == nil {
			first = key
		}
	}
	extra, err := svc.CreateKey(bg, usercenter.Operator(), "extra", []uint64{first.Apps[0]}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	keys[extra.SecretID] = extra.SecretKey
	if err := svc.RevokeKey(bg, usercenter.Operator(), extra.SecretID); err != nil {
		t.Fatal(err)
	}

	type values struct{ phone, email, address string }
	users := map[string]values{}
	nValues := 0
	for i, v := range []values{
		{"+8613612346688", "muzhiming@tencent.com", "北京市海淀区中关村大街1号"},
		{"+12025550123", "", ""},
		{"", "only.email@example.com", ""},
		{"", "", "only an address"},
		{"", "", ""},
		{"+8613900001111", "cleared@example.com", "x"},
	} {
		u := mustUser(t, svc, first.Actor(), first.Apps[0], personal("u", v.phone, v.email, v.address))
		if i == 5 {
			// A value removed before the rotation must stay removed.
			if _, err := svc.UpdateUser(bg, first.Actor(), u.ID, core.UserPatch{Email: ptr("")}); err != nil {
				t.Fatal(err)
			}
			v.email = ""
		}
		users[u.ID] = v
		for _, s := range []string{v.phone, v.email, v.address} {
			if s != "" {
				nValues++
			}
		}
	}
	meta, err := in.store.SealedValues(bg, core.SealedMeta, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta) < 2 {
		t.Fatalf("%d sealed meta values, want at least the key check and the index key", len(meta))
	}
	total := len(apps) + len(keys) + len(meta) + nValues

	rotating := mustRing(t, newKey, oldKey)
	rep, err := core.Reseal(bg, in.store, rotating, usercenter.Operator())
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	if rep.Resealed != total || rep.Current != 0 {
		t.Errorf("first Reseal = %+v, want %d resealed, 0 current", rep, total)
	}
	rep, err = core.Reseal(bg, in.store, rotating, usercenter.Operator())
	if err != nil {
		t.Fatalf("second Reseal: %v", err)
	}
	if rep.Resealed != 0 || rep.Current != total {
		t.Errorf("second Reseal = %+v, want 0 resealed, %d current", rep, total)
	}
	byKind := 0
	for _, n := range rep.ByKind {
		byKind += n
	}
	if byKind != total || rep.ByKind[core.SealedAppSecret] != len(apps) || rep.ByKind[core.SealedMeta] != len(meta) {
		t.Errorf("Reseal ByKind = %v, want %d in all, %d app secrets, %d meta", rep.ByKind, total, len(apps), len(meta))
	}
	check, err := core.CheckSealed(bg, in.store, mustRing(t, newKey))
	if err != nil || check.Current != total || check.Resealed != 0 || len(check.ByKind) != len(core.SealedKinds) {
		t.Errorf("CheckSealed(new key) = %+v, %v; want %d current", check, err, total)
	}
	if _, err := core.CheckSealed(bg, in.store, mustRing(t, oldKey)); err == nil {
		t.Error("CheckSealed with only the old key succeeded")
	}
	in.store.Close()

	// Only the new key from now on.
	in, err = openInstance(t, db, mustRing(t, newKey))
	if err != nil {
		t.Fatalf("NewService with only the new key: %v", err)
	}
	for id, want := range apps {
		app, err := svctest.AppWithSecret(in.svc, bg, id)
		if err != nil || app.SuperAppSecretKey != want {
			t.Errorf("app %d secret after rotation: %v (equal: %v)", id, err, app != nil && app.SuperAppSecretKey == want)
		}
	}
	for id, want := range keys {
		if id == extra.SecretID {
			continue // revoked: Key reports it as not found
		}
		if _, err := in.svc.AuthenticateKey(bg, id, want); err != nil {
			t.Errorf("key %s does not authenticate with its secret after rotation: %v", id, err)
		}
	}
	for id, want := range users {
		u, err := in.svc.GetUser(bg, usercenter.Operator(), id, usercenter.PIIFields)
		if err != nil {
			t.Errorf("user %s after rotation: %v", id, err)
			continue
		}
		if got := (values{u.Phone, u.Email, u.Address}); got != want {
			t.Errorf("user %s after rotation = %+v, want %+v", id, got, want)
		}
	}
	// The blind index key was resealed, not replaced: lookups still work.
	found, err := svctest.FindUsers(in.svc, bg, usercenter.Operator(), first.Apps[0], core.UserQuery{Phone: "13612346688"}, nil)
	if err != nil || len(found) != 1 {
		t.Errorf("lookup by phone after rotation = %d users, %v", len(found), err)
	}
	found, err = svctest.FindUsers(in.svc, bg, usercenter.Operator(), first.Apps[0], core.UserQuery{Email: "ONLY.EMAIL@example.com"}, nil)
	if err != nil || len(found) != 1 {
		t.Errorf("lookup by email after rotation = %d users, %v", len(found), err)
	}
	// Every stored value is now sealed by the new key alone.
	newOnly := mustRing(t, newKey)
	for _, kind := range core.SealedKinds {
		vals, err := in.store.SealedValues(bg, kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if !newOnly.SealedByCurrent(v.Value) {
				t.Errorf("%s %s is not sealed by the new key", kind, v.RowKey)
			}
		}
	}
	in.store.Close()

	// The old key alone no longer opens the database.
	if _, err := openInstance(t, db, mustRing(t, oldKey)); !errors.Is(err, core.ErrWrongMasterKey) {
		t.Fatalf("NewService with only the old key = %v, want ErrWrongMasterKey", err)
	}
}

// Reseal with a ring that lacks the key a value was sealed with fails and
// says which value.
func TestResealWithoutOldKeyFails(t *testing.T) {
	db := svctest.NewDatabase(t)
	oldKey := vault.NewKey()
	in, err := openInstance(t, db, mustRing(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Reseal(bg, in.store, mustRing(t, vault.NewKey()), usercenter.Operator()); err == nil {
		t.Fatal("Reseal without the old key succeeded")
	}
	// Nothing was lost: the old key still opens everything.
	in.store.Close()
	if _, err := openInstance(t, db, mustRing(t, oldKey)); err != nil {
		t.Fatalf("old key after a failed Reseal: %v", err)
	}
}

// More values than one Reseal transaction holds: every page is resealed
// and the verification pass pages too.
func TestResealManyValues(t *testing.T) {
	db := svctest.NewDatabase(t)
	oldKey, newKey := vault.NewKey(), vault.NewKey()
	in, err := openInstance(t, db, mustRing(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "many"})
	if err != nil {
		t.Fatal(err)
	}
	n := 2*core.RotateBatch + 7
	phones := map[string]string{}
	now := in.svc.Now().UTC()
	err = in.store.Update(bg, func(tx core.Tx) error {
		for i := 0; i < n; i++ {
			u := &usercenter.User{ID: usercenter.NewUserID(now), SdkAppID: app.SdkAppID, Status: usercenter.UserActive, CreatedAt: now, UpdatedAt: now}
			u.OriginID = u.ID
			u.Phone = fmt.Sprintf("+86139%08d", i)
			if i%2 == 0 {
				u.Email = fmt.Sprintf("user%d@example.com", i)
			}
			phones[u.ID] = u.Phone
			if err := tx.InsertUser(bg, in.svc.RecordForTest(u)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := core.Reseal(bg, in.store, mustRing(t, newKey, oldKey), usercenter.Operator())
	if err != nil {
		t.Fatal(err)
	}
	// n phones, n/2 rounded up emails, one app secret, one key, the meta values.
	meta, _ := in.store.SealedValues(bg, core.SealedMeta, "", 100)
	if want := n + (n+1)/2 + 2 + len(meta); rep.Resealed != want || rep.Current != 0 {
		t.Errorf("Reseal = %+v, want %d resealed", rep, want)
	}
	in.store.Close()
	in, err = openInstance(t, db, mustRing(t, newKey))
	if err != nil {
		t.Fatal(err)
	}
	cursor, seen := "", 0
	for {
		users, next, err := svctest.UsersPage(in.svc, bg, usercenter.Operator(), app.SdkAppID, cursor, core.MaxListLimit, []usercenter.PIIField{usercenter.FieldPhone})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.Phone != phones[u.ID] {
				t.Fatalf("user %s phone %q after rotation, want %q", u.ID, u.Phone, phones[u.ID])
			}
			seen++
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != n {
		t.Errorf("listed %d users, want %d", seen, n)
	}
}
