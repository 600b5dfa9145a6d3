package compat

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/webhook"
)

// TestNodeVerifiesWebhooks delivers an event to a receiver and has the
// standardwebhooks npm package, an independent implementation of the
// signature, verify it (compat/node/webhook.test.mjs). It needs `npm ci`
// in compat/node first, as TestNodeSDK does.
func TestNodeVerifiesWebhooks(t *testing.T) {
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("standardwebhooks is not installed: run `npm ci` in %s", dir)
		}
		t.Skipf("standardwebhooks is not installed: run `npm ci` in %s to include this test", dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not on PATH")
		}
		t.Skip("node is not on PATH")
	}

	var (
		mu     sync.Mutex
		header http.Header
		body   []byte
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if header == nil {
			header, body = r.Header.Clone(), b
		}
	}))
	defer recv.Close()
	ctx := context.Background()
	env := uctest.New(t)
	key := env.Key.Actor()
	hook, err := env.Svc.CreateWebhook(ctx, key, core.NewWebhook{SdkAppID: env.App.SdkAppID, URL: recv.URL + "/hook", Events: []string{"user.created"}})
	if err != nil {
		t.Fatal(err)
	}
	nick := "node"
	if _, err := svctest.CreateUser(env.Svc, ctx, key, env.App.SdkAppID, core.UserPatch{Nickname: &nick}); err != nil {
		t.Fatal(err)
	}
	webhook.NewDispatcher(env.Svc, webhook.NewSender(webhook.SenderOptions{AllowPrivate: true}), nil, webhook.Config{}).RunOnce(ctx)
	mu.Lock()
	defer mu.Unlock()
	if header == nil {
		t.Fatal("nothing was delivered")
	}
	eventID := header.Get("webhook-id")[len("evt_"):]
	cmd := exec.Command(node, "--test", "--test-concurrency=1", "webhook.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"USERCENTER_WEBHOOK_SECRET="+hook.Secret,
		"USERCENTER_WEBHOOK_OTHER_SECRET="+usercenter.NewWebhookSecret(),
		"USERCENTER_WEBHOOK_ID="+header.Get("webhook-id"),
		"USERCENTER_WEBHOOK_TIMESTAMP="+header.Get("webhook-timestamp"),
		"USERCENTER_WEBHOOK_SIGNATURE="+header.Get("webhook-signature"),
		"USERCENTER_WEBHOOK_BODY="+string(body),
		"USERCENTER_WEBHOOK_TYPE="+string(usercenter.EventUserCreated),
		"USERCENTER_WEBHOOK_EVENT_ID="+eventID,
	)
	if _, err := strconv.ParseInt(eventID, 10, 64); err != nil {
		t.Fatalf("webhook-id %q", header.Get("webhook-id"))
	}
	out, err := cmd.CombinedOutput()
	t.Logf("node --test webhook.test.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("standardwebhooks refused usercenter's delivery: %v", err)
	}
}
