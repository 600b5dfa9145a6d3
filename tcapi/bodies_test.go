package tcapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/httpio"
	"usercenter/tcapi"
	"usercenter/uctest"
)

// lcicAnswer serves req through h and returns the answer's error code,
// "ok" for a success, after checking the envelope.
func lcicAnswer(t *testing.T, h http.Handler, req *http.Request) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d, want 200: %.300s", w.Code, w.Body)
	}
	var env struct {
		Response struct {
			Error *struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("not an envelope: %v: %.300s", err, w.Body)
	}
	if env.Response.Error == nil {
		return "ok"
	}
	if env.Response.Error.Message == "" {
		t.Fatalf("%s without a message", env.Response.Error.Code)
	}
	return env.Response.Error.Code
}

// TestLargeBodyNeedsLiveKey: the gateway reads no more than 64 KiB of a
// body (and the byte that shows there is more) before it knows the
// request names a live key, and refuses one that does not with the code
// the full check would give.
func TestLargeBodyNeedsLiveKey(t *testing.T) {
	env := uctest.New(t)
	h := env.Handler(httpio.NewBodyBudget(httpio.DefaultBodyBudget))
	revoked := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead)
	if err := env.Svc.RevokeKey(context.Background(), usercenter.Operator(), revoked.SecretID); err != nil {
		t.Fatal(err)
	}
	const size = 10 << 20
	const unknown = "AKIDunknownunknownunknownunknown1234"
	tc3 := func(secretID string, at time.Duration) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("X-TC-Action", "RegisterUser")
			r.Header.Set("X-TC-Version", tcapi.Version)
			uctest.TC3Signer{SecretID: secretID, SecretKey: "whatever", Time: env.Clock.Now().Add(at)}.Sign(r, nil)
		}
	}
	form := func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
	v1Head := func(secretID string) string {
		return uctest.SignV1("POST", "example.com", "/", url.Values{"Action": {"RegisterUser"}, "Version": {tcapi.Version}}, secretID, "whatever", "HmacSHA256").Encode() + "&Name="
	}
	for _, c := range []struct {
		name    string
		method  string
		query   string
		head    string
		header  func(*http.Request)
		chunked bool
		want    string
	}{
		{"unsigned JSON", "POST", "", "{", func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, false, "AuthFailure.InvalidAuthorization"},
		{"unsigned, chunked", "POST", "", "{", func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, true, "AuthFailure.InvalidAuthorization"},
		{"unsigned, no Content-Type", "POST", "", "", func(*http.Request) {}, false, "AuthFailure.InvalidAuthorization"},
		{"Basic Authorization", "POST", "", "{", func(r *http.Request) { r.Header.Set("Authorization", "Basic eDp5") }, false, "AuthFailure.InvalidAuthorization"},
		{"malformed TC3", "POST", "", "{", func(r *http.Request) {
			r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+env.Key.SecretID+"/today/lcic/tc3_request, SignedHeaders=content-type;host, Signature=00")
		}, false, "AuthFailure.InvalidAuthorization"},
		{"TC3, unknown SecretId", "POST", "", "{", tc3(unknown, 0), false, "AuthFailure.SecretIdNotFound"},
		{"TC3, unknown SecretId, chunked", "POST", "", "{", tc3(unknown, 0), true, "AuthFailure.SecretIdNotFound"},
		{"TC3, revoked key", "POST", "", "{", tc3(revoked.SecretID, 0), false, "AuthFailure.SecretIdNotFound"},
		{"TC3, live key, stale timestamp", "POST", "", "{", tc3(env.Key.SecretID, -time.Hour), false, "AuthFailure.SignatureExpire"},
		{"v1 form, unknown SecretId", "POST", "", v1Head(unknown), form, false, "AuthFailure.SecretIdNotFound"},
		{"v1 form, revoked key", "POST", "", v1Head(revoked.SecretID), form, false, "AuthFailure.SecretIdNotFound"},
		{"v1 form without Content-Type, unknown SecretId", "POST", "", v1Head(unknown), func(*http.Request) {}, false, "AuthFailure.SecretIdNotFound"},
		{"v1 form, malformed SecretId", "POST", "", "Nonce=1&SecretId=a%20b&Signature=x&", form, false, "InvalidParameter"},
		{"v1 form, SecretId after 64 KiB", "POST", "", "Action=RegisterUser&Signature=abc&Name=" + strings.Repeat("n", 70<<10) + "&SecretId=" + env.Key.SecretID + "&", form, false, "MissingParameter"},
		{"v1 form, SecretId cut at 64 KiB", "POST", "", "Name=" + strings.Repeat("n", httpio.SmallBody-len("Name=&SecretId=")-5) + "&SecretId=" + env.Key.SecretID + "&", form, false, "AuthFailure.InvalidAuthorization"},
		{"form without any signature", "POST", "", "Action=RegisterUser&Name=", form, false, "AuthFailure.InvalidAuthorization"},
		{"v1 GET, unknown SecretId", "GET", "Action=RegisterUser&Nonce=1&SecretId=" + unknown + "&Signature=x&Timestamp=1", "", func(*http.Request) {}, false, "AuthFailure.SecretIdNotFound"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := uctest.NewLargeBody(c.head, size)
			target := "/"
			if c.query != "" {
				target += "?" + c.query
			}
			req := httptest.NewRequest(c.method, target, body)
			req.ContentLength = size
			if c.chunked {
				req.ContentLength = -1
			}
			c.header(req)
			if got := lcicAnswer(t, h, req); got != c.want {
				t.Errorf("answered %s, want %s", got, c.want)
			}
			if n := body.BytesRead(); n > httpio.SmallBody+1 {
				t.Errorf("read %d bytes of the body before refusing it, want at most %d", n, httpio.SmallBody+1)
			}
		})
	}

	// A body of exactly 64 KiB is read whole, whoever sends it: the
	// answer is the full check's.
	body := uctest.NewLargeBody("{", httpio.SmallBody)
	req := httptest.NewRequest("POST", "/", body)
	req.ContentLength = httpio.SmallBody
	tc3(unknown, 0)(req)
	if got := lcicAnswer(t, h, req); got != "AuthFailure.SecretIdNotFound" || body.BytesRead() != httpio.SmallBody {
		t.Errorf("a 64 KiB body of an unknown key: %s after reading %d bytes", got, body.BytesRead())
	}
}

// TestLargeBodyOfLiveKey: a live key's signed body over 64 KiB is read
// and served, in TC3 and in signature v1, of known length or chunked.
func TestLargeBodyOfLiveKey(t *testing.T) {
	env := uctest.New(t)
	h := env.Handler(httpio.NewBodyBudget(httpio.DefaultBodyBudget))
	users := func(prefix string) []any {
		out := make([]any, 1000)
		for i := range out {
			out[i] = map[string]any{"SdkAppId": env.App.SdkAppID, "Name": strings.Repeat("n", 100), "OriginId": fmt.Sprintf("%s-%d", prefix, i)}
		}
		return out
	}
	for _, chunked := range []bool{false, true} {
		prefix := "tc3-" + strconv.FormatBool(chunked)
		body := biJSON(t, map[string]any{"Users": users(prefix)})
		if len(body) <= httpio.SmallBody {
			t.Fatalf("the body has %d bytes", len(body))
		}
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if chunked {
			req.ContentLength = -1
		}
		req.Header.Set("X-TC-Action", "BatchRegister")
		req.Header.Set("X-TC-Version", tcapi.Version)
		uctest.TC3Signer{SecretID: env.Key.SecretID, SecretKey: env.Key.SecretKey, Time: env.Clock.Now()}.Sign(req, body)
		if got := lcicAnswer(t, h, req); got != "ok" {
			t.Fatalf("a %d-byte TC3 BatchRegister (chunked %v): %s", len(body), chunked, got)
		}

		params := url.Values{"Action": {"BatchRegister"}, "Version": {tcapi.Version}}
		for i := range 1000 {
			params.Set(fmt.Sprintf("Users.%d.SdkAppId", i), strconv.FormatUint(env.App.SdkAppID, 10))
			params.Set(fmt.Sprintf("Users.%d.Name", i), strings.Repeat("v", 100))
			params.Set(fmt.Sprintf("Users.%d.OriginId", i), fmt.Sprintf("v1-%v-%d", chunked, i))
		}
		form := uctest.SignV1("POST", "example.com", "/", params, env.Key.SecretID, env.Key.SecretKey, "HmacSHA256").Encode()
		req = httptest.NewRequest("POST", "/", strings.NewReader(form))
		if chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if got := lcicAnswer(t, h, req); got != "ok" {
			t.Fatalf("a %d-byte v1 BatchRegister (chunked %v): %s", len(form), chunked, got)
		}
	}
}

// TestBodyBudgetBusy: a request whose body does not fit in what is left
// of the process's body budget is answered ServiceUnavailable at once,
// in the envelope, and served once there is room.
func TestBodyBudgetBusy(t *testing.T) {
	env := uctest.New(t)
	const budget = 1 << 20
	b := httpio.NewBodyBudget(budget)
	h := env.Handler(b)
	register := func(originID string) *http.Request {
		body := biJSON(t, map[string]any{"SdkAppId": env.App.SdkAppID, "OriginId": originID})
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("X-TC-Action", "RegisterUser")
		req.Header.Set("X-TC-Version", tcapi.Version)
		uctest.TC3Signer{SecretID: env.Key.SecretID, SecretKey: env.Key.SecretKey, Time: env.Clock.Now()}.Sign(req, body)
		return req
	}
	// Other requests hold all but 10 bytes.
	if !b.TryAcquire(budget - 10) {
		t.Fatal("could not fill the budget")
	}
	if got := lcicAnswer(t, h, register("busy")); got != "ServiceUnavailable" {
		t.Fatalf("a body beyond the budget: %s, want ServiceUnavailable", got)
	}
	b.Release(budget - 10)
	if got := lcicAnswer(t, h, register("busy")); got != "ok" {
		t.Fatalf("the same request with room: %s", got)
	}
	if n := b.InUse(); n != 0 {
		t.Fatalf("%d bytes still taken after the requests ended", n)
	}
}
