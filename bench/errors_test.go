package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testConfig(target string) Config {
	return Config{
		Target: target,
		Creds: Creds{
			SdkAppId: 1400000001, SecretId: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", SecretKey: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
			SuperAppSecretKey: "0123456789abcdef", SuperAppCipher: "aes-ecb-hex",
		},
		Connections: 3, Requests: 40, Duration: 10 * time.Second, Users: 10,
	}
}

// testEnv is the run environment of cfg, normalized, closed when the
// test ends.
func testEnv(t testing.TB, cfg *Config) *env {
	t.Helper()
	if err := cfg.normalize(); err != nil {
		t.Fatal(err)
	}
	e, err := newEnv(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// TestErrorsAreCounted points scenarios at servers that fail in different
// ways: every failed operation must be counted under its kind, none as a
// success, and no latency recorded for it.
func TestErrorsAreCounted(t *testing.T) {
	const userID = "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV"
	cases := []struct {
		name     string
		scenario string
		handler  http.HandlerFunc
		label    string
	}{
		{"LCIC error", ScenarioDescribe, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"Response":{"Error":{"Code":"InternalError","Message":"boom"},"RequestId":"r"}}`))
		}, "LCIC InternalError"},
		{"LCIC wrong user", ScenarioDescribe, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"Response":{"UserId":"someoneElse","RequestId":"r"}}`))
		}, "bad answer: DescribeUser of another user"},
		{"HTTP status", ScenarioRegister, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		}, "HTTP 503"},
		{"not JSON", ScenarioRegister, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<html>hello</html>`))
		}, "bad answer: no Response.RequestId"},
		{"super-app code", ScenarioNick, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"ReturnCode":"200002","ReturnMessage":"Invalid User id","RequestId":"r"}`))
		}, "ReturnCode 200002"},
		{"super-app 401", ScenarioNick, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			w.Write([]byte(`{"ReturnCode":"401","ReturnMessage":"authentication failed","RequestId":"r"}`))
		}, "HTTP 401 ReturnCode 401"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			cfg := testConfig(srv.URL)
			e := testEnv(t, &cfg)
			e.seeded = mustSeeded(t, sampleUser{id: userID, idx: 1})
			res := e.measure(context.Background(), scenarios[c.scenario])
			if res.SetupError != "" {
				t.Fatal(res.SetupError)
			}
			if res.OK != 0 || res.Errors != 40 || res.Ops != 40 || res.ErrorCodes[c.label] != 40 || res.ReqPerSec != 0 || res.LatencyMs.P50 != 0 {
				t.Fatalf("%d ok, %d errors of %d ops, %.0f req/s, p50 %v, codes %v; want 40 × %q", res.OK, res.Errors, res.Ops, res.ReqPerSec, res.LatencyMs.P50, res.ErrorCodes, c.label)
			}
		})
	}
}

// TestFailedSeedingIsReported runs the whole tool against a target that
// refuses every request: the run fails, and says how and how often.
func TestFailedSeedingIsReported(t *testing.T) {
	for _, c := range []struct {
		seed  string
		calls int64
		label string
	}{
		{SeedImport, 1, "HTTP 401 unauthenticated"}, // one import for all ten
		{SeedREST, 10, "HTTP 401 unauthenticated"},  // one createUser per user
		{SeedBatch, 1, "HTTP 401"},                  // one BatchRegister for all ten
	} {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" { // the server's RSS, read apart
				calls.Add(1)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			w.Write([]byte(`{"type":"x","title":"Unauthenticated","status":401,"code":"unauthenticated","requestId":"r"}`))
		}))
		cfg := testConfig(srv.URL)
		cfg.Seed = c.seed
		rep, err := Run(context.Background(), cfg)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "seeding failed") {
			t.Fatalf("%s: err = %v", c.seed, err)
		}
		if rep == nil || rep.Seeding.Errors != uint64(c.calls) || rep.Seeding.ErrorCodes[c.label] != uint64(c.calls) || calls.Load() != c.calls {
			t.Fatalf("%s: seeding %+v after %d calls", c.seed, rep.Seeding, calls.Load())
		}
		if rep.TotalErrors() != uint64(c.calls) {
			t.Fatalf("%s: TotalErrors = %d", c.seed, rep.TotalErrors())
		}
	}
}

func TestConfigChecks(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Target = "http://192.0.2.1:8080" }, "loopback"},
		{func(c *Config) { c.Target = "127.0.0.1:8080" }, "base URL"},
		{func(c *Config) { c.Creds.SecretKey = "" }, "SecretKey"},
		{func(c *Config) { c.Duration, c.Requests = 0, 0 }, "bound"},
		{func(c *Config) { c.Scenarios = []string{"describe", "nope"} }, `unknown scenario "nope"`},
		{func(c *Config) { c.Seed = "magic" }, "seed"},
		{func(c *Config) { c.Users = 0 }, "users"},
	} {
		cfg := testConfig("http://127.0.0.1:1")
		c.mod(&cfg)
		if err := cfg.normalize(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error about %q, got %v", c.want, err)
		}
	}
	cfg := testConfig("http://localhost:1/")
	cfg.Scenarios = []string{ScenarioMixed, ScenarioRegister}
	if err := cfg.normalize(); err != nil || len(cfg.Scenarios) != 2 || cfg.Scenarios[0] != ScenarioRegister {
		t.Fatalf("scenarios %v, %v: want the documented order", cfg.Scenarios, err)
	}
}
