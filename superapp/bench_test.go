package superapp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// The benchmarks run the whole path: a Go HTTP client over loopback, the
// obs middleware, routing, the signature check, the use case and SQLite.
// Client and server share the machine. Each request is signed afresh, as
// the platform does.

// benchCall POSTs params to path, signed with key, and returns Data.
func benchCall(b *testing.B, c *http.Client, env *uctest.Env, path, key string, params map[string]string) json.RawMessage {
	body, _ := json.Marshal(params)
	r, _ := http.NewRequest("POST", env.URL+path, bytes.NewReader(body))
	ts := strconv.FormatInt(env.Clock.Now().UnixMilli(), 10)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("TC-Timestamp", ts)
	r.Header.Set("TC-Signature", sign(b, key, ts))
	res, err := c.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil || res.StatusCode != 200 || e.ReturnCode != "0" {
		b.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	return e.Data
}

func benchEnv(b *testing.B) (*uctest.Env, string) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	u, err := svctest.CreateUser(env.Svc, bg, usercenter.Operator(), env.App.SdkAppID, core.UserPatch{Nickname: ptr(nickname), Phone: ptr(phone), Email: ptr(email)})
	if err != nil {
		b.Fatal(err)
	}
	return env, u.ID
}

// BenchmarkGetUserNick is getUserNick on the default app's seed path.
func BenchmarkGetUserNick(b *testing.B) {
	env, user := benchEnv(b)
	params := map[string]string{"UserId": user}
	uctest.BenchHTTP(b, "", func(b *testing.B, c *http.Client) {
		benchCall(b, c, env, "/superapp/user/getUserNick", env.App.SuperAppSecretKey, params)
	})
}

// BenchmarkPhoneFlow is the two-step phone flow: getUserInfoTemporaryCode,
// then getUserPhoneNumber with the code. One op is both calls, two
// durable transactions (the code, then its use with the audit event).
func BenchmarkPhoneFlow(b *testing.B) {
	env, user := benchEnv(b)
	key := env.App.SuperAppSecretKey
	flow := func(b *testing.B, c *http.Client) {
		var tc struct {
			Code string `json:"code"`
		}
		json.Unmarshal(benchCall(b, c, env, "/superapp/user/getUserInfoTemporaryCode", key, map[string]string{"UserId": user, "Type": "phone"}), &tc)
		benchCall(b, c, env, "/superapp/user/getUserPhoneNumber", key, map[string]string{"UserId": user, "TemporaryCode": tc.Code})
	}
	uctest.BenchHTTP(b, "", flow)
}
