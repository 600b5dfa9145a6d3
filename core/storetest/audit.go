package storetest

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// matches is the reference for AuditEvents' filtering.
func matches(f usercenter.AuditFilter, e usercenter.AuditEvent) bool {
	return (f.Apps == nil || slices.Contains(f.Apps, e.SdkAppID)) &&
		(f.SdkAppID == 0 || e.SdkAppID == f.SdkAppID) &&
		(f.UserID == "" || e.UserID == f.UserID) &&
		(f.Field == "" || e.Field == f.Field) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.Actor == "" || e.Actor == f.Actor) &&
		(f.Since.IsZero() || !e.At.Before(f.Since)) &&
		(f.Until.IsZero() || e.At.Before(f.Until)) &&
		e.ID > f.AfterID &&
		(f.BeforeID == 0 || e.ID < f.BeforeID)
}

func testAudit(t *testing.T, s core.Store) {
	const big = 1<<63 + 7 // an SdkAppId stored as a negative int64
	apps := []uint64{1, 2, big}
	users := []string{"uA", "uB", "uC", ""}
	actions := []usercenter.AuditAction{usercenter.AuditReveal, usercenter.AuditDeliver, usercenter.AuditUpdate, usercenter.AuditCreate}
	fields := []string{"phone", "email", "address", ""}
	actors := []string{"AKIDone", "cli", "AKIDtwo"}

	const n = 1100
	events := make([]usercenter.AuditEvent, n)
	inserted := make([]*usercenter.AuditEvent, n)
	MustUpdate(t, s, func(tx core.Tx) error {
		for i := range events {
			e := &usercenter.AuditEvent{
				At:        Base.Add(time.Duration(i%97) * time.Minute), // not in ID order
				SdkAppID:  apps[i%len(apps)],
				UserID:    users[i%len(users)],
				Action:    actions[i%len(actions)],
				Field:     fields[(i/3)%len(fields)],
				Actor:     actors[(i/5)%len(actors)],
				RequestID: fmt.Sprint("req", i),
				Reason:    []string{"", "support ticket 12", "中文 reason"}[i%3],
			}
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
			inserted[i] = e
		}
		return nil
	})
	// The IDs are set once Update has returned: an engine may write the
	// events with those of other Updates of its batch.
	for i, e := range inserted {
		if i > 0 && e.ID <= events[i-1].ID {
			t.Errorf("event %d got ID %d after %d", i, e.ID, events[i-1].ID)
		}
		if !e.At.Equal(Base.Add(time.Duration(i%97) * time.Minute)) {
			t.Errorf("InsertAudit changed At to %v", e.At)
		}
		events[i] = *e
		events[i].At = e.At.UTC()
	}

	query := func(f usercenter.AuditFilter) []usercenter.AuditEvent {
		t.Helper()
		got, err := s.AuditEvents(ctx, f)
		if err != nil {
			t.Fatalf("AuditEvents(%+v): %v", f, err)
		}
		for _, e := range got {
			if e.At.Location() != time.UTC {
				t.Fatalf("At %v not in UTC", e.At)
			}
		}
		return got
	}
	want := func(f usercenter.AuditFilter, limit int) []usercenter.AuditEvent {
		var out []usercenter.AuditEvent
		ordered := events
		if f.NewestFirst {
			ordered = slices.Clone(events)
			slices.Reverse(ordered)
		}
		for _, e := range ordered {
			if matches(f, e) && len(out) < limit {
				out = append(out, e)
			}
		}
		return out
	}

	filters := []usercenter.AuditFilter{
		{},
		{Apps: []uint64{2, big}},
		{Apps: []uint64{big}, SdkAppID: big},
		{Apps: []uint64{1}, SdkAppID: 2}, // contradictory: nothing
		{Apps: []uint64{0}},              // an app without events, not "any app"
		{Apps: []uint64{1}},
		{SdkAppID: 1},
		{UserID: "uB"},
		{UserID: "uA", SdkAppID: 1},
		{Field: "phone"},
		{Action: usercenter.AuditReveal, Field: "email"},
		{Actor: "cli", Action: usercenter.AuditDeliver},
		{Since: Base.Add(10 * time.Minute)},
		{Until: Base.Add(10 * time.Minute)},
		{Since: Base.Add(10 * time.Minute), Until: Base.Add(11 * time.Minute)},
		{Since: Base.AddDate(-1000, 0, 0)}, // before 1678: clamped, not an error
		{Until: Base.AddDate(1000, 0, 0)},  // after 2262
		{AfterID: events[500].ID},
		{AfterID: events[n-1].ID},
		{BeforeID: events[500].ID},
		{BeforeID: events[0].ID},
		{AfterID: events[10].ID, BeforeID: events[20].ID},
		{Apps: []uint64{1, 2}, UserID: "uA", Field: "phone", Action: usercenter.AuditReveal, Actor: "AKIDone",
			Since: Base, Until: Base.Add(90 * time.Minute), AfterID: events[10].ID},
	}
	for _, f := range filters {
		for _, limit := range []int{0, 7, 1000, 5000} {
			for _, newest := range []bool{false, true} {
				f.Limit, f.NewestFirst = limit, newest
				got := query(f)
				// The store applies the limit it is given, bounds being core's.
				if w := want(f, limit); !reflect.DeepEqual(got, w) {
					t.Fatalf("AuditEvents(%+v) = %d events, want %d", f, len(got), len(w))
				}
			}
		}
	}
	if got := query(usercenter.AuditFilter{Apps: []uint64{}, Limit: n}); len(got) != 0 {
		t.Fatalf("an empty non-nil Apps matched %d events", len(got))
	}

	// Keyset paging walks every match once, in order.
	f := usercenter.AuditFilter{Apps: []uint64{1, big}, Action: usercenter.AuditReveal, Limit: 9}
	var all []usercenter.AuditEvent
	for {
		page := query(f)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		f.AfterID = page[len(page)-1].ID
	}
	f.AfterID = 0
	if w := want(f, n); !reflect.DeepEqual(all, w) || len(w) == 0 {
		t.Fatalf("keyset walk saw %d events, want %d", len(all), len(w))
	}
	// And newest first, with BeforeID.
	f.NewestFirst, all = true, nil
	for {
		page := query(f)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		f.BeforeID = page[len(page)-1].ID
	}
	f.BeforeID = 0
	if w := want(f, n); !reflect.DeepEqual(all, w) || len(w) == 0 {
		t.Fatalf("newest-first keyset walk saw %d events, want %d", len(all), len(w))
	}

	// A Tx sees its own events.
	MustUpdate(t, s, func(tx core.Tx) error {
		e := usercenter.AuditEvent{At: Base, SdkAppID: 9, UserID: "uZ", Action: usercenter.AuditCreate, Actor: "x"}
		if err := tx.InsertAudit(ctx, &e); err != nil {
			return err
		}
		got, err := tx.AuditEvents(ctx, usercenter.AuditFilter{SdkAppID: 9, Limit: 10})
		if err != nil || len(got) != 1 || got[0].ID != e.ID {
			t.Errorf("AuditEvents in Tx = %+v, %v", got, err)
		}
		return nil
	})

	bad := usercenter.AuditEvent{SdkAppID: 1, Action: usercenter.AuditCreate}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { return tx.InsertAudit(ctx, &bad) }), usercenter.EInternal, "")
}

func testAuditOutlivesUser(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u := NewUser(1, "gone", Base)
	AddUser(t, s, u)
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, a := range []usercenter.AuditAction{usercenter.AuditCreate, usercenter.AuditReveal} {
			e := &usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: u.ID, Action: a, Actor: "cli"}
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, &usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditDelete, Actor: "cli"})
	})
	got, err := s.AuditEvents(ctx, usercenter.AuditFilter{UserID: u.ID, Limit: 10})
	if err != nil || len(got) != 3 || got[2].Action != usercenter.AuditDelete {
		t.Fatalf("events of a deleted user = %+v, %v", got, err)
	}
	// Events may name users that never existed.
	MustUpdate(t, s, func(tx core.Tx) error {
		return tx.InsertAudit(ctx, &usercenter.AuditEvent{At: Base, SdkAppID: 77, UserID: "nobody", Action: usercenter.AuditReveal})
	})
}

// testEraseAuditUser: erasing a user's events keeps every event but
// replaces its UserId by the tombstone, and touches no other user's.
func testEraseAuditUser(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	gone, kept := NewUser(1, "gone", Base), NewUser(1, "kept", Base)
	AddUser(t, s, gone)
	AddUser(t, s, kept)
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, u := range []*core.UserRecord{gone, kept, gone} {
			e := &usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: u.ID, Action: usercenter.AuditReveal, Field: "phone", Actor: "cli"}
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	MustUpdate(t, s, func(tx core.Tx) (err error) {
		n, err = tx.EraseAuditUser(ctx, gone.ID)
		return err
	})
	if n != 2 {
		t.Fatalf("EraseAuditUser changed %d events, want 2", n)
	}
	if got, err := s.AuditEvents(ctx, usercenter.AuditFilter{UserID: gone.ID, Limit: 10}); err != nil || len(got) != 0 {
		t.Fatalf("events still naming the erased user = %+v, %v", got, err)
	}
	all, err := s.AuditEvents(ctx, usercenter.AuditFilter{Limit: 10})
	if err != nil || len(all) != 3 {
		t.Fatalf("events after erasure = %+v, %v; want all 3 kept", all, err)
	}
	for i, want := range []string{usercenter.ErasedUserID, kept.ID, usercenter.ErasedUserID} {
		if all[i].UserID != want || all[i].Field != "phone" || all[i].Actor != "cli" {
			t.Fatalf("event %d = %+v, want UserId %s and the rest kept", i, all[i], want)
		}
	}
	MustUpdate(t, s, func(tx core.Tx) (err error) {
		n, err = tx.EraseAuditUser(ctx, "never-was")
		return err
	})
	if n != 0 {
		t.Fatalf("EraseAuditUser of a user without events changed %d", n)
	}
}

// testLiveTokens counts a user's tokens that expire after now.
func testLiveTokens(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u1, u2 := NewUser(1, "a", Base), NewUser(1, "b", Base)
	AddUser(t, s, u1)
	AddUser(t, s, u2)
	MustUpdate(t, s, func(tx core.Tx) error {
		for i, tk := range []struct {
			u       *core.UserRecord
			expires time.Time
		}{{u1, Base.Add(time.Hour)}, {u1, Base.Add(time.Minute)}, {u1, Base.Add(-time.Hour)}, {u1, Base}, {u2, Base.Add(time.Hour)}} {
			h := sha256.Sum256([]byte(fmt.Sprint("live", i)))
			if err := tx.InsertToken(ctx, &core.Token{Hash: h[:], UserID: tk.u.ID, SdkAppID: 1, CreatedAt: Base, ExpiresAt: tk.expires}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		user string
		want int
	}{{u1.ID, 2}, {u2.ID, 1}, {"nobody", 0}} {
		if n, err := s.LiveTokens(ctx, c.user, Base); err != nil || n != c.want {
			t.Errorf("LiveTokens(%s) = %d, %v; want %d", c.user, n, err, c.want)
		}
	}
}
