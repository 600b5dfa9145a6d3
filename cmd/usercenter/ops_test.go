package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"usercenter/uctest/tmpfs"
)

// A second serve on the SQLite database a server uses refuses to start,
// saying why and pointing to PostgreSQL; the first keeps serving.
func TestSecondServeOnSQLite(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	first := startServer(t, dir)
	second := startProcess(t, dir)
	if code := second.wait(60 * time.Second); code == 0 {
		t.Fatalf("a second serve on the same SQLite database started\nstdout:\n%s", second.stdout)
	}
	msg := second.stderr.String()
	for _, want := range []string{"another server", "usercenter serve (pid", "SQLite database", "PostgreSQL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the second serve's message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(second.stdout.String(), "listening") {
		t.Errorf("the second serve listened:\n%s", second.stdout)
	}
	if code, body := httpGet(t, "http://"+first.addr+"/readyz", nil); code != http.StatusOK {
		t.Errorf("the first server after the second was refused: /readyz %d %q", code, body)
	}
	first.stop()
	// Once the first has stopped, the lock is free again.
	startServer(t, dir).stop()
}

// httpGet GETs url with the given headers and returns the status and body.
func httpGet(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// A server whose disk fills up answers writes as unavailable in each
// facade's format, reports itself not ready, and recovers without a
// restart once space is freed.
func TestDiskFullServe(t *testing.T) {
	skipShort(t)
	mnt := tmpfs.Mount(t, "3m")
	dir := filepath.Join(mnt, "data")
	a := createApp(t, dir, "full")
	p := startServer(t, dir)
	base := "http://" + p.addr
	c := newClient(p.addr, a.SecretId, a.SecretKey)
	filler := filepath.Join(mnt, "filler")
	tmpfs.Fill(t, filler)

	// The WAL may have room for some registrations still: register until
	// one fails, each with a long name to fill it sooner.
	name := strings.Repeat("n", 60)
	var failure error
	for i := 0; i < 20000 && failure == nil; i++ {
		_, failure = register(c, a.SdkAppId, name, fmt.Sprintf("full-%d", i))
	}
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(failure, &sdkErr) || sdkErr.GetCode() != "ServiceUnavailable" {
		t.Fatalf("registering on a full disk: %v; want ServiceUnavailable", failure)
	}

	// Writes fail in the /v1 format too, with Retry-After. Each failure
	// also restarts /readyz's wait before its probe, so /readyz is polled
	// right after one.
	ready := 0
	for i := 0; i < 200; i++ {
		code, retry, body := v1Create(t, base, a, fmt.Sprintf("v1-full-%d", i))
		if code == http.StatusCreated {
			continue // a small write found room
		}
		if code != http.StatusServiceUnavailable || retry == "" || !strings.Contains(body, `"code":"unavailable"`) {
			t.Fatalf("POST /v1 users on a full disk: %d, Retry-After %q, %s", code, retry, body)
		}
		if ready, _ = httpGet(t, base+"/readyz", nil); ready == http.StatusServiceUnavailable {
			break
		}
	}
	if ready != http.StatusServiceUnavailable {
		t.Fatalf("/readyz right after writes failed on a full disk: %d, want 503", ready)
	}
	if !strings.Contains(p.stderr.String(), "disk is full") {
		t.Errorf("the log does not say that the disk is full:\n%s", tail(p.stderr.String(), 2000))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := httpGet(t, base+"/readyz", nil)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d a minute after space was freed", code)
		}
		time.Sleep(100 * time.Millisecond) // polling: the probe runs at most once a second
	}
	if _, err := register(c, a.SdkAppId, "after", "after-full"); err != nil {
		t.Fatalf("registering after space was freed: %v", err)
	}
	p.stop()
}

// v1Create creates a user through the REST API and returns the status,
// the Retry-After header and the body.
func v1Create(t *testing.T, base string, a app, originID string) (int, string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"originId": originID, "nickname": strings.Repeat("v", 60)})
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/apps/%d/users", base, a.SdkAppId), strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(a.SecretId, a.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST /v1 users: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var metricsRE = regexp.MustCompile(`metrics on http://(\S+)/metrics\n`)

// serve --metrics-addr moves /metrics to a listener of its own, with the
// profiler there under --pprof; --pprof alone is refused.
func TestMetricsAddr(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	p := startServer(t, dir, "--metrics-addr", "127.0.0.1:0", "--pprof")
	m := metricsRE.FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("serve --metrics-addr did not print the metrics address:\n%s", p.stdout)
	}
	ops := "http://" + m[1]
	if code, body := httpGet(t, ops+"/metrics", nil); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics on --metrics-addr: %d\n%.300s", code, body)
	}
	if code, body := httpGet(t, ops+"/debug/pprof/", nil); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ on --metrics-addr with --pprof: %d\n%.300s", code, body)
	}
	if code, body := httpGet(t, "http://"+p.addr+"/metrics", nil); code == http.StatusOK || strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics on --addr with --metrics-addr set: %d", code)
	}
	if code, _ := httpGet(t, "http://"+p.addr+"/debug/pprof/", nil); code == http.StatusOK {
		t.Errorf("GET /debug/pprof/ on --addr: %d", code)
	}
	if code, _ := httpGet(t, "http://"+p.addr+"/healthz", nil); code != http.StatusOK {
		t.Errorf("GET /healthz on --addr: %d", code)
	}
	p.stop()

	q := startProcess(t, dir, "--pprof")
	if code := q.wait(60 * time.Second); code == 0 || !strings.Contains(q.stderr.String(), "--pprof needs --metrics-addr") {
		t.Errorf("serve --pprof without --metrics-addr: exit %d\n%s", code, q.stderr)
	}
}
