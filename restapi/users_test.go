package restapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/uctest"
)

func TestUserLifecycle(t *testing.T) {
	env := uctest.New(t)
	auth := basic(env.Key)
	users := appUsers(env.App.SdkAppID)
	var u userJSON // the user under test, set by the first scenario

	steps := []struct {
		scenario
		path func() string // when the path depends on earlier steps
	}{
		{scenario: scenario{
			Name: "create with every writable field",
			request: request{Method: "POST", Path: users, Auth: auth, Body: `{
				"originId": "crm-1001", "nickname": "Alice", "avatar": "https://img.example.com/a.png",
				"phone": "+8613612346688", "email": "Alice.Liu@Example.com", "address": "1 Keyuan Road, Nanshan",
				"city": "Shenzhen", "province": "Guangdong", "nationality": "CN", "lang": "zh-CN",
				"timezone": "Asia/Shanghai", "sex": "female", "signature": "hi", "remark": "vip",
				"logonMode": 1, "status": 1, "thirdPartyIds": {"qq": "qq-1", "wechatUnion": "wx-1"}}`},
			Status:      201,
			Contains:    []string{`"originId":"crm-1001"`, `"phone":"` + usercenter.MaskPhone("+8613612346688") + `"`, `"email":"` + usercenter.MaskEmail("alice.liu@example.com") + `"`, `"lastLoginTime":null`, `"thirdPartyIds":{"qq":"qq-1","wechatUnion":"wx-1"}`},
			NotContains: []string{"13612346688", "alice.liu", "Keyuan"},
			Check: func(t *testing.T, res *response) {
				res.Decode(t, &u)
				if loc := res.Header.Get("Location"); loc != "/v1/users/"+u.UserID || len(u.UserID) != 27 {
					t.Fatalf("Location %q for user %q", loc, u.UserID)
				}
				if u.SdkAppID != env.App.SdkAppID || u.UserDomain != env.App.UserDomain || u.Status != 1 || u.LogonMode != 1 || u.Nickname != "Alice" || u.Timezone != "Asia/Shanghai" {
					t.Fatalf("created %+v", u)
				}
				for _, ts := range []string{u.RegisterTime, u.UpdateTime} {
					if p, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") || time.Since(p) > time.Minute {
						t.Fatalf("time %q: %v", ts, err)
					}
				}
			},
		}},
		{scenario: scenario{
			Name: "get it back", request: request{Method: "GET", Auth: auth}, Status: 200,
			Contains: []string{`"nickname":"Alice"`, `"phone":"` + usercenter.MaskPhone("+8613612346688") + `"`, `"city":"Shenzhen"`, `"qq":"qq-1"`},
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name: "merge patch: set, clear with null, unlink one provider",
			request: request{Method: "PATCH", Auth: auth, ContentType: "application/merge-patch+json",
				Body: `{"nickname": "Alice L", "city": null, "remark": "", "thirdPartyIds": {"qq": null, "apple": "ap-1"}, "status": 0}`},
			Status: 200,
			Check: func(t *testing.T, res *response) {
				var got userJSON
				res.Decode(t, &got)
				if got.Nickname != "Alice L" || got.City != "" || got.Remark != "" || got.Status != 0 {
					t.Fatalf("patched %+v", got)
				}
				if got.Province != "Guangdong" || got.Signature != "hi" || got.OriginID != "crm-1001" || got.Phone != usercenter.MaskPhone("+8613612346688") {
					t.Fatalf("absent members changed: %+v", got)
				}
				if len(got.ThirdPartyIDs) != 2 || got.ThirdPartyIDs["apple"] != "ap-1" || got.ThirdPartyIDs["wechatUnion"] != "wx-1" {
					t.Fatalf("links %v", got.ThirdPartyIDs)
				}
				if got.UpdateTime < u.UpdateTime {
					t.Fatalf("updateTime went back: %s < %s", got.UpdateTime, u.UpdateTime)
				}
			},
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name:    "application/json with charset works too; an empty patch changes nothing",
			request: request{Method: "PATCH", Auth: auth, ContentType: "application/json; charset=UTF-8", Body: `{}`},
			Status:  200, Contains: []string{`"nickname":"Alice L"`, `"status":0`},
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name:    "null thirdPartyIds unlinks every provider",
			request: request{Method: "PATCH", Auth: auth, Body: `{"thirdPartyIds": null, "phone": null}`},
			Status:  200, Contains: []string{`"thirdPartyIds":{}`, `"phone":""`},
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name:    "delete",
			request: request{Method: "DELETE", Auth: auth}, Status: 204,
			Check: func(t *testing.T, res *response) {
				if len(res.Body) != 0 {
					t.Fatalf("204 with a body: %s", res.Body)
				}
			},
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name: "gone", request: request{Method: "GET", Auth: auth}, Status: 404, Code: "user_not_found",
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name: "delete again", request: request{Method: "DELETE", Auth: auth}, Status: 404, Code: "user_not_found",
		}, path: func() string { return "/v1/users/" + u.UserID }},
		{scenario: scenario{
			Name: "its originId and third-party ID are free again",
			request: request{Method: "POST", Path: users, Auth: auth,
				Body: `{"originId": "crm-1001", "thirdPartyIds": {"wechatUnion": "wx-1"}}`},
			Status: 201,
		}},
	}
	for _, s := range steps {
		if s.path != nil {
			s.Path = s.path()
		}
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
		if t.Failed() {
			return
		}
	}

	// Every change was audited, and the deletion kept the user's history.
	events := auditOf(t, env, env.Key, "userId="+u.UserID)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.Field)
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"create:", "update:nickname", "update:city", "update:remark", "update:status", "update:thirdPartyIds.qq", "update:thirdPartyIds.apple", "update:thirdPartyIds.wechatUnion", "update:phone", "delete:"} {
		if !strings.Contains(got+" ", want+" ") {
			t.Errorf("audit lacks %s: %s", want, got)
		}
	}
}

func TestCreateDefaultsAndConflicts(t *testing.T) {
	env := uctest.New(t)
	auth := basic(env.Key)
	users := appUsers(env.App.SdkAppID)
	first := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "dup", "thirdPartyIds": {"facebook": "fb-1"}}`)
	for _, s := range []scenario{
		{
			Name: "empty object: originId defaults to userId, status 1, logonMode 11", request: request{Method: "POST", Path: users, Auth: auth, Body: `{}`}, Status: 201,
			Check: func(t *testing.T, res *response) {
				var u userJSON
				res.Decode(t, &u)
				if u.OriginID != u.UserID || u.Status != 1 || u.LogonMode != 11 || u.ThirdPartyIDs == nil {
					t.Fatalf("defaults %+v", u)
				}
			},
		},
		{Name: "originId taken", request: request{Method: "POST", Path: users, Auth: auth, Body: `{"originId": "dup"}`}, Status: 409, Code: "origin_id_taken", Field: "originId"},
		{Name: "third-party ID taken", request: request{Method: "POST", Path: users, Auth: auth, Body: `{"thirdPartyIds": {"facebook": "fb-1"}}`}, Status: 409, Code: "third_party_id_taken", Field: "thirdPartyIds.facebook"},
		{Name: "unknown app", request: request{Method: "POST", Path: appUsers(999), Auth: auth, Body: `{}`}, Status: 404, Code: "app_not_found"},
		{Name: "patch onto a taken originId", request: request{Method: "PATCH", Path: "/v1/users/" + createUser(t, env, env.Key, env.App.SdkAppID, `{}`).UserID, Auth: auth, Body: `{"originId": "dup"}`}, Status: 409, Code: "origin_id_taken", Field: "originId"},
		{Name: "the first user is untouched", request: request{Method: "GET", Path: "/v1/users/" + first.UserID, Auth: auth}, Status: 200, Contains: []string{`"originId":"dup"`, `"facebook":"fb-1"`}},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}
}

func TestDeleteRemovesTokensAndLinks(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "to-delete")
	do(t, env, request{Method: "PATCH", Path: "/v1/users/" + sess.User.ID, Auth: basic(env.Key), Body: `{"thirdPartyIds": {"twitter": "tw-1"}}`})
	if res := do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)}); res.Status != 200 {
		t.Fatalf("me before delete: %d %s", res.Status, res.Body)
	}
	if res := do(t, env, request{Method: "DELETE", Path: "/v1/users/" + sess.User.ID, Auth: basic(env.Key)}); res.Status != 204 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	checkProblem(t, do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)}), 401, "unauthenticated", "")
	// The token row itself is gone, not just unusable.
	if _, err := env.Store.Token(context.Background(), usercenter.TokenKey(sess.Token)); err == nil {
		t.Fatal("the deleted user's token is still stored")
	}
	res := do(t, env, request{Method: "GET", Path: appUsers(env.App.SdkAppID) + "?provider=twitter&providerUserId=tw-1", Auth: basic(env.Key)})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"users":[]`) {
		t.Fatalf("link survived the delete: %d %s", res.Status, res.Body)
	}
	// A new user may take the link at once.
	createUser(t, env, env.Key, env.App.SdkAppID, `{"thirdPartyIds": {"twitter": "tw-1"}}`)
	if n := len(auditOf(t, env, env.Key, "userId="+sess.User.ID+"&action=delete")); n != 1 {
		t.Fatalf("%d delete events", n)
	}
	if n := len(auditOf(t, env, env.Key, "userId="+sess.User.ID+"&action=create")); n != 1 {
		t.Fatalf("the create event did not survive: %d", n)
	}
}
