package cli

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter/aksig"
	"usercenter/core"
	"usercenter/redisstore"
	"usercenter/redisstore/redistest"
	"usercenter/replay"
	"usercenter/uctest"
)

// A Redis that does not answer stops serve at once, before it creates
// anything, and the error does not show the URL's password, whether the
// URL came from the flag or from USERCENTER_REDIS.
func TestServeRedisDown(t *testing.T) {
	dead := strings.Replace(redistest.DeadURL(t), "redis://", "redis://:s3cretpw@", 1)
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{nil, []string{"--redis", dead}},
		{map[string]string{"USERCENTER_REDIS": dead}, nil},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		start := time.Now()
		r := runCLI(t, c.env, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "--redis") {
			t.Errorf("serve with Redis down: %s", r)
		}
		if strings.Contains(r.stdout+r.stderr, "s3cretpw") {
			t.Errorf("the password shows: %s", r)
		}
		// A refused dial fails at once and Open gives up within 3 s in
		// any case; the bound leaves a loaded machine room and still
		// catches a serve that waits on a dead Redis.
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("serve took %v to give up on Redis", d)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("serve created %s before Redis answered", dir)
		}
	}
}

// With USERCENTER_REDIS, serve remembers AccessKey logins in Redis, where
// every other node sees them.
func TestServeSharesLoginsThroughRedis(t *testing.T) {
	redisURL := redistest.URL(t)
	dir := t.TempDir()
	var app struct{ SecretId, SecretKey string }
	decodeOne(t, mustRun(t, nil, "app", "create", "--name", "nodes", "--json", "--data", dir).stdout, &app)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &uctest.LogBuffer{}, &uctest.LogBuffer{}
	done := make(chan error, 1)
	env := map[string]string{"USERCENTER_REDIS": redisURL}
	go func() {
		done <- serve(ctx, []string{"--data", dir, "--addr", "127.0.0.1:0"}, stdout, stderr, func(k string) string { return env[k] })
	}()
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	var base string
	for deadline := time.Now().Add(time.Minute); base == ""; {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s\n%s", stdout, stderr)
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}

	username := "ver=1&auth_mode=accessKey&sign_method=sha256&access_key=" + app.SecretId + "&timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	password := aksig.Password(username, app.SecretKey)
	q := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	resp, err := http.Get(base + "/v2/quecauth/accessKeyAuthrize/accessKeyLogin?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s\n%s", resp.Status, stderr)
	}
	// Another node, with a connection of its own, finds the login used.
	other := redisstore.NewReplayMemory(redistest.Open(t), replayName, core.ReplayWindow, replay.DefaultShare)
	if seen, err := other.Seen(context.Background(), app.SecretId, "login\x00"+password, time.Now(), time.Now()); err != nil || !seen {
		t.Errorf("the login is not in Redis for the other nodes: %v, %v", seen, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
	u, _ := url.Parse(redisURL)
	if logs := stderr.String(); !strings.Contains(logs, "shared through redis") || !strings.Contains(logs, u.Host) {
		t.Errorf("serve did not log the Redis it shares through:\n%s", logs)
	}
}
