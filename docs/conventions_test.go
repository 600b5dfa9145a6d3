package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests below prove the conventions that docs/architecture.md
// promises doc writers ("Docs are tested").

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name, text string
		// each block as `line "lang" runs|-|notRun:REASON`, and the problems
		want, problems []string
	}{
		{
			name: "languages",
			text: "```sh\necho\n```\n\n```json\n{}\n```\n```\nGET /\n```\n~~~go\nx\n~~~\n```js title\n1\n```\n```console\n$ x\n```\n",
			want: []string{"1 \"sh\" runs", "5 \"json\" -", "8 \"\" -", "11 \"go\" runs", "14 \"js\" runs", "17 \"console\" -"},
		},
		{
			name: "opt-out with a reason, blank lines between",
			text: "<!-- not run: needs systemd -->\n\n```sh\nsystemctl start x\n```\n",
			want: []string{"3 \"sh\" notRun:needs systemd"},
		},
		{
			name:     "opt-out without a reason",
			text:     "<!-- not run -->\n```sh\nx\n```\n<!-- not run: -->\n```sh\nx\n```\n<!-- notrun: typo -->\n```sh\nx\n```\n",
			want:     []string{"2 \"sh\" notRun:(no reason given)", "6 \"sh\" notRun:(no reason given)", "10 \"sh\" notRun:(no reason given)"},
			problems: []string{"f.md:1: ", "f.md:5: ", "f.md:9: "},
		},
		{
			name:     "opt-out attached to nothing",
			text:     "<!-- not run: reason -->\nSome text.\n```sh\nx\n```\n",
			want:     []string{"3 \"sh\" runs"},
			problems: []string{"f.md:1: <!-- not run --> is not followed by a code block"},
		},
		{
			name: "indented fence in a list item",
			text: "1. Step:\n\n   <!-- prelude\n   A=1\n   -->\n   ```sh\n   echo \"$A\"\n     more\n   ```\n   <!-- epilogue\n   test -s x\n   -->\n",
			want: []string{"6 \"sh\" runs"},
		},
		{
			name:     "prelude before a block that is not run",
			text:     "<!-- prelude\nA=1\n-->\n```json\n{}\n```\n",
			want:     []string{"4 \"json\" -"},
			problems: []string{"f.md:1: <!-- prelude --> before a block that is not run"},
		},
		{
			name:     "epilogue after text",
			text:     "```sh\nx\n```\nText.\n<!-- epilogue\ny\n-->\n",
			want:     []string{"1 \"sh\" runs"},
			problems: []string{"f.md:5: <!-- epilogue --> does not follow a code block"},
		},
		{
			name:     "unclosed block",
			text:     "```sh\nx\n",
			want:     []string{"1 \"sh\" runs"},
			problems: []string{"f.md:1: code block is not closed"},
		},
		{
			name: "other comments are ignored",
			text: "<!-- markdownlint-disable -->\n```sh\nx\n```\n",
			want: []string{"2 \"sh\" runs"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blocks, problems := parse("f.md", tc.text)
			var got []string
			for _, b := range blocks {
				state := "-"
				switch {
				case b.notRun != "":
					state = "notRun:" + b.notRun
				case b.runs():
					state = "runs"
				}
				got = append(got, fmt.Sprintf("%d %q %s", b.line, b.lang, state))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("blocks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems: %q, want %d starting %q", problems, len(tc.problems), tc.problems)
			}
			for i, p := range problems {
				if !strings.HasPrefix(p, tc.problems[i]) {
					t.Errorf("problem %d: %q, want it to start with %q", i, p, tc.problems[i])
				}
			}
		})
	}
}

func TestParseIndentedBody(t *testing.T) {
	blocks, problems := parse("f.md", "1. Step:\n\n   <!-- prelude\n   A=1\n   -->\n   ```sh\n   echo \"$A\"\n     more\n   ```\n   <!-- epilogue\n   test -s x\n   -->\n")
	if len(problems) != 0 || len(blocks) != 1 {
		t.Fatalf("blocks %+v, problems %q", blocks, problems)
	}
	b := blocks[0]
	if b.body != "echo \"$A\"\n  more" || strings.TrimSpace(b.prelude) != "A=1" || strings.TrimSpace(b.epilogue) != "test -s x" {
		t.Errorf("body %q, prelude %q, epilogue %q", b.body, b.prelude, b.epilogue)
	}
}

// TestSessionConventions runs small made-up docs through the runner: what
// passes must pass, and what is broken must fail naming its block.
func TestSessionConventions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server: skipped with -short")
	}
	requireTools(t)
	tests := []struct {
		name, doc string
		want      string // in the failure; "" when the doc must pass
	}{
		{
			name: "variables carry over to later blocks, Go and Node.js",
			doc: "```sh\nWORD=hello\n```\n" +
				"```go\npackage main\n\nimport \"os\"\n\nfunc main() {\n\tif os.Getenv(\"WORD\") != \"hello\" {\n\t\tos.Exit(3)\n\t}\n}\n```\n" +
				"```js\nif (process.env.WORD !== \"hello\") process.exit(3);\n```\n" +
				"```sh\ntest \"$WORD\" = hello\n```\n",
		},
		{
			name: "the server answers at the docs' address",
			doc:  "```sh\ncurl http://127.0.0.1:8080/readyz\nusercenter app create --name x\nusercenter healthcheck\n```\n",
		},
		{
			name: "an HTTP error status fails curl",
			doc:  "```sh\nA=1\n```\n\n```sh\ncurl http://127.0.0.1:8080/v1/users/nobody\n```\n```sh\ntrue\n```\n",
			want: "f.md:5: sh block failed: exit status 22",
		},
		{
			name: "a failure before the last command",
			doc:  "```bash\nfalse\ntrue\n```\n",
			want: "f.md:1: bash block failed: exit status 1",
		},
		{
			name: "an unset variable",
			doc:  "```sh\necho \"$NOT_SET\"\n```\n",
			want: "NOT_SET: unbound variable",
		},
		{
			name: "placeholders are variables",
			doc:  "<!-- prelude\nSdkAppId=7\n-->\n```sh\ntest <SdkAppId> = 7\n```\n",
		},
		{
			name: "an epilogue reads the output",
			doc:  "```sh\necho '{\"code\": 5032}'\n```\n<!-- epilogue\njq -e '.code == 200' \"$SNIPPET_OUTPUT\"\n-->\n",
			want: "--- output of the epilogue:\n    false",
		},
		{
			name: "a Go block may import usercenter's packages",
			doc:  "```go\npackage main\n\nimport \"usercenter\"\n\nfunc main() {\n\tif usercenter.MaskPhone(\"+8613612346688\") != \"136****6688\" {\n\t\tpanic(usercenter.MaskPhone(\"+8613612346688\"))\n\t}\n}\n```\n",
		},
		{
			name: "a Go program that fails",
			doc:  "```go\npackage main\n\nimport \"os\"\n\nfunc main() { os.Exit(4) }\n```\n",
			want: "f.md:1: go block failed: exit status 1", // go run's own status
		},
		{
			name: "Go declarations are compiled",
			doc:  "```go\nfunc f() int { return \"not an int\" }\n```\n",
			want: "f.md:1: go block failed",
		},
		{
			name: "a block opted out does not run",
			doc:  "<!-- not run: fails -->\n```sh\nfalse\n```\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blocks, problems := parse("f.md", tc.doc)
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			var steps []block
			for _, b := range blocks {
				if b.runs() {
					steps = append(steps, b)
				}
			}
			if len(steps) == 0 {
				t.Log("no block to run")
				return
			}
			failure := runSession(t, steps)
			switch {
			case tc.want == "" && failure != "":
				t.Errorf("failed:\n%s", failure)
			case tc.want != "" && !strings.Contains(failure, tc.want):
				t.Errorf("failure:\n%s\nwant it to contain %q", failure, tc.want)
			}
		})
	}
}

// TestSessionEndsBackgroundJobs checks that a job a block leaves running
// ends with its session, rather than outliving the test.
func TestSessionEndsBackgroundJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server: skipped with -short")
	}
	requireTools(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	blocks, _ := parse("f.md", fmt.Sprintf("```sh\nsleep 600 &\necho $! >%q\n```\n", pidFile))
	if failure := runSession(t, blocks); failure != "" {
		t.Fatal(failure)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The signal is sent as the session ends; the process may take a
	// moment to go. A generous bound, polled.
	for deadline := time.Now().Add(time.Minute); ; {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// Gone, or a zombie no one has reaped yet: either way it ended.
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the background job %d outlived its session by a minute", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSystemChanges(t *testing.T) {
	tests := []struct {
		code string
		want string // what systemChanges names, joined by ", "
	}{
		{"useradd --system usercenter", "useradd"},
		{"install -m 0755 usercenter /usr/local/bin/usercenter", "install"},
		{"X=1 sudo true", "sudo"},
		{"true && systemctl daemon-reload", "systemctl"},
		{"echo $(docker ps)", "docker"},
		{"runuser -u postgres -- psql", "runuser"},
		{"cat > /etc/usercenter/usercenter.env <<'EOF'\nA=1\nEOF", "> /etc"},
		{"echo x | tee -a /var/log/x", "tee -a /var"},
		{"mkdir -p /opt/usercenter", "mkdir -p /opt"},
		// What the docs do run.
		{"usercenter app create --name myapp --json", ""},
		{"npm install tencentcloud-sdk-nodejs-common@4", ""},
		{"# then install it\ncurl http://127.0.0.1:8080/readyz", ""},
		{"export USERCENTER_TEST_PG_BIN=/usr/lib/postgresql/15/bin", ""},
		{"usercenter user export --app 1 -o \"$TMPDIR/users.jsonl\"", ""},
		{"go run ./cmd/usercenter serve", ""},
	}
	for _, tc := range tests {
		got := strings.Join(systemChanges(block{lang: "sh", body: tc.code}), ", ")
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.code, got, tc.want)
		}
	}
	if got := systemChanges(block{lang: "sh", body: "useradd x", notRun: "needs root"}); got != nil {
		t.Errorf("an opted-out block: %q, want nothing", got)
	}
}

// TestSessionGuardsTheMachine checks that a system command that escapes
// systemChanges still does not run.
func TestSessionGuardsTheMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server: skipped with -short")
	}
	requireTools(t)
	// install --version is harmless should the guard fail.
	blocks, _ := parse("f.md", "```sh\ncmd=install\n\"$cmd\" --version\n```\n")
	if found := systemChanges(blocks[0]); found != nil {
		t.Fatalf("systemChanges found %q: the test needs a block it misses", found)
	}
	failure := runSession(t, blocks)
	if !strings.Contains(failure, "exit status 97") || !strings.Contains(failure, "install would change this machine") {
		t.Errorf("failure:\n%s\nwant the guard's exit status 97 and message", failure)
	}
}
