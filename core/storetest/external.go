package storetest

import (
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// testExternalID: an externalId is found by its app and value, unique per
// app when set, and any number of users have none.
func testExternalID(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	a := NewUser(1, "a", Base)
	a.ExternalID = "Ext-1"
	b := NewUser(2, "b", Base.Add(time.Second))
	b.ExternalID = "Ext-1" // the same value in another app
	none1, none2 := NewUser(1, "n1", Base.Add(2*time.Second)), NewUser(1, "n2", Base.Add(3*time.Second))
	for _, u := range []*core.UserRecord{a, b, none1, none2} {
		AddUser(t, s, u)
	}
	got, err := s.UserByExternalID(ctx, 1, "Ext-1")
	if err != nil || got.ID != a.ID {
		t.Fatalf("UserByExternalID(1) = %+v, %v", got, err)
	}
	WantUser(t, got, a)
	if got, err := s.UserByExternalID(ctx, 2, "Ext-1"); err != nil || got.ID != b.ID {
		t.Fatalf("UserByExternalID(2) = %+v, %v", got, err)
	}
	_, err = s.UserByExternalID(ctx, 1, "ext-1") // case-exact
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	if got, _ := s.User(ctx, none1.ID); got.ExternalID != "" {
		t.Fatalf("a user without externalId reads %q", got.ExternalID)
	}

	// Taken in the app: on insert, in a batch, and on update.
	dup := NewUser(1, "dup", Base.Add(4*time.Second))
	dup.ExternalID = "Ext-1"
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, dup) }), usercenter.EConflict, string(usercenter.FieldExternalID))
	ok := NewUser(1, "ok", Base.Add(5*time.Second))
	err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertUsers(ctx, []*core.UserRecord{ok, dup}) })
	wantItemError(t, err, 1, usercenter.EConflict, string(usercenter.FieldExternalID))
	none1.ExternalID = "Ext-1"
	none1.UpdatedAt = Base.Add(time.Minute)
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, none1) }), usercenter.EConflict, string(usercenter.FieldExternalID))

	// Cleared, the value is free again.
	a.ExternalID = ""
	a.UpdatedAt = Base.Add(time.Minute)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, a) })
	_, err = s.UserByExternalID(ctx, 1, "Ext-1")
	WantErr(t, err, usercenter.ENotFound, usercenter.ResourceUser)
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, none1) })
	if got, err := s.UserByExternalID(ctx, 1, "Ext-1"); err != nil || got.ID != none1.ID {
		t.Fatalf("UserByExternalID after the move = %+v, %v", got, err)
	}
}
