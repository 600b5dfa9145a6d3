package restapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
)

func TestMe(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "me-user")
	if _, err := env.Svc.UpdateUser(context.Background(), usercenter.Operator(), sess.User.ID, core.UserPatch{Phone: ptr("+8613612346688")}); err != nil {
		t.Fatal(err)
	}
	deleted := register(t, env, "me-deleted")
	disabled := register(t, env, "me-disabled")
	if res := do(t, env, request{Method: "DELETE", Path: "/v1/users/" + deleted.User.ID, Auth: basic(env.Key)}); res.Status != 204 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if res := do(t, env, request{Method: "PATCH", Path: "/v1/users/" + disabled.User.ID, Auth: basic(env.Key), Body: `{"status": 0}`}); res.Status != 200 {
		t.Fatalf("disable: %d %s", res.Status, res.Body)
	}
	bearerChallenge := func(withError bool) func(t *testing.T, res *response) {
		return func(t *testing.T, res *response) {
			got := res.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(got, `Bearer realm="usercenter"`) || strings.Contains(got, "invalid_token") != withError {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		}
	}
	for _, s := range []scenario{
		{Name: "valid token", request: request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)}, Status: 200,
			Contains: []string{`"userId":"` + sess.User.ID + `"`, `"originId":"me-user"`, `"phone":"` + usercenter.MaskPhone("+8613612346688") + `"`}, NotContains: []string{"13612346688"},
			Check: func(t *testing.T, res *response) {
				var u userJSON
				res.Decode(t, &u)
				if u.LastLoginTime == nil {
					t.Fatal("a registered user has logged in")
				}
			}},
		{Name: "scheme is case-insensitive", request: request{Method: "GET", Path: "/v1/me", Auth: "bearer " + sess.Token}, Status: 200},
		{Name: "missing header", request: request{Method: "GET", Path: "/v1/me"}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(false)},
		{Name: "garbage token", request: request{Method: "GET", Path: "/v1/me", Auth: bearer("garbage")}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(true)},
		{Name: "overlong token", request: request{Method: "GET", Path: "/v1/me", Auth: bearer(strings.Repeat("t", 4000))}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(true)},
		{Name: "empty bearer", request: request{Method: "GET", Path: "/v1/me", Auth: "Bearer "}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(true)},
		{Name: "token as Basic", request: request{Method: "GET", Path: "/v1/me", Auth: "Basic " + sess.Token}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(true)},
		{Name: "API key instead of a token", request: request{Method: "GET", Path: "/v1/me", Auth: basic(env.Key)}, Status: 401, Code: "unauthenticated"},
		{Name: "token of a deleted user", request: request{Method: "GET", Path: "/v1/me", Auth: bearer(deleted.Token)}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(true)},
		{Name: "token of a disabled user", request: request{Method: "GET", Path: "/v1/me", Auth: bearer(disabled.Token)}, Status: 403, Code: "user_disabled"},
		{Name: "unknown query parameter", request: request{Method: "GET", Path: "/v1/me?reveal=phone", Auth: bearer(sess.Token)}, Status: 400, Code: "unknown_field", Field: "reveal"},
		{Name: "credentials before query", request: request{Method: "GET", Path: "/v1/me?reveal=phone"}, Status: 401, Code: "unauthenticated", Check: bearerChallenge(false)},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}

	// Tokens live for the app's TokenTTL, 7 days by default.
	env.Clock.Advance(usercenter.DefaultTokenTTL - time.Minute)
	if res := do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)}); res.Status != 200 {
		t.Fatalf("a token a minute before expiry: %d %s", res.Status, res.Body)
	}
	env.Clock.Advance(2 * time.Minute)
	res := do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)})
	checkProblem(t, res, 401, "unauthenticated", "")
	if strings.Contains(env.Log.String(), sess.Token) {
		t.Fatal("a token reached the log")
	}
}

func TestMeOfDisabledApp(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "app-off")
	// As `usercenter app update --status disabled` does it, through the
	// service, so that the test runs on every engine.
	if _, err := env.Svc.UpdateApp(context.Background(), usercenter.Operator(), env.App.SdkAppID, core.AppPatch{Status: ptr(usercenter.AppDisabled)}); err != nil {
		t.Fatal(err)
	}
	checkProblem(t, do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)}), 403, "app_disabled", "")
	checkProblem(t, do(t, env, request{Method: "GET", Path: "/v1/users/" + sess.User.ID, Auth: basic(env.Key)}), 403, "app_disabled", "")
}

func ptr[T any](v T) *T { return &v }
