package cli

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"usercenter/postgres/pgtest"
	"usercenter/vault"
)

// migrateDataOut is the part of migrate-data --json a test reads.
type migrateDataOut struct {
	Source, Destination, KeyFile string
	SourceInUse, Verified        bool
	Copied                       int64
	Problems                     []string
	Decrypted                    *struct{ Apps, Keys, Users int }
	Tables                       []struct {
		Table                                                      string
		Source, Inserted, Updated, Unchanged, Removed, Destination int64
		Sampled                                                    int
	}
}

// password is the password in dsn, which no output may show.
func password(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := u.User.Password()
	if p == "" {
		t.Skip("the test database's DSN has no password to look for")
	}
	return p
}

func TestMigrateDataCLI(t *testing.T) {
	dsn := pgtest.DSN(t)
	secret := password(t, dsn)
	dir := t.TempDir()
	env := dataEnv(dir)
	app := createApp(t, env, "movers")
	ids := newUsers(t, dir, app.SdkAppId, "a", "b", "c")
	mustRun(t, env, "user", "set", ids[0], "phone=+86 138 0013 8000", "email=mover@example.com", "address=1 Road", "thirdPartyIds.qq=q-1")
	mustRun(t, env, "key", "revoke", app.SecretId)
	from := "sqlite:" + filepath.Join(dir, "usercenter.db")

	r := mustRun(t, env, "migrate-data", "--from", from, "--to", dsn, "--json")
	var out migrateDataOut
	decodeOne(t, r.stdout, &out)
	if !out.Verified || out.Copied == 0 || out.SourceInUse || len(out.Problems) != 0 {
		t.Errorf("first run: %+v", out)
	}
	if out.Decrypted == nil || out.Decrypted.Apps != 1 || out.Decrypted.Keys != 1 || out.Decrypted.Users != 3 {
		t.Errorf("decrypted: %+v", out.Decrypted)
	}
	if out.KeyFile != filepath.Join(dir, "master.key") {
		t.Errorf("KeyFile = %q", out.KeyFile)
	}
	for _, tb := range out.Tables {
		if tb.Destination != tb.Source || tb.Inserted != tb.Source {
			t.Errorf("%s: %+v", tb.Table, tb)
		}
	}
	// Not a terminal: one line per table once it is done.
	if !strings.Contains(r.stderr, "\nusers ") || !strings.Contains(r.stderr, "rows/s") || strings.Contains(r.stderr, "\r") {
		t.Errorf("progress:\n%s", r.stderr)
	}
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, secret) {
			t.Errorf("the output shows the password:\n%s", s)
		}
	}

	// Again, for a person: nothing to copy, still verified.
	r = mustRun(t, env, "migrate-data", "--from", from, "--to", dsn)
	for _, want := range []string{"Copied 0 rows", "Verified", "Encrypted values open in the destination", "Start the servers on postgres://"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("second run lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("the output shows the password:\n%s", r)
	}

	// The destination works as the instance, with the same key file.
	pg := map[string]string{"USERCENTER_DATA": dir, "USERCENTER_DB": dsn}
	u := getUser(t, pg, ids[0], "--reveal", "phone,email,address")
	if u.Phone != "+8613800138000" || u.Email != "mover@example.com" || u.Address != "1 Road" || u.ThirdPartyIds["qq"] != "q-1" {
		t.Errorf("moved user: %+v", u)
	}
	if found := findUsers(t, pg, "--app", strconv.FormatUint(app.SdkAppId, 10), "--phone", "13800138000"); len(found) != 1 || found[0].UserId != ids[0] {
		t.Errorf("lookup by phone: %+v", found)
	}
	if r := mustRun(t, pg, "key", "list"); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("key list on the destination:\n%s", r.stdout)
	}
}

func TestMigrateDataCLIRefuses(t *testing.T) {
	dsn := pgtest.DSN(t)
	secret := password(t, dsn)
	dir := t.TempDir()
	env := dataEnv(dir)
	createApp(t, env, "source")
	from := "sqlite:" + filepath.Join(dir, "usercenter.db")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", from}, "needs --from sqlite:PATH and --to"},
		{[]string{"--from", from, "--to", from}, "the same database"},
		{[]string{"--from", from, "--to", "sqlite:/tmp/other.db"}, "--to must be a PostgreSQL database"},
		{[]string{"--from", dsn, "--to", dsn + "&x=1"}, "--from must be a SQLite database"},
		{[]string{"--from", from, "--to", dsn, "--batch", "0"}, "--batch must be"},
	} {
		r := runCLI(t, env, append([]string{"migrate-data"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, secret) {
			t.Errorf("migrate-data %q: %s\nwant exit 2 and %q", c.args, r, c.want)
		}
	}

	// A master key file that does not open the source.
	other := filepath.Join(t.TempDir(), "other.key")
	if err := vault.WriteKeyFile(other, [][]byte{vault.NewKey()}); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "migrate-data", "--from", from, "--to", dsn, "--master-key-file", other)
	if r.code != 1 || !strings.Contains(r.stderr, "master key does not match") {
		t.Errorf("wrong key: %s", r)
	}
	// --master-key-file that does not exist is an error, not a skipped check.
	r = runCLI(t, env, "migrate-data", "--from", from, "--to", dsn, "--master-key-file", filepath.Join(dir, "nope.key"))
	if r.code != 1 {
		t.Errorf("missing key file: %s", r)
	}

	// A destination that a server of another instance has initialised.
	otherDir := t.TempDir()
	mustRun(t, map[string]string{"USERCENTER_DATA": otherDir, "USERCENTER_DB": dsn}, "migrate")
	r = runCLI(t, env, "migrate-data", "--from", from, "--to", dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "refused") || !strings.Contains(r.stderr, "nothing was written") || strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("initialised destination: %s", r)
	}
	if r := mustRun(t, map[string]string{"USERCENTER_DATA": otherDir, "USERCENTER_DB": dsn}, "app", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("the refused destination has apps now:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "usercenter.db")); err != nil {
		t.Fatal(err)
	}
}
