// Package vault encrypts secrets and personal data at rest with
// AES-256-GCM under the master key.
//
// A sealed value is: version byte (1) | key ID (8 bytes) | nonce (12 bytes)
// | ciphertext and tag. The key ID names the master key that sealed it, so a
// keyring can hold old keys while values are re-encrypted under a new one.
// Every value is sealed with associated data naming what it is (for example
// "apikey:AKID..."), so a ciphertext copied into another row does not open.
package vault

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

const (
	version   = 1
	keyIDLen  = 8
	nonceLen  = 12
	headerLen = 1 + keyIDLen + nonceLen
	// KeySize is the length of a master key in bytes.
	KeySize = 32
)

// ErrDecrypt means a value could not be opened with any key of the ring:
// the wrong master key, or a damaged or misplaced value.
var ErrDecrypt = errors.New("vault: value cannot be decrypted with the master key")

type key struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// Keyring holds the current master key, which seals, and older keys that
// can still open values sealed before a rotation.
type Keyring struct {
	keys []key // keys[0] is current
}

// New builds a keyring; the first key is the current one.
func New(masterKeys ...[]byte) (*Keyring, error) {
	if len(masterKeys) == 0 {
		return nil, errors.New("vault: no master key")
	}
	k := &Keyring{}
	for _, mk := range masterKeys {
		if len(mk) != KeySize {
			return nil, fmt.Errorf("vault: a master key must be %d bytes, not %d", KeySize, len(mk))
		}
		block, err := aes.NewCipher(mk)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.keys = append(k.keys, key{id: keyID(mk), aead: aead})
	}
	return k, nil
}

// keyID names a key without revealing it.
func keyID(mk []byte) [keyIDLen]byte {
	m := hmac.New(sha256.New, mk)
	m.Write([]byte("usercenter master key id"))
	var id [keyIDLen]byte
	copy(id[:], m.Sum(nil))
	return id
}

// CurrentKeyID is the ID of the key that seals new values.
func (k *Keyring) CurrentKeyID() [keyIDLen]byte { return k.keys[0].id }

// Seal encrypts plaintext under the current key, bound to aad.
func (k *Keyring) Seal(plaintext []byte, aad string) []byte {
	cur := k.keys[0]
	out := make([]byte, headerLen, headerLen+len(plaintext)+cur.aead.Overhead())
	out[0] = version
	copy(out[1:], cur.id[:])
	if _, err := rand.Read(out[1+keyIDLen : headerLen]); err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	return cur.aead.Seal(out, out[1+keyIDLen:headerLen], plaintext, []byte(aad))
}

// Open decrypts a value sealed by any key of the ring with the same aad.
func (k *Keyring) Open(sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < headerLen || sealed[0] != version {
		return nil, ErrDecrypt
	}
	for _, kk := range k.keys {
		if !bytes.Equal(kk.id[:], sealed[1:1+keyIDLen]) {
			continue
		}
		pt, err := kk.aead.Open(nil, sealed[1+keyIDLen:headerLen], sealed[headerLen:], []byte(aad))
		if err != nil {
			return nil, ErrDecrypt
		}
		return pt, nil
	}
	return nil, ErrDecrypt
}

// OpenString is Open for a value wanted as a string, whose associated data
// is the concatenation of aadParts: the associated data and the plaintext
// go through a reused buffer, so that the string is the only allocation
// (a read that masks a user's phone and email opens both on every
// request).
func (k *Keyring) OpenString(sealed []byte, aadParts ...string) (string, error) {
	if len(sealed) < headerLen || sealed[0] != version {
		return "", ErrDecrypt
	}
	for _, kk := range k.keys {
		if !bytes.Equal(kk.id[:], sealed[1:1+keyIDLen]) {
			continue
		}
		bp := scratch.Get().(*[]byte)
		b := (*bp)[:0]
		for _, p := range aadParts {
			b = append(b, p...)
		}
		n := len(b)
		// The plaintext follows the associated data, not over it.
		pt, err := kk.aead.Open(b[n:n], sealed[1+keyIDLen:headerLen], sealed[headerLen:], b[:n])
		var s string
		if err == nil {
			s = string(pt)
		}
		clear(pt) // no plain value stays behind in the pool
		if cap(b) <= maxScratch {
			*bp = b[:0]
			scratch.Put(bp)
		}
		if err != nil {
			return "", ErrDecrypt
		}
		return s, nil
	}
	return "", ErrDecrypt
}

// scratch holds OpenString's buffers; one that grew past maxScratch is
// left to the collector.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

const maxScratch = 4096

// SealedByCurrent reports whether a value is already sealed by the current key.
func (k *Keyring) SealedByCurrent(sealed []byte) bool {
	return len(sealed) >= headerLen && bytes.Equal(sealed[1:1+keyIDLen], k.keys[0].id[:])
}

// LoadFile reads a keyring from a file: one base64 key per line, the
// current key first; blank lines and lines starting with # are ignored. If
// the file does not exist and create is true, a new key is generated and
// written with mode 0600, and created is true.
func LoadFile(path string, create bool) (ring *Keyring, created bool, err error) {
	keys, err := ReadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		switch err := writeNewKeyFile(path); {
		case err == nil:
			created = true
		case errors.Is(err, fs.ErrExist):
			// Another process created it meanwhile: use theirs.
		default:
			return nil, false, err
		}
		keys, err = ReadKeyFile(path)
	}
	if err != nil {
		return nil, false, err
	}
	ring, err = New(keys...)
	if err != nil {
		return nil, false, fmt.Errorf("vault: %s: %w", path, err)
	}
	return ring, created, nil
}

// ReadKeyFile reads the master keys of a key file, the current key first.
// It refuses a file that others than its owner may read or write, a line
// that is not a base64 key, and a file without any key. A missing file is
// an error that matches fs.ErrNotExist.
func ReadKeyFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vault: reading master key: %w", err)
	}
	if err := checkKeyFile(path); err != nil {
		return nil, err
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		mk, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(mk) != KeySize {
			return nil, fmt.Errorf("vault: %s line %d is not a base64 %d-byte key", path, line, KeySize)
		}
		keys = append(keys, mk)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vault: reading %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("vault: %s holds no master key", path)
	}
	return keys, nil
}

// checkKeyFile refuses a key file that anyone but this process's user may
// read or write, or that another user owns (and so may rewrite, or open
// to others, at any time). Each message gives the command that fixes it.
func checkKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("vault: reading master key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("vault: master key file %s is readable by others (mode %v); fix it with: chmod 600 %s", path, perm, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("vault: master key file %s is owned by another user (uid %d), not by the user usercenter runs as (uid %d), who alone may hold it; fix it with: chown %d %s", path, st.Uid, os.Geteuid(), os.Geteuid(), path)
	}
	return nil
}

// NewKey returns a fresh random master key.
func NewKey() []byte {
	mk := make([]byte, KeySize)
	if _, err := rand.Read(mk); err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	return mk
}

const keyFileHeader = "# usercenter master key: keep this file secret and backed up; without it no secret or personal data in the database can be read.\n"

// keyFileContent renders keys in the key file format.
func keyFileContent(keys [][]byte) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("vault: no master key to write")
	}
	var b bytes.Buffer
	b.WriteString(keyFileHeader)
	if len(keys) > 1 {
		b.WriteString("# The first key is the current one; the others are older keys, kept to open values not yet re-encrypted (usercenter master-key rotate).\n")
	}
	for _, mk := range keys {
		if len(mk) != KeySize {
			return nil, fmt.Errorf("vault: a master key must be %d bytes, not %d", KeySize, len(mk))
		}
		b.WriteString(base64.StdEncoding.EncodeToString(mk))
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// WriteKeyFile replaces the key file at path with keys, the current key
// first, atomically: it writes a temporary file of mode 0600 in the same
// directory, syncs it, renames it over path and syncs the directory. After
// a crash the file holds either its old content or the new one, never a
// mix. If path is a symbolic link, the file it points to is replaced.
func WriteKeyFile(path string, keys [][]byte) error {
	content, err := keyFileContent(keys)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	tmp, err := writeTemp(path, content)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("vault: replacing master key file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes content to a new private file next to path, synced to
// disk, and returns its name.
func writeTemp(path string, content []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("vault: writing master key: %w", err)
	}
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("vault: writing master key: %w", err)
	}
	// CreateTemp makes the file 0600 already; say so rather than rely on it.
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(content); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("vault: writing master key: %w", err)
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("vault: syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("vault: syncing %s: %w", dir, err)
	}
	return nil
}

// writeNewKeyFile creates the key file with a fresh key. The file appears
// complete or not at all, and an existing file is never replaced: the
// error then matches fs.ErrExist.
func writeNewKeyFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	content, err := keyFileContent([][]byte{NewKey()})
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, content)
	if err != nil {
		return fmt.Errorf("vault: creating master key: %w", err)
	}
	defer os.Remove(tmp)
	// A hard link, unlike a rename, fails if path exists.
	err = os.Link(tmp, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// Some file systems have no hard links: create the file exclusively.
		err = createExclusive(path, content)
	}
	if err != nil {
		return fmt.Errorf("vault: creating master key: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func createExclusive(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
