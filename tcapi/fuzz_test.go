package tcapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/uctest/jsontest"
	"usercenter/uctest/svctest"
)

// Fuzz targets for the binders and the whole gateway.
//
//	go test -run='^$' -fuzz=FuzzBindJSON -fuzztime=90s ./tcapi/
//	go test -run='^$' -fuzz=FuzzBindFlat -fuzztime=90s ./tcapi/
//	go test -run='^$' -fuzz=FuzzGateway  -fuzztime=90s ./tcapi/
//
// Properties: no panic; every failure is a documented request-shape code
// with a message, and the same input always fails the same way; every
// success comes from exactly one JSON object with no repeated key (or, for
// flattened input, from well-formed parameters) and re-encodes
// consistently: the bound request, written back as JSON or as flattened
// parameters, binds to the same value and carries every value the input
// gave, with the input's own type, so a quoted number never binds as an
// integer. Through the gateway, a POST body labelled as anything but JSON
// never succeeds. The corpus under testdata/fuzz holds the inputs closest
// to the edges of these properties (stray closing brackets, quoted
// integers, repeated keys, a mislabelled body), so that plain `go test`
// replays them.

// fzTarget is one request type to bind: every action's, plus the sample
// type of params_test.go that has every supported field kind.
type fzTarget struct {
	name string
	make func() any
}

func fzTargets() []fzTarget {
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fzTarget, 0, len(names)+1)
	for _, n := range names {
		out = append(out, fzTarget{n, actions[n].newRequest})
	}
	return append(out, fzTarget{"sample", func() any { return new(ptSampleRequest) }})
}

var fzParamCodes = map[string]bool{"MissingParameter": true, "InvalidParameter": true, "UnknownParameter": true, "InvalidParameterValue": true}

func fzCheckErr(t *testing.T, err error) {
	t.Helper()
	var pe *paramError
	if !errors.As(err, &pe) {
		t.Fatalf("binder returned %T %v: the handler would answer InternalError", err, err)
	}
	if !fzParamCodes[pe.code] || pe.msg == "" {
		t.Fatalf("binder error %q %q", pe.code, pe.msg)
	}
}

// fzEncode writes a bound request back as the JSON tree a client would
// send: tc-tagged fields, nil pointers and nil slices omitted.
func fzEncode(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return fzEncode(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("tc"), ",")
			if name == "" {
				continue
			}
			// A nil pointer or nil slice was absent from the input.
			if f := v.Field(i); (f.Kind() != reflect.Pointer && f.Kind() != reflect.Slice) || !f.IsNil() {
				m[name] = fzEncode(f)
			}
		}
		return m
	case reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = fzEncode(v.Index(i))
		}
		return l
	case reflect.String:
		return v.String()
	case reflect.Uint64:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	}
	panic("fzEncode: " + v.Type().String())
}

// fzFlatten turns a JSON tree into flattened parameters; ok is false when
// the tree holds an empty list, which flattened input cannot express.
func fzFlatten(tree any, prefix string, out url.Values) (ok bool) {
	switch t := tree.(type) {
	case map[string]any:
		for k, v := range t {
			if !fzFlatten(v, fzJoin(prefix, k), out) {
				return false
			}
		}
	case []any:
		if len(t) == 0 {
			return false
		}
		for i, v := range t {
			if !fzFlatten(v, fzJoin(prefix, strconv.Itoa(i)), out) {
				return false
			}
		}
	case json.Number:
		out.Set(prefix, string(t))
	case string:
		out.Set(prefix, t)
	}
	return true
}

func fzJoin(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// fzSameNumber compares integer texts numerically ("-0" is 0, "01" is 1).
func fzSameNumber(a, b string) bool {
	if a == b {
		return true
	}
	if x, err := strconv.ParseInt(a, 10, 64); err == nil {
		y, err := strconv.ParseInt(b, 10, 64)
		return err == nil && x == y
	}
	if x, err := strconv.ParseUint(a, 10, 64); err == nil {
		y, err := strconv.ParseUint(b, 10, 64)
		return err == nil && x == y
	}
	return false
}

// fzMismatch finds a value of the input tree that the re-encoded tree does
// not carry with the same type and value; nulls count as absent. It
// returns the path of the first one ("" when there is none; "." for the
// root). A JSON string bound to an integer field is a mismatch: it comes
// back as a number.
func fzMismatch(in, re any, path string) string {
	here := path
	if here == "" {
		here = "."
	}
	switch a := in.(type) {
	case map[string]any:
		b, ok := re.(map[string]any)
		if !ok {
			return here
		}
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if a[k] == nil {
				continue
			}
			if w := fzMismatch(a[k], b[k], fzJoin(path, k)); w != "" {
				return w
			}
		}
	case []any:
		b, ok := re.([]any)
		if !ok || len(a) != len(b) {
			return here
		}
		for i := range a {
			if w := fzMismatch(a[i], b[i], fzJoin(path, strconv.Itoa(i))); w != "" {
				return w
			}
		}
	case string:
		if b, ok := re.(string); !ok || a != b {
			return here
		}
	case json.Number:
		b, ok := re.(json.Number)
		if !ok || !fzSameNumber(string(a), string(b)) {
			return here
		}
	default:
		return here
	}
	return ""
}

// fzRoundTrip checks that a successfully bound request re-encodes
// consistently in both shapes.
func fzRoundTrip(t *testing.T, tg fzTarget, bound any) {
	t.Helper()
	tree := fzEncode(reflect.ValueOf(bound))
	body, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	again := tg.make()
	if err := bindJSON(body, again); err != nil {
		t.Fatalf("%s: re-encoded %s does not bind: %v", tg.name, body, err)
	}
	if !reflect.DeepEqual(bound, again) {
		t.Fatalf("%s: re-encoded %s binds to %+v, not %+v", tg.name, body, again, bound)
	}
	flat := url.Values{}
	if fzFlatten(tree, "", flat) {
		again := tg.make()
		if err := bindFlat(flat, again); err != nil {
			t.Fatalf("%s: flattened %v does not bind: %v", tg.name, flat, err)
		}
		if !reflect.DeepEqual(bound, again) {
			t.Fatalf("%s: flattened %v binds to %+v, not %+v", tg.name, flat, again, bound)
		}
	}
}

func fzJSONSeeds() []string {
	return []string{
		`{"SdkAppId":1400000001,"Name":"alice","OriginId":"o-1","Avatar":"https://example.com/a.png"}`,
		`{"Users":[{"SdkAppId":1400000001,"Name":"a","OriginId":"o1"},{"SdkAppId":1400000001,"Avatar":"http://x/y"}]}`,
		`{"UserId":"2CvDgjRNjylAsBZB4iZc0F6koXe"}`,
		`{"SdkAppId":1400000001,"OriginId":"o-1"}`,
		`{"UserId":"","OriginId":"o-1"}`,
		`{"UserId":"2CvDgjRNjylAsBZB4iZc0F6koXe","Nickname":"n","Avatar":null}`,
		`{"SdkAppId":1400000001,"Page":1,"Limit":20}`,
		`{"U":18446744073709551615,"I":-9223372036854775808,"PU":0,"PI":null,"S":"s","PS":"","Items":[{"Id":1,"Note":"x"}]}`,
		`{"SdkAppId":18446744073709551616}`,
		`{"SdkAppId":1.5,"Name":5}`,
		`{"SdkAppId":1,"Bogus":{"a":[1,2,{"b":null}]}}`,
		`{"Users":{"0":{"SdkAppId":1}}}`,
		`{"Users":[[[[[[[[[1]]]]]]]]]}`,
		"{\"SdkAppId\":1,\"Name\":\"\xff\"}",
		`{"SdkAppId":1} `,
		`[]`,
		`"x"`,
		``,
		`{"Name":"\u0000\ud800\u2028<>&"}`,
		`{"Page":-0,"SdkAppId":0}`,
	}
}

func FuzzBindJSON(f *testing.F) {
	targets := fzTargets()
	for _, s := range fzJSONSeeds() {
		for i := range targets {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		dst := tg.make()
		err := bindJSON(body, dst)
		if err != nil {
			fzCheckErr(t, err)
			return
		}
		// Success: the body was exactly one JSON document, with nothing
		// after it, not even a stray '}' or ']'…
		if !json.Valid(body) {
			t.Fatalf("%s: bindJSON accepted %q, which is not one JSON document", tg.name, body)
		}
		// …that names no key twice in any object…
		if k, found := jsontest.DuplicateKey(body); found {
			t.Fatalf("%s: bindJSON accepted %q, which names %q twice", tg.name, body, k)
		}
		// …and whose every value the bound request carries, with its type:
		// a quoted integer would come back unquoted.
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var tree any
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		if where := fzMismatch(tree, fzEncode(reflect.ValueOf(dst)), ""); where != "" {
			t.Fatalf("%s: %q bound, but %s is not carried as given: %+v", tg.name, body, where, dst)
		}
		fzRoundTrip(t, tg, dst)
	})
}

// fzParseFlat reads "k=v&k=v" with percent-decoding where it is well
// formed (raw bytes otherwise), keeping repeated keys.
func fzParseFlat(s string) url.Values {
	out := url.Values{}
	for _, piece := range strings.Split(s, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		if d, err := url.QueryUnescape(k); err == nil {
			k = d
		}
		if d, err := url.QueryUnescape(v); err == nil {
			v = d
		}
		out[k] = append(out[k], v)
	}
	return out
}

func FuzzBindFlat(f *testing.F) {
	targets := fzTargets()
	seeds := []string{
		"SdkAppId=1400000001&Name=alice&OriginId=o-1&Avatar=https%3A%2F%2Fexample.com%2Fa.png",
		"Users.0.SdkAppId=1&Users.0.Name=a&Users.1.SdkAppId=2&Users.1.OriginId=o",
		"UserId=2CvDgjRNjylAsBZB4iZc0F6koXe",
		"UserId=u&Nickname=&Avatar=http%3A%2F%2Fx",
		"SdkAppId=1&Page=-1&Limit=01",
		"U=18446744073709551615&I=-9223372036854775808&PU=0&PI=%2B1&S=s&PS=&Items.0.Id=1&Items.0.Note=n",
		"SdkAppId=18446744073709551616",
		"Users.1.SdkAppId=1",
		"Users.x.Name=a",
		"Users.01.SdkAppId=1",
		"Users..Name=a",
		"Users.0.Bogus=1",
		"Name=a&Name=b",
		"Users=1&Users.0.SdkAppId=1",
		"a.b.c.d.e.f.g.h.i=1",
		"Name=%FF",
		"%FF=1",
		"=&.=&..=",
		"Users.5.SdkAppId=1&Users.7.SdkAppId=1",
	}
	for _, s := range seeds {
		for i := range targets {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		tg := targets[int(which)%len(targets)]
		params := fzParseFlat(query)
		dst := tg.make()
		err := bindFlat(params, dst)
		if err != nil {
			fzCheckErr(t, err)
			// The same input reports the same error every time.
			for range 8 {
				if err2 := bindFlat(params, tg.make()); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("%s: %v gave %q, then %v", tg.name, params, err, err2)
				}
			}
			return
		}
		// Success: every parameter given is carried with its value.
		got := url.Values{}
		if fzFlatten(fzEncode(reflect.ValueOf(dst)), "", got) {
			for k, vs := range params {
				g, ok := got[k]
				if !ok || (g[0] != vs[0] && !fzSameNumber(g[0], vs[0])) {
					t.Fatalf("%s: %v bound, but %s=%q came back as %q: %+v", tg.name, params, k, vs[0], g, dst)
				}
			}
		}
		fzRoundTrip(t, tg, dst)
	})
}

// fzSign signs a request with TC3-HMAC-SHA256, written from the published
// formula (the API reference in the shared docs, §4.2) and independent of
// usercenter/tcsig.
func fzSign(r *http.Request, body []byte, secretID, secretKey string, now time.Time) {
	hexSum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	date := now.UTC().Format("2006-01-02")
	r.Header.Set("X-TC-Timestamp", ts)
	canonical := r.Method + "\n/\n" + r.URL.RawQuery + "\n" +
		"content-type:" + strings.ToLower(r.Header.Get("Content-Type")) + "\nhost:" + strings.ToLower(r.Host) + "\n\n" +
		"content-type;host\n" + hexSum(body)
	scope := date + "/lcic/tc3_request"
	sts := "TC3-HMAC-SHA256\n" + ts + "\n" + scope + "\n" + hexSum([]byte(canonical))
	k := mac(mac(mac([]byte("TC3"+secretKey), date), "lcic"), "tc3_request")
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+secretID+"/"+scope+", SignedHeaders=content-type;host, Signature="+hex.EncodeToString(mac(k, sts)))
}

// fzInstance is a real instance without the HTTP listener: SQLite in a
// temporary directory, the service (no rate limiter, so fuzzing is not
// throttled into one code), and this package's handler behind the same
// observability middleware the server mounts it with. (usercenter/server
// and usercenter/uctest import this package, so they cannot be used here.)
func fzInstance(tb testing.TB) (http.Handler, *usercenter.App, *usercenter.APIKey) {
	ctx := context.Background()
	svc, _ := svctest.New(tb)
	var err error
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, key, err := svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{SdkAppID: 1400000001, Name: "fuzz", RateLimit: 100_000})
	if err != nil {
		tb.Fatal(err)
	}
	return obs.Middleware("lcic", log, nil, New(svc, log)), app, key
}

func FuzzGateway(f *testing.F) {
	h, app, key := fzInstance(f)
	names := make([]string, 0, len(actions)+1)
	for n := range actions {
		names = append(names, n)
	}
	sort.Strings(names)
	names = append(names, "NoSuchAction")

	for _, s := range fzJSONSeeds() {
		for i := range names {
			f.Add(uint8(i), []byte(strings.ReplaceAll(s, "1400000001", fmt.Sprint(app.SdkAppID))))
		}
	}
	// The high bit of which selects a GET with the bytes as the query.
	for _, q := range []string{"SdkAppId=1400000001&Name=a", "Users.0.SdkAppId=1400000001", "UserId=x&UserId=y", "Name=%ZZ", "a=%FF", "Users.1.Name=a"} {
		for i := range names {
			f.Add(uint8(0x80|i), []byte(q))
		}
	}
	// The next bit selects a POST whose body is labelled text/plain: TC3
	// requires application/json, so even a valid body must be refused.
	for _, s := range fzJSONSeeds()[:8] {
		for i := range names {
			f.Add(uint8(0x40|i), []byte(strings.ReplaceAll(s, "1400000001", fmt.Sprint(app.SdkAppID))))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		action := names[int(which&0x3f)%len(names)]
		method := http.MethodPost
		mislabelled := false
		var payload []byte
		req := httptest.NewRequest(http.MethodPost, "http://uc.test/", nil)
		if which&0x80 != 0 {
			method = http.MethodGet
			req.Method = method
			req.URL.RawQuery = string(body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			payload = body
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
			req.Header.Set("Content-Type", "application/json")
			if which&0x40 != 0 {
				mislabelled = true
				req.Header.Set("Content-Type", "text/plain; charset=utf-8")
			}
		}
		req.Header.Set("X-TC-Action", action)
		req.Header.Set("X-TC-Version", Version)
		fzSign(req, payload, key.SecretID, key.SecretKey, time.Now())

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s %q: HTTP %d %s", method, action, body, rec.Code, out)
		}
		if mt, _, err := mime.ParseMediaType(rec.Header().Get("Content-Type")); err != nil || mt != "application/json" {
			t.Fatalf("%s %s %q: Content-Type %q", method, action, body, rec.Header().Get("Content-Type"))
		}
		var env struct {
			Response map[string]json.RawMessage
		}
		if err := json.Unmarshal(out, &env); err != nil || env.Response == nil {
			t.Fatalf("%s %s %q: unparseable envelope %v: %s", method, action, body, err, out)
		}
		var rid string
		if err := json.Unmarshal(env.Response["RequestId"], &rid); err != nil || rid == "" || rid != rec.Header().Get("X-Request-Id") {
			t.Fatalf("%s %s %q: RequestId %s", method, action, body, env.Response["RequestId"])
		}
		raw, failed := env.Response["Error"]
		if !failed {
			if mislabelled {
				t.Fatalf("%s %q labelled text/plain, yet it succeeded: %s", action, body, out)
			}
			// Success only for a body that is one JSON document, trailing
			// brackets included, with no key named twice.
			if method == http.MethodPost && !json.Valid(body) {
				t.Fatalf("%s %q: not one JSON document, yet it succeeded: %s", action, body, out)
			}
			if method == http.MethodPost {
				if k, found := jsontest.DuplicateKey(body); found {
					t.Fatalf("%s %q: names %q twice, yet it succeeded: %s", action, body, k, out)
				}
			}
			return
		}
		var e struct{ Code, Message string }
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s %s %q: Error %s", method, action, body, raw)
		}
		if _, ok := messages[e.Code]; !ok || e.Code == "InternalError" || e.Message == "" {
			t.Fatalf("%s %s %q: Code %q Message %q", method, action, body, e.Code, e.Message)
		}
		// The label is checked before the body is read, whatever it holds.
		if mislabelled && action != "NoSuchAction" && e.Code != "InvalidParameter" {
			t.Fatalf("%s %q labelled text/plain: Code %q (%q), want InvalidParameter", action, body, e.Code, e.Message)
		}
		if len(env.Response) != 2 {
			t.Fatalf("%s %s %q: an error envelope with extra fields: %s", method, action, body, out)
		}
	})
}
