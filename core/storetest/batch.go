package storetest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// An engine may gather concurrent Updates into one transaction and one
// commit (SQLite's writer does, PostgreSQL's writers do). These tests hold
// it to the contract that makes that invisible: each Update succeeds or
// fails on its own, an Update that returned nil is committed, and two
// nodes on one database never both win a unique value.

// registration is what core.RegisterUser writes: a user, its create
// event in the audit trail and in the outbox, and a login token.
type registration struct {
	user  *core.UserRecord
	token *core.Token
	audit *usercenter.AuditEvent
	event *usercenter.Event
}

func newRegistration(app uint64, origin string) *registration {
	at := Base.Add(time.Duration(len(origin)) * time.Millisecond)
	u := NewUser(app, origin, at)
	hash := sha256.Sum256([]byte("token of " + u.ID))
	return &registration{
		user:  u,
		token: &core.Token{Hash: hash[:], UserID: u.ID, SdkAppID: app, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		audit: &usercenter.AuditEvent{At: at, SdkAppID: app, UserID: u.ID, Action: usercenter.AuditCreate, Actor: "storetest"},
		event: &usercenter.Event{Type: usercenter.EventUserCreated, SdkAppID: app, At: at, Actor: "storetest", Data: usercenter.EventData{UserID: u.ID}},
	}
}

// write makes the registration's writes in tx, in core's order.
func (r *registration) write(tx core.Tx) error {
	if err := tx.InsertUser(ctx, r.user); err != nil {
		return err
	}
	if err := tx.InsertAudit(ctx, r.audit); err != nil {
		return err
	}
	if err := tx.InsertEvents(ctx, []*usercenter.Event{r.event}); err != nil {
		return err
	}
	return tx.InsertToken(ctx, r.token)
}

// stored reports how much of the registration s holds: "all", "none", or
// what is wrong.
func (r *registration) stored(s core.Store) string {
	_, uerr := s.User(ctx, r.user.ID)
	_, terr := s.Token(ctx, r.token.Hash)
	audits, aerr := s.AuditEvents(ctx, usercenter.AuditFilter{UserID: r.user.ID, Limit: 10})
	switch {
	case uerr == nil && terr == nil && aerr == nil && len(audits) == 1:
		return "all"
	case usercenter.ErrorCode(uerr) == usercenter.ENotFound && usercenter.ErrorCode(terr) == usercenter.ENotFound && aerr == nil && len(audits) == 0:
		return "none"
	}
	return fmt.Sprintf("part: user %v, token %v, %d audit events (%v)", uerr, terr, len(audits), aerr)
}

// testBatchOneFailingUpdate runs rounds of concurrent registrations in
// which a few Updates fail in every way an Update can: fn returns an error
// after writing, a Tx method fails on a unique key or a foreign key and
// fn returns its error, fn panics after writing. However the engine
// batches them, only those fail, nothing of theirs is kept, and every
// other registration is stored whole.
func testBatchOneFailingUpdate(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	taken := newRegistration(1, "taken")
	MustUpdate(t, s, taken.write)
	BatchOneFailingUpdate(t, s, 3)
}

// BatchOneFailingUpdate is the body of the contract's test of that name,
// for an engine's own tests to run as many rounds as it needs to see its
// batches form; app 1 must exist and have a user with OriginId "taken".
func BatchOneFailingUpdate(t *testing.T, s core.Store, rounds int) {
	const n = 24
	failures := map[int]func(r *registration, tx core.Tx) error{
		3: func(r *registration, tx core.Tx) error { // fails after writing
			if err := r.write(tx); err != nil {
				return err
			}
			return errRefused
		},
		7: func(r *registration, tx core.Tx) error { // a unique key
			r.user.OriginID = "taken"
			return r.write(tx)
		},
		11: func(r *registration, tx core.Tx) error { // a foreign key, after writing
			if err := r.write(tx); err != nil {
				return err
			}
			orphan := *r.token
			orphan.Hash = append([]byte("orphan"), r.token.Hash...)
			orphan.UserID = usercenter.NewUserID(Base)
			return tx.InsertToken(ctx, &orphan)
		},
		17: func(r *registration, tx core.Tx) error { // a panic after writing
			if err := r.write(tx); err != nil {
				return err
			}
			panic("storetest: a deliberate panic")
		},
	}
	for round := range rounds {
		before := userCounts(t, s, 1)
		regs := make([]*registration, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			regs[i] = newRegistration(1, fmt.Sprintf("round%d-%d", round, i))
			wg.Go(func() {
				<-start
				errs[i] = s.Update(ctx, func(tx core.Tx) error {
					if fail := failures[i]; fail != nil {
						return fail(regs[i], tx)
					}
					return regs[i].write(tx)
				})
			})
		}
		close(start)
		wg.Wait()
		for i, r := range regs {
			switch i {
			case 3:
				if errs[i] != errRefused {
					t.Errorf("round %d: the Update that failed after writing returned %v, want its own error", round, errs[i])
				}
			case 7:
				WantErr(t, errs[i], usercenter.EConflict, "originId")
			case 11:
				WantErr(t, errs[i], usercenter.ENotFound, usercenter.ResourceUser)
			case 17:
				WantErr(t, errs[i], usercenter.EInternal, "")
			default:
				if errs[i] != nil {
					t.Errorf("round %d: registration %d failed beside the failing ones: %v", round, i, errs[i])
				}
			}
			want := "all"
			if failures[i] != nil {
				want = "none"
			}
			if got := r.stored(s); got != want {
				t.Errorf("round %d: registration %d (error %v) is stored %s, want %s", round, i, errs[i], got, want)
			}
		}
		// The app's user counts, which the store keeps in the transaction
		// of each insert, count the stored users and none of the failed
		// Updates', however their batch went.
		want := before
		want.Active += n - len(failures)
		want.Created += n - len(failures)
		if got := userCounts(t, s, 1); got != want {
			t.Errorf("round %d: after %d registrations stored and %d failed, the app's counts went from %+v to %+v, want %+v",
				round, n-len(failures), len(failures), before, got, want)
		}
		if t.Failed() {
			return
		}
	}
}

// counts are an app's user counts as UserStats reports them, summed over
// the days.
type counts struct{ Active, Disabled, Created int }

func userCounts(t *testing.T, s core.Store, app uint64) counts {
	t.Helper()
	st, err := s.UserStats(ctx, app, time.Time{})
	if err != nil {
		t.Fatalf("UserStats: %v", err)
	}
	c := counts{Active: st.Active, Disabled: st.Disabled}
	for _, d := range st.Days {
		c.Created += d.Created
	}
	return c
}

// RunNodes runs the contract's tests of two nodes on one database.
// open returns two stores on one fresh, empty database, as two processes
// of a cluster would open it, and registers their cleanup; an engine
// whose database has one writer process passes one store twice.
func RunNodes(t *testing.T, open func(t *testing.T) (a, b core.Store)) {
	t.Run("SameOriginTwoNodes", func(t *testing.T) {
		a, b := open(t)
		testSameOriginTwoNodes(t, a, b)
	})
}

// testSameOriginTwoNodes races registrations of one OriginId through two
// nodes, among registrations of other OriginIds that share their batches:
// exactly one wins, every other fails with EConflict on OriginId and
// leaves nothing behind, and the other registrations all succeed.
func testSameOriginTwoNodes(t *testing.T, a, b core.Store) {
	AddApps(t, a, 1)
	const n = 40
	regs := make([]*registration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		origin := "same"
		if i%2 == 1 {
			origin = fmt.Sprintf("other-%d", i)
		}
		regs[i] = newRegistration(1, origin)
		node := a
		if i%4 >= 2 {
			node = b
		}
		wg.Go(func() {
			<-start
			errs[i] = node.Update(ctx, regs[i].write)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range regs {
		if r.user.OriginID != "same" {
			if errs[i] != nil {
				t.Errorf("registration %d of its own OriginId failed: %v", i, errs[i])
			}
			continue
		}
		if errs[i] == nil {
			if winner >= 0 {
				t.Fatalf("registrations %d and %d of one OriginId both succeeded", winner, i)
			}
			winner = i
			continue
		}
		WantErr(t, errs[i], usercenter.EConflict, "originId")
	}
	if winner < 0 {
		t.Fatal("no registration of the raced OriginId succeeded")
	}
	for i, r := range regs {
		want := "all"
		if errs[i] != nil {
			want = "none"
		}
		for _, node := range []core.Store{a, b} {
			if got := r.stored(node); got != want {
				t.Errorf("registration %d (error %v) is stored %s, want %s", i, errs[i], got, want)
			}
		}
	}
	got, err := b.UserByOrigin(ctx, 1, "same")
	if err != nil || got.ID != regs[winner].user.ID {
		t.Fatalf("UserByOrigin = %+v, %v; want the winner %s", got, err, regs[winner].user.ID)
	}
}

// CrashEnv is set in the environment of the process Kill9 starts, which
// must then call CrashChild.
const CrashEnv = "USERCENTER_STORETEST_CRASH_CHILD"

// ackPrefix starts each line with which the child acknowledges a
// registration.
const ackPrefix = "acknowledged "

// CrashChild is the process Kill9 kills: it opens the store with open
// and registers users on 32 goroutines until it is killed, writing the
// OriginId of each registration whose Update returned nil to stdout, on a
// line of its own, after Update returned. App 1 must exist.
func CrashChild(open func() core.Store) {
	s := open()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				r := newRegistration(1, fmt.Sprintf("crash-%d-%d", g, i))
				if err := s.Update(context.Background(), r.write); err != nil {
					fmt.Fprintln(os.Stderr, "storetest: crash child:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintln(out, ackPrefix+r.user.OriginID)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// Kill9 checks that every acknowledged write survives the death of its
// process: it runs the test binary again, running only the test named
// test, with CrashEnv and env set (that test must call CrashChild), waits
// until the child has acknowledged acks registrations, kills it with
// SIGKILL while its other registrations are in flight, and then checks,
// on a store from reopen, that every registration it acknowledged is
// stored whole. reopen is called once before the child starts, to create
// app 1, and once after it died; each store it returns is closed here.
func Kill9(t *testing.T, test string, env []string, reopen func() core.Store, acks int) {
	s := reopen()
	AddApps(t, s, 1)
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), env...), CrashEnv+"=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	var acked []string
	lines := bufio.NewScanner(stdout)
	for len(acked) < acks && lines.Scan() {
		if origin, ok := strings.CutPrefix(lines.Text(), ackPrefix); ok {
			acked = append(acked, origin)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	killed = true
	// What the child acknowledged between the last line read and its
	// death is in the pipe still: every line of it counts.
	for lines.Scan() {
		if origin, ok := strings.CutPrefix(lines.Text(), ackPrefix); ok {
			acked = append(acked, origin)
		}
	}
	werr := cmd.Wait()
	if len(acked) < acks {
		t.Fatalf("the child acknowledged %d registrations and stopped (%v), want %d before it is killed", len(acked), werr, acks)
	}
	if exit := (*exec.ExitError)(nil); !errors.As(werr, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("the child ended with %v, want killed by a signal", werr)
	}

	s = reopen()
	defer s.Close()
	for _, origin := range acked {
		u, err := s.UserByOrigin(ctx, 1, origin)
		if err != nil {
			t.Fatalf("registration %s was acknowledged before the kill, but after it: %v", origin, err)
		}
		r := newRegistration(1, origin)
		r.user, r.token.UserID, r.audit.UserID = u, u.ID, u.ID
		hash := sha256.Sum256([]byte("token of " + u.ID))
		r.token.Hash = hash[:]
		if got := r.stored(s); got != "all" {
			t.Fatalf("registration %s was acknowledged before the kill, but after it is stored %s", origin, got)
		}
	}
	t.Logf("%d acknowledged registrations, all stored after the kill", len(acked))
}
