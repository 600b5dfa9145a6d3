package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"usercenter/uctest"
)

// binPath is the usercenter binary built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "usercenter-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "usercenter")
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		args = append(args, "-race")
	}
	// The binary reports the revision it was built from (TestVersion)
	// when go build stamps it, which a GOFLAGS of -buildvcs=false would
	// stop; where git cannot tell (no git, a tree outside a repository),
	// the build goes without.
	build := exec.Command(goTool(), append(args, "-buildvcs=auto", ".")...)
	var vcsErr bytes.Buffer
	build.Stdout, build.Stderr = os.Stderr, &vcsErr
	if build.Run() != nil {
		build = exec.Command(goTool(), append(args, "-buildvcs=false", ".")...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			os.Stderr.Write(vcsErr.Bytes())
			fmt.Fprintf(os.Stderr, "building usercenter: %v\n", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("process test: skipped with -short")
	}
}

// cleanEnv is the test's environment without USERCENTER_* and OTEL_*
// variables, so that a developer's settings cannot leak into the process
// under test.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "USERCENTER_") && !strings.HasPrefix(kv, "OTEL_") {
			out = append(out, kv)
		}
	}
	if raceEnabled {
		// Any data race in the server fails its exit status and shows in
		// its stderr, which the tests check.
		out = append(out, "GORACE=halt_on_error=0 exitcode=66")
	}
	return out
}

// runBin runs a one-shot command of the binary, for at most a minute.
func runBin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runBinFor(t, time.Minute, args...)
}

// runBinFor runs a one-shot command of the binary, for at most limit.
func runBinFor(t *testing.T, limit time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = cleanEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("usercenter %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// app is what `app create --json` prints.
type app struct {
	SdkAppId          uint64
	UserDomain        string
	SecretId          string
	SecretKey         string
	SuperAppSecretKey string
}

// createAppCreds creates an app as createApp does and writes what `app
// create --json` printed to a file in dataDir, for bench's --creds; it
// returns the file's path.
func createAppCreds(t *testing.T, dataDir, name string) string {
	t.Helper()
	b, err := json.Marshal(createApp(t, dataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(dataDir, "creds.json")
	if err := os.WriteFile(creds, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return creds
}

// createApp creates an app through the binary, with a rate limit high
// enough that load tests are not throttled.
func createApp(t *testing.T, dataDir, name string) app {
	t.Helper()
	out, errOut, code := runBin(t, "app", "create", "--name", name, "--json", "--rate-limit", "100000", "--data", dataDir)
	if code != 0 {
		t.Fatalf("app create: exit %d\n%s%s", code, out, errOut)
	}
	var a app
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.SdkAppId == 0 || a.SecretKey == "" {
		t.Fatalf("app create --json: %v\n%s", err, out)
	}
	return a
}

// syncBuffer collects a process's output from exec's copying goroutine.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	re     *regexp.Regexp
	match  chan string
	posted bool
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.re != nil && !b.posted {
		if m := b.re.FindSubmatch(b.buf.Bytes()); m != nil {
			b.posted = true
			b.match <- string(m[1])
		}
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running `usercenter serve`.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string // 127.0.0.1:PORT, as printed on stdout
	stdout  *syncBuffer
	stderr  *syncBuffer
	done    chan struct{}
	waitErr error
	started time.Time
}

var listeningRE = regexp.MustCompile(`listening on http://(\S+)\n`)

// startServer starts serve on a free loopback port and waits until it
// prints its address.
func startServer(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	return startServerEnv(t, dataDir, nil, extra...)
}

// startServerEnv starts serve as startServer does, with env added to its
// environment.
func startServerEnv(t *testing.T, dataDir string, env []string, extra ...string) *proc {
	t.Helper()
	p := startProcessEnv(t, dataDir, env, extra...)
	select {
	case p.addr = <-p.stdout.match:
	case <-p.done:
		t.Fatalf("serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", p.waitErr, p.stdout, p.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("serve did not print its address within a minute\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	host, port, err := net.SplitHostPort(p.addr)
	if err != nil || host != "127.0.0.1" || port == "0" || port == "" {
		t.Fatalf("serve --addr 127.0.0.1:0 printed %q, not the address it listens on", p.addr)
	}
	return p
}

func startProcess(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	return startProcessEnv(t, dataDir, nil, extra...)
}

// startProcessEnv starts serve as startProcess does, with env added to
// its environment.
func startProcessEnv(t *testing.T, dataDir string, env []string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir}, extra...)
	p := &proc{
		t:      t,
		cmd:    exec.Command(binPath, args...),
		stdout: &syncBuffer{re: listeningRE, match: make(chan string, 1)},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Env = append(cleanEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if strings.Contains(p.stderr.String(), "DATA RACE") {
			t.Errorf("the server reported a data race:\n%s", p.stderr)
		}
	})
	return p
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("serve did not exit within %v\nstderr:\n%s", d, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// goroutineDump ends the process with SIGQUIT, which makes the Go runtime
// print every goroutine's stack, and returns that part of its stderr: the
// diagnosis of a server that stopped answering.
func (p *proc) goroutineDump() string {
	if p.exited() {
		return "(the process had exited)"
	}
	p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	s := p.stderr.String()
	if i := strings.Index(s, "SIGQUIT"); i >= 0 {
		s = s[i:]
	}
	return s
}

// stop shuts the server down with SIGTERM and expects a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(time.Minute); code != 0 {
		p.t.Errorf("serve exited %d after SIGTERM\nstderr:\n%s", code, p.stderr)
	}
}

// newClient is the official Go SDK's client, pointed at addr as a user
// would point it.
func newClient(addr, secretID, secretKey string) *common.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = addr
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqTimeout = 15
	cpf.SignMethod = uctest.TC3
	cpf.Language = "en-US"
	cpf.DisableRegionBreaker = true
	return common.NewCommonClient(common.NewCredential(secretID, secretKey), "", cpf)
}

func send(c *common.Client, req tchttp.Request, out any) error {
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		return err
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Response, out)
}

type session struct{ UserId, Token, RequestId string }

func register(c *common.Client, sdkAppID uint64, name, originID string) (session, error) {
	req := uctest.NewRegisterUser()
	req.SdkAppId, req.Name, req.OriginId = uctest.P(sdkAppID), uctest.P(name), uctest.P(originID)
	var s session
	err := send(c, req, &s)
	if err == nil && (len(s.UserId) != 27 || s.Token == "") {
		err = fmt.Errorf("RegisterUser answered without a UserId or Token: %+v", s)
	}
	return s, err
}

type userInfo struct {
	SdkAppId               uint64
	UserId, Name, OriginId string
}

func describeUser(c *common.Client, userID string) (userInfo, error) {
	req := uctest.NewDescribeUser()
	req.UserId = uctest.P(userID)
	var u userInfo
	err := send(c, req, &u)
	return u, err
}

// isNetworkError reports whether err means no response was received: the
// request may or may not have been served, and was never acknowledged.
func isNetworkError(err error) bool {
	var e *tcerr.TencentCloudSDKError
	return errors.As(err, &e) && e.GetCode() == "ClientError.NetworkError"
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

// sent is one registration the load made, and its outcome.
type sent struct {
	name, originID string
	sess           session
	err            error
	at             time.Time // when the outcome arrived
}

// load registers users from several goroutines until stopped, until max
// requests were sent, or until a worker meets an error.
type load struct {
	prefix  string
	app     app
	addr    string
	max     int64
	seq     atomic.Int64
	acked   atomic.Int64
	stopped chan struct{}
	stop    func()
	wg      sync.WaitGroup

	mu      sync.Mutex
	results []sent
}

func startLoad(addr string, a app, workers int, max int64, prefix string) *load {
	l := &load{prefix: prefix, app: a, addr: addr, max: max, stopped: make(chan struct{})}
	var once sync.Once
	l.stop = func() { once.Do(func() { close(l.stopped) }) }
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go l.work()
	}
	return l
}

func (l *load) work() {
	defer l.wg.Done()
	c := newClient(l.addr, l.app.SecretId, l.app.SecretKey)
	for {
		select {
		case <-l.stopped:
			return
		default:
		}
		i := l.seq.Add(1)
		if i > l.max {
			return
		}
		s := sent{name: fmt.Sprintf("%s-Name-%d", l.prefix, i), originID: fmt.Sprintf("%s-origin-%d", l.prefix, i)}
		s.sess, s.err = register(c, l.app.SdkAppId, s.name, s.originID)
		s.at = time.Now()
		l.mu.Lock()
		l.results = append(l.results, s)
		l.mu.Unlock()
		if s.err != nil {
			return
		}
		l.acked.Add(1)
	}
}

// finish stops the load and waits for its workers.
func (l *load) finish(t *testing.T) []sent {
	t.Helper()
	l.stop()
	return l.wait(t)
}

// wait waits for the workers to send their requests, or to meet an error.
func (l *load) wait(t *testing.T) []sent {
	t.Helper()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the load did not stop within 30s")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sent(nil), l.results...)
}

// waitAcked waits until n registrations were acknowledged or d passed,
// whichever comes first, and fails if none was. A loaded machine may
// acknowledge none within d, so for the first it waits up to a minute: a
// deadlocked server acknowledges none however long it is given.
func (l *load) waitAcked(t *testing.T, p *proc, n int64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && l.acked.Load() < n {
		time.Sleep(10 * time.Millisecond)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && l.acked.Load() == 0; {
		time.Sleep(10 * time.Millisecond)
	}
	if l.acked.Load() == 0 {
		dump := p.goroutineDump()
		res := l.finish(t)
		t.Fatalf("no registration acknowledged within a minute: %v\n%s\n%s", firstErr(res), stuckFrames(dump), fullDump(dump))
	}
}

func firstErr(res []sent) error {
	for _, r := range res {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// warmUp runs one request of each kind the load tests use, one at a
// time, on a freshly started server. It keeps those tests independent of
// the cold-start deadlock that TestConcurrentColdStart reproduces (the
// first concurrent uses of a read query can exhaust the read pool), so
// that each checks only its own property.
func warmUp(t *testing.T, addr string, a app) {
	t.Helper()
	c := newClient(addr, a.SecretId, a.SecretKey)
	s, err := register(c, a.SdkAppId, "warm-up", fmt.Sprintf("warm-up-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("warm-up RegisterUser: %v", err)
	}
	if _, err := describeUser(c, s.UserId); err != nil {
		t.Fatalf("warm-up DescribeUser: %v", err)
	}
}

// checkPresent checks through a running server that every acknowledged
// registration is there with what was sent.
func checkPresent(t *testing.T, addr string, a app, res []sent) {
	t.Helper()
	var acked []sent
	for _, r := range res {
		if r.err == nil {
			acked = append(acked, r)
		}
	}
	var (
		next            atomic.Int64
		mu              sync.Mutex
		lost, unchecked []string
		wg              sync.WaitGroup
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(addr, a.SecretId, a.SecretKey)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(acked) {
					return
				}
				r := acked[i]
				u, err := describeUser(c, r.sess.UserId)
				if err == nil && (u.OriginId != r.originID || u.Name != r.name || u.SdkAppId != a.SdkAppId) {
					err = fmt.Errorf("got %+v, want OriginId %s and Name %s", u, r.originID, r.name)
				}
				if err == nil {
					continue
				}
				line := fmt.Sprintf("%s (%s): %v", r.sess.UserId, r.originID, err)
				mu.Lock()
				if isNetworkError(err) {
					unchecked = append(unchecked, line)
				} else {
					lost = append(lost, line)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	short := func(l []string) string {
		if len(l) > 10 {
			l = append(l[:10:10], "…")
		}
		return strings.Join(l, "\n")
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged registrations are lost or wrong:\n%s", len(lost), len(acked), short(lost))
	}
	if len(unchecked) > 0 {
		t.Errorf("%d of %d acknowledged registrations could not be checked (no answer from the server):\n%s", len(unchecked), len(acked), short(unchecked))
	}
}
