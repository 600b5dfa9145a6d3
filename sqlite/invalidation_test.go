package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"

	"usercenter/core"
)

// TestInvalidationLogPruned: the log keeps its newest logKeep messages
// at least, and never more than logKeep+logPruneEvery, however many are
// appended; Read returns them in order from the seq asked for.
func TestInvalidationLogPruned(t *testing.T) {
	s, err := Open(ctx, filepath.Join(t.TempDir(), "usercenter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bus := s.InvalidationBus()
	if n, err := bus.Newest(ctx); err != nil || n != 0 {
		t.Fatalf("Newest of an empty log = %d, %v", n, err)
	}
	const appended = 3*logKeep + 10
	err = s.Update(ctx, func(tx core.Tx) error {
		for i := range appended {
			if _, err := tx.(*txn).PublishOnCommit(ctx, []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := count(t, s, "cache_invalidations", "1")
	if rows < logKeep || rows > logKeep+logPruneEvery {
		t.Fatalf("%d messages appended, %d kept; want %d to %d", appended, rows, logKeep, logKeep+logPruneEvery)
	}
	newest, err := bus.Newest(ctx)
	if err != nil || newest != appended {
		t.Fatalf("Newest = %d, %v; want %d", newest, err, appended)
	}
	es, err := bus.Read(ctx, newest-2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Seq != newest-2 || string(es[2].Msg) != fmt.Sprint(appended-1) {
		t.Fatalf("Read from %d: %+v", newest-2, es)
	}
	if es, err := bus.Read(ctx, 1, 10); err != nil || len(es) != 10 || es[0].Seq == 1 {
		t.Fatalf("Read from 1 after pruning: %d entries from %v, %v", len(es), es, err)
	}
}
