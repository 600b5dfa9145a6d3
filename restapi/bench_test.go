package restapi_test

import (
	"io"
	"net/http"
	"testing"

	"usercenter/uctest"
)

// The benchmarks run the whole path: a Go HTTP client over loopback, the
// obs middleware, routing, authentication, the use case and SQLite. Client
// and server share the machine.

func benchGet(b *testing.B, c *http.Client, url, auth string) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", auth)
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("status %d", res.StatusCode)
	}
}

// BenchmarkMe is the session check apps make on every request: GET /v1/me
// with a Bearer token.
func BenchmarkMe(b *testing.B) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	sess := register(b, env, "bench-me")
	url, auth := env.URL+"/v1/me", bearer(sess.Token)
	uctest.BenchHTTP(b, "", func(b *testing.B, c *http.Client) { benchGet(b, c, url, auth) })
}

// BenchmarkGetUser is GET /v1/users/{userId} with HTTP Basic key auth.
func BenchmarkGetUser(b *testing.B) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	u := createUser(b, env, env.Key, env.App.SdkAppID, `{"nickname": "bench", "phone": "+8613612346688", "email": "bench@example.com"}`)
	url, auth := env.URL+"/v1/users/"+u.UserID, basic(env.Key)
	uctest.BenchHTTP(b, "", func(b *testing.B, c *http.Client) { benchGet(b, c, url, auth) })
}
