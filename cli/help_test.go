package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestGroupHelp: every group answers --help, -h and help GROUP with its
// subcommands, on stdout, and exits 0.
func TestGroupHelp(t *testing.T) {
	t.Parallel()
	for _, g := range groups {
		for _, args := range [][]string{{g.name, "--help"}, {g.name, "-h"}, {"help", g.name}} {
			r := runCLI(t, nil, args...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: usercenter "+g.name+" SUBCOMMAND") {
				t.Errorf("usercenter %v: want its help on stdout and exit 0: %s", args, r)
			}
			for _, sub := range g.subcommands() {
				if !strings.Contains(r.stdout, "\n  "+g.name+" "+sub) {
					t.Errorf("usercenter %v does not list %s %s:\n%s", args, g.name, sub, r.stdout)
				}
			}
		}
	}
	if len(findGroup("user").subcommands()) != 10 || len(findGroup("app").subcommands()) != 4 {
		t.Errorf("groups: user has %v, app has %v", findGroup("user").subcommands(), findGroup("app").subcommands())
	}
}

// TestCommandHelp: every command's help starts with its usage line, with
// its positional arguments, then lists its flags; help COMMAND says the same.
func TestCommandHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		args := append(strings.Fields(c.path), "--help")
		r := runCLI(t, nil, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("usercenter %v: exit %d: %s", args, r.code, r)
			continue
		}
		usageLine := "Usage: usercenter " + strings.TrimSpace(c.path+" "+c.args) + " [FLAGS]\n"
		if !strings.HasPrefix(r.stdout, usageLine) {
			t.Errorf("usercenter %v does not start with %q:\n%s", args, usageLine, r.stdout)
		}
		flags := commandFlags(&c)
		for _, f := range flags {
			if !strings.Contains(r.stdout, "\n  --"+f) {
				t.Errorf("usercenter %v does not list --%s:\n%s", args, f, r.stdout)
			}
		}
		if len(flags) > 0 && strings.Index(r.stdout, "\nFlags:\n") < len(usageLine) {
			t.Errorf("usercenter %v: the flags do not follow the usage line:\n%s", args, r.stdout)
		}
		h := runCLI(t, nil, append([]string{"help"}, strings.Fields(c.path)...)...)
		if h.code != 0 || h.stdout != r.stdout {
			t.Errorf("usercenter help %s differs from --help: %s", c.path, h)
		}
	}
	for _, want := range []struct{ path, args string }{{"app show", "SDKAPPID"}, {"user set", "USERID FIELD=VALUE…"}, {"key revoke", "SECRETID"}, {"user import", "FILE --app SDKAPPID"}} {
		if c := findCommand(want.path); c == nil || c.args != want.args {
			t.Errorf("%s: usage arguments %+v, want %q", want.path, c, want.args)
		}
	}
	// bench's flags name their values plainly.
	r := runCLI(t, nil, "bench", "--help")
	if !strings.Contains(r.stdout, "\n  --creds FILE\n") || strings.Contains(r.stdout, "usercenter app create --json\n") || strings.Contains(r.stdout, "`") {
		t.Errorf("bench --help shows --creds badly:\n%s", r.stdout)
	}
	r = runCLI(t, nil, "help", "serve")
	if !strings.HasPrefix(r.stdout, "Usage: usercenter serve") || strings.Contains(r.stdout, "Commands:") {
		t.Errorf("help serve shows more than serve's help:\n%s", r.stdout)
	}
}

// TestUnknownCommandsAndFlags: a mistake is told in one line, with the
// nearest command or flag, and exits 2; the whole help is not dumped.
func TestUnknownCommandsAndFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serv"}, `unknown command "serv"; did you mean "serve"?`},
		{[]string{"sevre"}, `did you mean "serve"?`},
		{[]string{"ap", "list"}, `did you mean "app"?`},
		{[]string{"app", "lst"}, `unknown command "app lst"; did you mean "app list"?`},
		{[]string{"key", "revok", "AKID"}, `did you mean "key revoke"?`},
		{[]string{"master-key", "rotat"}, `did you mean "master-key rotate"?`},
		{[]string{"list"}, `did you mean "app list" or "key list" or "scim token list" or "user list" or "admin list" or "webhook list"?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"app", "frob"}, `app has create, list, show, update`},
		{[]string{"app"}, "app needs a subcommand: create, list, show, update"},
		{[]string{"help", "srve"}, `did you mean "serve"?`},
		{[]string{"help", "app", "lst"}, `did you mean "app list"?`},
		{[]string{"app", "list", "--jsn"}, "unknown flag --jsn for app list; did you mean --json?"},
		{[]string{"audit", "--sinse", "2024-01-01T00:00:00Z"}, "did you mean --since?"},
		{[]string{"serve", "--adr", "127.0.0.1:0"}, "did you mean --addr?"},
		{[]string{"app", "list", "--no-such-flag"}, "unknown flag --no-such-flag for app list"},
		{[]string{"app", "create", "--name", "x", "--rate-limit", "many"}, `invalid value "many" for flag --rate-limit`},
		{[]string{"app", "create", "--name"}, "flag needs an argument: --name"},
		{[]string{"completion", "tcsh"}, `unknown shell "tcsh"`},
	} {
		r := runCLI(t, dataEnv(t.TempDir()), c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("usercenter %v: want exit 2 saying %q: %s", c.args, c.want, r)
		}
		if lines := strings.Count(r.stderr, "\n"); lines != 1 || strings.Contains(r.stderr, "Usage") {
			t.Errorf("usercenter %v: want one line, not the help: %s", c.args, r)
		}
	}
	// Far from every command, nothing is suggested.
	if r := runCLI(t, nil, "frobnicate"); strings.Contains(r.stderr, "did you mean") {
		t.Errorf("frobnicate got a suggestion: %s", r)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"serve", "serve", 0}, {"serv", "serve", 1}, {"sevre", "serve", 1}, {"ca", "abc", 3}, {"kitten", "sitting", 3}, {"", "abc", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

// TestBashCompletion: the script is valid bash, lists the commands, and
// completes what bash asks it to.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	r := mustRun(t, nil, "completion", "bash")
	script := filepath.Join(t.TempDir(), "usercenter.bash")
	if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n rejects the script: %v\n%s", err, out)
	}
	if !strings.Contains(r.stdout, `"`+strings.Join(topLevel(), " ")+`"`) || !strings.Contains(r.stdout, `"create list show update"`) {
		t.Errorf("the script does not list the commands:\n%s", r.stdout)
	}
	complete := func(words ...string) string {
		t.Helper()
		// COMP_WORDS holds the line so far; the last word is the one to complete.
		line := "COMP_WORDS=(usercenter"
		for _, w := range words {
			line += " '" + w + "'"
		}
		line += "); COMP_CWORD=" + strconv.Itoa(len(words)) + `; _usercenter; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", "source "+script+"; "+line).CombinedOutput()
		if err != nil {
			t.Fatalf("completing %q: %v\n%s", words, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{""}, strings.Join(topLevel(), " ")},
		{[]string{"ap"}, "app"},
		{[]string{"m"}, "migrate master-key migrate-data"},
		{[]string{"app", ""}, "create list show update"},
		{[]string{"user", "i"}, "import"},
		{[]string{"app", "create", "--na"}, "--name"},
		{[]string{"app", "show", "1400000001", "--show"}, "--show-secret"},
		{[]string{"master-key", "rotate", "--disc"}, "--discard-old-key"},
		{[]string{"serve", "--ad"}, "--addr"},
		{[]string{"completion", ""}, "bash zsh fish"},
		{[]string{"help", "se"}, "serve"},
	} {
		if got := complete(c.words...); got != c.want {
			t.Errorf("completing %q: %q, want %q", c.words, got, c.want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		r := mustRun(t, nil, "completion", shell)
		if !strings.Contains(r.stdout, "master-key") || !strings.Contains(r.stdout, "discard-old-key") {
			t.Errorf("completion %s lacks commands or flags:\n%s", shell, r.stdout)
		}
		if sh, err := exec.LookPath(shell); err == nil {
			if out, err := exec.Command(sh, "-n", "-c", r.stdout).CombinedOutput(); err != nil {
				t.Errorf("%s -n rejects the script: %v\n%s", shell, err, out)
			}
		}
	}
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	port := addr[strings.LastIndex(addr, ":")+1:]

	for _, env := range []map[string]string{nil, {"USERCENTER_ADDR": "0.0.0.0:" + port}} {
		args := []string{"healthcheck"}
		if env == nil {
			args = append(args, "--addr", addr)
		}
		if r := runCLI(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "healthy") {
			t.Errorf("healthcheck %v %v of a healthy server: %s", args, env, r)
		}
	}
	if r := runCLI(t, nil, "healthcheck", "--url", srv.URL+"/healthz"); r.code != 0 {
		t.Errorf("healthcheck --url: %s", r)
	}
	if r := runCLI(t, nil, "healthcheck", "--url", srv.URL+"/elsewhere"); r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("healthcheck of a 404: %s", r)
	}
	status = http.StatusServiceUnavailable
	if r := runCLI(t, nil, "healthcheck", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "unhealthy") || !strings.Contains(r.stderr, "503") {
		t.Errorf("healthcheck of an unhealthy server: %s", r)
	}
	srv.Close()
	if r := runCLI(t, nil, "healthcheck", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "unhealthy") {
		t.Errorf("healthcheck of no server: %s", r)
	}
	if r := runCLI(t, nil, "healthcheck", "--addr", "nonsense"); r.code != 2 {
		t.Errorf("healthcheck --addr nonsense: %s", r)
	}
}
