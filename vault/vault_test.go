package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustRing(t *testing.T, keys ...[]byte) *Keyring {
	t.Helper()
	r, err := New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := mustRing(t, NewKey())
	for _, pt := range []string{"", "x", "+8613612346688", strings.Repeat("long value ", 500)} {
		sealed := r.Seal([]byte(pt), "user:u1:phone")
		// Random ciphertext holds any short string by chance (one byte in
		// about 40 does), so only values long enough to mean something
		// are searched for.
		if len(pt) >= 8 && bytes.Contains(sealed, []byte(pt)) {
			t.Errorf("the sealed value holds the plaintext %q", pt)
		}
		got, err := r.Open(sealed, "user:u1:phone")
		if err != nil {
			t.Fatalf("Open(Seal(%q)): %v", pt, err)
		}
		if string(got) != pt {
			t.Errorf("Open(Seal(%q)) = %q", pt, got)
		}
	}
	// Two seals of one value differ (fresh nonces), and both open.
	a, b := r.Seal([]byte("same"), "aad"), r.Seal([]byte("same"), "aad")
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are identical: the nonce is not fresh")
	}
}

func TestOpenWithWrongKey(t *testing.T) {
	sealed := mustRing(t, NewKey()).Seal([]byte("secret"), "aad")
	if _, err := mustRing(t, NewKey()).Open(sealed, "aad"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open with another key: err = %v, want ErrDecrypt", err)
	}
}

func TestOpenWithOtherAAD(t *testing.T) {
	r := mustRing(t, NewKey())
	sealed := r.Seal([]byte("+8613612346688"), "user:u1:phone")
	for _, aad := range []string{"user:u2:phone", "user:u1:email", "", "user:u1:phone "} {
		if _, err := r.Open(sealed, aad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open with aad %q: err = %v, want ErrDecrypt", aad, err)
		}
	}
}

func TestOpenTampered(t *testing.T) {
	r := mustRing(t, NewKey())
	sealed := r.Seal([]byte("secret value"), "aad")
	// Every byte matters: version, key ID, nonce, ciphertext and tag.
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if pt, err := r.Open(bad, "aad"); !errors.Is(err, ErrDecrypt) {
			t.Errorf("flipping byte %d of %d: Open = %q, %v; want ErrDecrypt", i, len(sealed), pt, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, sealed[:headerLen-1], sealed[:headerLen], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		if _, err := r.Open(bad, "aad"); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open of a %d-byte truncated or extended value: err = %v, want ErrDecrypt", len(bad), err)
		}
	}
}

func TestKeyringRotation(t *testing.T) {
	oldKey, newKey := NewKey(), NewKey()
	oldRing := mustRing(t, oldKey)
	oldValue := oldRing.Seal([]byte("sealed before"), "aad")

	ring := mustRing(t, newKey, oldKey)
	if got, err := ring.Open(oldValue, "aad"); err != nil || string(got) != "sealed before" {
		t.Fatalf("the ring does not open a value sealed by its old key: %q, %v", got, err)
	}
	newValue := ring.Seal([]byte("sealed after"), "aad")
	if got, err := mustRing(t, newKey).Open(newValue, "aad"); err != nil || string(got) != "sealed after" {
		t.Errorf("a value sealed by the ring does not open with its first key alone: %q, %v", got, err)
	}
	if _, err := oldRing.Open(newValue, "aad"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("a value sealed by the ring opens with the old key: the ring does not seal with its first key")
	}
	if _, err := mustRing(t, newKey).Open(oldValue, "aad"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("an old value opens with the new key alone: err = %v", err)
	}

	if !ring.SealedByCurrent(newValue) {
		t.Error("SealedByCurrent is false for a value the ring just sealed")
	}
	if ring.SealedByCurrent(oldValue) {
		t.Error("SealedByCurrent is true for a value sealed by the old key")
	}
	if !oldRing.SealedByCurrent(oldValue) {
		t.Error("SealedByCurrent of the old ring is false for its own value")
	}
	for _, v := range [][]byte{nil, newValue[:headerLen-1]} {
		if ring.SealedByCurrent(v) {
			t.Errorf("SealedByCurrent is true for a %d-byte value", len(v))
		}
	}
	if ring.CurrentKeyID() == oldRing.CurrentKeyID() {
		t.Error("two keys have the same key ID")
	}
	if mustRing(t, newKey).CurrentKeyID() != ring.CurrentKeyID() {
		t.Error("the key ID of a key depends on the ring it is in")
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	if _, err := New(); err == nil {
		t.Error("New() with no key succeeded")
	}
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := New(NewKey(), make([]byte, n)); err == nil {
			t.Errorf("New with a %d-byte key succeeded", n)
		}
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func writeFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func TestLoadFileCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	ring, created, err := LoadFile(path, true)
	if err != nil || !created {
		t.Fatalf("LoadFile(create) = %v, %v; want a new key", created, err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("created key file mode %v, want 0600", m)
	}
	if m := mode(t, filepath.Dir(path)); m&0o077 != 0 {
		t.Errorf("created key directory mode %v, want private", m)
	}
	sealed := ring.Seal([]byte("v"), "aad")
	ring2, created, err := LoadFile(path, true)
	if err != nil || created {
		t.Fatalf("second LoadFile = %v, %v; want the existing key", created, err)
	}
	if got, err := ring2.Open(sealed, "aad"); err != nil || string(got) != "v" {
		t.Errorf("the key loaded again does not open what the created one sealed: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the key directory holds %d files, want only the key file (no temporary files left)", len(entries))
	}

	if _, _, err := LoadFile(filepath.Join(t.TempDir(), "none"), false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile of a missing file without create: err = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadFileRefusesOpenMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	writeFile(t, path, b64(NewKey())+"\n", 0o644)
	_, _, err := LoadFile(path, true)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadFile of a 0644 key file: err = %v; want a refusal naming the file and the fix", err)
	}
	if _, err := ReadKeyFile(path); err == nil {
		t.Error("ReadKeyFile accepted a 0644 key file")
	}
	os.Chmod(path, 0o600)
	if _, _, err := LoadFile(path, false); err != nil {
		t.Errorf("after chmod 600: %v", err)
	}
}

// A key file that another user owns is refused, with the chown that fixes
// it. Run as root, the test can give the file away; otherwise it skips.
func TestLoadFileRefusesOtherOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	writeFile(t, path, b64(NewKey())+"\n", 0o600)
	other := os.Geteuid() + 1000
	if err := os.Chown(path, other, -1); err != nil {
		t.Skipf("cannot give the key file to another user (run as root to test): %v", err)
	}
	_, err := ReadKeyFile(path)
	want := fmt.Sprintf("chown %d %s", os.Geteuid(), path)
	if err == nil || !strings.Contains(err.Error(), "owned by another user") || !strings.Contains(err.Error(), want) {
		t.Errorf("ReadKeyFile of a key file owned by uid %d: %v; want a refusal with %q", other, err, want)
	}
	if err := os.Chown(path, os.Geteuid(), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); err != nil {
		t.Errorf("after chown back: %v", err)
	}
}

func TestLoadFileFormat(t *testing.T) {
	k1, k2 := NewKey(), NewKey()
	dir := t.TempDir()
	t.Run("comments and blank lines", func(t *testing.T) {
		path := filepath.Join(dir, "ok.key")
		writeFile(t, path, "# a comment\n\n  "+b64(k1)+"  \n# another\n"+b64(k2)+"\n", 0o600)
		keys, err := ReadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) {
			t.Errorf("ReadKeyFile = %d keys, want k1 then k2", len(keys))
		}
		ring, _, err := LoadFile(path, false)
		if err != nil {
			t.Fatal(err)
		}
		if !ring.SealedByCurrent(mustRing(t, k1).Seal([]byte("v"), "")) {
			t.Error("the first key of the file is not the current key")
		}
	})
	for name, content := range map[string]string{
		"garbage":       "# key\n" + b64(k1) + "\nnot a key\n",
		"short key":     b64(k1) + "\n" + b64(k1[:16]) + "\n",
		"url base64":    b64(k1) + "\n" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)) + "\n",
		"trailing junk": b64(k1) + " x\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			writeFile(t, path, content, 0o600)
			_, _, err := LoadFile(path, true)
			if err == nil || !strings.Contains(err.Error(), "line") {
				t.Errorf("LoadFile: err = %v, want an error naming the line", err)
			}
			if strings.Contains(fmtQuote(err), b64(k1)) {
				t.Errorf("the error shows a key: %v", err)
			}
		})
	}
	for name, content := range map[string]string{"empty": "", "only comments": "# nothing\n\n"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			writeFile(t, path, content, 0o600)
			if _, _, err := LoadFile(path, true); err == nil {
				t.Error("LoadFile of a file without a key succeeded")
			}
		})
	}
}

func fmtQuote(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestWriteKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	k1, k2, k3 := NewKey(), NewKey(), NewKey()
	// Replacing a file of another mode leaves a private one.
	writeFile(t, path, "# old\n"+b64(k1)+"\n", 0o644)
	if err := WriteKeyFile(path, [][]byte{k2, k1}); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("written key file mode %v, want 0600", m)
	}
	keys, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !bytes.Equal(keys[0], k2) || !bytes.Equal(keys[1], k1) {
		t.Fatalf("read back %d keys, want k2 then k1", len(keys))
	}
	if err := WriteKeyFile(path, [][]byte{k3}); err != nil {
		t.Fatal(err)
	}
	if keys, err := ReadKeyFile(path); err != nil || len(keys) != 1 || !bytes.Equal(keys[0], k3) {
		t.Fatalf("after rewriting with k3: %d keys, %v", len(keys), err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "#") {
		t.Errorf("the written file has no explaining comment:\n%s", raw)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %v; want only master.key (no temporary files left)", names)
	}

	// Bad input leaves the file alone.
	for _, keys := range [][][]byte{nil, {k1, k1[:31]}} {
		if err := WriteKeyFile(path, keys); err == nil {
			t.Errorf("WriteKeyFile with %d keys (one bad or none) succeeded", len(keys))
		}
	}
	if keys, err := ReadKeyFile(path); err != nil || len(keys) != 1 || !bytes.Equal(keys[0], k3) {
		t.Errorf("a refused write changed the file: %d keys, %v", len(keys), err)
	}
}

func TestWriteKeyFileThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.key")
	link := filepath.Join(dir, "link.key")
	writeFile(t, real, b64(NewKey())+"\n", 0o600)
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	k := NewKey()
	if err := WriteKeyFile(link, [][]byte{k}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced by a file")
	}
	if keys, err := ReadKeyFile(real); err != nil || len(keys) != 1 || !bytes.Equal(keys[0], k) {
		t.Errorf("the link's target does not hold the new key: %v", err)
	}
}

// OpenString opens what Open opens, with the associated data given in
// parts, refuses what Open refuses, and leaves no plaintext in the buffer
// it reuses.
func TestOpenString(t *testing.T) {
	ring, err := New(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 11, 200, 300, 5000} {
		plain := strings.Repeat("p", n)
		sealed := ring.Seal([]byte(plain), "user:u1:phone")
		got, err := ring.OpenString(sealed, "user:", "u1", ":", "phone")
		if err != nil || got != plain {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
		for _, aad := range [][]string{{"user:", "u2", ":", "phone"}, {"user:u1:email"}, nil} {
			if _, err := ring.OpenString(sealed, aad...); err != ErrDecrypt {
				t.Fatalf("opened under the wrong data %q: %v", aad, err)
			}
		}
		if _, err := ring.OpenString(sealed[:len(sealed)-1], "user:u1:phone"); err != ErrDecrypt {
			t.Fatalf("opened a cut value: %v", err)
		}
	}
	if _, err := ring.OpenString(nil, "x"); err != ErrDecrypt {
		t.Fatalf("opened nothing: %v", err)
	}
}
