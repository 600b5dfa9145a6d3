package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"usercenter/server"
	"usercenter/uctest"
)

func fetch(t *testing.T, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// A browser at / gets a page pointing to the documentation; API clients
// keep LCIC's envelope.
func TestRootInABrowser(t *testing.T) {
	env := uctest.New(t)
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	resp, body := fetch(t, "GET", env.URL+"/", map[string]string{"Accept": browser})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "docs/api.md") || !strings.Contains(body, "admin console is off") {
		t.Errorf("a browser's GET /: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	for _, c := range []struct {
		name, method, path string
		header             map[string]string
	}{
		{"no Accept", "GET", "/", nil},
		{"JSON", "GET", "/", map[string]string{"Accept": "application/json"}},
		{"anything", "GET", "/", map[string]string{"Accept": "*/*"}},
		{"a signature v1 query", "GET", "/?Action=DescribeUser&UserId=x", map[string]string{"Accept": browser}},
		{"a POST", "POST", "/", map[string]string{"Accept": browser}},
		{"signed", "GET", "/", map[string]string{"Accept": browser, "Authorization": "TC3-HMAC-SHA256 Credential=x"}},
	} {
		resp, body := fetch(t, c.method, env.URL+c.path, c.header)
		if strings.Contains(body, "<html") || !strings.Contains(body, `"Response"`) || !strings.Contains(body, `"Error"`) {
			t.Errorf("%s: %d, want LCIC's envelope:\n%s", c.name, resp.StatusCode, body)
		}
	}
}

// With --metrics-addr, /metrics moves to the operators' handler, and
// /debug/pprof/ is there only when asked for.
func TestOpsHandler(t *testing.T) {
	env := uctest.New(t)
	reg := server.NewRegistry()
	main := httptest.NewServer(server.NewHandler(env.Svc, slog.New(slog.DiscardHandler), reg, server.WithoutMetrics()))
	defer main.Close()
	fetch(t, "GET", main.URL+"/v1/openapi.json", nil) // a request to count
	if resp, body := fetch(t, "GET", main.URL+"/metrics", nil); resp.StatusCode == http.StatusOK || strings.Contains(body, "usercenter_requests_total") {
		t.Errorf("/metrics on the main handler WithoutMetrics: %d\n%.300s", resp.StatusCode, body)
	}
	if resp, _ := fetch(t, "GET", main.URL+"/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz WithoutMetrics: %d", resp.StatusCode)
	}

	for _, withPprof := range []bool{false, true} {
		ops := httptest.NewServer(server.NewOpsHandler(reg, withPprof))
		if resp, body := fetch(t, "GET", ops.URL+"/metrics", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "usercenter_requests_total") {
			t.Errorf("pprof %v: /metrics on the ops handler: %d\n%.300s", withPprof, resp.StatusCode, body)
		}
		resp, body := fetch(t, "GET", ops.URL+"/debug/pprof/", nil)
		if got := resp.StatusCode == http.StatusOK && strings.Contains(body, "goroutine"); got != withPprof {
			t.Errorf("pprof %v: /debug/pprof/ answered %d", withPprof, resp.StatusCode)
		}
		if resp, _ := fetch(t, "GET", ops.URL+"/v1/openapi.json", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("pprof %v: the ops handler serves the API: %d", withPprof, resp.StatusCode)
		}
		ops.Close()
	}
}
