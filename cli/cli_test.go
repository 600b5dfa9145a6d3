package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"usercenter/postgres/pgtest"
	"usercenter/vault"
)

// result is what one run of the command line produced.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// runCLI calls Main with a fake environment holding only env.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := Main(args, strings.NewReader(""), &stdout, &stderr, getenv)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs the command line and fails the test unless it exits 0.
func mustRun(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := runCLI(t, env, args...)
	if r.code != 0 {
		t.Fatalf("usercenter %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// decodeOne decodes exactly one JSON document from s into v and fails if
// anything but white space follows it.
func decodeOne(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		t.Fatalf("output holds more than one JSON document (next: %s, err %v):\n%s", extra, err, s)
	}
}

var (
	reSecretID  = regexp.MustCompile(`^AKID[0-9A-Za-z]{32}$`)
	reSecretKey = regexp.MustCompile(`^[0-9A-Za-z]{32}$`)
)

// createdApp is the output of `app create --json`.
type createdApp struct {
	SdkAppId          uint64
	Name              string
	UserDomain        string
	SecretId          string
	SecretKey         string
	SuperAppSecretKey string
}

// createApp runs `app create --json` with args and checks its output.
func createApp(t *testing.T, env map[string]string, name string, args ...string) createdApp {
	t.Helper()
	r := mustRun(t, env, append([]string{"app", "create", "--name", name, "--json"}, args...)...)
	checkAppCreateJSON(t, r.stdout)
	var a createdApp
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
		t.Fatal(err)
	}
	if a.Name != name {
		t.Errorf("Name = %q, want %q", a.Name, name)
	}
	return a
}

func checkAppCreateJSON(t *testing.T, out string) {
	t.Helper()
	var m map[string]any
	decodeOne(t, out, &m)
	n, ok := m["SdkAppId"].(json.Number)
	if !ok {
		t.Fatalf("SdkAppId is %T (%v), want a JSON number:\n%s", m["SdkAppId"], m["SdkAppId"], out)
	}
	if id, err := strconv.ParseUint(n.String(), 10, 64); err != nil || id == 0 {
		t.Errorf("SdkAppId %s is not a positive integer", n)
	}
	str := func(k string) string {
		s, ok := m[k].(string)
		if !ok {
			t.Errorf("%s is %T (%v), want a string:\n%s", k, m[k], m[k], out)
		}
		return s
	}
	if d := str("UserDomain"); d == "" {
		t.Errorf("UserDomain is empty:\n%s", out)
	}
	if s := str("SecretId"); !reSecretID.MatchString(s) {
		t.Errorf("SecretId %q is not AKID + 32 base62 characters", s)
	}
	if s := str("SecretKey"); !reSecretKey.MatchString(s) {
		t.Errorf("SecretKey %q is not 32 base62 characters", s)
	}
	if s := str("SuperAppSecretKey"); len(s) != 32 {
		t.Errorf("SuperAppSecretKey %q is not 32 characters", s)
	}
}

func dataEnv(dir string) map[string]string { return map[string]string{"USERCENTER_DATA": dir} }

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestAppCreateJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := createApp(t, nil, "My Shop", "--data", dir)
	if a.UserDomain == "" || a.SdkAppId == 0 {
		t.Fatalf("%+v", a)
	}
	if !exists(t, filepath.Join(dir, "usercenter.db")) || !exists(t, filepath.Join(dir, "master.key")) {
		t.Fatalf("--data %s holds no database or master key", dir)
	}

	// Explicit values are kept.
	r := mustRun(t, nil, "app", "create", "--data", dir, "--json", "--name", "second", "--sdk-app-id", "1400123456", "--user-domain", "second.example", "--rate-limit", "7", "--token-ttl", "1h")
	checkAppCreateJSON(t, r.stdout)
	var m map[string]any
	decodeOne(t, r.stdout, &m)
	if m["SdkAppId"].(json.Number).String() != "1400123456" || m["UserDomain"] != "second.example" ||
		m["RateLimit"].(json.Number).String() != "7" || m["TokenTTLSeconds"].(json.Number).String() != "3600" {
		t.Errorf("explicit values not kept:\n%s", r.stdout)
	}

	// Without --json the output is for people, and still shows the secrets once.
	r = mustRun(t, nil, "app", "create", "--data", dir, "--name", "third")
	if !strings.Contains(r.stdout, "SecretKey") || !strings.Contains(r.stdout, "AKID") {
		t.Errorf("human output lacks the key:\n%s", r.stdout)
	}
	if json.Valid([]byte(r.stdout)) {
		t.Errorf("output without --json is JSON:\n%s", r.stdout)
	}
}

func TestAppCreateNeedsName(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "app", "create", "--data", t.TempDir(), "--json")
	if r.code != 2 || !strings.Contains(r.stderr, "--name") {
		t.Fatalf("want exit 2 naming --name: %s", r)
	}
}

func TestAppCreateDuplicateSdkAppID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createApp(t, nil, "one", "--data", dir, "--sdk-app-id", "1400000001")
	r := runCLI(t, nil, "app", "create", "--data", dir, "--name", "two", "--sdk-app-id", "1400000001")
	if r.code != 1 || r.stderr == "" {
		t.Fatalf("a taken SdkAppId must fail with a message: %s", r)
	}
	r = runCLI(t, nil, "app", "create", "--data", dir, "--name", "one")
	if r.code != 1 || !strings.Contains(r.stderr, "--user-domain") {
		t.Fatalf("a taken user domain must fail and suggest --user-domain: %s", r)
	}
}

func TestDBFlagForms(t *testing.T) {
	t.Parallel()
	for _, form := range []string{"sqlite:", "sqlite://", ""} {
		t.Run("form="+form, func(t *testing.T) {
			t.Parallel()
			data, dbDir := t.TempDir(), t.TempDir()
			db := filepath.Join(dbDir, "sub", "my.db")
			a := createApp(t, nil, "x", "--data", data, "--db", form+db)
			if !exists(t, db) {
				t.Fatalf("--db %s%s did not create %s", form, db, db)
			}
			if exists(t, filepath.Join(data, "usercenter.db")) {
				t.Errorf("--db %s%s still created DATA/usercenter.db", form, db)
			}
			if !exists(t, filepath.Join(data, "master.key")) {
				t.Errorf("the master key is not in --data")
			}
			// The same DSN finds the app again; the default database does not.
			r := mustRun(t, nil, "app", "list", "--json", "--data", data, "--db", form+db)
			if !strings.Contains(r.stdout, strconv.FormatUint(a.SdkAppId, 10)) {
				t.Errorf("app list --db %s%s does not show the app:\n%s", form, db, r.stdout)
			}
			r = runCLI(t, nil, "app", "list", "--json", "--data", data)
			if r.code != 1 || !strings.Contains(r.stderr, "no database") || exists(t, filepath.Join(data, "usercenter.db")) {
				t.Errorf("app list on the default database, which --db kept from being made: %s", r)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("USERCENTER_DATA", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		createApp(t, dataEnv(data), "x")
		if !exists(t, filepath.Join(data, "usercenter.db")) || !exists(t, filepath.Join(data, "master.key")) {
			t.Fatalf("USERCENTER_DATA=%s was ignored", data)
		}
	})
	t.Run("USERCENTER_DB", func(t *testing.T) {
		t.Parallel()
		data, db := t.TempDir(), filepath.Join(t.TempDir(), "env.db")
		createApp(t, map[string]string{"USERCENTER_DATA": data, "USERCENTER_DB": "sqlite:" + db}, "x")
		if !exists(t, db) || exists(t, filepath.Join(data, "usercenter.db")) {
			t.Fatalf("USERCENTER_DB=sqlite:%s was ignored", db)
		}
	})
	t.Run("USERCENTER_MASTER_KEY_FILE", func(t *testing.T) {
		t.Parallel()
		data, key := t.TempDir(), filepath.Join(t.TempDir(), "k", "mk")
		createApp(t, map[string]string{"USERCENTER_DATA": data, "USERCENTER_MASTER_KEY_FILE": key}, "x")
		if !exists(t, key) || exists(t, filepath.Join(data, "master.key")) {
			t.Fatalf("USERCENTER_MASTER_KEY_FILE=%s was ignored", key)
		}
	})
	t.Run("flag wins over USERCENTER_DATA", func(t *testing.T) {
		t.Parallel()
		envData, flagData := filepath.Join(t.TempDir(), "env"), t.TempDir()
		createApp(t, dataEnv(envData), "x", "--data", flagData)
		if !exists(t, filepath.Join(flagData, "usercenter.db")) {
			t.Errorf("--data %s was not used", flagData)
		}
		if exists(t, envData) {
			t.Errorf("USERCENTER_DATA=%s was used although --data was given", envData)
		}
	})
	t.Run("flag wins over USERCENTER_DB", func(t *testing.T) {
		t.Parallel()
		data, envDB, flagDB := t.TempDir(), filepath.Join(t.TempDir(), "env.db"), filepath.Join(t.TempDir(), "flag.db")
		createApp(t, map[string]string{"USERCENTER_DATA": data, "USERCENTER_DB": envDB}, "x", "--db", flagDB)
		if !exists(t, flagDB) {
			t.Errorf("--db %s was not used", flagDB)
		}
		if exists(t, envDB) {
			t.Errorf("USERCENTER_DB=%s was used although --db was given", envDB)
		}
	})
	t.Run("bad value in the environment", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, map[string]string{"USERCENTER_DATA": t.TempDir(), "USERCENTER_LOG_LEVEL": "loud", "USERCENTER_ENTERPRISE_TOKEN_TTL": "soon"}, "serve", "--addr", "127.0.0.1:0")
		if r.code == 0 || !strings.Contains(r.stderr, "USERCENTER_ENTERPRISE_TOKEN_TTL") {
			t.Errorf("an unparsable USERCENTER_ENTERPRISE_TOKEN_TTL must fail naming the variable: %s", r)
		}
	})
	t.Run("only instance settings come from the environment", func(t *testing.T) {
		t.Parallel()
		// An exported variable named after a per-command flag must not
		// change what the command does.
		env := map[string]string{"USERCENTER_DATA": t.TempDir(), "USERCENTER_JSON": "true"}
		mustRun(t, env, "migrate")
		r := runCLI(t, env, "app", "list")
		if r.code != 0 || strings.HasPrefix(strings.TrimSpace(r.stdout), "[") {
			t.Errorf("USERCENTER_JSON changed app list: %s", r)
		}
	})
}

func TestMasterKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "master.key")
	a1 := createApp(t, nil, "one", "--data", dir)
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("master key mode = %v, want 0600", fi.Mode().Perm())
	}
	key1, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := vault.LoadFile(keyPath, false); err != nil {
		t.Fatalf("the created key file does not load: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "usercenter.db")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("database file mode: %v, %v; want private", fi.Mode().Perm(), err)
	}

	a2 := createApp(t, nil, "two", "--data", dir)
	key2, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key1, key2) {
		t.Fatal("a second app create rewrote the master key")
	}
	r := mustRun(t, nil, "app", "list", "--json", "--data", dir)
	var apps []struct{ SdkAppId uint64 }
	decodeOne(t, r.stdout, &apps)
	if len(apps) != 2 {
		t.Fatalf("app list shows %d apps, want 2:\n%s", len(apps), r.stdout)
	}
	got := map[uint64]bool{apps[0].SdkAppId: true, apps[1].SdkAppId: true}
	if !got[a1.SdkAppId] || !got[a2.SdkAppId] {
		t.Errorf("app list = %s; want %d and %d", r.stdout, a1.SdkAppId, a2.SdkAppId)
	}
	// Both apps' secrets open under the one key.
	for _, a := range []createdApp{a1, a2} {
		r := mustRun(t, nil, "app", "show", strconv.FormatUint(a.SdkAppId, 10), "--show-secret", "--json", "--data", dir)
		var s createdApp
		decodeOne(t, r.stdout, &s)
		if s.SuperAppSecretKey != a.SuperAppSecretKey {
			t.Errorf("app %d: SuperAppSecretKey %q, want %q", a.SdkAppId, s.SuperAppSecretKey, a.SuperAppSecretKey)
		}
	}
}

func TestAppListAndShow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop", "--rate-limit", "33")
	id := strconv.FormatUint(a.SdkAppId, 10)

	r := mustRun(t, env, "app", "list", "--json")
	var list []map[string]any
	decodeOne(t, r.stdout, &list)
	if len(list) != 1 || list[0]["SdkAppId"].(json.Number).String() != id || list[0]["Name"] != "shop" ||
		list[0]["UserDomain"] != a.UserDomain || list[0]["Status"] != "active" || list[0]["RateLimit"].(json.Number).String() != "33" {
		t.Errorf("app list --json:\n%s", r.stdout)
	}
	for _, secret := range []string{"SecretKey", "SuperAppSecretKey", "SecretId", a.SecretKey, a.SuperAppSecretKey} {
		if strings.Contains(r.stdout, secret) {
			t.Errorf("app list --json shows %q:\n%s", secret, r.stdout)
		}
	}
	r = mustRun(t, env, "app", "list")
	if !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "shop") || strings.Contains(r.stdout, a.SuperAppSecretKey) {
		t.Errorf("app list:\n%s", r.stdout)
	}

	for _, args := range [][]string{{"app", "show", id, "--json"}, {"app", "show", "--json", id}} {
		r = mustRun(t, env, args...)
		var show map[string]any
		decodeOne(t, r.stdout, &show)
		if show["SdkAppId"].(json.Number).String() != id || show["Name"] != "shop" || show["UserDomain"] != a.UserDomain {
			t.Errorf("%v:\n%s", args, r.stdout)
		}
		if _, ok := show["SuperAppSecretKey"]; ok || strings.Contains(r.stdout, a.SuperAppSecretKey) {
			t.Errorf("%v shows the SuperAppSecretKey without --show-secret:\n%s", args, r.stdout)
		}
		if strings.Contains(r.stdout, a.SecretKey) {
			t.Errorf("%v shows the API SecretKey:\n%s", args, r.stdout)
		}
	}
	r = mustRun(t, env, "app", "show", id)
	if strings.Contains(r.stdout, a.SuperAppSecretKey) {
		t.Errorf("app show shows the SuperAppSecretKey without --show-secret:\n%s", r.stdout)
	}

	r = mustRun(t, env, "app", "show", id, "--show-secret", "--json")
	var show map[string]any
	decodeOne(t, r.stdout, &show)
	if show["SuperAppSecretKey"] != a.SuperAppSecretKey {
		t.Errorf("app show --show-secret: SuperAppSecretKey = %v, want %s", show["SuperAppSecretKey"], a.SuperAppSecretKey)
	}
	r = mustRun(t, env, "app", "show", id, "--show-secret")
	if !strings.Contains(r.stdout, a.SuperAppSecretKey) {
		t.Errorf("app show --show-secret:\n%s", r.stdout)
	}

	if r := runCLI(t, env, "app", "show", "999999"); r.code != 1 || r.stderr == "" {
		t.Errorf("app show of an unknown app: %s", r)
	}
	if r := runCLI(t, env, "app", "show", "abc"); r.code != 2 {
		t.Errorf("app show abc: %s", r)
	}
	if r := runCLI(t, env, "app", "show"); r.code != 2 {
		t.Errorf("app show without an id: %s", r)
	}
}

type keyOut struct {
	SecretId    string
	SecretKey   string
	Name        string
	Apps        []uint64
	Permissions []string
	RevokedAt   string
}

func TestKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	id := strconv.FormatUint(a.SdkAppId, 10)

	r := mustRun(t, env, "key", "create", "--app", id, "--perms", "users.read", "--name", "reader", "--json")
	var k keyOut
	decodeOne(t, r.stdout, &k)
	if !reSecretID.MatchString(k.SecretId) || !reSecretKey.MatchString(k.SecretKey) {
		t.Errorf("key create: bad SecretId/SecretKey:\n%s", r.stdout)
	}
	if len(k.Apps) != 1 || k.Apps[0] != a.SdkAppId || len(k.Permissions) != 1 || k.Permissions[0] != "users.read" || k.Name != "reader" || k.RevokedAt != "" {
		t.Errorf("key create:\n%s", r.stdout)
	}

	r = mustRun(t, env, "key", "list", "--json")
	var keys []map[string]any
	decodeOne(t, r.stdout, &keys)
	if len(keys) != 2 {
		t.Fatalf("key list shows %d keys, want 2 (the app's and the new one):\n%s", len(keys), r.stdout)
	}
	checkNoSecrets := func(what, out string) {
		t.Helper()
		for _, s := range []string{a.SecretKey, k.SecretKey, a.SuperAppSecretKey} {
			if strings.Contains(out, s) {
				t.Errorf("%s shows a secret %q:\n%s", what, s, out)
			}
		}
	}
	checkNoSecrets("key list --json", r.stdout)
	for _, key := range keys {
		if _, ok := key["SecretKey"]; ok {
			t.Errorf("key list --json has a SecretKey field:\n%s", r.stdout)
		}
		if key["RevokedAt"] != nil {
			t.Errorf("a fresh key is shown revoked:\n%s", r.stdout)
		}
	}
	checkNoSecrets("key list", mustRun(t, env, "key", "list").stdout)

	r = mustRun(t, env, "key", "revoke", k.SecretId)
	if !strings.Contains(r.stdout, k.SecretId) {
		t.Errorf("key revoke:\n%s", r.stdout)
	}
	r = mustRun(t, env, "key", "list", "--json")
	var after []keyOut
	decodeOne(t, r.stdout, &after)
	checkNoSecrets("key list --json after revoke", r.stdout)
	seen := 0
	for _, key := range after {
		switch key.SecretId {
		case k.SecretId:
			seen++
			if key.RevokedAt == "" {
				t.Errorf("revoked key not shown revoked:\n%s", r.stdout)
			}
		case a.SecretId:
			seen++
			if key.RevokedAt != "" {
				t.Errorf("the app's key was revoked too:\n%s", r.stdout)
			}
		}
	}
	if seen != 2 {
		t.Errorf("key list lost a key:\n%s", r.stdout)
	}
	r = mustRun(t, env, "key", "list")
	if !strings.Contains(r.stdout, "revoked") {
		t.Errorf("key list does not show the revocation:\n%s", r.stdout)
	}

	if r := runCLI(t, env, "key", "revoke", "AKIDnosuchkeynosuchkeynosuchkey00000"); r.code == 0 {
		t.Errorf("revoking an unknown key succeeded: %s", r)
	}
	if r := runCLI(t, env, "key", "revoke"); r.code != 2 {
		t.Errorf("key revoke without an id: %s", r)
	}
}

func TestKeyCreateErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	id := strconv.FormatUint(a.SdkAppId, 10)

	r := runCLI(t, env, "key", "create", "--app", id, "--perms", "users.read,users.fly", "--json")
	if r.code != 2 || !strings.Contains(r.stderr, "users.fly") {
		t.Errorf("unknown permission: want exit 2 naming it: %s", r)
	}
	if r.stdout != "" {
		t.Errorf("unknown permission printed to stdout:\n%s", r.stdout)
	}
	if r := runCLI(t, env, "key", "create", "--perms", "users.read"); r.code != 2 || !strings.Contains(r.stderr, "--app") {
		t.Errorf("key create without --app: %s", r)
	}
	if r := runCLI(t, env, "key", "create", "--app", "x1"); r.code != 2 {
		t.Errorf("key create --app x1: %s", r)
	}
	if r := runCLI(t, env, "key", "create", "--app", "999999", "--json"); r.code != 1 || r.stderr == "" {
		t.Errorf("key create for an unknown app: %s", r)
	}
	// Nothing was created by the failures.
	var keys []keyOut
	decodeOne(t, mustRun(t, env, "key", "list", "--json").stdout, &keys)
	if len(keys) != 1 {
		t.Errorf("failed key creates left %d keys, want 1", len(keys))
	}
}

func TestUsageAndVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "usercenter ") {
		t.Errorf("version: %s", r)
	}
	r = runCLI(t, nil, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "app create") {
		t.Errorf("help: %s", r)
	}
	r = runCLI(t, nil, "app", "list", "-h")
	if r.code != 0 {
		t.Errorf("app list -h: %s", r)
	}
	// No command at all: the whole help, as a usage error.
	r = runCLI(t, nil)
	if r.code != 2 || !strings.Contains(r.stderr, "Usage: usercenter COMMAND") || !strings.Contains(r.stderr, "master-key rotate") {
		t.Errorf("usercenter without a command: %s", r)
	}
	dir := t.TempDir()
	r = runCLI(t, nil, "serve", "--log-level", "loud", "--data", dir, "--addr", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "--log-level") {
		t.Errorf("serve --log-level loud: %s", r)
	}
	if exists(t, filepath.Join(dir, "master.key")) {
		t.Errorf("serve with a bad flag created the master key")
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	env := dataEnv(t.TempDir())
	mustRun(t, env, "migrate")
	for _, args := range [][]string{{"app", "list", "--json"}, {"key", "list", "--json"}} {
		if r := mustRun(t, env, args...); strings.TrimSpace(r.stdout) != "[]" {
			t.Errorf("%v on an empty store = %q, want []", args, r.stdout)
		}
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := mustRun(t, nil, "migrate", "--data", dir)
	if !strings.Contains(r.stdout, "applied migrations [1") || !strings.Contains(r.stdout, "schema version") {
		t.Errorf("migrate on a fresh database:\n%s", r.stdout)
	}
	r = mustRun(t, nil, "migrate", "--data", dir)
	if !strings.Contains(r.stdout, "up to date") {
		t.Errorf("second migrate:\n%s", r.stdout)
	}
	// A database that app create made is also up to date.
	dir2 := t.TempDir()
	createApp(t, nil, "x", "--data", dir2)
	r = mustRun(t, nil, "migrate", "--db", "sqlite:"+filepath.Join(dir2, "usercenter.db"), "--data", dir2)
	if !strings.Contains(r.stdout, "up to date") {
		t.Errorf("migrate after app create:\n%s", r.stdout)
	}
}

// TestNoPlaintextSecretsOnDisk reads the raw database files after the
// secrets were created and checks none of them appears in plain text.
func TestNoPlaintextSecretsOnDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := dataEnv(dir)
	a := createApp(t, env, "shop")
	secrets := []string{a.SecretKey, a.SuperAppSecretKey}
	checkFiles := func(when string) {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		sawID := false
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "usercenter.db") {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				for _, enc := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), hexOf(s), strings.ToUpper(hexOf(s))} {
					if bytes.Contains(raw, []byte(enc)) {
						t.Errorf("%s: %s holds the secret %q in plain text", when, e.Name(), s)
					}
				}
			}
			// The SecretId is not secret and is how keys are found: seeing
			// it shows the search reads the bytes where the data lives.
			sawID = sawID || bytes.Contains(raw, []byte(a.SecretId))
		}
		if !sawID {
			t.Fatalf("%s: the SecretId %s is in none of the database files either; the search does not read the data", when, a.SecretId)
		}
	}
	checkFiles("after app create")

	r := mustRun(t, env, "key", "create", "--app", strconv.FormatUint(a.SdkAppId, 10), "--json")
	var k keyOut
	decodeOne(t, r.stdout, &k)
	secrets = append(secrets, k.SecretKey)
	checkFiles("after key create")
	// Opening and closing again (which may checkpoint the WAL) changes nothing.
	mustRun(t, env, "app", "list")
	checkFiles("after app list")
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(out)
}

func TestWrongMasterKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createApp(t, nil, "shop", "--data", dir)
	keyPath := filepath.Join(dir, "master.key")
	fresh := "# another master key\n" + base64.StdEncoding.EncodeToString(vault.NewKey()) + "\n"
	if err := os.WriteFile(keyPath, []byte(fresh), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vault.LoadFile(keyPath, false); err != nil {
		t.Fatalf("the replacement key is not a valid key file: %v", err)
	}
	for _, args := range [][]string{{"app", "list"}, {"app", "list", "--json"}, {"key", "list"}, {"migrate"}, {"app", "create", "--name", "more"}} {
		r := runCLI(t, nil, append(args, "--data", dir)...)
		if r.code == 0 {
			t.Errorf("%v with the wrong master key succeeded: %s", args, r)
			continue
		}
		if !strings.Contains(r.stderr, "master key") {
			t.Errorf("%v: stderr does not mention the master key: %s", args, r)
		}
		if !strings.Contains(r.stderr, keyPath) {
			t.Errorf("%v: stderr does not name the key file %s: %s", args, keyPath, r)
		}
		if strings.Contains(r.stdout, "[") {
			t.Errorf("%v printed a listing with the wrong key: %s", args, r)
		}
	}
}

func TestMasterKeyFileModeRefused(t *testing.T) {
	t.Parallel()
	t.Run("existing store", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		createApp(t, nil, "shop", "--data", dir)
		keyPath := filepath.Join(dir, "master.key")
		if err := os.Chmod(keyPath, 0o644); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, "app", "list", "--data", dir)
		if r.code != 1 || !strings.Contains(r.stderr, keyPath) || !strings.Contains(r.stderr, "chmod 600") {
			t.Errorf("a 0644 master key must be refused, naming the file and the fix: %s", r)
		}
	})
	t.Run("fresh store", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		keyPath := filepath.Join(t.TempDir(), "mk")
		content := "# key\n" + base64.StdEncoding.EncodeToString(vault.NewKey()) + "\n"
		if err := os.WriteFile(keyPath, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(keyPath, 0o644) // in case of a restrictive umask
		r := runCLI(t, nil, "app", "create", "--name", "x", "--data", dir, "--master-key-file", keyPath)
		if r.code != 1 || !strings.Contains(r.stderr, "readable by others") {
			t.Errorf("a 0644 master key must be refused: %s", r)
		}
		if exists(t, filepath.Join(dir, "usercenter.db")) {
			t.Errorf("a database was created although the master key was refused")
		}
	})
}

func TestDatabaseDSN(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1 of loopback: the store must say so, fast,
	// and never show the password, wherever the DSN carries it.
	for _, dsn := range []string{
		"postgres://uc:hunter2@127.0.0.1:1/uc",
		"postgresql://uc:hunter2@127.0.0.1:1/uc?sslmode=disable",
		"postgres://uc@127.0.0.1:1/uc?sslmode=disable&password=hunter2",
	} {
		r := runCLI(t, nil, "app", "list", "--data", t.TempDir(), "--db", dsn, "--db-connect-timeout", "2s")
		if r.code != 1 || !strings.Contains(r.stderr, "unreachable") {
			t.Errorf("--db %s: want exit 1 and 'unreachable': %s", dsn, r)
		}
		if strings.Contains(r.stderr, "hunter2") || strings.Contains(r.stdout, "hunter2") {
			t.Errorf("--db %s: the password is shown: %s", dsn, r)
		}
	}
	r := runCLI(t, map[string]string{"USERCENTER_DB": "postgres://uc:hunter2@127.0.0.1:1/uc", "USERCENTER_DATA": t.TempDir()}, "migrate")
	if r.code != 1 || !strings.Contains(r.stderr, "unreachable") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("USERCENTER_DB=postgres://…: %s", r)
	}
	r = runCLI(t, nil, "app", "list", "--data", t.TempDir(), "--db", "mysql://uc:hunter2@127.0.0.1/uc")
	if r.code != 1 || !strings.Contains(r.stderr, "unsupported") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("--db mysql://…: want exit 1, 'unsupported' and no password: %s", r)
	}
	for _, bad := range []string{"0", "-3", "many", "100000"} {
		r = runCLI(t, nil, "app", "list", "--data", t.TempDir(), "--db-max-conns", bad)
		if r.code != 2 {
			t.Errorf("--db-max-conns %s: want a usage error: %s", bad, r)
		}
	}
}

// The same commands run on PostgreSQL when --db names it.
func TestPostgresDSN(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	r := runCLI(t, nil, "migrate", "--data", dir, "--db", dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "applied migrations") || strings.Contains(r.stdout, "usercenter-ci") {
		t.Fatalf("migrate on PostgreSQL: %s", r)
	}
	r = runCLI(t, nil, "app", "create", "--name", "pgapp", "--data", dir, "--db", dsn, "--json")
	if r.code != 0 {
		t.Fatalf("app create on PostgreSQL: %s", r)
	}
	r = runCLI(t, map[string]string{"USERCENTER_DB": dsn, "USERCENTER_DATA": dir}, "app", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "pgapp") {
		t.Fatalf("app list on PostgreSQL: %s", r)
	}
	// The same database under another master key is refused.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "master.key"), []byte(base64.StdEncoding.EncodeToString(vault.NewKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "app", "list", "--data", other, "--db", dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "master key does not match") {
		t.Fatalf("another master key: %s", r)
	}
}
