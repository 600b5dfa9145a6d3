package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// NewWebhook returns an endpoint of app with every field set, derived
// from id, its lease free.
func NewWebhook(id string, app uint64) *core.WebhookRecord {
	return &core.WebhookRecord{
		Webhook: usercenter.Webhook{
			ID:        id,
			SdkAppID:  app,
			URL:       "https://hooks.example/" + id + "?q=1",
			Events:    []string{"user.*", "pii.disclosed"},
			CreatedAt: Base.UTC(),
			UpdatedAt: Base.Add(time.Second).UTC(),
			WebhookState: usercenter.WebhookState{
				Cursor:        7,
				Attempts:      2,
				RetryingSince: Base.Add(time.Minute).UTC(),
				NextAttemptAt: Base.Add(2 * time.Minute).UTC(),
				FailedAt:      Base.Add(-time.Hour).UTC(),
				FailedEventID: 3,
			},
		},
		SealedSecret: []byte("sealed-" + id),
	}
}

// testWebhooks: endpoints round-trip, are listed by app or all, updated
// (but not their lease) and deleted with their log; the errors are the
// contract's.
func testWebhooks(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	a, b, c := NewWebhook("wh_b", 1), NewWebhook("wh_a", 1), NewWebhook("wh_c", 2)
	c.RetryingSince, c.NextAttemptAt, c.FailedAt = time.Time{}, time.Time{}, time.Time{} // NULLs
	c.LeaseOwner, c.LeaseUntil = "node", Base.Add(time.Hour).UTC()
	MustUpdate(t, s, func(tx core.Tx) error {
		for _, w := range []*core.WebhookRecord{a, b, c} {
			if err := tx.InsertWebhook(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Webhook(ctx, "wh_c")
	if err != nil || !reflect.DeepEqual(*got, *c) {
		t.Fatalf("Webhook = %+v, %v\nwant %+v", got, err, c)
	}
	list, err := s.Webhooks(ctx, 1)
	if err != nil || len(list) != 2 || !reflect.DeepEqual(list[0], *b) || !reflect.DeepEqual(list[1], *a) {
		t.Fatalf("Webhooks(1) = %+v, %v", list, err)
	}
	if all, err := s.Webhooks(ctx, 0); err != nil || len(all) != 3 || all[2].ID != "wh_c" {
		t.Fatalf("Webhooks(0) = %+v, %v", all, err)
	}
	if none, err := s.Webhooks(ctx, 9); err != nil || len(none) != 0 {
		t.Fatalf("Webhooks(9) = %+v, %v", none, err)
	}

	err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertWebhook(ctx, NewWebhook("wh_a", 2)) })
	if e := usercenter.ErrorOf(err); e == nil || e.Code != usercenter.EConflict || e.Field != usercenter.FieldWebhookID {
		t.Fatalf("duplicate ID: %v", err)
	}
	err = s.Update(ctx, func(tx core.Tx) error { return tx.InsertWebhook(ctx, NewWebhook("wh_x", 99)) })
	if e := usercenter.ErrorOf(err); e == nil || e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceApp {
		t.Fatalf("unknown app: %v", err)
	}

	// UpdateWebhook writes all but the ID, app, creation time and lease.
	upd := *c
	upd.URL, upd.Events, upd.SealedSecret = "http://other.example/x", []string{"*"}, []byte("resealed")
	upd.UpdatedAt = Base.Add(time.Hour).UTC()
	upd.WebhookState = a.WebhookState
	upd.SdkAppID, upd.CreatedAt, upd.LeaseOwner, upd.LeaseUntil = 1, Base.Add(9*time.Hour).UTC(), "", time.Time{}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.UpdateWebhook(ctx, &upd) })
	want := upd
	want.SdkAppID, want.CreatedAt, want.LeaseOwner, want.LeaseUntil = c.SdkAppID, c.CreatedAt, c.LeaseOwner, c.LeaseUntil
	if got, err := s.Webhook(ctx, "wh_c"); err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("after UpdateWebhook: %+v, %v\nwant %+v", got, err, want)
	}

	MustUpdate(t, s, func(tx core.Tx) error {
		return tx.InsertWebhookDeliveries(ctx, "wh_a", []*usercenter.WebhookDelivery{{EventID: 1, EventType: usercenter.EventUserCreated, Attempt: 1, At: Base, Result: usercenter.DeliveryOK}}, 10)
	})
	MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteWebhook(ctx, "wh_a") })
	if _, err := s.Webhook(ctx, "wh_a"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("deleted endpoint: %v", err)
	}
	if log, err := s.WebhookDeliveries(ctx, "wh_a", 10); err != nil || len(log) != 0 {
		t.Fatalf("a deleted endpoint's log: %+v, %v", log, err)
	}
	for name, fn := range map[string]func(core.Tx) error{
		"update": func(tx core.Tx) error { return tx.UpdateWebhook(ctx, NewWebhook("wh_a", 1)) },
		"delete": func(tx core.Tx) error { return tx.DeleteWebhook(ctx, "wh_a") },
		"claim": func(tx core.Tx) error {
			_, err := tx.ClaimWebhook(ctx, "wh_a", "n", Base, Base.Add(time.Minute))
			return err
		},
		"log": func(tx core.Tx) error {
			return tx.InsertWebhookDeliveries(ctx, "wh_a", []*usercenter.WebhookDelivery{{At: Base, Result: usercenter.DeliveryTest}}, 10)
		},
	} {
		err := s.Update(ctx, fn)
		if e := usercenter.ErrorOf(err); e == nil || e.Code != usercenter.ENotFound || e.Resource != usercenter.ResourceWebhook {
			t.Errorf("%s of a missing endpoint: %v", name, err)
		}
	}
	if _, err := s.Webhook(ctx, "wh_\x00"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("an ID no row can have: %v", err)
	}
}

func claim(t *testing.T, s core.Store, id, owner string, now time.Time, lease time.Duration) *core.WebhookRecord {
	t.Helper()
	var w *core.WebhookRecord
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		w, err = tx.ClaimWebhook(ctx, id, owner, now, now.Add(lease))
		return err
	})
	return w
}

func save(t *testing.T, s core.Store, id, owner string, prev int64, st usercenter.WebhookState, until time.Time) bool {
	t.Helper()
	var ok bool
	MustUpdate(t, s, func(tx core.Tx) error {
		var err error
		ok, err = tx.SaveWebhookState(ctx, id, owner, prev, st, until)
		return err
	})
	return ok
}

// testWebhookLease: a lease excludes other owners until it ends; a save
// needs the lease and the cursor it started from; an endpoint whose next
// attempt is not due is not claimed.
func testWebhookLease(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	w := NewWebhook("wh_1", 1)
	w.NextAttemptAt = time.Time{}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertWebhook(ctx, w) })
	now := Base.UTC()

	got := claim(t, s, "wh_1", "A", now, time.Minute)
	if got == nil || got.LeaseOwner != "A" || !got.LeaseUntil.Equal(now.Add(time.Minute)) || got.Cursor != 7 {
		t.Fatalf("first claim: %+v", got)
	}
	if got := claim(t, s, "wh_1", "B", now.Add(59*time.Second), time.Minute); got != nil {
		t.Fatalf("B claimed a leased endpoint: %+v", got)
	}
	if got := claim(t, s, "wh_1", "A", now.Add(30*time.Second), time.Minute); got == nil {
		t.Fatal("the owner could not renew its lease")
	}
	st := usercenter.WebhookState{Cursor: 9}
	if save(t, s, "wh_1", "B", 7, st, now.Add(2*time.Minute)) {
		t.Fatal("B saved without the lease")
	}
	if save(t, s, "wh_1", "A", 8, st, now.Add(2*time.Minute)) {
		t.Fatal("A saved from a cursor that moved")
	}
	if !save(t, s, "wh_1", "A", 7, st, now.Add(2*time.Minute)) {
		t.Fatal("A could not save")
	}
	if got, _ := s.Webhook(ctx, "wh_1"); !reflect.DeepEqual(got.WebhookState, st) || !got.LeaseUntil.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("saved %+v until %v", got.WebhookState, got.LeaseUntil)
	}
	// A node that dies leaves its lease to end.
	got = claim(t, s, "wh_1", "B", now.Add(2*time.Minute), time.Minute)
	if got == nil || got.LeaseOwner != "B" {
		t.Fatalf("B could not take over an ended lease: %+v", got)
	}
	if save(t, s, "wh_1", "A", 9, st, now.Add(3*time.Minute)) {
		t.Fatal("A saved after losing its lease")
	}
	// A retry not yet due; then released.
	later := usercenter.WebhookState{Cursor: 9, Attempts: 1, RetryingSince: now, NextAttemptAt: now.Add(10 * time.Minute)}
	if !save(t, s, "wh_1", "B", 9, later, time.Time{}) {
		t.Fatal("B could not release")
	}
	if got := claim(t, s, "wh_1", "A", now.Add(9*time.Minute), time.Minute); got != nil {
		t.Fatalf("claimed before the next attempt was due: %+v", got)
	}
	if got := claim(t, s, "wh_1", "A", now.Add(10*time.Minute), time.Minute); got == nil || !reflect.DeepEqual(got.WebhookState, later) {
		t.Fatalf("claim when due: %+v", got)
	}
}

// testWebhookLeaseConcurrent: of many owners claiming one endpoint at
// once, exactly one gets it.
func testWebhookLeaseConcurrent(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	w := NewWebhook("wh_1", 1)
	w.NextAttemptAt = time.Time{}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertWebhook(ctx, w) })
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		owners []string
		errs   []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("node", i)
			var got *core.WebhookRecord
			err := s.Update(ctx, func(tx core.Tx) error {
				var err error
				got, err = tx.ClaimWebhook(ctx, "wh_1", owner, Base, Base.Add(time.Minute))
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if got != nil {
				owners = append(owners, owner)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 || len(owners) != 1 {
		t.Fatalf("claimed by %v; errors %v", owners, errs)
	}
	if got, _ := s.Webhook(ctx, "wh_1"); got.LeaseOwner != owners[0] {
		t.Fatalf("lease held by %q, claimed by %q", got.LeaseOwner, owners[0])
	}
}

// testWebhookDeliveries: the log keeps the newest entries, newest first,
// each as written.
func testWebhookDeliveries(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertWebhook(ctx, NewWebhook("wh_1", 1)); err != nil {
			return err
		}
		return tx.InsertWebhook(ctx, NewWebhook("wh_2", 1))
	})
	var all []*usercenter.WebhookDelivery
	for batch := range 3 {
		var ds []*usercenter.WebhookDelivery
		for i := range 2 {
			n := batch*2 + i
			ds = append(ds, &usercenter.WebhookDelivery{
				EventID: int64(n + 1), EventType: usercenter.EventUserCreated, Attempt: n + 1,
				At: Base.Add(time.Duration(n) * time.Second).UTC(), StatusCode: 500 + n, Latency: time.Duration(n) * time.Millisecond,
				Result: usercenter.DeliveryFailed, Error: fmt.Sprint("status ", 500+n),
			})
		}
		MustUpdate(t, s, func(tx core.Tx) error {
			if err := tx.InsertWebhookDeliveries(ctx, "wh_2", []*usercenter.WebhookDelivery{{At: Base, Result: usercenter.DeliveryTest}}, 5); err != nil {
				return err
			}
			return tx.InsertWebhookDeliveries(ctx, "wh_1", ds, 4)
		})
		all = append(all, ds...)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID || all[i].WebhookID != "wh_1" {
			t.Fatalf("delivery %d: ID %d after %d, endpoint %q", i, all[i].ID, all[i-1].ID, all[i].WebhookID)
		}
	}
	got, err := s.WebhookDeliveries(ctx, "wh_1", 100)
	if err != nil || len(got) != 4 {
		t.Fatalf("log of 6 keeping 4: %d entries, %v", len(got), err)
	}
	for i, d := range got {
		if want := *all[len(all)-1-i]; !reflect.DeepEqual(d, want) {
			t.Fatalf("entry %d = %+v, want %+v", i, d, want)
		}
	}
	if got, _ := s.WebhookDeliveries(ctx, "wh_1", 2); len(got) != 2 || got[0].ID != all[5].ID {
		t.Fatalf("limit 2: %+v", got)
	}
	if got, _ := s.WebhookDeliveries(ctx, "wh_2", 100); len(got) != 3 {
		t.Fatalf("another endpoint's log: %d entries, want 3", len(got))
	}
}

// testWebhookOutboxReads: FirstEventSince and EventBacklog read one app's
// outbox.
func testWebhookOutboxReads(t *testing.T, s core.Store) {
	var evs []*usercenter.Event
	for i := range 6 {
		evs = append(evs, &usercenter.Event{Type: usercenter.EventUserCreated, SdkAppID: uint64(1 + i%2), At: Base.Add(time.Duration(i) * time.Minute), Actor: "a"})
	}
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertEvents(ctx, evs) })
	// App 1 has events 0, 2, 4 at minutes 0, 2, 4.
	for _, c := range []struct {
		since time.Time
		want  int64
	}{
		{Base.Add(-time.Hour), evs[0].ID},
		{Base.Add(time.Minute), evs[2].ID},
		{Base.Add(2 * time.Minute), evs[2].ID},
		{Base.Add(5 * time.Minute), 0},
	} {
		if got, err := s.FirstEventSince(ctx, 1, c.since); err != nil || got != c.want {
			t.Errorf("FirstEventSince(%v) = %d, %v; want %d", c.since, got, err, c.want)
		}
	}
	n, oldest, err := s.EventBacklog(ctx, 1, evs[0].ID)
	if err != nil || n != 2 || !oldest.Equal(evs[2].At) {
		t.Fatalf("EventBacklog = %d, %v, %v; want 2 from %v", n, oldest, err, evs[2].At)
	}
	if n, oldest, err := s.EventBacklog(ctx, 1, evs[4].ID); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("EventBacklog at the end = %d, %v, %v", n, oldest, err)
	}
}
