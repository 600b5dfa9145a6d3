package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// goVersionM reads the build information of the binary with the go
// tool, which knows nothing of how usercenter reports it.
func goVersionM(t *testing.T) (goVersion, modVersion string, settings map[string]string) {
	t.Helper()
	out, err := exec.Command(goTool(), "version", "-m", binPath).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	_, goVersion, _ = strings.Cut(lines[0], ": ")
	settings = map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(strings.TrimSpace(l), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			modVersion = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			settings[k] = v
		}
	}
	return strings.TrimSpace(goVersion), modVersion, settings
}

func TestVersion(t *testing.T) {
	skipShort(t)
	goVersion, modVersion, settings := goVersionM(t)
	if goVersion == "" || modVersion == "" {
		t.Fatalf("go version -m shows no Go or module version")
	}
	stdout, stderr, code := runBin(t, "version")
	if code != 0 || stderr != "" {
		t.Fatalf("usercenter version: exit %d\n%s%s", code, stdout, stderr)
	}
	want := []string{"usercenter " + modVersion + "\n", "go        " + goVersion + "\n"}
	revision, vcs := settings["vcs.revision"]
	if vcs {
		modified := map[string]string{"true": "yes", "false": "no"}[settings["vcs.modified"]]
		want = append(want, "revision  "+revision+" (committed "+settings["vcs.time"]+")", "modified  "+modified)
	} else {
		t.Logf("the binary carries no version control information (built outside a git clone, or in a worktree)")
		want = append(want, "revision  unknown", "modified  unknown")
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("usercenter version lacks %q:\n%s", w, stdout)
		}
	}

	stdout, _, code = runBin(t, "version", "--json")
	var info struct {
		Version, Revision, GoVersion string
		Modified                     *bool
	}
	if err := json.Unmarshal([]byte(stdout), &info); code != 0 || err != nil {
		t.Fatalf("usercenter version --json: exit %d, %v\n%s", code, err, stdout)
	}
	if info.Version != modVersion || info.GoVersion != goVersion || info.Revision != revision ||
		(info.Modified == nil) == vcs || (vcs && (*info.Modified) != (settings["vcs.modified"] == "true")) {
		t.Errorf("usercenter version --json = %s; go version -m says %s, %s, %v", stdout, modVersion, goVersion, settings)
	}
}

// TestHealthcheck is the container image's health check against a real
// server: healthy while it serves, unhealthy once it has stopped.
func TestHealthcheck(t *testing.T) {
	skipShort(t)
	p := startServer(t, t.TempDir())
	stdout, stderr, code := runBin(t, "healthcheck", "--addr", p.addr)
	if code != 0 || !strings.Contains(stdout, "200") {
		t.Fatalf("healthcheck of a running server: exit %d\n%s%s", code, stdout, stderr)
	}
	p.stop()
	stdout, stderr, code = runBin(t, "healthcheck", "--addr", p.addr)
	if code != 1 || !strings.Contains(stderr, "unhealthy") {
		t.Fatalf("healthcheck of a stopped server: exit %d\n%s%s", code, stdout, stderr)
	}
}
