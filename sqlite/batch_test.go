package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"usercenter/core"
	"usercenter/core/storetest"
)

// TestContractNodes runs the contract's two-node tests on two stores
// opened on one database file, as two processes would open it.
func TestContractNodes(t *testing.T) {
	storetest.RunNodes(t, func(t *testing.T) (core.Store, core.Store) {
		path := filepath.Join(t.TempDir(), "usercenter.db")
		return openPath(t, path), openPath(t, path)
	})
}

func openPath(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// crashPathVar hands TestCrashChild the database of TestKill9.
const crashPathVar = "USERCENTER_TEST_CRASH_PATH"

// TestCrashChild is the process that TestKill9 kills.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashPathVar)
	if os.Getenv(storetest.CrashEnv) == "" || path == "" {
		t.Skip("the process that TestKill9 starts and kills")
	}
	storetest.CrashChild(func() core.Store {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestKill9 kills a process with batches of registrations in flight: every
// registration it acknowledged is stored.
func TestKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usercenter.db")
	storetest.Kill9(t, "TestCrashChild", []string{crashPathVar + "=" + path}, func() core.Store {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 500)
}
