package tcapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"usercenter"
	"usercenter/tcapi"
	"usercenter/uctest"
)

// Black-box tests of bad input, over real HTTP against a real instance.
// Every request is correctly signed, so what is tested is the facade's
// answer to the input itself: HTTP 200, a JSON envelope
// {"Response":{"Error":{"Code","Message"},"RequestId"}} with the exact
// documented code, never a 500, never a panic and never a partial write.
//
// JSON bodies that the official SDK's CommonRequest can express are sent
// twice: through the SDK (which sees the code, message and RequestId as a
// user would) and raw (to check the status line and headers the SDK
// hides). Everything else is signed with uctest's independent TC3 signer.

// biResult is what the facade answered to a raw request.
type biResult struct {
	Status    int
	Header    http.Header
	Body      []byte
	Code      string
	Message   string
	RequestId string
}

var biClient = &http.Client{Timeout: 60 * time.Second}

// biRaw sends one TC3-signed request. query is the raw query string;
// contentType "" lets the signer pick its default.
func biRaw(t *testing.T, env *uctest.Env, key *usercenter.APIKey, method, action, query, contentType string, body []byte) biResult {
	t.Helper()
	u := env.URL + "/"
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", tcapi.Version)
	req.Header.Set("X-TC-Language", "en-US")
	uctest.TC3Signer{SecretID: key.SecretID, SecretKey: key.SecretKey, Time: env.Clock.Now()}.Sign(req, body)
	resp, err := biClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, action, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := biResult{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	var env1 struct {
		Response struct {
			Error *struct {
				Code    string
				Message string
			}
			RequestId string
		}
	}
	if err := json.Unmarshal(raw, &env1); err == nil {
		if env1.Response.Error != nil {
			r.Code, r.Message = env1.Response.Error.Code, env1.Response.Error.Message
		}
		r.RequestId = env1.Response.RequestId
	}
	return r
}

// biExpect asserts a raw answer: HTTP 200, JSON, the exact code, a
// message naming names, a RequestId matching X-Request-Id.
func biExpect(t *testing.T, r biResult, code string, names ...string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d, want 200; body %.300q", r.Status, r.Body)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
	}
	if r.Code != code {
		t.Fatalf("Code %q (%q), want %q; body %.300q", r.Code, r.Message, code, r.Body)
	}
	if r.Message == "" {
		t.Fatalf("%s with an empty Message", code)
	}
	for _, n := range names {
		if !strings.Contains(r.Message, n) {
			t.Fatalf("%s Message %q does not name %q", code, r.Message, n)
		}
	}
	if r.RequestId == "" || r.RequestId != r.Header.Get("X-Request-Id") {
		t.Fatalf("RequestId %q, X-Request-Id %q", r.RequestId, r.Header.Get("X-Request-Id"))
	}
}

// biExpectSDK asserts the same through the official SDK's view.
func biExpectSDK(t *testing.T, body []byte, err error, code string, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("SDK: want %s, got success %.300s", code, body)
	}
	var se *tcerr.TencentCloudSDKError
	if !errors.As(err, &se) {
		t.Fatalf("SDK: want %s, got %T %v", code, err, err)
	}
	if se.GetCode() != code {
		t.Fatalf("SDK: Code %q (%q), want %q", se.GetCode(), se.GetMessage(), code)
	}
	if se.GetMessage() == "" || se.GetRequestId() == "" {
		t.Fatalf("SDK: empty Message or RequestId: %v", se)
	}
	for _, n := range names {
		if !strings.Contains(se.GetMessage(), n) {
			t.Fatalf("SDK: %s Message %q does not name %q", code, se.GetMessage(), n)
		}
	}
}

// biNoIncidents checks the instance's log for panics and internal errors.
func biNoIncidents(t *testing.T, env *uctest.Env) {
	t.Helper()
	logs := env.Log.String()
	for _, bad := range []string{"panic serving request", `"result":"InternalError"`, `"result":"panic"`} {
		if strings.Contains(logs, bad) {
			i := strings.Index(logs, bad)
			t.Errorf("log contains %q: %.500s", bad, logs[max(0, i-300):])
		}
	}
}

func biJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func biUsers(n int, sdkAppID uint64, prefix string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"SdkAppId": sdkAppID, "OriginId": fmt.Sprintf("%s-%d", prefix, i)}
	}
	return out
}

// biRegister creates a user through the SDK and returns its UserId.
func biRegister(t *testing.T, sdk *uctest.SDK, sdkAppID uint64, originID string) string {
	t.Helper()
	body, err := sdk.Call("RegisterUser", map[string]any{"SdkAppId": sdkAppID, "OriginId": originID})
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Response struct{ UserId string } }
	if err := json.Unmarshal(body, &r); err != nil || r.Response.UserId == "" {
		t.Fatalf("%s: %v", body, err)
	}
	return r.Response.UserId
}

// biTotal is DescribeSdkAppIdUsers' Total for an app.
func biTotal(t *testing.T, sdk *uctest.SDK, sdkAppID uint64) int {
	t.Helper()
	body, err := sdk.Call("DescribeSdkAppIdUsers", map[string]any{"SdkAppId": sdkAppID, "Limit": 1000})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Response struct {
			Total int
			Users []struct{ OriginId string }
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Response.Users) != r.Response.Total {
		t.Fatalf("Total %d but %d users listed", r.Response.Total, len(r.Response.Users))
	}
	return r.Response.Total
}

// TestBadInputJSON is the table of malformed JSON-body requests.
func TestBadInputJSON(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	// Requests that might wrongly succeed and write go to a scratch app, so
	// that a bug here cannot hide another. One key serves both apps.
	scratch, _ := env.NewApp(t, "scratch", 1000)
	key := env.NewKey(t, []uint64{app, scratch.SdkAppID}, env.Key.Permissions...)
	sdk := env.SDK(t, key.SecretID, key.SecretKey, uctest.SDKOptions{})
	user := biRegister(t, sdk, app, "real-user")
	ghost := "2CvDgjRNjylAsBZB4iZc0F6koXe" // a well-formed KSUID nobody registered
	long := func(s string, n int) string { return strings.Repeat(s, n) }

	type jsonCase struct {
		name   string
		action string
		params map[string]any // JSON body, sent through the SDK and raw
		raw    string         // raw body, when params is nil
		code   string
		names  []string
	}
	cases := []jsonCase{
		// Malformed JSON and non-objects (raw only: the SDK cannot send them).
		{name: "unterminated object", action: "RegisterUser", raw: `{"SdkAppId":`, code: "InvalidParameter"},
		{name: "single quotes", action: "RegisterUser", raw: `{'SdkAppId':1}`, code: "InvalidParameter"},
		{name: "trailing comma", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d,}`, app), code: "InvalidParameter"},
		{name: "empty body", action: "RegisterUser", raw: ``, code: "InvalidParameter"},
		{name: "array body", action: "RegisterUser", raw: fmt.Sprintf(`[{"SdkAppId":%d}]`, app), code: "InvalidParameter"},
		{name: "string body", action: "RegisterUser", raw: `"hello"`, code: "InvalidParameter"},
		{name: "number body", action: "RegisterUser", raw: `42`, code: "InvalidParameter"},
		{name: "null body", action: "DescribeUser", raw: `null`, code: "InvalidParameter"},
		{name: "form body", action: "RegisterUser", raw: fmt.Sprintf(`SdkAppId=%d&Name=x`, app), code: "InvalidParameter"},
		{name: "trailing garbage", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d} x`, app), code: "InvalidParameter"},
		{name: "two objects", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d}{"SdkAppId":%d}`, scratch.SdkAppID, scratch.SdkAppID), code: "InvalidParameter"},
		// A stray '}' or ']' after an otherwise valid object is easy to
		// overlook as trailing data; if it were let through, the request
		// would register a user in the scratch app.
		{name: "trailing close brace", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d,"OriginId":"brace"}}`, scratch.SdkAppID), code: "InvalidParameter", names: []string{"after"}},
		{name: "trailing close bracket", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d,"OriginId":"bracket"}]`, scratch.SdkAppID), code: "InvalidParameter", names: []string{"after"}},
		// encoding/json would keep the last of two equal keys; the request
		// must be refused rather than register a user with either value.
		{name: "duplicate key", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d,"OriginId":"dup-1","OriginId":"dup-2"}`, scratch.SdkAppID), code: "InvalidParameter", names: []string{"OriginId"}},
		{name: "deep nesting", action: "RegisterUser", raw: fmt.Sprintf(`{"SdkAppId":%d,"Name":%s1%s}`, app, long("[", 5000), long("]", 5000)), code: "InvalidParameter"},
		{name: "nesting past the limit", action: "BatchRegister", raw: fmt.Sprintf(`{"Users":[{"SdkAppId":%d,"Name":%s"x"%s}]}`, app, long(`{"a":`, 7), long("}", 7)), code: "InvalidParameter", names: []string{"deep"}},

		// Non-UTF-8 bytes in values, keys and nested values (raw only).
		{name: "non-UTF-8 value", action: "RegisterUser", raw: fmt.Sprintf("{\"SdkAppId\":%d,\"Name\":\"caf\xe9\"}", app), code: "InvalidParameter", names: []string{"UTF-8"}},
		{name: "non-UTF-8 key", action: "RegisterUser", raw: fmt.Sprintf("{\"SdkAppId\":%d,\"N\xffme\":\"x\"}", app), code: "InvalidParameter", names: []string{"UTF-8"}},
		{name: "non-UTF-8 nested", action: "BatchRegister", raw: fmt.Sprintf("{\"Users\":[{\"SdkAppId\":%d,\"OriginId\":\"\xc0\xaf\"}]}", app), code: "InvalidParameter", names: []string{"UTF-8"}},
		{name: "non-UTF-8 UserId", action: "LoginUser", raw: "{\"UserId\":\"\xed\xa0\x80\"}", code: "InvalidParameter", names: []string{"UTF-8"}},

		// Wrong types.
		{name: "string for SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": "abc"}, code: "InvalidParameter", names: []string{"SdkAppId"}},
		// A quoted number is a JSON string, not an integer, even when its
		// text names a real app; accepting it would register a user there.
		{name: "numeric string for SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": fmt.Sprint(scratch.SdkAppID), "OriginId": "quoted"}, code: "InvalidParameter", names: []string{"SdkAppId"}},
		{name: "bool for SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": true}, code: "InvalidParameter", names: []string{"SdkAppId"}},
		{name: "float SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": 1.5}, code: "InvalidParameter", names: []string{"SdkAppId"}},
		{name: "exponent SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": json.Number("1e3")}, code: "InvalidParameter", names: []string{"SdkAppId"}},
		{name: "negative SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": -1}, code: "InvalidParameter", names: []string{"SdkAppId"}},
		{name: "overflowing SdkAppId", action: "RegisterUser", raw: `{"SdkAppId":18446744073709551616}`, code: "InvalidParameterValue", names: []string{"SdkAppId"}},
		{name: "null SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": nil, "Name": "x"}, code: "MissingParameter", names: []string{"SdkAppId"}},
		{name: "missing SdkAppId", action: "LoginOriginId", params: map[string]any{"OriginId": "x"}, code: "MissingParameter", names: []string{"SdkAppId"}},
		{name: "number for Name", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Name": 5}, code: "InvalidParameter", names: []string{"Name"}},
		{name: "list for Name", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Name": []any{"a"}}, code: "InvalidParameter", names: []string{"Name"}},
		{name: "object for Users", action: "BatchRegister", params: map[string]any{"Users": map[string]any{"SdkAppId": app}}, code: "InvalidParameter", names: []string{"Users"}},
		{name: "list for user object", action: "BatchRegister", params: map[string]any{"Users": []any{[]any{map[string]any{"SdkAppId": app}}}}, code: "InvalidParameter", names: []string{"Users.0"}},
		{name: "bool for UserId", action: "LoginUser", params: map[string]any{"UserId": true}, code: "InvalidParameter", names: []string{"UserId"}},
		{name: "float Page", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Page": 1.5}, code: "InvalidParameter", names: []string{"Page"}},
		{name: "string Limit", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Limit": "ten"}, code: "InvalidParameter", names: []string{"Limit"}},
		{name: "overflowing Page", action: "DescribeSdkAppIdUsers", raw: fmt.Sprintf(`{"SdkAppId":%d,"Page":9223372036854775808}`, app), code: "InvalidParameterValue", names: []string{"Page"}},

		// Unknown keys.
		{name: "unknown top-level key", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Bogus": 1}, code: "UnknownParameter", names: []string{"Bogus"}},
		{name: "wrong-case key", action: "LoginUser", params: map[string]any{"UserId": user, "userid": user}, code: "UnknownParameter", names: []string{"userid"}},
		{name: "unknown nested key", action: "BatchRegister", params: map[string]any{"Users": []any{map[string]any{"SdkAppId": app}, map[string]any{"SdkAppId": app, "Bogus": "x"}}}, code: "UnknownParameter", names: []string{"Users.1.Bogus"}},
		{name: "unknown key on empty action", action: "DescribeUser", params: map[string]any{"UserId": user, "Nickname": "x"}, code: "UnknownParameter", names: []string{"Nickname"}},

		// Name (nickname): at most 128 characters, no control characters.
		{name: "Name 129 chars", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Name": long("a", 129)}, code: "InvalidParameterValue", names: []string{"Name"}},
		{name: "Name 129 CJK chars", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Name": long("名", 129)}, code: "InvalidParameterValue", names: []string{"Name"}},
		{name: "Name 100k chars", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Name": long("a", 100_000)}, code: "InvalidParameterValue", names: []string{"Name"}},
		{name: "Name control char", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Name": "a\u0007b"}, code: "InvalidParameterValue", names: []string{"Name"}},
		{name: "Nickname 129 chars", action: "ModifyUserProfile", params: map[string]any{"UserId": user, "Nickname": long("b", 129)}, code: "InvalidParameterValue", names: []string{"Nickname"}},
		{name: "batch Name too long", action: "BatchRegister", params: map[string]any{"Users": []any{map[string]any{"SdkAppId": app, "Name": long("c", 129)}}}, code: "InvalidParameterValue", names: []string{"Users.0.Name"}},

		// OriginId: at most 128 bytes, printable, no spaces.
		{name: "OriginId 129 bytes", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "OriginId": long("o", 129)}, code: "InvalidParameterValue", names: []string{"OriginId"}},
		{name: "OriginId 43 CJK chars", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "OriginId": long("源", 43)}, code: "InvalidParameterValue", names: []string{"OriginId"}},
		{name: "OriginId with space", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "OriginId": "a b"}, code: "InvalidParameterValue", names: []string{"OriginId"}},
		{name: "OriginId NUL", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "OriginId": "a\x00b"}, code: "InvalidParameterValue", names: []string{"OriginId"}},
		{name: "LoginOriginId empty", action: "LoginOriginId", params: map[string]any{"SdkAppId": app, "OriginId": ""}, code: "InvalidParameterValue", names: []string{"OriginId"}},
		{name: "LoginOriginId too long", action: "LoginOriginId", params: map[string]any{"SdkAppId": app, "OriginId": long("o", 129)}, code: "InvalidParameterValue", names: []string{"OriginId"}},
		{name: "DescribeUser OriginId too long", action: "DescribeUser", params: map[string]any{"OriginId": long("o", 129)}, code: "InvalidParameterValue", names: []string{"OriginId"}},

		// Avatar: an absolute http(s) URL of at most 1024 bytes.
		{name: "Avatar not a URL", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "not a url"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Avatar ftp", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "ftp://example.com/a.png"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Avatar javascript", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "javascript:alert(1)"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Avatar data URL", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "data:image/png;base64,AAAA"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Avatar no host", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "http:///a.png"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Avatar scheme-relative", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "//example.com/a.png"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Avatar 1025 bytes", action: "RegisterUser", params: map[string]any{"SdkAppId": app, "Avatar": "https://example.com/" + long("a", 1025-len("https://example.com/"))}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "Modify Avatar javascript", action: "ModifyUserProfile", params: map[string]any{"UserId": user, "Avatar": "javascript:alert(document.cookie)"}, code: "InvalidParameterValue", names: []string{"Avatar"}},
		{name: "batch Avatar ftp", action: "BatchRegister", params: map[string]any{"Users": []any{map[string]any{"SdkAppId": app, "Avatar": "ftp://x/y"}}}, code: "InvalidParameterValue", names: []string{"Users.0.Avatar"}},

		// UserId.
		{name: "LoginUser empty UserId", action: "LoginUser", params: map[string]any{"UserId": ""}, code: "InvalidParameterValue", names: []string{"UserId"}},
		{name: "LoginUser 65-char UserId", action: "LoginUser", params: map[string]any{"UserId": long("A", 65)}, code: "InvalidParameterValue", names: []string{"UserId"}},
		{name: "LoginUser unknown UserId", action: "LoginUser", params: map[string]any{"UserId": ghost}, code: "ResourceNotFound.User"},
		{name: "LoginUser malformed 27 chars", action: "LoginUser", params: map[string]any{"UserId": long("!", 27)}, code: "ResourceNotFound.User"},
		{name: "LoginUser missing UserId", action: "LoginUser", params: map[string]any{}, code: "MissingParameter", names: []string{"UserId"}},
		{name: "DescribeUser nothing", action: "DescribeUser", params: map[string]any{"UserId": "", "OriginId": ""}, code: "MissingParameter", names: []string{"UserId"}},
		{name: "DescribeUser 65-char UserId", action: "DescribeUser", params: map[string]any{"UserId": long("z", 65)}, code: "InvalidParameterValue", names: []string{"UserId"}},
		{name: "DescribeUserDetail unknown", action: "DescribeUserDetail", params: map[string]any{"UserId": ghost}, code: "ResourceNotFound.User"},
		{name: "ModifyUserProfile unknown", action: "ModifyUserProfile", params: map[string]any{"UserId": ghost, "Nickname": "n"}, code: "ResourceNotFound.User"},
		{name: "DeleteUser empty", action: "DeleteUser", params: map[string]any{"UserId": ""}, code: "InvalidParameterValue", names: []string{"UserId"}},
		{name: "DeleteUser 65-char", action: "DeleteUser", params: map[string]any{"UserId": long("9", 65)}, code: "InvalidParameterValue", names: []string{"UserId"}},
		{name: "DeleteUser unknown", action: "DeleteUser", params: map[string]any{"UserId": ghost}, code: "ResourceNotFound.User"},

		// BatchRegister sizes.
		{name: "BatchRegister 0 users", action: "BatchRegister", params: map[string]any{"Users": []any{}}, code: "InvalidParameterValue", names: []string{"Users"}},
		{name: "BatchRegister 1001 users", action: "BatchRegister", params: map[string]any{"Users": biUsers(1001, app, "big")}, code: "InvalidParameterValue", names: []string{"Users"}},
		{name: "BatchRegister missing Users", action: "BatchRegister", params: map[string]any{}, code: "MissingParameter", names: []string{"Users"}},
		{name: "BatchRegister null user", action: "BatchRegister", params: map[string]any{"Users": []any{nil}}, code: "InvalidParameter", names: []string{"Users.0"}},

		// Paging.
		{name: "Page 0", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Page": 0}, code: "InvalidParameterValue", names: []string{"Page"}},
		{name: "Page negative", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Page": -1}, code: "InvalidParameterValue", names: []string{"Page"}},
		{name: "Page huge", action: "DescribeSdkAppIdUsers", raw: fmt.Sprintf(`{"SdkAppId":%d,"Page":9223372036854775807}`, app), code: "InvalidParameterValue", names: []string{"Page"}},
		{name: "Page past 2^31 rows", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Page": 1 << 30, "Limit": 1000}, code: "InvalidParameterValue", names: []string{"Page"}},
		{name: "Limit 0", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Limit": 0}, code: "InvalidParameterValue", names: []string{"Limit"}},
		{name: "Limit 1001", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Limit": 1001}, code: "InvalidParameterValue", names: []string{"Limit"}},
		{name: "Limit negative", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": app, "Limit": -20}, code: "InvalidParameterValue", names: []string{"Limit"}},
		{name: "Limit min int64", action: "DescribeSdkAppIdUsers", raw: fmt.Sprintf(`{"SdkAppId":%d,"Limit":-9223372036854775808}`, app), code: "InvalidParameterValue", names: []string{"Limit"}},

		// Apps.
		{name: "unknown SdkAppId", action: "RegisterUser", params: map[string]any{"SdkAppId": 1}, code: "InvalidParameter.SdkAppId"},
		{name: "max SdkAppId", action: "DescribeSdkAppIdUsers", params: map[string]any{"SdkAppId": uint64(1<<64 - 1)}, code: "InvalidParameter.SdkAppId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.raw)
			if c.params != nil {
				body = biJSON(t, c.params)
				out, err := sdk.Call(c.action, c.params)
				biExpectSDK(t, out, err, c.code, c.names...)
			}
			biExpect(t, biRaw(t, env, key, http.MethodPost, c.action, "", "", body), c.code, c.names...)
		})
	}
	// The message must say what is wrong with the value: a Page too large
	// is refused with the whole valid range, not as if it were too small.
	t.Run("Page above 2^31 message", func(t *testing.T) {
		_, err := sdk.Call("DescribeSdkAppIdUsers", map[string]any{"SdkAppId": app, "Page": int64(1)<<31 + 1})
		biExpectSDK(t, nil, err, "InvalidParameterValue", "Page must be between 1 and 2147483648")
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) && strings.Contains(se.GetMessage(), "at least 1") {
			t.Errorf("Page=%d refused with the misleading message %q", int64(1)<<31+1, se.GetMessage())
		}
	})

	// None of the above may have written anything: the real user is the
	// app's only one, the scratch app has none.
	if n := biTotal(t, sdk, app); n != 1 {
		t.Errorf("app %d has %d users after bad input, want 1", app, n)
	}
	if n := biTotal(t, sdk, scratch.SdkAppID); n != 0 {
		t.Errorf("scratch app has %d users after bad input, want 0 (a request aimed at it was wrongly accepted)", n)
	}
	biNoIncidents(t, env)
}

// TestBadInputBoundaries checks that the limits are where the documentation
// puts them: the last valid value is accepted.
func TestBadInputBoundaries(t *testing.T) {
	env := uctest.New(t)
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	app := env.App.SdkAppID
	ok := []struct {
		action string
		params map[string]any
	}{
		// Empty optional strings are documented as allowed.
		{"RegisterUser", map[string]any{"SdkAppId": app, "Name": "", "OriginId": "", "Avatar": ""}},
		{"RegisterUser", map[string]any{"SdkAppId": app, "Name": strings.Repeat("名", 128), "OriginId": strings.Repeat("o", 128), "Avatar": "https://example.com/" + strings.Repeat("a", 1024-len("https://example.com/"))}},
		{"BatchRegister", map[string]any{"Users": biUsers(1000, app, "max")}},
		{"DescribeSdkAppIdUsers", map[string]any{"SdkAppId": app, "Page": 1, "Limit": 1000}},
		{"DescribeSdkAppIdUsers", map[string]any{"SdkAppId": app, "Page": 1 << 20, "Limit": 1}},
	}
	for _, c := range ok {
		if out, err := sdk.Call(c.action, c.params); err != nil {
			t.Errorf("%s: %v", c.action, err)
		} else if !json.Valid(out) {
			t.Errorf("%s: %s", c.action, out)
		}
	}
	biNoIncidents(t, env)
}

// TestBadInputFlat sends flattened parameters in a TC3-signed GET query.
func TestBadInputFlat(t *testing.T) {
	env := uctest.New(t)
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	app := fmt.Sprint(env.App.SdkAppID)
	cases := []struct {
		name, action, query, code string
		names                     []string
	}{
		{"not a number", "RegisterUser", "SdkAppId=abc", "InvalidParameter", []string{"SdkAppId"}},
		{"float", "RegisterUser", "SdkAppId=1.5", "InvalidParameter", []string{"SdkAppId"}},
		{"negative uint64", "RegisterUser", "SdkAppId=-1", "InvalidParameter", []string{"SdkAppId"}},
		{"overflow", "RegisterUser", "SdkAppId=18446744073709551616", "InvalidParameterValue", []string{"SdkAppId"}},
		{"missing", "RegisterUser", "Name=x", "MissingParameter", []string{"SdkAppId"}},
		{"unknown", "RegisterUser", "SdkAppId=" + app + "&Bogus=1", "UnknownParameter", []string{"Bogus"}},
		{"unknown nested", "BatchRegister", "Users.0.SdkAppId=" + app + "&Users.0.Bogus=1", "UnknownParameter", []string{"Users.0.Bogus"}},
		{"index gap", "BatchRegister", "Users.1.SdkAppId=" + app, "InvalidParameter", []string{"Users.1"}},
		{"index not numeric", "BatchRegister", "Users.x.SdkAppId=" + app, "InvalidParameter", []string{"Users.x"}},
		{"index leading zero", "BatchRegister", "Users.01.SdkAppId=" + app, "InvalidParameter", []string{"Users.01"}},
		{"empty segment", "BatchRegister", "Users..SdkAppId=" + app, "UnknownParameter", []string{"Users..SdkAppId"}},
		{"duplicated key", "RegisterUser", "SdkAppId=" + app + "&Name=a&Name=b", "InvalidParameter", []string{"Name"}},
		{"scalar for list", "BatchRegister", "Users=x", "InvalidParameter", []string{"Users"}},
		{"too deep", "BatchRegister", "Users.0.Name.a.b.c.d.e.f=x", "InvalidParameter", []string{"deep"}},
		{"non-UTF-8 value", "RegisterUser", "SdkAppId=" + app + "&Name=caf%E9", "InvalidParameter", []string{"Name", "UTF-8"}},
		{"non-UTF-8 key", "RegisterUser", "SdkAppId=" + app + "&%FF=1", "InvalidParameter", []string{"UTF-8"}},
		{"bad percent-encoding", "RegisterUser", "SdkAppId=" + app + "&Name=%ZZ", "InvalidParameter", nil},
		{"Name too long", "RegisterUser", "SdkAppId=" + app + "&Name=" + strings.Repeat("a", 129), "InvalidParameterValue", []string{"Name"}},
		{"Avatar javascript", "RegisterUser", "SdkAppId=" + app + "&Avatar=javascript%3Aalert(1)", "InvalidParameterValue", []string{"Avatar"}},
		{"Page 0", "DescribeSdkAppIdUsers", "SdkAppId=" + app + "&Page=0", "InvalidParameterValue", []string{"Page"}},
		{"Limit 1001", "DescribeSdkAppIdUsers", "SdkAppId=" + app + "&Limit=1001", "InvalidParameterValue", []string{"Limit"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			biExpect(t, biRaw(t, env, env.Key, http.MethodGet, c.action, c.query, "", nil), c.code, c.names...)
		})
	}

	// The official SDK's own flattened encodings: TC3 GET and signature v1
	// (form POST and GET) carry the same rules.
	for _, o := range []uctest.SDKOptions{{Method: "GET"}, {SignMethod: uctest.HmacSHA256}, {SignMethod: uctest.HmacSHA1, Method: "GET"}} {
		s := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, o)
		r := uctest.NewRegisterUser()
		r.SdkAppId, r.Name = uctest.P(env.App.SdkAppID), uctest.P(strings.Repeat("n", 129))
		out, err := s.Send(r)
		biExpectSDK(t, out, err, "InvalidParameterValue", "Name")
		r = uctest.NewRegisterUser()
		r.SdkAppId, r.Avatar = uctest.P(env.App.SdkAppID), uctest.P("ftp://x/y")
		out, err = s.Send(r)
		biExpectSDK(t, out, err, "InvalidParameterValue", "Avatar")
		b := uctest.NewBatchRegister()
		b.Users = []*uctest.BatchUserRequest{{SdkAppId: uctest.P(env.App.SdkAppID)}, {SdkAppId: uctest.P(env.App.SdkAppID), OriginId: uctest.P("x y")}}
		out, err = s.Send(b)
		biExpectSDK(t, out, err, "InvalidParameterValue", "Users.1.OriginId")
		l := uctest.NewDescribeSdkAppIdUsers()
		l.SdkAppId, l.Limit = uctest.P(env.App.SdkAppID), uctest.P(int64(-1))
		out, err = s.Send(l)
		biExpectSDK(t, out, err, "InvalidParameterValue", "Limit")
	}
	if n := biTotal(t, sdk, env.App.SdkAppID); n != 0 {
		t.Errorf("%d users written by bad input", n)
	}
	biNoIncidents(t, env)
}

// TestBadInputTransport covers sizes, methods and content types.
func TestBadInputTransport(t *testing.T) {
	env := uctest.New(t)
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	app := env.App.SdkAppID

	// A body of exactly MaxBodyBytes is read (and then refused for what it
	// says); one byte more is RequestSizeLimitExceeded.
	sized := func(n int) []byte {
		head := fmt.Sprintf(`{"SdkAppId":%d,"Name":"`, app)
		tail := `"}`
		return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
	}
	t.Run("body at the limit", func(t *testing.T) {
		biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", "", sized(tcapi.MaxBodyBytes)), "InvalidParameterValue", "Name")
	})
	t.Run("body over the limit", func(t *testing.T) {
		biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", "", sized(tcapi.MaxBodyBytes+1)), "RequestSizeLimitExceeded")
	})
	t.Run("body well over the limit", func(t *testing.T) {
		biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", "", sized(tcapi.MaxBodyBytes+64<<10)), "RequestSizeLimitExceeded")
	})
	t.Run("body over the limit via SDK", func(t *testing.T) {
		out, err := sdk.Call("RegisterUser", map[string]any{"SdkAppId": app, "Name": strings.Repeat("x", tcapi.MaxBodyBytes)})
		biExpectSDK(t, out, err, "RequestSizeLimitExceeded")
	})

	// A query string of exactly MaxQueryBytes is read; one byte more is not.
	query := func(n int) string {
		q := fmt.Sprintf("SdkAppId=%d&Name=", app)
		return q + strings.Repeat("q", n-len(q))
	}
	t.Run("query at the limit", func(t *testing.T) {
		biExpect(t, biRaw(t, env, env.Key, http.MethodGet, "RegisterUser", query(tcapi.MaxQueryBytes), "", nil), "InvalidParameterValue", "Name")
	})
	t.Run("query over the limit", func(t *testing.T) {
		biExpect(t, biRaw(t, env, env.Key, http.MethodGet, "RegisterUser", query(tcapi.MaxQueryBytes+1), "", nil), "RequestSizeLimitExceeded")
	})
	t.Run("query over the limit on POST", func(t *testing.T) {
		biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", query(tcapi.MaxQueryBytes+1), "", biJSON(t, map[string]any{"SdkAppId": app})), "RequestSizeLimitExceeded")
	})

	// Methods other than GET and POST.
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "PROPFIND"} {
		t.Run("method "+m, func(t *testing.T) {
			body := biJSON(t, map[string]any{"SdkAppId": app, "OriginId": "method-" + m})
			biExpect(t, biRaw(t, env, env.Key, m, "RegisterUser", "", "application/json", body), "UnsupportedProtocol")
		})
	}

	// Content types. TC3 POST bodies are JSON; Tencent Cloud documents
	// application/x-www-form-urlencoded as signature v1 only and
	// multipart/form-data as TC3 for a few upload APIs.
	t.Run("form body under TC3", func(t *testing.T) {
		body := []byte(fmt.Sprintf("SdkAppId=%d&Name=form", app))
		biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", "application/x-www-form-urlencoded", body), "InvalidParameter")
	})
	t.Run("multipart body under TC3", func(t *testing.T) {
		body := []byte("--b\r\nContent-Disposition: form-data; name=\"SdkAppId\"\r\n\r\n1\r\n--b--\r\n")
		biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", "multipart/form-data; boundary=b", body), "InvalidParameter")
	})
	t.Run("octet-stream via SDK", func(t *testing.T) {
		// The SDK's own way to send raw bytes, here not even UTF-8.
		req := tchttp.NewCommonRequest("lcic", tcapi.Version, "RegisterUser")
		req.SetOctetStreamParameters(nil, []byte("\xff\xfe{\x00}\x00"))
		out, err := sdk.Send(req)
		biExpectSDK(t, out, err, "InvalidParameter")
	})
	// JSON bytes labelled as something else. Tencent Cloud requires
	// application/json for a TC3 POST body, so the facade refuses any
	// other label rather than guess what the client meant.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml"} {
		t.Run("JSON labelled "+ct, func(t *testing.T) {
			body := biJSON(t, map[string]any{"SdkAppId": app, "OriginId": "ct-" + strings.ReplaceAll(ct, "/", "-")})
			biExpect(t, biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", ct, body), "InvalidParameter", "application/json")
		})
	}
	// Media-type parameters and case do not change the type.
	for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON"} {
		t.Run("JSON labelled "+ct, func(t *testing.T) {
			body := biJSON(t, map[string]any{"SdkAppId": app, "OriginId": "ct-ok-" + fmt.Sprint(len(ct))})
			r := biRaw(t, env, env.Key, http.MethodPost, "RegisterUser", "", ct, body)
			if r.Status != http.StatusOK || r.Code != "" {
				t.Fatalf("HTTP %d, Code %q (%q): want success", r.Status, r.Code, r.Message)
			}
		})
	}
	// None of the mislabelled requests may have registered a user.
	if n := biTotal(t, sdk, app); n != 2 {
		t.Errorf("%d users after the Content-Type cases, want 2 (the correctly labelled ones)", n)
	}
	biNoIncidents(t, env)
}

// TestBadInputNoPartialWrite: a batch with one bad user among good ones
// writes nothing, whatever the failure and wherever the bad user is.
func TestBadInputNoPartialWrite(t *testing.T) {
	env := uctest.New(t)
	// The batch app's own key is scoped to it alone, so a user of the
	// instance's first app is refused.
	app, appKey := env.NewApp(t, "batch", 1000)
	sdk := env.SDK(t, appKey.SecretID, appKey.SecretKey, uctest.SDKOptions{})
	other := env.App
	good := func(i int) map[string]any {
		return map[string]any{"SdkAppId": app.SdkAppID, "Name": fmt.Sprint("good ", i), "OriginId": fmt.Sprint("good-", i), "Avatar": "https://example.com/a.png"}
	}
	with := func(bad map[string]any, at int) []any {
		users := []any{good(0), good(1), good(2)}
		return append(users[:at], append([]any{bad}, users[at:]...)...)
	}
	cases := []struct {
		name  string
		users []any
		code  string
		names []string
	}{
		{"bad Avatar last", with(map[string]any{"SdkAppId": app.SdkAppID, "Avatar": "javascript:alert(1)"}, 3), "InvalidParameterValue", []string{"Users.3.Avatar"}},
		{"bad Name first", with(map[string]any{"SdkAppId": app.SdkAppID, "Name": strings.Repeat("n", 129)}, 0), "InvalidParameterValue", []string{"Users.0.Name"}},
		{"bad OriginId middle", with(map[string]any{"SdkAppId": app.SdkAppID, "OriginId": strings.Repeat("o", 129)}, 2), "InvalidParameterValue", []string{"Users.2.OriginId"}},
		{"wrong type", with(map[string]any{"SdkAppId": app.SdkAppID, "Name": 7}, 1), "InvalidParameter", []string{"Users.1.Name"}},
		{"unknown key", with(map[string]any{"SdkAppId": app.SdkAppID, "Nick": "x"}, 3), "UnknownParameter", []string{"Users.3.Nick"}},
		{"missing SdkAppId", with(map[string]any{"Name": "x"}, 3), "MissingParameter", []string{"Users.3.SdkAppId"}},
		{"unknown app", with(map[string]any{"SdkAppId": 1}, 3), "InvalidParameter.SdkAppId", nil},
		// The Go SDK sends a json.Number as a quoted string, which is not an integer.
		{"overflowing SdkAppId", with(map[string]any{"SdkAppId": json.Number("18446744073709551616")}, 3), "InvalidParameter", []string{"Users.3.SdkAppId"}},
		{"app of another key", with(map[string]any{"SdkAppId": other.SdkAppID}, 3), "UnauthorizedOperation", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := map[string]any{"Users": c.users}
			out, err := sdk.Call("BatchRegister", params)
			biExpectSDK(t, out, err, c.code, c.names...)
			if n := biTotal(t, sdk, app.SdkAppID); n != 0 {
				t.Fatalf("%d users written by a refused batch", n)
			}
			for i := range 3 {
				_, err := sdk.Call("LoginOriginId", map[string]any{"SdkAppId": app.SdkAppID, "OriginId": fmt.Sprint("good-", i)})
				if uctest.Code(err) != "ResourceNotFound.User" {
					t.Fatalf("good-%d: %v", i, err)
				}
			}
		})
	}
	if n := biTotal(t, env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{}), other.SdkAppID); n != 0 {
		t.Errorf("other app has %d users", n)
	}

	// A refused batch must not change users that exist either.
	if _, err := sdk.Call("BatchRegister", map[string]any{"Users": []any{good(0), good(1), good(2)}}); err != nil {
		t.Fatal(err)
	}
	changed := []any{
		map[string]any{"SdkAppId": app.SdkAppID, "Name": "changed", "OriginId": "good-0"},
		map[string]any{"SdkAppId": app.SdkAppID, "Name": "changed", "OriginId": "good-1"},
		map[string]any{"SdkAppId": app.SdkAppID, "Name": "changed", "OriginId": "new-one"},
		map[string]any{"SdkAppId": app.SdkAppID, "Avatar": "ftp://nope"},
	}
	out, err := sdk.Call("BatchRegister", map[string]any{"Users": changed})
	biExpectSDK(t, out, err, "InvalidParameterValue", "Users.3.Avatar")
	if n := biTotal(t, sdk, app.SdkAppID); n != 3 {
		t.Fatalf("%d users, want 3", n)
	}
	for i := range 2 {
		out, err := sdk.Call("DescribeUserDetail", map[string]any{"OriginId": fmt.Sprint("good-", i)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), fmt.Sprintf(`"Name":"good %d"`, i)) {
			t.Fatalf("user good-%d changed by a refused batch: %s", i, out)
		}
	}

	// RegisterUser refused for input writes nothing either.
	for _, p := range []map[string]any{
		{"SdkAppId": app.SdkAppID, "OriginId": "r1", "Avatar": "javascript:x"},
		{"SdkAppId": app.SdkAppID, "OriginId": "r2", "Name": strings.Repeat("n", 129)},
		{"SdkAppId": app.SdkAppID, "OriginId": "r3", "Bogus": 1},
	} {
		if _, err := sdk.Call("RegisterUser", p); err == nil {
			t.Fatalf("%v accepted", p)
		}
	}
	// A refused ModifyUserProfile changes neither field.
	out, err = sdk.Call("DescribeUser", map[string]any{"OriginId": "good-2"})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Response struct{ UserId, Name, Avatar string }
	}
	json.Unmarshal(out, &d)
	_, err = sdk.Call("ModifyUserProfile", map[string]any{"UserId": d.Response.UserId, "Nickname": "fine", "Avatar": "ftp://nope"})
	if uctest.Code(err) != "InvalidParameterValue" {
		t.Fatalf("%v", err)
	}
	out, _ = sdk.Call("DescribeUser", map[string]any{"UserId": d.Response.UserId})
	var d2 struct{ Response struct{ Name, Avatar string } }
	json.Unmarshal(out, &d2)
	if d2.Response.Name != d.Response.Name || d2.Response.Avatar != d.Response.Avatar {
		t.Fatalf("refused ModifyUserProfile changed %+v to %+v", d.Response, d2.Response)
	}
	if n := biTotal(t, sdk, app.SdkAppID); n != 3 {
		t.Fatalf("%d users, want 3", n)
	}
	biNoIncidents(t, env)
}

// TestBadInputQueryOnPOST: a TC3 POST carries its parameters in the body
// and signs an empty canonical query; a query string added beside it is
// therefore unsigned and must not smuggle parameters in.
func TestBadInputQueryOnPOST(t *testing.T) {
	env := uctest.New(t)
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	user := biRegister(t, sdk, env.App.SdkAppID, "q")
	for _, c := range []struct{ action, body, query, code string }{
		{"LoginUser", `{}`, url.Values{"UserId": {user}}.Encode(), "MissingParameter"},
		{"DeleteUser", `{}`, url.Values{"UserId": {user}}.Encode(), "MissingParameter"},
		{"RegisterUser", fmt.Sprintf(`{"SdkAppId":%d}`, env.App.SdkAppID), "Avatar=javascript%3Ax&Bogus=1", ""},
	} {
		req, err := http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-TC-Action", c.action)
		req.Header.Set("X-TC-Version", tcapi.Version)
		uctest.TC3Signer{SecretID: env.Key.SecretID, SecretKey: env.Key.SecretKey, Time: env.Clock.Now()}.Sign(req, []byte(c.body))
		req.URL.RawQuery = c.query
		resp, err := biClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Response struct {
				Error  *struct{ Code, Message string }
				Avatar string
			}
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &r) != nil {
			t.Fatalf("%s: HTTP %d %s", c.action, resp.StatusCode, raw)
		}
		got := ""
		if r.Response.Error != nil {
			got = r.Response.Error.Code
		}
		if got != c.code {
			t.Errorf("%s with query %q: code %q, want %q: %s", c.action, c.query, got, c.code, raw)
		}
	}
	// The user is still there, untouched by the unsigned query.
	if _, err := sdk.Call("DescribeUser", map[string]any{"UserId": user}); err != nil {
		t.Fatal(err)
	}
	biNoIncidents(t, env)
}
