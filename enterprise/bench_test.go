package enterprise_test

import (
	"io"
	"net/http"
	"testing"

	"usercenter/uctest"
)

// BenchmarkUserInfo is GET /v2/enduser/enterpriseapi/userInfo with a valid
// access token, through the whole path: a Go HTTP client over loopback,
// the obs middleware, the token check (token and key read afresh), the
// use case and SQLite. The key has no pii.read, so the answer is masked
// and the read writes nothing; the pii variant reveals phone and email
// and so writes two audit events per call. Client and server share the
// machine.
func BenchmarkUserInfo(b *testing.B) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	s := func(v string) *string { return &v }
	patch := fullPatch()
	patch.Phone, patch.Email = s("+8613612346688"), s("bench@example.com")
	u := newUser(b, env, env.App.SdkAppID, patch)
	masked := login(b, env, env.NewKey(b, []uint64{env.App.SdkAppID}, "users.read"))
	plain := login(b, env, env.Key)
	url := env.URL + pathUserInfo + "?uid=" + u.ID
	for _, c := range []struct {
		name, token string
	}{{"masked", masked}, {"pii", plain}} {
		uctest.BenchHTTP(b, c.name+"/", func(b *testing.B, cl *http.Client) { benchGet(b, cl, url, c.token) })
	}
}

// benchGet fails unless the answer is a success: HTTP 200 alone says
// nothing here.
func benchGet(b *testing.B, c *http.Client, url, token string) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", token)
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(body) < 12 || string(body[:11]) != `{"code":200` {
		b.Fatalf("status %d: %s", res.StatusCode, body)
	}
}
