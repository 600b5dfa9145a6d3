package restapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"usercenter/uctest"
)

// emailRuleCases are addresses the email rules refuse, each with the
// detail the REST API gives: its own name of the field, then the rule.
var emailRuleCases = []struct{ name, email, detail string }{
	{"leading space", " mu@example.com", "email must not start or end with whitespace"},
	{"trailing newline", "mu@example.com\n", "email must not start or end with whitespace"},
	{"trailing no-break space", "mu@example.com\u00a0", "email must not start or end with whitespace"},
	{"only spaces", "   ", "email must not start or end with whitespace"},
	{"control character", "mu\u0001@example.com", "email must not contain control characters"},
	{"C1 control character", "mu\u0085x@example.com", "email must not contain control characters"},
	{"right-to-left override", "mu\u202emoc.elpmaxe@example.com", "email must not contain invisible formatting characters"},
	{"label starting with -", "mu@-example.com", "email must not have a domain label that starts or ends with -"},
	{"label ending with -", "mu@example-.com", "email must not have a domain label that starts or ends with -"},
	{"65 bytes before the @", strings.Repeat("m", 65) + "@example.com", "email must have at most 64 bytes before the @"},
	{"not an address", "mu", "email is not a valid email address"},
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestEmailRules checks the email rules on every way an email comes into
// the REST API: create, update, import and lookup.
func TestEmailRules(t *testing.T) {
	env := uctest.New(t)
	auth := basic(env.Key)
	users := appUsers(env.App.SdkAppID)
	u := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "mu", "email": "Mu@Example.COM"}`)
	for _, c := range emailRuleCases {
		t.Run(c.name, func(t *testing.T) {
			body := `{"email": ` + jsonString(c.email) + `}`
			for _, s := range []scenario{
				{Name: "create", request: request{Method: "POST", Path: users, Auth: auth, Body: body}},
				{Name: "update", request: request{Method: "PATCH", Path: "/v1/users/" + u.UserID, Auth: auth, Body: body}},
				{Name: "lookup", request: request{Method: "GET", Path: users + "?email=" + url.QueryEscape(c.email), Auth: auth}},
			} {
				s.Status, s.Code, s.Field = 400, "invalid_field", "email"
				want := c.detail
				if s.Name == "lookup" && strings.TrimSpace(c.email) == "" {
					want = "email must not be empty" // a blank query parameter
				}
				res := s.run(t, env)
				if detail, _ := res.JSON(t)["detail"].(string); detail != want {
					t.Errorf("%s: detail %q, want %q", s.Name, detail, want)
				}
			}
			imp := scenario{Name: "import", request: request{Method: "POST", Path: importPath(env.App.SdkAppID), Auth: auth,
				Body: importBody(`{"originId": "ok"}`, `{"originId": "bad", "email": `+jsonString(c.email)+`}`)},
				Status: 400, Code: "invalid_field", Field: "users.1.email"}
			res := imp.run(t, env)
			if detail, _ := res.JSON(t)["detail"].(string); detail != "users.1: "+c.detail {
				t.Errorf("import: detail %q, want %q", detail, "users.1: "+c.detail)
			}
		})
	}
	if n := userCount(t, env, env.App.SdkAppID); n != 1 {
		t.Fatalf("%d users after refused emails, want 1", n)
	}
	reveal := func(userID string) string {
		var got userJSON
		do(t, env, request{Method: "GET", Path: "/v1/users/" + userID + "?reveal=email", Auth: auth}).Decode(t, &got)
		return got.Email
	}
	if got := reveal(u.UserID); got != "mu@example.com" {
		t.Errorf("stored email %q, want ASCII case folded", got)
	}

	// Only ASCII case folds: İSTANBUL and istanbul are two addresses.
	dotted := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "dotted", "email": "İSTANBUL@X.com"}`)
	plain := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "plain", "email": "istanbul@x.com"}`)
	composed := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "nfc", "email": "cafe\u0301@x.com"}`)
	for id, want := range map[string]string{dotted.UserID: "İstanbul@x.com", plain.UserID: "istanbul@x.com", composed.UserID: "caf\u00e9@x.com"} {
		if got := reveal(id); got != want {
			t.Errorf("stored email %q, want %q", got, want)
		}
	}
	for email, want := range map[string]string{
		"MU@example.com":   u.UserID,
		"İstanbul@X.COM":   dotted.UserID,
		"ISTANBUL@X.COM":   plain.UserID,
		"caf\u00e9@X.com":  composed.UserID,
		"cafe\u0301@x.COM": composed.UserID,
	} {
		var list userList
		do(t, env, request{Method: "GET", Path: users + "?email=" + url.QueryEscape(email), Auth: auth}).Decode(t, &list)
		if len(list.Users) != 1 || list.Users[0].UserID != want {
			t.Errorf("?email=%s found %+v, want only %s", email, list.Users, want)
		}
	}
}
