package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlite"
	"usercenter/vault"
)

// rotateOut is the output of master-key rotate --json.
type rotateOut struct {
	Database, KeyFile, KeyId string
	Resealed, AlreadyCurrent int
	OldKeysRemoved           int
	OldKeyFile               string
	Values                   map[string]int
}

// oldKeyFiles lists the copies of old key files in dir.
func oldKeyFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "master.key.old-*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// checkOldKeyFile checks that path is a private copy of the key file as
// it was, named after a UTC time.
func checkOldKeyFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if !regexp.MustCompile(`/master\.key\.old-\d{8}T\d{6}Z(-\d+)?$`).MatchString(path) {
		t.Errorf("old key file %q is not named master.key.old-<UTC time>", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("old key file mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("old key file %s is not the key file as it was before the rotation", path)
	}
}

func readKeys(t *testing.T, path string) [][]byte {
	t.Helper()
	keys, err := vault.ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func writeKeys(t *testing.T, path string, keys ...[]byte) {
	t.Helper()
	if err := vault.WriteKeyFile(path, keys); err != nil {
		t.Fatal(err)
	}
}

// fixture is an instance with an app, a second API key, and users whose
// personal data was set through `user set`.
type fixture struct {
	dir     string
	env     map[string]string
	app     createdApp
	key     keyOut
	users   []string
	phones  []string // as stored: E.164
	inputs  []string // as typed: national form
	emails  []string
	address []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, env: dataEnv(dir)}
	f.app = createApp(t, f.env, "shop")
	r := mustRun(t, f.env, "key", "create", "--app", strconv.FormatUint(f.app.SdkAppId, 10), "--perms", "users.read,pii.read", "--json")
	decodeOne(t, r.stdout, &f.key)
	f.users = newUsers(t, dir, f.app.SdkAppId, "alice", "bob", "carol")
	for i, uid := range f.users {
		national := "1361234" + strconv.Itoa(6680+i)
		f.inputs = append(f.inputs, national)
		f.phones = append(f.phones, "+86"+national)
		f.emails = append(f.emails, "person"+strconv.Itoa(i)+"@rotation.example")
		f.address = append(f.address, "No. "+strconv.Itoa(100+i)+" Keyring Street")
		mustRun(t, f.env, "user", "set", uid, "phone="+national, "email="+f.emails[i], "address="+f.address[i], "nickname=N"+strconv.Itoa(i))
	}
	return f
}

// values is how many sealed values the fixture stores: the app secret,
// two key secrets, the key check, the index key and the email index
// version, and three of each kind of personal data.
const fixtureValues = 1 + 2 + 3 + 3*3

func (f *fixture) keyPath() string { return filepath.Join(f.dir, "master.key") }

// checkReadable checks every secret and personal value reads back.
func (f *fixture) checkReadable(t *testing.T, when string) {
	t.Helper()
	for i, uid := range f.users {
		u := getUser(t, f.env, uid, "--reveal", "phone,email,address")
		if u.Phone != f.phones[i] || u.Email != f.emails[i] || u.Address != f.address[i] || u.Nickname != "N"+strconv.Itoa(i) {
			t.Errorf("%s: user %s reads back as %q %q %q %q", when, uid, u.Phone, u.Email, u.Address, u.Nickname)
		}
		// The blind indexes still find the users.
		found := findUsers(t, f.env, "--app", strconv.FormatUint(f.app.SdkAppId, 10), "--phone", f.inputs[i])
		if len(found) != 1 || found[0].UserId != uid {
			t.Errorf("%s: user find --phone %s: %+v", when, f.inputs[i], found)
		}
		found = findUsers(t, f.env, "--app", strconv.FormatUint(f.app.SdkAppId, 10), "--email", f.emails[i])
		if len(found) != 1 || found[0].UserId != uid {
			t.Errorf("%s: user find --email %s: %+v", when, f.emails[i], found)
		}
	}
	r := mustRun(t, f.env, "app", "show", strconv.FormatUint(f.app.SdkAppId, 10), "--show-secret", "--json")
	var shown createdApp
	decodeOne(t, r.stdout, &shown)
	if shown.SuperAppSecretKey != f.app.SuperAppSecretKey {
		t.Errorf("%s: SuperAppSecretKey = %q, want %q", when, shown.SuperAppSecretKey, f.app.SuperAppSecretKey)
	}
	inst := openDir(t, f.dir)
	defer inst.Close()
	for _, k := range []struct{ id, secret string }{{f.app.SecretId, f.app.SecretKey}, {f.key.SecretId, f.key.SecretKey}} {
		if _, err := inst.svc.AuthenticateKey(context.Background(), k.id, k.secret); err != nil {
			t.Errorf("%s: key %s does not authenticate with its SecretKey: %v", when, k.id, err)
		}
	}
}

// checkNoPlaintext reads the raw database files, while an instance has
// them open and after, and checks no personal value or secret is in them.
func (f *fixture) checkNoPlaintext(t *testing.T, when string) {
	t.Helper()
	var plain []string
	plain = append(plain, f.phones...)
	plain = append(plain, f.inputs...)
	plain = append(plain, f.emails...)
	plain = append(plain, f.address...)
	plain = append(plain, f.app.SecretKey, f.app.SuperAppSecretKey, f.key.SecretKey)
	scan := func(when string) {
		t.Helper()
		entries, err := os.ReadDir(f.dir)
		if err != nil {
			t.Fatal(err)
		}
		sawUser, sawWAL := false, false
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "usercenter.db") {
				continue
			}
			sawWAL = sawWAL || strings.HasSuffix(e.Name(), "-wal")
			raw, err := os.ReadFile(filepath.Join(f.dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range plain {
				for _, enc := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), hexOf(s), strings.ToUpper(hexOf(s))} {
					if bytes.Contains(raw, []byte(enc)) {
						t.Errorf("%s: %s holds %q in plain text", when, e.Name(), s)
					}
				}
			}
			sawUser = sawUser || bytes.Contains(raw, []byte(f.users[0]))
		}
		if !sawUser {
			t.Fatalf("%s: the UserId %s is in none of the database files: the search does not read the data", when, f.users[0])
		}
		if strings.Contains(when, "open") && !sawWAL {
			t.Fatalf("%s: there is no -wal file to search", when)
		}
	}
	scan(when + ", closed")
	// With the store open and written to, the WAL holds the newest pages.
	inst := openDir(t, f.dir)
	defer inst.Close()
	if _, err := inst.svc.GetUser(context.Background(), usercenter.Operator(), f.users[1], usercenter.PIIFields); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.svc.UpdateUser(context.Background(), usercenter.Operator(), f.users[2], core.UserPatch{Remark: ptr("after " + when)}); err != nil {
		t.Fatal(err)
	}
	scan(when + ", open")
}

func ptr[T any](v T) *T { return &v }

func rotate(t *testing.T, env map[string]string) rotateOut {
	t.Helper()
	r := mustRun(t, env, "master-key", "rotate", "--json")
	var out rotateOut
	decodeOne(t, r.stdout, &out)
	if !strings.Contains(r.stderr, "Restart") {
		t.Errorf("master-key rotate --json does not tell to restart servers: %s", r)
	}
	return out
}

func TestMasterKeyRotate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.checkReadable(t, "before rotation")
	f.checkNoPlaintext(t, "before rotation")
	oldKeys := readKeys(t, f.keyPath())
	if len(oldKeys) != 1 {
		t.Fatalf("the fresh key file holds %d keys", len(oldKeys))
	}
	oldContent, err := os.ReadFile(f.keyPath())
	if err != nil {
		t.Fatal(err)
	}

	r := mustRun(t, f.env, "master-key", "rotate")
	for _, s := range []string{"Rotated", "Re-encrypted  " + strconv.Itoa(fixtureValues) + " values", "user phone numbers", "Restart", f.keyPath()} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("master-key rotate does not say %q:\n%s", s, r.stdout)
		}
	}

	// (b) The key file holds exactly one key, a new one, privately.
	newKeys := readKeys(t, f.keyPath())
	if len(newKeys) != 1 {
		t.Fatalf("after rotation the key file holds %d keys, want 1", len(newKeys))
	}
	if bytes.Equal(newKeys[0], oldKeys[0]) {
		t.Fatal("the key file still holds the old key")
	}
	if fi, err := os.Stat(f.keyPath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode after rotation: %v, %v", fi.Mode().Perm(), err)
	}
	// The old key file is kept beside it, and the output says where.
	kept := oldKeyFiles(t, f.dir)
	if len(kept) != 1 {
		t.Fatalf("rotation kept %d copies of the old key file, want 1: %v", len(kept), kept)
	}
	checkOldKeyFile(t, kept[0], oldContent)
	if !strings.Contains(r.stdout, "Old key file  "+kept[0]) || !strings.Contains(r.stdout, "still need the old key: it is kept in "+kept[0]) {
		t.Errorf("master-key rotate does not say where the old key is:\n%s", r.stdout)
	}
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if e.Name() != "master.key" && e.Name() != filepath.Base(kept[0]) && !strings.HasPrefix(e.Name(), "usercenter.db") {
			t.Errorf("rotation left %s behind", e.Name())
		}
	}
	// The kept file opens what a backup made before the rotation holds.
	if ring, _, err := vault.LoadFile(kept[0], false); err != nil || !ring.SealedByCurrent(oldRingValue(t, oldKeys)) {
		t.Errorf("the old key file does not hold the old key: %v", err)
	}

	// (a) Everything reads back.
	f.checkReadable(t, "after rotation")

	// (c) The old key alone opens nothing any more, and says so.
	oldFile := filepath.Join(t.TempDir(), "old.key")
	writeKeys(t, oldFile, oldKeys...)
	for _, args := range [][]string{{"app", "list"}, {"user", "get", f.users[0], "--reveal", "phone"}, {"audit"}} {
		r := runCLI(t, f.env, append(args, "--master-key-file", oldFile)...)
		if r.code != 1 || !strings.Contains(r.stderr, "master key does not match") || !strings.Contains(r.stderr, oldFile) {
			t.Errorf("%v with only the old key: want exit 1 and a wrong-key error naming the file: %s", args, r)
		}
		if strings.Contains(r.stdout, f.phones[0]) || strings.Contains(r.stdout, "shop") {
			t.Errorf("%v with only the old key printed data:\n%s", args, r.stdout)
		}
	}
	// No stored value is sealed by, or opens with, the old key.
	store, err := sqlite.Open(context.Background(), filepath.Join(f.dir, "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	oldRing, _ := vault.New(oldKeys...)
	newRing, _ := vault.New(newKeys...)
	if _, err := core.NewService(context.Background(), store, oldRing); !errors.Is(err, core.ErrWrongMasterKey) {
		t.Errorf("core.NewService with the old key: err = %v, want ErrWrongMasterKey", err)
	}
	n := 0
	for _, kind := range core.SealedKinds {
		vals, err := store.SealedValues(context.Background(), kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			n++
			if oldRing.SealedByCurrent(v.Value) || !newRing.SealedByCurrent(v.Value) {
				t.Errorf("%s %s is not sealed by the new key", v.Kind, v.RowKey)
			}
		}
	}
	store.Close()
	if n != fixtureValues {
		t.Errorf("the store holds %d sealed values, want %d", n, fixtureValues)
	}

	// (d) No plain personal data or secret on disk.
	f.checkNoPlaintext(t, "after rotation")
}

// oldRingValue seals a value under keys, for a ring to recognise.
func oldRingValue(t *testing.T, keys [][]byte) []byte {
	t.Helper()
	ring, err := vault.New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ring.Seal([]byte("x"), "test")
}

func TestMasterKeyRotateTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k0 := readKeys(t, f.keyPath())[0]
	c0, _ := os.ReadFile(f.keyPath())
	first := rotate(t, f.env)
	k1 := readKeys(t, f.keyPath())
	c1, _ := os.ReadFile(f.keyPath())
	second := rotate(t, f.env)
	k2 := readKeys(t, f.keyPath())
	// Each rotation kept its own old key file, even within one second.
	if first.OldKeyFile == "" || second.OldKeyFile == "" || first.OldKeyFile == second.OldKeyFile {
		t.Fatalf("old key files %q and %q: want two", first.OldKeyFile, second.OldKeyFile)
	}
	checkOldKeyFile(t, first.OldKeyFile, c0)
	checkOldKeyFile(t, second.OldKeyFile, c1)
	if len(k1) != 1 || len(k2) != 1 || bytes.Equal(k1[0], k0) || bytes.Equal(k2[0], k1[0]) || bytes.Equal(k2[0], k0) {
		t.Fatalf("two rotations: key files of %d and %d keys; each must hold one new key", len(k1), len(k2))
	}
	// The remark written by checkNoPlaintext changes nothing sealed.
	for i, out := range []rotateOut{first, second} {
		if out.Resealed != fixtureValues || out.AlreadyCurrent != 0 || out.OldKeysRemoved != 1 {
			t.Errorf("rotation %d: %+v; want %d values re-encrypted and 1 old key removed", i+1, out, fixtureValues)
		}
		want := map[string]int{"app.superapp_secret": 1, "key.secret_key": 2, "meta.value": 3, "user.phone": 3, "user.email": 3, "user.address": 3}
		for k, v := range want {
			if out.Values[k] != v {
				t.Errorf("rotation %d: Values[%s] = %d, want %d (%v)", i+1, k, out.Values[k], v, out.Values)
			}
		}
		if out.KeyFile != f.keyPath() || out.Database != filepath.Join(f.dir, "usercenter.db") {
			t.Errorf("rotation %d: KeyFile %q, Database %q", i+1, out.KeyFile, out.Database)
		}
	}
	if first.KeyId == second.KeyId || len(first.KeyId) != 16 {
		t.Errorf("key IDs %q and %q: want two different 8-byte hex IDs", first.KeyId, second.KeyId)
	}
	if strings.Contains(first.KeyId, base64.StdEncoding.EncodeToString(k1[0])) {
		t.Error("the output shows the key")
	}
	f.checkReadable(t, "after two rotations")
	f.checkNoPlaintext(t, "after two rotations")
	// Changes made between and after rotations are sealed by the new key too.
	mustRun(t, f.env, "user", "set", f.users[0], "phone=13900001111")
	if u := getUser(t, f.env, f.users[0], "--reveal", "phone"); u.Phone != "+8613900001111" {
		t.Errorf("after rotations: phone = %q", u.Phone)
	}
	f.phones[0], f.inputs[0] = "+8613900001111", "13900001111"
	third := rotate(t, f.env)
	if third.Resealed != fixtureValues {
		t.Errorf("third rotation re-encrypted %d values, want %d", third.Resealed, fixtureValues)
	}
	f.checkReadable(t, "after three rotations")
}

// TestMasterKeyRotateResumes starts from what an interrupted rotation
// leaves: a key file of a new key and the old one, and a database whose
// values are sealed partly by each.
func TestMasterKeyRotateResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k0 := readKeys(t, f.keyPath())[0]
	k1 := vault.NewKey()
	writeKeys(t, f.keyPath(), k1, k0)
	// New values are sealed by k1; the fixture's by k0.
	b := createApp(t, f.env, "mall")
	uid := newUsers(t, f.dir, b.SdkAppId, "dave")[0]
	mustRun(t, f.env, "user", "set", uid, "email=dave@rotation.example")

	out := rotate(t, f.env)
	if out.OldKeysRemoved != 2 {
		t.Errorf("OldKeysRemoved = %d, want 2", out.OldKeysRemoved)
	}
	// The check value and index key were sealed by k0; mall's app and key
	// secrets and dave's email by k1: every value needed re-encrypting.
	if want := fixtureValues + 3; out.Resealed != want || out.AlreadyCurrent != 0 {
		t.Errorf("Resealed %d, AlreadyCurrent %d; want %d and 0", out.Resealed, out.AlreadyCurrent, want)
	}
	keys := readKeys(t, f.keyPath())
	if len(keys) != 1 || bytes.Equal(keys[0], k0) || bytes.Equal(keys[0], k1) {
		t.Fatalf("after resuming the key file holds %d keys; want one new key", len(keys))
	}
	f.checkReadable(t, "after resuming")
	if u := getUser(t, f.env, uid, "--reveal", "email"); u.Email != "dave@rotation.example" {
		t.Errorf("dave's email reads back as %q", u.Email)
	}
}

// TestMasterKeyRotateFailsSafely breaks one stored value so that
// re-encryption fails midway: the key file must then hold the new key and
// the old one, and open everything the rotation did and did not reach.
func TestMasterKeyRotateFailsSafely(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k0 := readKeys(t, f.keyPath())[0]
	store, err := sqlite.Open(context.Background(), filepath.Join(f.dir, "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	// A value sealed by the right key for the wrong row does not open.
	ring, _ := vault.New(k0)
	bad := core.SealedValue{Kind: core.SealedUserAddress, RowKey: f.users[2], Value: ring.Seal([]byte("x"), "user:"+f.users[0]+":address")}
	if err := store.Update(context.Background(), func(tx core.Tx) error { return tx.UpdateSealed(context.Background(), bad) }); err != nil {
		t.Fatal(err)
	}
	store.Close()

	r := runCLI(t, f.env, "master-key", "rotate")
	if r.code != 1 || !strings.Contains(r.stderr, f.users[2]) || !strings.Contains(r.stderr, "run usercenter master-key rotate again") {
		t.Fatalf("rotating over a damaged value: want exit 1 naming the value and what to do: %s", r)
	}
	keys := readKeys(t, f.keyPath())
	if len(keys) != 2 || !bytes.Equal(keys[1], k0) || bytes.Equal(keys[0], k0) {
		t.Fatalf("after a failed rotation the key file holds %d keys; want the new key, then the old", len(keys))
	}
	// Everything the rotation re-encrypted, and everything it did not, opens.
	inst := openDir(t, f.dir)
	for i, uid := range f.users[:2] {
		u, err := inst.svc.GetUser(context.Background(), usercenter.Operator(), uid, usercenter.PIIFields)
		if err != nil || u.Phone != f.phones[i] || u.Email != f.emails[i] || u.Address != f.address[i] {
			t.Errorf("after a failed rotation user %s: %v %+v", uid, err, u)
		}
	}
	inst.Close()
	mustRun(t, f.env, "app", "show", strconv.FormatUint(f.app.SdkAppId, 10), "--show-secret")

	// Repairing the value (clearing it) lets the rotation finish.
	inst = openDir(t, f.dir)
	store2 := inst.store
	err = store2.Update(context.Background(), func(tx core.Tx) error {
		return tx.UpdateSealed(context.Background(), core.SealedValue{Kind: core.SealedUserAddress, RowKey: f.users[2], Value: ring.Seal([]byte("fixed"), "user:"+f.users[2]+":address")})
	})
	inst.Close()
	if err != nil {
		t.Fatal(err)
	}
	f.address[2] = "fixed"
	out := rotate(t, f.env)
	if out.OldKeysRemoved != 2 {
		t.Errorf("the rotation after the failed one removed %d old keys, want 2", out.OldKeysRemoved)
	}
	if keys := readKeys(t, f.keyPath()); len(keys) != 1 {
		t.Errorf("after the repaired rotation the key file holds %d keys", len(keys))
	}
	f.checkReadable(t, "after the repaired rotation")
}

func TestMasterKeyRotateRefuses(t *testing.T) {
	t.Parallel()
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		other := filepath.Join(t.TempDir(), "other.key")
		writeKeys(t, other, vault.NewKey())
		before, _ := os.ReadFile(other)
		r := runCLI(t, f.env, "master-key", "rotate", "--master-key-file", other)
		if r.code != 1 || !strings.Contains(r.stderr, "master key does not match") || !strings.Contains(r.stderr, "nothing was changed") {
			t.Errorf("rotate with a wrong key: %s", r)
		}
		if after, _ := os.ReadFile(other); !bytes.Equal(before, after) {
			t.Error("rotate with a wrong key changed the key file")
		}
		f.checkReadable(t, "after a refused rotation")
	})
	t.Run("open key file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		createApp(t, dataEnv(dir), "shop")
		path := filepath.Join(dir, "master.key")
		os.Chmod(path, 0o644)
		before, _ := os.ReadFile(path)
		r := runCLI(t, dataEnv(dir), "master-key", "rotate")
		if r.code != 1 || !strings.Contains(r.stderr, "chmod 600") {
			t.Errorf("rotate with a 0644 key file: %s", r)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Error("rotate changed a refused key file")
		}
	})
	t.Run("no database", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r := runCLI(t, dataEnv(dir), "master-key", "rotate")
		if r.code != 1 || !strings.Contains(r.stderr, "no database") {
			t.Errorf("rotate without a database: %s", r)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("rotate without a database created %v", entries)
		}
	})
	t.Run("no key file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		createApp(t, dataEnv(dir), "shop")
		missing := filepath.Join(dir, "missing.key")
		r := runCLI(t, dataEnv(dir), "master-key", "rotate", "--master-key-file", missing)
		if r.code != 1 || !strings.Contains(r.stderr, missing) {
			t.Errorf("rotate with a missing key file: %s", r)
		}
		if exists(t, missing) {
			t.Error("rotate created a key file")
		}
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{{"master-key"}, {"master-key", "spin"}, {"master-key", "rotate", "now"}} {
			if r := runCLI(t, dataEnv(t.TempDir()), args...); r.code != 2 {
				t.Errorf("%v: %s", args, r)
			}
		}
		r := runCLI(t, nil, "master-key", "rotate", "-h")
		if r.code != 0 || !strings.Contains(r.stdout, "Stop every usercenter server") || !strings.Contains(r.stdout, "--master-key-file") || !strings.Contains(r.stdout, "--discard-old-key") {
			t.Errorf("master-key rotate -h does not explain the restart: %s", r)
		}
		if r := runCLI(t, nil, "help"); !slices.ContainsFunc(strings.Split(r.stdout, "\n"), func(l string) bool { return strings.Contains(l, "master-key rotate") }) {
			t.Errorf("help does not list master-key rotate:\n%s", r.stdout)
		}
	})
}

func TestMasterKeyRotateDiscardOldKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := mustRun(t, f.env, "master-key", "rotate", "--discard-old-key")
	if kept := oldKeyFiles(t, f.dir); len(kept) != 0 {
		t.Errorf("--discard-old-key kept %v", kept)
	}
	if !strings.Contains(r.stdout, "discarded (--discard-old-key)") || !strings.Contains(r.stdout, "can no longer be read") {
		t.Errorf("rotate --discard-old-key does not say the old key is gone:\n%s", r.stdout)
	}
	r = mustRun(t, f.env, "master-key", "rotate", "--discard-old-key", "--json")
	var out rotateOut
	decodeOne(t, r.stdout, &out)
	if out.OldKeyFile != "" || strings.Contains(r.stdout, "OldKeyFile") || !strings.Contains(r.stderr, "discarded") {
		t.Errorf("rotate --discard-old-key --json: %s", r)
	}
	if kept := oldKeyFiles(t, f.dir); len(kept) != 0 {
		t.Errorf("--discard-old-key --json kept %v", kept)
	}
	f.checkReadable(t, "after rotations that discarded the old key")
}
