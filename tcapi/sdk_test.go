package tcapi_test

// Integration tests that drive a real instance with the official Go SDK
// client (common.NewCommonClient pointed at the test server over http), in
// every signing mode the SDK offers, through the typed requests of
// uctest/lcic.go.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"usercenter"
	"usercenter/tcapi"
	"usercenter/uctest"
)

// mode is one way the SDK can talk to the server.
type mode struct {
	name string
	opts uctest.SDKOptions
}

func (m mode) v1() bool  { return m.opts.SignMethod != uctest.TC3 }
func (m mode) get() bool { return m.opts.Method == "GET" }

// modes covers both signature schemes and both HTTP methods, and with them
// both parameter encodings: a JSON body (TC3 POST) and flattened
// "Users.0.Name" parameters (in the query for GET, a form body for v1 POST).
var modes = []mode{
	{"TC3 POST", uctest.SDKOptions{SignMethod: uctest.TC3}},
	{"TC3 GET", uctest.SDKOptions{SignMethod: uctest.TC3, Method: "GET"}},
	{"HmacSHA256 POST", uctest.SDKOptions{SignMethod: uctest.HmacSHA256}},
	{"HmacSHA1 GET", uctest.SDKOptions{SignMethod: uctest.HmacSHA1, Method: "GET"}},
}

var (
	userIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{27}$`)
	tokenPattern  = regexp.MustCompile(`^[0-9A-Za-z]{27}[0-9a-z]{35}$`) // a KSUID of its issue time, then the secret
)

// Response shapes, with exactly the fields of the SDK's lcic models: send
// decodes strictly, so an extra or misspelt field fails the test.

type sessionResp struct {
	UserId, Token, RequestId string
}

type userInfo struct {
	SdkAppId uint64
	UserId   string
	Name     string
	Avatar   string
	OriginId string
}

type describeUserResp struct {
	SdkAppId  uint64
	UserId    string
	Name      string
	Avatar    string
	OriginId  string
	RequestId string
}

func (r describeUserResp) info() userInfo {
	return userInfo{SdkAppId: r.SdkAppId, UserId: r.UserId, Name: r.Name, Avatar: r.Avatar, OriginId: r.OriginId}
}

type usersResp struct {
	Users     []userInfo
	RequestId string
}

type listResp struct {
	Total     uint64
	Users     []userInfo
	RequestId string
}

type batchUserInfo struct {
	SdkAppId uint64
	UserId   string
	OriginId string
}

type batchResp struct {
	Users     []batchUserInfo
	RequestId string
}

type emptyResp struct{ RequestId string }

// send runs req, which must succeed, and decodes its Response strictly.
func send[T any](t testing.TB, sdk *uctest.SDK, req tchttp.Request) T {
	t.Helper()
	body, err := sdk.Send(req)
	if err != nil {
		t.Fatalf("%s: %v", req.GetAction(), err)
	}
	var env struct{ Response T }
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("%s: decoding %s: %v", req.GetAction(), body, err)
	}
	var rid struct{ Response struct{ RequestId string } }
	if json.Unmarshal(body, &rid); rid.Response.RequestId == "" {
		t.Errorf("%s: no RequestId in %s", req.GetAction(), body)
	}
	return env.Response
}

// sendErr runs req, which must fail with the API error code; it checks that
// the error carries a RequestId and returns it.
func sendErr(t testing.TB, sdk *uctest.SDK, req tchttp.Request, code string) *tcerr.TencentCloudSDKError {
	t.Helper()
	body, err := sdk.Send(req)
	if err == nil {
		t.Fatalf("%s succeeded with %s, want %s", req.GetAction(), body, code)
	}
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) {
		t.Fatalf("%s: %T %v, want an API error %s", req.GetAction(), err, err, code)
	}
	if got := uctest.Code(err); got != code {
		t.Fatalf("%s: code %s (%s), want %s", req.GetAction(), got, e.GetMessage(), code)
	}
	if e.GetRequestId() == "" {
		t.Errorf("%s: %s carries no RequestId", req.GetAction(), code)
	}
	if e.GetMessage() == "" {
		t.Errorf("%s: %s carries no Message", req.GetAction(), code)
	}
	return e
}

// Request builders. Empty strings are left unset, as a typed SDK user
// would leave them.

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func registerReq(app uint64, name, origin, avatar string) *uctest.RegisterUserRequest {
	r := uctest.NewRegisterUser()
	r.SdkAppId, r.Name, r.OriginId, r.Avatar = uctest.P(app), opt(name), opt(origin), opt(avatar)
	return r
}

func loginReq(userID string) *uctest.LoginUserRequest {
	r := uctest.NewLoginUser()
	r.UserId = opt(userID)
	return r
}

func loginOriginReq(app uint64, origin string) *uctest.LoginOriginIdRequest {
	r := uctest.NewLoginOriginId()
	r.SdkAppId, r.OriginId = uctest.P(app), opt(origin)
	return r
}

func describeReq(userID, origin string) *uctest.DescribeUserRequest {
	r := uctest.NewDescribeUser()
	r.UserId, r.OriginId = opt(userID), opt(origin)
	return r
}

func detailReq(userID, origin string) *uctest.DescribeUserRequest {
	r := uctest.NewDescribeUserDetail()
	r.UserId, r.OriginId = opt(userID), opt(origin)
	return r
}

func modifyReq(userID string, nickname, avatar *string) *uctest.ModifyUserProfileRequest {
	r := uctest.NewModifyUserProfile()
	r.UserId, r.Nickname, r.Avatar = opt(userID), nickname, avatar
	return r
}

func deleteReq(userID string) *uctest.DeleteUserRequest {
	r := uctest.NewDeleteUser()
	r.UserId = opt(userID)
	return r
}

func listReq(app uint64, page, limit int64) *uctest.DescribeSdkAppIdUsersRequest {
	r := uctest.NewDescribeSdkAppIdUsers()
	r.SdkAppId = uctest.P(app)
	if page != 0 {
		r.Page = uctest.P(page)
	}
	if limit != 0 {
		r.Limit = uctest.P(limit)
	}
	return r
}

func batchReq(users ...*uctest.BatchUserRequest) *uctest.BatchRegisterRequest {
	r := uctest.NewBatchRegister()
	r.Users = users
	return r
}

func batchUser(app uint64, name, origin, avatar string) *uctest.BatchUserRequest {
	return &uctest.BatchUserRequest{SdkAppId: uctest.P(app), Name: opt(name), OriginId: opt(origin), Avatar: opt(avatar)}
}

// baseRequest is a request with no action parameters, for any action and
// version.
func baseRequest(action, version string) *tchttp.BaseRequest {
	r := &tchttp.BaseRequest{}
	r.Init().WithApiInfo("lcic", version, action)
	return r
}

// Requests the typed models cannot express, to provoke parameter errors.

type stringAppIDRequest struct {
	*tchttp.BaseRequest
	SdkAppId *string `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
}

type bogusFieldRequest struct {
	*tchttp.BaseRequest
	SdkAppId *uint64 `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
	Bogus    *string `json:"Bogus,omitnil,omitempty" name:"Bogus"`
}

type bogusBatchUser struct {
	SdkAppId *uint64 `json:"SdkAppId,omitnil,omitempty" name:"SdkAppId"`
	Bogus    *string `json:"Bogus,omitnil,omitempty" name:"Bogus"`
}

type bogusBatchRequest struct {
	*tchttp.BaseRequest
	Users []*bogusBatchUser `json:"Users,omitnil,omitempty" name:"Users"`
}

// TestSDKLifecycle runs every action through its successes, in every mode,
// checking the values that come back.
func TestSDKLifecycle(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			env := uctest.New(t)
			sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, m.opts)
			app := env.App.SdkAppID

			// RegisterUser: a 27-character base62 UserId and a token.
			alice := send[sessionResp](t, sdk, registerReq(app, "Alice 张三 & co=1", "alice", "https://example.com/a.png?x=1&y=2"))
			if !userIDPattern.MatchString(alice.UserId) || !tokenPattern.MatchString(alice.Token) {
				t.Fatalf("RegisterUser = %+v", alice)
			}
			// Without OriginId, the OriginId is the UserId.
			bob := send[sessionResp](t, sdk, registerReq(app, "Bob", "", ""))
			if !userIDPattern.MatchString(bob.UserId) || bob.UserId == alice.UserId || bob.Token == alice.Token {
				t.Fatalf("RegisterUser = %+v after %+v", bob, alice)
			}
			sendErr(t, sdk, registerReq(app, "Alice again", "alice", ""), "FailedOperation.OriginIdExists")

			wantAlice := userInfo{SdkAppId: app, UserId: alice.UserId, Name: "Alice 张三 & co=1", Avatar: "https://example.com/a.png?x=1&y=2", OriginId: "alice"}
			wantBob := userInfo{SdkAppId: app, UserId: bob.UserId, Name: "Bob", OriginId: bob.UserId}
			describe := func(userID, origin string) userInfo {
				t.Helper()
				return send[describeUserResp](t, sdk, describeReq(userID, origin)).info()
			}
			if got := describe(alice.UserId, ""); got != wantAlice {
				t.Errorf("DescribeUser(alice) = %+v, want %+v", got, wantAlice)
			}
			if got := describe(bob.UserId, ""); got != wantBob {
				t.Errorf("DescribeUser(bob) = %+v, want %+v", got, wantBob)
			}
			if got := describe("", "alice"); got != wantAlice {
				t.Errorf("DescribeUser(OriginId alice) = %+v, want %+v", got, wantAlice)
			}
			if got := describe("", bob.UserId); got != wantBob {
				t.Errorf("DescribeUser(OriginId = bob's UserId) = %+v, want %+v", got, wantBob)
			}
			// UserId wins over OriginId.
			if got := describe(bob.UserId, "alice"); got != wantBob {
				t.Errorf("DescribeUser(UserId bob, OriginId alice) = %+v, want bob", got)
			}
			if got := send[usersResp](t, sdk, detailReq("", "alice")).Users; len(got) != 1 || got[0] != wantAlice {
				t.Errorf("DescribeUserDetail(OriginId alice) = %+v", got)
			}
			if got := send[usersResp](t, sdk, detailReq(bob.UserId, "alice")).Users; len(got) != 1 || got[0] != wantBob {
				t.Errorf("DescribeUserDetail(UserId bob, OriginId alice) = %+v", got)
			}

			// Every login issues a new token.
			tokens := map[string]bool{alice.Token: true, bob.Token: true}
			fresh := func(s sessionResp, userID string) {
				t.Helper()
				if s.UserId != userID || !tokenPattern.MatchString(s.Token) || tokens[s.Token] {
					t.Errorf("login = %+v for %s; tokens so far %v", s, userID, tokens)
				}
				tokens[s.Token] = true
			}
			fresh(send[sessionResp](t, sdk, loginReq(alice.UserId)), alice.UserId)
			fresh(send[sessionResp](t, sdk, loginReq(alice.UserId)), alice.UserId)
			fresh(send[sessionResp](t, sdk, loginOriginReq(app, "alice")), alice.UserId)
			fresh(send[sessionResp](t, sdk, loginOriginReq(app, "alice")), alice.UserId)
			fresh(send[sessionResp](t, sdk, loginOriginReq(app, bob.UserId)), bob.UserId)

			// ModifyUserProfile changes what DescribeUser returns; a field
			// left out stays.
			send[emptyResp](t, sdk, modifyReq(alice.UserId, uctest.P("Alice II"), uctest.P("https://example.com/b.png")))
			wantAlice.Name, wantAlice.Avatar = "Alice II", "https://example.com/b.png"
			if got := describe(alice.UserId, ""); got != wantAlice {
				t.Errorf("after ModifyUserProfile: %+v, want %+v", got, wantAlice)
			}
			send[emptyResp](t, sdk, modifyReq(alice.UserId, uctest.P("Alice III"), nil))
			wantAlice.Name = "Alice III"
			if got := describe(alice.UserId, ""); got != wantAlice {
				t.Errorf("after ModifyUserProfile(Nickname): %+v, want %+v", got, wantAlice)
			}
			send[emptyResp](t, sdk, modifyReq(alice.UserId, nil, uctest.P("https://example.com/c.png")))
			wantAlice.Avatar = "https://example.com/c.png"
			if got := describe(alice.UserId, ""); got != wantAlice {
				t.Errorf("after ModifyUserProfile(Avatar): %+v, want %+v", got, wantAlice)
			}

			// BatchRegister upserts by (SdkAppId, OriginId) and answers per
			// user, in order.
			br := send[batchResp](t, sdk, batchReq(
				batchUser(app, "Alice batch", "alice", "https://example.com/d.png"), // existing: overwritten
				batchUser(app, "Carol", "carol", ""),                                // new
				batchUser(app, "Dave", "", ""),                                      // new, OriginId = UserId
				batchUser(app, "Bobby", bob.UserId, ""),                             // existing by its default OriginId
				batchUser(app, "Erin 1", "erin", ""),                                // new ...
				batchUser(app, "Erin 2", "erin", ""),                                // ... and overwritten in the same batch
			)).Users
			if len(br) != 6 {
				t.Fatalf("BatchRegister returned %d users: %+v", len(br), br)
			}
			for i, u := range br {
				if u.SdkAppId != app || !userIDPattern.MatchString(u.UserId) {
					t.Errorf("BatchRegister user %d = %+v", i, u)
				}
			}
			if br[0] != (batchUserInfo{app, alice.UserId, "alice"}) {
				t.Errorf("BatchRegister kept not alice's UserId: %+v, alice %s", br[0], alice.UserId)
			}
			if br[1].OriginId != "carol" || br[1].UserId == alice.UserId || br[1].UserId == bob.UserId {
				t.Errorf("BatchRegister carol = %+v", br[1])
			}
			if br[2].OriginId != br[2].UserId || br[2].UserId == br[1].UserId {
				t.Errorf("BatchRegister dave = %+v, want OriginId = UserId", br[2])
			}
			if br[3] != (batchUserInfo{app, bob.UserId, bob.UserId}) {
				t.Errorf("BatchRegister bob = %+v, want %s", br[3], bob.UserId)
			}
			if br[4].OriginId != "erin" || br[5] != br[4] {
				t.Errorf("BatchRegister erin twice = %+v, %+v, want one user", br[4], br[5])
			}
			carol, dave, erin := br[1].UserId, br[2].UserId, br[4].UserId
			wantAlice.Name, wantAlice.Avatar = "Alice batch", "https://example.com/d.png"
			if got := describe(alice.UserId, ""); got != wantAlice {
				t.Errorf("after BatchRegister: %+v, want %+v", got, wantAlice)
			}
			wantBob.Name = "Bobby"
			if got := describe(bob.UserId, ""); got != wantBob {
				t.Errorf("after BatchRegister: %+v, want %+v", got, wantBob)
			}
			if got := describe("", "carol"); got != (userInfo{app, carol, "Carol", "", "carol"}) {
				t.Errorf("DescribeUser(carol) = %+v", got)
			}
			if got := describe(dave, ""); got != (userInfo{app, dave, "Dave", "", dave}) {
				t.Errorf("DescribeUser(dave) = %+v", got)
			}
			if got := describe("", "erin"); got != (userInfo{app, erin, "Erin 2", "", "erin"}) {
				t.Errorf("DescribeUser(erin) = %+v", got)
			}
			// A batch-registered user can log in.
			fresh(send[sessionResp](t, sdk, loginOriginReq(app, "carol")), carol)

			// DescribeSdkAppIdUsers: Total counts exactly and the pages
			// cover every user once.
			all := map[string]bool{alice.UserId: true, bob.UserId: true, carol: true, dave: true, erin: true}
			checkList(t, sdk, app, all)

			// DeleteUser: gone for every action, and its OriginId is free.
			send[emptyResp](t, sdk, deleteReq(carol))
			delete(all, carol)
			sendErr(t, sdk, describeReq(carol, ""), "ResourceNotFound.User")
			sendErr(t, sdk, describeReq("", "carol"), "ResourceNotFound.User")
			sendErr(t, sdk, detailReq(carol, ""), "ResourceNotFound.User")
			sendErr(t, sdk, loginReq(carol), "ResourceNotFound.User")
			sendErr(t, sdk, loginOriginReq(app, "carol"), "ResourceNotFound.User")
			sendErr(t, sdk, modifyReq(carol, uctest.P("x"), nil), "ResourceNotFound.User")
			sendErr(t, sdk, deleteReq(carol), "ResourceNotFound.User")
			checkList(t, sdk, app, all)
			carol2 := send[sessionResp](t, sdk, registerReq(app, "Carol 2", "carol", ""))
			if carol2.UserId == carol {
				t.Errorf("re-registered carol got the deleted UserId %s", carol)
			}
			all[carol2.UserId] = true
			checkList(t, sdk, app, all)
		})
	}
}

// checkList pages through an app's users with several page sizes and
// checks that Total and the pages agree with want exactly.
func checkList(t *testing.T, sdk *uctest.SDK, app uint64, want map[string]bool) {
	t.Helper()
	def := send[listResp](t, sdk, listReq(app, 0, 0))
	if def.Total != uint64(len(want)) || len(def.Users) != len(want) {
		t.Fatalf("DescribeSdkAppIdUsers = Total %d, %d users; want %d", def.Total, len(def.Users), len(want))
	}
	for _, limit := range []int64{1, 2, 3, int64(len(want)), 1000} {
		seen := map[string]bool{}
		pages := (int64(len(want)) + limit - 1) / limit
		for page := int64(1); page <= pages+1; page++ {
			r := send[listResp](t, sdk, listReq(app, page, limit))
			if r.Total != uint64(len(want)) {
				t.Errorf("Page %d Limit %d: Total %d, want %d", page, limit, r.Total, len(want))
			}
			wantLen := min(limit, int64(len(want))-(page-1)*limit)
			if page > pages {
				wantLen = 0
			}
			if int64(len(r.Users)) != wantLen {
				t.Errorf("Page %d Limit %d: %d users, want %d", page, limit, len(r.Users), wantLen)
			}
			for _, u := range r.Users {
				if u.SdkAppId != app || !want[u.UserId] || seen[u.UserId] {
					t.Errorf("Page %d Limit %d: unexpected or repeated %+v", page, limit, u)
				}
				seen[u.UserId] = true
			}
		}
		if len(seen) != len(want) {
			t.Errorf("Limit %d: pages listed %d users, want %d", limit, len(seen), len(want))
		}
	}
}

// errFixture is an instance prepared for the error table: a second app, keys
// of limited scope and permission, and known users.
type errFixture struct {
	env   *uctest.Env
	mode  mode
	sdk   *uctest.SDK // env.Key: every permission on env.App only
	app   uint64
	app2  uint64
	user  sessionResp // in app, OriginId "taken"
	user2 sessionResp // in app2, OriginId "taken"
	// Keys scoped to app with one permission each, and a revoked key.
	readOnly, writeOnly, revoked *usercenter.APIKey
}

func newErrFixture(t *testing.T, m mode) *errFixture {
	t.Helper()
	env := uctest.New(t)
	f := &errFixture{env: env, mode: m, app: env.App.SdkAppID}
	f.sdk = f.client(t, env.Key.SecretID, env.Key.SecretKey)
	app2, key2 := env.NewApp(t, "second", 1000)
	f.app2 = app2.SdkAppID
	f.user = send[sessionResp](t, f.sdk, registerReq(f.app, "", "taken", ""))
	f.user2 = send[sessionResp](t, f.client(t, key2.SecretID, key2.SecretKey), registerReq(f.app2, "", "taken", ""))
	f.readOnly = env.NewKey(t, []uint64{f.app}, usercenter.PermUsersRead)
	f.writeOnly = env.NewKey(t, []uint64{f.app}, usercenter.PermUsersWrite)
	f.revoked = env.NewKey(t, []uint64{f.app}, usercenter.AllPermissions...)
	send[listResp](t, f.client(t, f.revoked.SecretID, f.revoked.SecretKey), listReq(f.app, 0, 0))
	if err := env.Svc.RevokeKey(t.Context(), usercenter.Operator(), f.revoked.SecretID); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *errFixture) client(t *testing.T, id, key string) *uctest.SDK {
	return f.env.SDK(t, id, key, f.mode.opts)
}

func (f *errFixture) as(t *testing.T, k *usercenter.APIKey) *uctest.SDK {
	return f.client(t, k.SecretID, k.SecretKey)
}

// errCase is one request that must fail with code.
type errCase struct {
	name string
	code string
	// v1Code and getCode, when set, replace code in v1 and GET modes.
	v1Code, getCode string
	// msg must appear in the error message (e.g. the offending field).
	msg string
	// isolated cases change the instance (its clock, its store) and get
	// a fixture of their own.
	isolated bool
	// client picks the SDK client; default f.sdk.
	client func(t *testing.T, f *errFixture) *uctest.SDK
	req    func(f *errFixture) tchttp.Request
}

func (c errCase) want(m mode) string {
	switch {
	case m.v1() && c.v1Code != "":
		return c.v1Code
	case m.get() && c.getCode != "":
		return c.getCode
	}
	return c.code
}

// A UserId of the right shape that no user has.
const unknownUserID = "2CvDgjRNjylAsBZB4iZc0F6koXe"

var errCases = []errCase{
	// Authentication.
	{name: "unknown SecretId", code: "AuthFailure.SecretIdNotFound",
		client: func(t *testing.T, f *errFixture) *uctest.SDK {
			return f.client(t, "AKIDnosuchkey0123456789abcdefghij", f.env.Key.SecretKey)
		},
		req: func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},
	{name: "revoked key", code: "AuthFailure.SecretIdNotFound",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.revoked) },
		req:    func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},
	{name: "wrong SecretKey", code: "AuthFailure.SignatureFailure",
		client: func(t *testing.T, f *errFixture) *uctest.SDK {
			return f.client(t, f.env.Key.SecretID, f.env.Key.SecretKey+"x")
		},
		req: func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},
	{name: "another key's SecretKey", code: "AuthFailure.SignatureFailure",
		client: func(t *testing.T, f *errFixture) *uctest.SDK {
			return f.client(t, f.env.Key.SecretID, f.readOnly.SecretKey)
		},
		req: func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},
	// A SecretId that cannot be a credential breaks the TC3 Authorization
	// header; v1 has no such header and calls it an invalid parameter.
	{name: "malformed SecretId", code: "AuthFailure.InvalidAuthorization", v1Code: "InvalidParameter", msg: "SecretId",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.client(t, "AKID/x", f.env.Key.SecretKey) },
		req:    func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},
	{name: "server clock 6 minutes ahead", code: "AuthFailure.SignatureExpire", isolated: true,
		client: func(t *testing.T, f *errFixture) *uctest.SDK {
			f.env.Clock.Advance(6 * time.Minute)
			return f.sdk
		},
		req: func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},

	// Routing.
	{name: "unknown action", code: "InvalidAction",
		req: func(f *errFixture) tchttp.Request { return baseRequest("DescribeRoom", tcapi.Version) }},
	{name: "action of the wrong case", code: "InvalidAction",
		req: func(f *errFixture) tchttp.Request { return baseRequest("registeruser", tcapi.Version) }},
	{name: "unknown version", code: "NoSuchVersion",
		req: func(f *errFixture) tchttp.Request { return baseRequest("DescribeSdkAppIdUsers", "2020-12-22") }},

	// Parameter shape.
	{name: "RegisterUser without SdkAppId", code: "MissingParameter", msg: "SdkAppId",
		req: func(f *errFixture) tchttp.Request { return baseRequest("RegisterUser", tcapi.Version) }},
	{name: "LoginUser without UserId", code: "MissingParameter", msg: "UserId",
		req: func(f *errFixture) tchttp.Request { return uctest.NewLoginUser() }},
	{name: "LoginOriginId without OriginId", code: "MissingParameter", msg: "OriginId",
		req: func(f *errFixture) tchttp.Request { return loginOriginReq(f.app, "") }},
	{name: "DescribeUser with neither UserId nor OriginId", code: "MissingParameter", msg: "UserId",
		req: func(f *errFixture) tchttp.Request { return describeReq("", "") }},
	{name: "DescribeSdkAppIdUsers without SdkAppId", code: "MissingParameter", msg: "SdkAppId",
		req: func(f *errFixture) tchttp.Request { return uctest.NewDescribeSdkAppIdUsers() }},
	{name: "BatchRegister without Users", code: "MissingParameter", msg: "Users",
		req: func(f *errFixture) tchttp.Request { return batchReq() }},
	{name: "BatchRegister user without SdkAppId", code: "MissingParameter", msg: "Users.1.SdkAppId",
		req: func(f *errFixture) tchttp.Request {
			return batchReq(batchUser(f.app, "a", "a", ""), &uctest.BatchUserRequest{Name: uctest.P("b")})
		}},
	{name: "SdkAppId not a number", code: "InvalidParameter", msg: "SdkAppId",
		req: func(f *errFixture) tchttp.Request {
			return &stringAppIDRequest{BaseRequest: baseRequest("RegisterUser", tcapi.Version), SdkAppId: uctest.P("14000x")}
		}},
	{name: "SdkAppId negative", code: "InvalidParameter", msg: "SdkAppId",
		req: func(f *errFixture) tchttp.Request {
			return &stringAppIDRequest{BaseRequest: baseRequest("DescribeSdkAppIdUsers", tcapi.Version), SdkAppId: uctest.P("-1")}
		}},
	// An SdkAppId beyond uint64 is covered by TestBadInputJSON with a raw
	// body: the Go SDK quotes such a number in JSON, making it a string.
	{name: "unknown parameter", code: "UnknownParameter", msg: "Bogus",
		req: func(f *errFixture) tchttp.Request {
			return &bogusFieldRequest{BaseRequest: baseRequest("RegisterUser", tcapi.Version), SdkAppId: uctest.P(f.app), Bogus: uctest.P("1")}
		}},
	{name: "unknown parameter in a list item", code: "UnknownParameter", msg: "Users.0.Bogus",
		req: func(f *errFixture) tchttp.Request {
			return &bogusBatchRequest{BaseRequest: baseRequest("BatchRegister", tcapi.Version),
				Users: []*bogusBatchUser{{SdkAppId: uctest.P(f.app), Bogus: uctest.P("1")}}}
		}},

	// Parameter values.
	{name: "Name too long", code: "InvalidParameterValue", msg: "Name",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, strings.Repeat("名", 129), "", "") }},
	{name: "Name with a control character", code: "InvalidParameterValue", msg: "Name",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a\x07b", "", "") }},
	{name: "Avatar not an http URL", code: "InvalidParameterValue", msg: "Avatar",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", "", "ftp://example.com/a.png") }},
	{name: "Avatar relative", code: "InvalidParameterValue", msg: "Avatar",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", "", "/a.png") }},
	{name: "OriginId with a space", code: "InvalidParameterValue", msg: "OriginId",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", "a b", "") }},
	{name: "OriginId too long", code: "InvalidParameterValue", msg: "OriginId",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", strings.Repeat("o", 129), "") }},
	{name: "Nickname too long", code: "InvalidParameterValue", msg: "Nickname",
		req: func(f *errFixture) tchttp.Request {
			return modifyReq(f.user.UserId, uctest.P(strings.Repeat("n", 129)), nil)
		}},
	{name: "ModifyUserProfile Avatar invalid", code: "InvalidParameterValue", msg: "Avatar",
		req: func(f *errFixture) tchttp.Request {
			return modifyReq(f.user.UserId, nil, uctest.P("javascript:alert(1)"))
		}},
	{name: "BatchRegister item Avatar invalid", code: "InvalidParameterValue", msg: "Users.1.Avatar",
		req: func(f *errFixture) tchttp.Request {
			return batchReq(batchUser(f.app, "a", "a", ""), batchUser(f.app, "b", "b", "not a url"))
		}},
	{name: "UserId too long", code: "InvalidParameterValue", msg: "UserId",
		req: func(f *errFixture) tchttp.Request { return describeReq(strings.Repeat("u", 65), "") }},
	{name: "Limit 0", code: "InvalidParameterValue", msg: "Limit",
		req: func(f *errFixture) tchttp.Request {
			r := listReq(f.app, 1, 0)
			r.Limit = uctest.P(int64(0))
			return r
		}},
	{name: "Limit 1001", code: "InvalidParameterValue", msg: "Limit",
		req: func(f *errFixture) tchttp.Request { return listReq(f.app, 1, 1001) }},
	{name: "Page 0", code: "InvalidParameterValue", msg: "Page",
		req: func(f *errFixture) tchttp.Request {
			r := listReq(f.app, 0, 10)
			r.Page = uctest.P(int64(0))
			return r
		}},
	{name: "Page -1", code: "InvalidParameterValue", msg: "Page",
		req: func(f *errFixture) tchttp.Request { return listReq(f.app, -1, 10) }},
	// A query over 32 KB is refused before anything else; in a body the
	// same Name is just too long.
	{name: "Name of 40 KB", code: "InvalidParameterValue", getCode: "RequestSizeLimitExceeded",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, strings.Repeat("x", 40<<10), "", "") }},

	// Apps and permissions.
	{name: "RegisterUser unknown SdkAppId", code: "InvalidParameter.SdkAppId",
		req: func(f *errFixture) tchttp.Request { return registerReq(1, "a", "", "") }},
	{name: "LoginOriginId unknown SdkAppId", code: "InvalidParameter.SdkAppId",
		req: func(f *errFixture) tchttp.Request { return loginOriginReq(1300000000, "taken") }},
	{name: "DescribeSdkAppIdUsers unknown SdkAppId", code: "InvalidParameter.SdkAppId",
		req: func(f *errFixture) tchttp.Request { return listReq(99, 0, 0) }},
	{name: "BatchRegister unknown SdkAppId", code: "InvalidParameter.SdkAppId",
		req: func(f *errFixture) tchttp.Request {
			return batchReq(batchUser(f.app, "a", "", ""), batchUser(7, "b", "", ""))
		}},
	{name: "RegisterUser in an app outside the key's scope", code: "UnauthorizedOperation",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app2, "a", "", "") }},
	{name: "LoginOriginId in an app outside the key's scope", code: "UnauthorizedOperation",
		req: func(f *errFixture) tchttp.Request { return loginOriginReq(f.app2, "taken") }},
	{name: "DescribeSdkAppIdUsers of an app outside the key's scope", code: "UnauthorizedOperation",
		req: func(f *errFixture) tchttp.Request { return listReq(f.app2, 0, 0) }},
	{name: "BatchRegister touching an app outside the key's scope", code: "UnauthorizedOperation",
		req: func(f *errFixture) tchttp.Request {
			return batchReq(batchUser(f.app, "a", "new-a", ""), batchUser(f.app2, "b", "new-b", ""))
		}},
	{name: "RegisterUser with a read-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.readOnly) },
		req:    func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", "", "") }},
	{name: "LoginUser with a read-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.readOnly) },
		req:    func(f *errFixture) tchttp.Request { return loginReq(f.user.UserId) }},
	{name: "ModifyUserProfile with a read-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.readOnly) },
		req:    func(f *errFixture) tchttp.Request { return modifyReq(f.user.UserId, uctest.P("x"), nil) }},
	{name: "DeleteUser with a read-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.readOnly) },
		req:    func(f *errFixture) tchttp.Request { return deleteReq(f.user.UserId) }},
	{name: "BatchRegister with a read-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.readOnly) },
		req:    func(f *errFixture) tchttp.Request { return batchReq(batchUser(f.app, "a", "", "")) }},
	{name: "DescribeUser with a write-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.writeOnly) },
		req:    func(f *errFixture) tchttp.Request { return describeReq(f.user.UserId, "") }},
	{name: "DescribeUser by OriginId with a write-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.writeOnly) },
		req:    func(f *errFixture) tchttp.Request { return describeReq("", "taken") }},
	{name: "DescribeSdkAppIdUsers with a write-only key", code: "UnauthorizedOperation",
		client: func(t *testing.T, f *errFixture) *uctest.SDK { return f.as(t, f.writeOnly) },
		req:    func(f *errFixture) tchttp.Request { return listReq(f.app, 0, 0) }},

	// Users.
	{name: "RegisterUser with a taken OriginId", code: "FailedOperation.OriginIdExists",
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", "taken", "") }},
	{name: "DescribeUser unknown UserId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return describeReq(unknownUserID, "") }},
	{name: "DescribeUser UserId of no shape", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return describeReq("nobody", "") }},
	{name: "DescribeUser unknown OriginId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return describeReq("", "nobody") }},
	{name: "DescribeUser unknown UserId beats a known OriginId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return describeReq(unknownUserID, "taken") }},
	{name: "DescribeUserDetail unknown UserId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return detailReq(unknownUserID, "") }},
	{name: "DescribeUserDetail unknown OriginId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return detailReq("", "nobody") }},
	{name: "LoginUser unknown UserId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return loginReq(unknownUserID) }},
	{name: "LoginOriginId unknown OriginId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return loginOriginReq(f.app, "nobody") }},
	{name: "ModifyUserProfile unknown UserId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return modifyReq(unknownUserID, uctest.P("x"), nil) }},
	{name: "DeleteUser unknown UserId", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return deleteReq(unknownUserID) }},
	// A user of an app outside the key's scope does not exist for it.
	{name: "DescribeUser of another tenant's user", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return describeReq(f.user2.UserId, "") }},
	{name: "LoginUser of another tenant's user", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return loginReq(f.user2.UserId) }},
	{name: "ModifyUserProfile of another tenant's user", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return modifyReq(f.user2.UserId, uctest.P("x"), nil) }},
	{name: "DeleteUser of another tenant's user", code: "ResourceNotFound.User",
		req: func(f *errFixture) tchttp.Request { return deleteReq(f.user2.UserId) }},

	// A closed store is unavailable, which the caller may retry, not an
	// internal failure.
	{name: "store closed", code: "ServiceUnavailable", isolated: true,
		client: func(t *testing.T, f *errFixture) *uctest.SDK {
			if err := f.env.Store.Close(); err != nil {
				t.Fatal(err)
			}
			return f.sdk
		},
		req: func(f *errFixture) tchttp.Request { return registerReq(f.app, "a", "", "") }},
}

// TestSDKErrors runs every error case in every mode and checks the code,
// the RequestId and, where it matters, that the message names the field.
func TestSDKErrors(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			shared := newErrFixture(t, m)
			for _, c := range errCases {
				t.Run(c.name, func(t *testing.T) {
					f := shared
					if c.isolated {
						f = newErrFixture(t, m)
					}
					sdk := f.sdk
					if c.client != nil {
						sdk = c.client(t, f)
					}
					e := sendErr(t, sdk, c.req(f), c.want(m))
					if c.msg != "" && !strings.Contains(e.GetMessage(), c.msg) {
						t.Errorf("message %q does not name %s", e.GetMessage(), c.msg)
					}
				})
			}
			// None of the failed writes left a trace: app 1 still has just
			// the one user, app 2 too.
			if !t.Failed() {
				r := send[listResp](t, shared.sdk, listReq(shared.app, 0, 0))
				if r.Total != 1 || len(r.Users) != 1 || r.Users[0].UserId != shared.user.UserId {
					t.Errorf("after the error cases app 1 has %+v", r)
				}
			}
		})
	}
}

// TestSDKLanguage checks that X-TC-Language (TC3) or the Language
// parameter (v1) selects the message language, and that a detail message
// keeps naming the field.
func TestSDKLanguage(t *testing.T) {
	env := uctest.New(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			zhOpts := m.opts
			zhOpts.Language = "zh-CN"
			zh := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, zhOpts)
			en := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, m.opts)

			if e := sendErr(t, zh, describeReq(unknownUserID, ""), "ResourceNotFound.User"); e.GetMessage() != "用户不存在。" {
				t.Errorf("zh-CN message %q", e.GetMessage())
			}
			if e := sendErr(t, en, describeReq(unknownUserID, ""), "ResourceNotFound.User"); e.GetMessage() != "The user does not exist." {
				t.Errorf("en-US message %q", e.GetMessage())
			}
			e := sendErr(t, zh, registerReq(env.App.SdkAppID, "", "", "ftp://x"), "InvalidParameterValue")
			if !strings.HasPrefix(e.GetMessage(), "参数取值错误。") || !strings.Contains(e.GetMessage(), "Avatar") {
				t.Errorf("zh-CN message %q", e.GetMessage())
			}
			// Authentication failures are localised too.
			bad := env.SDK(t, env.Key.SecretID, "wrong", zhOpts)
			if e := sendErr(t, bad, listReq(env.App.SdkAppID, 0, 0), "AuthFailure.SignatureFailure"); !strings.HasPrefix(e.GetMessage(), "签名错误") {
				t.Errorf("zh-CN message %q", e.GetMessage())
			}
		})
	}
}

// TestSDKRateLimit fills an app's per-action bucket (2 per second) and
// checks that the next request is refused with RequestLimitExceeded, that
// other actions and apps are unaffected, and that a second later requests
// pass again.
func TestSDKRateLimit(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			env := uctest.New(t, uctest.Options{RateLimit: 2})
			// The clock stands still until the test moves it, so that no
			// token refills however slowly the requests go.
			env.Clock.Freeze()
			sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, m.opts)
			app := env.App.SdkAppID
			ok := 0
			var err error
			for ; ok < 20; ok++ {
				if _, err = sdk.Send(listReq(app, 0, 0)); err != nil {
					break
				}
			}
			if ok != 2 {
				t.Fatalf("%d requests passed before refusal (%v), want the bucket's 2", ok, err)
			}
			var e *tcerr.TencentCloudSDKError
			if !errors.As(err, &e) || e.GetCode() != "RequestLimitExceeded" || e.GetRequestId() == "" {
				t.Fatalf("refused with %v, want RequestLimitExceeded with a RequestId", err)
			}
			// Another action has its own budget; another app its own.
			send[sessionResp](t, sdk, registerReq(app, "", "", ""))
			app2, key2 := env.NewApp(t, "second", 2)
			send[listResp](t, env.SDK(t, key2.SecretID, key2.SecretKey, m.opts), listReq(app2.SdkAppID, 0, 0))

			env.Clock.Advance(time.Second)
			if r := send[listResp](t, sdk, listReq(app, 0, 0)); r.Total != 1 {
				t.Errorf("after a second: %+v", r)
			}
		})
	}
}

// TestSDKConcurrentRegisterSameOriginId races 50 RegisterUser calls for
// one OriginId: the store decides, exactly one wins and the others hear
// FailedOperation.OriginIdExists.
func TestSDKConcurrentRegisterSameOriginId(t *testing.T) {
	env := uctest.New(t)
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{SignMethod: uctest.TC3})
	app := env.App.SdkAppID
	const n = 50
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		winners  []string
		codes    = map[string]int{}
		failures []string
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body, err := sdk.Send(registerReq(app, fmt.Sprintf("racer %d", i), "contested", ""))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				var e *tcerr.TencentCloudSDKError
				if errors.As(err, &e) && e.GetRequestId() == "" {
					failures = append(failures, "no RequestId: "+err.Error())
				}
				codes[uctest.Code(err)]++
				if uctest.Code(err) != "FailedOperation.OriginIdExists" {
					failures = append(failures, err.Error())
				}
				return
			}
			var r struct{ Response sessionResp }
			if err := json.Unmarshal(body, &r); err != nil || !userIDPattern.MatchString(r.Response.UserId) {
				failures = append(failures, fmt.Sprintf("bad success %s", body))
			}
			winners = append(winners, r.Response.UserId)
		}()
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 || codes["FailedOperation.OriginIdExists"] != n-1 {
		t.Errorf("%d succeeded %v, codes %v; want 1 and %d FailedOperation.OriginIdExists", len(winners), winners, codes, n-1)
	}
	for _, f := range failures {
		t.Error(f)
	}

	list := send[listResp](t, sdk, listReq(app, 1, 1000))
	var with []string
	for _, u := range list.Users {
		if u.OriginId == "contested" {
			with = append(with, u.UserId)
		}
	}
	if list.Total != 1 || len(with) != 1 || (len(winners) == 1 && with[0] != winners[0]) {
		t.Errorf("DescribeSdkAppIdUsers: Total %d, users with the OriginId %v, winners %v", list.Total, with, winners)
	}
	if got := send[describeUserResp](t, sdk, describeReq("", "contested")); len(winners) == 1 && got.UserId != winners[0] {
		t.Errorf("DescribeUser(OriginId) = %+v, winner %s", got, winners[0])
	}
}

// TestSDKBatchRegisterLimits checks the 1000-user bound of BatchRegister and
// that a refused batch writes nothing.
func TestSDKBatchRegisterLimits(t *testing.T) {
	env := uctest.New(t)
	sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{SignMethod: uctest.TC3})
	app := env.App.SdkAppID
	users := func(n int, prefix string) []*uctest.BatchUserRequest {
		out := make([]*uctest.BatchUserRequest, n)
		for i := range out {
			out[i] = batchUser(app, fmt.Sprintf("user %d", i), fmt.Sprintf("%s-%04d", prefix, i), "")
		}
		return out
	}
	e := sendErr(t, sdk, batchReq(users(1001, "over")...), "InvalidParameterValue")
	if !strings.Contains(e.GetMessage(), "Users") {
		t.Errorf("message %q does not name Users", e.GetMessage())
	}
	// An invalid last user fails the whole batch.
	bad := users(10, "bad")
	bad[9].Avatar = uctest.P("nope")
	sendErr(t, sdk, batchReq(bad...), "InvalidParameterValue")
	if r := send[listResp](t, sdk, listReq(app, 0, 0)); r.Total != 0 {
		t.Fatalf("refused batches wrote %d users", r.Total)
	}

	r := send[batchResp](t, sdk, batchReq(users(1000, "max")...))
	if len(r.Users) != 1000 {
		t.Fatalf("BatchRegister of 1000 returned %d users", len(r.Users))
	}
	ids := map[string]bool{}
	for i, u := range r.Users {
		if u.OriginId != fmt.Sprintf("max-%04d", i) || u.SdkAppId != app || !userIDPattern.MatchString(u.UserId) || ids[u.UserId] {
			t.Fatalf("user %d = %+v", i, u)
		}
		ids[u.UserId] = true
	}
	// Again: every user is matched by OriginId and keeps its UserId.
	again := users(1000, "max")
	for _, u := range again {
		u.Name = uctest.P("renamed")
	}
	r2 := send[batchResp](t, sdk, batchReq(again...))
	for i := range r2.Users {
		if r2.Users[i] != r.Users[i] {
			t.Fatalf("upsert changed user %d: %+v, was %+v", i, r2.Users[i], r.Users[i])
		}
	}
	list := send[listResp](t, sdk, listReq(app, 1, 1000))
	if list.Total != 1000 || len(list.Users) != 1000 {
		t.Fatalf("Total %d, %d users", list.Total, len(list.Users))
	}
	var names []string
	for _, u := range list.Users {
		if u.Name != "renamed" {
			names = append(names, u.Name)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		t.Errorf("%d users not renamed: %v", len(names), names[:min(len(names), 5)])
	}
}

// TestSDKDescribeAcrossApps covers a key scoped to two apps: DescribeUser by
// OriginId must be unambiguous, DescribeUserDetail lists every match.
func TestSDKDescribeAcrossApps(t *testing.T) {
	env := uctest.New(t)
	app2, _ := env.NewApp(t, "second", 1000)
	both := env.NewKey(t, []uint64{env.App.SdkAppID, app2.SdkAppID}, usercenter.AllPermissions...)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			sdk := env.SDK(t, both.SecretID, both.SecretKey, m.opts)
			origin := "shared-" + strings.ReplaceAll(m.name, " ", "-")
			u1 := send[sessionResp](t, sdk, registerReq(env.App.SdkAppID, "one", origin, ""))
			u2 := send[sessionResp](t, sdk, registerReq(app2.SdkAppID, "two", origin, ""))
			got := send[usersResp](t, sdk, detailReq("", origin)).Users
			sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
			want := []userInfo{
				{env.App.SdkAppID, u1.UserId, "one", "", origin},
				{app2.SdkAppID, u2.UserId, "two", "", origin},
			}
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("DescribeUserDetail = %+v, want %+v", got, want)
			}
			e := sendErr(t, sdk, describeReq("", origin), "InvalidParameterValue")
			if !strings.Contains(e.GetMessage(), "OriginId") {
				t.Errorf("message %q", e.GetMessage())
			}
			if got := send[describeUserResp](t, sdk, describeReq(u2.UserId, origin)); got.UserId != u2.UserId || got.SdkAppId != app2.SdkAppID {
				t.Errorf("DescribeUser(UserId) = %+v", got)
			}
			// The first app's own key sees only its user.
			own := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, m.opts)
			if got := send[describeUserResp](t, own, describeReq("", origin)); got.UserId != u1.UserId {
				t.Errorf("DescribeUser with the first app's key = %+v", got)
			}
		})
	}
}
