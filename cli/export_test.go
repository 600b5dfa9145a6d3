package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// personalUsers creates n users with a phone and an email in an app.
func personalUsers(t *testing.T, dir string, app uint64, n int) {
	t.Helper()
	inst := openDir(t, dir)
	defer inst.Close()
	for i := range n {
		phone, email, origin := fmt.Sprintf("+86136%08d", i), "u"+strconv.Itoa(i)+"@example.com", "o"+strconv.Itoa(i)
		if _, err := svctest.CreateUser(inst.svc, context.Background(), usercenter.Operator(), app, core.UserPatch{OriginID: &origin, Phone: &phone, Email: &email}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUserListNewestFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "list")
	app := strconv.FormatUint(a.SdkAppId, 10)
	ids := newUsers(t, dir, a.SdkAppId, "a", "b", "c", "d", "e")
	slices.Sort(ids) // UserId order
	slices.Reverse(ids)

	var got []userOut
	decodeOne(t, mustRun(t, env, "user", "list", "--app", app, "--all", "--json").stdout, &got)
	var listed []string
	for _, u := range got {
		listed = append(listed, u.UserId)
	}
	if !slices.Equal(listed, ids) {
		t.Fatalf("user list --all = %v, want newest first %v", listed, ids)
	}
	decodeOne(t, mustRun(t, env, "user", "list", "--app", app, "--limit", "2", "--json").stdout, &got)
	if len(got) != 2 || got[0].UserId != ids[0] || got[1].UserId != ids[1] {
		t.Fatalf("user list --limit 2 = %+v, want the newest two", got)
	}
	mustRun(t, env, "user", "set", ids[0], "status=0")
	decodeOne(t, mustRun(t, env, "user", "list", "--app", app, "--status", "disabled", "--json").stdout, &got)
	if len(got) != 1 || got[0].UserId != ids[0] {
		t.Fatalf("user list --status disabled = %+v", got)
	}
	decodeOne(t, mustRun(t, env, "user", "list", "--app", app, "--since", "2999-01-01", "--json").stdout, &got)
	if len(got) != 0 {
		t.Fatalf("user list --since the future = %+v", got)
	}
	r := mustRun(t, env, "user", "list", "--app", app)
	if !strings.Contains(r.stdout, "USERID") || !strings.Contains(r.stdout, ids[4]) {
		t.Fatalf("user list table:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"--status", "gone"}, {"--since", "yesterday"}, {"--all", "--limit", "3"}, {"--limit", "0"}} {
		if r := runCLI(t, env, append([]string{"user", "list", "--app", app}, bad...)...); r.code == 0 {
			t.Errorf("user list %v succeeded:\n%s", bad, r)
		}
	}

	// app list and app show count the users.
	var apps []struct {
		SdkAppId uint64
		Users    int
	}
	decodeOne(t, mustRun(t, env, "app", "list", "--json").stdout, &apps)
	if len(apps) != 1 || apps[0].Users != 5 {
		t.Fatalf("app list --json = %+v, want 5 users", apps)
	}
	if r := mustRun(t, env, "app", "show", app); !strings.Contains(r.stdout, "Users           5") {
		t.Fatalf("app show:\n%s", r.stdout)
	}
}

func TestUserExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "export")
	app := strconv.FormatUint(a.SdkAppId, 10)
	const n = 1203 // more than a page
	personalUsers(t, dir, a.SdkAppId, n)
	before := len(auditEvents(t, env, "--action", "reveal", "--all"))

	// Masked, to standard output, as JSON Lines.
	r := mustRun(t, env, "user", "export", "--app", app)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != n {
		t.Fatalf("export wrote %d lines, want %d", len(lines), n)
	}
	var first userOut
	decodeOne(t, lines[0], &first)
	if first.Phone == "" || strings.HasPrefix(first.Phone, "+86136") || !strings.Contains(first.Email, "*") {
		t.Fatalf("export without --reveal shows %q, %q", first.Phone, first.Email)
	}
	if got := len(auditEvents(t, env, "--action", "reveal", "--all")); got != before {
		t.Fatalf("a masked export wrote %d reveal events", got-before)
	}

	// Revealed, to a CSV file: one event per user and field.
	if r := runCLI(t, env, "user", "export", "--app", app, "--reveal", "phone"); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Fatalf("--reveal without --reason: %s", r)
	}
	out := filepath.Join(t.TempDir(), "users.csv")
	mustRun(t, env, "user", "export", "--app", app, "--reveal", "phone,email", "--reason", "ticket 42\nfrom legal", "-o", out)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 || !slices.Equal(rows[0], csvColumns()) {
		t.Fatalf("CSV has %d rows, header %v", len(rows), rows[0])
	}
	phones := map[string]bool{}
	for _, row := range rows[1:] {
		if !strings.HasPrefix(row[7], "+86136") || !strings.HasSuffix(row[8], "@example.com") || strings.Contains(row[9], "*") {
			t.Fatalf("revealed row %v", row)
		}
		phones[row[7]] = true
	}
	if len(phones) != n {
		t.Fatalf("%d distinct phones, want %d", len(phones), n)
	}
	actor := operator().Name
	events := auditEvents(t, env, "--action", "reveal", "--actor", actor, "--all")
	if len(events) != 2*n {
		t.Fatalf("revealing export wrote %d reveal events by %q, want %d (one per user and field)", len(events), actor, 2*n)
	}
	for _, e := range events {
		if e.Reason != "ticket 42 from legal" {
			t.Fatalf("reveal event %+v: want the reason recorded", e)
		}
	}
}

func TestUserExportSubjectAndErase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "subject")
	uid := newUsers(t, dir, a.SdkAppId, "ann")[0]
	mustRun(t, env, "user", "set", uid, "phone=+8613612346688", "email=ann@example.com", "thirdPartyIds.qq=qq-ann")

	out := filepath.Join(t.TempDir(), "ann.json")
	mustRun(t, env, "user", "export-subject", uid, "-o", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		User        userOut
		AuditEvents []auditOut
		LiveTokens  int
	}
	decodeOne(t, string(b), &x)
	if x.User.Phone != "+8613612346688" || x.User.Email != "ann@example.com" || x.User.ThirdPartyIds["qq"] != "qq-ann" {
		t.Fatalf("subject export user = %+v", x.User)
	}
	var actions []string
	for _, e := range x.AuditEvents {
		actions = append(actions, e.Action+":"+e.Field)
	}
	for _, want := range []string{"create:", "update:phone", "reveal:phone", "reveal:email"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("subject export events %v lack %s", actions, want)
		}
	}
	if got := auditEvents(t, env, "--user", uid, "--action", "reveal"); len(got) != 2 {
		t.Fatalf("export-subject audited %d reveals, want 2 (phone, email)", len(got))
	}

	if r := runCLI(t, env, "user", "erase", uid); r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("erase without --yes: %s", r)
	}
	r := mustRun(t, env, "user", "erase", uid, "--yes")
	if !strings.Contains(r.stdout, "Erased user "+uid) {
		t.Fatalf("erase said %q", r.stdout)
	}
	if r := runCLI(t, env, "user", "get", uid); r.code != 1 {
		t.Fatalf("user get after erase: %s", r)
	}
	if got := auditEvents(t, env, "--user", uid); len(got) != 0 {
		t.Fatalf("events still naming the erased user: %+v", got)
	}
	tombs := auditEvents(t, env, "--user", usercenter.ErasedUserID)
	// Newest first: the erasure, then the events it turned into tombstones.
	if len(tombs) != len(x.AuditEvents)+1 || tombs[0].Action != "erase" {
		t.Fatalf("tombstones = %+v; want the %d exported events and the erasure", tombs, len(x.AuditEvents))
	}
}
