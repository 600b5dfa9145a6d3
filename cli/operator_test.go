package cli

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usercenter/postgres/pgtest"
)

// A new data directory is private; an existing one that others may write
// to is refused, with the command that fixes it, before anything is
// opened or created in it.
func TestDataDirectoryMode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	createApp(t, nil, "shop", "--data", dir)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the new data directory: %v, %v; want mode 0700", fi, err)
	}

	for _, c := range []struct {
		mode os.FileMode
		fix  string
	}{
		{0o770, "chmod 700 " + dir},
		{0o757, "chmod 700 " + dir},
		{0o777 | os.ModeSticky, "mkdir -m 700 " + filepath.Join(dir, "usercenter")},
	} {
		if err := os.Chmod(dir, c.mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"app", "list"}, {"migrate"}} {
			r := runCLI(t, nil, append(args, "--data", dir)...)
			if r.code != 1 || !strings.Contains(r.stderr, "data directory "+dir) || !strings.Contains(r.stderr, c.fix) {
				t.Errorf("%v in a data directory of mode %v: %s; want a refusal with %q", args, c.mode, r, c.fix)
			}
		}
	}
	if err := os.Chmod(dir, 0o750); err != nil { // group may read, not write
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "app", "list", "--data", dir); r.code != 0 {
		t.Errorf("app list in a data directory of mode 0750: %s", r)
	}
}

// A master key file that another user owns is refused, with the chown
// that fixes it. Only root can give a file away; elsewhere the test skips.
func TestMasterKeyFileOwnerRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createApp(t, nil, "shop", "--data", dir)
	keyPath := filepath.Join(dir, "master.key")
	if err := os.Chown(keyPath, os.Geteuid()+1000, -1); err != nil {
		t.Skipf("cannot give the key file to another user (run as root to test): %v", err)
	}
	want := fmt.Sprintf("chown %d %s", os.Geteuid(), keyPath)
	for _, args := range [][]string{{"app", "list"}, {"migrate"}} {
		r := runCLI(t, nil, append(args, "--data", dir)...)
		if r.code != 1 || !strings.Contains(r.stderr, "owned by another user") || !strings.Contains(r.stderr, want) {
			t.Errorf("%v with a key file of another owner: %s; want a refusal with %q", args, r, want)
		}
	}
}

// A wrong PostgreSQL password is named as such, with what to check, and
// not shown.
func TestPostgresWrongPassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil || u.User == nil {
		t.Skipf("the test database's DSN is no URL with a user: %v", err)
	}
	u.User = url.UserPassword(u.User.Username(), "not-the-password")
	r := runCLI(t, nil, "app", "list", "--db", u.String())
	if r.code == 0 {
		t.Skip("the test database lets the user in without its password (trust authentication)")
	}
	for _, want := range []string{"authentication failed for the database user", "check the user name and password in --db"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("app list with a wrong password: %s; want %q", r, want)
		}
	}
	if strings.Contains(r.stderr, "not-the-password") || strings.Contains(r.stderr, "unreachable") {
		t.Errorf("app list with a wrong password shows it, or says unreachable: %s", r)
	}
}
