package restapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"usercenter"
	"usercenter/restapi"
	"usercenter/uctest"
)

func importPath(sdkAppID uint64) string { return appUsers(sdkAppID) + ":import" }

type importAnswer struct {
	Users []struct {
		UserID   string `json:"userId"`
		OriginID string `json:"originId"`
	} `json:"users"`
}

// importBody wraps user bodies into an import's body.
func importBody(users ...string) string { return `{"users": [` + strings.Join(users, ", ") + `]}` }

// userCount is how many users the app has, as the API lists them.
func userCount(t testing.TB, env *uctest.Env, sdkAppID uint64) int {
	t.Helper()
	n, next := 0, ""
	for {
		path := appUsers(sdkAppID) + "?limit=500"
		if next != "" {
			path += "&next=" + next
		}
		res := do(t, env, request{Method: "GET", Path: path, Auth: basic(env.Key)})
		if res.Status != 200 {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		var l userList
		res.Decode(t, &l)
		n += len(l.Users)
		if l.Next == nil {
			return n
		}
		next = *l.Next
	}
}

func TestImportUsers(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	full := `{"originId": "crm-%d", "status": 0, "nickname": "Alice %d", "avatar": "https://example.com/a.png",
		"phone": "136 1234 66%02d", "email": "Alice%d@Example.com", "address": "北京市海淀区中关村大街1号",
		"city": "Beijing", "province": "Beijing", "nationality": "CN", "lang": "zh-CN", "timezone": "Asia/Shanghai",
		"sex": "female", "signature": "sig \"quoted\" \u4e2d", "remark": null, "logonMode": 3,
		"thirdPartyIds": {"qq": "qq-%d", "apple": null, "wechatUnion": ""}}`
	bodies := []string{fmt.Sprintf(full, 1, 1, 1, 1, 1), `{}`, fmt.Sprintf(full, 3, 3, 3, 3, 3), `{"nickname": "only"}`}

	res := do(t, env, request{Method: "POST", Path: importPath(app), Auth: basic(env.Key), Body: importBody(bodies...)})
	if res.Status != http.StatusCreated {
		t.Fatalf("import: %d %s", res.Status, res.Body)
	}
	var got importAnswer
	res.Decode(t, &got)
	if len(got.Users) != len(bodies) {
		t.Fatalf("%d users answered, want %d: %s", len(got.Users), len(bodies), res.Body)
	}
	reqID := res.Header.Get("X-Request-Id")

	// Each user is what POST /v1/apps/{id}/users makes of the same body,
	// in another app.
	appB, keyB := env.NewApp(t, "reference", 1000)
	for i, b := range bodies {
		ref := createUser(t, env, keyB, appB.SdkAppID, b)
		ref = getUser(t, env, keyB, ref.UserID)
		u := getUser(t, env, env.Key, got.Users[i].UserID)
		if u.OriginID != got.Users[i].OriginID {
			t.Fatalf("user %d: originId %q, answered %q", i, u.OriginID, got.Users[i].OriginID)
		}
		if b == `{}` && u.OriginID != u.UserID {
			t.Fatalf("user %d without originId got %q", i, u.OriginID)
		}
		for _, x := range []*userJSON{&u, &ref} {
			if x.OriginID == x.UserID {
				x.OriginID = ""
			}
			x.UserID, x.SdkAppID, x.UserDomain, x.RegisterTime, x.UpdateTime = "", 0, "", "", ""
		}
		if fmt.Sprint(u) != fmt.Sprint(ref) {
			t.Fatalf("imported user %d\n%+v\ncreated\n%+v", i, u, ref)
		}
	}

	// One create event per user, as createUser writes, under the import's
	// request ID.
	events := auditOf(t, env, env.Key, fmt.Sprintf("sdkAppId=%d&action=create&order=oldest", app))
	if len(events) != len(bodies) {
		t.Fatalf("%d create events, want %d: %+v", len(events), len(bodies), events)
	}
	for i, e := range events {
		if e.UserID != got.Users[i].UserID || e.Field != "" || e.Actor != "key:"+env.Key.SecretID || e.RequestID != reqID {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	// Listed in the order imported.
	res = do(t, env, request{Method: "GET", Path: appUsers(app), Auth: basic(env.Key)})
	var l userList
	res.Decode(t, &l)
	for i, u := range l.Users {
		if u.UserID != got.Users[i].UserID {
			t.Fatalf("listed user %d is %s, want %s", i, u.UserID, got.Users[i].UserID)
		}
	}
}

func getUser(t testing.TB, env *uctest.Env, k *usercenter.APIKey, id string) userJSON {
	t.Helper()
	res := do(t, env, request{Method: "GET", Path: "/v1/users/" + id + "?reveal=phone,email,address", Auth: basic(k)})
	if res.Status != 200 {
		t.Fatalf("get %s: %d %s", id, res.Status, res.Body)
	}
	var u userJSON
	res.Decode(t, &u)
	return u
}

func TestImportUsersLimits(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	auth := basic(env.Key)
	users := func(n int, f func(i int) string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = f(i)
		}
		return importBody(items...)
	}
	plain := func(i int) string {
		return fmt.Sprintf(`{"originId": "u%d", "phone": "+86139%08d", "email": "u%d@bench.example"}`, i, i, i)
	}
	for _, s := range []scenario{
		{Name: "no users", request: request{Method: "POST", Path: importPath(app), Auth: auth, Body: importBody()}, Status: 400, Code: "invalid_field", Field: "users"},
		{Name: "too many", request: request{Method: "POST", Path: importPath(app), Auth: auth, Body: users(1001, plain)}, Status: 400, Code: "invalid_field", Field: "users"},
		{Name: "too large", request: request{Method: "POST", Path: importPath(app), Auth: auth,
			Body: users(10, func(int) string { return `{"remark": "` + strings.Repeat("x", restapi.MaxImportBodyBytes/10) + `"}` })},
			Status: 413, Code: "payload_too_large"},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}
	if n := userCount(t, env, app); n != 0 {
		t.Fatalf("%d users after refused imports", n)
	}
	// A body well beyond a single user's 1 MiB is fine.
	long := func(i int) string {
		return fmt.Sprintf(`{"originId": "long%d", "remark": "%s", "signature": "%s", "address": "%s", "nickname": "%s"}`,
			i, strings.Repeat("r", 512), strings.Repeat("s", 256), strings.Repeat("a", 256), strings.Repeat("n", 128))
	}
	body := users(1000, long)
	if len(body) <= restapi.MaxBodyBytes {
		t.Fatalf("the body is only %d bytes", len(body))
	}
	if res := do(t, env, request{Method: "POST", Path: importPath(app), Auth: auth, Body: body}); res.Status != 201 {
		t.Fatalf("1000 long users: %d %.300s", res.Status, res.Body)
	}
	res := do(t, env, request{Method: "POST", Path: importPath(app), Auth: auth, Body: users(1000, plain)})
	if res.Status != 201 {
		t.Fatalf("1000 users: %d %.300s", res.Status, res.Body)
	}
	var got importAnswer
	res.Decode(t, &got)
	if len(got.Users) != 1000 || got.Users[999].OriginID != "u999" {
		t.Fatalf("answer of %d users", len(got.Users))
	}
	if n := userCount(t, env, app); n != 2000 {
		t.Fatalf("%d users after importing 2000", n)
	}
}

// TestImportBadInput puts each kind of bad user body a single create
// refuses into an import, as its second user, and wants the same answer
// naming that user (a problem of the body as a whole, such as a syntax
// error, names none), with nothing written.
func TestImportBadInput(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	auth := basic(env.Key)
	users := appUsers(app)
	createUser(t, env, env.Key, app, `{"originId": "taken", "thirdPartyIds": {"qq": "qq-taken"}}`)
	for _, b := range []string{
		`{"nickname":`, `{"nickname": "a",}`, `{'nickname': 'a'}`, `nickname`,
		"{\"nickname\": \"\xff\xfe\"}", `{"nickname": "\ud800"}`, `{"nickname": "a\udc00"}`,
		`{"nickname": "a", "nickname": "b"}`, `{"nickname": "a", "nick\u006eame": "b"}`,
		`{"thirdPartyIds": {"qq": "1", "qq": "2"}}`, `{"thirdPartyIds": {"qq": "1", "q\u0071": "2"}}`,
		`{"remark": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"remark": [{"a": 1, "a": 2}]}`, `{"thirdPartyIds": {"qq": [1]}}`, `{"thirdPartyIds": {"qq": {"a": 1, "a": 2}}}`,
		`[{"nickname": "a"}]`, `null`, `"a"`, `7`,
		`{"nickname": 1}`, `{"city": {}}`, `{"phone": true}`, `{"status": "1"}`, `{"status": 1.5}`, `{"status": 1e0}`,
		`{"logonMode": true}`, `{"status": null}`, `{"originId": null}`, `{"originId": 42}`,
		`{"thirdPartyIds": ["qq"]}`, `{"thirdPartyIds": {"qq": 1}}`,
		`{"status": 2}`, `{"status": 99999999999999999999}`, `{"logonMode": 12}`,
		`{"phone": "12345"}`, `{"phone": "+86 phone"}`, `{"email": "not-an-email"}`, `{"email": "Bob <bob@example.com>"}`,
		`{"avatar": "ftp://example.com/a.png"}`, `{"timezone": "Mars/Olympus"}`, `{"lang": "english!"}`,
		`{"nickname": "` + strings.Repeat("名", 129) + `"}`, `{"remark": "a\u0007b"}`, `{"originId": "a b"}`, `{"originId": ""}`,
		`{"thirdPartyIds": {"qq": "` + strings.Repeat("q", 200) + `"}}`,
		`{"nick": "a"}`, `{"Nickname": "a"}`, `{"userId": "x"}`, `{"registerTime": "2020-01-01T00:00:00Z"}`,
		`{"thirdPartyIds": {"myspace": "x"}}`, `{"n\u0069ckname": 5}`,
		`{"originId": "taken"}`, `{"thirdPartyIds": {"qq": "qq-taken"}}`,
	} {
		t.Run(b, func(t *testing.T) {
			single := do(t, env, request{Method: "POST", Path: users, Auth: auth, Body: b})
			if single.Status < 400 {
				t.Fatalf("the single create accepted %s", b)
			}
			var p struct{ Code, Field string }
			single.Decode(t, &p)
			field := ""
			switch {
			case p.Code == "malformed_json":
			case p.Code == "invalid_type" && p.Field == "":
				field = "users.1"
			default:
				field = "users.1." + p.Field
			}
			before := userCount(t, env, app)
			res := do(t, env, request{Method: "POST", Path: importPath(app), Auth: auth, Body: importBody(`{"nickname": "fine"}`, b, `{"nickname": "also fine"}`)})
			checkProblem(t, res, single.Status, p.Code, field)
			var q struct{ Field, Detail string }
			res.Decode(t, &q)
			if q.Field != field {
				t.Fatalf("field %q, want %q", q.Field, field)
			}
			if field != "" && !strings.HasPrefix(q.Detail, "users.1: ") {
				t.Fatalf("detail %q does not name the user", q.Detail)
			}
			if n := userCount(t, env, app); n != before {
				t.Fatalf("%d users after a refused import, %d before", n, before)
			}
		})
	}
}

func TestImportBodyShape(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	auth := basic(env.Key)
	path := importPath(app)
	for _, s := range []scenario{
		{Name: "no users member", request: request{Method: "POST", Path: path, Auth: auth, Body: `{}`}, Status: 400, Code: "invalid_field", Field: "users"},
		{Name: "users null", request: request{Method: "POST", Path: path, Auth: auth, Body: `{"users": null}`}, Status: 400, Code: "invalid_type", Field: "users"},
		{Name: "users object", request: request{Method: "POST", Path: path, Auth: auth, Body: `{"users": {}}`}, Status: 400, Code: "invalid_type", Field: "users"},
		{Name: "other member", request: request{Method: "POST", Path: path, Auth: auth, Body: `{"users": [], "dryRun": true}`}, Status: 400, Code: "unknown_field", Field: "dryRun"},
		{Name: "users twice", request: request{Method: "POST", Path: path, Auth: auth, Body: `{"users": [], "users": []}`}, Status: 400, Code: "malformed_json"},
		{Name: "array body", request: request{Method: "POST", Path: path, Auth: auth, Body: `[{}]`}, Status: 400, Code: "invalid_type"},
		{Name: "content type", request: request{Method: "POST", Path: path, Auth: auth, Body: importBody(`{}`), ContentType: "text/plain"}, Status: 415, Code: "unsupported_media_type"},
		{Name: "no credentials", request: request{Method: "POST", Path: path, Body: importBody(`{}`)}, Status: 401, Code: "unauthenticated"},
		{Name: "GET", request: request{Method: "GET", Path: path, Auth: auth}, Status: 405, Code: "method_not_allowed"},
		{Name: "unknown app", request: request{Method: "POST", Path: importPath(424242), Auth: auth, Body: importBody(`{}`)}, Status: 404, Code: "app_not_found"},
		{Name: "bad app", request: request{Method: "POST", Path: "/v1/apps/x/users:import", Auth: auth, Body: importBody(`{}`)}, Status: 400, Code: "invalid_field", Field: "sdkAppId"},
		{Name: "query", request: request{Method: "POST", Path: path + "?dryRun=1", Auth: auth, Body: importBody(`{}`)}, Status: 400, Code: "unknown_field", Field: "dryRun"},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}
	if n := userCount(t, env, app); n != 0 {
		t.Fatalf("%d users after refused imports", n)
	}
}

func TestImportConflicts(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	auth := basic(env.Key)
	createUser(t, env, env.Key, app, `{"originId": "taken", "thirdPartyIds": {"wechatUnion": "wx-taken"}}`)
	for _, c := range []struct {
		name  string
		body  string
		code  string
		field string
	}{
		{"stored originId", importBody(`{"originId": "a"}`, `{"originId": "b"}`, `{"originId": "taken"}`), "origin_id_taken", "users.2.originId"},
		{"originId twice", importBody(`{"originId": "a"}`, `{"originId": "b"}`, `{"originId": "a"}`), "origin_id_taken", "users.2.originId"},
		{"stored link", importBody(`{"originId": "a"}`, `{"thirdPartyIds": {"wechatUnion": "wx-taken"}}`), "third_party_id_taken", "users.1.thirdPartyIds.wechatUnion"},
		{"link twice", importBody(`{"thirdPartyIds": {"qq": "1"}}`, `{"thirdPartyIds": {"qq": "2"}}`, `{"thirdPartyIds": {"qq": "1"}}`), "third_party_id_taken", "users.2.thirdPartyIds.qq"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := do(t, env, request{Method: "POST", Path: importPath(app), Auth: auth, Body: c.body})
			checkProblem(t, res, 409, c.code, c.field)
			var p struct{ Detail string }
			res.Decode(t, &p)
			if !strings.HasPrefix(p.Detail, strings.Join(strings.SplitN(c.field, ".", 3)[:2], ".")+": ") {
				t.Fatalf("detail %q does not name the user", p.Detail)
			}
			if n := userCount(t, env, app); n != 1 {
				t.Fatalf("%d users after a refused import, want 1", n)
			}
		})
	}
	if evs := auditOf(t, env, env.Key, "action=create"); len(evs) != 1 {
		t.Fatalf("%d create events; refused imports wrote some", len(evs))
	}
}

func TestImportPermissions(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	appB, keyB := env.NewApp(t, "other", 1000)
	reader := env.NewKey(t, []uint64{app}, usercenter.PermUsersRead, usercenter.PermPIIRead)
	writer := env.NewKey(t, []uint64{app}, usercenter.PermUsersWrite)
	body := importBody(`{"phone": "13612346688", "email": "a@example.com", "address": "somewhere"}`)
	for _, s := range []scenario{
		{Name: "read-only key", request: request{Method: "POST", Path: importPath(app), Auth: basic(reader), Body: body}, Status: 403, Code: "forbidden"},
		{Name: "other app's key", request: request{Method: "POST", Path: importPath(app), Auth: basic(keyB), Body: body}, Status: 403, Code: "forbidden"},
		// users.write is what createUser needs, personal data included.
		{Name: "write key", request: request{Method: "POST", Path: importPath(app), Auth: basic(writer), Body: body}, Status: 201},
		{Name: "own app", request: request{Method: "POST", Path: importPath(appB.SdkAppID), Auth: basic(keyB), Body: body}, Status: 201},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}
	// The answer of an import never holds personal data.
	res := do(t, env, request{Method: "POST", Path: importPath(app), Auth: basic(writer), Body: importBody(`{"phone": "13612346688"}`)})
	if strings.Contains(string(res.Body), "6688") {
		t.Fatalf("answer holds the phone: %s", res.Body)
	}
	var a importAnswer
	if err := json.Unmarshal(res.Body, &a); err != nil || len(a.Users) != 1 {
		t.Fatalf("answer %s: %v", res.Body, err)
	}
}
