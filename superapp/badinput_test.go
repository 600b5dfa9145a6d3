package superapp_test

import (
	"strings"
	"testing"
)

// TestBadInput feeds malformed requests to every endpoint: none gives a
// 500, protocol errors are 4xx in the envelope, and a parameter of the
// wrong type gets the return code of a malformed value.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	u := quote(f.full)
	type tc struct {
		name     string
		endpoint string
		body     *string
		query    string
		status   int
		code     string
	}
	s := func(v string) *string { return &v }
	deep := `{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "}"
	cases := []tc{
		{"not JSON", "checkUser", s(`{not json`), "", 400, "400"},
		{"truncated", "checkUser", s(`{"UserId":`), "", 400, "400"},
		{"array", "checkUser", s(`[` + u + `]`), "", 400, "400"},
		{"string", "checkUser", s(u), "", 400, "400"},
		{"null body", "checkUser", s(`null`), "", 400, "400"},
		{"number body", "checkUser", s(`12`), "", 400, "400"},
		{"trailing data", "checkUser", s(`{"UserId":` + u + `} {}`), "", 400, "400"},
		{"trailing garbage", "checkUser", s(`{"UserId":` + u + `}x`), "", 400, "400"},
		{"duplicate key", "checkUser", s(`{"UserId":` + u + `,"UserId":"x"}`), "", 400, "400"},
		{"duplicate key in another case", "checkUser", s(`{"UserId":` + u + `,"userid":` + u + `}`), "", 400, "400"},
		{"byte order mark", "checkUser", s("\ufeff{\"UserId\":" + u + "}"), "", 400, "400"},
		{"non-UTF-8 body", "checkUser", s("{\"UserId\":\"\xff\xfe\"}"), "", 400, "400"},
		{"deep nesting", "checkUser", s(deep), "", 400, "400"},
		{"huge body", "checkUser", s(`{"UserId":"` + strings.Repeat("a", 70<<10) + `"}`), "", 413, "413"},
		{"huge UserId within the limit", "getUserNick", s(`{"UserId":"` + strings.Repeat("a", 60<<10) + `"}`), "", 200, "200002"},
		{"UserId number", "getUserNick", s(`{"UserId":123}`), "", 200, "200002"},
		{"UserId null", "getUserNick", s(`{"UserId":null}`), "", 200, "200002"},
		{"UserId true", "checkUser", s(`{"UserId":true}`), "", 200, "200002"},
		{"UserId array", "getUserAvatar", s(`{"UserId":[` + u + `]}`), "", 200, "200002"},
		{"UserId object", "getUserAvatar", s(`{"UserId":{"id":` + u + `}}`), "", 200, "200002"},
		{"UserId with NUL", "getUserAvatar", s(`{"UserId":"\u0000"}`), "", 200, "200002"},
		{"UserId lone surrogate", "getUserAvatar", s(`{"UserId":"\ud800"}`), "", 200, "200002"},
		{"Type number", "getUserInfoTemporaryCode", s(`{"UserId":` + u + `,"Type":1}`), "", 200, "200000"},
		{"Type object", "getUserInfoTemporaryCode", s(`{"UserId":` + u + `,"Type":{"phone":1}}`), "", 200, "200000"},
		{"TemporaryCode number", "getUserPhoneNumber", s(`{"UserId":` + u + `,"TemporaryCode":123456}`), "", 200, "200003"},
		{"TemporaryCode huge", "getUserEmail", s(`{"UserId":` + u + `,"TemporaryCode":"` + strings.Repeat("c", 60<<10) + `"}`), "", 200, "200003"},
		{"escaped key", "getUserNick", s(`{"User\u0049d":` + u + `}`), "", 200, "0"},
		{"non-UTF-8 query", "getUserNick", nil, "UserId=%ff%fe", 200, "200002"},
		{"malformed query", "getUserNick", nil, "UserId=%zz", 400, "400"},
		{"repeated query key", "getUserNick", nil, "UserId=" + f.full + "&userId=" + f.full, 400, "400"},
		{"huge query", "getUserNick", nil, "UserId=" + strings.Repeat("a", 9<<10), 400, "400"},
		{"semicolon query", "getUserNick", nil, "UserId=" + f.full + ";x=1", 400, "400"},
	}
	for i := 0; i < 5; i++ { // the failures above must not lock the user
		f.issue(t, f.full, "phone")
	}
	for _, c := range cases {
		method := "POST"
		if c.body == nil {
			method = "GET"
		}
		for _, form := range forms {
			a := send(t, f.env, f.url, req{method: method, path: form + c.endpoint, body: c.body, query: c.query, key: f.a.SuperAppSecretKey})
			if a.Status != c.status || a.ReturnCode != c.code {
				t.Errorf("%s (%s%s): %d %s, want %d %s: %.300s", c.name, form, c.endpoint, a.Status, a.ReturnCode, c.status, c.code, a.Raw)
			}
		}
	}
}
