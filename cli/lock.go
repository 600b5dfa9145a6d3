package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Servers and the master-key rotation share a lock file beside the
// database: every server holds it shared for as long as it runs, and the
// rotation needs it exclusively. A server started before a rotation would
// hold only the old key and fail on everything re-encrypted, so the
// rotation refuses to start while one runs, and no server starts during
// one. The kernel releases the lock when a process dies, even by kill -9.

// lockPath is the lock file of a database.
func lockPath(dbPath string) string { return dbPath + ".lock" }

// lockFile takes a SQLite database's lock without waiting: shared for a
// server, exclusive for a rotation. The returned function releases it.
func lockFile(dbPath string, exclusive bool) (func(), error) {
	f, err := os.OpenFile(lockPath(dbPath), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("locking %s: %w", lockPath(dbPath), err)
	}
	return func() { f.Close() }, nil
}
