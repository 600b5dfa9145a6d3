package enterprise_test

import (
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestTenantIsolation: a key of app A can neither read nor list nor
// disable the users of app B, and its answers about them are the very
// bytes it gets for users and domains that do not exist.
func TestTenantIsolation(t *testing.T) {
	env := uctest.New(t)
	appA := env.App
	appB, keyB := env.NewApp(t, "tenant-b", 1000)
	uA := newUser(t, env, appA.SdkAppID, fullPatch())
	uB := newUser(t, env, appB.SdkAppID, fullPatch())
	manyUsers(t, env, appB.SdkAppID, 5)
	tokA := login(t, env, env.Key) // every permission on A
	tokB := login(t, env, keyB)
	const ghost = "0ujsswThIGTUYm2K8FjOOfXtY1K"

	same := func(what string, got, want *result) {
		t.Helper()
		if string(got.Body) != string(want.Body) {
			t.Fatalf("%s: %s\nbut for something that does not exist: %s", what, got.Body, want.Body)
		}
	}
	// Read.
	same("userInfo of B's user",
		get(t, env, pathUserInfo+"?uid="+uB.ID, tokA).want(t, 5033, "User does not exist"),
		get(t, env, pathUserInfo+"?uid="+ghost, tokA))
	// List.
	same("B's user domain",
		get(t, env, pathDomainUserList+"?userDomain="+appB.UserDomain, tokA).want(t, 5015, "User domain does not exist"),
		get(t, env, pathDomainUserList+"?userDomain=no-such-domain", tokA))
	var domains pageJSON[domainJSON]
	get(t, env, pathDomainList, tokA).want(t, 200, "").field(t, "data", &domains)
	if domains.Total != 1 || domains.List[0].UserDomain != appA.UserDomain {
		t.Fatalf("A's domains: %+v", domains)
	}
	// Disable.
	same("setUserStatus of B's user",
		get(t, env, pathSetUserStatus+"?status=0&uid="+uB.ID, tokA).want(t, 5033, "User does not exist"),
		get(t, env, pathSetUserStatus+"?status=0&uid="+ghost, tokA))
	if got := userInfo(t, env, tokB, uB.ID); got.Status != 1 {
		t.Fatal("A's key disabled B's user")
	}
	// And the other way round.
	get(t, env, pathUserInfo+"?uid="+uA.ID, tokB).want(t, 5033, "")
	get(t, env, pathDomainUserList+"?userDomain="+appA.UserDomain, tokB).want(t, 5015, "")
	get(t, env, pathSetUserStatus+"?status=0&uid="+uA.ID, tokB).want(t, 5033, "")
	p := userList(t, env, tokB, appB.UserDomain, 1, 100)
	if p.Total != 6 {
		t.Fatalf("B's users: %d", p.Total)
	}
	for _, u := range p.List {
		if u.UID == uA.ID || u.UserDomain != appB.UserDomain {
			t.Fatalf("B's list holds %+v", u)
		}
	}
	// Nothing about B's user was disclosed or changed by A's key.
	events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{UserID: uB.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Actor == "key:"+env.Key.SecretID {
			t.Fatalf("A's key left an event on B's user: %+v", e)
		}
	}

	// A key of both apps sees both.
	both := login(t, env, env.NewKey(t, []uint64{appA.SdkAppID, appB.SdkAppID}, usercenter.PermUsersRead))
	userInfo(t, env, both, uA.ID)
	userInfo(t, env, both, uB.ID)
	get(t, env, pathDomainList, both).want(t, 200, "").field(t, "data", &domains)
	if domains.Total != 2 {
		t.Fatalf("domains of a key of both apps: %+v", domains)
	}
	if strings.Contains(env.Log.String(), `"level":"ERROR"`) {
		t.Fatalf("errors logged:\n%s", env.Log.String())
	}
}
