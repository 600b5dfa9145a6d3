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
			!strings.Contains(r.stderr, "1000 created") {
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

// A failed import is resumed by running it again, fixed, with
// --on-conflict skip: the users it created are skipped, the rest created.
func TestUserImportResumeAndUpdate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "resume")
	app := strconv.FormatUint(a.SdkAppId, 10)
	lines := make([]string, 1500)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"originId": "o%d", "nickname": "n%d"}`, i, i)
	}
	good := lines[1203]
	lines[1203] = `{"originId": "o1203", "sex": 5}`
	path := filepath.Join(dir, "users.jsonl")
	writeLines := func() {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeLines()
	r := runCLI(t, env, "user", "import", path, "--app", app)
	if r.code != 1 || !strings.Contains(r.stderr, "line 1204: sex") || !strings.Contains(r.stderr, "1000 created") {
		t.Fatalf("failed import: %s", r)
	}
	lines[1203] = good
	writeLines()
	if r := runCLI(t, env, "user", "import", path, "--app", app); r.code != 1 || !strings.Contains(r.stderr, "line 1: originId") {
		t.Fatalf("a rerun without --on-conflict must fail on the first existing user: %s", r)
	}
	r = mustRun(t, env, "user", "import", path, "--app", app, "--on-conflict", "skip")
	if !strings.Contains(r.stdout, "1500 lines: 500 created, 0 updated, 1000 skipped, 0 failed") {
		t.Fatalf("resumed import: %s", r)
	}
	inst := openDir(t, dir)
	_, total, err := svctest.ListUsers(inst.svc, context.Background(), usercenter.Operator(), a.SdkAppId, 1, 1)
	inst.Close()
	if err != nil || total != 1500 {
		t.Fatalf("the app has %d users, %v; want 1500", total, err)
	}

	// update patches the existing users, with an update event per change.
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"originId": "o%d", "nickname": "m%d"}`, i, i)
	}
	lines = append(lines, `{"originId": "new"}`)
	writeLines()
	r = mustRun(t, env, "user", "import", path, "--app", app, "--on-conflict", "update")
	if !strings.Contains(r.stdout, "1501 lines: 1 created, 1500 updated, 0 skipped, 0 failed") {
		t.Fatalf("updating import: %s", r)
	}
	us := findUsers(t, env, "--app", app, "--origin-id", "o42")
	if len(us) != 1 || us[0].Nickname != "m42" {
		t.Fatalf("o42 after the update: %+v", us)
	}
	if evs := auditEvents(t, env, "--action", "update", "--field", "nickname", "--all"); len(evs) != 1500 {
		t.Fatalf("%d nickname update events, want 1500", len(evs))
	}
}

// --max-errors goes on past bad lines, reporting each, and exits 1.
func TestUserImportMaxErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "errors")
	app := strconv.FormatUint(a.SdkAppId, 10)
	path := filepath.Join(dir, "users.jsonl")
	content := `{"originId": "a"}
{"originId": "b", "phone": "12"}
not json
{"originId": "c"}
{"originId": "a"}
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "user", "import", path, "--app", app, "--max-errors", "5")
	if r.code != 1 || !strings.Contains(r.stdout, "5 lines: 2 created, 0 updated, 0 skipped, 3 failed") {
		t.Fatalf("import with bad lines: %s", r)
	}
	for _, want := range []string{"line 2: phone", "line 3:", "line 5: originId"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := runCLI(t, env, "user", "import", path, "--app", app, "--max-errors", "1", "--on-conflict", "skip"); r.code != 1 || !strings.Contains(r.stderr, "line 3:") || !strings.Contains(r.stderr, "stopped after") {
		t.Fatalf("a second failure beyond --max-errors 1 stops: %s", r)
	}
}

// A CSV file's header names the members of a user object.
func TestUserImportCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "csv")
	app := strconv.FormatUint(a.SdkAppId, 10)
	path := filepath.Join(dir, "users.csv")
	content := "originId,nickname,phone,status,thirdPartyIds.qq\n" +
		"c1,\"Ann, the first\",+8613612346688,1,qq-1\n" +
		"c2,Bob,,0,\n" +
		"c3,Cy,,x,\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "user", "import", path, "--app", app, "--max-errors", "1")
	if r.code != 1 || !strings.Contains(r.stdout, "3 lines: 2 created") || !strings.Contains(r.stderr, "line 4: status") {
		t.Fatalf("CSV import: %s", r)
	}
	ann := findUsers(t, env, "--app", app, "--origin-id", "c1", "--reveal", "phone")
	if len(ann) != 1 || ann[0].Nickname != "Ann, the first" || ann[0].Phone != "+8613612346688" || ann[0].ThirdPartyIds["qq"] != "qq-1" {
		t.Fatalf("c1 = %+v", ann)
	}
	bob := findUsers(t, env, "--app", app, "--origin-id", "c2")
	if len(bob) != 1 || bob[0].Status != 0 || len(bob[0].ThirdPartyIds) != 0 {
		t.Fatalf("c2 = %+v", bob)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("originId,shoeSize\nx,42\n"), 0o600)
	if r := runCLI(t, env, "user", "import", bad, "--app", app); r.code != 2 || !strings.Contains(r.stderr, `unknown CSV column "shoeSize"`) {
		t.Fatalf("unknown column: %s", r)
	}
	if r := runCLI(t, env, "user", "import", path, "--app", app, "--on-conflict", "maybe"); r.code != 2 {
		t.Fatalf("bad --on-conflict: %s", r)
	}
}
