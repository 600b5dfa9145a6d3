package enterprise_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"usercenter/enterprise"
	"usercenter/httpio"
	"usercenter/uctest"
)

// serveDirect serves req through h and returns the body's code.
func serveDirect(t *testing.T, h http.Handler, req *http.Request) int {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var body struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Msg == "" {
		t.Fatalf("HTTP %d, not the envelope: %.300s", w.Code, w.Body)
	}
	return body.Code
}

// TestLargeBodyOfStranger: the only body read before authentication is
// the login's form, and of it no more than enterprise.MaxBodyBytes and
// the byte that shows it is longer; the token routes read none.
func TestLargeBodyOfStranger(t *testing.T) {
	env := uctest.New(t)
	h := env.Handler(httpio.NewBodyBudget(httpio.DefaultBodyBudget))
	const size = 10 << 20
	for _, c := range []struct {
		name, method, path, contentType string
		code                            int
		maxRead                         int64
	}{
		{"login form", "POST", pathLogin, "application/x-www-form-urlencoded", 50005, enterprise.MaxBodyBytes + 1},
		{"refresh form", "POST", pathRefresh, "application/x-www-form-urlencoded", 50005, enterprise.MaxBodyBytes + 1},
		{"login JSON", "POST", pathLogin, "application/json", 50005, 0},
		{"user info without a token", "GET", pathUserInfo, "application/x-www-form-urlencoded", 5106, 0},
		{"user info by POST", "POST", pathUserInfo, "application/x-www-form-urlencoded", 405, 0},
	} {
		body := uctest.NewLargeBody("grant_type=password&username=", size)
		req := httptest.NewRequest(c.method, c.path, body)
		req.ContentLength = size
		req.Header.Set("Content-Type", c.contentType)
		if code := serveDirect(t, h, req); code != c.code {
			t.Errorf("%s: code %d, want %d", c.name, code, c.code)
		}
		if n := body.BytesRead(); n > c.maxRead || n > httpio.SmallBody {
			t.Errorf("%s: read %d bytes of the body, want at most %d", c.name, n, c.maxRead)
		}
	}
}

// TestBodyBudgetBusy: a body that does not fit in what is left of the
// process's body budget is answered 70000 at once, and served once there
// is room.
func TestBodyBudgetBusy(t *testing.T) {
	env := uctest.New(t)
	const budget = 1 << 20
	b := httpio.NewBodyBudget(budget)
	h := env.Handler(b)
	login := func() *http.Request {
		form := loginQuery(loginUsername(env.Key.SecretID, env.Clock.Now()), env.Key.SecretKey)
		req := httptest.NewRequest("POST", pathLogin, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	if !b.TryAcquire(budget - 10) {
		t.Fatal("could not fill the budget")
	}
	if code := serveDirect(t, h, login()); code != 70000 {
		t.Fatalf("a login form beyond the budget: code %d, want 70000", code)
	}
	b.Release(budget - 10)
	if code := serveDirect(t, h, login()); code != 200 {
		t.Fatalf("a login with room: code %d", code)
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after the requests ended", n)
	}
}
