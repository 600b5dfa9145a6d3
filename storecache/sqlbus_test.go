package storecache_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"

	"usercenter"
	"usercenter/core"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/storecache"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// testLog passes a SQLite store's invalidation log through, except that
// its reads fail while broken is set, and wait while paused.
type testLog struct {
	storecache.Log
	mu     sync.Mutex
	broken error
	paused chan struct{} // closed when not paused
	// waiting hears each read that waits on a pause.
	waiting chan struct{}
}

func newTestLog(l storecache.Log) *testLog {
	tl := &testLog{Log: l, paused: make(chan struct{}), waiting: make(chan struct{}, 1)}
	close(tl.paused)
	return tl
}

func (l *testLog) gate(ctx context.Context) error {
	l.mu.Lock()
	broken, paused := l.broken, l.paused
	l.mu.Unlock()
	select {
	case <-paused:
	default:
		select {
		case l.waiting <- struct{}{}:
		default:
		}
		select {
		case <-paused:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return broken
}

func (l *testLog) Newest(ctx context.Context) (int64, error) {
	if err := l.gate(ctx); err != nil {
		return 0, err
	}
	return l.Log.Newest(ctx)
}

func (l *testLog) Read(ctx context.Context, from int64, limit int) ([]storecache.LogEntry, error) {
	if err := l.gate(ctx); err != nil {
		return nil, err
	}
	return l.Log.Read(ctx, from, limit)
}

func (l *testLog) breakWith(err error) {
	l.mu.Lock()
	l.broken = err
	l.mu.Unlock()
}

// pause holds the poller's reads, and returns once one waits: none is
// under way then.
func (l *testLog) pause(t *testing.T) {
	l.mu.Lock()
	l.paused = make(chan struct{})
	l.mu.Unlock()
	<-l.waiting
}

func (l *testLog) resume() {
	l.mu.Lock()
	close(l.paused)
	l.mu.Unlock()
}

// commandNode is a CLI command's view of the database: a cached store
// that publishes its writes on the bus and listens to nothing.
func commandNode(t *testing.T, base *sqlite.Store, ring *vault.Keyring) *busNode {
	t.Helper()
	n := &busNode{store: storecache.New(base, storecache.DefaultLimits)}
	n.store.UseBus(storecache.PollLog(base.InvalidationBus(), storecache.LogPollInterval), longTTL)
	svc, err := core.NewService(ctx, n.store, ring, core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare)))
	if err != nil {
		t.Fatal(err)
	}
	n.svc = svc
	return n
}

// logRows counts the rows of the invalidation log of the file at path.
func logRows(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM cache_invalidations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPushSQLite: a server (b) and a command (a) on one SQLite file, the
// server's entries living an hour: what the command changes reaches the
// server through the table cache_invalidations, which b polls; with b's
// reads of it failing, b falls back to the short lifetime and says so,
// and once they work again it hears the command again. A gap (rows b had
// not read pruned) drops everything, and a registration appends no row.
func TestPushSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usercenter.db")
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := openSQLite(t, path), openSQLite(t, path)
	log := newTestLog(pb.InvalidationBus())
	a := commandNode(t, pa, ring)
	b := startNode(t, pb, storecache.PollLog(log, storecache.LogPollInterval), ring)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	t.Run("large write", func(t *testing.T) { largeWriteSeen(t, a, b) })
	t.Run("inserts unpublished", func(t *testing.T) {
		rows := logRows(t, raw)
		app, key, err := a.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "rows", RateLimit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if got := logRows(t, raw); got != rows {
			t.Fatalf("creating an app appended %d rows to the invalidation log", got-rows)
		}
		if _, err := svctest.RegisterUser(a.svc, ctx, key.Actor(), svctest.Registration{SdkAppID: app.SdkAppID, Name: "rows"}); err != nil {
			t.Fatal(err)
		}
		if got := logRows(t, raw); got != rows {
			t.Fatalf("a registration appended %d rows to the invalidation log", got-rows)
		}
		insertsUnpublished(t, a, b)
	})
	t.Run("refused writes unpublished", func(t *testing.T) {
		// An Update whose fn changes a user and then refuses commits
		// nothing, so it tells no other node anything.
		app, key, err := a.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "refused", RateLimit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := svctest.RegisterUser(a.svc, ctx, key.Actor(), svctest.Registration{SdkAppID: app.SdkAppID, Name: "refused"})
		if err != nil {
			t.Fatal(err)
		}
		rows := logRows(t, raw)
		refusal := errors.New("test: refused")
		err = a.store.Update(ctx, func(tx core.Tx) error {
			u, err := tx.User(ctx, sess.User.ID)
			if err != nil {
				return err
			}
			u.Nickname = "never committed"
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			return refusal
		})
		if !errors.Is(err, refusal) {
			t.Fatalf("Update: %v, want the refusal", err)
		}
		if got := logRows(t, raw); got != rows {
			t.Fatalf("a refused Update appended %d rows to the invalidation log", got-rows)
		}
		// The same change committed is published.
		err = a.store.Update(ctx, func(tx core.Tx) error {
			u, err := tx.User(ctx, sess.User.ID)
			if err != nil {
				return err
			}
			u.Nickname = "committed"
			return tx.UpdateUser(ctx, u)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := logRows(t, raw); got != rows+1 {
			t.Fatalf("a committed UpdateUser appended %d rows to the invalidation log, want 1", got-rows)
		}
	})
	t.Run("gap", func(t *testing.T) { gapDropsAll(t, a, b, log, raw) })
	t.Run("backup restored, written past", func(t *testing.T) { restoreDropsAll(t, a, b, log, raw, true) })
	t.Run("backup restored", func(t *testing.T) { restoreDropsAll(t, a, b, log, raw, false) })
	pushTest(t, a, b, func(t *testing.T) {
		log.breakWith(errors.New("test: the log cannot be read"))
		waitUp(t, b, false)
		log.breakWith(nil) // b stays down until the gate opens
	})
}

// gapDropsAll: b's poll stalls while a changes a user b has cached and
// the rows b had not read are pruned; once b reads again it finds the
// row it saw last gone, drops everything, and so reads the change, and
// reads again a user nobody changed.
func gapDropsAll(t *testing.T, a, b *busNode, log *testLog, raw *sql.DB) {
	key, changed, later, bystander := threeUsers(t, a, "gap", "changed", "later", "bystander")
	me := meOn(b)
	cachedOn(t, b, "users", me(changed))
	cachedOn(t, b, "users", me(bystander))

	gaps := resets(t, b, "gap")
	log.pause(t)
	nick := "after the gap"
	if _, err := a.svc.UpdateUser(ctx, key.Actor(), changed.User.ID, core.UserPatch{Nickname: &nick}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM cache_invalidations`); err != nil { // pruned unread
		t.Fatal(err)
	}
	// The log's newest rows are always kept: one comes after the gap.
	if _, err := a.svc.UpdateUser(ctx, key.Actor(), later.User.ID, core.UserPatch{Nickname: &nick}); err != nil {
		t.Fatal(err)
	}
	log.resume()
	seen(t, "a change whose row was pruned unread", func() error {
		u, err := b.svc.Me(ctx, changed.Token)
		if err != nil || u.Nickname != nick {
			return fmt.Errorf("Me: %v, nickname %q", err, u.Nickname)
		}
		return nil
	})
	misses := b.store.Stats()["users"].Misses
	if err := me(bystander)(); err != nil {
		t.Fatal(err)
	}
	if b.store.Stats()["users"].Misses == misses {
		t.Error("the gap left a user nobody changed in the cache")
	}
	if got := resets(t, b, "gap"); got != gaps+1 {
		t.Errorf("usercenter_cache_invalidation_resets_total{reason=\"gap\"} went from %v to %v", gaps, got)
	}
}

// restoreDropsAll: b's poll stalls while the database is restored from
// a backup taken before the last row b read, which undoes a change b
// had heard of and cached. With writtenPast, a then writes past that
// row before b polls: b finds another message under its number (a
// restore). Without, b finds the row gone and nothing after it (a
// rewind), and listens again. Either way b drops everything, so it reads
// what the restore undid, and reads again a user nobody changed; the
// reset counts under its reason.
func restoreDropsAll(t *testing.T, a, b *busNode, log *testLog, raw *sql.DB, writtenPast bool) {
	reason := "rewind"
	if writtenPast {
		reason = "restore"
	}
	key, undone, later, bystander := threeUsers(t, a, reason, "undone", "later", "bystander")
	me := meOn(b)
	nicknameOnB := func(s *core.Session, want string) func() error {
		return func() error {
			u, err := b.svc.Me(ctx, s.Token)
			if err != nil || u.Nickname != want {
				return fmt.Errorf("Me: %v, nickname %q, want %q", err, u.Nickname, want)
			}
			return nil
		}
	}
	saved := filepath.Join(t.TempDir(), "backup.db")
	if _, err := raw.ExecContext(ctx, `VACUUM INTO ?`, saved); err != nil {
		t.Fatal(err)
	}
	cachedOn(t, b, "users", me(undone))
	nick := "undone by the restore"
	if _, err := a.svc.UpdateUser(ctx, key.Actor(), undone.User.ID, core.UserPatch{Nickname: &nick}); err != nil {
		t.Fatal(err)
	}
	seen(t, "a change made after the backup", nicknameOnB(undone, nick)) // b read its row
	cachedOn(t, b, "users", me(undone))
	cachedOn(t, b, "users", me(bystander))

	before := resets(t, b, reason)
	log.pause(t)
	restoreFrom(t, raw, saved)
	if writtenPast {
		// Two rows, from the number of the one b read last on.
		for _, n := range []string{"later", "later still"} {
			if _, err := a.svc.UpdateUser(ctx, key.Actor(), later.User.ID, core.UserPatch{Nickname: &n}); err != nil {
				t.Fatal(err)
			}
		}
	}
	log.resume()
	seen(t, "a change the restore undid", nicknameOnB(undone, undone.User.Nickname))
	if !writtenPast {
		waitUp(t, b, true) // it starts over from the restored log
	}
	misses := b.store.Stats()["users"].Misses
	if err := me(bystander)(); err != nil {
		t.Fatal(err)
	}
	if b.store.Stats()["users"].Misses == misses {
		t.Error("the restore left a user nobody changed in the cache")
	}
	if got := resets(t, b, reason); got != before+1 {
		t.Errorf("usercenter_cache_invalidation_resets_total{reason=%q} went from %v to %v", reason, before, got)
	}
}

// restoreFrom writes the database saved over the one raw is open on,
// while the stores use it, as sqlite3's .restore does: through SQLite's
// backup API, so that every connection reads the restored pages.
func restoreFrom(t *testing.T, raw *sql.DB, saved string) {
	t.Helper()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		r, err := dc.(interface {
			NewRestore(string) (*msqlite.Backup, error)
		}).NewRestore(saved)
		if err != nil {
			return err
		}
		for more := true; more; {
			if more, err = r.Step(-1); err != nil {
				r.Finish()
				return err
			}
		}
		return r.Finish()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// threeUsers registers three users, named so, in a new app of a's, and
// returns the app's key with them.
func threeUsers(t *testing.T, a *busNode, app, n1, n2, n3 string) (key *usercenter.APIKey, s1, s2, s3 *core.Session) {
	t.Helper()
	created, key, err := a.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: app, RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	register := func(name string) *core.Session {
		s, err := svctest.RegisterUser(a.svc, ctx, key.Actor(), svctest.Registration{SdkAppID: created.SdkAppID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return key, register(n1), register(n2), register(n3)
}

// meOn returns, for a session, its Me on n, as cachedOn takes it.
func meOn(n *busNode) func(s *core.Session) func() error {
	return func(s *core.Session) func() error {
		return func() error { _, err := n.svc.Me(ctx, s.Token); return err }
	}
}

// resets reads usercenter_cache_invalidation_resets_total{reason} of n
// as /metrics would.
func resets(t *testing.T, n *busNode, reason string) float64 {
	t.Helper()
	for _, mf := range gather(t, n) {
		if mf.GetName() != "usercenter_cache_invalidation_resets_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no usercenter_cache_invalidation_resets_total{reason=%q}", reason)
	return 0
}

// BenchmarkPushSQLite is BenchmarkPushPostgres over SQLite's invalidation
// log: two stores on one file, b polling every LogPollInterval.
func BenchmarkPushSQLite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "usercenter.db")
	benchPush(b, func() (core.Store, storecache.Bus) {
		s := openSQLite(b, path)
		return s, storecache.PollLog(s.InvalidationBus(), storecache.LogPollInterval)
	})
}
