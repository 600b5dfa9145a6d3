// Package docs holds no code: its tests run the code blocks of README.md
// and docs/*.md against a live server, so that a doc cannot drift from
// the code. The conventions for doc writers are in
// docs/architecture.md, "Docs are tested".
package docs

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the checkout's root, the directory the snippets run in: the
// one a reader of the README works in.
const repoRoot = ".."

// docAddr is the server address the docs are written for, the default
// of serve --addr. Each runnable block has it replaced by the address of
// the test's own server.
const docAddr = "127.0.0.1:8080"

// binDir holds the usercenter binary built by TestMain from this checkout.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "usercenter-docs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "usercenter"), "./cmd/usercenter")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building usercenter: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// docFiles are the Markdown files whose blocks run, relative to the root:
// README.md and every docs/*.md, whatever is added later.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(repoRoot, "README.md"))
	sort.Strings(files)
	names := make([]string, len(files))
	for i, f := range files {
		names[i], _ = filepath.Rel(repoRoot, f)
	}
	return names
}

func parseFile(t *testing.T, name string) ([]block, []string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return parse(name, string(text))
}

// TestDocDirectives checks, even with -short, that every directive is
// well formed and attached to a block: an opt-out needs its reason.
func TestDocDirectives(t *testing.T) {
	for _, name := range docFiles(t) {
		blocks, problems := parseFile(t, name)
		for _, p := range problems {
			t.Error(p)
		}
		for _, b := range blocks {
			if found := systemChanges(b); len(found) > 0 {
				t.Errorf("%s: the block would change this machine (%s): opt it out with <!-- not run: REASON -->", b.where(), strings.Join(found, ", "))
			}
		}
	}
}

// TestDocSnippets runs each file's runnable blocks in order, in one bash
// session per file, against a server of its own.
func TestDocSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and the docs' commands: skipped with -short")
	}
	requireTools(t)
	for _, name := range docFiles(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			blocks, _ := parseFile(t, name) // TestDocDirectives reports problems
			var steps []block
			for _, b := range blocks {
				if found := systemChanges(b); len(found) > 0 {
					t.Fatalf("%s: not running %s: the block at line %d would change this machine (%s)", name, name, b.line, strings.Join(found, ", "))
				}
				if b.runs() {
					steps = append(steps, b)
				}
			}
			if len(steps) == 0 {
				t.Skip("no runnable blocks")
			}
			if failure := runSession(t, steps); failure != "" {
				t.Error(failure)
			}
		})
	}
}

// docTools are the commands the docs' shell blocks use.
var docTools = []string{"bash", "curl", "jq", "openssl", "xxd", "sha256sum", "awk"}

// requireTools skips the test, or fails it under CI, when a command the
// docs use is not installed.
func requireTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range docTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the docs' blocks need %s, which CI must install (.ci/run)", strings.Join(missing, ", "))
	}
	t.Skipf("the docs' blocks need %s: not installed", strings.Join(missing, ", "))
}

// sessionHeader starts each file's bash session. Every variable a block
// sets is exported (set -a), so that the Go and Node.js blocks after it
// read them from their environment. Background jobs end with the session.
// curl fails on an HTTP error status, as it would not by itself, unless
// the block passes a --fail of its own.
const sessionHeader = `set -euo pipefail
set -a
# Whatever a snippet left running in the background ends with the session.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
__uc_step() { printf '%s\n' "$1" >>"$UC_DOCS_PROGRESS"; }
curl() {
	local a
	for a in "$@"; do
		case $a in --fail|--fail-with-body|-[!-]*f*) command curl "$@"; return;; esac
	done
	command curl --fail-with-body --silent --show-error "$@"
}
`

var (
	// placeholderRE matches a placeholder such as <SdkAppId>, which a
	// shell block gets as ${SdkAppId}: a variable an earlier block or a
	// prelude sets.
	placeholderRE = regexp.MustCompile(`<([A-Za-z][A-Za-z0-9_]*)>`)
	packageRE     = regexp.MustCompile(`(?m)^package \w+`)
	funcMainRE    = regexp.MustCompile(`(?m)^func main\(\)`)
)

// runSession runs steps, in order, in one bash session against a server
// of its own, and returns what failed: the first block that failed, with
// its output, or "" when every block passed.
func runSession(t *testing.T, steps []block) string {
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	tmpDir := filepath.Join(work, "tmp")
	for _, d := range []string{dataDir, tmpDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, dataDir)

	nodeModules := filepath.Join(root, "compat", "node", "node_modules")
	_, nodeErr := exec.LookPath("node")
	if nodeErr == nil {
		_, nodeErr = os.Stat(nodeModules)
	}

	var script strings.Builder
	script.WriteString(sessionHeader)
	out := func(n int) string { return filepath.Join(work, "out", fmt.Sprintf("%03d", n)) }
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(out(0), "") // makes the directory the blocks' output goes to
	for i, b := range steps {
		n := i + 1
		code := strings.ReplaceAll(b.code(), docAddr, srv.addr)
		var run, after string
		switch b.runner() {
		case shellRunner:
			// A shell epilogue runs after the block, with the block's
			// output in the file $SNIPPET_OUTPUT, to check what it printed.
			shell := func(code string) string {
				return placeholderRE.ReplaceAllString(strings.ReplaceAll(code, docAddr, srv.addr), "$${$1}")
			}
			f := filepath.Join(work, "snippets", fmt.Sprintf("%03d.sh", n))
			write(f, shell(block{prelude: b.prelude, body: b.body}.code()))
			run = fmt.Sprintf(". %q", f)
			if b.epilogue != "" {
				e := filepath.Join(work, "snippets", fmt.Sprintf("%03d-epilogue.sh", n))
				write(e, shell(b.epilogue))
				after = fmt.Sprintf("SNIPPET_OUTPUT=%q\n{ . %q\n} >%q 2>&1 </dev/null\n", out(n), e, out(n)+"-epilogue")
			}
		case goRunner:
			dir := filepath.Join(work, "go", fmt.Sprintf("%03d", n))
			write(filepath.Join(dir, "go.mod"), goMod(t, root))
			sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
			if err != nil {
				t.Fatal(err)
			}
			write(filepath.Join(dir, "go.sum"), string(sum))
			if !packageRE.MatchString(code) {
				code = "package main\n\n" + code
			}
			write(filepath.Join(dir, "main.go"), code)
			// Declarations without a main are only compiled (and vetted).
			verb := "vet"
			if funcMainRE.MatchString(code) {
				verb = "run"
			}
			run = fmt.Sprintf("(cd %q && go %s .)", dir, verb)
		case nodeRunner:
			if nodeErr != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s: node and %s are needed under CI: %v", b.where(), nodeModules, nodeErr)
				}
				t.Logf("%s: skipped, no Node.js SDKs (npm ci in compat/node): %v", b.where(), nodeErr)
				run = ":"
				break
			}
			dir := filepath.Join(work, "node")
			f := filepath.Join(dir, fmt.Sprintf("%03d.mjs", n))
			write(f, code)
			// ES modules find packages only in a node_modules beside or
			// above them: NODE_PATH serves require() alone.
			if _, err := os.Lstat(filepath.Join(dir, "node_modules")); err != nil {
				if err := os.Symlink(nodeModules, filepath.Join(dir, "node_modules")); err != nil {
					t.Fatal(err)
				}
			}
			run = fmt.Sprintf("node %q", f)
		}
		fmt.Fprintf(&script, "__uc_step %d\n{ %s\n} >%q 2>&1 </dev/null\n%s", n, run, out(n), after)
	}
	script.WriteString("__uc_step done\n")
	scriptPath := filepath.Join(work, "session.sh")
	write(scriptPath, script.String())
	progress := filepath.Join(work, "progress")

	// Commands that would change the machine fail, should one slip past
	// systemChanges (through eval, say): a doc must not run them.
	guard := filepath.Join(work, "guard")
	for _, c := range systemCommands {
		write(filepath.Join(guard, c), fmt.Sprintf("#!/bin/sh\necho 'docs test: %s would change this machine: opt the block out with <!-- not run: REASON -->' >&2\nexit 97\n", c))
		if err := os.Chmod(filepath.Join(guard, c), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := cleanEnv()
	env = append(env,
		"PATH="+strings.Join([]string{binDir, guard, os.Getenv("PATH")}, string(os.PathListSeparator)),
		"USERCENTER_DATA="+dataDir,
		"USERCENTER_ADDR="+srv.addr,
		"USERCENTER_ENDPOINT="+srv.addr,
		"NODE_PATH="+nodeModules,
		"TMPDIR="+tmpDir,
		"UC_DOCS_PROGRESS="+progress,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", scriptPath)
	cmd.Dir = root
	cmd.Env = env
	var session bytes.Buffer
	cmd.Stdout, cmd.Stderr = &session, &session
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()

	p, _ := os.ReadFile(progress)
	marks := strings.Fields(string(p))
	last := ""
	if len(marks) > 0 {
		last = marks[len(marks)-1]
	}
	defer srv.stop(t)
	if runErr == nil && last == "done" {
		t.Logf("blocks run: %d", len(steps))
		return ""
	}
	n, err := strconv.Atoi(last)
	if err != nil || n < 1 || n > len(steps) {
		return fmt.Sprintf("the session failed before its first block: %v\n%s", runErr, session.String())
	}
	b := steps[n-1]
	output, _ := os.ReadFile(out(n))
	why := fmt.Sprint(runErr)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "did not finish within 5 minutes"
	}
	msg := fmt.Sprintf("%s: %s block failed: %s\n--- block:\n%s\n--- output:\n%s", b.where(), b.lang, why, indent(b.code()), indent(string(output)))
	if e, err := os.ReadFile(out(n) + "-epilogue"); err == nil {
		msg += "\n--- output of the epilogue:\n" + indent(string(e))
	}
	switch rest := len(steps) - n; rest {
	case 0:
	case 1:
		msg += "\n(the block after it was not run)"
	default:
		msg += fmt.Sprintf("\n(the %d blocks after it were not run)", rest)
	}
	if s := session.String(); s != "" {
		msg += "\n--- session:\n" + indent(s)
	}
	return msg
}

// goMod is the go.mod of a Go block's module: it requires the checkout,
// so that a block may import usercenter's packages, and the checkout's
// own requirements, which the module cache already holds: nothing is
// downloaded.
func goMod(t *testing.T, root string) string {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(mod)
	i := strings.Index(text, "\nrequire")
	goLine := regexp.MustCompile(`(?m)^go \S+$`).FindString(text)
	if i < 0 || goLine == "" {
		t.Fatalf("%s/go.mod has no go line or requirements", root)
	}
	return fmt.Sprintf("module docsnippet\n\n%s\n\nrequire usercenter v0.0.0\n\nreplace usercenter => %s\n%s", goLine, root, text[i:])
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// cleanEnv is the test's environment without USERCENTER_* variables, so
// that a developer's settings reach neither the server nor the snippets.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "USERCENTER_") {
			env = append(env, kv)
		}
	}
	return env
}

// server is a running `usercenter serve` on a loopback port of its own.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	done   chan struct{}
}

var listeningRE = regexp.MustCompile(`listening on http://(\S+)\n`)

func startServer(t *testing.T, dataDir string) *server {
	t.Helper()
	stdout := &lockedBuffer{}
	s := &server{
		cmd:    exec.Command(filepath.Join(binDir, "usercenter"), "serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "warn"),
		stderr: &lockedBuffer{},
		done:   make(chan struct{}),
	}
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	// Ready when it has printed its address and /readyz answers 200. The
	// bound only keeps a broken server from hanging the test.
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if s.addr == "" {
			if m := listeningRE.FindStringSubmatch(stdout.String()); m != nil {
				s.addr = m[1]
			}
		}
		if s.addr != "" {
			if resp, err := client.Get("http://" + s.addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return s
				}
			}
		}
		select {
		case <-s.done:
			t.Fatalf("serve exited before it was ready: %v\nstdout:\n%s\nstderr:\n%s", s.cmd.ProcessState, stdout, s.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve was not ready within 2 minutes\nstdout:\n%s\nstderr:\n%s", stdout, s.stderr)
		}
	}
}

// stop ends the server with SIGTERM and expects a clean exit: a snippet
// that crashed it fails the test even if the snippet itself passed.
func (s *server) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		t.Errorf("serve exited while the snippets ran: %v\nstderr:\n%s", s.cmd.ProcessState, s.stderr)
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Errorf("serve did not stop within a minute of SIGTERM\nstderr:\n%s", s.stderr)
		return
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("serve exited %d after SIGTERM\nstderr:\n%s", code, s.stderr)
	}
}

// lockedBuffer collects a process's output from exec's copying goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
