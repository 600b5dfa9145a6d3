package enterprise_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

var bg = context.Background()

// Paths of the API, spelled out here rather than taken from the package.
const (
	pathLogin          = "/v2/quecauth/accessKeyAuthrize/accessKeyLogin"
	pathRefresh        = "/v2/quecauth/accessKeyAuthrize/refreshToken"
	pathUserInfo       = "/v2/enduser/enterpriseapi/userInfo"
	pathDomainList     = "/v2/enduser/enterpriseapi/entUserDomainList"
	pathDomainUserList = "/v2/enduser/enterpriseapi/userDomainUserList"
	pathSetUserStatus  = "/v2/enduser/enterpriseapi/setUserStatus"
)

// seedUserFields are the members of the Acceleronix enterprise API's user
// object, as the platform lists them.
var seedUserFields = []string{
	"address", "alipayUserId", "appleUserId", "city", "email", "facebookUserId", "headimg", "lang",
	"lastLoginTime", "lastLoginTimeTs", "logonMode", "nationality", "nikeName", "phone", "province",
	"qqUserId", "registerTime", "registerTimeTs", "remark", "sex", "signature", "status", "timezone",
	"twitterUserId", "uid", "userDomain", "wechatMiniprogramUserId", "wechatOffiaccountUserId", "wechatUnionId",
}

// pageInfoFields are PageHelper's PageInfo members, as the reference
// lists them.
var pageInfoFields = []string{
	"endRow", "hasNextPage", "hasPreviousPage", "isFirstPage", "isLastPage", "list",
	"navigateFirstPage", "navigateLastPage", "navigatePages", "navigatepageNums", "nextPage",
	"pageNum", "pageSize", "pages", "prePage", "size", "startRow", "total",
}

// domainFields are the members of a "User Domain" item.
var domainFields = []string{
	"addTime", "addTimeTs", "enable", "entId", "isEnable", "remark", "updateTime", "updateTimeTs",
	"userDomain", "userDomainId", "userDomainSecret", "userDomainType",
}

// sha256hex is the documented signature primitive, computed here
// independently of the server's code.
func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// loginUsername is the documented username string, fields in the order
// given (any order is allowed).
var (
	loginMu  sync.Mutex
	signedAt = map[string]bool{} // access key and timestamp of every login signed
)

// loginUsername signs at ts, moved on by a millisecond if needed so that
// no two logins of a test share a signature: the server refuses a signed
// login it has already seen.
func loginUsername(accessKey string, ts time.Time, order ...string) string {
	loginMu.Lock()
	ts = ts.Truncate(time.Millisecond)
	for signedAt[accessKey+ts.Format(time.RFC3339Nano)] {
		ts = ts.Add(time.Millisecond)
	}
	signedAt[accessKey+ts.Format(time.RFC3339Nano)] = true
	loginMu.Unlock()
	values := map[string]string{
		"ver": "1", "auth_mode": "accessKey", "sign_method": "sha256",
		"access_key": accessKey, "timestamp": strconv.FormatInt(ts.UnixMilli(), 10),
	}
	if len(order) == 0 {
		order = []string{"ver", "auth_mode", "sign_method", "access_key", "timestamp"}
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = k + "=" + values[k]
	}
	return strings.Join(parts, "&")
}

// loginQuery is the query of an AccessKey login as the platform's guide
// builds it: username URI-encoded, password sha256hex(username_plain +
// AccessSecret).
func loginQuery(username, secretKey string) string {
	return "grant_type=password&username=" + url.QueryEscape(username) + "&password=" + sha256hex(username+secretKey)
}

// result is one answer, read whole and checked against the envelope every
// answer obeys: HTTP 200, a JSON object with code, msg and extMsg, and a
// request ID header.
type result struct {
	Header http.Header
	Body   []byte
	Code   int
	Msg    string
	ExtMsg string
	m      map[string]json.RawMessage
}

var client = &http.Client{}

// call sends one request: token "" sends no Authorization header.
func call(t testing.TB, env *uctest.Env, method, pathAndQuery, token string) *result {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	return send(t, req)
}

func send(t testing.TB, req *http.Request) *result {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: HTTP %d, want 200 always: %s", req.Method, req.URL, res.StatusCode, b)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("%s %s: no X-Request-Id", req.Method, req.URL)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q", req.Method, req.URL, ct)
	}
	r := &result{Header: res.Header, Body: b}
	if err := json.Unmarshal(b, &r.m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %s", req.Method, req.URL, err, b)
	}
	for _, k := range []string{"code", "msg", "extMsg"} {
		if _, ok := r.m[k]; !ok {
			t.Fatalf("%s %s: body lacks %q: %s", req.Method, req.URL, k, b)
		}
	}
	json.Unmarshal(r.m["code"], &r.Code)
	json.Unmarshal(r.m["msg"], &r.Msg)
	json.Unmarshal(r.m["extMsg"], &r.ExtMsg)
	if r.Code == 50000 {
		t.Fatalf("%s %s: internal error: %s", req.Method, req.URL, b)
	}
	return r
}

// get is call with GET.
func get(t testing.TB, env *uctest.Env, pathAndQuery, token string) *result {
	t.Helper()
	return call(t, env, "GET", pathAndQuery, token)
}

// want fails unless the answer carries code (and msg, when given).
func (r *result) want(t testing.TB, code int, msg string) *result {
	t.Helper()
	if r.Code != code || (msg != "" && r.Msg != msg) {
		t.Fatalf("code %d msg %q, want %d %q: %s", r.Code, r.Msg, code, msg, r.Body)
	}
	if code == 200 && r.ExtMsg != "" {
		t.Fatalf("extMsg %q on a success", r.ExtMsg)
	}
	return r
}

// field decodes one member of the body.
func (r *result) field(t testing.TB, name string, v any) {
	t.Helper()
	raw, ok := r.m[name]
	if !ok {
		t.Fatalf("body lacks %q: %s", name, r.Body)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %q: %v: %s", name, err, r.Body)
	}
}

// keysOf returns the member names of a JSON object.
func keysOf(t testing.TB, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %v: %s", err, raw)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// sameSet fails unless got and want hold the same names.
func sameSet(t testing.TB, what string, got, want []string) {
	t.Helper()
	g := map[string]bool{}
	for _, k := range got {
		g[k] = true
	}
	if len(got) != len(want) {
		t.Fatalf("%s: members %v, want %v", what, got, want)
	}
	for _, k := range want {
		if !g[k] {
			t.Fatalf("%s: lacks %q; members %v", what, k, got)
		}
	}
}

// login logs key in and returns the access_token as answered.
func login(t testing.TB, env *uctest.Env, key *usercenter.APIKey) string {
	t.Helper()
	res := get(t, env, pathLogin+"?"+loginQuery(loginUsername(key.SecretID, env.Clock.Now()), key.SecretKey), "").want(t, 200, "OK")
	var tok string
	res.field(t, "access_token", &tok)
	if !strings.HasPrefix(tok, "QJWT ") {
		t.Fatalf("access_token %q lacks the QJWT prefix", tok)
	}
	return tok
}

// userJSON is the user object as a client decodes it.
type userJSON struct {
	Address                 string `json:"address"`
	AlipayUserID            string `json:"alipayUserId"`
	AppleUserID             string `json:"appleUserId"`
	City                    string `json:"city"`
	Email                   string `json:"email"`
	FacebookUserID          string `json:"facebookUserId"`
	Headimg                 string `json:"headimg"`
	Lang                    string `json:"lang"`
	LastLoginTime           int64  `json:"lastLoginTime"`
	LastLoginTimeTs         int64  `json:"lastLoginTimeTs"`
	LogonMode               int    `json:"logonMode"`
	Nationality             string `json:"nationality"`
	NikeName                string `json:"nikeName"`
	Phone                   string `json:"phone"`
	Province                string `json:"province"`
	QQUserID                string `json:"qqUserId"`
	RegisterTime            int64  `json:"registerTime"`
	RegisterTimeTs          int64  `json:"registerTimeTs"`
	Remark                  string `json:"remark"`
	Sex                     string `json:"sex"`
	Signature               string `json:"signature"`
	Status                  int    `json:"status"`
	Timezone                string `json:"timezone"`
	TwitterUserID           string `json:"twitterUserId"`
	UID                     string `json:"uid"`
	UserDomain              string `json:"userDomain"`
	WechatMiniprogramUserID string `json:"wechatMiniprogramUserId"`
	WechatOffiaccountUserID string `json:"wechatOffiaccountUserId"`
	WechatUnionID           string `json:"wechatUnionId"`
}

// pageJSON is a PageInfo as a client decodes it.
type pageJSON[T any] struct {
	EndRow            int64 `json:"endRow"`
	HasNextPage       bool  `json:"hasNextPage"`
	HasPreviousPage   bool  `json:"hasPreviousPage"`
	IsFirstPage       bool  `json:"isFirstPage"`
	IsLastPage        bool  `json:"isLastPage"`
	List              []T   `json:"list"`
	NavigateFirstPage int   `json:"navigateFirstPage"`
	NavigateLastPage  int   `json:"navigateLastPage"`
	NavigatePages     int   `json:"navigatePages"`
	NavigatepageNums  []int `json:"navigatepageNums"`
	NextPage          int   `json:"nextPage"`
	PageNum           int   `json:"pageNum"`
	PageSize          int   `json:"pageSize"`
	Pages             int   `json:"pages"`
	PrePage           int   `json:"prePage"`
	Size              int   `json:"size"`
	StartRow          int64 `json:"startRow"`
	Total             int64 `json:"total"`
}

type domainJSON struct {
	AddTime          int64  `json:"addTime"`
	AddTimeTs        int64  `json:"addTimeTs"`
	Enable           bool   `json:"enable"`
	EntID            int64  `json:"entId"`
	IsEnable         bool   `json:"isEnable"`
	Remark           string `json:"remark"`
	UpdateTime       int64  `json:"updateTime"`
	UpdateTimeTs     int64  `json:"updateTimeTs"`
	UserDomain       string `json:"userDomain"`
	UserDomainID     uint64 `json:"userDomainId"`
	UserDomainSecret string `json:"userDomainSecret"`
	UserDomainType   string `json:"userDomainType"`
}

// userInfo fetches one user and decodes it.
func userInfo(t testing.TB, env *uctest.Env, token, uid string) userJSON {
	t.Helper()
	res := get(t, env, pathUserInfo+"?uid="+url.QueryEscape(uid), token).want(t, 200, "OK")
	var u userJSON
	res.field(t, "data", &u)
	return u
}

// userList fetches one page of a domain's users.
func userList(t testing.TB, env *uctest.Env, token, domain string, page, size int) pageJSON[userJSON] {
	t.Helper()
	q := url.Values{"userDomain": {domain}}
	if page != 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if size != 0 {
		q.Set("pageSize", strconv.Itoa(size))
	}
	res := get(t, env, pathDomainUserList+"?"+q.Encode(), token).want(t, 200, "OK")
	var p pageJSON[userJSON]
	res.field(t, "data", &p)
	return p
}

// newUser creates a user through the service as the operator.
func newUser(t testing.TB, env *uctest.Env, sdkAppID uint64, p core.UserPatch) *usercenter.User {
	t.Helper()
	u, err := svctest.CreateUser(env.Svc, bg, usercenter.Operator(), sdkAppID, p)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// manyUsers registers n users in app, in batches.
func manyUsers(t testing.TB, env *uctest.Env, sdkAppID uint64, n int) {
	t.Helper()
	for done := 0; done < n; {
		var batch []svctest.Registration
		for i := done; i < n && len(batch) < core.MaxBatchUsers; i++ {
			batch = append(batch, svctest.Registration{SdkAppID: sdkAppID, Name: fmt.Sprintf("user %d", i), OriginID: fmt.Sprintf("o-%d", i)})
		}
		if _, err := svctest.BatchRegister(env.Svc, bg, usercenter.Operator(), batch); err != nil {
			t.Fatal(err)
		}
		done += len(batch)
	}
}

func ptr[T any](v T) *T { return &v }
