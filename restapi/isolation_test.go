package restapi_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestTenantIsolation runs keys of app A against app B and B's user on
// every route. Each answer must be 403 or 404 (or an empty 200 where a
// filter simply matches nothing of A's), and no answer may hold any of
// B's user's values.
func TestTenantIsolation(t *testing.T) {
	env := uctest.New(t)
	appA, keyA := env.App, env.Key
	appB, keyB := env.NewApp(t, "tenant-b", 1000)
	appC, _ := env.NewApp(t, "tenant-c", 1000)

	b := createUser(t, env, keyB, appB.SdkAppID, `{"originId": "b-secret-origin", "nickname": "BeeNickname", "phone": "+8613900001111", "email": "bee.private@b.example", "address": "Bee Street 9", "city": "BeeCity", "remark": "bee-remark", "thirdPartyIds": {"apple": "b-apple-id"}}`)
	sessB, err := svctest.RegisterUser(env.Svc, context.Background(), keyB.Actor(), registrationFor(appB.SdkAppID, "b-token-user"))
	if err != nil {
		t.Fatal(err)
	}
	// Values of B that must never appear in A's answers. The masked forms
	// count too: they would confirm that the user exists.
	secrets := []string{b.UserID, "b-secret-origin", "BeeNickname", "13900001111", usercenter.MaskPhone("+8613900001111"), "bee.private", strings.TrimSuffix(usercenter.MaskEmail("bee.private@b.example"), "@b.example"), usercenter.MaskAddress("Bee Street 9"), "b.example", "Bee Street", "BeeCity", "bee-remark", "b-apple-id", appB.UserDomain, sessB.User.ID, "b-token-user"}

	keys := map[string]*usercenter.APIKey{
		"A all permissions":   keyA,
		"A read only":         env.NewKey(t, []uint64{appA.SdkAppID}, usercenter.PermUsersRead),
		"A read and pii":      env.NewKey(t, []uint64{appA.SdkAppID}, usercenter.PermUsersRead, usercenter.PermPIIRead),
		"A write only":        env.NewKey(t, []uint64{appA.SdkAppID}, usercenter.PermUsersWrite),
		"A and C, all perms":  env.NewKey(t, []uint64{appA.SdkAppID, appC.SdkAppID}, usercenter.AllPermissions...),
		"C only, all perms":   env.NewKey(t, []uint64{appC.SdkAppID}, usercenter.AllPermissions...),
		"A pii without reads": env.NewKey(t, []uint64{appA.SdkAppID}, usercenter.PermPIIRead),
	}
	bApp := appUsers(appB.SdkAppID)
	bUser := "/v1/users/" + b.UserID
	routes := []struct {
		name string
		req  request
		ok   []int // allowed statuses
	}{
		{"create in B", request{Method: "POST", Path: bApp, Body: `{"originId": "intruder"}`}, []int{403}},
		{"list B", request{Method: "GET", Path: bApp}, []int{403}},
		{"list B revealed", request{Method: "GET", Path: bApp + "?reveal=phone,email,address"}, []int{403}},
		{"list B with a cursor", request{Method: "GET", Path: bApp + "?next=" + cursorOf(b.UserID)}, []int{403}},
		{"lookup B by originId", request{Method: "GET", Path: bApp + "?originId=b-secret-origin"}, []int{403}},
		{"lookup B by phone", request{Method: "GET", Path: bApp + "?phone=13900001111"}, []int{403}},
		{"lookup B by email", request{Method: "GET", Path: bApp + "?email=bee.private@b.example"}, []int{403}},
		{"lookup B by link", request{Method: "GET", Path: bApp + "?provider=apple&providerUserId=b-apple-id"}, []int{403}},
		{"get B's user", request{Method: "GET", Path: bUser}, []int{403, 404}},
		{"get B's user revealed", request{Method: "GET", Path: bUser + "?reveal=phone,email,address"}, []int{403, 404}},
		{"patch B's user", request{Method: "PATCH", Path: bUser, Body: `{"nickname": "pwned", "status": 0}`}, []int{403, 404}},
		{"delete B's user", request{Method: "DELETE", Path: bUser}, []int{403, 404}},
		{"revoke B's user's tokens", request{Method: "POST", Path: bUser + ":revoke-tokens"}, []int{403, 404}},
		{"audit of B", request{Method: "GET", Path: "/v1/audit?sdkAppId=" + strconv.FormatUint(appB.SdkAppID, 10)}, []int{403}},
		{"audit of B's user", request{Method: "GET", Path: "/v1/audit?userId=" + b.UserID}, []int{200, 403}},
		{"audit of B's actor", request{Method: "GET", Path: "/v1/audit?actor=" + url.QueryEscape("key:"+keyB.SecretID)}, []int{200, 403}},
		{"audit, everything", request{Method: "GET", Path: "/v1/audit?limit=500"}, []int{200, 403}},
		{"me with A's key", request{Method: "GET", Path: "/v1/me"}, []int{401}},
	}
	for keyName, k := range keys {
		for _, rt := range routes {
			t.Run(keyName+"/"+rt.name, func(t *testing.T) {
				req := rt.req
				req.Auth = basic(k)
				res := do(t, env, req)
				allowed := false
				for _, s := range rt.ok {
					allowed = allowed || res.Status == s
				}
				if !allowed {
					t.Fatalf("status %d, want one of %v: %s", res.Status, rt.ok, res.Body)
				}
				if res.Status >= 400 {
					checkProblem(t, res, res.Status, map[int]string{401: "unauthenticated", 403: "forbidden", 404: "user_not_found"}[res.Status], "")
				} else {
					var l auditList
					res.Decode(t, &l)
					for _, e := range l.Events {
						if e.SdkAppID != appA.SdkAppID && e.SdkAppID != appC.SdkAppID {
							t.Fatalf("an event of app %d: %s", e.SdkAppID, res.Body)
						}
					}
				}
				for _, s := range secrets {
					if containsFold(res.Body, s) {
						t.Fatalf("the answer leaks %q: %s", s, res.Body)
					}
				}
			})
		}
	}
	// B's user is unchanged, B has no intruder, and B's token user too.
	res := do(t, env, request{Method: "GET", Path: bUser, Auth: basic(keyB)})
	var got userJSON
	res.Decode(t, &got)
	if res.Status != 200 || got.Nickname != "BeeNickname" || got.Status != 1 {
		t.Fatalf("B's user changed: %d %s", res.Status, res.Body)
	}
	res = do(t, env, request{Method: "GET", Path: bApp + "?originId=intruder", Auth: basic(keyB)})
	if res.Status != 200 || containsFold(res.Body, "intruder") {
		t.Fatalf("A created a user in B: %s", res.Body)
	}
	// And B's token sees B's user, not through A's routes.
	if res := do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sessB.Token)}); res.Status != 200 {
		t.Fatalf("B's token: %d %s", res.Status, res.Body)
	}
}
