package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"usercenter/core"
)

// listDir names the entries of dir, to show that an open created nothing.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenReadOnlyCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenReadOnly(ctx, filepath.Join(dir, "missing", "usercenter.db"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenReadOnly of a missing file: %v, want fs.ErrNotExist", err)
	}
	_, err = OpenReadOnly(ctx, filepath.Join(dir, "usercenter.db"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenReadOnly of a missing file: %v, want fs.ErrNotExist", err)
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Fatalf("OpenReadOnly of missing files left %v in the directory", names)
	}

	// An empty file is an empty SQLite database: no schema, and none added.
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(ctx, empty); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("OpenReadOnly of an empty file: %v, want ErrNotMigrated", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Fatalf("OpenReadOnly changed the empty file: %v, %v", fi, err)
	}
}

func TestOpenReadOnlyReadsAndRefusesWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usercenter.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	addApps(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := ro.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].SdkAppID != 1 {
		t.Fatalf("Apps = %v, %v; want the one app", apps, err)
	}
	if v, err := ro.SchemaVersion(ctx); err != nil || v == 0 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	err = ro.Update(ctx, func(tx core.Tx) error { return tx.InsertApp(ctx, newApp(2)) })
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Update on a read-only store: %v, want ErrReadOnly", err)
	}
	// Not even a statement on the read pool may write.
	if _, err := ro.rdb.ExecContext(ctx, `DELETE FROM apps`); err == nil {
		t.Fatal("a DELETE on the read-only pool succeeded")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ro.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(content, after) {
		t.Fatal("the database file changed under a read-only open")
	}
	// SQLite made the WAL and its index to read: they go again.
	if names := listDir(t, dir); !slices.Equal(before, names) {
		t.Fatalf("files before a read-only open: %v, after: %v", before, names)
	}
}

// TestOpenReadOnlyLeavesAWriterItsFiles: the WAL files are removed only
// when no other connection uses them, whether it wrote or not.
func TestOpenReadOnlyLeavesAWriterItsFiles(t *testing.T) {
	for _, commits := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "usercenter.db")
		w, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		ro, err := OpenReadOnly(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		// A writer comes along while the read-only store is open.
		w, err = Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if commits {
			addApps(t, w, 1)
		}
		ro.Close()
		for _, f := range []string{"usercenter.db-wal", "usercenter.db-shm"} {
			if !exists(filepath.Join(dir, f)) {
				t.Fatalf("commits %v: closing the read-only store removed %s from under a writer", commits, f)
			}
		}
		addApps(t, w, 2)
		if apps, err := w.Apps(ctx); err != nil || len(apps) != 1+btoi(commits) {
			t.Fatalf("commits %v: the writer's apps after the read-only store closed: %v, %v", commits, apps, err)
		}
		w.Close()
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestOpenReadOnlyRefusesAnOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usercenter.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	raw(t, s, `DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(ctx, path); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("OpenReadOnly of an older schema: %v, want ErrNotMigrated", err)
	}
}
