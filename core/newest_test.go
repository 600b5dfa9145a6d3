package core_test

import (
	"slices"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// walk pages through q with a cursor, page size limit, and returns the
// UserIds in the order listed.
func walk(t *testing.T, svc *core.Service, actor *usercenter.Actor, q core.UserQuery) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the walk does not end")
		}
		page, err := svc.ListUsers(bg, actor, q)
		if err != nil {
			t.Fatalf("ListUsers(%+v): %v", q, err)
		}
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if page.Next == "" {
			return ids
		}
		q.Cursor = page.Next
	}
}

// Newest lists exactly the users of the oldest-first listing, in reverse,
// page by page, with the creation-time filters applied.
func TestListUsersNewestFirst(t *testing.T) {
	svc, clock := newFrozen(t)
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "newest"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	start := clock.Now()
	var created []string
	for i := range 25 {
		u := mustUser(t, svc, actor, app.SdkAppID, core.UserPatch{})
		created = append(created, u.ID)
		clock.Advance(time.Second + time.Duration(i)*time.Millisecond)
	}
	oldest := walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 7})
	if !slices.Equal(oldest, created) {
		t.Fatalf("oldest first: %v, want %v", oldest, created)
	}
	newest := walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 7, Newest: true})
	want := slices.Clone(created)
	slices.Reverse(want)
	if !slices.Equal(newest, want) {
		t.Fatalf("newest first: %v, want %v", newest, want)
	}

	// Users 5 to 14, newest first.
	since, until := start.Add(5*time.Second), start.Add(15*time.Second)
	window := walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 4, Newest: true, CreatedSince: since, CreatedUntil: until})
	want = slices.Clone(created[5:15])
	slices.Reverse(want)
	if !slices.Equal(window, want) {
		t.Fatalf("newest first in [since, until): %v, want %v", window, want)
	}

	_, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 7, Newest: true, Offset: 7})
	wantCode(t, err, usercenter.EInvalid)
}
