package restapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// basic is the Authorization header of an API key.
func basic(k *usercenter.APIKey) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(k.SecretID+":"+k.SecretKey))
}

// bearer is the Authorization header of a user token.
func bearer(token string) string { return "Bearer " + token }

// response is one HTTP answer, read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r *response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r *response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %T: %v: %s", v, err, r.Body)
	}
}

// request describes one call.
type request struct {
	Method      string
	Path        string // with query
	Auth        string // Authorization header
	Body        string
	ContentType string // default application/json when there is a body; "-" for none
	Header      map[string]string
}

var client = &http.Client{}

// do sends a request to env.
func do(t testing.TB, env *uctest.Env, req request) *response {
	t.Helper()
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(context.Background(), req.Method, env.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if req.Auth != "" {
		hr.Header.Set("Authorization", req.Auth)
	}
	switch {
	case req.ContentType == "-":
	case req.ContentType != "":
		hr.Header.Set("Content-Type", req.ContentType)
	case req.Body != "":
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	res, err := client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// scenario is one row of a table test, in the style of PocketBase's
// ApiScenario: a request and what its answer must and must not hold.
type scenario struct {
	Name string
	request
	Status      int
	Code        string   // the problem code, for errors
	Field       string   // the problem field, when one is expected
	Contains    []string // substrings the body must hold
	NotContains []string // substrings the body must not hold
	Check       func(t *testing.T, res *response)
}

func (s scenario) run(t *testing.T, env *uctest.Env) *response {
	t.Helper()
	res := do(t, env, s.request)
	if res.Status != s.Status {
		t.Fatalf("%s %s: status %d, want %d: %s", s.Method, s.Path, res.Status, s.Status, res.Body)
	}
	if s.Status >= 400 {
		checkProblem(t, res, s.Status, s.Code, s.Field)
	} else if s.Code != "" {
		t.Fatalf("scenario %q expects code %q on a success", s.Name, s.Code)
	}
	for _, c := range s.Contains {
		if !bytes.Contains(res.Body, []byte(c)) {
			t.Errorf("%s %s: body lacks %q: %s", s.Method, s.Path, c, res.Body)
		}
	}
	for _, c := range s.NotContains {
		if c != "" && bytes.Contains(res.Body, []byte(c)) {
			t.Errorf("%s %s: body holds %q: %s", s.Method, s.Path, c, res.Body)
		}
	}
	if s.Check != nil {
		s.Check(t, res)
	}
	return res
}

// checkProblem asserts an RFC 9457 answer with the given code.
func checkProblem(t testing.TB, res *response, status int, code, field string) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, res.Body)
	}
	var p struct {
		Type, Title, Detail, Code, RequestID, Field string
		Status                                      int
	}
	res.Decode(t, &p)
	if p.Code != code || p.Status != status || p.Type != "https://usercenter.dev/problems/"+code {
		t.Fatalf("problem %+v, want code %q status %d", p, code, status)
	}
	if p.Title == "" || p.Detail == "" {
		t.Fatalf("problem without title or detail: %s", res.Body)
	}
	if p.RequestID == "" || p.RequestID != res.Header.Get("X-Request-Id") {
		t.Fatalf("problem requestId %q, X-Request-Id %q", p.RequestID, res.Header.Get("X-Request-Id"))
	}
	if field != "" && p.Field != field {
		t.Fatalf("problem field %q, want %q: %s", p.Field, field, res.Body)
	}
	if status == 500 {
		t.Fatalf("a 500 answer: %s", res.Body)
	}
}

// userJSON mirrors the API's user object.
type userJSON struct {
	UserID        string            `json:"userId"`
	SdkAppID      uint64            `json:"sdkAppId"`
	OriginID      string            `json:"originId"`
	UserDomain    string            `json:"userDomain"`
	Status        int               `json:"status"`
	Nickname      string            `json:"nickname"`
	Avatar        string            `json:"avatar"`
	Phone         string            `json:"phone"`
	Email         string            `json:"email"`
	Address       string            `json:"address"`
	City          string            `json:"city"`
	Province      string            `json:"province"`
	Nationality   string            `json:"nationality"`
	Lang          string            `json:"lang"`
	Timezone      string            `json:"timezone"`
	Sex           string            `json:"sex"`
	Signature     string            `json:"signature"`
	Remark        string            `json:"remark"`
	LogonMode     int               `json:"logonMode"`
	RegisterTime  string            `json:"registerTime"`
	UpdateTime    string            `json:"updateTime"`
	LastLoginTime *string           `json:"lastLoginTime"`
	ThirdPartyIDs map[string]string `json:"thirdPartyIds"`
}

type userList struct {
	Users []userJSON `json:"users"`
	Next  *string    `json:"next"`
}

type auditEvent struct {
	ID        int64  `json:"id"`
	At        string `json:"at"`
	SdkAppID  uint64 `json:"sdkAppId"`
	UserID    string `json:"userId"`
	Action    string `json:"action"`
	Field     string `json:"field"`
	Actor     string `json:"actor"`
	RequestID string `json:"requestId"`
}

type auditList struct {
	Events []auditEvent `json:"events"`
	Next   *string      `json:"next"`
}

// createUser creates a user over HTTP with key k and returns it.
func createUser(t testing.TB, env *uctest.Env, k *usercenter.APIKey, sdkAppID uint64, body string) userJSON {
	t.Helper()
	res := do(t, env, request{Method: "POST", Path: appUsers(sdkAppID), Auth: basic(k), Body: body})
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var u userJSON
	res.Decode(t, &u)
	return u
}

func appUsers(sdkAppID uint64) string { return "/v1/apps/" + itoa(sdkAppID) + "/users" }

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// register creates a user through core with a login token.
func register(t testing.TB, env *uctest.Env, originID string) *core.Session {
	t.Helper()
	sess, err := svctest.RegisterUser(env.Svc, context.Background(), env.Key.Actor(), svctest.Registration{SdkAppID: env.App.SdkAppID, Name: "reg", OriginID: originID})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// auditOf lists every audit event matching query, following next.
func auditOf(t testing.TB, env *uctest.Env, k *usercenter.APIKey, query string) []auditEvent {
	t.Helper()
	var out []auditEvent
	next := ""
	for {
		q := query
		if next != "" {
			q += "&next=" + next
		}
		res := do(t, env, request{Method: "GET", Path: "/v1/audit?" + q, Auth: basic(k)})
		if res.Status != 200 {
			t.Fatalf("audit: %d %s", res.Status, res.Body)
		}
		var l auditList
		res.Decode(t, &l)
		out = append(out, l.Events...)
		if l.Next == nil {
			return out
		}
		next = *l.Next
	}
}

// containsFold reports whether b holds s, ignoring case.
func containsFold(b []byte, s string) bool {
	return strings.Contains(strings.ToLower(string(b)), strings.ToLower(s))
}

// cursorOf is the list cursor that resumes after userID.
func cursorOf(userID string) string { return base64.RawURLEncoding.EncodeToString([]byte(userID)) }

func registrationFor(sdkAppID uint64, originID string) svctest.Registration {
	return svctest.Registration{SdkAppID: sdkAppID, Name: "reg", OriginID: originID}
}
