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

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

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
	b.Run("serial", func(b *testing.B) {
		c := benchClient()
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, c, url, auth)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		c := benchClient()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				benchGet(b, c, url, auth)
			}
		})
	})
}

// BenchmarkGetUser is GET /v1/users/{userId} with HTTP Basic key auth.
func BenchmarkGetUser(b *testing.B) {
	env := uctest.New(b, uctest.Options{RateLimit: 100_000})
	u := createUser(b, env, env.Key, env.App.SdkAppID, `{"nickname": "bench", "phone": "+8613612346688", "email": "bench@example.com"}`)
	url, auth := env.URL+"/v1/users/"+u.UserID, basic(env.Key)
	b.Run("serial", func(b *testing.B) {
		c := benchClient()
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, c, url, auth)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		c := benchClient()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				benchGet(b, c, url, auth)
			}
		})
	})
}
