package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// baselineChildren lists the processes of this binary serving bench's
// baselines for a run (`bench --serve-baseline … --stop-with-stdin`).
func baselineChildren(t *testing.T) []int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	// A child's argv[0] is the binary's path as bench found it
	// (os.Executable), with any symbolic link on the way resolved.
	exe, err := filepath.EvalSymlinks(binPath)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		args := bytes.Split(cmdline, []byte{0})
		if len(args) == 0 || (string(args[0]) != binPath && string(args[0]) != exe) || !bytes.Contains(cmdline, []byte("\x00--serve-baseline\x00")) || !bytes.Contains(cmdline, []byte("\x00--stop-with-stdin")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Against a --target, bench serves its baselines from a process of its
// own, as the target is one: the report gives that server's CPU time per
// request and RSS, read from its /metrics, beside the target's; the
// process ends with the run, and with the run's process if that is
// killed.
func TestBenchTargetBaselineApart(t *testing.T) {
	skipShort(t)
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc to find the baselines' process in")
	}
	dir := t.TempDir()
	creds := createAppCreds(t, dir, "benchtarget")
	p := startServer(t, dir)
	defer p.stop()
	target := "http://" + p.addr

	report := filepath.Join(dir, "report.json")
	// Three rows of 3,000 requests, seeding and a baselines' server to
	// start: far more than a minute a command may take on a loaded
	// machine under the race detector.
	out, errOut, code := runBinFor(t, 10*time.Minute, "bench", "--target", target, "--creds", creds, "--users", "40", "--connections", "4",
		"--requests", "3000", "--scenarios", "describe", "--json", report)
	if code != 0 {
		t.Fatalf("bench --target: exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Notes                []string
		Baselines, Scenarios []struct {
			Name                 string
			OK                   uint64
			ServerRSSBytes       uint64
			ServerCPUMicrosPerOp float64
		}
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Baselines) != 2 || len(rep.Scenarios) != 1 {
		t.Fatalf("report rows: %d baselines, %d scenarios\n%s", len(rep.Baselines), len(rep.Scenarios), raw)
	}
	for _, r := range append(rep.Baselines, rep.Scenarios...) {
		// 3,000 requests cost any server well over the 10 ms its CPU
		// time is counted in.
		if r.OK != 3000 || r.ServerRSSBytes == 0 || r.ServerCPUMicrosPerOp <= 0 {
			t.Errorf("%s: %d ok, server RSS %d, server CPU %.1f µs/op; want 3000 ok and both read from its server's /metrics", r.Name, r.OK, r.ServerRSSBytes, r.ServerCPUMicrosPerOp)
		}
	}
	for _, n := range rep.Notes {
		if strings.HasPrefix(n, "closing the lookup baseline") || strings.HasPrefix(n, "reading the server's RSS") || strings.HasPrefix(n, "reading the baselines' server's RSS") {
			t.Errorf("the run noted %q, want a baselines' server that answered its /metrics and stopped when asked", n)
		}
	}
	if pids := baselineChildren(t); len(pids) != 0 {
		t.Errorf("the baselines' process outlived the run: %v", pids)
	}

	// A run killed while its baselines run leaves no baselines' server
	// behind: it stops when its standard input, the run's pipe, closes.
	cmd := exec.Command(binPath, "bench", "--target", target, "--creds", creds, "--users", "40", "--connections", "2",
		"--duration", "10m", "--scenarios", "describe")
	cmd.Env = cleanEnv()
	// A file, not a buffer: a buffer is filled by a goroutine of this
	// process that would wait for every holder of the pipe, the
	// baselines' process too.
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var child []int
	for deadline := time.Now().Add(2 * time.Minute); len(child) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			msg, _ := os.ReadFile(stderr.Name())
			t.Fatalf("no baselines' process appeared\n%s", msg)
		}
		child = baselineChildren(t)
	}
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(time.Minute); len(baselineChildren(t)) != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the baselines' process %v outlived the run killed with SIGKILL", child)
		}
	}
}
