package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"usercenter/uctest"
	"usercenter/vault"
)

func TestFirstStartMessage(t *testing.T) {
	skipShort(t)
	dir := filepath.Join(t.TempDir(), "data")
	p := startServer(t, dir)
	out := p.stdout.String()
	keyPath, dbPath := filepath.Join(dir, "master.key"), filepath.Join(dir, "usercenter.db")
	for _, want := range []string{"First start", "master key " + keyPath, "database " + dbPath, "usercenter app create --name"} {
		if !strings.Contains(out, want) {
			t.Errorf("first start stdout lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("master key: %v, %v; want mode 0600", fi, err)
	}
	p.stop()

	// Restarted without apps: no first-start message, but a hint.
	p = startServer(t, dir)
	out = p.stdout.String()
	if strings.Contains(out, "First start") || !strings.Contains(out, "There are no apps yet") {
		t.Errorf("second start without apps:\n%s", out)
	}
	p.stop()

	// With an app: only the listening line.
	createApp(t, dir, "shop")
	p = startServer(t, dir)
	out = p.stdout.String()
	if strings.Contains(out, "First start") || strings.Contains(out, "no apps") {
		t.Errorf("start with an app:\n%s", out)
	}
	if !strings.HasPrefix(out, "usercenter ") {
		t.Errorf("stdout does not start with the listening line:\n%s", out)
	}
	p.stop()
}

func TestServeStartupFailures(t *testing.T) {
	skipShort(t)
	t.Run("address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		p := startProcess(t, t.TempDir(), "--addr", ln.Addr().String())
		if code := p.wait(30 * time.Second); code == 0 || !strings.Contains(p.stderr.String(), "address already in use") {
			t.Errorf("serve on a taken address: exit %d\nstderr:\n%s", code, p.stderr)
		}
	})
	t.Run("wrong master key", func(t *testing.T) {
		dir := t.TempDir()
		createApp(t, dir, "shop")
		other := filepath.Join(t.TempDir(), "other.key")
		key := "# another key\n" + base64.StdEncoding.EncodeToString(vault.NewKey()) + "\n"
		if err := os.WriteFile(other, []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
		p := startProcess(t, dir, "--master-key-file", other)
		code := p.wait(30 * time.Second)
		if code == 0 || !strings.Contains(p.stderr.String(), "master key") {
			t.Errorf("serve with the wrong master key: exit %d\nstdout:\n%s\nstderr:\n%s", code, p.stdout, p.stderr)
		}
		if strings.Contains(p.stdout.String(), "listening") {
			t.Errorf("serve listened with the wrong master key:\n%s", p.stdout)
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "shop")
	p := startServer(t, dir)
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := hc.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(path); code != http.StatusOK {
			t.Errorf("GET %s = %d %q, want 200", path, code, body)
		}
	}
	c := newClient(p.addr, a.SecretId, a.SecretKey)
	if _, err := register(c, a.SdkAppId, "m", "metrics-origin"); err != nil {
		t.Fatal(err)
	}
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	re := regexp.MustCompile(`(?m)^usercenter_requests_total\{[^}]*facade="lcic"[^}]*\} ([0-9.e+]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil || m[1] == "0" {
		t.Errorf("/metrics has no usercenter_requests_total with facade=\"lcic\" after a request:\n%s", grepLines(body, "usercenter_"))
	}
	if !regexp.MustCompile(`(?m)^usercenter_requests_total\{[^}]*action="RegisterUser"`).MatchString(body) {
		t.Errorf("/metrics does not count RegisterUser:\n%s", grepLines(body, "usercenter_requests_total"))
	}
	p.stop()
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestConcurrentColdStart sends many requests at once to a freshly
// started server, as happens when a busy service restarts under its
// clients. Every one must be answered promptly.
func TestConcurrentColdStart(t *testing.T) {
	skipShort(t)
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		a := createApp(t, dir, "cold")
		p := startServer(t, dir)
		const n = 16
		start := make(chan struct{})
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			c := newClient(p.addr, a.SecretId, a.SecretKey)
			go func() {
				<-start
				_, err := register(c, a.SdkAppId, "cold", fmt.Sprintf("cold-%d-%d", round, i))
				errs <- err
			}()
		}
		close(start)
		// What is checked is that every request is answered at all (a
		// deadlocked server answers none): the bound leaves a loaded
		// machine a minute.
		deadline := time.After(time.Minute)
		for i := 0; i < n; i++ {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatalf("round %d: a concurrent first request failed: %v", round, err)
				}
			case <-deadline:
				dump := p.goroutineDump()
				t.Fatalf("round %d: %d of %d concurrent first requests to a fresh server got no answer within a minute (server deadlocked?)\n%s\n%s",
					round, n-i, n, stuckFrames(dump), fullDump(dump))
			}
		}
		p.stop()
	}
}

// stuckFrames summarises a goroutine dump: the usercenter frames of every
// goroutine waiting for a database connection, grouped by stack.
func stuckFrames(dump string) string {
	counts := map[string]int{}
	var order []string
	for _, g := range strings.Split(dump, "\n\n") {
		lines := strings.Split(g, "\n")
		var frames []string
		for i := 0; i+1 < len(lines); i++ {
			fn, loc := strings.TrimSpace(lines[i]), strings.TrimSpace(lines[i+1])
			if !strings.HasPrefix(loc, "/") {
				continue
			}
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j]
			}
			if j := strings.Index(loc, " +0x"); j > 0 {
				loc = loc[:j]
			}
			if strings.HasPrefix(fn, "usercenter/") || fn == "database/sql.(*DB).conn" {
				frames = append(frames, fn+" "+loc)
			}
		}
		if len(frames) == 0 || !strings.HasPrefix(frames[0], "database/sql.(*DB).conn") {
			continue
		}
		key := strings.Join(frames, "\n    ")
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
	if len(order) == 0 {
		return "(no goroutine waits for a database connection)"
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%d goroutine(s) waiting for a database connection at:\n    %s", counts[k], k))
	}
	return strings.Join(out, "\n")
}

// fullDump returns dump when UCTEST_FULL_DUMP is set, else a note.
func fullDump(dump string) string {
	if os.Getenv("UCTEST_FULL_DUMP") != "" {
		return "full goroutine dump:\n" + dump
	}
	return fmt.Sprintf("(full goroutine dump of %d bytes: set UCTEST_FULL_DUMP=1 to print it)", len(dump))
}

// TestCrashSafety kills the server with SIGKILL in the middle of a
// registration load and checks that every acknowledged registration
// survives the restart.
func TestCrashSafety(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "crash")
	p := startServer(t, dir)
	warmUp(t, p.addr, a)

	start := time.Now()
	l := startLoad(p.addr, a, 8, 20000, "crash")
	l.waitAcked(t, p, 1500, 1500*time.Millisecond)
	killAt := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(10 * time.Second); code != -1 {
		t.Logf("exit code after SIGKILL: %d", code)
	}
	res := l.finish(t)

	acked, failed := 0, 0
	for _, r := range res {
		if r.err == nil {
			acked++
			continue
		}
		failed++
		if r.at.Before(killAt) {
			t.Errorf("a registration failed before the kill: %v", r.err)
		} else if !isNetworkError(r.err) {
			t.Errorf("a registration in flight at the kill failed with something other than a network error: %v", r.err)
		}
	}
	t.Logf("load: %d acknowledged, %d failed at the kill, in %v", acked, failed, killAt.Sub(start).Round(time.Millisecond))

	p2 := startServer(t, dir)
	if strings.Contains(p2.stdout.String(), "First start") {
		t.Errorf("restart after a crash took itself for a first start:\n%s", p2.stdout)
	}
	warmUp(t, p2.addr, a)
	checkPresent(t, p2.addr, a, res)

	// The registrations that were in flight may or may not have landed,
	// but the OriginIds stay unique: registering one again either works
	// (it never landed) or is a conflict (it did).
	c := newClient(p2.addr, a.SecretId, a.SecretKey)
	for _, r := range res {
		if r.err == nil {
			continue
		}
		_, err := register(c, a.SdkAppId, r.name, r.originID)
		if err != nil && uctest.Code(err) != "FailedOperation.OriginIdExists" {
			t.Errorf("re-registering in-flight OriginId %s: %v", r.originID, err)
		}
	}
	p2.stop()
	t.Logf("crash test took %v", time.Since(start).Round(time.Millisecond))
}

// captureTransport records the request the SDK would send, without
// sending it.
type captureTransport struct {
	req  *http.Request
	body []byte
}

var errCaptured = errors.New("captured")

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.req = r
	if r.Body != nil {
		c.body, _ = io.ReadAll(r.Body)
	}
	return nil, errCaptured
}

// signedRegistration returns the raw bytes of a RegisterUser request as
// the official SDK signs it.
func signedRegistration(t *testing.T, addr string, a app, name, originID string) []byte {
	t.Helper()
	capt := &captureTransport{}
	c := newClient(addr, a.SecretId, a.SecretKey)
	c.WithHttpTransport(capt)
	if _, err := register(c, a.SdkAppId, name, originID); !errors.Is(err, errCaptured) && capt.req == nil {
		t.Fatalf("capturing the SDK's request: %v", err)
	}
	r := capt.req
	r.Body = io.NopCloser(bytes.NewReader(capt.body))
	r.ContentLength = int64(len(capt.body))
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGracefulShutdown sends SIGTERM while registrations are running and
// one request is held half-sent, and checks that the held request and
// every running one complete, that the process exits 0, and that the
// store reopens with everything acknowledged.
func TestGracefulShutdown(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "graceful")
	p := startServer(t, dir)
	warmUp(t, p.addr, a)
	start := time.Now()

	raw := signedRegistration(t, p.addr, a, "held-name", "held-origin")
	l := startLoad(p.addr, a, 8, 20000, "graceful")
	l.waitAcked(t, p, 200, 2*time.Second)

	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cut := len(raw) - 10
	if _, err := conn.Write(raw[:cut]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the server read the headers

	termAt := time.Now()
	p.signal(syscall.SIGTERM)

	// The listener closes at once… (polled for up to 30 s: a listener
	// left open until the shutdown ended would stay open for as long as
	// the held request, which the test holds until after this)
	refused := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Errorf("the server still accepts connections 30s after SIGTERM")
	}
	// …but the process waits for the held request.
	time.Sleep(500 * time.Millisecond)
	if p.exited() {
		t.Fatalf("serve exited with a request in flight (exit %d)\nstderr:\n%s", p.cmd.ProcessState.ExitCode(), p.stderr)
	}
	if _, err := conn.Write(raw[cut:]); err != nil {
		t.Fatalf("finishing the held request: %v", err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the held request got no response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var held struct {
		Response struct {
			UserId, Token string
			Error         *struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(body, &held); err != nil || resp.StatusCode != 200 || held.Response.Error != nil || len(held.Response.UserId) != 27 {
		t.Fatalf("the request held across SIGTERM failed: %d %s", resp.StatusCode, body)
	}

	code := p.wait(time.Minute)
	exitAfter := time.Since(termAt)
	if code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0\nstderr:\n%s", code, p.stderr)
	}
	res := l.finish(t)
	acked, refusedN, otherNet := 0, 0, 0
	for _, r := range res {
		switch {
		case r.err == nil:
			acked++
		case r.at.Before(termAt):
			t.Errorf("a registration failed before SIGTERM: %v", r.err)
		case !isNetworkError(r.err):
			// The server answered, so it must have answered with success.
			t.Errorf("a registration answered during shutdown failed: %v", r.err)
		case isRefused(r.err):
			refusedN++
		default:
			// A keep-alive connection the server closed as the client
			// reused it: no response, so not acknowledged.
			otherNet++
			t.Logf("network error during shutdown (not acknowledged): %v", r.err)
		}
	}
	t.Logf("load: %d acknowledged, %d refused after close, %d other network errors; exit %v after SIGTERM", acked, refusedN, otherNet, exitAfter.Round(time.Millisecond))
	logs := p.stderr.String()
	for _, want := range []string{"shutting down", `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q", want)
		}
	}

	// The WAL was checkpointed by the clean close.
	if fi, err := os.Stat(filepath.Join(dir, "usercenter.db-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("usercenter.db-wal holds %d bytes after a clean shutdown", fi.Size())
	}
	// The store reopens cleanly.
	out, errOut, code := runBin(t, "app", "list", "--json", "--data", dir)
	if code != 0 || !strings.Contains(out, fmt.Sprint(a.SdkAppId)) {
		t.Fatalf("app list after shutdown: exit %d\n%s%s", code, out, errOut)
	}
	p2 := startServer(t, dir)
	warmUp(t, p2.addr, a)
	res = append(res, sent{name: "held-name", originID: "held-origin", sess: session{UserId: held.Response.UserId}})
	checkPresent(t, p2.addr, a, res)
	p2.stop()
	t.Logf("graceful shutdown test took %v", time.Since(start).Round(time.Millisecond))
}

// TestLogs checks serve's request log after a registration load: JSON
// lines, a request_id on every request line, and no secret or personal
// data.
func TestLogs(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	a := createApp(t, dir, "logs")
	p := startServer(t, dir)
	warmUp(t, p.addr, a)
	res := startLoad(p.addr, a, 8, 200, "Lg7x").wait(t)
	if err := firstErr(res); err != nil {
		dump := p.goroutineDump()
		t.Fatalf("registration failed: %v\n%s\n%s", err, stuckFrames(dump), fullDump(dump))
	}
	c := newClient(p.addr, a.SecretId, a.SecretKey)
	var secrets []string
	for _, r := range res {
		secrets = append(secrets, r.sess.Token, r.name, r.originID)
		// Reads and logins log too.
		if _, err := describeUser(c, r.sess.UserId); err != nil {
			t.Fatal(err)
		}
	}
	if len(res) < 100 {
		t.Fatalf("only %d registrations ran", len(res))
	}
	// A failed request (a bad signature) and a conflict are logged too.
	bad := newClient(p.addr, a.SecretId, strings.Repeat("x", 32))
	if _, err := register(bad, a.SdkAppId, "BadSigName-Lg7x", "bad-sig-origin-Lg7x"); err == nil {
		t.Fatal("a wrong SecretKey was accepted")
	}
	if _, err := register(c, a.SdkAppId, res[0].name, res[0].originID); err == nil {
		t.Fatal("a taken OriginId was registered again")
	}
	secrets = append(secrets, a.SecretKey, a.SuperAppSecretKey, "BadSigName-Lg7x", "bad-sig-origin-Lg7x", strings.Repeat("x", 32))
	p.stop()

	logs := p.stderr.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("serve's log contains %q", s)
		}
	}
	requests := 0
	for i, line := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		if isSetupLinkLine(line) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %d is not JSON: %q", i+1, line)
			continue
		}
		msg, _ := m["msg"].(string)
		if _, isRequest := m["facade"]; !isRequest && !strings.HasPrefix(msg, "request") {
			continue
		}
		requests++
		if id, _ := m["request_id"].(string); id == "" {
			t.Errorf("request log line without a request_id: %s", line)
		}
	}
	if want := 2*len(res) + 2; requests < want {
		t.Errorf("%d request log lines, want at least %d", requests, want)
	}
}

// A server holds only the key it started with, so rotating the master key
// under a running server would leave it unable to read what was
// re-encrypted: the rotation refuses while one runs, and works once it
// has stopped (even after kill -9, whose lock the kernel releases).
func TestRotateRefusedWhileServing(t *testing.T) {
	skipShort(t)
	dir := filepath.Join(t.TempDir(), "data")
	createApp(t, dir, "rotate")
	p := startServer(t, dir)
	_, stderr, code := runBin(t, "master-key", "rotate", "--data", dir)
	if code == 0 || !strings.Contains(stderr, "server is running") {
		t.Fatalf("rotate under a running server: exit %d, stderr %q", code, stderr)
	}
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
	if _, stderr, code := runBin(t, "master-key", "rotate", "--data", dir); code != 0 {
		t.Fatalf("rotate after the server died: exit %d, stderr %q", code, stderr)
	}
	p = startServer(t, dir)
	p.stop()
}

// isSetupLinkLine reports whether a line of serve's stderr is one of the
// two plain lines of the console's setup link, the only ones that are
// not JSON.
func isSetupLinkLine(line string) bool {
	return strings.HasPrefix(line, "The console has no account yet. ") || setupLinkRE.MatchString(line) && strings.HasPrefix(line, "  http")
}
