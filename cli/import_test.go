package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"usercenter/uctest/svctest"

	"usercenter"
)

func TestUserImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	app := strconv.FormatUint(a.SdkAppId, 10)
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var lines []string
	for i := range 2500 {
		lines = append(lines, fmt.Sprintf(`{"originId": "o%d", "phone": "+86139%08d", "email": "u%d@example.com"}`, i, i, i))
		if i == 10 {
			lines = append(lines, "") // blank lines are skipped
		}
	}
	r := mustRun(t, env, "user", "import", write("users.jsonl", lines), "--app", app, "--json")
	var n int
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var u struct{ UserId, OriginId string }
		if err := json.Unmarshal([]byte(l), &u); err != nil || !usercenter.ValidUserID(u.UserId) || u.OriginId != fmt.Sprint("o", n) {
			t.Fatalf("output line %d: %q (%v)", n, l, err)
		}
		n++
	}
	if n != 2500 {
		t.Fatalf("%d users printed, want 2500", n)
	}
	inst := openDir(t, dir)
	_, total, err := svctest.ListUsers(inst.svc, context.Background(), operator(), a.SdkAppId, 1, 1)
	inst.Close()
	if err != nil || total != 2500 {
		t.Fatalf("the app has %d users, %v", total, err)
	}

	// A bad line stops the import at its batch of 1,000, and says where;
	// the batches before it stay created.
	batch := func(prefix, badLine string) []string {
		lines := make([]string, 1500)
		for i := range lines {
			lines[i] = fmt.Sprintf(`{"originId": "%s%d"}`, prefix, i)
		}
		lines[1203] = badLine
		return lines
	}
	for _, c := range []struct{ prefix, line, want string }{
		{"p", `{"originId": "x", "phone": "12"}`, "phone"},
		{"q", `{"originId": "o7"}`, "taken"}, // by the first import
		{"r", `{"nickname": 5}`, "nickname"},
	} {
		r = runCLI(t, env, "user", "import", write(c.prefix+".jsonl", batch(c.prefix, c.line)), "--app", app)
		if r.code == 0 || !strings.Contains(r.stderr, "line 1204") || !strings.Contains(r.stderr, c.want) ||
			!strings.Contains(r.stderr, "1000 users were created before") {
			t.Fatalf("%s: %s", c.line, r)
		}
	}
	r = runCLI(t, env, "user", "import", write("x.jsonl", nil))
	if r.code != 2 || !strings.Contains(r.stderr, "--app") {
		t.Fatalf("without --app: %s", r)
	}
	inst = openDir(t, dir)
	defer inst.Close()
	if _, total, err := svctest.ListUsers(inst.svc, context.Background(), operator(), a.SdkAppId, 1, 1); err != nil || total != 2500+3*1000 {
		t.Fatalf("the app has %d users, %v; want %d", total, err, 2500+3*1000)
	}
}
