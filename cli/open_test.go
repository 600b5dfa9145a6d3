package cli

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"usercenter/postgres/pgtest"
	"usercenter/vault"
)

// tree lists every file and directory under root with its mode and size,
// to show that a command left the file system as it found it.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out = append(out, fmt.Sprintf("%s %v %d", rel, fi.Mode(), fi.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// oneLine checks that a failure says so in one line naming want.
func oneLine(t *testing.T, r result, want string, args []string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("usercenter %v: exit %d, want 1: %s", args, r.code, r)
	}
	if lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n"); len(lines) != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("usercenter %v: want one line saying %q on stderr, got:\n%s", args, want, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("usercenter %v printed to stdout:\n%s", args, r.stdout)
	}
}

// readCommands are the commands that only look, each as it would run
// against app 1400000001 and a user of it.
var readCommands = [][]string{
	{"app", "list"},
	{"app", "list", "--json"},
	{"app", "show", "1400000001"},
	{"key", "list"},
	{"user", "get", "u_0000000000000000000000000"},
	{"user", "find", "--app", "1400000001", "--origin-id", "o1"},
	{"audit"},
	{"audit", "--json"},
	{"events", "tail"},
}

// writeCommands change an existing instance; they too create none.
var writeCommands = [][]string{
	{"app", "update", "1400000001", "--rate-limit", "5"},
	{"key", "create", "--app", "1400000001"},
	{"key", "revoke", "AKIDnosuchkeynosuchkeynosuchkey00000"},
	{"user", "set", "u_0000000000000000000000000", "nickname=x"},
	{"user", "delete", "u_0000000000000000000000000"},
	{"user", "revoke-tokens", "u_0000000000000000000000000"},
	{"user", "get", "u_0000000000000000000000000", "--reveal", "phone"},
}

// TestReadCommandsCreateNothing runs in the directory it looks at, since
// the default data directory, ./data, is where a stray master key landed.
func TestReadCommandsCreateNothing(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	if err := os.Mkdir("elsewhere", 0o700); err != nil {
		t.Fatal(err)
	}
	before := tree(t, root)
	missingDB := filepath.Join(root, "nonexistent", "dir", "uc.db")
	for _, cmd := range slices.Concat(readCommands, writeCommands) {
		// --db names a missing file; the master key is the default ./data/master.key.
		args := append(slices.Clone(cmd), "--db", missingDB)
		oneLine(t, runCLI(t, nil, args...), "there is no database at "+missingDB, args)
		// The default database in a missing default data directory.
		oneLine(t, runCLI(t, nil, cmd...), "there is no data directory ./data", cmd)
		// A missing database in a data directory that exists.
		args = append(slices.Clone(cmd), "--data", "elsewhere")
		oneLine(t, runCLI(t, nil, args...), "there is no database at elsewhere/usercenter.db", args)
		// The same through the environment.
		oneLine(t, runCLI(t, map[string]string{"USERCENTER_DB": "sqlite:" + missingDB}, cmd...), "USERCENTER_DB", cmd)
	}
	if r := runCLI(t, nil, "version"); r.code != 0 {
		t.Errorf("version: %s", r)
	}
	if after := tree(t, root); !slices.Equal(before, after) {
		t.Fatalf("the commands changed the file system:\nbefore %q\nafter  %q", before, after)
	}
}

func TestMissingMasterKeyIsNotCreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createApp(t, nil, "shop", "--data", dir, "--sdk-app-id", "1400000001")
	before := tree(t, dir)
	typo := filepath.Join(dir, "master.kye")
	for _, cmd := range slices.Concat(readCommands, writeCommands) {
		args := append(slices.Clone(cmd), "--data", dir, "--master-key-file", typo)
		oneLine(t, runCLI(t, nil, args...), "there is no master key file at "+typo+": check --master-key-file", args)
	}
	// The default key in --data, gone.
	moved := filepath.Join(t.TempDir(), "master.key")
	if err := os.Rename(filepath.Join(dir, "master.key"), moved); err != nil {
		t.Fatal(err)
	}
	args := []string{"app", "list", "--data", dir}
	oneLine(t, runCLI(t, nil, args...), "there is no master key file at "+filepath.Join(dir, "master.key"), args)
	if err := os.Rename(moved, filepath.Join(dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	if after := tree(t, dir); !slices.Equal(before, after) {
		t.Fatalf("the commands changed the data directory:\nbefore %q\nafter  %q", before, after)
	}
	// Nor do the commands that set up an instance make a new key beside
	// an existing database: it would not open it.
	for _, cmd := range [][]string{{"app", "create", "--name", "more"}, {"migrate"}} {
		args := append(slices.Clone(cmd), "--data", dir, "--master-key-file", typo)
		oneLine(t, runCLI(t, nil, args...), "there is no master key file at "+typo+", and a new one would not open the database", args)
	}
	if after := tree(t, dir); !slices.Equal(before, after) {
		t.Fatalf("app create with a mistyped key file changed the data directory:\nbefore %q\nafter  %q", before, after)
	}
	mustRun(t, nil, "app", "show", "1400000001", "--data", dir)
}

// TestCreatingCommandsSayWhatTheyCreated: serve, migrate and app create set
// an instance up, and say so on stderr, so that stdout stays the result.
func TestCreatingCommandsSayWhatTheyCreated(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	r := mustRun(t, nil, "app", "create", "--name", "shop", "--data", dir, "--json")
	checkAppCreateJSON(t, r.stdout)
	for _, want := range []string{
		"created the data directory " + dir,
		"created the master key " + filepath.Join(dir, "master.key"),
		"created the database " + filepath.Join(dir, "usercenter.db"),
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("app create on a new instance does not say %q: %s", want, r)
		}
	}
	r = mustRun(t, nil, "app", "create", "--name", "more", "--data", dir, "--json")
	if strings.Contains(r.stderr, "created") {
		t.Errorf("app create on an existing instance says it created something: %s", r)
	}

	dir = t.TempDir()
	r = mustRun(t, nil, "migrate", "--data", dir)
	if !strings.Contains(r.stderr, "created the master key") || !strings.Contains(r.stderr, "created the database") || strings.Contains(r.stderr, "data directory") {
		t.Errorf("migrate on an empty data directory: %s", r)
	}
}

// TestPostgresReadCommandsChangeNothing: a read-only command leaves an
// empty PostgreSQL schema empty, and says how to set it up.
func TestPostgresReadCommandsChangeNothing(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(base64.StdEncoding.EncodeToString(vault.NewKey())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range slices.Concat(readCommands, writeCommands) {
		args := append(slices.Clone(cmd), "--data", dir, "--db", dsn)
		oneLine(t, runCLI(t, nil, args...), "has no usercenter tables; set it up with usercenter migrate", args)
	}
	// Had anything been set up, migrate would find it.
	r := mustRun(t, nil, "migrate", "--data", dir, "--db", dsn)
	if !strings.Contains(r.stdout, "applied migrations [1") || !strings.Contains(r.stderr, "created the usercenter tables") {
		t.Errorf("migrate after the read commands: %s", r)
	}
	mustRun(t, nil, "app", "list", "--data", dir, "--db", dsn)
	// The schema is set up now: a new master key would not open it.
	other := t.TempDir()
	args := []string{"app", "create", "--name", "x", "--data", other, "--db", dsn}
	oneLine(t, runCLI(t, nil, args...), "there is no master key file at "+filepath.Join(other, "master.key")+", and a new one would not open the database", args)
	if names := tree(t, other); len(names) != 1 {
		t.Errorf("app create without the key file created %v", names)
	}
}
