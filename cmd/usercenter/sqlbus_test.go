package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"usercenter/uctest"
)

// TestSQLiteCommandHeardByServe: serve on a SQLite file keeps cached
// rows for --cache-ttl (5 minutes) while it polls the file's invalidation
// log, and a key revoked by a command writing the same file is refused by
// it long before: the command's write appended to the log, which serve
// read.
func TestSQLiteCommandHeardByServe(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "bus")
	p := startServer(t, dir)
	defer p.stop()
	metrics := func() string {
		t.Helper()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + p.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	// The poller reports the log up once its first read succeeds, which
	// a loaded machine may delay past the server's readiness.
	up := regexp.MustCompile(`(?m)^usercenter_cache_invalidation_up 1$`)
	body := metrics()
	for deadline := time.Now().Add(60 * time.Second); !up.MatchString(body) && time.Now().Before(deadline); body = metrics() {
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []*regexp.Regexp{up, regexp.MustCompile(`(?m)^usercenter_cache_ttl_seconds 300$`)} {
		if !want.MatchString(body) {
			t.Fatalf("/metrics does not match %s:\n%s", want, grepLines(body, "usercenter_cache_"))
		}
	}
	sess, err := register(newClient(p.addr, a.SecretId, a.SecretKey), a.SdkAppId, "bus", "bus-origin")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runBin(t, "key", "create", "--app", fmt.Sprint(a.SdkAppId), "--perms", "users.read", "--json", "--data", dir)
	var k struct{ SecretId, SecretKey string }
	if code != 0 || json.Unmarshal([]byte(out), &k) != nil || k.SecretId == "" {
		t.Fatalf("key create: exit %d\n%s%s", code, out, errOut)
	}
	c := newClient(p.addr, k.SecretId, k.SecretKey)
	for range 2 { // the second is answered from the cache
		if _, err := describeUser(c, sess.UserId); err != nil {
			t.Fatalf("the new key: %v", err)
		}
	}
	if out, errOut, code := runBin(t, "key", "revoke", k.SecretId, "--data", dir); code != 0 {
		t.Fatalf("key revoke: exit %d\n%s%s", code, out, errOut)
	}
	revoked := time.Now()
	// Each request is judged by when it was sent: a loaded machine may be
	// slow to answer, never right to accept. 30 s is far below the
	// entry's 5 minutes, and far above a poll's 150 ms.
	for {
		sentAt := time.Now()
		_, err := describeUser(c, sess.UserId)
		if err != nil && uctest.Code(err) == "AuthFailure.SecretIdNotFound" {
			t.Logf("refused %v after the revocation committed", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if err != nil {
			t.Fatalf("the revoked key: %v, want AuthFailure.SecretIdNotFound", err)
		}
		if late := sentAt.Sub(revoked); late >= 30*time.Second {
			t.Fatalf("the key revoked by a command is still accepted by serve %v later", late.Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`(?m)^usercenter_cache_invalidation_messages_total [1-9]`).MatchString(metrics()) {
		t.Errorf("serve counts no invalidation heard:\n%s", grepLines(metrics(), "usercenter_cache_"))
	}
}
