package tcapi

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// White-box tests of the two binders, bindJSON and bindFlat. Every failure
// must be a *paramError whose code is one of the four request-shape codes
// and whose message names the offending parameter wherever there is one.

// ptKind names the request types of the action table used below.
type ptKind int

const (
	ptRegister ptKind = iota
	ptBatch
	ptList
	ptModify
	ptQuery
	ptLogin
	ptSample
)

// ptSampleRequest covers every field type the binder supports, including
// int64 and pointers inside a nested list element.
type ptSampleRequest struct {
	U     uint64  `tc:"U"`
	I     int64   `tc:"I"`
	PU    *uint64 `tc:"PU"`
	PI    *int64  `tc:"PI"`
	S     string  `tc:"S"`
	PS    *string `tc:"PS"`
	Items []struct {
		ID   uint64  `tc:"Id,required"`
		Note *string `tc:"Note"`
	} `tc:"Items"`
	Skipped string // no tag: never bound
}

func ptNew(k ptKind) any {
	switch k {
	case ptRegister:
		return new(registerUserRequest)
	case ptBatch:
		return new(batchRegisterRequest)
	case ptList:
		return new(describeSdkAppIDUsersRequest)
	case ptModify:
		return new(modifyUserProfileRequest)
	case ptQuery:
		return new(userQuery)
	case ptLogin:
		return new(loginUserRequest)
	case ptSample:
		return new(ptSampleRequest)
	}
	panic("unknown kind")
}

type ptCase struct {
	name string
	kind ptKind
	body string // JSON body (bindJSON) — raw bytes, may be invalid UTF-8
	code string // "" means success
	// names lists substrings the message must contain: the offending
	// parameter, exactly as the caller wrote or would address it.
	names []string
}

// ptCheck asserts err against the expected code and message contents.
func ptCheck(t *testing.T, err error, code string, names []string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	var pe *paramError
	if !errors.As(err, &pe) {
		t.Fatalf("want *paramError %s, got %T %v (would be reported as InternalError)", code, err, err)
	}
	if pe.code != code {
		t.Fatalf("code = %s (%q), want %s", pe.code, pe.msg, code)
	}
	if pe.msg == "" {
		t.Fatalf("%s with an empty message", code)
	}
	for _, n := range names {
		if !strings.Contains(pe.msg, n) {
			t.Fatalf("%s message %q does not name %q", code, pe.msg, n)
		}
	}
	// What the handler would send: the same code, the same text.
	ae := fromParams(err)
	if ae.Code != code || ae.text("en-US") != pe.msg {
		t.Fatalf("fromParams = %+v", ae)
	}
	if _, ok := messages[ae.Code]; !ok {
		t.Fatalf("code %s is not in the documented messages table", ae.Code)
	}
}

func TestBindJSON(t *testing.T) {
	deep := func(n int) string { // {"Bogus": [[[…1…]]]} with n brackets
		return `{"SdkAppId":1,"Bogus":` + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + "}"
	}
	cases := []ptCase{
		// Success baselines.
		{"minimal", ptRegister, `{"SdkAppId":1}`, "", nil},
		{"all fields", ptRegister, `{"SdkAppId":1,"Name":"n","OriginId":"o","Avatar":"https://a/b.png"}`, "", nil},
		{"null optional", ptRegister, `{"SdkAppId":1,"Name":null}`, "", nil},
		{"max uint64", ptRegister, `{"SdkAppId":18446744073709551615}`, "", nil},
		{"trailing whitespace", ptRegister, "{\"SdkAppId\":1} \r\n\t", "", nil},
		{"empty list", ptBatch, `{"Users":[]}`, "", nil},
		{"min int64", ptList, `{"SdkAppId":1,"Page":-9223372036854775808,"Limit":9223372036854775807}`, "", nil},
		{"nesting at the limit", ptSample, `{"Items":[{"Id":1}]}`, "", nil},

		// Required parameters.
		{"empty object", ptRegister, `{}`, "MissingParameter", []string{"SdkAppId"}},
		{"required absent", ptRegister, `{"Name":"a"}`, "MissingParameter", []string{"SdkAppId"}},
		{"required null", ptRegister, `{"SdkAppId":null}`, "MissingParameter", []string{"SdkAppId"}},
		{"required list absent", ptBatch, `{}`, "MissingParameter", []string{"Users"}},
		{"required list null", ptBatch, `{"Users":null}`, "MissingParameter", []string{"Users"}},
		{"nested required", ptBatch, `{"Users":[{"SdkAppId":1},{"Name":"a"}]}`, "MissingParameter", []string{"Users.1.SdkAppId"}},
		{"nested required null", ptBatch, `{"Users":[{"SdkAppId":null}]}`, "MissingParameter", []string{"Users.0.SdkAppId"}},
		{"login UserId absent", ptLogin, `{}`, "MissingParameter", []string{"UserId"}},
		{"login UserId null", ptLogin, `{"UserId":null}`, "MissingParameter", []string{"UserId"}},

		// Wrong types. A quoted number is a JSON string, not an integer:
		// only flattened input, where every value is text, may spell an
		// integer as a string, and the SDKs never quote one in JSON.
		{"string for uint64", ptRegister, `{"SdkAppId":"1"}`, "InvalidParameter", []string{"SdkAppId"}},
		{"bool for uint64", ptRegister, `{"SdkAppId":true}`, "InvalidParameter", []string{"SdkAppId"}},
		{"list for uint64", ptRegister, `{"SdkAppId":[1]}`, "InvalidParameter", []string{"SdkAppId"}},
		{"object for uint64", ptRegister, `{"SdkAppId":{"a":1}}`, "InvalidParameter", []string{"SdkAppId"}},
		{"number for string", ptRegister, `{"SdkAppId":1,"Name":5}`, "InvalidParameter", []string{"Name"}},
		{"bool for string", ptRegister, `{"SdkAppId":1,"Name":false}`, "InvalidParameter", []string{"Name"}},
		{"list for string", ptRegister, `{"SdkAppId":1,"Avatar":["x"]}`, "InvalidParameter", []string{"Avatar"}},
		{"object for string", ptRegister, `{"SdkAppId":1,"OriginId":{}}`, "InvalidParameter", []string{"OriginId"}},
		{"number for *string", ptModify, `{"UserId":"u","Nickname":1}`, "InvalidParameter", []string{"Nickname"}},
		{"object for list", ptBatch, `{"Users":{"SdkAppId":1}}`, "InvalidParameter", []string{"Users"}},
		{"string for list", ptBatch, `{"Users":"x"}`, "InvalidParameter", []string{"Users"}},
		{"number for list", ptBatch, `{"Users":1}`, "InvalidParameter", []string{"Users"}},
		{"bool for list", ptBatch, `{"Users":true}`, "InvalidParameter", []string{"Users"}},
		{"list for object", ptBatch, `{"Users":[[{"SdkAppId":1}]]}`, "InvalidParameter", []string{"Users.0"}},
		{"number for object", ptBatch, `{"Users":[1]}`, "InvalidParameter", []string{"Users.0"}},
		{"null for object", ptBatch, `{"Users":[{"SdkAppId":1},null]}`, "InvalidParameter", []string{"Users.1"}},
		{"nested wrong type", ptBatch, `{"Users":[{"SdkAppId":1,"Name":["x"]}]}`, "InvalidParameter", []string{"Users.0.Name"}},
		{"string for int64", ptList, `{"SdkAppId":1,"Page":"2"}`, "InvalidParameter", []string{"Page"}},
		{"string for nested uint64", ptBatch, `{"Users":[{"SdkAppId":"0"}]}`, "InvalidParameter", []string{"Users.0.SdkAppId"}},
		{"string for *uint64", ptSample, `{"PU":"1"}`, "InvalidParameter", []string{"PU"}},
		{"non-numeric string for uint64", ptRegister, `{"SdkAppId":"abc"}`, "InvalidParameter", []string{"SdkAppId"}},
		{"bool for *int64", ptList, `{"SdkAppId":1,"Limit":true}`, "InvalidParameter", []string{"Limit"}},

		// Numbers that are not integers, or out of range.
		{"float", ptRegister, `{"SdkAppId":1.5}`, "InvalidParameter", []string{"SdkAppId"}},
		{"float .0", ptRegister, `{"SdkAppId":1.0}`, "InvalidParameter", []string{"SdkAppId"}},
		{"exponent", ptRegister, `{"SdkAppId":1e3}`, "InvalidParameter", []string{"SdkAppId"}},
		{"exponent upper", ptRegister, `{"SdkAppId":1E3}`, "InvalidParameter", []string{"SdkAppId"}},
		{"huge exponent", ptRegister, `{"SdkAppId":1e999999999}`, "InvalidParameter", []string{"SdkAppId"}},
		{"negative uint64", ptRegister, `{"SdkAppId":-1}`, "InvalidParameter", []string{"SdkAppId"}},
		{"negative zero uint64", ptRegister, `{"SdkAppId":-0}`, "InvalidParameter", []string{"SdkAppId"}},
		{"uint64 overflow", ptRegister, `{"SdkAppId":18446744073709551616}`, "InvalidParameterValue", []string{"SdkAppId"}},
		{"uint64 far overflow", ptRegister, `{"SdkAppId":` + strings.Repeat("9", 400) + `}`, "InvalidParameterValue", []string{"SdkAppId"}},
		{"nested uint64 overflow", ptBatch, `{"Users":[{"SdkAppId":18446744073709551616}]}`, "InvalidParameterValue", []string{"Users.0.SdkAppId"}},
		{"int64 overflow", ptList, `{"SdkAppId":1,"Page":9223372036854775808}`, "InvalidParameterValue", []string{"Page"}},
		{"int64 underflow", ptList, `{"SdkAppId":1,"Limit":-9223372036854775809}`, "InvalidParameterValue", []string{"Limit"}},
		{"int64 float", ptList, `{"SdkAppId":1,"Page":2.5}`, "InvalidParameter", []string{"Page"}},
		{"int64 exponent", ptList, `{"SdkAppId":1,"Page":2e0}`, "InvalidParameter", []string{"Page"}},

		// Unknown keys.
		{"unknown top-level", ptRegister, `{"SdkAppId":1,"Bogus":1}`, "UnknownParameter", []string{"Bogus"}},
		{"unknown null", ptRegister, `{"SdkAppId":1,"Bogus":null}`, "UnknownParameter", []string{"Bogus"}},
		{"wrong case", ptRegister, `{"SdkAppId":1,"name":"x"}`, "UnknownParameter", []string{"name"}},
		{"unknown first in order", ptRegister, `{"SdkAppId":1,"Zed":1,"Alpha":1}`, "UnknownParameter", []string{"Alpha"}},
		{"unknown nested", ptBatch, `{"Users":[{"SdkAppId":1},{"SdkAppId":1,"Bogus":1}]}`, "UnknownParameter", []string{"Users.1.Bogus"}},
		{"flat key in JSON", ptBatch, `{"Users":[{"SdkAppId":1}],"Users.0.Name":"x"}`, "UnknownParameter", []string{"Users.0.Name"}},
		{"untagged field name", ptSample, `{"Skipped":"x"}`, "UnknownParameter", []string{"Skipped"}},
		{"empty key", ptRegister, `{"SdkAppId":1,"":1}`, "UnknownParameter", nil},
		{"common param in body", ptRegister, `{"SdkAppId":1,"Action":"RegisterUser"}`, "UnknownParameter", []string{"Action"}},

		// Not UTF-8 anywhere in the body.
		{"non-UTF-8 value", ptRegister, "{\"SdkAppId\":1,\"Name\":\"\xff\"}", "InvalidParameter", []string{"UTF-8"}},
		{"non-UTF-8 key", ptRegister, "{\"SdkAppId\":1,\"\xfe\":1}", "InvalidParameter", []string{"UTF-8"}},
		{"non-UTF-8 nested value", ptBatch, "{\"Users\":[{\"SdkAppId\":1,\"Name\":\"a\xc3\"}]}", "InvalidParameter", []string{"UTF-8"}},
		{"overlong encoding", ptRegister, "{\"SdkAppId\":1,\"Name\":\"\xc0\xaf\"}", "InvalidParameter", []string{"UTF-8"}},
		{"encoded surrogate", ptRegister, "{\"SdkAppId\":1,\"Name\":\"\xed\xa0\x80\"}", "InvalidParameter", []string{"UTF-8"}},
		{"latin-1 body", ptRegister, "{\"SdkAppId\":1,\"Name\":\"caf\xe9\"}", "InvalidParameter", []string{"UTF-8"}},
		{"non-UTF-8 outside strings", ptRegister, "{\"SdkAppId\":1}\xff", "InvalidParameter", nil},
		{"UTF-16 BOM", ptRegister, "\xff\xfe{\x00}\x00", "InvalidParameter", nil},

		// Not a JSON object.
		{"empty body", ptRegister, ``, "InvalidParameter", nil},
		{"whitespace body", ptRegister, "  \n", "InvalidParameter", nil},
		{"array", ptRegister, `[{"SdkAppId":1}]`, "InvalidParameter", []string{"object"}},
		{"empty array", ptRegister, `[]`, "InvalidParameter", []string{"object"}},
		{"string", ptRegister, `"SdkAppId"`, "InvalidParameter", []string{"object"}},
		{"number", ptRegister, `123`, "InvalidParameter", []string{"object"}},
		{"null", ptRegister, `null`, "InvalidParameter", []string{"object"}},
		{"bool", ptRegister, `true`, "InvalidParameter", []string{"object"}},

		// Malformed JSON.
		{"unterminated", ptRegister, `{"SdkAppId":`, "InvalidParameter", []string{"JSON"}},
		{"unterminated string", ptRegister, `{"SdkAppId":1,"Name":"abc`, "InvalidParameter", []string{"JSON"}},
		{"trailing comma", ptRegister, `{"SdkAppId":1,}`, "InvalidParameter", []string{"JSON"}},
		{"single quotes", ptRegister, `{'SdkAppId':1}`, "InvalidParameter", []string{"JSON"}},
		{"leading zero", ptRegister, `{"SdkAppId":01}`, "InvalidParameter", []string{"JSON"}},
		{"hex number", ptRegister, `{"SdkAppId":0x10}`, "InvalidParameter", []string{"JSON"}},
		{"NaN", ptRegister, `{"SdkAppId":NaN}`, "InvalidParameter", []string{"JSON"}},
		{"bare key", ptRegister, `{SdkAppId:1}`, "InvalidParameter", []string{"JSON"}},
		{"bad escape", ptRegister, `{"SdkAppId":1,"Name":"\x"}`, "InvalidParameter", []string{"JSON"}},
		{"raw control char", ptRegister, "{\"SdkAppId\":1,\"Name\":\"a\x01b\"}", "InvalidParameter", []string{"JSON"}},
		{"comment", ptRegister, `{"SdkAppId":1 /* c */}`, "InvalidParameter", []string{"JSON"}},

		// Data after the object.
		{"trailing word", ptRegister, `{"SdkAppId":1} x`, "InvalidParameter", []string{"after"}},
		{"trailing object", ptRegister, `{"SdkAppId":1}{}`, "InvalidParameter", []string{"after"}},
		{"trailing number", ptRegister, `{"SdkAppId":1} 1`, "InvalidParameter", []string{"after"}},
		{"trailing string", ptRegister, `{"SdkAppId":1}"x"`, "InvalidParameter", []string{"after"}},
		{"trailing comma after object", ptRegister, `{"SdkAppId":1},`, "InvalidParameter", nil},
		// A stray closing bracket is what json.Decoder.More cannot see:
		// it reports "no more values" before a '}' or ']', so only reading
		// to io.EOF catches these.
		{"trailing close brace", ptRegister, `{"SdkAppId":1}}`, "InvalidParameter", []string{"after"}},
		{"trailing close bracket", ptRegister, `{"SdkAppId":1}]`, "InvalidParameter", []string{"after"}},
		{"trailing brackets and garbage", ptRegister, `{"SdkAppId":1}]]]}}} `, "InvalidParameter", []string{"after"}},
		{"empty object then close bracket", ptSample, `{}]`, "InvalidParameter", []string{"after"}},

		// Deep nesting.
		{"nesting 8 of unknown", ptRegister, deep(7), "UnknownParameter", []string{"Bogus"}},
		{"nesting 9", ptRegister, deep(8), "InvalidParameter", []string{"deep"}},
		{"nesting 100", ptRegister, deep(100), "InvalidParameter", []string{"deep"}},
		{"nesting 100000", ptRegister, deep(100000), "InvalidParameter", nil},
		{"nesting inside a list element", ptBatch, `{"Users":[{"SdkAppId":1,"Name":` + strings.Repeat(`{"a":`, 7) + `1` + strings.Repeat("}", 7) + `}]}`, "InvalidParameter", []string{"deep"}},
		{"nested object where a string goes", ptBatch, `{"Users":[{"SdkAppId":1,"Name":{"a":{"b":1}}}]}`, "InvalidParameter", []string{"Users.0.Name"}},
		{"unclosed deep", ptRegister, strings.Repeat("[", 200000), "InvalidParameter", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := ptNew(c.kind)
			err := bindJSON([]byte(c.body), dst)
			ptCheck(t, err, c.code, c.names)
		})
	}
}

// Both shapes obey the same rules, and flattened input refuses a key given
// twice; encoding/json would silently keep the last of two JSON keys, so a
// client could not tell which of its values was used.
func TestBindJSONDuplicateKeys(t *testing.T) {
	cases := []struct {
		kind ptKind
		body string
		name string
	}{
		{ptRegister, `{"SdkAppId":1,"SdkAppId":2}`, "SdkAppId"},
		{ptRegister, `{"SdkAppId":1,"Name":"a","Name":"b"}`, "Name"},
		{ptRegister, `{"SdkAppId":1,"Name":"a","Name":"a"}`, "Name"},
		{ptRegister, `{"SdkAppId":1,"Name":null,"Name":"b"}`, "Name"},
		{ptRegister, `{"SdkAppId":1,"Bogus":1,"Bogus":2}`, "Bogus"},
		{ptBatch, `{"Users":[{"SdkAppId":1,"SdkAppId":2}]}`, "SdkAppId"},
		{ptBatch, `{"Users":[{"SdkAppId":1}],"Users":[{"SdkAppId":2}]}`, "Users"},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			err := bindJSON([]byte(c.body), ptNew(c.kind))
			ptCheck(t, err, "InvalidParameter", []string{c.name, "more than once"})
		})
	}
}

func TestBindJSONValues(t *testing.T) {
	var r registerUserRequest
	if err := bindJSON([]byte(`{"SdkAppId":18446744073709551615,"Name":"a\u00e9\ud83d\ude00","OriginId":"o","Avatar":""}`), &r); err != nil {
		t.Fatal(err)
	}
	if r != (registerUserRequest{SdkAppId: 18446744073709551615, Name: "aé😀", OriginId: "o"}) {
		t.Fatalf("%+v", r)
	}

	var l describeSdkAppIDUsersRequest
	if err := bindJSON([]byte(`{"SdkAppId":7,"Page":-3}`), &l); err != nil {
		t.Fatal(err)
	}
	if l.SdkAppId != 7 || l.Page == nil || *l.Page != -3 || l.Limit != nil {
		t.Fatalf("%+v", l)
	}

	// null leaves an optional pointer nil, as absence does.
	var m modifyUserProfileRequest
	if err := bindJSON([]byte(`{"UserId":"u","Nickname":null,"Avatar":""}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.Nickname != nil || m.Avatar == nil || *m.Avatar != "" {
		t.Fatalf("%+v", m)
	}

	var b batchRegisterRequest
	if err := bindJSON([]byte(`{"Users":[]}`), &b); err != nil {
		t.Fatal(err)
	}
	if b.Users == nil || len(b.Users) != 0 {
		t.Fatalf("empty list bound as %#v", b.Users)
	}

	// A lone surrogate escape is valid JSON; it decodes to U+FFFD rather
	// than to invalid UTF-8.
	var s registerUserRequest
	if err := bindJSON([]byte(`{"SdkAppId":1,"Name":"\ud800"}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "\ufffd" {
		t.Fatalf("%q", s.Name)
	}
}

// ptFlat builds url.Values from alternating keys and values.
func ptFlat(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = append(v[kv[i]], kv[i+1])
	}
	return v
}

func TestBindFlat(t *testing.T) {
	type flatCase struct {
		name   string
		kind   ptKind
		params url.Values
		code   string
		names  []string
	}
	deepKey := "Users.0.Name" + strings.Repeat(".x", 6) // 9 segments
	cases := []flatCase{
		{"minimal", ptRegister, ptFlat("SdkAppId", "1"), "", nil},
		{"all fields", ptRegister, ptFlat("SdkAppId", "1", "Name", "n", "OriginId", "o", "Avatar", ""), "", nil},
		{"list", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.1.SdkAppId", "2", "Users.1.Name", "b"), "", nil},
		{"leading zero integer", ptRegister, ptFlat("SdkAppId", "01"), "", nil},

		{"empty", ptRegister, url.Values{}, "MissingParameter", []string{"SdkAppId"}},
		{"required absent", ptRegister, ptFlat("Name", "a"), "MissingParameter", []string{"SdkAppId"}},
		{"list absent", ptBatch, url.Values{}, "MissingParameter", []string{"Users"}},
		{"nested required", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.1.Name", "a"), "MissingParameter", []string{"Users.1.SdkAppId"}},

		{"not a number", ptRegister, ptFlat("SdkAppId", "abc"), "InvalidParameter", []string{"SdkAppId"}},
		{"empty number", ptRegister, ptFlat("SdkAppId", ""), "InvalidParameter", []string{"SdkAppId"}},
		{"float", ptRegister, ptFlat("SdkAppId", "1.5"), "InvalidParameter", []string{"SdkAppId"}},
		{"exponent", ptRegister, ptFlat("SdkAppId", "1e3"), "InvalidParameter", []string{"SdkAppId"}},
		{"negative uint64", ptRegister, ptFlat("SdkAppId", "-1"), "InvalidParameter", []string{"SdkAppId"}},
		{"plus sign uint64", ptRegister, ptFlat("SdkAppId", "+1"), "InvalidParameter", []string{"SdkAppId"}},
		{"space", ptRegister, ptFlat("SdkAppId", " 1"), "InvalidParameter", []string{"SdkAppId"}},
		{"hex", ptRegister, ptFlat("SdkAppId", "0x10"), "InvalidParameter", []string{"SdkAppId"}},
		{"underscore", ptRegister, ptFlat("SdkAppId", "1_000"), "InvalidParameter", []string{"SdkAppId"}},
		{"uint64 overflow", ptRegister, ptFlat("SdkAppId", "18446744073709551616"), "InvalidParameterValue", []string{"SdkAppId"}},
		{"int64 overflow", ptList, ptFlat("SdkAppId", "1", "Page", "9223372036854775808"), "InvalidParameterValue", []string{"Page"}},
		{"int64 text", ptList, ptFlat("SdkAppId", "1", "Limit", "ten"), "InvalidParameter", []string{"Limit"}},
		{"object for integer", ptRegister, ptFlat("SdkAppId.x", "1"), "InvalidParameter", []string{"SdkAppId"}},
		{"object for string", ptRegister, ptFlat("SdkAppId", "1", "Name.first", "a"), "InvalidParameter", []string{"Name"}},
		{"scalar for list", ptBatch, ptFlat("Users", "x"), "InvalidParameter", []string{"Users"}},
		{"scalar for object", ptBatch, ptFlat("Users.0", "x"), "InvalidParameter", []string{"Users.0"}},
		{"scalar and object", ptBatch, ptFlat("Users", "x", "Users.0.SdkAppId", "1"), "InvalidParameter", []string{"Users.0.SdkAppId"}},
		{"item and field", ptBatch, ptFlat("Users.0", "x", "Users.0.SdkAppId", "1"), "InvalidParameter", []string{"Users.0.SdkAppId"}},
		{"nested overflow", ptBatch, ptFlat("Users.0.SdkAppId", "18446744073709551616"), "InvalidParameterValue", []string{"Users.0.SdkAppId"}},

		{"unknown", ptRegister, ptFlat("SdkAppId", "1", "Bogus", "1"), "UnknownParameter", []string{"Bogus"}},
		{"unknown nested", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.0.Bogus", "1"), "UnknownParameter", []string{"Users.0.Bogus"}},
		{"wrong case", ptRegister, ptFlat("SdkAppId", "1", "name", "a"), "UnknownParameter", []string{"name"}},
		{"common param not stripped", ptRegister, ptFlat("SdkAppId", "1", "Action", "RegisterUser"), "UnknownParameter", []string{"Action"}},

		{"duplicated key", ptRegister, ptFlat("SdkAppId", "1", "Name", "a", "Name", "b"), "InvalidParameter", []string{"Name"}},
		{"duplicated required", ptRegister, ptFlat("SdkAppId", "1", "SdkAppId", "1"), "InvalidParameter", []string{"SdkAppId"}},
		{"duplicated nested", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.0.SdkAppId", "2"), "InvalidParameter", []string{"Users.0.SdkAppId"}},

		{"index gap from 1", ptBatch, ptFlat("Users.1.SdkAppId", "1"), "InvalidParameter", []string{"Users.1"}},
		{"index gap in middle", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.2.SdkAppId", "1"), "InvalidParameter", []string{"Users.2"}},
		{"index not numeric", ptBatch, ptFlat("Users.x.SdkAppId", "1"), "InvalidParameter", []string{"Users.x"}},
		{"index leading zero", ptBatch, ptFlat("Users.01.SdkAppId", "1"), "InvalidParameter", []string{"Users.01"}},
		{"index 00", ptBatch, ptFlat("Users.00.SdkAppId", "1"), "InvalidParameter", []string{"Users.00"}},
		{"index negative", ptBatch, ptFlat("Users.-1.SdkAppId", "1"), "InvalidParameter", []string{"Users.-1"}},
		{"index minus zero", ptBatch, ptFlat("Users.-0.SdkAppId", "1"), "InvalidParameter", []string{"Users.-0"}},
		{"index plus", ptBatch, ptFlat("Users.+0.SdkAppId", "1"), "InvalidParameter", []string{"Users.+0"}},
		{"index space", ptBatch, ptFlat("Users. 0.SdkAppId", "1"), "InvalidParameter", []string{"Users. 0"}},
		{"index huge", ptBatch, ptFlat("Users.99999999999999999999.SdkAppId", "1"), "InvalidParameter", []string{"Users.99999999999999999999"}},

		{"empty middle segment", ptBatch, ptFlat("Users..Name", "a"), "UnknownParameter", []string{"Users..Name"}},
		{"empty first segment", ptRegister, ptFlat("SdkAppId", "1", ".Name", "a"), "UnknownParameter", []string{".Name"}},
		{"empty last segment", ptRegister, ptFlat("SdkAppId", "1", "Name.", "a"), "UnknownParameter", []string{"Name."}},
		{"empty key", ptRegister, ptFlat("SdkAppId", "1", "", "a"), "UnknownParameter", nil},
		{"dot key", ptRegister, ptFlat("SdkAppId", "1", ".", "a"), "UnknownParameter", nil},

		{"too deep", ptBatch, ptFlat(deepKey, "a"), "InvalidParameter", []string{deepKey}},
		{"too deep unknown", ptRegister, ptFlat("a.b.c.d.e.f.g.h.i", "1"), "InvalidParameter", []string{"a.b.c.d.e.f.g.h.i"}},
		{"deep but allowed", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.0.Name.x", "a"), "InvalidParameter", []string{"Users.0.Name"}},

		{"non-UTF-8 value", ptRegister, ptFlat("SdkAppId", "1", "Name", "\xff"), "InvalidParameter", []string{"Name", "UTF-8"}},
		{"non-UTF-8 nested value", ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.0.Name", "caf\xe9"), "InvalidParameter", []string{"Users.0.Name", "UTF-8"}},
		{"non-UTF-8 key", ptRegister, ptFlat("SdkAppId", "1", "\xffName", "a"), "InvalidParameter", []string{"UTF-8"}},
		{"non-UTF-8 key segment", ptBatch, ptFlat("Users.0.\xc0\xaf", "a"), "InvalidParameter", []string{"UTF-8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := bindFlat(c.params, ptNew(c.kind))
			ptCheck(t, err, c.code, c.names)
		})
	}
}

func TestBindFlatValues(t *testing.T) {
	// Eleven items: "Users.10" sorts before "Users.2" as text, but the
	// list must follow the numeric index.
	p := url.Values{}
	for i := 0; i <= 10; i++ {
		p.Set(fmt.Sprintf("Users.%d.SdkAppId", i), fmt.Sprint(100+i))
		p.Set(fmt.Sprintf("Users.%d.Name", i), fmt.Sprint("n", i))
	}
	p.Set("Users.3.Avatar", "https://x/y")
	var b batchRegisterRequest
	if err := bindFlat(p, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Users) != 11 {
		t.Fatalf("%d users", len(b.Users))
	}
	for i, u := range b.Users {
		if u.SdkAppId != uint64(100+i) || u.Name != fmt.Sprint("n", i) {
			t.Fatalf("Users[%d] = %+v", i, u)
		}
	}
	if b.Users[3].Avatar != "https://x/y" {
		t.Fatalf("%+v", b.Users[3])
	}

	// Empty values are values: an optional pointer becomes a pointer to "".
	var m modifyUserProfileRequest
	if err := bindFlat(ptFlat("UserId", "u", "Nickname", ""), &m); err != nil {
		t.Fatal(err)
	}
	if m.Nickname == nil || *m.Nickname != "" || m.Avatar != nil {
		t.Fatalf("%+v", m)
	}

	var s ptSampleRequest
	if err := bindFlat(ptFlat("U", "18446744073709551615", "I", "-9223372036854775808", "PU", "0", "PI", "-1", "S", "s", "PS", "", "Items.0.Id", "5", "Items.0.Note", "n"), &s); err != nil {
		t.Fatal(err)
	}
	if s.U != 1<<64-1 || s.I != -1<<63 || *s.PU != 0 || *s.PI != -1 || s.S != "s" || *s.PS != "" || len(s.Items) != 1 || s.Items[0].ID != 5 || *s.Items[0].Note != "n" {
		t.Fatalf("%+v", s)
	}
}

// The same request written in either shape binds to the same value.
func TestBindShapesAgree(t *testing.T) {
	cases := []struct {
		kind ptKind
		json string
		flat url.Values
	}{
		{ptRegister, `{"SdkAppId":42,"Name":"a b","OriginId":"o","Avatar":"https://h/p"}`, ptFlat("SdkAppId", "42", "Name", "a b", "OriginId", "o", "Avatar", "https://h/p")},
		{ptBatch, `{"Users":[{"SdkAppId":1,"Name":"x"},{"SdkAppId":2,"OriginId":"y"}]}`, ptFlat("Users.0.SdkAppId", "1", "Users.0.Name", "x", "Users.1.SdkAppId", "2", "Users.1.OriginId", "y")},
		{ptList, `{"SdkAppId":3,"Page":2,"Limit":-5}`, ptFlat("SdkAppId", "3", "Page", "2", "Limit", "-5")},
		{ptModify, `{"UserId":"u","Avatar":""}`, ptFlat("UserId", "u", "Avatar", "")},
		{ptSample, `{"Items":[{"Id":1,"Note":"n"}],"PI":-7}`, ptFlat("Items.0.Id", "1", "Items.0.Note", "n", "PI", "-7")},
	}
	for _, c := range cases {
		a, b := ptNew(c.kind), ptNew(c.kind)
		if err := bindJSON([]byte(c.json), a); err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if err := bindFlat(c.flat, b); err != nil {
			t.Fatalf("%v: %v", c.flat, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("JSON %s bound %+v, flat %v bound %+v", c.json, a, c.flat, b)
		}
	}

	// And they fail the same way on the same mistakes.
	fails := []struct {
		kind ptKind
		json string
		flat url.Values
	}{
		{ptRegister, `{}`, url.Values{}},
		{ptRegister, `{"SdkAppId":1,"Bogus":"1"}`, ptFlat("SdkAppId", "1", "Bogus", "1")},
		{ptRegister, `{"SdkAppId":18446744073709551616}`, ptFlat("SdkAppId", "18446744073709551616")},
		{ptRegister, `{"SdkAppId":-1}`, ptFlat("SdkAppId", "-1")},
		{ptBatch, `{"Users":[{"SdkAppId":1,"Bogus":1}]}`, ptFlat("Users.0.SdkAppId", "1", "Users.0.Bogus", "1")},
		{ptBatch, `{"Users":[{"Name":"a"}]}`, ptFlat("Users.0.Name", "a")},
	}
	for _, c := range fails {
		ej := bindJSON([]byte(c.json), ptNew(c.kind))
		ef := bindFlat(c.flat, ptNew(c.kind))
		var pj, pf *paramError
		if !errors.As(ej, &pj) || !errors.As(ef, &pf) {
			t.Fatalf("%s: %v / %v", c.json, ej, ef)
		}
		if pj.code != pf.code || pj.msg != pf.msg {
			t.Errorf("JSON %s → %s %q; flat %v → %s %q", c.json, pj.code, pj.msg, c.flat, pf.code, pf.msg)
		}
	}
}

// Errors must be reproducible: the same input always reports the same
// parameter, whatever order Go's maps happen to iterate in. With several
// bad keys the one reported is the first in sorted (text) order.
func TestBindFlatErrorsAreDeterministic(t *testing.T) {
	cases := []struct {
		kind ptKind
		in   url.Values
		name string // the parameter every message must name
	}{
		{ptBatch, ptFlat("Users.5.SdkAppId", "1", "Users.7.SdkAppId", "1"), "Users.5"},
		{ptBatch, ptFlat("Users.a.SdkAppId", "1", "Users.b.SdkAppId", "1", "Users.c.SdkAppId", "1"), "Users.a"},
		{ptBatch, ptFlat("Users.0.SdkAppId", "1", "Users.2.SdkAppId", "1", "Users.10.SdkAppId", "1"), "Users.10"},
		{ptRegister, ptFlat("SdkAppId", "1", "Zed", "1", "Alpha", "1", "Mid", "1"), "Alpha"},
	}
	for _, c := range cases {
		seen := map[string]bool{}
		for range 64 {
			err := bindFlat(c.in, ptNew(c.kind))
			if err == nil {
				t.Fatalf("%v: bound without error", c.in)
			}
			seen[err.Error()] = true
		}
		if len(seen) != 1 {
			t.Errorf("%v: %d different messages for the same input: %v", c.in, len(seen), seen)
			continue
		}
		for msg := range seen {
			if !strings.Contains(msg, c.name) {
				t.Errorf("%v: message %q does not name %q", c.in, msg, c.name)
			}
		}
	}
}

// Every action's request type refuses unknown parameters and bodies that
// are not JSON objects, in both shapes, with a documented code.
func TestBindEveryAction(t *testing.T) {
	for name, act := range actions {
		for _, body := range []string{`{"Bogus":1}`, `[]`, "\xff", `{"a":1}}`} {
			err := bindJSON([]byte(body), act.newRequest())
			if err == nil {
				t.Errorf("%s: %q bound without error", name, body)
				continue
			}
			if _, ok := messages[fromParams(err).Code]; !ok || fromParams(err).Code == "InternalError" {
				t.Errorf("%s: %q: %v", name, body, err)
			}
		}
		if err := bindFlat(ptFlat("Bogus", "1"), act.newRequest()); err == nil {
			t.Errorf("%s: flat Bogus bound without error", name)
		}
	}
}
