package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

func testApps(t *testing.T, s core.Store) {
	a2, a1 := NewApp(2), NewApp(1)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertApp(ctx, a2); err != nil {
			return err
		}
		if err := tx.InsertApp(ctx, a1); err != nil {
			return err
		}
		// A Tx reads its own writes; readers outside it do not see them yet.
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
	WantUTC(t, "CreatedAt", got.CreatedAt, Base)
	want := *a2
	want.CreatedAt = Base.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("App = %+v, want %+v", *got, want)
	}
	apps, err := s.Apps(ctx)
	if err != nil || len(apps) != 2 || apps[0].SdkAppID != 1 || apps[1].SdkAppID != 2 {
		t.Fatalf("Apps = %+v, %v; want apps 1, 2", apps, err)
	}

	_, err = s.App(ctx, 3)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceApp)

	dupID := NewApp(1)
	dupID.UserDomain = "other.example"
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, dupID) }), usercenter.EConflict, "sdkAppId")
	dupDomain := NewApp(3)
	dupDomain.UserDomain = a1.UserDomain
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, dupDomain) }), usercenter.EConflict, "userDomain")

	// SdkAppIds above MaxInt64 survive the trip through SQLite's int64.
	big := NewApp(1<<63 + 5)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, big) })
	if got, err := s.App(ctx, 1<<63+5); err != nil || got.SdkAppID != 1<<63+5 {
		t.Fatalf("big SdkAppId: %+v, %v", got, err)
	}
	apps, _ = s.Apps(ctx)
	if apps[len(apps)-1].SdkAppID != 1<<63+5 {
		t.Fatalf("Apps not in SdkAppId order: %+v", apps)
	}
}

// testAppStoresGiven checks that the store applies no defaults, which are
// core's: an app reads back with the cipher and code TTL it was given.
func testAppStoresGiven(t *testing.T, s core.Store) {
	a := NewApp(1)
	a.SuperAppCipher, a.CodeTTL = "", 0
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, a) })
	got, err := s.App(ctx, 1)
	if err != nil || got.SuperAppCipher != "" || got.CodeTTL != 0 || got.PhoneRegion != a.PhoneRegion {
		t.Fatalf("App = %+v, %v; want the cipher and code TTL as given (unset)", got, err)
	}
	// Every cipher round-trips.
	for _, c := range []usercenter.SuperAppCipher{usercenter.CipherAESCBCBase64, usercenter.CipherAESGCMBase64, usercenter.CipherAESECBHex} {
		a.SuperAppCipher = c
		MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateApp(ctx, a) })
		if got, err := s.App(ctx, 1); err != nil || got.SuperAppCipher != c {
			t.Fatalf("App = %+v, %v; want cipher %s", got, err, c)
		}
	}
	empty := NewApp(3)
	empty.SealedSuperAppSecret = []byte{}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, empty) }), usercenter.EInternal, "")
}

func testAppPhoneRegion(t *testing.T, s core.Store) {
	a := NewApp(1)
	a.PhoneRegion = ""
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertApp(ctx, a) })
	got, err := s.App(ctx, 1)
	if err != nil || got.PhoneRegion != "" {
		t.Fatalf("App = %+v, %v; want the region as given (none): the default is core's", got, err)
	}
	AddApps(t, s, 2)
	apps, err := s.Apps(ctx)
	if err != nil || len(apps) != 2 || apps[1].PhoneRegion != "SG" {
		t.Fatalf("Apps = %+v, %v", apps, err)
	}
}

func testAppByDomain(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 1<<63+7)
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
		WantErr(t, err, usercenter.ENotFound, usercenter.ResourceApp)
	}
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertApp(ctx, NewApp(5)); err != nil {
			return err
		}
		if got, err := tx.AppByDomain(ctx, "app5.example"); err != nil || got.SdkAppID != 5 {
			t.Errorf("Tx AppByDomain = %+v, %v", got, err)
		}
		return nil
	})
}

func testUpdateApp(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
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
			CreatedAt:      Base.Add(time.Hour),                   // CreatedAt stays
		},
		SealedSuperAppSecret: []byte("resealed"),
	}
	MustUpdate(t, s, func(tx core.Tx) error {
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
	want.CreatedAt = Base.UTC()
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
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateApp(ctx, &unset) })
	if got, _ := s.App(ctx, 1); got.SuperAppCipher != "" || got.CodeTTL != 0 || !got.CreatedAt.Equal(Base) {
		t.Fatalf("App = %+v; want the cipher and code TTL as given (unset), CreatedAt kept", got)
	}

	missing := NewApp(3)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateApp(ctx, missing) }), usercenter.ENotFound, usercenter.ResourceApp)

	// An empty secret would lose the app its key; it is refused and
	// nothing changes.
	noSecret := *got
	noSecret.Name = "No secret"
	noSecret.SealedSuperAppSecret = nil
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateApp(ctx, &noSecret) }), usercenter.EInternal, "")
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

func testKeys(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2, 3)
	k := &core.KeyRecord{
		APIKey: usercenter.APIKey{
			SecretID:    "AKIDone",
			Name:        "ops",
			Apps:        []uint64{3, 1, 3},
			Permissions: []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead},
			CreatedAt:   Base,
		},
		SealedSecretKey: []byte("sealed"),
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertKey(ctx, k) })

	got, err := s.Key(ctx, "AKIDone")
	if err != nil {
		t.Fatal(err)
	}
	want := *k
	want.Apps = []uint64{1, 3}
	want.CreatedAt = Base.UTC()
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("Key = %+v, want %+v", *got, want)
	}
	if !got.RevokedAt.IsZero() {
		t.Fatal("new key is revoked")
	}

	_, err = s.Key(ctx, "AKIDnone")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceKey)

	dup := *k
	dup.Apps = []uint64{2}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertKey(ctx, &dup) }), usercenter.EConflict, "secretId")

	// A missing app stores nothing of the key, even if fn shrugs it off.
	orphan := *k
	orphan.SecretID = "AKIDorphan"
	orphan.Apps = []uint64{1, 99}
	var inner error
	MustUpdate(t, s, func(tx core.Tx) error {
		inner = tx.InsertKey(ctx, &orphan)
		return nil
	})
	WantErr(t, inner, usercenter.ENotFound, usercenter.ResourceApp)
	_, err = s.Key(ctx, "AKIDorphan")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceKey)

	k2 := *k
	k2.SecretID = "AKIDtwo"
	k2.Apps = []uint64{2}
	k2.CreatedAt = Base.Add(time.Second)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertKey(ctx, &k2) })

	revoked := Base.Add(time.Hour)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDone", revoked) })
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].SecretID != "AKIDone" || keys[1].SecretID != "AKIDtwo" {
		t.Fatalf("Keys = %+v", keys)
	}
	WantUTC(t, "RevokedAt", keys[0].RevokedAt, revoked)
	if !reflect.DeepEqual(keys[0].Apps, []uint64{1, 3}) || !reflect.DeepEqual(keys[1].Apps, []uint64{2}) {
		t.Fatalf("Keys apps = %v, %v", keys[0].Apps, keys[1].Apps)
	}
	if !keys[1].RevokedAt.IsZero() {
		t.Fatal("unrevoked key has RevokedAt")
	}

	// Revoking at the zero time unrevokes: the zero time means "never",
	// whichever way an engine stores it.
	MustUpdate(t, s, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDone", time.Time{}) })
	if got, _ := s.Key(ctx, "AKIDone"); !got.RevokedAt.IsZero() {
		t.Fatalf("RevokedAt = %v, want zero", got.RevokedAt)
	}
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 2 || !keys[0].RevokedAt.IsZero() {
		t.Fatalf("Keys after unrevoking = %+v, %v", keys, err)
	}

	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.RevokeKey(ctx, "AKIDnone", revoked) }), usercenter.ENotFound, usercenter.ResourceKey)
}

func testMeta(t *testing.T, s core.Store) {
	if v, err := s.Meta(ctx, "k"); err != nil || v != nil {
		t.Fatalf("unset Meta = %q, %v; want nil", v, err)
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "k", []byte("one")) })
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "k", []byte("two")) })
	if v, err := s.Meta(ctx, "k"); err != nil || string(v) != "two" {
		t.Fatalf("Meta = %q, %v; want two", v, err)
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.SetMeta(ctx, "empty", nil) })
	if v, err := s.Meta(ctx, "empty"); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Meta(empty) = %#v, %v; want set and empty", v, err)
	}
}

// testZeroTimes checks that a required time left zero is refused rather
// than stored as year 1: it is a caller's bug, and a zero CreatedAt would
// sort before everything. (Codes, attempts, audit events and enterprise
// tokens check theirs in their own tests.)
func testZeroTimes(t *testing.T, s core.Store) {
	zero := NewApp(1)
	zero.CreatedAt = time.Time{}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, zero) }), usercenter.EInternal, "")
	if apps, _ := s.Apps(ctx); len(apps) != 0 {
		t.Fatal("an app with a zero CreatedAt was stored")
	}
	AddApps(t, s, 1)
	key := &core.KeyRecord{
		APIKey:          usercenter.APIKey{SecretID: "AKIDzero", Name: "zero", Apps: []uint64{1}, Permissions: []usercenter.Permission{usercenter.PermUsersRead}},
		SealedSecretKey: []byte("sealed"),
	}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertKey(ctx, key) }), usercenter.EInternal, "")
	_, err := s.Key(ctx, "AKIDzero")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceKey)
	u := NewUser(1, "zero", Base)
	u.CreatedAt = time.Time{}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, u) }), usercenter.EInternal, "")
	_, err = s.User(ctx, u.ID)
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
}
