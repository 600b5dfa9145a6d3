package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

// pgBinEnv names the directory of PostgreSQL's server programs (initdb,
// pg_ctl, postgres), for the tests that run a server of their own.
const pgBinEnv = "USERCENTER_TEST_PG_BIN"

// pgCluster is a PostgreSQL server of the test's own, in a temporary
// directory: a test that stops and restarts its database cannot use the
// shared one. As root it runs as the postgres user, since initdb and
// postgres refuse to run as root.
type pgCluster struct {
	bin    string
	dir    string // owns everything below
	data   string
	sock   string
	log    string
	port   int
	runAs  string // "" or the OS user to run the programs as
	dsn    string
	frozen []int // processes stopped by freeze
}

// newPGCluster initialises a cluster (initdb) and removes it, stopping
// its server first if it runs, when the test ends, failed or not.
func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bin := os.Getenv(pgBinEnv)
	if bin == "" {
		if p, err := exec.LookPath("initdb"); err == nil {
			bin = filepath.Dir(p)
		}
	}
	if bin == "" {
		const howTo = pgBinEnv + " is not set and initdb is not on PATH: install PostgreSQL's server programs and set " +
			pgBinEnv + "=/usr/lib/postgresql/15/bin (the directory of initdb, pg_ctl and postgres)"
		if os.Getenv("CI") != "" {
			t.Fatal("the PostgreSQL outage test cannot run in CI: " + howTo)
		}
		t.Skip("needs a private PostgreSQL server: " + howTo)
	}
	c := &pgCluster{bin: bin}
	dir, err := os.MkdirTemp("", "uc-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir, c.data, c.sock, c.log = dir, filepath.Join(dir, "data"), filepath.Join(dir, "sock"), filepath.Join(dir, "postgres.log")
	t.Cleanup(func() {
		// A stopped postmaster would not act on pg_ctl's signal.
		c.thaw()
		if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err == nil {
			if out, err := c.run("pg_ctl", "stop", "-D", c.data, "-m", "immediate", "-w", "-t", "30"); err != nil {
				t.Errorf("stopping the private PostgreSQL at cleanup: %v\n%s", err, out)
			}
		}
		if t.Failed() {
			if b, err := os.ReadFile(c.log); err == nil {
				t.Logf("PostgreSQL's log:\n%s", lastLines(string(b), 40))
			}
		}
		os.RemoveAll(dir)
	})
	if err := os.Mkdir(c.sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the private PostgreSQL needs the postgres OS user to run as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{c.dir, c.sock} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		c.runAs = "postgres"
	}
	c.port = freePort(t)
	c.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	// --no-sync only speeds up initdb; the server itself runs with fsync on.
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	return c
}

// run runs one of PostgreSQL's programs to completion.
func (c *pgCluster) run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// The postgres user may not be able to enter the test's directory.
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	// pg_ctl start leaves the server running; should it hold on to the
	// output pipe, Wait must not wait for it.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start starts the server and waits until it accepts connections, which
// after a crash is after WAL recovery.
func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on", c.port, c.sock)
	if out, err := c.run("pg_ctl", "start", "-D", c.data, "-w", "-t", "30", "-l", c.log, "-o", opts); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// crash stops the server as a crash would: immediate shutdown ends every
// process at once without a checkpoint, so the next start replays the WAL.
func (c *pgCluster) crash(t *testing.T) {
	t.Helper()
	if out, err := c.run("pg_ctl", "stop", "-D", c.data, "-m", "immediate", "-w", "-t", "30"); err != nil {
		t.Fatalf("pg_ctl stop -m immediate: %v\n%s", err, out)
	}
}

// freeze stops every process of the server with SIGSTOP: a database that
// hangs, accepting connections in the kernel and answering nothing, as
// one does when its disk or its host stalls.
func (c *pgCluster) freeze(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	// The postmaster first, so that it forks no process that is missed.
	pids := []int{postmaster}
	if err := syscall.Kill(postmaster, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	c.frozen = pids
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range procs {
		stat, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid …"; comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(postmaster) {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(string(stat))[0])
		if syscall.Kill(pid, syscall.SIGSTOP) == nil {
			c.frozen = append(c.frozen, pid)
		}
	}
}

// thaw resumes what freeze stopped, the postmaster last.
func (c *pgCluster) thaw() {
	for i := len(c.frozen) - 1; i >= 0; i-- {
		syscall.Kill(c.frozen[i], syscall.SIGCONT)
	}
	c.frozen = nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// call is one registration of the outage load.
type call struct {
	name, originID string
	sess           session
	err            error
	start, end     time.Time
}

// outageLoad registers users from several goroutines until stopped, and
// unlike load carries on after errors, which an outage is made of.
type outageLoad struct {
	prefix  string
	seq     atomic.Int64
	acked   atomic.Int64
	stopped chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	calls   []call
}

func startOutageLoad(addr string, a app, workers int, prefix string) *outageLoad {
	l := &outageLoad{prefix: prefix, stopped: make(chan struct{})}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c := newClient(addr, a.SecretId, a.SecretKey)
			for {
				select {
				case <-l.stopped:
					return
				default:
				}
				i := l.seq.Add(1)
				r := call{name: fmt.Sprintf("%s-Name-%d", l.prefix, i), originID: fmt.Sprintf("%s-origin-%d", l.prefix, i), start: time.Now()}
				r.sess, r.err = register(c, a.SdkAppId, r.name, r.originID)
				r.end = time.Now()
				l.mu.Lock()
				l.calls = append(l.calls, r)
				l.mu.Unlock()
				if r.err == nil {
					l.acked.Add(1)
				} else {
					// Failing fast is the point; hammering a dead
					// database at full speed only burns the CPU the
					// restart needs.
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

// firstOKAfter returns the end of the first success that started after
// since, or false if there is none yet.
func (l *outageLoad) firstOKAfter(since time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, r := range l.calls {
		if r.err == nil && r.start.After(since) && (first.IsZero() || r.end.Before(first)) {
			first = r.end
		}
	}
	return first, !first.IsZero()
}

func (l *outageLoad) finish(t *testing.T) []call {
	t.Helper()
	close(l.stopped)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the load did not stop within 30s")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]call(nil), l.calls...)
}

// readyz returns the status of GET /readyz and how long it took.
func readyz(t *testing.T, addr string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// TestOutage puts PostgreSQL through two kinds of trouble under a
// registration load: first it hangs (every process stopped), then it
// crashes (immediate shutdown) and comes back after WAL recovery. Through
// both, every request is answered within the request timeout, a failure
// being the facade's own answer for an unavailable store, and /readyz
// says not ready; afterwards the same server process serves again by
// itself, and every registration that was acknowledged is there.
func TestOutage(t *testing.T) {
	skipShort(t)
	const requestTimeout = 3 * time.Second
	// Slack for a loaded 2-core machine: the bound checked is "no request
	// waits out its client", not the service's speed. The database hangs
	// for longer than the bound with its slack, so that a request that
	// waited for it, rather than for the request timeout, still fails the
	// bound however much slack a loaded machine is given.
	const slack = 3 * time.Second
	const hang = requestTimeout + 2*slack
	start := time.Now()
	pg := newPGCluster(t)
	pg.start(t)
	t.Logf("private PostgreSQL on port %d ready after %v", pg.port, time.Since(start).Round(time.Millisecond))

	keyFile := filepath.Join(t.TempDir(), "master.key")
	out, errOut, code := runBin(t, "app", "create", "--name", "outage", "--json", "--rate-limit", "100000", "--db", pg.dsn, "--master-key-file", keyFile)
	var a app
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.SdkAppId == 0 {
		t.Fatalf("app create: exit %d\n%s%s", code, out, errOut)
	}
	p := startServer(t, t.TempDir(), "--db", pg.dsn, "--master-key-file", keyFile, "--request-timeout", requestTimeout.String())
	warmUp(t, p.addr, a)

	l := startOutageLoad(p.addr, a, 6, "Outg4q")
	waitAcked := func(n int64) {
		t.Helper()
		// The minute only stops a broken test.
		for deadline := time.Now().Add(time.Minute); l.acked.Load() < n && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if l.acked.Load() < n {
			res := l.finish(t)
			t.Fatalf("only %d registrations acknowledged, want %d: %v", l.acked.Load(), n, lastCallErr(res))
		}
	}
	// waitServing waits for a registration that starts after since to
	// succeed. That it does is the promise; how soon, on a loaded
	// machine, is not: the minute only stops a broken test.
	waitServing := func(since time.Time, what string) time.Time {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if at, ok := l.firstOKAfter(since); ok {
				return at
			}
		}
		res := l.finish(t)
		t.Fatalf("no registration succeeded within a minute of %s: %v", what, lastCallErr(res))
		return time.Time{}
	}
	// wantNotReady checks that /readyz answers 503, within the request
	// timeout.
	wantNotReady := func(when string) {
		t.Helper()
		status, took := readyz(t, p.addr)
		if status != http.StatusServiceUnavailable || took > requestTimeout+slack {
			t.Errorf("/readyz %s: %d after %v, want 503 within %v", when, status, took.Round(time.Millisecond), requestTimeout)
		}
	}
	waitAcked(100)

	// 1. The database hangs for longer than the request timeout.
	frozenAt := time.Now()
	pg.freeze(t)
	wantNotReady("with the database hanging")
	time.Sleep(time.Until(frozenAt.Add(hang)))
	thawedAt := time.Now()
	pg.thaw()
	servingAfterThaw := waitServing(thawedAt, "the database resuming")
	t.Logf("PostgreSQL hung for %v; registrations succeed %v after it resumed", thawedAt.Sub(frozenAt).Round(time.Millisecond), servingAfterThaw.Sub(thawedAt).Round(time.Millisecond))
	waitAcked(l.acked.Load() + 100)

	// 2. The database crashes, stays down 2s, and comes back.
	downAt := time.Now()
	pg.crash(t)
	t.Logf("PostgreSQL crashed (immediate stop) after %d acknowledged registrations", l.acked.Load())
	// Polled: the promise is that it says so, and the minute only stops
	// a broken test.
	notReady := false
	for deadline := time.Now().Add(time.Minute); !notReady && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, _ := readyz(t, p.addr)
		notReady = status == http.StatusServiceUnavailable
	}
	if !notReady {
		t.Errorf("/readyz did not answer 503 within a minute of the database going down")
	}
	time.Sleep(time.Until(downAt.Add(2 * time.Second)))
	wantNotReady("2s into the outage")

	upAt := time.Now()
	pg.start(t)
	upDone := time.Now()
	// The server reconnects by itself: no restart.
	var readyAt time.Time
	for deadline := upDone.Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status, _ := readyz(t, p.addr); status == http.StatusOK {
			readyAt = time.Now()
			break
		}
	}
	if readyAt.IsZero() {
		l.finish(t)
		t.Fatalf("/readyz still not ready a minute after PostgreSQL was back\n%s", lastLines(p.stderr.String(), 20))
	}
	okAt := waitServing(readyAt, "/readyz being ready again")
	t.Logf("PostgreSQL back after %v (recovery included); /readyz ready %v later; registrations succeed %v after that",
		upDone.Sub(upAt).Round(time.Millisecond), readyAt.Sub(upDone).Round(time.Millisecond), okAt.Sub(readyAt).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	res := l.finish(t)

	// Every answer came within the request timeout, and every failure
	// was the facade's own answer for an unavailable store, only while
	// the database was in trouble.
	var (
		acked    []sent
		codes    = map[string]int{}
		slowest  time.Duration
		reported int
		timedOut int // failures that waited out the deadline: the hang
	)
	report := func(format string, args ...any) {
		if reported++; reported <= 10 {
			t.Errorf(format, args...)
		}
	}
	during := func(r call, from, to time.Time) bool { return r.start.Before(to) && r.end.After(from) }
	for _, r := range res {
		took := r.end.Sub(r.start)
		slowest = max(slowest, took)
		if took > requestTimeout+slack {
			report("a registration took %v, past the %v request timeout: %v", took.Round(time.Millisecond), requestTimeout, r.err)
		}
		if r.err == nil {
			acked = append(acked, sent{name: r.name, originID: r.originID, sess: r.sess})
			continue
		}
		var e *tcerr.TencentCloudSDKError
		if !errors.As(r.err, &e) {
			report("a registration failed without an API answer: %v", r.err)
			continue
		}
		codes[e.GetCode()]++
		if took >= requestTimeout-100*time.Millisecond {
			timedOut++
		}
		switch {
		case e.GetCode() != "ServiceUnavailable" && e.GetCode() != "InternalError":
			// Includes ClientError.NetworkError (a reset connection) and
			// an HTTP error status without the facade's envelope.
			report("a registration failed with %s, want ServiceUnavailable or InternalError: %v", e.GetCode(), r.err)
		// The hang ends when a registration has shown the database
		// serving again, not at SIGCONT: a loaded machine may take a
		// while to work through what the stopped server left waiting.
		case !during(r, frozenAt, servingAfterThaw) && !during(r, downAt, readyAt):
			report("a registration failed while the database was up (%s to %s after the start of the load): %v",
				r.start.Sub(res[0].start).Round(time.Millisecond), r.end.Sub(res[0].start).Round(time.Millisecond), r.err)
		}
	}
	t.Logf("load: %d calls, %d acknowledged, failures by code %v (%d ended by the request timeout), slowest %v",
		len(res), len(acked), codes, timedOut, slowest.Round(time.Millisecond))
	if timedOut == 0 {
		t.Errorf("no registration ran into the request timeout while the database hung: the load did not run through it")
	}
	if codes["ServiceUnavailable"]+codes["InternalError"] <= timedOut {
		t.Errorf("no registration failed fast while the database was down: the load did not run through it")
	}

	// Nothing acknowledged was lost.
	checkPresent(t, p.addr, a, acked)
	c := newClient(p.addr, a.SecretId, a.SecretKey)
	for i := 0; i < 10; i++ {
		if _, err := register(c, a.SdkAppId, "after", fmt.Sprintf("after-outage-%d", i)); err != nil {
			t.Fatalf("registration %d after the recovery: %v", i, err)
		}
	}

	if p.exited() {
		t.Fatalf("the server exited during the outage: %v\n%s", p.waitErr, lastLines(p.stderr.String(), 20))
	}
	p.stop()
	logs := p.stderr.String()
	for _, bad := range []string{"panic", "goroutine "} {
		if strings.Contains(logs, bad) {
			t.Errorf("the server log contains %q:\n%s", bad, grepLines(logs, bad))
		}
	}
	for _, r := range res {
		if strings.Contains(logs, r.name) || strings.Contains(logs, r.originID) {
			t.Errorf("the server log contains the personal data of a registration (%s)", r.originID)
			break
		}
	}
	t.Logf("outage test took %v", time.Since(start).Round(time.Millisecond))
}

func firstCallErr(res []call) error {
	for _, r := range res {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

func lastCallErr(res []call) error {
	for i := len(res) - 1; i >= 0; i-- {
		if res[i].err != nil {
			return res[i].err
		}
	}
	return nil
}
