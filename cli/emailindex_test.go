package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter/core"
	"usercenter/uctest"
)

// forgetEmailIndexVersion makes dir's database look as an older release
// left it: nothing says its email indexes follow the current rules.
func forgetEmailIndexVersion(t *testing.T, dir string) {
	t.Helper()
	inst := openDir(t, dir)
	defer inst.Close()
	err := inst.store.Update(context.Background(), func(tx core.Tx) error { return tx.SetMeta(context.Background(), "email_index_version", nil) })
	if err != nil {
		t.Fatal(err)
	}
}

// importEmails imports one user a line with these emails into a new app.
func importEmails(t *testing.T, dir string, emails ...string) (app string) {
	t.Helper()
	a := createApp(t, dataEnv(dir), "mail")
	var lines []string
	for i, e := range emails {
		lines = append(lines, `{"originId": "o`+strconv.Itoa(i)+`", "email": "`+e+`"}`)
	}
	path := filepath.Join(dir, "emails.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app = strconv.FormatUint(a.SdkAppId, 10)
	mustRun(t, dataEnv(dir), "user", "import", path, "--app", app)
	return app
}

const reindexedLine = "re-indexed the emails under the current rules: 0 changed, 2 already current"

// migrate re-indexes the emails of a database an older release wrote, and
// says so; once done it has nothing more to say about them.
func TestMigrateReindexesEmails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := mustRun(t, nil, "migrate", "--data", dir)
	if strings.Contains(r.stdout, "re-indexed") {
		t.Errorf("migrate on a new database re-indexed emails:\n%s", r.stdout)
	}
	importEmails(t, dir, "one@example.com", "Two@Example.com")
	forgetEmailIndexVersion(t, dir)
	r = mustRun(t, nil, "migrate", "--data", dir)
	if !strings.Contains(r.stdout, reindexedLine) {
		t.Errorf("migrate on a database with emails to re-index:\n%s\nwant %q", r.stdout, reindexedLine)
	}
	r = mustRun(t, nil, "migrate", "--data", dir)
	if strings.Contains(r.stdout, "re-indexed") {
		t.Errorf("a second migrate re-indexed again:\n%s", r.stdout)
	}
}

// serve re-indexes them in the background, and logs counts only.
func TestServeReindexesEmails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	importEmails(t, dir, "secret.person@example.com", "Another.Person@Example.com")
	forgetEmailIndexVersion(t, dir)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &uctest.LogBuffer{}, &uctest.LogBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"--data", dir, "--addr", "127.0.0.1:0"}, stdout, stderr, func(string) string { return "" })
	}()
	// Polled with a bound a loaded machine cannot miss: the migration
	// of two users takes milliseconds.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(stderr.String(), "email blind indexes migrated"); {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not re-index the emails:\n%s\n%s", stdout, stderr)
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s\n%s", err, stdout, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"current":2`) || strings.Contains(logs, "person@") || strings.Contains(logs, "Person@") {
		t.Errorf("serve's log of the re-indexing:\n%s", logs)
	}
	// The next start has nothing to do.
	r := mustRun(t, nil, "migrate", "--data", dir)
	if strings.Contains(r.stdout, "re-indexed") {
		t.Errorf("migrate after serve re-indexed again:\n%s", r.stdout)
	}
}

// The email rules at the command line: import (JSON Lines and CSV), user
// set and user find each refuse what the rules refuse, in the command
// line's words.
func TestEmailRulesAtTheCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	app := importEmails(t, dir, "Mu@Example.COM")
	uid := newUsers(t, dir, mustUint(t, app), "plain")[0]
	cases := []struct{ name, email, rule string }{
		{"leading space", " mu@example.com", "email must not start or end with whitespace"},
		{"trailing tab", "mu@example.com\t", "email must not start or end with whitespace"},
		{"control character", "mu\x01@example.com", "email must not contain control characters"},
		{"label ending with -", "mu@example-.com", "email must not have a domain label that starts or ends with -"},
		{"65 bytes before the @", strings.Repeat("m", 65) + "@example.com", "email must have at most 64 bytes before the @"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jsonl := filepath.Join(dir, "bad"+strconv.Itoa(i)+".jsonl")
			line, _ := json.Marshal(map[string]string{"originId": "bad" + strconv.Itoa(i), "email": c.email})
			if err := os.WriteFile(jsonl, append(line, '\n'), 0o600); err != nil {
				t.Fatal(err)
			}
			csvFile := filepath.Join(dir, "bad"+strconv.Itoa(i)+".csv")
			var b strings.Builder
			w := csv.NewWriter(&b)
			w.Write([]string{"originId", "email"})
			w.Write([]string{"csv" + strconv.Itoa(i), c.email})
			w.Flush()
			if err := os.WriteFile(csvFile, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"user", "import", jsonl, "--app", app},
				{"user", "import", csvFile, "--app", app},
				{"user", "set", uid, "email=" + c.email},
				{"user", "find", "--app", app, "--email", c.email},
			} {
				r := runCLI(t, env, args...)
				if r.code != 1 || !strings.Contains(r.stderr, c.rule) {
					t.Errorf("%s: want exit 1 and %q: %s", args[1], c.rule, r)
				}
			}
		})
	}
	// ASCII case folds, the rest stays: the address imported above is
	// found however its ASCII letters are typed.
	r := mustRun(t, env, "user", "find", "--app", app, "--email", "mu@EXAMPLE.com", "--json", "--reveal", "email")
	if !strings.Contains(r.stdout, `"Email": "mu@example.com"`) && !strings.Contains(r.stdout, `"Email":"mu@example.com"`) {
		t.Errorf("user find by another ASCII case: %s", r)
	}
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
