package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

var consoleLinkRE = regexp.MustCompile(`\n  (\S+/console/link/[A-Za-z0-9_-]{43})\n`)

type adminRow struct {
	Email, Role, Status string
	Apps                []uint64
	TwoFactor           bool
}

func adminAccounts(t *testing.T, env map[string]string) map[string]adminRow {
	t.Helper()
	var rows []adminRow
	if err := json.Unmarshal([]byte(mustRun(t, env, "admin", "list", "--json").stdout), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]adminRow{}
	for _, r := range rows {
		out[r.Email] = r
	}
	return out
}

// TestAdminCommands: admin create prints a one-time link under --url (by
// default serve's address); the other admin commands change an account
// named by its email, and bad input is told in the CLI's words.
func TestAdminCommands(t *testing.T) {
	env := dataEnv(t.TempDir())
	app := createApp(t, env, "console")
	if r := mustRun(t, env, "admin", "list"); !strings.Contains(r.stdout, "No console accounts yet") {
		t.Errorf("an empty list: %s", r)
	}
	r := mustRun(t, env, "admin", "create", "--email", "Ops@Example.com")
	m := consoleLinkRE.FindStringSubmatch(r.stdout)
	if m == nil || !strings.HasPrefix(m[1], "http://127.0.0.1:8080/console/link/") {
		t.Fatalf("admin create printed no link under the default URL: %s", r)
	}
	r = mustRun(t, env, "admin", "create", "--email", "support@example.com", "--role", "support",
		"--apps", strings.TrimSpace(jsonNumber(app.SdkAppId)), "--url", "https://uc.example/")
	if m := consoleLinkRE.FindStringSubmatch(r.stdout); m == nil || !strings.HasPrefix(m[1], "https://uc.example/console/link/") {
		t.Fatalf("admin create --url: %s", r)
	}
	accounts := adminAccounts(t, env)
	if a := accounts["ops@example.com"]; a.Role != "admin" || a.Status != "invited" || a.Apps != nil {
		t.Errorf("the admin: %+v", a)
	}
	if a := accounts["support@example.com"]; a.Role != "support" || len(a.Apps) != 1 || a.Apps[0] != app.SdkAppId {
		t.Errorf("the support account: %+v", a)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"admin", "create"}, 2, "admin create needs --email"},
		{[]string{"admin", "create", "--email", "x@example.com", "--role", "root"}, 2, "--role must be admin, support or viewer"},
		{[]string{"admin", "create", "--email", "x@example.com", "--apps", "abc"}, 2, `--apps: "abc" is not an SdkAppId`},
		{[]string{"admin", "create", "--email", "x@example.com", "--url", "ftp://x"}, 2, "--url must be an http or https URL"},
		{[]string{"admin", "create", "--email", "not an email"}, 1, "email is not a valid email address"},
		{[]string{"admin", "create", "--email", "ops@example.com"}, 1, "email is already taken"},
		{[]string{"admin", "disable", "nobody@example.com"}, 1, "console account not found"},
		{[]string{"admin", "disable"}, 2, "admin disable needs one EMAIL"},
	} {
		r := runCLI(t, env, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("usercenter %s: want exit %d and %q: %s", strings.Join(c.args, " "), c.code, c.want, r)
		}
	}

	mustRun(t, env, "admin", "disable", "support@example.com")
	if a := adminAccounts(t, env)["support@example.com"]; a.Status != "disabled" {
		t.Errorf("after admin disable: %+v", a)
	}
	if r := runCLI(t, env, "admin", "link", "support@example.com"); r.code != 1 || !strings.Contains(r.stderr, "disabled") {
		t.Errorf("a link for a disabled account: %s", r)
	}
	mustRun(t, env, "admin", "enable", "support@example.com")
	if a := adminAccounts(t, env)["support@example.com"]; a.Status != "invited" {
		t.Errorf("after admin enable: %+v", a)
	}
	if m := consoleLinkRE.FindStringSubmatch(mustRun(t, env, "admin", "link", "support@example.com").stdout); m == nil {
		t.Error("admin link printed no link")
	}
	mustRun(t, env, "admin", "reset-2fa", "support@example.com")
	mustRun(t, env, "admin", "unlock", "support@example.com")
}

func jsonNumber(n uint64) string { b, _ := json.Marshal(n); return string(b) }
