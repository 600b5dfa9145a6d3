package restapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/uctest"
)

// TestBadInput sends every kind of bad input a client can produce. Each
// must get a problem with the expected code (checkProblem also refuses
// any 500), and none may change the user.
func TestBadInput(t *testing.T) {
	env := uctest.New(t)
	auth := basic(env.Key)
	u := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "victim", "nickname": "Victim"}`)
	users := appUsers(env.App.SdkAppID)
	user := "/v1/users/" + u.UserID
	huge := `{"nickname": "` + strings.Repeat("x", 1<<20) + `"}`

	type body struct {
		name, body, code, field string
		status                  int
	}
	bodies := []body{
		{"truncated", `{"nickname":`, "malformed_json", "", 400},
		{"trailing comma", `{"nickname": "a",}`, "malformed_json", "", 400},
		{"single quotes", `{'nickname': 'a'}`, "malformed_json", "", 400},
		{"bare word", `nickname`, "malformed_json", "", 400},
		{"empty body", ``, "malformed_json", "", 400},
		{"whitespace body", "  \n", "malformed_json", "", 400},
		{"not UTF-8", "{\"nickname\": \"\xff\xfe\"}", "malformed_json", "", 400},
		{"lone surrogate", `{"nickname": "\ud800"}`, "malformed_json", "", 400},
		{"lone low surrogate", `{"nickname": "a\udc00"}`, "malformed_json", "", 400},
		{"duplicate key", `{"nickname": "a", "nickname": "b"}`, "malformed_json", "", 400},
		{"duplicate key by escape", `{"nickname": "a", "nick\u006eame": "b"}`, "malformed_json", "", 400},
		{"duplicate nested key", `{"thirdPartyIds": {"qq": "1", "qq": "2"}}`, "malformed_json", "", 400},
		{"trailing object", `{} {}`, "malformed_json", "", 400},
		{"trailing garbage", `{"nickname": "a"} x`, "malformed_json", "", 400},
		{"deep nesting", `{"remark": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "malformed_json", "", 400},
		{"array body", `[{"nickname": "a"}]`, "invalid_type", "", 400},
		{"null body", `null`, "invalid_type", "", 400},
		{"string body", `"a"`, "invalid_type", "", 400},
		{"number for text", `{"nickname": 1}`, "invalid_type", "nickname", 400},
		{"object for text", `{"city": {}}`, "invalid_type", "city", 400},
		{"bool for phone", `{"phone": true}`, "invalid_type", "phone", 400},
		{"string for status", `{"status": "1"}`, "invalid_type", "status", 400},
		{"fraction for status", `{"status": 1.5}`, "invalid_type", "status", 400},
		{"exponent for status", `{"status": 1e0}`, "invalid_type", "status", 400},
		{"bool for logonMode", `{"logonMode": true}`, "invalid_type", "logonMode", 400},
		{"null status", `{"status": null}`, "invalid_type", "status", 400},
		{"null logonMode", `{"logonMode": null}`, "invalid_type", "logonMode", 400},
		{"null originId", `{"originId": null}`, "invalid_type", "originId", 400},
		{"number for originId", `{"originId": 42}`, "invalid_type", "originId", 400},
		{"array for thirdPartyIds", `{"thirdPartyIds": ["qq"]}`, "invalid_type", "thirdPartyIds", 400},
		{"number for a link", `{"thirdPartyIds": {"qq": 1}}`, "invalid_type", "thirdPartyIds.qq", 400},
		{"status 2", `{"status": 2}`, "invalid_field", "status", 400},
		{"status -1", `{"status": -1}`, "invalid_field", "status", 400},
		{"status overflow", `{"status": 99999999999999999999}`, "invalid_field", "status", 400},
		{"logonMode 12", `{"logonMode": 12}`, "invalid_field", "logonMode", 400},
		{"invalid phone", `{"phone": "12345"}`, "invalid_field", "phone", 400},
		{"letters for phone", `{"phone": "+86 phone"}`, "invalid_field", "phone", 400},
		{"too long phone", `{"phone": "` + strings.Repeat("1", 40) + `"}`, "invalid_field", "phone", 400},
		{"invalid email", `{"email": "not-an-email"}`, "invalid_field", "email", 400},
		{"email without dot", `{"email": "a@b"}`, "invalid_field", "email", 400},
		{"email with name", `{"email": "Bob <bob@example.com>"}`, "invalid_field", "email", 400},
		{"ftp avatar", `{"avatar": "ftp://example.com/a.png"}`, "invalid_field", "avatar", 400},
		{"bad timezone", `{"timezone": "Mars/Olympus"}`, "invalid_field", "timezone", 400},
		{"bad lang", `{"lang": "english!"}`, "invalid_field", "lang", 400},
		{"long nickname", `{"nickname": "` + strings.Repeat("名", 129) + `"}`, "invalid_field", "nickname", 400},
		{"control character", `{"remark": "a\u0007b"}`, "invalid_field", "remark", 400},
		{"originId with a space", `{"originId": "a b"}`, "invalid_field", "originId", 400},
		{"empty originId", `{"originId": ""}`, "invalid_field", "originId", 400},
		{"long link", `{"thirdPartyIds": {"qq": "` + strings.Repeat("q", 200) + `"}}`, "invalid_field", "thirdPartyIds.qq", 400},
		{"unknown field", `{"nick": "a"}`, "unknown_field", "nick", 400},
		{"wrong case", `{"Nickname": "a"}`, "unknown_field", "Nickname", 400},
		{"read-only field", `{"userId": "x"}`, "unknown_field", "userId", 400},
		{"read-only time", `{"registerTime": "2020-01-01T00:00:00Z"}`, "unknown_field", "registerTime", 400},
		{"unknown provider", `{"thirdPartyIds": {"myspace": "x"}}`, "unknown_field", "thirdPartyIds.myspace", 400},
		{"oversized", huge, "payload_too_large", "", 413},
	}
	var scenarios []scenario
	for _, b := range bodies {
		for _, target := range []struct{ method, path string }{{"POST", users}, {"PATCH", user}} {
			scenarios = append(scenarios, scenario{
				Name:    target.method + " " + b.name,
				request: request{Method: target.method, Path: target.path, Auth: auth, Body: b.body, ContentType: "application/json"},
				Status:  b.status, Code: b.code, Field: b.field,
			})
		}
	}
	for _, ct := range []string{"-", "text/plain", "application/xml", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/json; version=2", "application/jsonx", "multipart/form-data; boundary=x"} {
		for _, target := range []struct{ method, path string }{{"POST", users}, {"PATCH", user}} {
			scenarios = append(scenarios, scenario{
				Name:    target.method + " content type " + ct,
				request: request{Method: target.method, Path: target.path, Auth: auth, Body: `{"nickname": "x"}`, ContentType: ct},
				Status:  415, Code: "unsupported_media_type",
			})
		}
	}
	get := func(name, path string, status int, code, field string) scenario {
		return scenario{Name: name, request: request{Method: "GET", Path: path, Auth: auth}, Status: status, Code: code, Field: field}
	}
	scenarios = append(scenarios,
		get("limit 0", users+"?limit=0", 400, "invalid_field", "limit"),
		get("limit 501", users+"?limit=501", 400, "invalid_field", "limit"),
		get("limit x", users+"?limit=x", 400, "invalid_field", "limit"),
		get("limit -1", users+"?limit=-1", 400, "invalid_field", "limit"),
		get("limit +5", users+"?limit=%2B5", 400, "invalid_field", "limit"),
		get("limit 1.5", users+"?limit=1.5", 400, "invalid_field", "limit"),
		get("limit empty", users+"?limit=", 400, "invalid_field", "limit"),
		get("limit twice", users+"?limit=1&limit=2", 400, "invalid_field", "limit"),
		get("bad cursor", users+"?next=!!!", 400, "invalid_field", "next"),
		get("cursor of base64 junk", users+"?next="+base64.RawURLEncoding.EncodeToString([]byte("junk")), 400, "invalid_field", "next"),
		get("empty cursor", users+"?next=", 400, "invalid_field", "next"),
		get("unknown reveal field", users+"?reveal=ssn", 400, "invalid_field", "reveal"),
		get("unknown reveal field on get", user+"?reveal=password", 400, "invalid_field", "reveal"),
		get("unknown query parameter", users+"?limt=5", 400, "unknown_field", "limt"),
		get("unknown query parameter on get", user+"?revael=phone", 400, "unknown_field", "revael"),
		get("query on me's sibling", "/v1/audit?foo=1", 400, "unknown_field", "foo"),
		get("malformed query", users+"?limit=%zz", 400, "invalid_field", ""),
		get("non-numeric sdkAppId", "/v1/apps/abc/users", 400, "invalid_field", "sdkAppId"),
		get("zero sdkAppId", "/v1/apps/0/users", 400, "invalid_field", "sdkAppId"),
		get("negative sdkAppId", "/v1/apps/-1/users", 400, "invalid_field", "sdkAppId"),
		get("huge sdkAppId", "/v1/apps/99999999999999999999999/users", 400, "invalid_field", "sdkAppId"),
		// The app's own ID, spelt otherwise: only canonical decimal names it.
		get("sdkAppId with a leading zero", "/v1/apps/0"+strconv.FormatUint(env.App.SdkAppID, 10)+"/users", 400, "invalid_field", "sdkAppId"),
		get("sdkAppId with a plus sign", "/v1/apps/%2B"+strconv.FormatUint(env.App.SdkAppID, 10)+"/users", 400, "invalid_field", "sdkAppId"),
		scenario{Name: "POST with a leading zero in sdkAppId", request: request{Method: "POST", Path: "/v1/apps/0" + strconv.FormatUint(env.App.SdkAppID, 10) + "/users", Auth: auth, Body: `{"nickname": "x"}`}, Status: 400, Code: "invalid_field", Field: "sdkAppId"},
		get("unknown sdkAppId", "/v1/apps/12345/users", 404, "app_not_found", ""),
		get("bad userId", "/v1/users/nope", 404, "user_not_found", ""),
		get("userId of the right length", "/v1/users/"+strings.Repeat("z", 27), 404, "user_not_found", ""),
		get("unknown valid-looking userId", "/v1/users/0ujsswThIGTUYm2K8FjOOfXtY1K", 404, "user_not_found", ""),
		get("escaped slash in userId", "/v1/users/a%2Fb", 404, "user_not_found", ""),
		get("absurdly long userId", "/v1/users/"+strings.Repeat("u", 100), 400, "invalid_field", "userId"),
		get("audit since", "/v1/audit?since=yesterday", 400, "invalid_field", "since"),
		get("audit until", "/v1/audit?until=2025-13-01T00:00:00Z", 400, "invalid_field", "until"),
		get("audit until before since", "/v1/audit?since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z", 400, "invalid_field", "until"),
		get("audit action", "/v1/audit?action=steal", 400, "invalid_field", "action"),
		get("audit sdkAppId", "/v1/audit?sdkAppId=x", 400, "invalid_field", "sdkAppId"),
		get("audit limit 0", "/v1/audit?limit=0", 400, "invalid_field", "limit"),
		get("audit limit 501", "/v1/audit?limit=501", 400, "invalid_field", "limit"),
		get("audit bad cursor", "/v1/audit?next=zz", 400, "invalid_field", "next"),
		get("audit empty filter", "/v1/audit?userId=", 400, "invalid_field", "userId"),
		get("audit long filter", "/v1/audit?field="+strings.Repeat("f", 300), 400, "invalid_field", "field"),
		get("non-UTF-8 lookup", users+"?email=%ff%fe@example.com", 400, "invalid_field", "email"),
		get("non-UTF-8 audit filter", "/v1/audit?actor=%ff", 400, "invalid_field", "actor"),
		get("NUL in a lookup", users+"?originId=a%00b", 400, "invalid_field", "originId"),
		get("NUL in a link lookup", users+"?provider=qq&providerUserId=a%00b", 200, "", ""),
		get("NUL in audit filters", "/v1/audit?userId=%00&field=%00&actor=a%00b", 200, "", ""),
		get("SQL in audit filters", "/v1/audit?userId="+url.QueryEscape("' OR 1=1 --"), 200, "", ""),
		get("unknown route", "/v1/nope", 404, "not_found", ""),
		get("unknown nested route", "/v1/users/"+u.UserID+"/tokens", 404, "not_found", ""),
		get("trailing slash", "/v1/users/", 404, "not_found", ""),
		get("bare prefix", "/v1/", 404, "not_found", ""),
		scenario{Name: "PUT on a user", request: request{Method: "PUT", Path: user, Auth: auth, Body: `{}`}, Status: 405, Code: "method_not_allowed",
			Check: func(t *testing.T, res *response) {
				if a := res.Header.Get("Allow"); a != "GET, HEAD, PATCH, DELETE" {
					t.Fatalf("Allow %q", a)
				}
			}},
		scenario{Name: "POST on me", request: request{Method: "POST", Path: "/v1/me", Body: `{}`}, Status: 405, Code: "method_not_allowed",
			Check: func(t *testing.T, res *response) {
				if a := res.Header.Get("Allow"); a != "GET, HEAD" {
					t.Fatalf("Allow %q", a)
				}
			}},
		scenario{Name: "DELETE on a list", request: request{Method: "DELETE", Path: users, Auth: auth}, Status: 405, Code: "method_not_allowed",
			Check: func(t *testing.T, res *response) {
				if a := res.Header.Get("Allow"); a != "GET, HEAD, POST" {
					t.Fatalf("Allow %q", a)
				}
			}},
	)
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}

	// An oversized body without a Content-Length is cut off as it streams.
	t.Run("oversized chunked", func(t *testing.T) {
		req, _ := http.NewRequest("POST", env.URL+users, io.MultiReader(strings.NewReader(huge)))
		req.ContentLength = -1
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		checkProblem(t, &response{Status: res.StatusCode, Header: res.Header, Body: b}, 413, "payload_too_large", "")
	})

	// Nothing above changed the user, and no stray user was created.
	res := do(t, env, request{Method: "GET", Path: user, Auth: auth})
	var got userJSON
	res.Decode(t, &got)
	if got.Nickname != "Victim" || got.UpdateTime != u.UpdateTime {
		t.Fatalf("bad input changed the user: %s", res.Body)
	}
	res = do(t, env, request{Method: "GET", Path: users, Auth: auth})
	var l userList
	res.Decode(t, &l)
	if len(l.Users) != 1 {
		t.Fatalf("bad input created users: %s", res.Body)
	}
	if strings.Contains(env.Log.String(), `"level":"ERROR"`) {
		t.Fatalf("bad input logged an error:\n%s", env.Log.String())
	}
}

func TestAuthentication(t *testing.T) {
	env := uctest.New(t)
	users := appUsers(env.App.SdkAppID)
	revoked := env.NewKey(t, []uint64{env.App.SdkAppID}, "users.read")
	if err := env.Svc.RevokeKey(context.Background(), usercenter.Operator(), revoked.SecretID); err != nil {
		t.Fatal(err)
	}
	creds := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	var bodies [][]byte
	for _, s := range []scenario{
		{Name: "no credentials", request: request{Method: "GET", Path: users}},
		{Name: "wrong secret", request: request{Method: "GET", Path: users, Auth: creds(env.Key.SecretID, env.Key.SecretKey+"x")}},
		{Name: "empty secret", request: request{Method: "GET", Path: users, Auth: creds(env.Key.SecretID, "")}},
		{Name: "secret of another key", request: request{Method: "GET", Path: users, Auth: creds(env.Key.SecretID, revoked.SecretKey)}},
		{Name: "unknown key", request: request{Method: "GET", Path: users, Auth: creds("AKIDnope", env.Key.SecretKey)}},
		{Name: "revoked key", request: request{Method: "GET", Path: users, Auth: basic(revoked)}},
		{Name: "huge SecretId", request: request{Method: "GET", Path: users, Auth: creds(strings.Repeat("A", 5000), "x")}},
		{Name: "garbage base64", request: request{Method: "GET", Path: users, Auth: "Basic !!!"}},
		{Name: "no colon", request: request{Method: "GET", Path: users, Auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(env.Key.SecretID))}},
		{Name: "bearer on a key route", request: request{Method: "GET", Path: users, Auth: "Bearer " + env.Key.SecretKey}},
		{Name: "auth before content checks", request: request{Method: "POST", Path: users, Body: "not json", ContentType: "text/plain"}},
		{Name: "auth before query checks", request: request{Method: "GET", Path: users + "?bogus=1"}},
		{Name: "auth on delete", request: request{Method: "DELETE", Path: "/v1/users/" + strings.Repeat("z", 27)}},
		{Name: "auth on audit", request: request{Method: "GET", Path: "/v1/audit"}},
	} {
		s.Status, s.Code = 401, "unauthenticated"
		t.Run(s.Name, func(t *testing.T) {
			res := s.run(t, env)
			if got := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="usercenter"`) {
				t.Fatalf("WWW-Authenticate %q", got)
			}
			bodies = append(bodies, res.Body)
		})
	}
	// Every failure reads the same, but for its request ID.
	reqID := regexp.MustCompile(`"requestId":"[^"]*"`)
	for _, b := range bodies[1:] {
		if !bytes.Equal(reqID.ReplaceAll(b, nil), reqID.ReplaceAll(bodies[0], nil)) {
			t.Fatalf("failures differ:\n%s\n%s", bodies[0], b)
		}
	}
	// Neither secrets nor tokens reach the log.
	for _, secret := range []string{env.Key.SecretKey, revoked.SecretKey} {
		if strings.Contains(env.Log.String(), secret) {
			t.Fatal("a secret reached the log")
		}
	}
	// The openapi document is public.
	if res := do(t, env, request{Method: "GET", Path: "/v1/openapi.json"}); res.Status != 200 {
		t.Fatalf("openapi.json: %d", res.Status)
	}
}

func TestRateLimit(t *testing.T) {
	// One request per second and action: the second within the second
	// is refused. The clock stands still until the test moves it, so that
	// no token refills however slowly the requests go.
	env := uctest.New(t, uctest.Options{RateLimit: 1})
	env.Clock.Freeze()
	u := createUser(t, env, env.Key, env.App.SdkAppID, `{}`)
	get := request{Method: "GET", Path: "/v1/users/" + u.UserID, Auth: basic(env.Key)}
	if res := do(t, env, get); res.Status != 200 {
		t.Fatalf("first request: %d %s", res.Status, res.Body)
	}
	res := do(t, env, get)
	checkProblem(t, res, 429, "rate_limited", "")
	if res.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	// Limits are per action: listing still works.
	if res := do(t, env, request{Method: "GET", Path: appUsers(env.App.SdkAppID), Auth: basic(env.Key)}); res.Status != 200 {
		t.Fatalf("another action: %d %s", res.Status, res.Body)
	}
	env.Clock.Advance(time.Second)
	if res := do(t, env, get); res.Status != 200 {
		t.Fatalf("after a second: %d %s", res.Status, res.Body)
	}
}
