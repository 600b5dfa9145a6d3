package core_test

import (
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
)

// A write under a Precondition applies only to the version read; every
// write moves the version, even when the clock does not.
func TestPrecondition(t *testing.T) {
	env := uctest.New(t)
	env.Clock.Freeze()
	op := usercenter.Operator()
	u := mustUser(t, env.Svc, op, env.App.SdkAppID, core.UserPatch{Nickname: ptr("a")})
	v1 := u.UpdatedAt

	u2, err := env.Svc.UpdateUser(bg, op, u.ID, core.UserPatch{Nickname: ptr("b"), If: &core.Precondition{UpdatedAt: []time.Time{v1}}})
	if err != nil {
		t.Fatal(err)
	}
	if !u2.UpdatedAt.After(v1) {
		t.Fatalf("with the clock frozen, an update kept the version %v", v1)
	}
	stale := &core.Precondition{UpdatedAt: []time.Time{v1}}
	_, err = env.Svc.UpdateUser(bg, op, u.ID, core.UserPatch{Nickname: ptr("c"), If: stale})
	wantCode(t, err, usercenter.EStale)
	// Stale even when the patch would change nothing.
	_, err = env.Svc.UpdateUser(bg, op, u.ID, core.UserPatch{Nickname: ptr("b"), If: stale})
	wantCode(t, err, usercenter.EStale)
	wantCode(t, env.Svc.DeleteUserIf(bg, op, u.ID, stale), usercenter.EStale)
	wantCode(t, env.Svc.DeleteUserIf(bg, op, u.ID, &core.Precondition{}), usercenter.EStale)
	got, err := env.Svc.GetUser(bg, op, u.ID, nil)
	if err != nil || got.Nickname != "b" || !got.UpdatedAt.Equal(u2.UpdatedAt) {
		t.Fatalf("after stale writes: %+v, %v", got, err)
	}

	// A patch that changes nothing writes nothing: same version, no event.
	before := allEvents(t, env.Store, usercenter.AuditFilter{UserID: u.ID})
	same, err := env.Svc.UpdateUser(bg, op, u.ID, core.UserPatch{Nickname: ptr("b"), If: &core.Precondition{UpdatedAt: []time.Time{v1, u2.UpdatedAt}}})
	if err != nil || !same.UpdatedAt.Equal(u2.UpdatedAt) {
		t.Fatalf("no-op update: %+v, %v", same, err)
	}
	if after := allEvents(t, env.Store, usercenter.AuditFilter{UserID: u.ID}); len(after) != len(before) {
		t.Fatalf("a no-op update was audited: %d events, then %d", len(before), len(after))
	}
	if err := env.Svc.DeleteUserIf(bg, op, u.ID, &core.Precondition{UpdatedAt: []time.Time{u2.UpdatedAt}}); err != nil {
		t.Fatal(err)
	}
}

// externalId: unique per app, found by ListUsers, cleared by "".
func TestExternalID(t *testing.T) {
	env := uctest.New(t)
	op := usercenter.Operator()
	a := mustUser(t, env.Svc, op, env.App.SdkAppID, core.UserPatch{OriginID: ptr("a"), ExternalID: ptr("X"), FullName: ptr("Alice A")})
	_, err := env.Svc.CreateUsers(bg, op, env.App.SdkAppID, []core.UserPatch{{OriginID: ptr("b"), ExternalID: ptr("X")}})
	wantCode(t, err, usercenter.EConflict)
	page, err := env.Svc.ListUsers(bg, op, core.UserQuery{SdkAppID: env.App.SdkAppID, ExternalID: "X", Limit: 10})
	if err != nil || len(page.Users) != 1 || page.Users[0].ID != a.ID || page.Users[0].FullName != "Alice A" {
		t.Fatalf("ListUsers by externalId: %+v, %v", page, err)
	}
	_, err = env.Svc.ListUsers(bg, op, core.UserQuery{SdkAppID: env.App.SdkAppID, ExternalID: "X", OriginID: "a", Limit: 10})
	wantCode(t, err, usercenter.EInvalid)
	_, err = env.Svc.UpdateUser(bg, op, a.ID, core.UserPatch{ExternalID: ptr("bad\x00")})
	wantCode(t, err, usercenter.EInvalid)
	if _, err := env.Svc.UpdateUser(bg, op, a.ID, core.UserPatch{ExternalID: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if page, err := env.Svc.ListUsers(bg, op, core.UserQuery{SdkAppID: env.App.SdkAppID, ExternalID: "X", Limit: 10}); err != nil || len(page.Users) != 0 {
		t.Fatalf("after clearing: %+v, %v", page, err)
	}
	mustUser(t, env.Svc, op, env.App.SdkAppID, core.UserPatch{OriginID: ptr("b"), ExternalID: ptr("X")})
}
