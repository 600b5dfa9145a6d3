package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// A SQLite database has a lock file beside it, which a server holds for
// as long as it runs and a master-key rotation for as long as it works,
// each exclusively: SQLite serves one server process (several nodes need
// PostgreSQL), and a server started before a rotation would hold only the
// old key and fail on everything re-encrypted. The holder writes what it
// is into the file, so that whoever finds it locked can say who holds it.
// The kernel releases the lock when a process dies, even by kill -9.

// lockPath is the lock file of a database.
func lockPath(dbPath string) string { return dbPath + ".lock" }

// Holders of the lock file, as they write themselves into it.
const (
	holderServer   = "usercenter serve"
	holderRotation = "usercenter master-key rotate"
)

// lockedError is errLocked, with the holder the lock file names ("" when
// it names none).
type lockedError struct{ holder string }

func (e *lockedError) Error() string {
	if e.holder == "" {
		return errLocked.Error()
	}
	return "locked by " + e.holder
}

func (e *lockedError) Is(target error) bool { return target == errLocked }

// lockHolder is the holder named in err, a lockedError, or "".
func lockHolder(err error) string {
	var le *lockedError
	if errors.As(err, &le) {
		return le.holder
	}
	return ""
}

// lockFile takes a SQLite database's lock without waiting, and writes
// holder and this process's ID into the file unless holder is "". The
// returned function releases it. A held lock fails with an error that is
// errLocked and names its holder (see lockHolder).
func lockFile(dbPath string, holder string) (func(), error) {
	f, err := os.OpenFile(lockPath(dbPath), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			note := make([]byte, 200)
			n, _ := f.ReadAt(note, 0)
			return nil, &lockedError{holder: strings.TrimSpace(string(note[:n]))}
		}
		return nil, fmt.Errorf("locking %s: %w", lockPath(dbPath), err)
	}
	if holder != "" {
		// Only a note for the message of whoever finds the lock taken: a
		// failure to write it does not matter.
		if f.Truncate(0) == nil {
			_, _ = f.WriteAt([]byte(fmt.Sprintf("%s (pid %d)\n", holder, os.Getpid())), 0)
		}
	}
	return func() { f.Close() }, nil
}
