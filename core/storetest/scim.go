package storetest

import (
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// testSCIMTokens: SCIM tokens round-trip, are found by hash and by ID,
// listed per app in creation order, revoked in place, and refused for an
// app that does not exist or a duplicate hash.
func testSCIMTokens(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	tok := func(id, secret string, app uint64, created time.Time, perms ...usercenter.Permission) *core.SCIMTokenRecord {
		return &core.SCIMTokenRecord{
			SCIMToken: usercenter.SCIMToken{ID: id, SdkAppID: app, Permissions: perms, CreatedAt: created},
			Hash:      HashOf(secret),
		}
	}
	second := tok("scimB", "b", 1, Base.Add(time.Second), usercenter.PermUsersRead, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	first := tok("scimZ", "z", 1, Base, usercenter.PermUsersRead)
	other := tok("scimO", "o", 2, Base, usercenter.PermUsersRead, usercenter.PermUsersWrite)
	for _, e := range []*core.SCIMTokenRecord{second, first, other} {
		MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertSCIMToken(ctx, e) })
	}
	want := *second
	want.CreatedAt = want.CreatedAt.UTC()
	got, err := s.SCIMToken(ctx, HashOf("b"))
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("SCIMToken = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.SCIMTokenByID(ctx, "scimB"); err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("SCIMTokenByID = %+v, %v; want %+v", got, err, want)
	}
	for _, err := range []error{
		func() error { _, err := s.SCIMToken(ctx, HashOf("never issued")); return err }(),
		func() error { _, err := s.SCIMTokenByID(ctx, "scimNone"); return err }(),
	} {
		if e := usercenter.ErrorOf(err); e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceToken {
			t.Errorf("a token never issued: %v", err)
		}
	}
	list, err := s.SCIMTokens(ctx, 1)
	if err != nil || len(list) != 2 || list[0].ID != "scimZ" || list[1].ID != "scimB" {
		t.Fatalf("SCIMTokens(1) = %+v, %v; want scimZ then scimB", list, err)
	}
	if list, err := s.SCIMTokens(ctx, 3); err != nil || len(list) != 0 {
		t.Fatalf("SCIMTokens of an app without any = %+v, %v", list, err)
	}

	revokedAt := Base.Add(time.Hour)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.RevokeSCIMToken(ctx, "scimB", revokedAt) })
	if got, err := s.SCIMToken(ctx, HashOf("b")); err != nil || !got.RevokedAt.Equal(revokedAt) || !got.Revoked() {
		t.Fatalf("SCIMToken after revoking = %+v, %v", got, err)
	}
	err = s.Update(ctx, func(tx core.Tx) error { return tx.RevokeSCIMToken(ctx, "scimNone", revokedAt) })
	if e := usercenter.ErrorOf(err); e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceToken {
		t.Errorf("RevokeSCIMToken of no token: %v", err)
	}

	err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertSCIMToken(ctx, tok("scimX", "x", 99, Base)) })
	if e := usercenter.ErrorOf(err); e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceApp {
		t.Errorf("InsertSCIMToken for no app: %v", err)
	}
	for _, dup := range []*core.SCIMTokenRecord{tok("scimY", "b", 1, Base), tok("scimB", "y", 1, Base)} {
		err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertSCIMToken(ctx, dup) })
		if e := usercenter.ErrorOf(err); e.Code != usercenter.EConflict || e.Field != usercenter.FieldToken {
			t.Errorf("InsertSCIMToken of a duplicate (%s): %v", dup.ID, err)
		}
	}

	// A Tx reads its own writes.
	var txErr error
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertSCIMToken(ctx, tok("scimT", "t", 2, Base)); err != nil {
			return err
		}
		got, err := tx.SCIMToken(ctx, HashOf("t"))
		if err == nil && got.ID != "scimT" {
			err = usercenter.Invalid("", "read %s", got.ID)
		}
		txErr = err
		return nil
	})
	if txErr != nil {
		t.Errorf("Tx SCIMToken of its own insert: %v", txErr)
	}
}
