package tcsig_test

import (
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"usercenter/tcsig"
)

// v1Action are action parameters with the awkward shapes: nested keys,
// spaces, unicode, and the separators & and = inside values.
var v1Action = map[string]string{
	"SdkAppId":      "1234657",
	"Users.0.Name":  "Zhang San",
	"Users.0.Alias": "张三 & co=1",
	"Users.1.Name":  "a+b%20c?d/e",
	"Users.10.Name": "",
}

func TestV1Good(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    v1Req
		sha256 bool
	}{
		{"POST HmacSHA1", v1Req{sigMethod: "HmacSHA1"}, false},
		{"POST HmacSHA256", v1Req{sigMethod: "HmacSHA256"}, true},
		{"POST default method", v1Req{}, false},
		{"GET HmacSHA1", v1Req{method: "GET", sigMethod: "HmacSHA1"}, false},
		{"GET HmacSHA256", v1Req{method: "GET", sigMethod: "HmacSHA256"}, true},
		{"POST in query", v1Req{sigMethod: "HmacSHA256", inQuery: true}, true},
		{"host without port", v1Req{sigMethod: "HmacSHA256", signHost: "127.0.0.1"}, true},
		{"IPv6 host", v1Req{sigMethod: "HmacSHA256", sentHost: "[::1]:8080", signHost: "[::1]"}, true},
		{"endpoint path", v1Req{sigMethod: "HmacSHA256", path: "/api"}, true},
		{"endpoint path signed as /", v1Req{sigMethod: "HmacSHA256", path: "/api", signPath: "/"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.req
			c.params = v1Params(testTS, v1Action)
			s := mustVerify(t, c.request(), testNow)
			if s.Scheme != tcsig.SchemeV1 || s.SecretID != testID || s.Timestamp != testTS || s.Nonce != "5577006791947779410" {
				t.Errorf("Signed = %+v", s)
			}
			want := url.Values{}
			for k, v := range v1Params(testTS, v1Action) {
				want.Set(k, v)
			}
			for _, k := range []string{"SecretId", "Timestamp", "Nonce"} {
				want.Del(k)
			}
			if got, w := s.Params.Encode(), want.Encode(); got != w {
				t.Errorf("Params\n got %s\nwant %s", got, w)
			}
			// The hash is the one SignatureMethod names, not the other.
			c.macMethod = "HmacSHA1"
			if !tc.sha256 {
				c.macMethod = "HmacSHA256"
			}
			_, err := verify(t, c.request(), testNow, testKey)
			wantKind(t, err, tcsig.SignatureFailure)
		})
	}
}

func TestV1Failures(t *testing.T) {
	base := v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, v1Action)}
	for name, mutate := range map[string]func(*tcsig.Request){
		"value":   func(r *tcsig.Request) { r.Body = []byte(strings.Replace(string(r.Body), "Zhang", "Zhan", 1)) },
		"added":   func(r *tcsig.Request) { r.Body = append(r.Body, "&Admin=1"...) },
		"removed": func(r *tcsig.Request) { r.Body = []byte(strings.Replace(string(r.Body), "Region=&", "", 1)) },
		"method":  func(r *tcsig.Request) { r.Method = "GET"; r.RawQuery = string(r.Body); r.Body = nil },
		"host":    func(r *tcsig.Request) { r.Host = "127.0.0.2:8080" },
		"port":    func(r *tcsig.Request) { r.Host = "127.0.0.1:8081" },
		"signature": func(r *tcsig.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), "Signature=", "Signature=AA", 1))
		},
		"not base64": func(r *tcsig.Request) {
			v, _ := url.ParseQuery(string(r.Body))
			v.Set("Signature", "!!!")
			r.Body = []byte(v.Encode())
		},
		"timestamp": func(r *tcsig.Request) {
			v, _ := url.ParseQuery(string(r.Body))
			v.Set("Timestamp", "1795299337")
			r.Body = []byte(v.Encode())
		},
		"nonce": func(r *tcsig.Request) {
			v, _ := url.ParseQuery(string(r.Body))
			v.Set("Nonce", "1")
			r.Body = []byte(v.Encode())
		},
		"secret id": func(r *tcsig.Request) {
			v, _ := url.ParseQuery(string(r.Body))
			v.Set("SecretId", "AKIDother")
			r.Body = []byte(v.Encode())
		},
		"method downgrade": func(r *tcsig.Request) {
			v, _ := url.ParseQuery(string(r.Body))
			v.Del("SignatureMethod")
			r.Body = []byte(v.Encode())
		},
	} {
		r := base.request()
		mutate(r)
		if _, err := verify(t, r, testNow, testKey); kindOf(t, err) != tcsig.SignatureFailure {
			t.Errorf("%s: err = %v, want SignatureFailure", name, err)
		}
	}
	for _, key := range []string{"", "x", testKey + "x", strings.ToLower(testKey)} {
		_, err := verify(t, base.request(), testNow, key)
		e := wantKind(t, err, tcsig.SignatureFailure)
		_, sig := base.sign()
		if strings.Contains(e.Error(), sig) || strings.Contains(e.Error(), testKey) {
			t.Errorf("error leaks a secret: %v", e)
		}
	}
}

func TestV1Path(t *testing.T) {
	// The Go SDK signs the real path, the Node.js SDKs always "/".
	for _, tc := range []struct {
		path, signPath string
		ok             bool
	}{
		{"/", "/", true},
		{"/api", "/api", true},
		{"/api", "/", true},
		{"/api", "/other", false},
		{"/", "/api", false},
		{"/other", "/api", false},
	} {
		c := v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, nil), path: tc.path, signPath: tc.signPath}
		_, err := verify(t, c.request(), testNow, testKey)
		if tc.ok && err != nil {
			t.Errorf("path %q signed %q: %v", tc.path, tc.signPath, err)
		}
		if !tc.ok && kindOf(t, err) != tcsig.SignatureFailure {
			t.Errorf("path %q signed %q: err = %v, want SignatureFailure", tc.path, tc.signPath, err)
		}
	}
}

func TestV1Missing(t *testing.T) {
	for _, p := range []string{"SecretId", "Signature", "Timestamp", "Nonce"} {
		c := v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, nil), omitParams: []string{p}}
		_, err := verify(t, c.request(), testNow, testKey)
		if e := wantKind(t, err, tcsig.MissingParameter); e.Param != p {
			t.Errorf("omitting %s: Param = %q", p, e.Param)
		}
		// Present but empty counts as missing.
		params := v1Params(testTS, nil)
		params[p] = ""
		c = v1Req{sigMethod: "HmacSHA256", params: params}
		r := c.request()
		if p == "Signature" {
			v, _ := url.ParseQuery(string(r.Body))
			v.Set("Signature", "")
			r.Body = []byte(v.Encode())
		}
		_, err = verify(t, r, testNow, testKey)
		if e := wantKind(t, err, tcsig.MissingParameter); e.Param != p {
			t.Errorf("empty %s: Param = %q", p, e.Param)
		}
	}
}

func TestV1InvalidParameters(t *testing.T) {
	for _, tc := range []struct {
		param, value string
	}{
		{"SignatureMethod", "HmacMD5"},
		{"SignatureMethod", "hmacsha256"},
		{"SignatureMethod", "HmacSHA256 "},
		{"SignatureMethod", ""},
		{"Timestamp", "abc"},
		{"Timestamp", "-1795299336"},
		{"Timestamp", "+1795299336"},
		{"Timestamp", "1795299336.5"},
		{"Timestamp", "99999999999999999999"},
		{"Nonce", "abc"},
		{"Nonce", "-5"},
		{"Nonce", "1e9"},
		{"Nonce", "99999999999999999999"},
		{"SecretId", "AKID test"},
		{"SecretId", "AKID/x"},
	} {
		params := v1Params(testTS, nil)
		params[tc.param] = tc.value
		c := v1Req{params: params}
		_, err := verify(t, c.request(), testNow, testKey)
		if kindOf(t, err) != tcsig.InvalidParameter {
			t.Errorf("%s=%q: err = %v, want InvalidParameter", tc.param, tc.value, err)
			continue
		}
		if e := wantKind(t, err, tcsig.InvalidParameter); e.Param != tc.param {
			t.Errorf("%s=%q: Param = %q", tc.param, tc.value, e.Param)
		}
	}
}

func TestV1Duplicate(t *testing.T) {
	for _, dup := range []string{"Action=DeleteUser", "Signature=abc", "Nonce=1", "SignatureMethod=HmacSHA1", "Users.0.Name=x"} {
		c := v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, v1Action)}
		r := c.request()
		r.Body = append(r.Body, "&"+dup...)
		_, err := verify(t, r, testNow, testKey)
		e := wantKind(t, err, tcsig.InvalidParameter)
		if name, _, _ := strings.Cut(dup, "="); e.Param != name {
			t.Errorf("%s: Param = %q", dup, e.Param)
		}
	}
}

func TestV1SkewExtremes(t *testing.T) {
	for _, tc := range []struct {
		ts  int64
		now time.Time
	}{
		{math.MaxInt64, time.Unix(-1, 0)},
		{math.MaxInt64, time.Unix(math.MinInt64, 0)},
		{0, time.Unix(math.MinInt64, 0)},
		{0, time.Unix(math.MaxInt64, 0)},
		{math.MaxInt64, time.Unix(0, 0)},
		{0, time.Unix(301, 0)},
	} {
		c := v1Req{sigMethod: "HmacSHA256", params: v1Params(tc.ts, nil)}
		_, err := verify(t, c.request(), tc.now, testKey)
		if kindOf(t, err) != tcsig.SignatureExpire {
			t.Errorf("ts %d now %d: err = %v", tc.ts, tc.now.Unix(), err)
		}
	}
	for _, tc := range []struct{ ts, now int64 }{{0, -300}, {0, 300}, {300, 0}, {10, -290}} {
		c := v1Req{sigMethod: "HmacSHA256", params: v1Params(tc.ts, nil)}
		mustVerify(t, c.request(), time.Unix(tc.now, 0))
	}
}

func TestV1Skew(t *testing.T) {
	for _, ts := range []int64{testTS - 400, testTS + 400, 0} {
		c := v1Req{sigMethod: "HmacSHA256", params: v1Params(ts, nil)}
		_, err := verify(t, c.request(), testNow, testKey)
		wantKind(t, err, tcsig.SignatureExpire)
	}
}

func TestV1Sources(t *testing.T) {
	c := v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, nil)}

	// A JSON body is not a form: the Signature in the query signs nothing
	// about it, so the request counts as unsigned.
	r := c.request()
	r.RawQuery, r.Body = string(r.Body), []byte(testBody)
	r.Header.Set("Content-Type", "application/json")
	_, err := verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)

	// A form mislabelled as JSON is not read as a form.
	r = c.request()
	r.Header.Set("Content-Type", "application/json")
	_, err = verify(t, r, testNow, testKey)
	wantKind(t, err, tcsig.InvalidAuthorization)

	// A form body with a charset parameter, or with no Content-Type, is fine.
	r = c.request()
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	mustVerify(t, r, testNow)
	r.Header.Del("Content-Type")
	mustVerify(t, r, testNow)

	// For a form POST, parameters in the query are neither signed nor used.
	r = c.request()
	r.RawQuery = "Action=DeleteUser"
	s := mustVerify(t, r, testNow)
	if s.Params.Get("Action") != "RegisterUser" {
		t.Errorf("Action = %q", s.Params.Get("Action"))
	}

	// SecretId without Signature is reported as a missing Signature.
	q := url.Values{"SecretId": {testID}, "Action": {"X"}}
	_, err = tcsig.Parse(&tcsig.Request{Method: "GET", Host: "h", Path: "/", RawQuery: q.Encode()}, testNow)
	if e := wantKind(t, err, tcsig.MissingParameter); e.Param != "Signature" {
		t.Errorf("Param = %q", e.Param)
	}

	// Bad percent-encoding in a signed request.
	_, err = tcsig.Parse(&tcsig.Request{Method: "GET", Host: "h", Path: "/", RawQuery: "Signature=x&A=%zz"}, testNow)
	wantKind(t, err, tcsig.InvalidParameter)
}

// A TC3 Authorization wins over v1 parameters in the same request.
func TestSchemePrecedence(t *testing.T) {
	r := tc3Req{method: "GET", ts: testTS, query: "Signature=abc&SecretId=x"}.request()
	s := mustVerify(t, r, testNow)
	if s.Scheme != tcsig.SchemeTC3 {
		t.Errorf("Scheme = %v", s.Scheme)
	}
	// A non-TC3 Authorization does not stop v1.
	r = v1Req{sigMethod: "HmacSHA256", params: v1Params(testTS, nil)}.request()
	r.Header.Set("Authorization", "Basic eDp5")
	if s := mustVerify(t, r, testNow); s.Scheme != tcsig.SchemeV1 {
		t.Errorf("Scheme = %v", s.Scheme)
	}
}
