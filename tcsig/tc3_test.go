package tcsig_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"usercenter/tcsig"
)

// testTS is 2026-11-21T06:15:36Z, the timestamp of the SDK capture in the
// API reference.
const testTS = 1795299336

var testNow = time.Unix(testTS+7, 0)

const testBody = `{"Name":"alice","OriginId":"o-1","SdkAppId":1234657}`

func kindOf(t *testing.T, err error) tcsig.ErrorKind {
	t.Helper()
	if err == nil {
		return 0
	}
	var e *tcsig.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *tcsig.Error", err, err)
	}
	return e.Kind
}

func wantKind(t *testing.T, err error, want tcsig.ErrorKind) *tcsig.Error {
	t.Helper()
	if got := kindOf(t, err); got != want {
		t.Fatalf("error = %v, want kind %v", err, want)
	}
	var e *tcsig.Error
	errors.As(err, &e)
	return e
}

// verify parses r and verifies it with key, returning the first error.
func verify(t *testing.T, r *tcsig.Request, now time.Time, key string) (*tcsig.Signed, error) {
	t.Helper()
	s, err := tcsig.Parse(r, now)
	if err != nil {
		if s != nil {
			t.Fatalf("Parse returned both %+v and %v", s, err)
		}
		return nil, err
	}
	return s, s.Verify(key)
}

func mustVerify(t *testing.T, r *tcsig.Request, now time.Time) *tcsig.Signed {
	t.Helper()
	s, err := verify(t, r, now, testKey)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return s
}

func TestTC3Post(t *testing.T) {
	c := tc3Req{ts: testTS, body: []byte(testBody)}
	s := mustVerify(t, c.request(), testNow)
	if s.Scheme != tcsig.SchemeTC3 || s.SecretID != testID || s.Timestamp != testTS || s.Service != "lcic" {
		t.Errorf("Signed = %+v", s)
	}
	if s.Params != nil || s.UnsignedPayload || s.Nonce != "" {
		t.Errorf("POST Signed has Params %v UnsignedPayload %v Nonce %q", s.Params, s.UnsignedPayload, s.Nonce)
	}
}

func TestTC3Get(t *testing.T) {
	q := "Limit=10&Name=a+b%26c%3Dd&SdkAppId=1234657&Users.0.Name=%E5%BC%A0%E4%B8%89"
	c := tc3Req{method: "GET", ts: testTS, query: q}
	s := mustVerify(t, c.request(), testNow)
	if got := s.Params.Get("Name"); got != "a b&c=d" {
		t.Errorf("Params Name = %q", got)
	}
	if got := s.Params.Get("Users.0.Name"); got != "张三" {
		t.Errorf("Params Users.0.Name = %q", got)
	}
	if len(s.Params) != 4 {
		t.Errorf("Params = %v", s.Params)
	}
}

func TestTC3Hosts(t *testing.T) {
	for _, tc := range []struct {
		sent, signed string
		ok           bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080", true}, // Go SDK
		{"127.0.0.1:8080", "127.0.0.1", true},      // Node.js SDKs
		{"127.0.0.1", "127.0.0.1", true},
		{"uc.example.com:443", "uc.example.com", true},
		{"[::1]:8080", "[::1]:8080", true},
		{"[::1]:8080", "[::1]", true},
		{"[::1]:8080", "::1", true},
		{"127.0.0.1:8080", "127.0.0.1:8081", false},
		{"127.0.0.1:8080", "127.0.0.2", false},
		{"127.0.0.1", "127.0.0.1:8080", false},
		{"evil.example.com:8080", "uc.example.com:8080", false},
	} {
		c := tc3Req{ts: testTS, body: []byte(testBody), sentHost: tc.sent, signHost: tc.signed}
		_, err := verify(t, c.request(), testNow, testKey)
		if tc.ok && err != nil {
			t.Errorf("sent %q signed %q: %v", tc.sent, tc.signed, err)
		}
		if !tc.ok {
			wantKind(t, err, tcsig.SignatureFailure)
		}
	}
}

func TestTC3HostCase(t *testing.T) {
	// The documented rule lowercases values; the Go SDK signs them as is.
	for _, asIs := range []bool{false, true} {
		c := tc3Req{ts: testTS, body: []byte(testBody), sentHost: "UC.Example.com:8080", asIs: asIs}
		mustVerify(t, c.request(), testNow)
		c.signHost = "UC.Example.com"
		mustVerify(t, c.request(), testNow)
	}
}

func TestTC3ExtraSignedHeaders(t *testing.T) {
	c := tc3Req{ts: testTS, body: []byte(testBody), signed: map[string]string{
		"x-tc-action":    "RegisterUser",
		"x-tc-timestamp": "1795299336",
		"x-tc-version":   "2022-08-17",
	}}
	mustVerify(t, c.request(), testNow)

	// The header is signed lowercased; a case change in transit is allowed by
	// the documented rule, a different action is not.
	r := c.request()
	r.Header.Set("X-TC-Action", "registeruser")
	mustVerify(t, r, testNow)
	r.Header.Set("X-TC-Action", "DeleteUser")
	_, err := verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.SignatureFailure)

	r = c.request()
	r.Header.Del("X-TC-Version")
	_, err = verify(t, r, testNow, testKey)
	e := wantKind(t, err, tcsig.InvalidAuthorization)
	if !strings.Contains(e.Msg, "x-tc-version") {
		t.Errorf("message %q does not name the missing header", e.Msg)
	}

	r = c.request()
	r.Header.Add("X-TC-Action", "DeleteUser")
	_, err = verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)
}

func TestTC3OddService(t *testing.T) {
	for _, svc := range []string{"127", "uc", "a", "my-svc_1.x", strings.Repeat("s", 64)} {
		c := tc3Req{ts: testTS, body: []byte(testBody), service: svc}
		s := mustVerify(t, c.request(), testNow)
		if s.Service != svc {
			t.Errorf("Service = %q, want %q", s.Service, svc)
		}
	}
	// The service is part of the key derivation: claiming another one fails.
	c := tc3Req{ts: testTS, body: []byte(testBody), service: "127"}
	r := c.request()
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/127/", "/lcic/", 1))
	_, err := verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.SignatureFailure)
}

func TestTC3WrongKey(t *testing.T) {
	c := tc3Req{ts: testTS, body: []byte(testBody)}
	for _, key := range []string{"", "x", testKey + "x", testKey[:len(testKey)-1], strings.ToUpper(testKey)} {
		_, err := verify(t, c.request(), testNow, key)
		e := wantKind(t, err, tcsig.SignatureFailure)
		sig, _ := c.sign()
		if strings.Contains(e.Error(), sig) || strings.Contains(e.Error(), testKey) {
			t.Errorf("error leaks a secret: %v", e)
		}
	}
}

func TestTC3EmptyKeyNeverVerifies(t *testing.T) {
	// A key store that answers "" for an unknown SecretId must not let
	// through a request signed with the empty key.
	c := tc3Req{ts: testTS, body: []byte(testBody), emptyKey: true}
	_, err := verify(t, c.request(), testNow, "")
	wantKind(t, err, tcsig.SignatureFailure)
	c = tc3Req{method: "GET", ts: testTS, emptyKey: true}
	_, err = verify(t, c.request(), testNow, "")
	wantKind(t, err, tcsig.SignatureFailure)
}

func TestTC3Tampering(t *testing.T) {
	post := tc3Req{ts: testTS, body: []byte(testBody)}
	get := tc3Req{method: "GET", ts: testTS, query: "Limit=10&Offset=0"}
	for name, mutate := range map[string]func(*tcsig.Request){
		"body":          func(r *tcsig.Request) { r.Body = []byte(strings.Replace(string(r.Body), "alice", "mallory", 1)) },
		"body appended": func(r *tcsig.Request) { r.Body = append(r.Body, ' ') },
		"content-type":  func(r *tcsig.Request) { r.Header.Set("Content-Type", "text/plain") },
		"timestamp":     func(r *tcsig.Request) { r.Header.Set("X-TC-Timestamp", "1795299337") },
		"method":        func(r *tcsig.Request) { r.Method = "GET" },
		"signature": func(r *tcsig.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			if last == '0' {
				last = '1'
			} else {
				last = '0'
			}
			r.Header.Set("Authorization", a[:len(a)-1]+string(last))
		},
	} {
		r := post.request()
		mutate(r)
		if _, err := verify(t, r, testNow, testKey); kindOf(t, err) != tcsig.SignatureFailure {
			t.Errorf("POST %s: err = %v, want SignatureFailure", name, err)
		}
	}
	for name, mutate := range map[string]func(*tcsig.Request){
		"query value":   func(r *tcsig.Request) { r.RawQuery = "Limit=11&Offset=0" },
		"query added":   func(r *tcsig.Request) { r.RawQuery += "&Admin=1" },
		"query reorder": func(r *tcsig.Request) { r.RawQuery = "Offset=0&Limit=10" },
		"query dropped": func(r *tcsig.Request) { r.RawQuery = "" },
		"method":        func(r *tcsig.Request) { r.Method = "POST" },
	} {
		r := get.request()
		mutate(r)
		if _, err := verify(t, r, testNow, testKey); kindOf(t, err) != tcsig.SignatureFailure {
			t.Errorf("GET %s: err = %v, want SignatureFailure", name, err)
		}
	}
}

// The SecretId is not an input of the TC3 signature (only the key derived
// from its secret is), so swapping it is caught by the key lookup, not here.
func TestTC3SecretIDIsBoundByTheKey(t *testing.T) {
	r := tc3Req{ts: testTS, body: []byte(testBody)}.request()
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testID, "AKIDother", 1))
	s, err := tcsig.Parse(r, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if s.SecretID != "AKIDother" {
		t.Errorf("SecretID = %q", s.SecretID)
	}
	if err := s.Verify("secret-of-AKIDother"); kindOf(t, err) != tcsig.SignatureFailure {
		t.Errorf("err = %v", err)
	}
}

func TestTC3Path(t *testing.T) {
	// The Go SDK signs "/" whatever the endpoint path; others may sign the
	// real path.
	for _, tc := range []struct {
		path, signPath string
		ok             bool
	}{
		{"/", "/", true},
		{"/api", "/", true},
		{"/api", "/api", true},
		{"/api", "/other", false},
		{"/", "/api", false},
	} {
		c := tc3Req{ts: testTS, body: []byte(testBody), path: tc.path, signPath: tc.signPath}
		_, err := verify(t, c.request(), testNow, testKey)
		if tc.ok && err != nil {
			t.Errorf("path %q signed %q: %v", tc.path, tc.signPath, err)
		}
		if !tc.ok && kindOf(t, err) != tcsig.SignatureFailure {
			t.Errorf("path %q signed %q: err = %v, want SignatureFailure", tc.path, tc.signPath, err)
		}
	}
}

func TestTC3Skew(t *testing.T) {
	c := tc3Req{ts: testTS, body: []byte(testBody)}
	for _, tc := range []struct {
		offset int64 // now - ts
		ok     bool
	}{
		{0, true}, {300, true}, {-300, true},
		{301, false}, {-301, false}, {86400, false}, {-86400 * 365, false},
	} {
		now := time.Unix(testTS+tc.offset, 0)
		_, err := verify(t, c.request(), now, testKey)
		if tc.ok && err != nil {
			t.Errorf("offset %d: %v", tc.offset, err)
		}
		if !tc.ok {
			wantKind(t, err, tcsig.SignatureExpire)
		}
	}
	// Sub-second parts of now do not push an exact 300 s over the edge.
	if _, err := verify(t, c.request(), time.Unix(testTS+300, 999999999), testKey); err != nil {
		t.Errorf("300.999 s: %v", err)
	}
}

func TestTC3ScopeDate(t *testing.T) {
	for _, date := range []string{"2026-11-20", "2026-11-22", "2025-11-21"} {
		c := tc3Req{ts: testTS, body: []byte(testBody), date: date}
		_, err := verify(t, c.request(), testNow, testKey)
		e := wantKind(t, err, tcsig.InvalidAuthorization)
		if !strings.Contains(e.Msg, "credential scope date does not match X-TC-Timestamp") {
			t.Errorf("message = %q", e.Msg)
		}
	}
	// Both edges of the UTC day.
	midnight := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).Unix()
	for _, ts := range []int64{midnight, midnight + 86399} {
		c := tc3Req{ts: ts, body: []byte(testBody)}
		mustVerify(t, c.request(), time.Unix(ts, 0))
	}
	c := tc3Req{ts: midnight - 1, body: []byte(testBody), date: "2026-11-21"}
	_, err := verify(t, c.request(), time.Unix(midnight, 0), testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)
}

func TestTC3Timestamp(t *testing.T) {
	c := tc3Req{ts: testTS, body: []byte(testBody)}
	r := c.request()
	r.Header.Del("X-TC-Timestamp")
	_, err := verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)

	for _, bad := range []string{"", "+1795299336", "-1795299336", "1795299336.0", "0x6b02a108", " 1795299336", "1795299336000000000000"} {
		r := c.request()
		r.Header.Set("X-TC-Timestamp", bad)
		_, err := verify(t, r, testNow, testKey)
		if kindOf(t, err) != tcsig.InvalidAuthorization {
			t.Errorf("X-TC-Timestamp %q: err = %v, want InvalidAuthorization", bad, err)
		}
	}
	r = c.request()
	r.Header.Add("X-TC-Timestamp", "1795299336")
	_, err = verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)

	// A leading zero is odd but it is what was signed.
	c.tsText = "01795299336"
	mustVerify(t, c.request(), testNow)
}

func TestTC3UnsignedPayload(t *testing.T) {
	c := tc3Req{ts: testTS, body: []byte(testBody), unsigned: true}
	s := mustVerify(t, c.request(), testNow)
	if !s.UnsignedPayload {
		t.Error("UnsignedPayload = false")
	}
	// The body is not covered: that is the point of the option.
	r := c.request()
	r.Body = []byte(`{"Name":"mallory"}`)
	mustVerify(t, r, testNow)
	// Without the header the literal hash is not accepted.
	r = c.request()
	r.Header.Del("X-TC-Content-SHA256")
	_, err := verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.SignatureFailure)
	// And a normally signed body does not verify once the header is added.
	r = tc3Req{ts: testTS, body: []byte(testBody)}.request()
	r.Header.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
	_, err = verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.SignatureFailure)
}

func TestTC3MalformedAuthorization(t *testing.T) {
	sig, good := tc3Req{ts: testTS, body: []byte(testBody)}.sign()
	cred := "Credential=" + testID + "/2026-11-21/lcic/tc3_request"
	sh := "SignedHeaders=content-type;host"
	sg := "Signature=" + sig
	join := func(parts ...string) string { return "TC3-HMAC-SHA256 " + strings.Join(parts, ", ") }

	// Spacing after commas is free.
	for _, a := range []string{
		good,
		"TC3-HMAC-SHA256 " + cred + "," + sh + "," + sg,
		"TC3-HMAC-SHA256 " + cred + ",   " + sh + ",  " + sg,
	} {
		r := tc3Req{ts: testTS, body: []byte(testBody)}.request()
		r.Header.Set("Authorization", a)
		if _, err := verify(t, r, testNow, testKey); err != nil {
			t.Errorf("%q: %v", a, err)
		}
	}

	for name, a := range map[string]string{
		"algorithm only":         "TC3-HMAC-SHA256",
		"algorithm and space":    "TC3-HMAC-SHA256 ",
		"algorithm suffix":       "TC3-HMAC-SHA256X " + cred + ", " + sh + ", " + sg,
		"two spaces":             "TC3-HMAC-SHA256  " + cred + ", " + sh + ", " + sg,
		"tab":                    "TC3-HMAC-SHA256\t" + cred + ", " + sh + ", " + sg,
		"trailing space":         good + " ",
		"trailing comma":         good + ",",
		"space before comma":     "TC3-HMAC-SHA256 " + cred + " , " + sh + ", " + sg,
		"order":                  join(sh, cred, sg),
		"missing signature":      join(cred, sh),
		"missing signed headers": join(cred, sg),
		"extra field":            join(cred, sh, sg, "Foo=bar"),
		"lowercase field":        join(strings.ToLower(cred[:10])+cred[10:], sh, sg),
		"short credential":       join("Credential="+testID+"/2026-11-21/lcic", sh, sg),
		"long credential":        join("Credential="+testID+"/2026-11-21/lcic/tc3_request/x", sh, sg),
		"terminator":             join("Credential="+testID+"/2026-11-21/lcic/tc3_requests", sh, sg),
		"empty id":               join("Credential=/2026-11-21/lcic/tc3_request", sh, sg),
		"id with space":          join("Credential=AKID x/2026-11-21/lcic/tc3_request", sh, sg),
		"empty service":          join("Credential="+testID+"/2026-11-21//tc3_request", sh, sg),
		"long service":           join("Credential="+testID+"/2026-11-21/"+strings.Repeat("s", 65)+"/tc3_request", sh, sg),
		"service charset":        join("Credential="+testID+"/2026-11-21/lc%ic/tc3_request", sh, sg),
		"date format":            join("Credential="+testID+"/20261121/lcic/tc3_request", sh, sg),
		"date short month":       join("Credential="+testID+"/2026-1-21/lcic/tc3_request", sh, sg),
		"date invalid":           join("Credential="+testID+"/2026-02-30/lcic/tc3_request", sh, sg),
		"empty signed headers":   join(cred, "SignedHeaders=", sg),
		"no content-type":        join(cred, "SignedHeaders=host", sg),
		"no host":                join(cred, "SignedHeaders=content-type", sg),
		"unsorted":               join(cred, "SignedHeaders=host;content-type", sg),
		"duplicate":              join(cred, "SignedHeaders=content-type;content-type;host", sg),
		"uppercase header":       join(cred, "SignedHeaders=Content-Type;host", sg),
		"empty header name":      join(cred, "SignedHeaders=content-type;;host", sg),
		"trailing semicolon":     join(cred, "SignedHeaders=content-type;host;", sg),
		"authorization signed":   join(cred, "SignedHeaders=authorization;content-type;host", sg),
		"uppercase signature":    join(cred, sh, "Signature="+strings.ToUpper(sig)),
		"short signature":        join(cred, sh, "Signature="+sig[:63]),
		"long signature":         join(cred, sh, "Signature="+sig+"0"),
		"non-hex signature":      join(cred, sh, "Signature="+sig[:63]+"g"),
		"empty signature":        join(cred, sh, "Signature="),
		"huge":                   join(cred, sh, sg) + strings.Repeat(" ", 5000),
	} {
		r := tc3Req{ts: testTS, body: []byte(testBody)}.request()
		r.Header.Set("Authorization", a)
		_, err := verify(t, r, testNow, testKey)
		if kindOf(t, err) != tcsig.InvalidAuthorization {
			t.Errorf("%s (%q): err = %v, want InvalidAuthorization", name, a, err)
		}
	}

	r := tc3Req{ts: testTS, body: []byte(testBody)}.request()
	r.Header.Add("Authorization", good)
	_, err := verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)
}

func TestUnsigned(t *testing.T) {
	for name, r := range map[string]*tcsig.Request{
		"nothing":       {Method: "POST", Host: "h", Path: "/", Body: []byte(testBody)},
		"nil header":    {Method: "GET", Host: "h", Path: "/", RawQuery: "Action=X"},
		"bearer":        {Method: "POST", Host: "h", Path: "/", Header: map[string][]string{"Authorization": {"Bearer x"}}},
		"lowercase tc3": {Method: "POST", Host: "h", Path: "/", Header: map[string][]string{"Authorization": {"tc3-hmac-sha256 Credential=a/2026-11-21/lcic/tc3_request"}}},
	} {
		_, err := tcsig.Parse(r, testNow)
		if kindOf(t, err) != tcsig.InvalidAuthorization {
			t.Errorf("%s: err = %v, want InvalidAuthorization", name, err)
		}
	}
	if _, err := tcsig.Parse(nil, testNow); kindOf(t, err) != tcsig.InvalidAuthorization {
		t.Errorf("nil request: err = %v", err)
	}
}

func TestMethods(t *testing.T) {
	for _, m := range []string{"PUT", "DELETE", "post", "", "HEAD"} {
		c := tc3Req{ts: testTS, body: []byte(testBody), method: m}
		r := c.request()
		r.Method = m
		_, err := tcsig.Parse(r, testNow)
		if kindOf(t, err) != tcsig.InvalidParameter {
			t.Errorf("method %q: err = %v, want InvalidParameter", m, err)
		}
	}
}

func TestVerifyZeroSigned(t *testing.T) {
	var nilSigned *tcsig.Signed
	for _, s := range []*tcsig.Signed{nilSigned, {}, {Scheme: tcsig.SchemeTC3}, {Scheme: tcsig.SchemeV1}} {
		if err := s.Verify(testKey); kindOf(t, err) != tcsig.SignatureFailure {
			t.Errorf("%+v: err = %v", s, err)
		}
	}
}
