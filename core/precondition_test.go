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

// BatchRegister's overwrite of an existing user moves the version as
// UpdateUser does: in one tick of the clock, and on a node whose clock is
// behind the one that wrote the version, so that an If-Match naming the
// version before the change no longer applies and a meta.lastModified
// walk still finds the user after it. A batch that changes nothing keeps
// the version.
func TestBatchRegisterMovesTheVersion(t *testing.T) {
	env := uctest.New(t)
	env.Clock.Freeze()
	op := usercenter.Operator()
	origin := "batch-origin"
	u := mustUser(t, env.Svc, op, env.App.SdkAppID, core.UserPatch{OriginID: &origin, Nickname: ptr("a")})
	v1 := u.UpdatedAt
	register := func(nickname string) usercenter.User {
		t.Helper()
		out, err := env.Svc.BatchRegister(bg, op, []core.RegisterItem{{SdkAppID: env.App.SdkAppID, UserPatch: core.UserPatch{OriginID: &origin, Nickname: ptr(nickname)}}})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].ID != u.ID || out[0].Nickname != nickname {
			t.Fatalf("BatchRegister did not overwrite the user: %+v", out[0])
		}
		return out[0]
	}

	// One tick of the clock.
	v2 := register("changed").UpdatedAt
	if !v2.After(v1) {
		t.Fatalf("with the clock frozen, BatchRegister's change kept the version: %v, then %v", v1, v2)
	}
	_, err := env.Svc.UpdateUser(bg, op, u.ID, core.UserPatch{City: ptr("x"), If: &core.Precondition{UpdatedAt: []time.Time{v1}}})
	wantCode(t, err, usercenter.EStale)

	// A clock behind the version's.
	env.Clock.Advance(-time.Hour)
	v3 := register("changed again").UpdatedAt
	if !v3.After(v2) {
		t.Fatalf("with the clock an hour behind, BatchRegister took the version back: %v, then %v", v2, v3)
	}
	got, err := env.Svc.GetUser(bg, op, u.ID, nil)
	if err != nil || !got.UpdatedAt.Equal(v3) {
		t.Fatalf("the stored user: %+v, %v; want version %v", got, err, v3)
	}

	// Nothing to change: nothing written, the version kept, no event.
	before := allEvents(t, env.Store, usercenter.AuditFilter{UserID: u.ID})
	env.Clock.Advance(2 * time.Hour)
	if same := register("changed again").UpdatedAt; !same.Equal(v3) {
		t.Fatalf("a BatchRegister that changed nothing moved the version: %v, then %v", v3, same)
	}
	if after := allEvents(t, env.Store, usercenter.AuditFilter{UserID: u.ID}); len(after) != len(before) {
		t.Fatalf("a BatchRegister that changed nothing was audited: %d events, then %d", len(before), len(after))
	}
	if got, err := env.Svc.GetUser(bg, op, u.ID, nil); err != nil || !got.UpdatedAt.Equal(v3) {
		t.Fatalf("after a BatchRegister that changed nothing: %+v, %v; want version %v", got, err, v3)
	}
}
