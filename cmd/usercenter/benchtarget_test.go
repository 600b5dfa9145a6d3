package main

import (
	"bufio"
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
	// The run's standard error is a pipe the baselines' server shares
	// (it inherits it), so the pipe's end is read once both have exited:
	// no polling of the process table.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(binPath, "bench", "--target", target, "--creds", creds, "--users", "40", "--connections", "2",
		"--duration", "10m", "--scenarios", "describe")
	cmd.Env = cleanEnv()
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer cmd.Process.Kill()
	up := make(chan struct{})
	ended := make(chan struct{})
	var progress strings.Builder
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			progress.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "the baselines' server is up at") {
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-ended:
		t.Fatalf("the run ended before its baselines' server was up:\n%s", progress.String())
	case <-time.After(5 * time.Minute):
		t.Fatal("no baselines' server was up within 5 minutes")
	}
	child := baselineChildren(t)
	if len(child) != 1 {
		t.Fatalf("baselines' processes %v once the run said its server was up, want one", child)
	}
	cmd.Process.Kill()
	cmd.Wait()
	select {
	case <-ended:
	case <-time.After(2 * time.Minute):
		if p, err := os.FindProcess(child[0]); err == nil {
			p.Kill() // it must not outlive the test too
		}
		t.Fatalf("the baselines' process %v outlived the run killed with SIGKILL by 2 minutes", child)
	}
	if pids := baselineChildren(t); len(pids) != 0 {
		t.Errorf("baselines' processes %v after the run's end", pids)
	}
}
