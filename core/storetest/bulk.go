package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// bulkUsers returns n users of app whose OriginIds start with prefix:
// every third a FullUser (sealed values, indexes, two links), the others
// bare, created a nanosecond apart.
func bulkUsers(app uint64, prefix string, n int) []*core.UserRecord {
	users := make([]*core.UserRecord, n)
	for i := range users {
		at := Base.Add(time.Duration(i))
		origin := fmt.Sprintf("%s%04d", prefix, i)
		if i%3 == 0 {
			users[i] = FullUser(app, origin, at)
		} else {
			users[i] = NewUser(app, origin, at)
		}
	}
	return users
}

// wantItemError checks that err is an *core.ItemError for item index with
// the given domain error.
func wantItemError(t testing.TB, err error, index int, code usercenter.Code, fieldOrResource string) {
	t.Helper()
	var ie *core.ItemError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want a *core.ItemError for item %d", err, index)
	}
	if ie.Index != index {
		t.Fatalf("got an error for item %d (%v), want item %d", ie.Index, err, index)
	}
	WantErr(t, ie.Err, code, fieldOrResource)
	// The domain error inside is what callers map.
	WantErr(t, err, code, fieldOrResource)
}

// countUsers returns how many users app has.
func countUsers(t testing.TB, s core.Store, app uint64) int {
	t.Helper()
	_, n, err := s.ListUsers(ctx, app, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testInsertUsers(t *testing.T, s core.Store) {
	AddApps(t, s, 1, 2)
	// More than any chunk an engine may split into, and not a round number.
	users := bulkUsers(1, "bulk", 1000+77)
	MustUpdate(t, s, func(tx core.Tx) error {
		if err := tx.InsertUsers(ctx, nil); err != nil {
			return fmt.Errorf("no users: %w", err)
		}
		return tx.InsertUsers(ctx, users)
	})
	if n := countUsers(t, s, 1); n != len(users) {
		t.Fatalf("%d users stored, want %d", n, len(users))
	}
	for _, i := range []int{0, 1, 2, 63, 64, 65, 500, 999, 1000, len(users) - 1} {
		got, err := s.User(ctx, users[i].ID)
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		WantUser(t, got, users[i])
	}
	// Links and blind indexes are as findable as InsertUser's.
	u := users[300]
	if got, err := s.UserByLink(ctx, 1, usercenter.ProviderQQ, u.ThirdParty[usercenter.ProviderQQ]); err != nil || got.ID != u.ID {
		t.Fatalf("UserByLink = %+v, %v", got, err)
	}
	if got, err := only(s.UsersByIndex(ctx, 1, usercenter.FieldEmail, u.EmailIndex)); err != nil || got.ID != u.ID {
		t.Fatalf("UsersByIndex = %+v, %v", got, err)
	}
	page, err := s.UsersAfter(ctx, 1, "", 5)
	if err != nil || len(page) != 5 {
		t.Fatalf("UsersAfter = %d users, %v", len(page), err)
	}

	// An empty link is no link, as for InsertUser.
	v := FullUser(2, "empty-link", Base)
	v.ThirdParty[usercenter.ProviderApple] = ""
	MustUpdate(t, s, func(tx core.Tx) error { return tx.InsertUsers(ctx, []*core.UserRecord{v}) })
	got, err := s.User(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	WantUser(t, got, v)
}

func testInsertUsersAllOrNothing(t *testing.T, s core.Store) {
	AddApps(t, s, 1)
	stored := FullUser(1, "stored", Base)
	AddUser(t, s, stored)

	for _, c := range []struct {
		name   string
		break_ func(users []*core.UserRecord)
		index  int
		code   usercenter.Code
		what   string
	}{
		{"origin taken", func(u []*core.UserRecord) { u[70].OriginID = "stored" }, 70, usercenter.EConflict, "originId"},
		{"origin twice", func(u []*core.UserRecord) { u[90].OriginID = u[20].OriginID }, 90, usercenter.EConflict, "originId"},
		{"user ID taken", func(u []*core.UserRecord) { u[5].ID = stored.ID }, 5, usercenter.EConflict, "userId"},
		{"user ID twice", func(u []*core.UserRecord) { u[8].ID = u[7].ID }, 8, usercenter.EConflict, "userId"},
		{"link taken", func(u []*core.UserRecord) {
			u[99].ThirdParty[usercenter.ProviderQQ] = stored.ThirdParty[usercenter.ProviderQQ]
		}, 99, usercenter.EConflict, "thirdPartyIds.qq"},
		{"link twice", func(u []*core.UserRecord) {
			u[4].ThirdParty = map[usercenter.Provider]string{usercenter.ProviderWeChatUnion: u[3].ThirdParty[usercenter.ProviderWeChatUnion]}
		}, 4, usercenter.EConflict, "thirdPartyIds.wechatUnion"},
		// The first in order is named, whatever its kind.
		{"first of two", func(u []*core.UserRecord) {
			u[40].OriginID = "stored"
			u[30].ThirdParty = map[usercenter.Provider]string{usercenter.ProviderQQ: stored.ThirdParty[usercenter.ProviderQQ]}
		}, 30, usercenter.EConflict, "thirdPartyIds.qq"},
		{"no app", func(u []*core.UserRecord) { u[2].SdkAppID = 42 }, 2, usercenter.ENotFound, usercenter.ResourceApp},
	} {
		t.Run(c.name, func(t *testing.T) {
			users := bulkUsers(1, c.name+"-", 100)
			c.break_(users)
			after := NewUser(1, c.name+" after", Base)
			var bulkErr error
			// The failure leaves the transaction usable, as InsertUser's
			// do: fn carries on, and what it writes next is committed.
			MustUpdate(t, s, func(tx core.Tx) error {
				bulkErr = tx.InsertUsers(ctx, users)
				return tx.InsertUser(ctx, after)
			})
			wantItemError(t, bulkErr, c.index, c.code, c.what)
			if n := countUsers(t, s, 1); n != 2 {
				t.Fatalf("%d users after a failed InsertUsers, want the 2 stored around it", n)
			}
			for _, u := range users {
				if u.ID == stored.ID {
					continue
				}
				if _, err := s.User(ctx, u.ID); usercenter.ErrorCode(err) != usercenter.ENotFound {
					t.Fatalf("user %s of a failed InsertUsers: %v", u.OriginID, err)
				}
			}
			if got, err := s.UserByLink(ctx, 1, usercenter.ProviderQQ, stored.ThirdParty[usercenter.ProviderQQ]); err != nil || got.ID != stored.ID {
				t.Fatalf("stored user's link after a failed InsertUsers: %+v, %v", got, err)
			}
			MustUpdate(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, after.ID) })
		})
	}

	// A failing fn undoes an InsertUsers that succeeded.
	users := bulkUsers(1, "undone-", 10)
	if err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.InsertUsers(ctx, users); err != nil {
			return err
		}
		return errRefused
	}); err != errRefused {
		t.Fatalf("Update = %v, want %v", err, errRefused)
	}
	if n := countUsers(t, s, 1); n != 1 {
		t.Fatalf("%d users after a refused Update, want 1", n)
	}
}

func testInsertAudits(t *testing.T, s core.Store) {
	const n = 1000 + 33
	events := make([]*usercenter.AuditEvent, n)
	for i := range events {
		events[i] = &usercenter.AuditEvent{
			At:        Base.Add(time.Duration(i%7) * time.Second),
			SdkAppID:  uint64(1 + i%2),
			UserID:    fmt.Sprint("u", i),
			Action:    usercenter.AuditCreate,
			Field:     []string{"", "phone"}[i%2],
			Actor:     "key:AKIDbulk",
			RequestID: fmt.Sprint("req", i/10),
			Reason:    []string{"", "ticket #4711: the user asked, \"why\" – ✓"}[i%2],
		}
	}
	var first usercenter.AuditEvent
	MustUpdate(t, s, func(tx core.Tx) error {
		first = usercenter.AuditEvent{At: Base, SdkAppID: 1, UserID: "before", Action: usercenter.AuditDelete, Actor: "cli"}
		if err := tx.InsertAudit(ctx, &first); err != nil {
			return err
		}
		if err := tx.InsertAudits(ctx, nil); err != nil {
			return err
		}
		return tx.InsertAudits(ctx, events)
	})
	prev := first.ID
	for i, e := range events {
		if e.ID <= prev {
			t.Fatalf("event %d got ID %d after %d", i, e.ID, prev)
		}
		prev = e.ID
	}
	got, err := s.AuditEvents(ctx, usercenter.AuditFilter{AfterID: first.ID, Limit: n + 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read %d events back, want %d", len(got), n)
	}
	for i, e := range got {
		want := *events[i]
		want.At = want.At.UTC()
		if e != want {
			t.Fatalf("event %d: got %+v, want %+v", i, e, want)
		}
	}
}
