package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// testEvents: InsertEvents numbers events in the order given, across
// statements and Updates; EventsAfter reads one app's outbox (or the
// instance's, app 0) after a cursor, in ID order, with what was written.
func testEvents(t *testing.T, s core.Store) {
	const n = 1000 + 33 // more than one multi-row statement holds
	events := make([]*usercenter.Event, n)
	for i := range events {
		var fields []string // nil when none: the JSON omits an empty list
		if i%3 > 0 {
			fields = []string{"nickname", "phone"}[:i%3]
		}
		events[i] = &usercenter.Event{
			Type:     usercenter.EventTypes[i%len(usercenter.EventTypes)],
			SdkAppID: uint64(i % 3), // 0: the instance's
			At:       Base.Add(time.Duration(i) * time.Millisecond),
			Actor:    fmt.Sprint("key:AKID", i%5),
			Data:     usercenter.EventData{UserID: fmt.Sprint("u", i), Fields: fields},
		}
	}
	events[7].Data = usercenter.EventData{SecretID: "AKIDx", Field: "phone", Disclosure: "reveal", Resealed: 12}
	var first, last usercenter.Event
	MustUpdate(t, s, func(tx core.Tx) error {
		first = usercenter.Event{Type: usercenter.EventAppCreated, SdkAppID: 1, At: Base, Actor: "cli:a"}
		if err := tx.InsertEvents(ctx, []*usercenter.Event{&first}); err != nil {
			return err
		}
		if err := tx.InsertEvents(ctx, nil); err != nil {
			return err
		}
		return tx.InsertEvents(ctx, events)
	})
	MustUpdate(t, s, func(tx core.Tx) error {
		last = usercenter.Event{Type: usercenter.EventKeyRevoked, SdkAppID: 1, At: Base, Actor: "cli:a", Data: usercenter.EventData{SecretID: "AKIDy"}}
		return tx.InsertEvents(ctx, []*usercenter.Event{&last})
	})
	prev := first.ID
	for i, e := range events {
		if e.ID <= prev {
			t.Fatalf("event %d got ID %d after %d", i, e.ID, prev)
		}
		prev = e.ID
	}
	if last.ID <= prev {
		t.Fatalf("an event of a later Update got ID %d after %d", last.ID, prev)
	}

	for app := range uint64(3) {
		var want []usercenter.Event
		if app == 1 {
			want = append(want, first)
		}
		for _, e := range events {
			if e.SdkAppID == app {
				want = append(want, *e)
			}
		}
		if app == 1 {
			want = append(want, last)
		}
		for i := range want {
			want[i].At = want[i].At.UTC()
		}
		got, err := s.EventsAfter(ctx, app, 0, n+10)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("app %d: read %d events, want %d; first %+v, want %+v", app, len(got), len(want), got[:min(1, len(got))], want[:1])
		}
		// Paging with the last ID seen reads each event once.
		var paged []usercenter.Event
		for after := int64(0); ; {
			page, err := s.EventsAfter(ctx, app, after, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 100 {
				t.Fatalf("app %d: a page of %d events, limit 100", app, len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].ID
		}
		if !reflect.DeepEqual(paged, want) {
			t.Fatalf("app %d: paging read %d events, want %d", app, len(paged), len(want))
		}
	}
	if got, err := s.EventsAfter(ctx, 1, last.ID, 10); err != nil || len(got) != 0 {
		t.Fatalf("EventsAfter the last = %v, %v; want none", got, err)
	}
	if got, err := s.EventsAfter(ctx, 4, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("EventsAfter of an app without events = %v, %v; want none", got, err)
	}
}

// testEventsRollBack: a failed Update keeps none of its events, and the
// events of the next Update still come after the committed ones.
func testEventsRollBack(t *testing.T, s core.Store) {
	kept := &usercenter.Event{Type: usercenter.EventUserCreated, SdkAppID: 1, At: Base, Actor: "x", Data: usercenter.EventData{UserID: "kept"}}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertEvents(ctx, []*usercenter.Event{kept}) })
	err := s.Update(ctx, func(tx core.Tx) error {
		lost := &usercenter.Event{Type: usercenter.EventUserDeleted, SdkAppID: 1, At: Base, Actor: "x", Data: usercenter.EventData{UserID: "lost"}}
		if err := tx.InsertEvents(ctx, []*usercenter.Event{lost}); err != nil {
			return err
		}
		return errRefused
	})
	if err == nil {
		t.Fatal("the refused Update succeeded")
	}
	after := &usercenter.Event{Type: usercenter.EventUserUpdated, SdkAppID: 1, At: Base, Actor: "x", Data: usercenter.EventData{UserID: "after", Fields: []string{"nickname"}}}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertEvents(ctx, []*usercenter.Event{after}) })
	got, err := s.EventsAfter(ctx, 1, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Data.UserID != "kept" || got[1].Data.UserID != "after" || got[1].ID <= got[0].ID {
		t.Fatalf("events after a failed Update: %+v", got)
	}
}
