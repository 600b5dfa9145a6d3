package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
