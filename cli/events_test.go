package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/postgres/pgtest"
	"usercenter/uctest/svctest"
)

// syncBuffer is a buffer that the command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tail is a running events tail.
type tail struct {
	stdout, stderr *syncBuffer
	stop           context.CancelFunc
	done           chan error
}

// startTail runs events tail with args until the test ends or stops it.
func startTail(t *testing.T, env map[string]string, args ...string) *tail {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tail{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	getenv := func(k string) string { return env[k] }
	go func() {
		tl.done <- run(ctx, append([]string{"events", "tail", "--poll-interval", "10ms"}, args...), tl.stdout, tl.stderr, getenv)
	}()
	t.Cleanup(func() { cancel(); <-tl.done })
	// Wait until it has taken its starting point, which it tells on
	// stderr: what is written from then on is what it must print.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(tl.stderr.String(), "following events after ID"); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-tl.done:
			tl.done <- err
			t.Fatalf("events tail ended before following: %v\nstderr:\n%s", err, tl.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("events tail did not start in a minute:\n%s", tl.stderr.String())
		}
	}
	return tl
}

// waitLines waits until the tail has printed at least n lines, and
// returns them. The minute only stops a broken test.
func (tl *tail) waitLines(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		out := tl.stdout.String()
		if lines := strings.Count(out, "\n"); lines >= n {
			return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		}
		select {
		case err := <-tl.done:
			t.Fatalf("events tail ended: %v\nstdout:\n%s\nstderr:\n%s", err, out, tl.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("events tail printed %d lines in a minute, want %d:\n%s\nstderr:\n%s", strings.Count(out, "\n"), n, out, tl.stderr.String())
		}
	}
}

// TestEventsTail starts events tail, writes events, and reads them from
// its output as they come: only new ones by default, one app's with --app,
// some types with --type, from a given ID with --after, JSON with --json.
func TestEventsTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, nil, "tail-a", "--data", dir)
	b := createApp(t, nil, "tail-b", "--data", dir)

	all := startTail(t, env)
	onlyB := startTail(t, env, "--app", itoa(b.SdkAppId), "--json")
	created := startTail(t, env, "--type", "user.created,key.*")
	// Written once they follow: each prints it, and none the events
	// before.
	first := newUsers(t, dir, b.SdkAppId, "first")[0]
	for _, tl := range []*tail{all, onlyB, created} {
		tl.waitLines(t, 1)
	}
	for _, tl := range []*tail{all, created} {
		if line := tl.waitLines(t, 1)[0]; !strings.Contains(line, " user.created ") || !strings.Contains(line, "userId="+first) {
			t.Fatalf("the first line is %q, want the user created after the start", line)
		}
	}

	// More events, of both apps, written while they follow.
	inst := openDir(t, dir)
	ua := newUserIn(t, inst, a.SdkAppId, "in-a")
	if _, err := inst.svc.UpdateUser(context.Background(), operator(), ua, core.UserPatch{Nickname: ptr("renamed")}); err != nil {
		t.Fatal(err)
	}
	if err := inst.svc.DeleteUser(context.Background(), operator(), first); err != nil {
		t.Fatal(err)
	}
	inst.Close()
	mustRun(t, env, "key", "create", "--app", itoa(b.SdkAppId))

	// Every app's: created in b, created in a, updated in a, deleted in b, key created in b.
	lines := all.waitLines(t, 5)
	want := []string{" user.created ", " user.created ", " user.updated ", " user.deleted ", " key.created "}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Fatalf("line %d is %q, want %q:\n%s", i, lines[i], w, strings.Join(lines, "\n"))
		}
	}
	if !strings.Contains(lines[2], " "+itoa(a.SdkAppId)+" ") || !strings.Contains(lines[2], "fields=nickname") || !strings.Contains(lines[2], "userId="+ua) {
		t.Fatalf("the update line: %q", lines[2])
	}
	// --type: the creations and the key, not the update or deletion.
	typed := created.waitLines(t, 3)
	if len(typed) != 3 || !strings.Contains(typed[1], "userId="+ua) || !strings.Contains(typed[2], " key.created ") {
		t.Fatalf("--type user.created,key.*:\n%s", strings.Join(typed, "\n"))
	}
	// --app b --json: b's three, as the REST API spells them.
	var events []map[string]any
	for _, line := range onlyB.waitLines(t, 3) {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if e["sdkAppId"] != float64(b.SdkAppId) {
			t.Fatalf("--app %d printed an event of app %v", b.SdkAppId, e["sdkAppId"])
		}
		events = append(events, e)
	}
	if len(events) != 3 || events[0]["type"] != "user.created" || events[1]["type"] != "user.deleted" || events[2]["type"] != "key.created" {
		t.Fatalf("--app --json: %v", events)
	}
	for _, name := range []string{"id", "type", "sdkAppId", "at", "actor", "data"} {
		if _, ok := events[0][name]; !ok {
			t.Fatalf("a JSON line lacks %s: %v", name, events[0])
		}
	}
	if data := events[0]["data"].(map[string]any); data["userId"] != first {
		t.Fatalf("data %v", data)
	}

	// --after 0 prints every event kept first, the apps' creations too.
	from := startTail(t, env, "--after", "0", "--app", itoa(a.SdkAppId))
	early := from.waitLines(t, 4)
	if !strings.Contains(early[0], " app.created ") || !strings.Contains(early[1], " key.created ") || !strings.Contains(early[2], " user.created ") {
		t.Fatalf("--after 0:\n%s", strings.Join(early, "\n"))
	}

	// Interrupted, it exits cleanly.
	all.stop()
	select {
	case err := <-all.done:
		all.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("events tail interrupted: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("events tail did not stop within a minute of its interruption")
	}
}

// TestEventsTailUsage: bad flags are refused before anything is opened.
func TestEventsTailUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createApp(t, nil, "usage", "--data", dir)
	env := dataEnv(dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--type", "user.nope"}, `--type: "user.nope" names no event type`},
		{[]string{"--type", "user"}, `--type: "user" names no event type`},
		{[]string{"--after", "-1"}, `"-1" is not an event ID`},
		{[]string{"--after", "x"}, `"x" is not an event ID`},
		{[]string{"--app", "abc"}, "--app must be an SdkAppId"},
		{[]string{"--poll-interval", "1ms"}, "--poll-interval must be between"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		r := runCLI(t, env, append([]string{"events", "tail"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("events tail %v: want exit 2 and %q: %s", c.args, c.want, r)
		}
	}
	// An app that does not exist fails once opened.
	if r := runCLI(t, env, "events", "tail", "--app", "99", "--poll-interval", "10ms"); r.code != 1 || !strings.Contains(r.stderr, "app") {
		t.Errorf("events tail of a missing app: %s", r)
	}
}

// TestUserRevokeTokens: user revoke-tokens ends the user's login tokens.
func TestUserRevokeTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, nil, "revoke", "--data", dir)
	inst := openDir(t, dir)
	uid := newUserIn(t, inst, a.SdkAppId, "lost-phone")
	sess, err := svctest.LoginUser(inst.svc, context.Background(), operator(), uid)
	if err != nil {
		t.Fatal(err)
	}
	inst.Close()

	r := mustRun(t, env, "user", "revoke-tokens", uid)
	if !strings.Contains(r.stdout, "Revoked 1 live login tokens of user "+uid) {
		t.Fatalf("revoke-tokens said %q", r.stdout)
	}
	inst = openDir(t, dir)
	defer inst.Close()
	if _, err := inst.svc.Me(context.Background(), sess.Token); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Fatalf("the revoked token answers: %v", err)
	}
	got := auditEvents(t, env, "--user", uid, "--action", "tokens.revoke")
	if len(got) != 1 || !strings.HasPrefix(got[0].Actor, "cli:") {
		t.Fatalf("tokens.revoke audit events: %+v", got)
	}
	if r := runCLI(t, env, "user", "revoke-tokens"); r.code != 2 {
		t.Fatalf("without a UserId: %s", r)
	}
	if r := runCLI(t, env, "user", "revoke-tokens", "u_0000000000000000000000000"); r.code != 1 {
		t.Fatalf("an unknown user: %s", r)
	}
}

// newUserIn creates a user in an opened instance.
func newUserIn(t *testing.T, inst *instance, app uint64, origin string) string {
	t.Helper()
	u, err := svctest.CreateUser(inst.svc, context.Background(), operator(), app, core.UserPatch{OriginID: &origin})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestPostgresEventsTail: events tail follows a PostgreSQL database too,
// seeing what another process commits.
func TestPostgresEventsTail(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	env := map[string]string{"USERCENTER_DATA": dir, "USERCENTER_DB": dsn}
	a := createApp(t, env, "pg-tail")
	tl := startTail(t, env, "--json")
	mustRun(t, env, "key", "create", "--app", itoa(a.SdkAppId))
	mustRun(t, env, "app", "update", itoa(a.SdkAppId), "--rate-limit", "7")
	lines := tl.waitLines(t, 2)
	var types []string
	for _, line := range lines {
		var e struct{ Type string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		types = append(types, e.Type)
	}
	if strings.Join(types, " ") != "key.created app.updated" {
		t.Fatalf("events tail on PostgreSQL printed %v", types)
	}
}
