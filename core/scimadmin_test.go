package core_test

import (
	"testing"

	"usercenter"
)

// Only an actor that manages an app manages its SCIM tokens: a token
// reads every user, and may write them and read personal data without a
// reason, so a console viewer or support account (every app, no
// ManagesApps) may not make one, and an admin limited to some apps
// manages only theirs.
func TestSCIMTokensNeedAnAdminOfTheApp(t *testing.T) {
	env, appB, _ := newEnv(t)
	a, b := env.App.SdkAppID, appB.SdkAppID
	tokB, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	viewer := &usercenter.Actor{Name: "console:viewer", AllApps: true, Permissions: []usercenter.Permission{usercenter.PermUsersRead}}
	support := &usercenter.Actor{Name: "console:support", AllApps: true, Permissions: usercenter.AllPermissions}
	for _, actor := range []*usercenter.Actor{viewer, support} {
		_, err := env.Svc.CreateSCIMToken(bg, actor, a, []usercenter.Permission{usercenter.PermPIIRead})
		wantCode(t, err, usercenter.EForbidden)
		_, err = env.Svc.SCIMTokens(bg, actor, b)
		wantCode(t, err, usercenter.EForbidden)
		wantCode(t, env.Svc.RevokeSCIMToken(bg, actor, tokB.ID), usercenter.EForbidden)
	}

	adminOfA := &usercenter.Actor{Name: "console:admin-a", Apps: []uint64{a}, Permissions: usercenter.AllPermissions, ManagesApps: true}
	tokA, err := env.Svc.CreateSCIMToken(bg, adminOfA, a, nil)
	if err != nil {
		t.Fatalf("an admin of app A creating its token: %v", err)
	}
	if list, err := env.Svc.SCIMTokens(bg, adminOfA, a); err != nil || len(list) != 1 || list[0].ID != tokA.ID {
		t.Fatalf("an admin of app A listing its tokens: %+v, %v", list, err)
	}
	_, err = env.Svc.CreateSCIMToken(bg, adminOfA, b, nil)
	wantCode(t, err, usercenter.EForbidden)
	_, err = env.Svc.SCIMTokens(bg, adminOfA, b)
	wantCode(t, err, usercenter.EForbidden)
	// Another app's token is not found, as one that does not exist.
	wantCode(t, env.Svc.RevokeSCIMToken(bg, adminOfA, tokB.ID), usercenter.ENotFound)
	if _, err := env.Svc.AuthenticateSCIMToken(bg, b, tokB.Token); err != nil {
		t.Fatalf("app B's token after app A's admin tried to revoke it: %v", err)
	}
	if err := env.Svc.RevokeSCIMToken(bg, adminOfA, tokA.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.AuthenticateSCIMToken(bg, a, tokA.Token); err == nil {
		t.Fatal("a revoked token authenticates")
	}
}
