package tcapi_test

// Signature edge cases, with raw HTTP requests signed by the independent
// signers of uctest/rawsign.go so that each case perturbs one thing.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/tcapi"
	"usercenter/uctest"
)

// apiResult is a decoded API 3.0 envelope.
type apiResult struct {
	Code, Message, RequestId string
	Response                 map[string]json.RawMessage
}

func decodeResult(t *testing.T, resp *http.Response) apiResult {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The SDKs read nothing but a 200 with JSON, errors included.
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, Content-Type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var env struct {
		Response map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Response == nil {
		t.Fatalf("not an envelope: %s (%v)", body, err)
	}
	var r apiResult
	r.Response = env.Response
	json.Unmarshal(env.Response["RequestId"], &r.RequestId)
	if raw, ok := env.Response["Error"]; ok {
		var e struct{ Code, Message string }
		if err := json.Unmarshal(raw, &e); err != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("bad Error in %s", body)
		}
		r.Code, r.Message = e.Code, e.Message
	}
	if r.RequestId == "" {
		t.Errorf("no RequestId in %s", body)
	}
	return r
}

func (r apiResult) field(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Response[name], v); err != nil {
		t.Fatalf("Response.%s: %v in %v", name, err, r.Response)
	}
}

// sigFixture is an instance with keys for the signature cases.
type sigFixture struct {
	env     *uctest.Env
	app     uint64
	revoked *usercenter.APIKey
	sdk     *uctest.SDK
}

func newSigFixture(t *testing.T) *sigFixture {
	t.Helper()
	env := uctest.New(t)
	f := &sigFixture{env: env, app: env.App.SdkAppID}
	f.sdk = env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
	f.revoked = env.NewKey(t, []uint64{f.app}, usercenter.AllPermissions...)
	if err := env.Svc.RevokeKey(t.Context(), usercenter.Operator(), f.revoked.SecretID); err != nil {
		t.Fatal(err)
	}
	return f
}

// tc3 describes one TC3 request. Zero fields take the values of a valid
// DescribeSdkAppIdUsers POST signed by the app's key at the server's time.
type tc3 struct {
	method  string            // default POST
	action  string            // X-TC-Action; default DescribeSdkAppIdUsers; "-" for none
	version string            // X-TC-Version; default tcapi.Version; "-" for none
	body    []byte            // POST payload, signed and sent; default {"SdkAppId":app}
	query   string            // raw query, signed and sent
	header  map[string]string // headers set before signing
	host    string            // Host header sent; default env.Host
	signer  uctest.TC3Signer  // SecretID/SecretKey default to the app's key, Time to env.Clock.Now()
	// After signing: tamper changes the request, sendBody replaces the body.
	tamper   func(r *http.Request)
	sendBody []byte
}

func (f *sigFixture) tc3(t *testing.T, c tc3) apiResult {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.body == nil && c.method == http.MethodPost {
		c.body = []byte(fmt.Sprintf(`{"SdkAppId":%d}`, f.app))
	}
	if c.signer.SecretID == "" {
		c.signer.SecretID = f.env.Key.SecretID
	}
	if c.signer.SecretKey == "" {
		c.signer.SecretKey = f.env.Key.SecretKey
	}
	if c.signer.Time.IsZero() {
		c.signer.Time = f.env.Clock.Now()
	}
	u := f.env.URL + "/"
	if c.query != "" {
		u += "?" + c.query
	}
	req, err := http.NewRequest(c.method, u, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "" {
		req.Host = c.host
	}
	switch c.action {
	case "":
		req.Header.Set("X-TC-Action", "DescribeSdkAppIdUsers")
	case "-":
	default:
		req.Header.Set("X-TC-Action", c.action)
	}
	switch c.version {
	case "":
		req.Header.Set("X-TC-Version", tcapi.Version)
	case "-":
	default:
		req.Header.Set("X-TC-Version", c.version)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	c.signer.Sign(req, c.body)
	if c.tamper != nil {
		c.tamper(req)
	}
	if c.sendBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(c.sendBody))
		req.ContentLength = int64(len(c.sendBody))
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) apiResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decodeResult(t, resp)
}

// v1 describes one signature v1 request. Zero fields take the values of a
// valid HmacSHA256 form POST of DescribeSdkAppIdUsers by the app's key at
// the server's time.
type v1 struct {
	method    string     // default POST (form body); GET puts everything in the query
	params    url.Values // default Action, Version, SdkAppId
	id, key   string
	sigMethod string // default HmacSHA256; "-" sends none
	signHost  string // default env.Host
	// inQuery sends a POST's parameters in the query with an empty body.
	inQuery bool
	tamper  func(p url.Values) // after signing
}

func (f *sigFixture) v1Params(action string, kv ...string) url.Values {
	p := url.Values{"Action": {action}, "Version": {tcapi.Version}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	return p
}

func (f *sigFixture) v1(t *testing.T, c v1) apiResult {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.params == nil {
		c.params = f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10))
	}
	if c.params.Get("Timestamp") == "" {
		c.params.Set("Timestamp", strconv.FormatInt(f.env.Clock.Now().Unix(), 10))
	}
	if c.id == "" {
		c.id = f.env.Key.SecretID
	}
	if c.key == "" {
		c.key = f.env.Key.SecretKey
	}
	switch c.sigMethod {
	case "":
		c.sigMethod = "HmacSHA256"
	case "-":
		c.sigMethod = ""
	}
	if c.signHost == "" {
		c.signHost = f.env.Host
	}
	signed := uctest.SignV1(c.method, c.signHost, "/", c.params, c.id, c.key, c.sigMethod)
	if c.tamper != nil {
		c.tamper(signed)
	}
	return f.sendV1(t, c.method, signed, c.inQuery)
}

func (f *sigFixture) sendV1(t *testing.T, method string, p url.Values, inQuery bool) apiResult {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet || inQuery {
		req, err = http.NewRequest(method, f.env.URL+"/?"+p.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, f.env.URL+"/", strings.NewReader(p.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

type sigCase struct {
	name  string
	want  string // "" for success
	run   func(t *testing.T, f *sigFixture) apiResult
	check func(t *testing.T, f *sigFixture, r apiResult) // after a success
}

func signedWith(names ...string) uctest.TC3Signer { return uctest.TC3Signer{SignedHeaders: names} }

func at(f *sigFixture, d time.Duration) uctest.TC3Signer {
	return uctest.TC3Signer{Time: f.env.Clock.Now().Add(d)}
}

func checkTotal(t *testing.T, f *sigFixture, r apiResult) {
	var total uint64
	r.field(t, "Total", &total)
}

var sigCases = []sigCase{
	// TC3: the baseline and its keys.
	{name: "TC3 POST", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{}) }},
	{name: "TC3 wrong key", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SecretKey: f.env.Key.SecretKey[1:] + "x"}})
		}},
	{name: "TC3 unknown SecretId", want: "AuthFailure.SecretIdNotFound",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SecretID: "AKIDunknown0000000000000000000000"}})
		}},
	{name: "TC3 revoked key", want: "AuthFailure.SecretIdNotFound",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SecretID: f.revoked.SecretID, SecretKey: f.revoked.SecretKey}})
		}},

	// Timestamps: five minutes either way.
	{name: "TC3 timestamp 4m50s old", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{signer: at(f, -290*time.Second)}) }},
	{name: "TC3 timestamp 4m50s ahead", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{signer: at(f, 290*time.Second)}) }},
	{name: "TC3 timestamp 5m10s old", want: "AuthFailure.SignatureExpire",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{signer: at(f, -310*time.Second)}) }},
	{name: "TC3 timestamp 5m10s ahead", want: "AuthFailure.SignatureExpire",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{signer: at(f, 310*time.Second)}) }},
	{name: "TC3 timestamp a day old", want: "AuthFailure.SignatureExpire",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{signer: at(f, -24*time.Hour)}) }},
	{name: "TC3 timestamp zero", want: "AuthFailure.SignatureExpire",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Time: time.Unix(0, 0)}})
		}},
	{name: "TC3 timestamp not a number", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) { r.Header.Set("X-TC-Timestamp", "1e9") }})
		}},
	{name: "TC3 timestamp missing", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) { r.Header.Del("X-TC-Timestamp") }})
		}},
	{name: "TC3 timestamp changed after signing", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) {
				ts, _ := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
				r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts-1, 10))
			}})
		}},

	// The credential scope.
	{name: "TC3 scope date yesterday", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			now := f.env.Clock.Now()
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Time: now, Date: now.UTC().AddDate(0, 0, -1).Format("2006-01-02")}})
		}},
	{name: "TC3 scope date tomorrow", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			now := f.env.Clock.Now()
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Time: now, Date: now.UTC().AddDate(0, 0, 1).Format("2006-01-02")}})
		}},
	{name: "TC3 scope date in another format", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			now := f.env.Clock.Now()
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Time: now, Date: now.UTC().Format("20060102")}})
		}},
	// The Node.js SDKs sign the endpoint's first label as the service.
	{name: "TC3 service 127", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Service: "127"}})
		}},
	{name: "TC3 service uc", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Service: "uc"}})
		}},
	{name: "TC3 service renamed after signing", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{Service: "uc"}, tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/uc/", "/lcic/", 1))
			}})
		}},

	// Signed headers.
	{name: "TC3 x-tc-action signed", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: signedWith("content-type", "host", "x-tc-action")})
		}},
	{name: "TC3 every X-TC header signed", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{
				header: map[string]string{"X-TC-Language": "en-US", "X-TC-Region": "ap-guangzhou"},
				signer: signedWith("content-type", "host", "x-tc-action", "x-tc-language", "x-tc-region", "x-tc-timestamp", "x-tc-version"),
			})
		}},
	{name: "TC3 signed x-tc-action changed after signing", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{
				signer: signedWith("content-type", "host", "x-tc-action"),
				tamper: func(r *http.Request) { r.Header.Set("X-TC-Action", "DescribeUser") },
			})
		}},
	{name: "TC3 signed header absent", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: signedWith("content-type", "host", "x-custom")})
		}},
	{name: "TC3 signed headers without host", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: signedWith("content-type", "x-tc-action")})
		}},
	{name: "TC3 signed headers unsorted", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: signedWith("host", "content-type")})
		}},
	{name: "TC3 Content-Type changed after signing", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }})
		}},
	{name: "TC3 Content-Type with charset signed", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{header: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
		}},

	// The host: the Go SDK signs host:port, the Node.js SDKs the bare host.
	{name: "TC3 host signed with its port", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SignHost: f.env.Host}})
		}},
	{name: "TC3 host signed without its port", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			h, _, _ := net.SplitHostPort(f.env.Host)
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SignHost: h}})
		}},
	{name: "TC3 host signed with another port", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			h, _, _ := net.SplitHostPort(f.env.Host)
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SignHost: h + ":1"}})
		}},
	{name: "TC3 another host signed", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{signer: uctest.TC3Signer{SignHost: "lcic.tencentcloudapi.com"}})
		}},
	{name: "TC3 Host header by name, signed as sent", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			_, port, _ := net.SplitHostPort(f.env.Host)
			return f.tc3(t, tc3{host: "localhost:" + port})
		}},
	{name: "TC3 Host header by name, bare name signed", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			_, port, _ := net.SplitHostPort(f.env.Host)
			return f.tc3(t, tc3{host: "localhost:" + port, signer: uctest.TC3Signer{SignHost: "localhost"}})
		}},

	// The payload.
	{name: "TC3 body tampered", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{sendBody: []byte(fmt.Sprintf(`{"SdkAppId":%d,"Limit":1}`, f.app))})
		}},
	{name: "TC3 body with a space added", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{sendBody: []byte(fmt.Sprintf(`{"SdkAppId":%d} `, f.app))})
		}},
	// The SDKs can opt out of signing the body; the server refuses that,
	// since anyone who saw the request could then swap its body.
	{name: "TC3 UNSIGNED-PAYLOAD", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{header: map[string]string{"X-TC-Content-SHA256": "UNSIGNED-PAYLOAD"}})
		}},

	// GET with query parameters.
	{name: "TC3 GET with query parameters",
		run: func(t *testing.T, f *sigFixture) apiResult {
			q := url.Values{"SdkAppId": {strconv.FormatUint(f.app, 10)}, "Name": {"Gét 用户 & co=1"}, "OriginId": {"get-query"},
				"Avatar": {"https://example.com/a.png?x=1&y=2"}}
			return f.tc3(t, tc3{method: http.MethodGet, action: "RegisterUser", query: q.Encode()})
		},
		check: func(t *testing.T, f *sigFixture, r apiResult) {
			var id string
			r.field(t, "UserId", &id)
			got := send[describeUserResp](t, f.sdk, describeReq("", "get-query"))
			if got.info() != (userInfo{f.app, id, "Gét 用户 & co=1", "https://example.com/a.png?x=1&y=2", "get-query"}) {
				t.Errorf("registered by GET: %+v, UserId %s", got, id)
			}
		}},
	{name: "TC3 GET with a flattened list",
		run: func(t *testing.T, f *sigFixture) apiResult {
			app := strconv.FormatUint(f.app, 10)
			q := url.Values{"Users.0.SdkAppId": {app}, "Users.0.OriginId": {"get-b0"}, "Users.1.SdkAppId": {app}, "Users.1.Name": {"b1"}}
			return f.tc3(t, tc3{method: http.MethodGet, action: "BatchRegister", query: q.Encode()})
		},
		check: func(t *testing.T, f *sigFixture, r apiResult) {
			var users []batchUserInfo
			r.field(t, "Users", &users)
			if len(users) != 2 || users[0].OriginId != "get-b0" || users[1].OriginId != users[1].UserId {
				t.Errorf("BatchRegister by GET = %+v", users)
			}
		}},
	{name: "TC3 GET query tampered", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{method: http.MethodGet, query: fmt.Sprintf("Limit=1&SdkAppId=%d", f.app),
				tamper: func(r *http.Request) { r.URL.RawQuery = fmt.Sprintf("Limit=2&SdkAppId=%d", f.app) }})
		}},
	{name: "TC3 GET query reordered", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{method: http.MethodGet, query: fmt.Sprintf("Limit=1&SdkAppId=%d", f.app),
				tamper: func(r *http.Request) { r.URL.RawQuery = fmt.Sprintf("SdkAppId=%d&Limit=1", f.app) }})
		}},
	{name: "TC3 GET parameter added", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{method: http.MethodGet, query: fmt.Sprintf("SdkAppId=%d", f.app),
				tamper: func(r *http.Request) { r.URL.RawQuery += "&Limit=1" }})
		}},
	{name: "TC3 GET query over 32 KB", want: "RequestSizeLimitExceeded",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{method: http.MethodGet, action: "RegisterUser",
				query: fmt.Sprintf("SdkAppId=%d&Name=%s", f.app, strings.Repeat("x", 32<<10))})
		}},

	// The Authorization header itself.
	{name: "unsigned request", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) { r.Header.Del("Authorization") }})
		}},
	{name: "Authorization of another algorithm", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "TC3-HMAC-SHA256", "AWS4-HMAC-SHA256", 1))
			}})
		}},
	{name: "Authorization with an upper-case signature", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) {
				a := r.Header.Get("Authorization")
				i := strings.Index(a, "Signature=") + len("Signature=")
				r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
			}})
		}},
	{name: "Authorization without SignedHeaders", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=content-type;host, ", "", 1))
			}})
		}},
	{name: "two Authorization headers", want: "AuthFailure.InvalidAuthorization",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{tamper: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }})
		}},

	// After a valid signature: routing and decoding.
	{name: "TC3 without X-TC-Action", want: "MissingParameter",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{action: "-"}) }},
	{name: "TC3 unknown action", want: "InvalidAction",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{action: "CreateRoom"}) }},
	{name: "TC3 without X-TC-Version", want: "MissingParameter",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{version: "-"}) }},
	{name: "TC3 another version", want: "NoSuchVersion",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{version: "2017-03-12"}) }},
	{name: "TC3 body not JSON", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{body: []byte(`SdkAppId=1`)}) }},
	{name: "TC3 body a JSON array", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{body: []byte(`[1]`)}) }},
	{name: "TC3 body with data after the object", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{body: []byte(fmt.Sprintf(`{"SdkAppId":%d}{}`, f.app))})
		}},
	{name: "TC3 body not UTF-8", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{action: "RegisterUser", body: []byte(fmt.Sprintf("{\"SdkAppId\":%d,\"Name\":\"\xff\"}", f.app))})
		}},
	{name: "TC3 SdkAppId fractional", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{body: []byte(`{"SdkAppId":1.5}`)}) }},
	{name: "TC3 Users not a list", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{action: "BatchRegister", body: []byte(fmt.Sprintf(`{"Users":{"SdkAppId":%d}}`, f.app))})
		}},
	{name: "TC3 unknown parameter", want: "UnknownParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.tc3(t, tc3{body: []byte(fmt.Sprintf(`{"SdkAppId":%d,"Offset":0}`, f.app))})
		}},
	{name: "TC3 PUT", want: "UnsupportedProtocol",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.tc3(t, tc3{method: http.MethodPut}) }},

	// Signature v1.
	{name: "v1 HmacSHA256 POST form", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{}) }},
	{name: "v1 HmacSHA1 GET", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{method: http.MethodGet, sigMethod: "HmacSHA1"})
		}},
	{name: "v1 HmacSHA256 GET", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{method: http.MethodGet}) }},
	{name: "v1 without SignatureMethod is HmacSHA1", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{sigMethod: "-"}) }},
	{name: "v1 POST with the parameters in the query", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{inQuery: true}) }},
	{name: "v1 host signed without its port", check: checkTotal,
		run: func(t *testing.T, f *sigFixture) apiResult {
			h, _, _ := net.SplitHostPort(f.env.Host)
			return f.v1(t, v1{signHost: h})
		}},
	{name: "v1 another host signed", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{signHost: "lcic.tencentcloudapi.com"}) }},
	{name: "v1 signed as GET, sent as POST", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			p := f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10), "Timestamp", strconv.FormatInt(f.env.Clock.Now().Unix(), 10))
			return f.sendV1(t, http.MethodPost, uctest.SignV1("GET", f.env.Host, "/", p, f.env.Key.SecretID, f.env.Key.SecretKey, "HmacSHA256"), false)
		}},
	{name: "v1 wrong key", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{key: "wrong"}) }},
	{name: "v1 unknown SecretId", want: "AuthFailure.SecretIdNotFound",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{id: "AKIDunknown"}) }},
	{name: "v1 revoked key", want: "AuthFailure.SecretIdNotFound",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{id: f.revoked.SecretID, key: f.revoked.SecretKey})
		}},
	{name: "v1 Timestamp 5m10s old", want: "AuthFailure.SignatureExpire",
		run: func(t *testing.T, f *sigFixture) apiResult {
			p := f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10),
				"Timestamp", strconv.FormatInt(f.env.Clock.Now().Add(-310*time.Second).Unix(), 10))
			return f.v1(t, v1{params: p})
		}},
	{name: "v1 Timestamp 5m10s ahead", want: "AuthFailure.SignatureExpire",
		run: func(t *testing.T, f *sigFixture) apiResult {
			p := f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10),
				"Timestamp", strconv.FormatInt(f.env.Clock.Now().Add(310*time.Second).Unix(), 10))
			return f.v1(t, v1{params: p})
		}},
	{name: "v1 parameter tampered", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{tamper: func(p url.Values) { p.Set("Limit", "1") }})
		}},
	{name: "v1 SignatureMethod changed after signing", want: "AuthFailure.SignatureFailure",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{sigMethod: "HmacSHA1", tamper: func(p url.Values) { p.Set("SignatureMethod", "HmacSHA256") }})
		}},
	{name: "v1 without Nonce", want: "MissingParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{tamper: func(p url.Values) { p.Del("Nonce") }})
		}},
	{name: "v1 without Signature", want: "MissingParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{tamper: func(p url.Values) { p.Del("Signature") }})
		}},
	{name: "v1 Nonce not a number", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			p := f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10), "Nonce", "abc")
			return f.v1(t, v1{params: p})
		}},
	{name: "v1 SignatureMethod HmacMD5", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult { return f.v1(t, v1{sigMethod: "HmacMD5"}) }},
	{name: "v1 without Action", want: "MissingParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			return f.v1(t, v1{params: url.Values{"Version": {tcapi.Version}, "SdkAppId": {strconv.FormatUint(f.app, 10)}}})
		}},
	{name: "v1 another version", want: "NoSuchVersion",
		run: func(t *testing.T, f *sigFixture) apiResult {
			p := f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10), "Version", "2020-01-01")
			return f.v1(t, v1{params: p})
		}},
	{name: "v1 flattened list",
		run: func(t *testing.T, f *sigFixture) apiResult {
			app := strconv.FormatUint(f.app, 10)
			return f.v1(t, v1{params: f.v1Params("BatchRegister", "Users.0.SdkAppId", app, "Users.0.OriginId", "v1-b0",
				"Users.0.Name", "名 & =", "Users.1.SdkAppId", app, "Users.1.OriginId", "v1-b1")})
		},
		check: func(t *testing.T, f *sigFixture, r apiResult) {
			var users []batchUserInfo
			r.field(t, "Users", &users)
			if len(users) != 2 || users[0].OriginId != "v1-b0" || users[1].OriginId != "v1-b1" {
				t.Fatalf("BatchRegister by v1 = %+v", users)
			}
			if got := send[describeUserResp](t, f.sdk, describeReq(users[0].UserId, "")); got.Name != "名 & =" {
				t.Errorf("DescribeUser = %+v", got)
			}
		}},
	{name: "v1 list with a gap", want: "InvalidParameter",
		run: func(t *testing.T, f *sigFixture) apiResult {
			app := strconv.FormatUint(f.app, 10)
			return f.v1(t, v1{params: f.v1Params("BatchRegister", "Users.0.SdkAppId", app, "Users.2.SdkAppId", app)})
		}},
}

func TestSignatureCases(t *testing.T) {
	f := newSigFixture(t)
	for _, c := range sigCases {
		t.Run(c.name, func(t *testing.T) {
			r := c.run(t, f)
			if r.Code != c.want {
				t.Fatalf("code %q (%s), want %q", r.Code, r.Message, c.want)
			}
			if c.check != nil {
				c.check(t, f, r)
			}
		})
	}
}

// TestSignatureServerClock shifts the server's clock: a request signed by a
// client whose clock is now six minutes behind is refused; one signed at
// the server's time passes.
func TestSignatureServerClock(t *testing.T) {
	f := newSigFixture(t)
	wall := time.Now()
	if r := f.tc3(t, tc3{signer: uctest.TC3Signer{Time: wall}}); r.Code != "" {
		t.Fatalf("before the shift: %s", r.Code)
	}
	f.env.Clock.Advance(6 * time.Minute)
	if r := f.tc3(t, tc3{signer: uctest.TC3Signer{Time: wall}}); r.Code != "AuthFailure.SignatureExpire" {
		t.Errorf("TC3 signed at the old time: %q", r.Code)
	}
	p := f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10), "Timestamp", strconv.FormatInt(wall.Unix(), 10))
	if r := f.v1(t, v1{params: p}); r.Code != "AuthFailure.SignatureExpire" {
		t.Errorf("v1 signed at the old time: %q", r.Code)
	}
	if r := f.tc3(t, tc3{}); r.Code != "" {
		t.Errorf("TC3 signed at the server's time: %q", r.Code)
	}
	if r := f.v1(t, v1{}); r.Code != "" {
		t.Errorf("v1 signed at the server's time: %q", r.Code)
	}
	// The official SDK signs with the wall clock, now six minutes off.
	sendErr(t, f.sdk, listReq(f.app, 0, 0), "AuthFailure.SignatureExpire")
}

// TestSignatureV1NonceReplay replays v1 requests.
func TestSignatureV1NonceReplay(t *testing.T) {
	f := newSigFixture(t)
	other := f.env.NewKey(t, []uint64{f.app}, usercenter.AllPermissions...)
	params := func(nonce uint64) url.Values {
		return f.v1Params("DescribeSdkAppIdUsers", "SdkAppId", strconv.FormatUint(f.app, 10),
			"Nonce", strconv.FormatUint(nonce, 10), "Timestamp", strconv.FormatInt(f.env.Clock.Now().Unix(), 10))
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			nonce := uctest.RandomNonce()
			signed := uctest.SignV1(method, f.env.Host, "/", params(nonce), f.env.Key.SecretID, f.env.Key.SecretKey, "HmacSHA256")
			if r := f.sendV1(t, method, signed, false); r.Code != "" {
				t.Fatalf("first use: %s %s", r.Code, r.Message)
			}
			// The very same request again.
			r := f.sendV1(t, method, signed, false)
			if r.Code != "AuthFailure.SignatureFailure" || !strings.Contains(r.Message, "Nonce") {
				t.Errorf("replay: %q %q, want AuthFailure.SignatureFailure naming the Nonce", r.Code, r.Message)
			}
			// The same Nonce in a different request (another timestamp, so
			// another signature) is a new request, not a replay: the server
			// remembers (SecretId, Nonce, Signature), because the Node.js
			// SDKs draw Nonces from only 65,536 values (tcsig.ReplayKey).
			p := params(nonce)
			p.Set("Timestamp", strconv.FormatInt(f.env.Clock.Now().Add(time.Second).Unix(), 10))
			again := uctest.SignV1(method, f.env.Host, "/", p, f.env.Key.SecretID, f.env.Key.SecretKey, "HmacSHA1")
			if r := f.sendV1(t, method, again, false); r.Code != "" {
				t.Errorf("same Nonce, different request: %q %s", r.Code, r.Message)
			}
			if r := f.sendV1(t, method, again, false); r.Code != "AuthFailure.SignatureFailure" {
				t.Errorf("replay of the second request: %q", r.Code)
			}
			// Nonces are per SecretId: another key may use the same one.
			if r := f.sendV1(t, method, uctest.SignV1(method, f.env.Host, "/", params(nonce), other.SecretID, other.SecretKey, "HmacSHA256"), false); r.Code != "" {
				t.Errorf("same Nonce, another key: %q %s", r.Code, r.Message)
			}
			// A badly signed request does not use up its Nonce.
			nonce2 := uctest.RandomNonce()
			if r := f.sendV1(t, method, uctest.SignV1(method, f.env.Host, "/", params(nonce2), f.env.Key.SecretID, "wrong", "HmacSHA256"), false); r.Code != "AuthFailure.SignatureFailure" {
				t.Fatalf("bad signature: %q", r.Code)
			}
			if r := f.sendV1(t, method, uctest.SignV1(method, f.env.Host, "/", params(nonce2), f.env.Key.SecretID, f.env.Key.SecretKey, "HmacSHA256"), false); r.Code != "" {
				t.Errorf("Nonce after a bad signature: %q %s", r.Code, r.Message)
			}
		})
	}
}

// TestRequestSizeLimit sends validly signed JSON bodies at and just over
// 10 MB.
func TestRequestSizeLimit(t *testing.T) {
	f := newSigFixture(t)
	body := func(size int) []byte {
		head := fmt.Sprintf(`{"SdkAppId":%d,"Name":"`, f.app)
		b := []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
		if len(b) != size {
			t.Fatalf("body of %d bytes, want %d", len(b), size)
		}
		return b
	}
	for _, c := range []struct {
		size int
		want string
	}{
		{tcapi.MaxBodyBytes + 1, "RequestSizeLimitExceeded"},
		{tcapi.MaxBodyBytes + 1<<20, "RequestSizeLimitExceeded"},
		// At the limit the body is read, verified and decoded: the Name is
		// what is wrong with it then.
		{tcapi.MaxBodyBytes, "InvalidParameterValue"},
	} {
		t.Run(strconv.Itoa(c.size), func(t *testing.T) {
			b := body(c.size)
			req, err := http.NewRequest(http.MethodPost, f.env.URL+"/", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-TC-Action", "RegisterUser")
			req.Header.Set("X-TC-Version", tcapi.Version)
			uctest.SignTC3(req, b, f.env.Key.SecretID, f.env.Key.SecretKey, "lcic", f.env.Clock.Now(), nil, "")
			r := sendEarlyReply(t, f.env.Host, req)
			if r.Code != c.want {
				t.Errorf("code %q (%s), want %q", r.Code, r.Message, c.want)
			}
		})
	}
}

// sendEarlyReply writes req on its own connection while reading the
// response concurrently: a server that refuses a body part-way answers
// before it has read it all, and may stop reading, which would make an
// ordinary client report a write error instead of the answer.
func sendEarlyReply(t *testing.T, host string, req *http.Request) apiResult {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	written := make(chan error, 1)
	go func() { written <- req.Write(conn) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		conn.Close()
		t.Fatalf("reading the response: %v (write: %v)", err, <-written)
	}
	r := decodeResult(t, resp)
	conn.Close()
	<-written
	return r
}

// TestRawSignersMatchSDK checks the independent signers of uctest against
// the official SDK: re-signing what the SDK sent, with its timestamp and
// nonce, must give the SDK's signature byte for byte. So the signature
// cases above perturb requests that are otherwise exactly the SDK's.
func TestRawSignersMatchSDK(t *testing.T) {
	const id, key = "AKIDrawSignerCheck0123456789abcd", "rawSignerCheckKey0123456789ABCDE"
	var (
		got     *http.Request
		gotBody []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		got = r
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Response":{"RequestId":"x"}}`)
	}))
	defer srv.Close()
	capture := &uctest.Env{Host: strings.TrimPrefix(srv.URL, "http://")}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			sdk := capture.SDK(t, id, key, m.opts)
			req := batchReq(batchUser(1400000001, "Zhang San & co=1 张三", "o-1", "https://example.com/a.png?x=1"), batchUser(1400000001, "b", "", ""))
			if _, err := sdk.Send(req); err != nil {
				t.Fatal(err)
			}
			if !m.v1() {
				r, err := http.NewRequest(got.Method, srv.URL+"/?"+got.URL.RawQuery, nil)
				if err != nil {
					t.Fatal(err)
				}
				r.Host = got.Host
				r.Header.Set("Content-Type", got.Header.Get("Content-Type"))
				ts, err := strconv.ParseInt(got.Header.Get("X-TC-Timestamp"), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				uctest.SignTC3(r, gotBody, id, key, "lcic", time.Unix(ts, 0), nil, "")
				if want := got.Header.Get("Authorization"); r.Header.Get("Authorization") != want {
					t.Errorf("SignTC3 gave\n%s\nthe SDK sent\n%s", r.Header.Get("Authorization"), want)
				}
				return
			}
			raw := got.URL.RawQuery
			if got.Method == http.MethodPost {
				raw = string(gotBody)
			}
			params, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatal(err)
			}
			if params.Get("Users.0.Name") != "Zhang San & co=1 张三" || params.Get("Nonce") == "" {
				t.Fatalf("SDK sent %v", params)
			}
			resigned := uctest.SignV1(got.Method, got.Host, "/", params, id, key, params.Get("SignatureMethod"))
			if resigned.Get("Signature") != params.Get("Signature") {
				t.Errorf("SignV1 gave %s, the SDK sent %s", resigned.Get("Signature"), params.Get("Signature"))
			}
		})
	}
}
