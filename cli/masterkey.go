package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"usercenter/core"
	"usercenter/vault"
)

const rotateHelp = `Replaces the master key with a new random one and re-encrypts every
secret and every piece of personal data in the database under it:

  1. reads the key file (its current key and any older ones) and keeps a
     copy of it beside it, as FILE.old-<UTC time> (mode 0600), unless
     --discard-old-key is given,
  2. writes the key file again with a new key first, followed by the old
     ones, so that whatever happens next the file opens everything,
  3. re-encrypts every stored value under the new key,
  4. writes the key file with only the new key,
  5. prints what was re-encrypted.

Each write of the key file is atomic. If the command is interrupted, the
key file still opens everything: run it again.

Stop every usercenter server that uses this database before rotating, and
start them again afterwards. A server started before the rotation holds
only the old key: it cannot read what was re-encrypted, and anything it
writes is encrypted under the old key, which the rotation removes.

Database backups made before the rotation still need the old key: that
is what the copy is for. Store it with those backups, away from the
database, and delete it once they are gone.
`

// rotateJSON is the output of master-key rotate --json.
type rotateJSON struct {
	Database       string         `json:"Database"`
	KeyFile        string         `json:"KeyFile"`
	KeyId          string         `json:"KeyId"` // names the new key without revealing it
	Resealed       int            `json:"Resealed"`
	AlreadyCurrent int            `json:"AlreadyCurrent"`
	OldKeysRemoved int            `json:"OldKeysRemoved"`
	OldKeyFile     string         `json:"OldKeyFile,omitempty"` // the copy of the old key file; "" with --discard-old-key
	Values         map[string]int `json:"Values"`               // per kind, all under the new key now
}

// sealedKindNames says in words what each kind of sealed value is.
var sealedKindNames = map[core.SealedKind]string{
	core.SealedAppSecret:   "app SuperApp secrets",
	core.SealedKeySecret:   "API key secrets",
	core.SealedMeta:        "instance values (key check, lookup index key, email index version)",
	core.SealedUserPhone:   "user phone numbers",
	core.SealedUserEmail:   "user email addresses",
	core.SealedUserAddress: "user addresses",
}

const restartNotice = "Restart every usercenter server that uses this database now, and stop them before the next rotation:\n" +
	"a server started before the rotation holds only the old key, so it cannot read what was re-encrypted\n" +
	"and encrypts what it writes under the old key, which the key file no longer holds.\n" +
	"Back up the new key file. "

// oldKeyNotice ends restartNotice: where the old key is, which database
// backups made before the rotation need.
func oldKeyNotice(oldKeyFile string) string {
	if oldKeyFile == "" {
		return "The old key was discarded (--discard-old-key): database backups made before the rotation can no longer be read.\n"
	}
	return "Database backups made before the rotation still need the old key: it is kept in " + oldKeyFile + ".\n"
}

func masterKeyRotate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	flags, sf := newStoreFlagSet("master-key rotate", stdout, stderr)
	discard := flags.Bool("discard-old-key", false, "do not keep a copy of the old key file (database backups made before the rotation then cannot be read)")
	asJSON := flags.Bool("json", false, "print one JSON object")
	pos, err := parse(flags, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("master-key rotate takes no arguments (got %q)", pos[0])}
	}
	target, err := sf.target()
	if err != nil {
		return err
	}
	keyPath := sf.keyPath()

	// Nothing changes until the key file is known to open the database.
	if err := databaseExists(target); err != nil {
		return err
	}
	oldKeys, err := vault.ReadKeyFile(keyPath)
	if err != nil {
		return err
	}
	oldRing, err := vault.New(oldKeys...)
	if err != nil {
		return fmt.Errorf("%s: %w", keyPath, err)
	}
	store, err := sf.openDB(ctx, target)
	if err != nil {
		return err
	}
	defer store.Close()
	unlock, err := lockDatabase(ctx, target, store, true, nil)
	if errors.Is(err, errLocked) {
		return fmt.Errorf("a usercenter server is running on %s: stop every server that uses this database, then rotate", target)
	}
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := core.NewService(ctx, store, oldRing); err != nil {
		if errors.Is(err, core.ErrWrongMasterKey) {
			return fmt.Errorf("%w; the key file is %s; nothing was changed", err, keyPath)
		}
		return err
	}

	oldKeyFile := ""
	if !*discard {
		if oldKeyFile, err = keepOldKeyFile(keyPath, time.Now()); err != nil {
			return fmt.Errorf("keeping a copy of the old key file: %w; nothing was changed", err)
		}
	}

	// From here on the key file always opens every stored value: first it
	// holds the new key and every old one, and only once nothing needs an
	// old key any more does it hold the new key alone.
	newKey := vault.NewKey()
	allKeys := append([][]byte{newKey}, oldKeys...)
	if err := vault.WriteKeyFile(keyPath, allKeys); err != nil {
		return fmt.Errorf("%w\nThe database was not changed, and the key file %s still opens it", err, keyPath)
	}
	ring, err := vault.New(allKeys...)
	if err != nil {
		return err
	}
	interrupted := func(err error) error {
		return fmt.Errorf("%w\nThe key file %s holds the new key and the old ones, so everything still opens; fix the cause and run usercenter master-key rotate again", err, keyPath)
	}
	if _, err := core.NewService(ctx, store, ring); err != nil {
		return interrupted(err)
	}
	rep, err := core.Reseal(ctx, store, ring, operator())
	if err != nil {
		return interrupted(fmt.Errorf("re-encrypting under the new key: %w", err))
	}
	newRing, err := vault.New(newKey)
	if err != nil {
		return interrupted(err)
	}
	// The database must open with the new key alone before the old ones go.
	if _, err := core.NewService(ctx, store, newRing); err != nil {
		return interrupted(fmt.Errorf("the database does not open with the new key alone: %w", err))
	}
	check, err := core.CheckSealed(ctx, store, newRing)
	if err != nil {
		return interrupted(err)
	}
	counts := check.ByKind
	if err := vault.WriteKeyFile(keyPath, [][]byte{newKey}); err != nil {
		return interrupted(fmt.Errorf("every value is re-encrypted under the new key, but removing the old keys from the key file failed: %w", err))
	}
	unlock()
	if err := store.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}

	id := newRing.CurrentKeyID()
	out := rotateJSON{
		Database: target.String(), KeyFile: keyPath, KeyId: hex.EncodeToString(id[:]),
		Resealed: rep.Resealed, AlreadyCurrent: rep.Current, OldKeysRemoved: len(oldKeys), OldKeyFile: oldKeyFile,
		Values: map[string]int{},
	}
	for _, kind := range core.SealedKinds {
		out.Values[string(kind)] = counts[kind]
	}
	if *asJSON {
		fmt.Fprint(stderr, restartNotice+oldKeyNotice(oldKeyFile))
		return writeJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "Rotated the master key of %s.\n\n", target)
	tw := newTable(stdout)
	fmt.Fprintf(tw, "  New key ID\t%s\n", out.KeyId)
	fmt.Fprintf(tw, "  Key file\t%s (now holds only the new key; %d old %s removed)\n", keyPath, len(oldKeys), plural(len(oldKeys), "key", "keys"))
	if oldKeyFile != "" {
		fmt.Fprintf(tw, "  Old key file\t%s (mode 0600)\n", oldKeyFile)
	} else {
		fmt.Fprintf(tw, "  Old key file\tnone: discarded (--discard-old-key)\n")
	}
	fmt.Fprintf(tw, "  Re-encrypted\t%d %s\n", rep.Resealed, plural(rep.Resealed, "value", "values"))
	if rep.Current > 0 {
		fmt.Fprintf(tw, "  Already under the new key\t%d %s\n", rep.Current, plural(rep.Current, "value", "values"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nEncrypted values, all under the new key now:")
	tw = newTable(stdout)
	for _, kind := range core.SealedKinds {
		name := sealedKindNames[kind]
		if name == "" {
			name = string(kind)
		}
		fmt.Fprintf(tw, "  %s\t%d\n", name, counts[kind])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(stdout, "\n"+restartNotice+oldKeyNotice(oldKeyFile))
	return nil
}

// keepOldKeyFile copies the key file at keyPath, byte for byte, to a new
// file beside it named after the time, KEYFILE.old-20240501T120000Z, with
// mode 0600, and returns its name. It never overwrites a file: a second
// rotation within the same second gets a suffix.
func keepOldKeyFile(keyPath string, now time.Time) (string, error) {
	content, err := os.ReadFile(keyPath)
	if err != nil {
		return "", err
	}
	base := keyPath + ".old-" + now.UTC().Format("20060102T150405Z")
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(content)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
