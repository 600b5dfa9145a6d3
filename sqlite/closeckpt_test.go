package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"usercenter/core"
)

// A store closed cleanly leaves every commit in the database file, and an
// empty WAL, even while another connection has the database open (a
// read-only command such as events tail): the database file of a stopped
// server is then a whole backup, as the docs say.
func TestCloseCheckpointsUnderAnotherConnection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usercenter.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// The background checkpointer copies commits into the database file
	// soon after they are made; stop it, so that only Close can.
	if err := s.ckpt.close(); err != nil {
		t.Fatal(err)
	}
	idle, err := sql.Open("sqlite", dsn(filepath.Join(dir, "idle.db"), nil))
	if err != nil {
		t.Fatal(err)
	}
	s.ckpt = newCheckpointer(idle)

	other, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Meta(ctx, "x"); err != nil { // its connection is open
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "acknowledged", []byte("yes")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("the WAL holds %d bytes after a clean close", fi.Size())
	}

	// The database file alone, as a backup copies it.
	backup := filepath.Join(t.TempDir(), "usercenter.db")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(backup, data, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := OpenReadOnly(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v, err := b.Meta(ctx, "acknowledged"); err != nil || string(v) != "yes" {
		t.Fatalf("the database file of the stopped store lacks a commit: %q, %v", v, err)
	}
}
