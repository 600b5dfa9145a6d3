package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wrkFailed is what the scripts of bench/wrk print after wrk's summary.
var wrkFailed = regexp.MustCompile(`(?m)^failed \([^)]*\): (\d+) of (\d+)$`)

// The scripts of bench/wrk drive a real server through wrk, with the data
// `bench --emit-wrk` writes, and the lookup baseline that
// `bench --serve-baseline` serves: every request they send is answered
// 200 without an error in its envelope. wrk runs for two seconds a
// script; what is checked is that it sent requests and none failed, not
// how many it sent.
func TestWrkScripts(t *testing.T) {
	skipShort(t)
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wrk is not installed: .ci/run installs it (apt-get install wrk)")
		}
		t.Skip("wrk is not installed (apt-get install wrk)")
	}
	scripts, err := filepath.Abs("../../bench/wrk")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	creds := createAppCreds(t, dir, "wrk")
	p := startServer(t, dir)
	defer p.stop()
	data := filepath.Join(dir, "wrkdata")
	if out, errOut, code := runBin(t, "bench", "--target", "http://"+p.addr, "--creds", creds, "--users", "40", "--emit-wrk", data); code != 0 {
		t.Fatalf("bench --emit-wrk: exit %d\n%s%s", code, out, errOut)
	}

	run := func(script, url string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, wrk, append([]string{"-t1", "-c2", "-d2s", "-s", filepath.Join(scripts, script), url, "--"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wrk %s: %v\n%s", script, err, out)
		}
		m := wrkFailed.FindSubmatch(out)
		if m == nil {
			t.Fatalf("wrk %s printed no count of failed requests:\n%s", script, out)
		}
		if failed, sent := string(m[1]), string(m[2]); failed != "0" || sent == "0" {
			t.Errorf("wrk %s: %s of %s requests failed, want none of at least one\n%s", script, failed, sent, out)
		}
	}
	for _, s := range []string{"describe.lua", "me.lua", "register.lua"} {
		run(s, "http://"+p.addr, data, "1")
	}

	// The lookup baseline, served apart for wrk.
	ctx, cancel := context.WithCancel(context.Background())
	bl := exec.CommandContext(ctx, binPath, "bench", "--serve-baseline", "127.0.0.1:0", "--users", "500")
	bl.Env = cleanEnv()
	stdout, err := bl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bl.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel() // the baseline serves until killed
		bl.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("bench --serve-baseline printed nothing: %v", err)
	}
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if base == "" || !strings.Contains(line, "for id 1 to "+strconv.Itoa(500)) {
		t.Fatalf("bench --serve-baseline: %q, want its URL and the table's ids", line)
	}
	run("lookup.lua", base, "500")
	// A row past the table is not found, so the script's count can fail.
	run404 := exec.CommandContext(ctx, wrk, "-t1", "-c1", "-d1s", "-s", filepath.Join(scripts, "lookup.lua"), base, "--", "1000")
	out, err := run404.CombinedOutput()
	if m := wrkFailed.FindSubmatch(out); err != nil || m == nil || string(m[1]) == "0" {
		t.Errorf("lookup.lua over ids the table does not have: want failures counted\n%v\n%s", err, out)
	}
}
