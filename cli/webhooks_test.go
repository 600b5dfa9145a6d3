package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestWebhookCommands: every webhook command, as an operator would run
// them, against a receiver on loopback; each change audited once, as
// cli:<OS user>.
func TestWebhookCommands(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		got  []string
		code = http.StatusNoContent
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(b))
		w.WriteHeader(code)
	}))
	defer recv.Close()
	env := dataEnv(t.TempDir())
	a := createApp(t, env, "hooks")
	app := strconv.FormatUint(a.SdkAppId, 10)

	// Loopback is refused unless allowed; unknown types are named.
	r := runCLI(t, env, "webhook", "create", "--app", app, "--url", recv.URL, "--events", "user.*")
	if r.code != 1 || !strings.Contains(r.stderr, "--url") || !strings.Contains(r.stderr, "private") {
		t.Fatalf("a loopback URL: %s", r)
	}
	r = runCLI(t, env, "webhook", "create", "--app", app, "--url", recv.URL, "--events", "user.*,user.nope", "--allow-private")
	if r.code != 1 || !strings.Contains(r.stderr, `"user.nope"`) || !strings.Contains(r.stderr, "--events") {
		t.Fatalf("an unknown type: %s", r)
	}
	r = runCLI(t, env, "webhook", "create", "--app", app, "--url", recv.URL)
	if r.code != 2 {
		t.Fatalf("no --events: %s", r)
	}
	for _, bad := range []string{"1ms", "2m"} {
		r = runCLI(t, env, "serve", "--webhook-timeout", bad)
		if r.code != 2 || !strings.Contains(r.stderr, "--webhook-timeout must be between 100ms and 1m") {
			t.Fatalf("serve --webhook-timeout %s: %s", bad, r)
		}
	}
	r = runCLI(t, env, "webhook", "show", "nope")
	if r.code != 2 || !strings.Contains(r.stderr, "endpoint ID") {
		t.Fatalf("show without an endpoint ID: %s", r)
	}

	r = mustRun(t, env, "webhook", "create", "--app", app, "--url", recv.URL+"/in", "--events", "user.*,pii.disclosed", "--allow-private", "--json")
	var created webhookJSON
	decodeOne(t, r.stdout, &created)
	if !strings.HasPrefix(created.Id, "wh_") || !strings.HasPrefix(created.Secret, "whsec_") || created.Status != "ok" {
		t.Fatalf("webhook create --json: %s", r.stdout)
	}
	r = mustRun(t, env, "webhook", "list")
	if !strings.Contains(r.stdout, created.Id) || !strings.Contains(r.stdout, "user.*,pii.disclosed") || strings.Contains(r.stdout, created.Secret) {
		t.Fatalf("webhook list: %s", r.stdout)
	}
	r = mustRun(t, env, "webhook", "test", created.Id, "--allow-private")
	if !strings.Contains(r.stdout, "status 204") || len(got) != 1 || !strings.Contains(got[0], `"type":"webhook.test"`) {
		t.Fatalf("webhook test: %s; received %q", r, got)
	}
	mu.Lock()
	code = http.StatusBadGateway
	mu.Unlock()
	r = runCLI(t, env, "webhook", "test", created.Id, "--allow-private")
	if r.code != 1 || !strings.Contains(r.stderr, "status 502") {
		t.Fatalf("a failing test: %s", r)
	}
	r = mustRun(t, env, "webhook", "show", created.Id)
	if !strings.Contains(r.stdout, "test") || !strings.Contains(r.stdout, "502") || !strings.Contains(r.stdout, "204") {
		t.Fatalf("webhook show: %s", r.stdout)
	}
	r = mustRun(t, env, "webhook", "update", created.Id, "--events", "*")
	if !strings.Contains(r.stdout, "events *") {
		t.Fatalf("webhook update: %s", r.stdout)
	}
	r = runCLI(t, env, "webhook", "update", created.Id)
	if r.code != 2 {
		t.Fatalf("update without a change: %s", r)
	}
	mustRun(t, env, "webhook", "replay", created.Id, "--since", "2020-01-01T00:00:00Z")
	mustRun(t, env, "webhook", "delete", created.Id)
	r = runCLI(t, env, "webhook", "show", created.Id)
	if r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("show after delete: %s", r)
	}

	r = mustRun(t, env, "audit", "--app", app, "--oldest-first", "--json")
	me := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		me = u.Username
	}
	var events []auditJSON
	decodeOne(t, r.stdout, &events)
	var actions []string
	for _, e := range events {
		if a, ok := strings.CutPrefix(e.Action, "webhook."); ok {
			if e.Actor != "cli:"+me || e.Field != created.Id {
				t.Errorf("audit event %+v is not cli:%s's about %s", e, me, created.Id)
			}
			actions = append(actions, a)
		}
	}
	if strings.Join(actions, ",") != "create,update,replay,delete" {
		t.Fatalf("audited %v, want one each of create, update, replay, delete:\n%s", actions, r.stdout)
	}
}
