package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// statsModel counts users as UserStats must, from the users themselves.
type statsModel struct {
	active, disabled int
	created          map[time.Time]int // by UTC midnight
}

func (m *statsModel) add(u *core.UserRecord) {
	if m.created == nil {
		m.created = map[time.Time]int{}
	}
	m.created[dayOf(u.CreatedAt)]++
	m.count(u.Status, 1)
}

func (m *statsModel) count(st usercenter.UserStatus, n int) {
	if st == usercenter.UserActive {
		m.active += n
	} else {
		m.disabled += n
	}
}

func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// want is the UserStats the model expects from since on.
func (m *statsModel) want(since time.Time) *core.UserStats {
	st := &core.UserStats{Active: m.active, Disabled: m.disabled}
	for day, n := range m.created {
		if !day.Before(dayOf(since)) && n > 0 {
			st.Days = append(st.Days, core.DayCount{Day: day, Created: n})
		}
	}
	for i := 1; i < len(st.Days); i++ { // few days: insertion sort
		for j := i; j > 0 && st.Days[j].Day.Before(st.Days[j-1].Day); j-- {
			st.Days[j], st.Days[j-1] = st.Days[j-1], st.Days[j]
		}
	}
	return st
}

func wantStats(t testing.TB, s core.Store, app uint64, since time.Time, m *statsModel) {
	t.Helper()
	got, err := s.UserStats(ctx, app, since)
	if err != nil {
		t.Fatalf("UserStats(%d): %v", app, err)
	}
	want := m.want(since)
	if len(got.Days) == 0 {
		got.Days = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("UserStats(%d, %v):\ngot  %+v\nwant %+v", app, since, got, want)
	}
}

// testUserStats: the counts follow every insert (one and a batch), status
// change and delete, in their transaction, per app and day: they are
// always what counting the app's users would give.
func testUserStats(t *testing.T, s core.Store) {
	const big = 1<<63 + 7
	AddApps(t, s, 1, 2, big)
	day := func(d int) time.Time { return Base.Add(time.Duration(d) * 24 * time.Hour) }
	var m1, m2, mBig statsModel

	// An app without users has none.
	wantStats(t, s, 1, day(0), &m1)
	wantStats(t, s, 404, day(0), &statsModel{})

	// One user at a time.
	var first []*core.UserRecord
	for i := range 5 {
		u := NewUser(1, fmt.Sprint("one", i), day(i%2).Add(time.Duration(i)*time.Minute))
		if i == 3 {
			u.Status = usercenter.UserDisabled
		}
		AddUser(t, s, u)
		m1.add(u)
		first = append(first, u)
	}
	other := NewUser(2, "other", day(1))
	AddUser(t, s, other)
	m2.add(other)
	bigUser := NewUser(big, "big", day(3))
	AddUser(t, s, bigUser)
	mBig.add(bigUser)
	wantStats(t, s, 1, day(-30), &m1)
	wantStats(t, s, 1, day(1), &m1) // day 0 left out of the days, not the totals
	wantStats(t, s, 2, day(0), &m2)
	wantStats(t, s, big, day(0), &mBig)

	// A batch, over several days, some disabled.
	batch := bulkUsers(1, "bulk", 120)
	for i, u := range batch {
		u.CreatedAt = day(2 + i%3).Add(time.Duration(i))
		u.ID = usercenter.NewUserID(u.CreatedAt)
		if i%4 == 0 {
			u.Status = usercenter.UserDisabled
		}
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertUsers(ctx, batch) })
	for _, u := range batch {
		m1.add(u)
	}
	wantStats(t, s, 1, day(0), &m1)

	// A batch that fails counts nothing.
	failing := bulkUsers(1, "fail", 10)
	failing[7].OriginID = batch[0].OriginID
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.InsertUsers(ctx, failing) }); err == nil {
		t.Fatal("a batch with a taken OriginId was stored")
	}
	// Nor does an insert whose transaction is rolled back.
	if err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.InsertUser(ctx, NewUser(1, "rolled-back", day(0))); err != nil {
			return err
		}
		return errRefused
	}); !errors.Is(err, errRefused) {
		t.Fatalf("Update: %v", err)
	}
	wantStats(t, s, 1, day(0), &m1)

	// Status changes move users between the totals; other changes do not.
	setStatus := func(u *core.UserRecord, st usercenter.UserStatus) {
		t.Helper()
		m1.count(u.Status, -1)
		u.Status = st
		m1.count(st, 1)
		MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) })
	}
	setStatus(first[0], usercenter.UserDisabled)
	setStatus(first[3], usercenter.UserActive)
	setStatus(batch[1], usercenter.UserDisabled)
	setStatus(batch[2], usercenter.UserDisabled)
	wantStats(t, s, 1, day(0), &m1)
	first[1].Nickname = "renamed"
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, first[1]) })
	setStatus(first[0], usercenter.UserDisabled) // unchanged
	wantStats(t, s, 1, day(0), &m1)

	// Deleting takes a user out of the totals and out of their day.
	for _, u := range []*core.UserRecord{first[0], first[2], batch[5], batch[8]} {
		MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, u.ID) })
		m1.count(u.Status, -1)
		m1.created[dayOf(u.CreatedAt)]--
	}
	wantStats(t, s, 1, day(0), &m1)
	wantStats(t, s, 2, day(0), &m2)
	wantStats(t, s, big, day(0), &mBig)

	// Concurrent writers of one app and day lose no count.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				u := NewUser(2, fmt.Sprintf("w%d-%d", w, i), day(1).Add(time.Duration(w*10+i)))
				errs <- s.Update(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, u) })
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m2.created[dayOf(day(1))] += 40
	m2.active += 40
	wantStats(t, s, 2, day(0), &m2)
}
