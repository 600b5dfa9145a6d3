package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/tmpfs"
)

// A write that finds the disk full fails as unavailable, marked
// core.ErrStorage, and leaves the store working: once space is freed,
// writes succeed again without reopening it.
func TestDiskFull(t *testing.T) {
	dir := tmpfs.Mount(t, "2m")
	s, err := Open(ctx, filepath.Join(dir, "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	filler := filepath.Join(dir, "filler")
	tmpfs.Fill(t, filler)

	// The WAL may still have room for a few commits: write until one fails.
	value := make([]byte, 16<<10)
	var failure error
	for i := 0; i < 1000 && failure == nil; i++ {
		failure = s.Update(ctx, func(tx core.Tx) error {
			return tx.SetMeta(ctx, fmt.Sprintf("m%d", i), value)
		})
	}
	if failure == nil {
		t.Fatal("1,000 writes of 16 KiB fitted on a full 2 MiB disk")
	}
	if usercenter.ErrorCode(failure) != usercenter.EUnavailable || !errors.Is(failure, core.ErrStorage) {
		t.Fatalf("a write on a full disk: %v; want unavailable, marked ErrStorage", failure)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a full disk: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "after", value) }); err != nil {
		t.Fatalf("a write after space was freed: %v", err)
	}
	if v, err := s.Meta(ctx, "after"); err != nil || len(v) != len(value) {
		t.Fatalf("reading the write made after space was freed: %d bytes, %v", len(v), err)
	}
}

// A store closed cleanly opens again on a full disk and reads, while its
// writes fail as unavailable: SQLite needs the WAL index (-shm) to read,
// and could not create it there.
func TestOpenOnFullDisk(t *testing.T) {
	dir := tmpfs.Mount(t, "2m")
	path := filepath.Join(dir, "usercenter.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "before", []byte("kept")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("the WAL holds %d bytes after a clean close", fi.Size())
	}
	filler := filepath.Join(dir, "filler")
	tmpfs.Fill(t, filler)

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	defer s.Close()
	if v, err := s.Meta(ctx, "before"); err != nil || string(v) != "kept" {
		t.Fatalf("reading on a full disk: %q, %v", v, err)
	}
	value := make([]byte, 64<<10)
	err = s.Update(ctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "full", value) })
	if usercenter.ErrorCode(err) != usercenter.EUnavailable || !errors.Is(err, core.ErrStorage) {
		t.Fatalf("a write on a full disk after Open: %v; want unavailable, marked ErrStorage", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.SetMeta(ctx, "full", value) }); err != nil {
		t.Fatalf("a write after space was freed: %v", err)
	}
}

// Where the WAL index is missing (a database last used by an older
// version) a full disk stops Open, which says why.
func TestOpenOnFullDiskWithoutIndex(t *testing.T) {
	dir := tmpfs.Mount(t, "2m")
	path := filepath.Join(dir, "usercenter.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	tmpfs.Fill(t, filepath.Join(dir, "filler"))
	s, err = Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("Open on a full disk made room for the WAL index")
	}
	if msg := err.Error(); !strings.Contains(msg, "usercenter.db-shm") || !strings.Contains(msg, "disk full") {
		t.Errorf("Open on a full disk without the WAL index: %v; want it to name the index and the full disk", err)
	}
}
