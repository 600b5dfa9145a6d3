package superapp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
)

// TestEndpoints runs every endpoint under all six paths (three forms,
// unprefixed and under /apps/{SdkAppId}), with POST JSON and with GET
// query parameters, through every return code it can give.
func TestEndpoints(t *testing.T) {
	f := newFixture(t)
	if !usercenter.ValidUserID(unknownUID) {
		t.Fatalf("unknownUID %q does not have the shape of a UserId", unknownUID)
	}
	type tc struct {
		name   string
		params map[string]string
		status int
		code   string
		data   string // the JSON of Data; "" to skip
		check  func(t *testing.T, a *answer)
	}
	user := func(id string) map[string]string { return map[string]string{"UserId": id} }
	// Cases every user-reading endpoint shares.
	common := []tc{
		{"empty UserId", user(""), 200, "200002", "", nil},
		{"no UserId", map[string]string{}, 200, "200002", "", nil},
		{"malformed UserId", user("not-a-user-id"), 200, "200002", "", nil},
		{"long UserId", user(strings.Repeat("A", 300)), 200, "200002", "", nil},
		{"disabled user", user(f.disabled), 200, "200001", "", nil},
	}
	unknown := []tc{
		{"unknown user", user(unknownUID), 200, "200002", "", nil},
		{"user of another app", user(f.other), 200, "200002", "", nil},
	}
	codeCheck := func(masked string) func(t *testing.T, a *answer) {
		return func(t *testing.T, a *answer) {
			var d map[string]string
			if err := json.Unmarshal(a.Data, &d); err != nil {
				t.Fatalf("Data: %s", a.Raw)
			}
			if d["data"] != masked || len(d["code"]) < 22 || len(d) != 2 {
				t.Fatalf("Data = %s, want code and data %q", a.Data, masked)
			}
		}
	}
	withCode := func(id, kind, code string) map[string]string {
		return map[string]string{"UserId": id, "Type": kind, "TemporaryCode": code}
	}
	endpoints := map[string][]tc{
		"checkUser": append(append([]tc{}, common...),
			tc{"known user", user(f.full), 200, "0", "true", nil},
			tc{"user without a profile", user(f.bare), 200, "0", "true", nil},
			tc{"unknown user", user(unknownUID), 200, "0", "false", nil},
			tc{"user of another app", user(f.other), 200, "0", "false", nil},
		),
		"getUserNick": append(append(append([]tc{}, common...), unknown...),
			tc{"nickname", user(f.full), 200, "0", quote(nickname), nil},
			tc{"no nickname", user(f.bare), 200, "200000", "", nil},
		),
		"getUserAvatar": append(append(append([]tc{}, common...), unknown...),
			tc{"avatar", user(f.full), 200, "0", quote(avatar), nil},
			tc{"no avatar", user(f.bare), 200, "200000", "", nil},
		),
		"getUserInfoTemporaryCode": append(append(append([]tc{}, common...), unknown...),
			tc{"phone", withCode(f.full, "phone", ""), 200, "0", "", codeCheck(phoneMask)},
			tc{"email", withCode(f.full, "email", ""), 200, "0", "", codeCheck(emailMask)},
			tc{"Type in capitals", withCode(f.full, "PHONE", ""), 200, "0", "", codeCheck(phoneMask)},
			tc{"other Type", withCode(f.full, "address", ""), 200, "200000", "", nil},
			tc{"no Type", user(f.full), 200, "200000", "", nil},
			tc{"no phone", withCode(f.bare, "phone", ""), 200, "200000", "", nil},
			tc{"no email", withCode(f.bare, "email", ""), 200, "200000", "", nil},
		),
		"getUserPhoneNumber": append(append(append([]tc{}, common...), unknown...),
			tc{"wrong code", withCode(f.full, "", "x"), 200, "200003", "", nil},
			tc{"no code", user(f.full), 200, "200003", "", nil},
		),
		"getUserEmail": append(append(append([]tc{}, common...), unknown...),
			tc{"wrong code", withCode(f.full, "", strings.Repeat("a", 35)), 200, "200003", "", nil},
			tc{"no code", user(f.full), 200, "200003", "", nil},
		),
	}
	// The success of the two deliveries needs a fresh code per call.
	deliver := map[string]struct {
		kind, value string
	}{"getUserPhoneNumber": {"phone", phone}, "getUserEmail": {"email", email}}

	for name, cases := range endpoints {
		for _, p := range paths(f.a.SdkAppID, name) {
			for _, method := range []string{"POST", "GET"} {
				t.Run(name+"/"+method+" "+p, func(t *testing.T) {
					for _, c := range cases {
						params := c.params
						if method == "GET" {
							// The later documents spell the keys in camelCase.
							params = map[string]string{}
							for k, v := range c.params {
								params[strings.ToLower(k[:1])+k[1:]] = v
							}
						}
						a := send(t, f.env, f.url, req{method: method, path: p, params: params, key: f.a.SuperAppSecretKey})
						if a.Status != c.status || a.ReturnCode != c.code {
							t.Fatalf("%s: status %d ReturnCode %s, want %d %s: %s", c.name, a.Status, a.ReturnCode, c.status, c.code, a.Raw)
						}
						a.want(t, c.status, c.code)
						if c.code != "0" && a.Data != nil {
							t.Errorf("%s: a failure carries Data: %s", c.name, a.Raw)
						}
						if c.data != "" && string(a.Data) != c.data {
							t.Errorf("%s: Data = %s, want %s", c.name, a.Data, c.data)
						}
						if c.check != nil {
							c.check(t, a)
						}
					}
					if d, ok := deliver[name]; ok {
						code := f.issue(t, f.full, d.kind)
						params := map[string]string{"UserId": f.full, "TemporaryCode": code}
						if method == "GET" {
							params = map[string]string{"userId": f.full, "temporaryCode": code}
						}
						a := send(t, f.env, f.url, req{method: method, path: p, params: params, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
						if got := decrypt(t, f.a.SuperAppCipher, f.a.SuperAppSecretKey, a.str(t)); got != d.value {
							t.Fatalf("decrypted %q, want %q", got, d.value)
						}
					}
				})
			}
		}
	}
}

// TestKeysAnyCase checks that request keys match in any case, in bodies
// and queries alike, and that unknown keys are ignored.
func TestKeysAnyCase(t *testing.T) {
	f := newFixture(t)
	for _, k := range []string{"UserId", "userId", "userid", "USERID", "uSeRiD"} {
		body := `{"` + k + `":` + quote(f.full) + `,"TC-OpenId":"o1","extra":{"nested":[1,2]}}`
		a := send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/getUserNick", body: &body, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
		if a.str(t) != nickname {
			t.Fatalf("%s: Data %s", k, a.Data)
		}
		send(t, f.env, f.url, req{method: "GET", path: "/user/getUserNick", query: k + "=" + f.full + "&x=1", key: f.a.SuperAppSecretKey}).want(t, 200, "0")
	}
	for _, k := range []string{"type", "TYPE"} {
		body := `{"userId":` + quote(f.full) + `,"` + k + `":"email"}`
		send(t, f.env, f.url, req{method: "POST", path: "/superapp/inner/user/getUserInfoTemporaryCode", body: &body, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
	}
	code := f.issue(t, f.full, "email")
	body := `{"userid":` + quote(f.full) + `,"temporarycode":` + quote(code) + `}`
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/getUserEmail", body: &body, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
	// A POST with an empty body reads its query.
	empty := ""
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/checkUser", body: &empty, query: "UserId=" + f.full, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
}

// TestDisabledEverywhere checks that disabling a user refuses them on
// every endpoint at once, their codes included, and enabling them again
// restores them.
func TestDisabledEverywhere(t *testing.T) {
	f := newFixture(t)
	phoneCode := f.issue(t, f.full, "phone")
	if _, err := f.env.Svc.UpdateUser(bg, usercenter.Operator(), f.full, core.UserPatch{Status: ptr(usercenter.UserDisabled)}); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{"checkUser", "getUserAvatar", "getUserNick", "getUserInfoTemporaryCode", "getUserPhoneNumber", "getUserEmail"} {
		send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/" + ep, key: f.a.SuperAppSecretKey,
			params: map[string]string{"UserId": f.full, "Type": "phone", "TemporaryCode": phoneCode}}).want(t, 200, "200001")
	}
	if _, err := f.env.Svc.UpdateUser(bg, usercenter.Operator(), f.full, core.UserPatch{Status: ptr(usercenter.UserActive)}); err != nil {
		t.Fatal(err)
	}
	// The code was not spent by the refused call.
	f.redeem(t, "getUserPhoneNumber", f.full, phoneCode).want(t, 200, "0")
}

// TestDisabledApp checks that a disabled app is refused after
// authentication, with a 403 that says so.
func TestDisabledApp(t *testing.T) {
	f := newFixture(t)
	f.setApp(t, f.a, core.AppPatch{Status: ptr(usercenter.AppDisabled)})
	a := send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/checkUser", params: map[string]string{"UserId": f.full}, key: f.a.SuperAppSecretKey}).want(t, 403, "403")
	if strings.Contains(string(a.Raw), "true") {
		t.Fatalf("a disabled app reveals the user: %s", a.Raw)
	}
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/checkUser", params: map[string]string{"UserId": f.full}, key: "wrong-key-012345"}).want(t, 401, "401")
	f.setApp(t, f.a, core.AppPatch{Status: ptr(usercenter.AppActive)})
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/checkUser", params: map[string]string{"UserId": f.full}, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
}

// TestRoutes checks the answers outside the endpoints: unknown names and
// methods, in the envelope.
func TestRoutes(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/superapp/user/nope", "/superapp/user/", "/user/checkuser", "/superapp/other/checkUser", "/apps/1/superapp/user/nope", "/user/checkUser/extra"} {
		send(t, f.env, f.url, req{method: "POST", path: p, params: map[string]string{}, key: f.a.SuperAppSecretKey}).want(t, 404, "404")
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH"} {
		a := send(t, f.env, f.url, req{method: m, path: "/superapp/user/checkUser", key: f.a.SuperAppSecretKey}).want(t, 405, "405")
		if a.Header.Get("Allow") != "GET, POST" {
			t.Errorf("%s: Allow %q", m, a.Header.Get("Allow"))
		}
	}
	// The other facades are untouched.
	res, err := client.Get(f.url + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", res, err)
	}
	res.Body.Close()
}

// TestRateLimit checks that each endpoint is an action of the app's rate
// limit.
func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.setApp(t, f.a, core.AppPatch{RateLimit: ptr(2)})
	// The clock stands still, so that no token refills however slowly the
	// calls go.
	f.env.Clock.Freeze()
	var limited bool
	for i := 0; i < 20 && !limited; i++ {
		a := send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/getUserNick", params: map[string]string{"UserId": f.full}, key: f.a.SuperAppSecretKey})
		if a.Status == 429 {
			a.want(t, 429, "429")
			limited = true
		}
	}
	if !limited {
		t.Fatal("20 calls at a limit of 2/s were never limited")
	}
	// Another action has its own budget.
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/checkUser", params: map[string]string{"UserId": f.full}, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
}
