package restapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"usercenter/httpio"
	"usercenter/uctest"
)

// serveDirect serves req through h and returns the answer.
func serveDirect(h http.Handler, req *http.Request) *response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return &response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// TestLargeBodyOfStranger: a route that reads a body authenticates the
// key from the headers first, so no byte of a stranger's body is read.
func TestLargeBodyOfStranger(t *testing.T) {
	env := uctest.New(t)
	h := env.Handler(httpio.NewBodyBudget(httpio.DefaultBodyBudget))
	const size = 10 << 20
	basicOf := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	for _, path := range []string{
		fmt.Sprintf("/v1/apps/%d/users", env.App.SdkAppID),
		fmt.Sprintf("/v1/apps/%d/users:import", env.App.SdkAppID),
	} {
		for _, c := range []struct{ name, auth string }{
			{"no credentials", ""},
			{"a Bearer token", "Bearer abc"},
			{"an unknown SecretId", basicOf("AKIDunknownunknownunknownunknown1234", "secret")},
			{"a wrong SecretKey", basicOf(env.Key.SecretID, "wrong")},
		} {
			body := uctest.NewLargeBody(`{"users":[`, size)
			req := httptest.NewRequest("POST", path, body)
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/json")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			res := serveDirect(h, req)
			checkProblem(t, res, http.StatusUnauthorized, "unauthenticated", "")
			if n := body.BytesRead(); n > 0 {
				t.Errorf("POST %s with %s: read %d bytes of the body before refusing it", path, c.name, n)
			}
		}
	}
}

// TestBodyBudgetBusy: a body that does not fit in what is left of the
// process's body budget is answered 503 unavailable with Retry-After at
// once, and served once there is room.
func TestBodyBudgetBusy(t *testing.T) {
	env := uctest.New(t)
	const budget = 1 << 20
	b := httpio.NewBodyBudget(budget)
	h := env.Handler(b)
	for _, c := range []struct{ path, body string }{
		{fmt.Sprintf("/v1/apps/%d/users", env.App.SdkAppID), `{"originId":"busy"}`},
		{fmt.Sprintf("/v1/apps/%d/users:import", env.App.SdkAppID), `{"users":[{"originId":"busy-import"}]}`},
	} {
		create := func() *http.Request {
			req := httptest.NewRequest("POST", c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", basic(env.Key))
			return req
		}
		if !b.TryAcquire(budget - 10) {
			t.Fatal("could not fill the budget")
		}
		res := serveDirect(h, create())
		checkProblem(t, res, http.StatusServiceUnavailable, "unavailable", "")
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("POST %s busy: no Retry-After", c.path)
		}
		b.Release(budget - 10)
		if res := serveDirect(h, create()); res.Status/100 != 2 {
			t.Fatalf("POST %s with room: %d %s", c.path, res.Status, res.Body)
		}
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after the requests ended", n)
	}
}
