package restapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/uctest/jsontest"
	"usercenter/uctest/svctest"
)

// Fuzz targets for the native REST API.
//
//	go test -run='^$' -fuzz=FuzzUserBody -fuzztime=90s ./restapi/
//	go test -run='^$' -fuzz=FuzzQuery    -fuzztime=90s ./restapi/
//	go test -run='^$' -fuzz=FuzzHandler  -fuzztime=90s ./restapi/
//
// FuzzUserBody and FuzzQuery check the decoders alone, against oracles
// written here from the documented rules: a body is accepted exactly when
// it is one JSON object in valid UTF-8 with no repeated name at any depth,
// no unpaired \u surrogate and at most 16 levels of nesting, and it then
// maps to exactly the merge patch its members spell; every refusal is a
// problem of the catalog naming the member or parameter at fault.
//
// FuzzHandler sends arbitrary requests through the whole /v1 handler of a
// real instance (SQLite in a temporary directory, the service, this
// package's handler behind the observability middleware, mounted at /v1/
// as the server mounts it). usercenter/uctest cannot be used here: it
// imports usercenter/server, which imports this package, so an internal
// test importing it would be an import cycle (tcapi/fuzz_test.go builds
// its instance the same way for the same reason). Whatever the bytes, the
// answer is never a 5xx nor a panic; an error is an RFC 9457 problem whose
// code is one of problemTypes with that code's status and title; a success
// has the route's status and shape, and never comes from a mislabelled
// body, a caller without valid credentials, a read-only key writing, a
// key of another app, or a key without pii.read seeing plain personal
// data. A successful create or merge patch stores exactly what the body
// says. Placeholders in the fuzzed strings stand for what the fuzzer
// cannot guess: $A and $B the two apps' SdkAppIds; $S and $U the seeded
// user's UserId, or in a PATCH or DELETE that of a user made fresh for
// it, so that the seeded data is never worn away and a write's effect
// can be predicted; $C a list cursor.

// ---- Independent JSON facts ----

// fzScan walks the bytes of a valid JSON document, tracking strings, and
// returns its deepest nesting of objects and arrays (1 for {}) and
// whether a string escapes a UTF-16 surrogate that is not half of a pair.
func fzScan(body []byte) (depth int, loneSurrogate bool) {
	cur := 0
	inString := false
	pendingHigh := false // the previous escape was a high surrogate
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !inString {
			switch c {
			case '"':
				inString = true
			case '{', '[':
				cur++
				depth = max(depth, cur)
			case '}', ']':
				cur--
			}
			continue
		}
		if c == '"' {
			if pendingHigh {
				loneSurrogate = true
			}
			inString, pendingHigh = false, false
			continue
		}
		if c != '\\' {
			if pendingHigh {
				loneSurrogate = true
			}
			pendingHigh = false
			continue
		}
		i++
		if body[i] != 'u' {
			if pendingHigh {
				loneSurrogate = true
			}
			pendingHigh = false
			continue
		}
		v, _ := strconv.ParseUint(string(body[i+1:i+5]), 16, 32)
		i += 4
		switch {
		case v >= 0xD800 && v <= 0xDBFF:
			if pendingHigh {
				loneSurrogate = true
			}
			pendingHigh = true
		case v >= 0xDC00 && v <= 0xDFFF:
			if !pendingHigh {
				loneSurrogate = true
			}
			pendingHigh = false
		default:
			if pendingHigh {
				loneSurrogate = true
			}
			pendingHigh = false
		}
	}
	return depth, loneSurrogate
}

// fzObjectKeys returns the names of a JSON object's members in document
// order.
func fzObjectKeys(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

func fzDecode(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return v
}

// fzBodyVerdict is what parseObject must answer for body: "" to accept,
// otherwise the problem code.
func fzBodyVerdict(body []byte) string {
	if !utf8.Valid(body) || !json.Valid(body) {
		return "malformed_json"
	}
	if _, dup := jsontest.DuplicateKey(body); dup {
		return "malformed_json"
	}
	if depth, lone := fzScan(body); depth > maxDepth || lone {
		return "malformed_json"
	}
	if bytes.TrimSpace(body)[0] != '{' {
		return "invalid_type"
	}
	return ""
}

// ---- The merge patch oracle ----

var fzTextFields = []string{"nickname", "avatar", "phone", "email", "address", "city", "province", "nationality", "lang", "timezone", "sex", "signature", "remark"}

// fzFail is an expected refusal.
type fzFail struct{ code, field string }

var fzIntRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func fzPtr[T any](v T) *T { return &v }

// fzExpectPatch maps the members of an accepted body to the patch the
// documentation describes, or to the refusal of its first bad member.
func fzExpectPatch(body []byte) (core.UserPatch, *fzFail) {
	var p core.UserPatch
	text := map[string]**string{
		"nickname": &p.Nickname, "avatar": &p.Avatar, "phone": &p.Phone, "email": &p.Email,
		"address": &p.Address, "city": &p.City, "province": &p.Province, "nationality": &p.Nationality,
		"lang": &p.Lang, "timezone": &p.Timezone, "sex": &p.Sex, "signature": &p.Signature, "remark": &p.Remark,
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return p, &fzFail{"malformed_json", ""}
	}
	for _, name := range fzObjectKeys(body) {
		v := fzDecode(obj[name])
		if dst, ok := text[name]; ok {
			switch s := v.(type) {
			case nil:
				*dst = fzPtr("")
			case string:
				*dst = fzPtr(s)
			default:
				return p, &fzFail{"invalid_type", name}
			}
			continue
		}
		switch name {
		case "originId":
			s, ok := v.(string)
			if !ok {
				return p, &fzFail{"invalid_type", name}
			}
			p.OriginID = fzPtr(s)
		case "status", "logonMode":
			num, ok := v.(json.Number)
			if !ok || !fzIntRE.MatchString(string(num)) {
				return p, &fzFail{"invalid_type", name}
			}
			n, err := strconv.ParseInt(string(num), 10, 32)
			if err != nil {
				return p, &fzFail{"invalid_field", name}
			}
			if name == "status" {
				p.Status = fzPtr(usercenter.UserStatus(n))
			} else {
				p.LogonMode = fzPtr(usercenter.LogonMode(n))
			}
		case "thirdPartyIds":
			switch links := v.(type) {
			case nil:
				p.ThirdParty = map[usercenter.Provider]*string{}
				for _, prov := range usercenter.Providers {
					p.ThirdParty[prov] = nil
				}
			case map[string]any:
				p.ThirdParty = map[usercenter.Provider]*string{}
				for _, prov := range fzObjectKeys(obj[name]) {
					field := "thirdPartyIds." + prov
					if !usercenter.Provider(prov).Known() {
						return p, &fzFail{"unknown_field", clipName(field)}
					}
					switch id := links[prov].(type) {
					case nil:
						p.ThirdParty[usercenter.Provider(prov)] = nil
					case string:
						p.ThirdParty[usercenter.Provider(prov)] = fzPtr(id)
					default:
						return p, &fzFail{"invalid_type", field}
					}
				}
			default:
				return p, &fzFail{"invalid_type", name}
			}
		default:
			return p, &fzFail{"unknown_field", clipName(name)}
		}
	}
	return p, nil
}

// fzProblem checks that err is a problem of the catalog with a detail,
// and returns it.
func fzProblem(t *testing.T, what string, err error) *problem {
	t.Helper()
	var p *problem
	if !errors.As(err, &p) {
		t.Fatalf("%s: %T %v is not a problem: the handler would answer 500", what, err, err)
	}
	if _, ok := problemTypes[p.Code]; !ok || p.Code == "internal" || p.Detail == "" {
		t.Fatalf("%s: problem %q %q", what, p.Code, p.Detail)
	}
	return p
}

func fzBodySeeds() []string {
	return []string{
		`{"originId":"crm-1001","nickname":"Alice","avatar":"https://cdn.example.com/a.png","phone":"+8613612346688","email":"Alice@Example.com","address":"1 Main St","city":"Shenzhen","province":"Guangdong","nationality":"CN","lang":"zh-CN","timezone":"Asia/Shanghai","sex":"female","signature":"hi","remark":"vip","status":1,"logonMode":11,"thirdPartyIds":{"qq":"10001","wechatUnion":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}}`,
		`{"nickname":null,"city":null,"thirdPartyIds":{"qq":null,"alipay":""}}`,
		`{"thirdPartyIds":null}`,
		`{"status":0}`,
		`{"status":-0,"logonMode":-1}`,
		`{}`,
		` {"nickname" : "名字\u4e2d\ud83d\ude00"} `,
		`{"nickname":"a","nickname":"b"}`,
		`{"nickname":"a","nick\u006eame":"b"}`,
		`{"thirdPartyIds":{"qq":"1","qq":"2"}}`,
		`{"remark":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}`,
		`{"remark":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":1}}}}}}}}}}}}}}}}`,
		`{"nickname":"\ud800"}`,
		`{"nickname":"\udc00\ud800"}`,
		`{"nickname":"\\ud800"}`,
		`{"nickname":"\ud800\\u0041"}`,
		"{\"nickname\":\"\xff\"}",
		`{"nickname":"a"} {}`,
		`{"nickname":"a"}]`,
		`[{"nickname":"a"}]`,
		`null`,
		`"x"`,
		``,
		"  \n",
		`{"status":"1"}`,
		`{"status":1.0}`,
		`{"status":1e0}`,
		`{"status":99999999999999999999}`,
		`{"logonMode":2147483648}`,
		`{"logonMode":-2147483648}`,
		`{"originId":null}`,
		`{"originId":42}`,
		`{"thirdPartyIds":["qq"]}`,
		`{"thirdPartyIds":{"qq":1}}`,
		`{"thirdPartyIds":{"myspace":"x"}}`,
		`{"userId":"x"}`,
		`{"Nickname":"a"}`,
		`{"` + strings.Repeat("k", 80) + `":1}`,
		`{"nickname":1,"bogus":2}`,
		`{"bogus":2,"nickname":1}`,
	}
}

func FuzzUserBody(f *testing.F) {
	for _, s := range fzBodySeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		members, err := parseObject(body)
		verdict := fzBodyVerdict(body)
		if err != nil {
			p := fzProblem(t, "parseObject", err)
			if verdict == "" || p.Code != verdict {
				t.Fatalf("parseObject(%q) = %s, want %q", body, err, verdict)
			}
			return
		}
		if verdict != "" {
			t.Fatalf("parseObject(%q) accepted it, want %s", body, verdict)
		}
		// The members are the object's, in order, with their values.
		keys := fzObjectKeys(body)
		if len(members) != len(keys) {
			t.Fatalf("parseObject(%q): %d members, want %v", body, len(members), keys)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			t.Fatal(err)
		}
		for i, m := range members {
			if m.name != keys[i] || !reflect.DeepEqual(fzDecode(m.raw), fzDecode(obj[m.name])) {
				t.Fatalf("parseObject(%q): member %d is %q %s, want %q %s", body, i, m.name, m.raw, keys[i], obj[keys[i]])
			}
		}

		got, err := userPatch(members)
		want, fail := fzExpectPatch(body)
		if err != nil {
			p := fzProblem(t, "userPatch", err)
			if fail == nil {
				t.Fatalf("userPatch(%q) = %s, want the patch %+v", body, err, want)
			}
			if p.Code != fail.code || p.Field != fail.field {
				t.Fatalf("userPatch(%q) = %s on field %q, want %s on %q", body, err, p.Field, fail.code, fail.field)
			}
			return
		}
		if fail != nil {
			t.Fatalf("userPatch(%q) accepted it, want %s on %q", body, fail.code, fail.field)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("userPatch(%q) = %s, want %s", body, fzShowPatch(got), fzShowPatch(want))
		}
	})
}

// fzShowPatch prints a patch with its pointers followed.
func fzShowPatch(p core.UserPatch) string {
	var b strings.Builder
	v := reflect.ValueOf(p)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Pointer && !f.IsNil():
			fmt.Fprintf(&b, "%s=%q ", v.Type().Field(i).Name, fmt.Sprint(f.Elem().Interface()))
		case f.Kind() == reflect.Map && !f.IsNil():
			fmt.Fprintf(&b, "%s={", v.Type().Field(i).Name)
			for _, k := range f.MapKeys() {
				if e := f.MapIndex(k); e.IsNil() {
					fmt.Fprintf(&b, "%s:nil ", k)
				} else {
					fmt.Fprintf(&b, "%s:%q ", k, e.Elem().String())
				}
			}
			b.WriteString("} ")
		}
	}
	return b.String()
}

// ---- Query parameters ----

// fzQueryRoutes are the query parameter lists of the routes.
var fzQueryRoutes = [][]string{nil, revealParam, listParams, auditParams}

// fzQueryVerdict is what checkQuery must answer: nil to accept.
func fzQueryVerdict(raw string, allowed []string) *fzFail {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return &fzFail{"invalid_field", ""}
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(allowed, k) {
			return &fzFail{"unknown_field", clipName(k)}
		}
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return &fzFail{"invalid_field", k}
			}
		}
	}
	return nil
}

// fzReveal is the documented reading of ?reveal: comma-separated field
// names, repeatable, blanks ignored.
func fzReveal(q url.Values) ([]usercenter.PIIField, bool) {
	var out []usercenter.PIIField
	for _, v := range q["reveal"] {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			switch name {
			case "":
			case "phone", "email", "address":
				if !slices.Contains(out, usercenter.PIIField(name)) {
					out = append(out, usercenter.PIIField(name))
				}
			default:
				return nil, false
			}
		}
	}
	return out, true
}

var fzDigits = regexp.MustCompile(`^[0-9]+$`)

// fzLimit is the documented reading of ?limit.
func fzLimit(q url.Values) (int, bool) {
	switch len(q["limit"]) {
	case 0:
		return core.DefaultListLimit, true
	case 1:
	default:
		return 0, false
	}
	s := q["limit"][0]
	if !fzDigits.MatchString(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > core.MaxListLimit {
		return 0, false
	}
	return n, true
}

func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"", "reveal=phone,email", "reveal=phone&reveal=address,%20email", "reveal=,,", "reveal=ssn", "reveal=%ff",
		"limit=20", "limit=0", "limit=501", "limit=%2B5", "limit=-0", "limit=007", "limit=1&limit=2", "limit=",
		"next=MkN2RGdqUk5qeWxBc0JaQjRpWmMwRjZrb1hl", "next=", "next=!!!", "limit=5&next=MQ",
		"originId=crm-1001", "phone=%2B8613612346688", "email=alice%40example.com", "provider=qq&providerUserId=10001",
		"originId=a&limit=5", "originId=", "originId=%20", "provider=qq&providerUserId=&originId=x",
		"sdkAppId=1400000001&userId=2CvDgjRNjylAsBZB4iZc0F6koXe&field=phone&action=reveal&actor=AKIDx&since=2025-01-31T08:00:00Z&until=2025-02-01T08:00:00%2B08:00&limit=500&next=MTA",
		"since=yesterday", "until=2025-13-01T00:00:00Z", "action=steal", "sdkAppId=0", "sdkAppId=%2B1", "next=MDE", "next=LTE", "next=OTIyMzM3MjAzNjg1NDc3NTgwOA",
		"userId=", "field=" + strings.Repeat("f", 257), "actor=a%00b",
		"limt=5", "a=1;b=2", "%zz=1", "x=%zz", "%ff=1", "reveal", "&&&=&",
	} {
		for route := range fzQueryRoutes {
			f.Add(uint8(route), s)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, raw string) {
		allowed := fzQueryRoutes[int(route)%len(fzQueryRoutes)]
		r := &http.Request{URL: &url.URL{Path: "/v1/x", RawQuery: raw}}
		err := checkQuery(r, allowed)
		want := fzQueryVerdict(raw, allowed)
		if err != nil {
			p := fzProblem(t, "checkQuery", err)
			if want == nil || p.Code != want.code || p.Field != want.field {
				t.Fatalf("checkQuery(%q, %v) = %s on %q, want %+v", raw, allowed, err, p.Field, want)
			}
			return
		}
		if want != nil {
			t.Fatalf("checkQuery(%q, %v) accepted it, want %+v", raw, allowed, *want)
		}
		q := r.URL.Query()

		// reveal, on the routes that take it.
		if slices.Contains(allowed, "reveal") {
			fields, err := parseReveal(q)
			wantFields, ok := fzReveal(q)
			if err != nil {
				if p := fzProblem(t, "parseReveal", err); ok || p.Code != "invalid_field" || p.Field != "reveal" {
					t.Fatalf("parseReveal(%q) = %v on %q, want %v", raw, err, p.Field, wantFields)
				}
			} else if !ok || !slices.Equal(fields, wantFields) {
				t.Fatalf("parseReveal(%q) = %v, want %v (ok %v)", raw, fields, wantFields, ok)
			}
		}

		switch {
		case slices.Equal(allowed, listParams) && slices.ContainsFunc(lookupParams, q.Has):
			l, err := parseLookup(q)
			if err != nil {
				p := fzProblem(t, "parseLookup", err)
				if p.Code != "invalid_field" || !slices.Contains(listParams, p.Field) {
					t.Fatalf("parseLookup(%q) = %v on %q", raw, err, p.Field)
				}
				return
			}
			if q.Has("limit") || q.Has("next") {
				t.Fatalf("parseLookup(%q) accepted paging with a lookup", raw)
			}
			for name, got := range map[string]string{"originId": l.OriginID, "phone": l.Phone, "email": l.Email, "provider": string(l.Provider), "providerUserId": l.ProviderUserID} {
				vs := q[name]
				if (len(vs) == 0 && got != "") || len(vs) > 1 || (len(vs) == 1 && (vs[0] != got || strings.TrimSpace(got) == "")) {
					t.Fatalf("parseLookup(%q): %s = %q, from %q", raw, name, got, vs)
				}
			}
		case slices.Equal(allowed, listParams):
			limit, err := parseLimit(q)
			wantLimit, ok := fzLimit(q)
			if err != nil {
				if p := fzProblem(t, "parseLimit", err); ok || p.Field != "limit" {
					t.Fatalf("parseLimit(%q) = %v, want %d", raw, err, wantLimit)
				}
			} else if !ok || limit != wantLimit {
				t.Fatalf("parseLimit(%q) = %d, want %d (ok %v)", raw, limit, wantLimit, ok)
			}
		case slices.Equal(allowed, auditParams):
			fzCheckAuditFilter(t, raw, q)
		}
	})
}

func fzCheckAuditFilter(t *testing.T, raw string, q url.Values) {
	f, err := parseAuditFilter(q)
	if err != nil {
		p := fzProblem(t, "parseAuditFilter", err)
		if p.Code != "invalid_field" || !slices.Contains(auditParams, p.Field) {
			t.Fatalf("parseAuditFilter(%q) = %v on %q", raw, err, p.Field)
		}
		return
	}
	one := func(name string) string {
		vs := q[name]
		if len(vs) > 1 || (len(vs) == 1 && (vs[0] == "" || len(vs[0]) > maxFilterLen)) {
			t.Fatalf("parseAuditFilter(%q) accepted %s=%q", raw, name, vs)
		}
		if len(vs) == 1 {
			return vs[0]
		}
		return ""
	}
	if s := one("sdkAppId"); (s == "" && f.SdkAppID != 0) || (s != "" && (!fzDigits.MatchString(s) || strconv.FormatUint(f.SdkAppID, 10) != strings.TrimLeft(s, "0") || f.SdkAppID == 0)) {
		t.Fatalf("parseAuditFilter(%q): SdkAppID %d", raw, f.SdkAppID)
	}
	if one("userId") != f.UserID || one("field") != f.Field || one("actor") != f.Actor || one("action") != string(f.Action) {
		t.Fatalf("parseAuditFilter(%q) = %+v", raw, f)
	}
	if a := f.Action; a != "" && !a.Valid() {
		t.Fatalf("parseAuditFilter(%q): action %q", raw, a)
	}
	for name, got := range map[string]time.Time{"since": f.Since, "until": f.Until} {
		s := one(name)
		want, err := time.Parse(time.RFC3339, s)
		if (s == "" && !got.IsZero()) || (s != "" && (err != nil || !want.Equal(got))) {
			t.Fatalf("parseAuditFilter(%q): %s %v from %q", raw, name, got, s)
		}
	}
	if want, ok := fzLimit(q); !ok || f.Limit != want {
		t.Fatalf("parseAuditFilter(%q): limit %d, want %d (ok %v)", raw, f.Limit, want, ok)
	}
	// A cursor is unpadded base64url of the decimal ID. Go's decoder
	// ignores the unused low bits of the last character, so "M0" reads
	// as "Mw" does: the cursor must decode to the ID, not equal its
	// encoding.
	if order := one("order"); f.NewestFirst != (order != "oldest") || order != "" && order != "oldest" && order != "newest" {
		t.Fatalf("parseAuditFilter(%q): NewestFirst %v from order %q", raw, f.NewestFirst, order)
	}
	cursor, other := f.AfterID, f.BeforeID
	if f.NewestFirst {
		cursor, other = other, cursor
	}
	next := one("next")
	b, err := base64.RawURLEncoding.DecodeString(next)
	if other != 0 || (next == "" && cursor != 0) || (next != "" && (err != nil || cursor < 1 || strconv.FormatInt(cursor, 10) != string(b))) {
		t.Fatalf("parseAuditFilter(%q): cursor %d from next %q", raw, cursor, next)
	}
}

// ---- The whole handler ----

// fzEnv is a real instance: two apps, keys of every kind, a seeded user
// with personal data and a link, and a user with a login token.
type fzEnv struct {
	h          http.Handler
	svc        *core.Service
	app, other *usercenter.App
	keys       [3]*usercenter.APIKey // all permissions on app; users.read only on app; all on other
	seed       *usercenter.User
	me         *core.Session
	victims    atomic.Int64
}

func fzInstance(tb testing.TB) *fzEnv {
	ctx := context.Background()
	svc, _ := svctest.New(tb)
	var err error
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &fzEnv{svc: svc}
	if e.app, e.keys[0], err = svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "fuzz", RateLimit: 100_000}); err != nil {
		tb.Fatal(err)
	}
	if e.other, e.keys[2], err = svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "other", RateLimit: 100_000}); err != nil {
		tb.Fatal(err)
	}
	if e.keys[1], err = svc.CreateKey(ctx, usercenter.Operator(), "reader", []uint64{e.app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead}); err != nil {
		tb.Fatal(err)
	}
	if e.seed, err = svctest.CreateUser(svc, ctx, usercenter.Operator(), e.app.SdkAppID, core.UserPatch{
		OriginID: fzPtr("seed"), Nickname: fzPtr("Seed"), Phone: fzPtr("+8613612346688"), Email: fzPtr("seed.user@example.com"),
		Address: fzPtr("1 Science Park Road, Nanshan"), ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: fzPtr("10001")},
	}); err != nil {
		tb.Fatal(err)
	}
	if _, err = svctest.CreateUser(svc, ctx, usercenter.Operator(), e.other.SdkAppID, core.UserPatch{OriginID: fzPtr("seed"), Phone: fzPtr("+8613612346688")}); err != nil {
		tb.Fatal(err)
	}
	if e.me, err = svctest.RegisterUser(svc, ctx, e.keys[0].Actor(), svctest.Registration{SdkAppID: e.app.SdkAppID, Name: "me", OriginID: "me"}); err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", obs.Middleware("v1", log, nil, New(svc, log)))
	e.h = mux
	return e
}

// fzVictim is the profile of the users that writes act on; n makes its
// unique values unique.
func fzVictim(n int64) core.UserPatch {
	return core.UserPatch{
		OriginID: fzPtr(fmt.Sprintf("victim-%d", n)), Nickname: fzPtr("Victim"), Avatar: fzPtr("https://cdn.example.com/v.png"),
		Phone: fzPtr(fmt.Sprintf("+86136%08d", n%100_000_000)), Email: fzPtr(fmt.Sprintf("victim-%d@example.com", n)), Address: fzPtr("2 Harbour Road"),
		City: fzPtr("Shenzhen"), Province: fzPtr("Guangdong"), Nationality: fzPtr("CN"), Lang: fzPtr("zh-CN"),
		Timezone: fzPtr("Asia/Shanghai"), Sex: fzPtr("female"), Signature: fzPtr("hello"), Remark: fzPtr("vip"),
		LogonMode: fzPtr(usercenter.LogonWeChat),
		ThirdParty: map[usercenter.Provider]*string{
			usercenter.ProviderQQ:          fzPtr(fmt.Sprintf("qq-%d", n)),
			usercenter.ProviderWeChatUnion: fzPtr(fmt.Sprintf("wx-%d", n)),
		},
	}
}

// fzRoute is a row of the routes table, plus one no route matches.
type fzRoute struct {
	method, path, op string
}

var fzRoutes = func() []fzRoute {
	var out []fzRoute
	for _, rt := range (&api{}).routes() {
		out = append(out, fzRoute{rt.method, rt.path, rt.op})
	}
	return append(out, fzRoute{"GET", "/v1/{userId}", "none"})
}()

var fzMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

// fzContentTypes are the labels a body may carry; true for the accepted.
var fzContentTypes = []struct {
	value string
	ok    bool
}{
	{"application/json", true},
	{"application/merge-patch+json", true},
	{"application/json; charset=UTF-8", true},
	{"Application/JSON", true},
	{"text/plain; charset=utf-8", false},
	{"", false},
	{"application/json; charset=latin1", false},
	{"application/x-www-form-urlencoded", false},
}

// Authentication modes.
const (
	fzAuthKey      = iota // all permissions, scoped to app
	fzAuthReader          // users.read only, scoped to app
	fzAuthOther           // all permissions, scoped to the other app
	fzAuthWrong           // the key with a wrong secret
	fzAuthNone            // no Authorization header
	fzAuthBearer          // the login token of me
	fzAuthGarbage         // Basic with broken base64
	fzAuthBadToken        // a bearer token that is no token
)

// fzProblemBody is a problem as a client strictly decodes it.
type fzProblemBody struct {
	Type      *string `json:"type"`
	Title     *string `json:"title"`
	Status    *int    `json:"status"`
	Detail    *string `json:"detail"`
	Code      *string `json:"code"`
	RequestID *string `json:"requestId"`
	Field     *string `json:"field"`
}

func fzStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// fzCleanPath is ServeMux's canonical form of a path: a request for any
// other form is redirected by the mux before any facade sees it.
func fzCleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

func FuzzHandler(f *testing.F) {
	e := fzInstance(f)
	route := func(op string) uint8 {
		for i, r := range fzRoutes {
			if r.op == op {
				return uint8(i)
			}
		}
		panic(op)
	}
	mode := func(auth, ct int) uint8 { return uint8(auth | ct<<3) }
	alt := func(op string, method string) uint8 {
		return route(op) | 0x80 | uint8(slices.Index(fzMethods, method))<<4
	}
	for _, s := range fzBodySeeds() {
		f.Add(route("createUser"), mode(fzAuthKey, 0), "$A", "", []byte(s))
		f.Add(route("updateUser"), mode(fzAuthKey, 1), "$U", "", []byte(s))
	}
	type seed struct {
		op        uint8
		mode      uint8
		id, query string
		body      string
	}
	for _, s := range []seed{
		{route("createUser"), mode(fzAuthKey, 0), "$A", "", `{"originId":"seed"}`},
		{route("createUser"), mode(fzAuthKey, 0), "$A", "", `{"thirdPartyIds":{"qq":"10001"}}`},
		{route("createUser"), mode(fzAuthKey, 2), "$B", "", `{"nickname":"x"}`},
		{route("createUser"), mode(fzAuthOther, 0), "$A", "", `{"nickname":"x"}`},
		{route("createUser"), mode(fzAuthOther, 0), "$B", "", `{"nickname":"x","timezone":"Europe/Paris","lang":"en_US"}`},
		{route("createUser"), mode(fzAuthReader, 0), "$A", "", `{}`},
		{route("createUser"), mode(fzAuthKey, 4), "$A", "", `{"nickname":"x"}`},
		{route("createUser"), mode(fzAuthKey, 5), "$A", "", `{"nickname":"x"}`},
		{route("createUser"), mode(fzAuthKey, 0), "0", "", `{}`},
		{route("createUser"), mode(fzAuthKey, 0), "18446744073709551616", "", `{}`},
		{route("createUser"), mode(fzAuthKey, 0), "$A", "reveal=phone", `{}`},
		{route("createUser"), mode(fzAuthNone, 4), "$A", "bogus=1", `not json`},
		{route("updateUser"), mode(fzAuthKey, 0), "$U", "", `{"phone":null,"email":"","address":null}`},
		{route("updateUser"), mode(fzAuthKey, 0), "$U", "", `{"originId":"seed"}`},
		{route("updateUser"), mode(fzAuthKey, 0), "$U", "", `{"thirdPartyIds":{"qq":"10001"}}`},
		{route("updateUser"), mode(fzAuthKey, 0), "$U", "", `{"status":0,"logonMode":0,"remark":""}`},
		{route("updateUser"), mode(fzAuthKey, 6), "$U", "", `{"nickname":"x"}`},
		{route("updateUser"), mode(fzAuthReader, 0), "$U", "", `{"nickname":"x"}`},
		{route("updateUser"), mode(fzAuthOther, 0), "$U", "", `{"nickname":"x"}`},
		{route("updateUser"), mode(fzAuthKey, 0), "nope", "", `{"nickname":"x"}`},
		{route("updateUser"), mode(fzAuthKey, 0), strings.Repeat("u", 100), "", `{}`},
		{route("getUser"), mode(fzAuthKey, 0), "$S", "reveal=phone,email,address", ""},
		{route("getUser"), mode(fzAuthKey, 0), "$S", "reveal=phone&reveal=%20email", ""},
		{route("getUser"), mode(fzAuthReader, 0), "$S", "reveal=phone", ""},
		{route("getUser"), mode(fzAuthReader, 0), "$S", "", ""},
		{route("getUser"), mode(fzAuthOther, 0), "$S", "", ""},
		{route("getUser"), mode(fzAuthKey, 0), "0ujsswThIGTUYm2K8FjOOfXtY1K", "", ""},
		{route("getUser"), mode(fzAuthKey, 0), "a%2Fb", "", ""},
		{route("getUser"), mode(fzAuthKey, 0), "$S", "revael=phone", ""},
		{route("getUser"), mode(fzAuthWrong, 0), "$S", "", ""},
		{route("getUser"), mode(fzAuthGarbage, 0), "$S", "", ""},
		{route("getUser"), mode(fzAuthBearer, 0), "$S", "", ""},
		{route("deleteUser"), mode(fzAuthKey, 0), "$U", "", ""},
		{route("deleteUser"), mode(fzAuthReader, 0), "$U", "", ""},
		{route("deleteUser"), mode(fzAuthOther, 0), "$U", "", ""},
		{route("deleteUser"), mode(fzAuthKey, 0), "$U", "force=1", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "limit=1&next=$C&reveal=email", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "originId=seed&reveal=phone", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "phone=136%201234%206688", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "email=SEED.user%40example.com", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "provider=qq&providerUserId=10001", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "provider=qq&providerUserId=10001&originId=seed", ""},
		{route("listUsers"), mode(fzAuthReader, 0), "$A", "phone=%2B8613612346688", ""},
		{route("listUsers"), mode(fzAuthOther, 0), "$A", "originId=seed", ""},
		{route("listUsers"), mode(fzAuthOther, 0), "$B", "originId=seed&reveal=phone", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "limit=0", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "next=", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "$A", "limit=%zz", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "abc", "", ""},
		{route("listUsers"), mode(fzAuthKey, 0), "12345", "", ""},
		{route("listAuditEvents"), mode(fzAuthKey, 0), "", "sdkAppId=$A&userId=$S&action=create&limit=2", ""},
		{route("listAuditEvents"), mode(fzAuthKey, 0), "", "since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z", ""},
		{route("listAuditEvents"), mode(fzAuthKey, 0), "", "since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59Z&limit=500", ""},
		{route("listAuditEvents"), mode(fzAuthKey, 0), "", "next=MQ&limit=1", ""},
		{route("listAuditEvents"), mode(fzAuthOther, 0), "", "sdkAppId=$A", ""},
		{route("listAuditEvents"), mode(fzAuthOther, 0), "", "userId=$S", ""},
		{route("listAuditEvents"), mode(fzAuthKey, 0), "", "actor=a%00b&field=%00", ""},
		{route("getMe"), mode(fzAuthBearer, 0), "", "", ""},
		{route("getMe"), mode(fzAuthBadToken, 0), "", "", ""},
		{route("getMe"), mode(fzAuthNone, 0), "", "", ""},
		{route("getMe"), mode(fzAuthBearer, 0), "", "reveal=phone", ""},
		{route("getMe"), mode(fzAuthKey, 0), "", "", ""},
		{route("getOpenAPI"), mode(fzAuthNone, 0), "", "", ""},
		{route("getOpenAPI"), mode(fzAuthNone, 0), "", "x=1", ""},
		{route("none"), mode(fzAuthKey, 0), "nope", "", ""},
		{route("none"), mode(fzAuthKey, 0), "users/$S/tokens", "", ""},
		{alt("getUser", "PUT"), mode(fzAuthKey, 0), "$S", "", `{}`},
		{alt("getMe", "POST"), mode(fzAuthNone, 0), "", "", `{}`},
		{alt("listUsers", "DELETE"), mode(fzAuthKey, 0), "$A", "", ""},
		{alt("getUser", "HEAD"), mode(fzAuthKey, 0), "$S", "", ""},
		{alt("getOpenAPI", "OPTIONS"), mode(fzAuthNone, 0), "", "", ""},
	} {
		f.Add(s.op, s.mode, s.id, s.query, []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, op, mode uint8, id, query string, body []byte) {
		tmpl := fzRoutes[int(op&0x0f)%len(fzRoutes)].path
		method := fzRoutes[int(op&0x0f)%len(fzRoutes)].method
		if op&0x80 != 0 {
			method = fzMethods[int(op>>4&0x07)%len(fzMethods)]
		}
		auth := int(mode & 0x07)
		ct := fzContentTypes[int(mode>>3&0x07)]

		// The user a write acts on is a fresh one, so that writes do not
		// wear the seeded data away and their effect can be predicted.
		target, seed := e.seed.ID, e.seed.ID
		var victim *usercenter.User
		if (method == "PATCH" || method == "DELETE") && strings.Contains(id+query+string(body), "$") {
			n := e.victims.Add(1)
			u, err := svctest.CreateUser(e.svc, context.Background(), usercenter.Operator(), e.app.SdkAppID, fzVictim(n))
			if err != nil {
				t.Fatal(err)
			}
			victim, target, seed = u, u.ID, u.ID
		}
		subst := strings.NewReplacer(
			"$A", strconv.FormatUint(e.app.SdkAppID, 10), "$B", strconv.FormatUint(e.other.SdkAppID, 10),
			"$U", target, "$S", seed, "$C", base64.RawURLEncoding.EncodeToString([]byte(e.seed.ID)))
		id, query = subst.Replace(id), subst.Replace(query)
		body = []byte(subst.Replace(string(body)))

		p := strings.NewReplacer("{sdkAppId}", id, "{userId}", id).Replace(tmpl)
		if !strings.HasPrefix(p, "/v1/") || fzCleanPath(p) != p {
			return // the server's mux redirects it before the API sees it
		}
		rt, pathKnown := fzResolve(method, p)
		req := httptest.NewRequest(method, "http://uc.test/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = p, "", query
		if ct.value != "" {
			req.Header.Set("Content-Type", ct.value)
		}
		basicOf := func(id, secret string) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
		}
		switch auth {
		case fzAuthKey, fzAuthReader, fzAuthOther:
			req.Header.Set("Authorization", basicOf(e.keys[auth].SecretID, e.keys[auth].SecretKey))
		case fzAuthWrong:
			req.Header.Set("Authorization", basicOf(e.keys[0].SecretID, e.keys[1].SecretKey))
		case fzAuthBearer:
			req.Header.Set("Authorization", "Bearer "+e.me.Token)
		case fzAuthGarbage:
			req.Header.Set("Authorization", "Basic "+e.keys[0].SecretID+":"+e.keys[0].SecretKey)
		case fzAuthBadToken:
			req.Header.Set("Authorization", "Bearer "+e.keys[0].SecretKey)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)

		fzCheckAnswer(t, e, &fzCall{rt: rt, pathKnown: pathKnown, method: method, auth: auth, ctOK: ct.ok, id: id, query: query, body: body, victim: victim}, rec)
	})
}

// fzCall is one request of FuzzHandler.
type fzCall struct {
	rt        fzRoute // the route that serves it; op "none" if none does
	pathKnown bool    // whether some route has its path, under any method
	method    string
	auth      int
	ctOK      bool
	id, query string
	body      []byte
	victim    *usercenter.User // the fresh user it writes to, if any
}

// fzResolve finds the route of the table that serves method on p, and
// whether some route has the path under any method.
func fzResolve(method, p string) (fzRoute, bool) {
	segs := strings.Split(p, "/")
	known := false
	for _, rt := range fzRoutes {
		if rt.op == "none" {
			continue
		}
		tsegs := strings.Split(rt.path, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		match := true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && segs[i] != "" || ts == segs[i] {
				continue
			}
			match = false
		}
		if !match {
			continue
		}
		known = true
		if rt.method == method || (rt.method == "GET" && method == "HEAD") {
			return rt, true
		}
	}
	return fzRoute{op: "none"}, known
}

func (c *fzCall) String() string {
	return fmt.Sprintf("%s %s (route %s, auth %d) ?%q body %q", c.method, c.id, c.rt.op, c.auth, c.query, c.body)
}

func fzCheckAnswer(t *testing.T, e *fzEnv, c *fzCall, rec *httptest.ResponseRecorder) {
	t.Helper()
	status, raw, h := rec.Code, rec.Body.Bytes(), rec.Header()
	out := fzClip(raw)
	if status >= 500 {
		t.Fatalf("%s: HTTP %d %s", c, status, out)
	}
	rid := h.Get("X-Request-Id")
	if rid == "" {
		t.Fatalf("%s: no X-Request-Id", c)
	}
	if status >= 400 {
		if got := h.Get("Content-Type"); got != "application/problem+json" {
			t.Fatalf("%s: HTTP %d with Content-Type %q: %s", c, status, got, out)
		}
		var p fzProblemBody
		if err := fzStrict(raw, &p); err != nil || p.Type == nil || p.Title == nil || p.Status == nil || p.Detail == nil || p.Code == nil || p.RequestID == nil {
			t.Fatalf("%s: HTTP %d, not a problem (%v): %s", c, status, err, out)
		}
		pt, ok := problemTypes[*p.Code]
		if !ok || *p.Code == "internal" || pt.status != status || *p.Status != status || *p.Title != pt.title ||
			*p.Type != problemBase+*p.Code || *p.Detail == "" || *p.RequestID != rid {
			t.Fatalf("%s: HTTP %d, problem %s", c, status, out)
		}
		switch {
		case status == http.StatusMethodNotAllowed && h.Get("Allow") == "":
			t.Fatalf("%s: 405 without Allow", c)
		case status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "":
			t.Fatalf("%s: 401 without WWW-Authenticate", c)
		}
		if c.rt.op == "none" {
			// No route: 405 where the path is known, 404 elsewhere.
			if want := map[bool]string{true: "method_not_allowed", false: "not_found"}[c.pathKnown]; *p.Code != want {
				t.Fatalf("%s: no route serves it, yet answered %s", c, out)
			}
			return
		}
		if *p.Code == "not_found" || *p.Code == "method_not_allowed" {
			t.Fatalf("%s: route %s serves it, yet answered %s", c, c.rt.op, out)
		}
		// A caller without credentials learns only that it must
		// authenticate, whatever it sends.
		if c.rt.op != "getOpenAPI" && !fzAuthFits(c) && status != http.StatusUnauthorized {
			t.Fatalf("%s: unauthenticated, yet answered %s", c, out)
		}
		return
	}
	if c.rt.op == "none" {
		t.Fatalf("%s: no route serves it, yet HTTP %d %s", c, status, out)
	}

	// A success.
	if !fzAuthFits(c) && c.rt.op != "getOpenAPI" {
		t.Fatalf("%s: no valid credentials, yet HTTP %d %s", c, status, out)
	}
	if c.method != c.rt.method && !(c.method == "HEAD" && c.rt.method == "GET") {
		t.Fatalf("%s: the route serves %s, yet HTTP %d", c, c.rt.method, status)
	}
	if c.auth == fzAuthReader && (c.method == "POST" || c.method == "PATCH" || c.method == "DELETE") {
		t.Fatalf("%s: a read-only key wrote: HTTP %d %s", c, status, out)
	}
	wantStatus := map[string]int{"createUser": http.StatusCreated, "deleteUser": http.StatusNoContent}[c.rt.op]
	if wantStatus == 0 {
		wantStatus = http.StatusOK
	}
	if status != wantStatus {
		t.Fatalf("%s: HTTP %d, want %d: %s", c, status, wantStatus, out)
	}
	if status == http.StatusNoContent {
		if len(raw) != 0 {
			t.Fatalf("%s: 204 with a body %q", c, out)
		}
		return
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Fatalf("%s: Content-Type %q", c, got)
	}
	if c.method == "POST" || c.method == "PATCH" {
		if !c.ctOK {
			t.Fatalf("%s: a body labelled %q succeeded: %s", c, h.Get("Content-Type"), out)
		}
		if v := fzBodyVerdict(c.body); v != "" {
			t.Fatalf("%s: a body that is %s succeeded: %s", c, v, out)
		}
	}
	q, _ := url.ParseQuery(c.query)
	revealed, _ := fzReveal(q)
	var users []userJSON
	switch c.rt.op {
	case "getOpenAPI":
		if !bytes.Equal(raw, openAPIDoc) {
			t.Fatalf("%s: not the OpenAPI document", c)
		}
		return
	case "listAuditEvents":
		var l auditList
		if err := fzStrict(raw, &l); err != nil || l.Events == nil {
			t.Fatalf("%s: not an audit list (%v): %s", c, err, out)
		}
		for i, ev := range l.Events {
			if (c.auth == fzAuthOther && ev.SdkAppID != e.other.SdkAppID) || (c.auth != fzAuthOther && ev.SdkAppID != e.app.SdkAppID) {
				t.Fatalf("%s: an event of another app: %s", c, out)
			}
			// Newest first unless order=oldest.
			if i > 0 && (ev.ID <= l.Events[i-1].ID) != (q.Get("order") != "oldest") {
				t.Fatalf("%s: events out of order: %s", c, out)
			}
		}
		return
	case "listUsers":
		var l userList
		if err := fzStrict(raw, &l); err != nil || l.Users == nil {
			t.Fatalf("%s: not a user list (%v): %s", c, err, out)
		}
		users = l.Users
		if slices.ContainsFunc(lookupParams, q.Has) {
			// A lookup returns every match, on one page.
			if l.Next != nil {
				t.Fatalf("%s: a lookup with a next page: %s", c, out)
			}
		} else {
			limit, _ := fzLimit(q)
			if len(users) > limit || (l.Next != nil && *l.Next == "") {
				t.Fatalf("%s: %d users, limit %d: %s", c, len(users), limit, out)
			}
			for i := 1; i < len(users); i++ {
				if users[i].UserID <= users[i-1].UserID {
					t.Fatalf("%s: a page out of UserId order: %s", c, out)
				}
			}
		}
	default:
		var u userJSON
		if err := fzStrict(raw, &u); err != nil || u.UserID == "" {
			t.Fatalf("%s: not a user (%v): %s", c, err, out)
		}
		users = []userJSON{u}
	}
	for _, u := range users {
		// Only a key of the user's app acts on it.
		if (c.auth == fzAuthOther) != (u.SdkAppID == e.other.SdkAppID) {
			t.Fatalf("%s: key %d answered a user of app %d: %s", c, c.auth, u.SdkAppID, out)
		}
		// Personal data is plain only when asked for, with pii.read.
		for _, pf := range []struct {
			field usercenter.PIIField
			value string
		}{{usercenter.FieldPhone, u.Phone}, {usercenter.FieldEmail, u.Email}, {usercenter.FieldAddress, u.Address}} {
			if pf.value != "" && !strings.Contains(pf.value, "****") &&
				(c.auth == fzAuthReader || c.auth == fzAuthBearer || !slices.Contains(revealed, pf.field) || c.method == "POST" || c.method == "PATCH") {
				t.Fatalf("%s: %s in plain: %s", c, pf.field, out)
			}
		}
	}
	switch c.rt.op {
	case "getUser":
		if users[0].UserID != c.id {
			t.Fatalf("%s: asked for %q, got %s", c, c.id, out)
		}
	case "getMe":
		if users[0].UserID != e.me.User.ID {
			t.Fatalf("%s: me is %s", c, out)
		}
	case "createUser":
		u := users[0]
		if appID, err := strconv.ParseUint(c.id, 10, 64); err != nil || h.Get("Location") != "/v1/users/"+u.UserID || u.SdkAppID != appID {
			t.Fatalf("%s: Location %q for %s", c, h.Get("Location"), out)
		}
		fzCheckWritten(t, c, core.UserPatch{LogonMode: fzPtr(usercenter.LogonAPI)}, u.UserID, u)
	case "updateUser":
		if c.victim == nil || users[0].UserID != c.victim.ID {
			return // not a user whose profile this call knows
		}
		fzCheckWritten(t, c, fzVictim(0), c.victim.OriginID, users[0])
	}
}

// fzClip shortens an answer for a message.
func fzClip(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "…"
	}
	return string(b)
}

// fzAuthFits reports whether the call carries credentials its route
// accepts.
func fzAuthFits(c *fzCall) bool {
	switch c.rt.op {
	case "getMe":
		return c.auth == fzAuthBearer
	case "getOpenAPI":
		return true
	}
	return c.auth == fzAuthKey || c.auth == fzAuthReader || c.auth == fzAuthOther
}

// fzCheckWritten checks that a created or patched user holds what the
// body said over the profile it had (base; originID its OriginId), for
// every field not personal data.
func fzCheckWritten(t *testing.T, c *fzCall, base core.UserPatch, originID string, got userJSON) {
	t.Helper()
	patch, fail := fzExpectPatch(c.body)
	if fail != nil {
		t.Fatalf("%s: a body refused by the oracle (%+v) succeeded", c, *fail)
	}
	str := func(p ...*string) string {
		for _, s := range p {
			if s != nil {
				return *s
			}
		}
		return ""
	}
	status := usercenter.UserActive
	if patch.Status != nil {
		status = *patch.Status
	}
	logon := *base.LogonMode
	if patch.LogonMode != nil {
		logon = *patch.LogonMode
	}
	links := map[string]string{}
	if c.victim != nil {
		for p, id := range c.victim.ThirdParty {
			links[string(p)] = id
		}
	}
	for p, id := range patch.ThirdParty {
		if id == nil || *id == "" {
			delete(links, string(p))
		} else {
			links[string(p)] = *id
		}
	}
	want := got
	want.OriginID = str(patch.OriginID, &originID)
	want.Status, want.LogonMode = int(status), int(logon)
	want.Nickname, want.Avatar = str(patch.Nickname, base.Nickname), str(patch.Avatar, base.Avatar)
	want.City, want.Province = str(patch.City, base.City), str(patch.Province, base.Province)
	want.Nationality, want.Lang = str(patch.Nationality, base.Nationality), str(patch.Lang, base.Lang)
	want.Timezone, want.Sex = str(patch.Timezone, base.Timezone), str(patch.Sex, base.Sex)
	want.Signature, want.Remark = str(patch.Signature, base.Signature), str(patch.Remark, base.Remark)
	want.ThirdPartyIDs = links
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s: stored\n%s\nwant\n%s", c, g, w)
	}
}
