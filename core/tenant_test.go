package core_test

import (
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// An actor of app A never reaches app B's users, whatever the use case.
func TestTenantIsolation(t *testing.T) {
	env, appB, keyB := newEnv(t)
	a := env.Key.Actor()
	appA := env.App.SdkAppID
	b := keyB.Actor()
	const origin = "shared-origin"
	uA := mustUser(t, env.Svc, a, appA, core.UserPatch{OriginID: ptr("a-only"), Nickname: ptr("a"), Phone: ptr(phone1), Email: ptr(email1)})
	uB := mustUser(t, env.Svc, b, appB.SdkAppID, core.UserPatch{OriginID: ptr(origin), Nickname: ptr("b"), Phone: ptr("+8613900001111"), Email: ptr("b@example.com"), Address: ptr(address1)})
	if _, err := env.Svc.GetUser(reqCtx("b-own"), b, uB.ID, usercenter.PIIFields); err != nil {
		t.Fatal(err)
	}
	before := lastEventID(t, env.Store)

	t.Run("get", func(t *testing.T) {
		for _, fields := range [][]usercenter.PIIField{nil, usercenter.PIIFields} {
			u, err := env.Svc.GetUser(bg, a, uB.ID, fields)
			wantCode(t, err, usercenter.ENotFound)
			if u != nil {
				t.Errorf("GetUser returned %+v", u)
			}
		}
		_, err := env.Svc.GetUser(bg, a, uB.ID, nil)
		wantCode(t, err, usercenter.ENotFound)
	})
	t.Run("update", func(t *testing.T) {
		_, err := env.Svc.UpdateUser(bg, a, uB.ID, core.UserPatch{Nickname: ptr("pwned"), Status: ptr(usercenter.UserDisabled)})
		wantCode(t, err, usercenter.ENotFound)
	})
	t.Run("delete", func(t *testing.T) {
		wantCode(t, env.Svc.DeleteUser(bg, a, uB.ID), usercenter.ENotFound)
	})
	t.Run("login", func(t *testing.T) {
		_, err := svctest.LoginUser(env.Svc, bg, a, uB.ID)
		wantCode(t, err, usercenter.ENotFound)
		_, err = svctest.LoginOriginID(env.Svc, bg, a, appB.SdkAppID, origin)
		wantCode(t, err, usercenter.EForbidden)
	})
	t.Run("create in B", func(t *testing.T) {
		_, err := svctest.CreateUser(env.Svc, bg, a, appB.SdkAppID, personal("x", "", "", ""))
		wantCode(t, err, usercenter.EForbidden)
	})
	t.Run("find", func(t *testing.T) {
		for _, l := range []core.UserQuery{{OriginID: origin}, {Phone: "+8613900001111"}, {Email: "b@example.com"}} {
			_, err := svctest.FindUsers(env.Svc, bg, a, appB.SdkAppID, l, nil)
			wantCode(t, err, usercenter.EForbidden)
			_, err = svctest.FindUsers(env.Svc, bg, a, appB.SdkAppID, l, usercenter.PIIFields)
			wantCode(t, err, usercenter.EForbidden)
			// The same lookup in A does not spill over into B.
			users, err := svctest.FindUsers(env.Svc, bg, a, appA, l, usercenter.PIIFields)
			if err != nil || len(users) != 0 {
				t.Errorf("FindUsers(A, %+v) = %+v, %v; want none", l, users, err)
			}
		}
		users, err := svctest.UsersByOrigin(env.Svc, bg, a, origin)
		wantCode(t, err, usercenter.ENotFound)
		if len(users) != 0 {
			t.Errorf("UsersByOrigin returned %+v", users)
		}
	})
	t.Run("list", func(t *testing.T) {
		_, _, err := svctest.UsersPage(env.Svc, bg, a, appB.SdkAppID, "", 10, nil)
		wantCode(t, err, usercenter.EForbidden)
		_, _, err = svctest.ListUsers(env.Svc, bg, a, appB.SdkAppID, 1, 10)
		wantCode(t, err, usercenter.EForbidden)
		users, _, err := svctest.UsersPage(env.Svc, bg, a, appA, "", 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.SdkAppID != appA {
				t.Errorf("A's list includes user %s of app %d", u.ID, u.SdkAppID)
			}
		}
	})
	t.Run("audit", func(t *testing.T) {
		_, err := svctest.AuditEvents(env.Svc, bg, a, usercenter.AuditFilter{SdkAppID: appB.SdkAppID})
		wantCode(t, err, usercenter.EForbidden)
		for _, f := range []usercenter.AuditFilter{{}, {UserID: uB.ID}, {Actor: "key:" + keyB.SecretID}, {Action: usercenter.AuditReveal}, {Apps: []uint64{appB.SdkAppID}}} {
			evs, err := svctest.AuditEvents(env.Svc, bg, a, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.SdkAppID != appA {
					t.Errorf("A's audit listing (filter %+v) includes %+v", f, e)
				}
			}
		}
		evs, err := svctest.AuditEvents(env.Svc, bg, a, usercenter.AuditFilter{})
		if err != nil || len(evs) == 0 {
			t.Fatalf("A's own events: %d, %v", len(evs), err)
		}
		// B sees its own events, and none of A's.
		evs, err = svctest.AuditEvents(env.Svc, bg, b, usercenter.AuditFilter{})
		if err != nil || len(evs) == 0 {
			t.Fatalf("B's own events: %d, %v", len(evs), err)
		}
		for _, e := range evs {
			if e.SdkAppID != appB.SdkAppID || e.UserID == uA.ID {
				t.Errorf("B's audit listing includes %+v", e)
			}
		}
	})

	// None of A's attempts changed or disclosed anything of B.
	for _, e := range eventsAfter(t, env.Store, before) {
		if e.SdkAppID == appB.SdkAppID {
			t.Errorf("A's attempts wrote an event for B: %+v", e)
		}
	}
	got, err := env.Svc.GetUser(bg, b, uB.ID, usercenter.PIIFields)
	if err != nil {
		t.Fatal(err)
	}
	if got.Nickname != "b" || got.Status != usercenter.UserActive || got.Address != address1 {
		t.Errorf("B's user after A's attempts: %+v", got)
	}

	// A key scoped to both apps reaches both: the checks above are about
	// scope, not about the user.
	both := env.NewKey(t, []uint64{appA, appB.SdkAppID}, usercenter.PermUsersRead).Actor()
	if _, err := env.Svc.GetUser(bg, both, uB.ID, nil); err != nil {
		t.Errorf("key for both apps: %v", err)
	}
	if _, err := env.Svc.GetUser(bg, both, uA.ID, nil); err != nil {
		t.Errorf("key for both apps: %v", err)
	}
}

// An actor scoped to no app at all must see no app's audit trail: an
// empty scope is not "every app".
func TestAuditEventsActorWithoutApps(t *testing.T) {
	env, appB, keyB := newEnv(t)
	mustUser(t, env.Svc, env.Key.Actor(), env.App.SdkAppID, personal("a", "", "", ""))
	mustUser(t, env.Svc, keyB.Actor(), appB.SdkAppID, personal("b", "", "", ""))
	for _, apps := range [][]uint64{nil, {}} {
		nobody := &usercenter.Actor{Name: "key:AKIDnoapps", Apps: apps, Permissions: usercenter.AllPermissions}
		evs, err := svctest.AuditEvents(env.Svc, bg, nobody, usercenter.AuditFilter{})
		if err != nil {
			continue // refusing is fine too
		}
		seen := map[uint64]int{}
		for _, e := range evs {
			seen[e.SdkAppID]++
		}
		if len(evs) != 0 {
			t.Errorf("an actor with Apps %#v and no AllApps sees %d events; events per app: %v (A is %d, B is %d)",
				apps, len(evs), seen, env.App.SdkAppID, appB.SdkAppID)
		}
	}
}
