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

// addEvents appends events of apps 0 (the instance), 1 and 2 with every
// type in turn, in one Update, and returns them with their IDs.
func addEvents(t *testing.T, s core.Store, n int) []usercenter.Event {
	t.Helper()
	events := make([]*usercenter.Event, n)
	for i := range events {
		events[i] = &usercenter.Event{
			Type:     usercenter.EventTypes[i%len(usercenter.EventTypes)],
			SdkAppID: uint64(i % 3),
			At:       Base.Add(time.Duration(i) * time.Second).UTC(),
			Actor:    "cli:x",
			Data:     usercenter.EventData{UserID: fmt.Sprint("u", i)},
		}
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertEvents(ctx, events) })
	out := make([]usercenter.Event, n)
	for i, e := range events {
		out[i] = *e
	}
	return out
}

// testEventsFilter: Events reads one app's events or every app's, of some
// types, after a cursor, up to a limit, in ID order.
func testEventsFilter(t *testing.T, s core.Store) {
	if id, err := s.LastEventID(ctx); err != nil || id != 0 {
		t.Fatalf("LastEventID of an empty outbox = %d, %v", id, err)
	}
	all := addEvents(t, s, 100)
	if id, err := s.LastEventID(ctx); err != nil || id != all[len(all)-1].ID {
		t.Fatalf("LastEventID = %d, %v; want %d", id, err, all[len(all)-1].ID)
	}
	// The reference: what f selects among all, in ID order.
	want := func(f usercenter.EventFilter) []usercenter.Event {
		var out []usercenter.Event
		for _, e := range all {
			if (f.EveryApp || e.SdkAppID == f.SdkAppID) && e.ID > f.AfterID &&
				(len(f.Types) == 0 || slices.Contains(f.Types, e.Type)) && len(out) < f.Limit {
				out = append(out, e)
			}
		}
		return out
	}
	mid := all[len(all)/2].ID
	for _, f := range []usercenter.EventFilter{
		{EveryApp: true, Limit: 1000},
		{EveryApp: true, Limit: 7},
		{EveryApp: true, AfterID: mid, Limit: 1000},
		{EveryApp: true, Types: []usercenter.EventType{usercenter.EventUserCreated, usercenter.EventKeyRevoked}, Limit: 1000},
		{EveryApp: true, Types: []usercenter.EventType{usercenter.EventUserUpdated}, AfterID: mid, Limit: 3},
		{SdkAppID: 0, Limit: 1000},
		{SdkAppID: 1, Limit: 1000},
		{SdkAppID: 2, AfterID: mid, Limit: 5},
		{SdkAppID: 1, Types: []usercenter.EventType{usercenter.EventAppCreated, usercenter.EventUserDeleted}, Limit: 1000},
		{SdkAppID: 9, Limit: 1000},
		{EveryApp: true, AfterID: all[len(all)-1].ID, Limit: 1000},
		{EveryApp: true, Types: []usercenter.EventType{"no.such_type"}, Limit: 1000},
	} {
		got, err := s.Events(ctx, f)
		if err != nil {
			t.Fatalf("Events(%+v): %v", f, err)
		}
		w := want(f)
		if len(got) == 0 && len(w) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("Events(%+v) = %d events, want %d; got %+v", f, len(got), len(w), got[:min(2, len(got))])
		}
	}
	if got, err := s.Events(ctx, usercenter.EventFilter{EveryApp: true, Limit: 1000}); err != nil || len(got) != len(all) {
		t.Fatalf("every app's events: %d, %v; want %d", len(got), err, len(all))
	}
	// Paging every app with the last ID seen reads each event once.
	var paged []usercenter.Event
	for after := int64(0); ; {
		page, err := s.Events(ctx, usercenter.EventFilter{EveryApp: true, AfterID: after, Limit: 9})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(paged, all) {
		t.Fatalf("paging every app read %d events, want %d", len(paged), len(all))
	}
	// Inside an Update it reads the Update's own events too.
	var inTx []usercenter.Event
	MustUpdate(t, s, func(tx core.Tx) error {
		e := &usercenter.Event{Type: usercenter.EventAppCreated, SdkAppID: 5, At: Base, Actor: "x"}
		if err := tx.InsertEvents(ctx, []*usercenter.Event{e}); err != nil {
			return err
		}
		var err error
		inTx, err = tx.Events(ctx, usercenter.EventFilter{EveryApp: true, AfterID: all[len(all)-1].ID, Limit: 10})
		return err
	})
	if len(inTx) != 1 || inTx[0].SdkAppID != 5 {
		t.Fatalf("Events in the Update that wrote one = %+v", inTx)
	}
}

// testDeleteOldEvents: DeleteOldEvents deletes the oldest events in ID
// order up to the first made at or after the cutoff, never one made after
// it, and at most its limit.
func testDeleteOldEvents(t *testing.T, s core.Store) {
	del := func(before time.Time, limit int) int {
		t.Helper()
		var n int
		MustUpdate(t, s, func(tx core.Tx) error {
			var err error
			n, err = tx.DeleteOldEvents(ctx, before, limit)
			return err
		})
		return n
	}
	ids := func() []int64 {
		t.Helper()
		got, err := s.Events(ctx, usercenter.EventFilter{EveryApp: true, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	if n := del(Base.Add(time.Hour), 100); n != 0 {
		t.Fatalf("DeleteOldEvents of an empty outbox = %d", n)
	}
	all := addEvents(t, s, 20) // made at Base + i seconds
	// One made out of order: older than the event before it.
	late := &usercenter.Event{Type: usercenter.EventUserCreated, SdkAppID: 1, At: Base.Add(3 * time.Second), Actor: "x"}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertEvents(ctx, []*usercenter.Event{late}) })
	idsOf := func(events []usercenter.Event) []int64 {
		var out []int64
		for _, e := range events {
			out = append(out, e.ID)
		}
		return out
	}

	if n := del(Base.Add(5*time.Second), 0); n != 0 {
		t.Fatalf("DeleteOldEvents with limit 0 = %d", n)
	}
	// The limit stops it first.
	if n := del(Base.Add(5*time.Second), 2); n != 2 {
		t.Fatalf("DeleteOldEvents(limit 2) = %d, want 2", n)
	}
	if got, want := ids(), append(idsOf(all[2:]), late.ID); !slices.Equal(got, want) {
		t.Fatalf("after deleting 2: %v, want %v", got, want)
	}
	// The cutoff stops it next: events 2 to 4 are older than 5 s; the
	// event made exactly at the cutoff stays, and so does every later one.
	if n := del(Base.Add(5*time.Second), 100); n != 3 {
		t.Fatalf("DeleteOldEvents up to 5 s = %d, want 3", n)
	}
	if got, want := ids(), append(idsOf(all[5:]), late.ID); !slices.Equal(got, want) {
		t.Fatalf("after the cutoff: %v, want %v", got, want)
	}
	// The late event is older than the cutoff but comes after younger
	// ones: it stays behind them.
	if n := del(Base.Add(10*time.Second), 100); n != 5 {
		t.Fatalf("DeleteOldEvents up to 10 s = %d, want 5", n)
	}
	if got, want := ids(), append(idsOf(all[10:]), late.ID); !slices.Equal(got, want) {
		t.Fatalf("after 10 s: %v, want %v", got, want)
	}
	if n := del(Base.Add(time.Hour), 100); n != 11 {
		t.Fatalf("DeleteOldEvents of every old event = %d, want 11", n)
	}
	// IDs are never handed out again after a purge emptied the outbox.
	next := addEvents(t, s, 1)
	if next[0].ID <= late.ID {
		t.Fatalf("an event after the purge got ID %d, not after %d", next[0].ID, late.ID)
	}
	if id, err := s.LastEventID(ctx); err != nil || id != next[0].ID {
		t.Fatalf("LastEventID after a purge = %d, %v; want %d", id, err, next[0].ID)
	}
	WantErr(t, s.Update(ctx, func(tx core.Tx) error { _, err := tx.DeleteOldEvents(ctx, Base, -1); return err }), usercenter.EInternal, "")
	if got := ids(); !slices.Equal(got, []int64{next[0].ID}) {
		t.Fatalf("a refused DeleteOldEvents deleted: %v", got)
	}
}

// testDeleteUserTokens: DeleteUserTokens removes every token of one user,
// expired or not, and no other user's.
func testDeleteUserTokens(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	u1, u2 := NewUser(1, "a", Base), NewUser(1, "b", Base)
	AddUser(t, s, u1)
	AddUser(t, s, u2)
	tok := func(n int, u *core.UserRecord, expires time.Time) *core.Token {
		h := sha256.Sum256([]byte(fmt.Sprint("token", n)))
		return &core.Token{Hash: h[:], UserID: u.ID, SdkAppID: 1, CreatedAt: Base, ExpiresAt: expires}
	}
	toks := []*core.Token{tok(0, u1, Base.Add(time.Hour)), tok(1, u1, Base.Add(-time.Hour)), tok(2, u1, Base), tok(3, u2, Base.Add(time.Hour))}
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, tk := range toks {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
	del := func(userID string) int {
		t.Helper()
		var n int
		MustUpdate(t, s, func(tx core.Tx) error {
			var err error
			n, err = tx.DeleteUserTokens(ctx, userID)
			return err
		})
		return n
	}
	if n := del(u1.ID); n != 3 {
		t.Fatalf("DeleteUserTokens = %d, want 3", n)
	}
	for i, tk := range toks {
		_, err := s.Token(ctx, tk.Hash)
		if gone := usercenter.ErrorCode(err) == usercenter.ENotFound; gone != (tk.UserID == u1.ID) {
			t.Fatalf("token %d of the other user gone: %v (%v)", i, gone, err)
		}
	}
	if n := del(u1.ID); n != 0 {
		t.Fatalf("DeleteUserTokens again = %d, want 0", n)
	}
	if n := del("nobody"); n != 0 {
		t.Fatalf("DeleteUserTokens of no user = %d, want 0", n)
	}
	// A user with tokens gone still is: only the tokens went.
	if _, err := s.User(ctx, u1.ID); err != nil {
		t.Fatal(err)
	}
}

// testEraseEventsUser: erasing a user's events in the outbox keeps every
// event but replaces the UserId in its data by the tombstone, and touches
// no other user's, nor the same UserId's events of another app.
func testEraseEventsUser(t *testing.T, s core.Store) {
	ev := func(app uint64, typ usercenter.EventType, data usercenter.EventData) *usercenter.Event {
		return &usercenter.Event{Type: typ, SdkAppID: app, At: Base, Actor: "cli:x", Data: data}
	}
	MustUpdate(t, s, func(tx core.Tx) error {
		return tx.InsertEvents(ctx, []*usercenter.Event{
			ev(1, usercenter.EventUserCreated, usercenter.EventData{UserID: "gone"}),
			ev(1, usercenter.EventUserCreated, usercenter.EventData{UserID: "kept"}),
			ev(1, usercenter.EventUserUpdated, usercenter.EventData{UserID: "gone", Fields: []string{"nickname", "phone"}}),
			ev(2, usercenter.EventUserCreated, usercenter.EventData{UserID: "gone"}),
			ev(1, usercenter.EventPIIDisclosed, usercenter.EventData{UserID: "gone", Field: "phone", Disclosure: "reveal"}),
			ev(1, usercenter.EventKeyCreated, usercenter.EventData{SecretID: "gone"}),
		})
	})
	var n int
	MustUpdate(t, s, func(tx core.Tx) (err error) {
		n, err = tx.EraseEventsUser(ctx, 1, "gone")
		return err
	})
	if n != 3 {
		t.Fatalf("EraseEventsUser changed %d events, want 3", n)
	}
	got, err := s.Events(ctx, usercenter.EventFilter{EveryApp: true, Limit: 100})
	if err != nil || len(got) != 6 {
		t.Fatalf("events after erasure = %+v, %v; want all 6 kept", got, err)
	}
	want := []usercenter.EventData{
		{UserID: usercenter.ErasedUserID},
		{UserID: "kept"},
		{UserID: usercenter.ErasedUserID, Fields: []string{"nickname", "phone"}},
		{UserID: "gone"}, // another app's
		{UserID: usercenter.ErasedUserID, Field: "phone", Disclosure: "reveal"},
		{SecretID: "gone"},
	}
	for i, e := range got {
		if !reflect.DeepEqual(e.Data, want[i]) || e.Actor != "cli:x" || !e.At.Equal(Base) {
			t.Errorf("event %d after erasure = %+v, want data %+v and the rest kept", i, e, want[i])
		}
	}
	MustUpdate(t, s, func(tx core.Tx) (err error) {
		n, err = tx.EraseEventsUser(ctx, 1, "never-was")
		return err
	})
	if n != 0 {
		t.Fatalf("EraseEventsUser of a user without events changed %d", n)
	}
}
