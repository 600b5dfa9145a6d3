package superapp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"usercenter/httpio"
	"usercenter/uctest"
)

// serveDirect serves req through h and decodes the envelope.
func serveDirect(t *testing.T, h http.Handler, req *http.Request) (int, http.Header, envelope) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var e envelope
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.ReturnCode == "" || e.ReturnMessage == "" {
		t.Fatalf("HTTP %d, not an envelope: %v: %.300s", w.Code, err, w.Body)
	}
	return w.Code, w.Header(), e
}

// TestLargeBodyOfStranger: the platform's signature is checked from the
// headers before the body is read, so no byte of a stranger's body is.
func TestLargeBodyOfStranger(t *testing.T) {
	env := uctest.New(t)
	h := env.Handler(httpio.NewBodyBudget(httpio.DefaultBodyBudget))
	const size = 10 << 20
	path := fmt.Sprintf("/apps/%d/superapp/user/checkUser", env.App.SdkAppID)
	for _, c := range []struct{ name, ts, sig string }{
		{"no signature", "", ""},
		{"a wrong signature", msNow(env, 0), sign(t, strings.Repeat("k", 32), msNow(env, 0))},
		{"a stale signature", msNow(env, -10*time.Minute), sign(t, env.App.SuperAppSecretKey, msNow(env, -10*time.Minute))},
	} {
		body := uctest.NewLargeBody(`{"UserId":"`, size)
		req := httptest.NewRequest("POST", path, body)
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		if c.ts != "" {
			req.Header.Set("TC-Timestamp", c.ts)
			req.Header.Set("TC-Signature", c.sig)
		}
		if status, _, e := serveDirect(t, h, req); status != http.StatusUnauthorized || e.ReturnCode != "401" {
			t.Errorf("%s: HTTP %d %s, want 401", c.name, status, e.ReturnCode)
		}
		if n := body.BytesRead(); n > 0 {
			t.Errorf("%s: read %d bytes of the body before refusing it", c.name, n)
		}
	}
}

// TestBodyBudgetBusy: a body that does not fit in what is left of the
// process's body budget is answered 503 with Retry-After at once, and
// served once there is room.
func TestBodyBudgetBusy(t *testing.T) {
	env := uctest.New(t)
	const budget = 1 << 20
	b := httpio.NewBodyBudget(budget)
	h := env.Handler(b)
	check := func() *http.Request {
		req := httptest.NewRequest("POST", fmt.Sprintf("/apps/%d/superapp/user/checkUser", env.App.SdkAppID), strings.NewReader(`{"UserId":"`+unknownUID+`"}`))
		req.Header.Set("Content-Type", "application/json")
		ts := msNow(env, 0)
		req.Header.Set("TC-Timestamp", ts)
		req.Header.Set("TC-Signature", sign(t, env.App.SuperAppSecretKey, ts))
		return req
	}
	if !b.TryAcquire(budget - 10) {
		t.Fatal("could not fill the budget")
	}
	status, header, e := serveDirect(t, h, check())
	if status != http.StatusServiceUnavailable || e.ReturnCode != "503" || header.Get("Retry-After") == "" {
		t.Fatalf("a body beyond the budget: HTTP %d %+v, Retry-After %q; want 503 with Retry-After", status, e, header.Get("Retry-After"))
	}
	b.Release(budget - 10)
	if status, _, e := serveDirect(t, h, check()); status != http.StatusOK || e.ReturnCode != "0" {
		t.Fatalf("the same request with room: HTTP %d %+v", status, e)
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after the requests ended", n)
	}
}
