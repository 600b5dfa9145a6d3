package core_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// A window of the last change lists the users changed in it, in order of
// that change, page by page through the index: created ones at their
// creation, updated ones at their update, with the status filter applied
// along the way.
func TestListUsersByModification(t *testing.T) {
	svc, clock := newFrozen(t)
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "modified"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	start := clock.Now()
	var created []string
	for i := range 12 {
		// Three users share each instant: the UserId orders them.
		u := mustUser(t, svc, actor, app.SdkAppID, core.UserPatch{})
		created = append(created, u.ID)
		if i%3 == 2 {
			clock.Advance(time.Second)
		}
	}
	// At start+10s, users 1 and 4 change; user 4 is disabled.
	clock.Advance(start.Add(10 * time.Second).Sub(clock.Now()))
	if _, err := svc.UpdateUser(bg, actor, created[1], core.UserPatch{Nickname: ptr("one")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateUser(bg, actor, created[4], core.UserPatch{Status: ptr(usercenter.UserDisabled)}); err != nil {
		t.Fatal(err)
	}
	// Users changed at one instant are in UserId order.
	sameInstant := func(ids ...string) []string { ids = slices.Clone(ids); slices.Sort(ids); return ids }
	// Everything since start+1s: users 3 to 11 but 4 (changed at +1s..+3s),
	// then 1 and 4 (changed at +10s).
	want := slices.Concat(sameInstant(created[3], created[5]), sameInstant(created[6:9]...),
		sameInstant(created[9:12]...), sameInstant(created[1], created[4]))
	for _, limit := range []int{1, 2, 5, 100} {
		got := walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: limit, ModifiedSince: start.Add(time.Second)})
		if !slices.Equal(got, want) {
			t.Fatalf("since +1s, %d a page: %v, want %v", limit, got, want)
		}
	}
	// [+1s, +3s): users 3 to 8 but 4.
	got := walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, ModifiedSince: start.Add(time.Second), ModifiedUntil: start.Add(3 * time.Second)})
	if w := slices.Concat(sameInstant(created[3], created[5]), sameInstant(created[6:9]...)); !slices.Equal(got, w) {
		t.Fatalf("[+1s, +3s): %v, want %v", got, w)
	}
	// Until +1s: users 0 and 2 (1 changed later).
	got = walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 1, ModifiedUntil: start.Add(time.Second)})
	if w := sameInstant(created[0], created[2]); !slices.Equal(got, w) {
		t.Fatalf("until +1s: %v, want %v", got, w)
	}
	// Disabled since +5s: user 4 only.
	got = walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 3, ModifiedSince: start.Add(5 * time.Second), Status: ptr(usercenter.UserDisabled)})
	if w := []string{created[4]}; !slices.Equal(got, w) {
		t.Fatalf("disabled since +5s: %v, want %v", got, w)
	}
	// An empty window lists nobody.
	got = walk(t, svc, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 3, ModifiedSince: start.Add(5 * time.Second), ModifiedUntil: start})
	if len(got) != 0 {
		t.Fatalf("empty window: %v", got)
	}

	// A cursor of the creation order is not one of this order, nor the
	// reverse, and offsets do not page it.
	page, err := svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2})
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	_, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, ModifiedSince: start, Cursor: page.Next})
	wantCode(t, err, usercenter.EInvalid)
	page, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, ModifiedSince: start})
	if err != nil || page.Next == "" {
		t.Fatalf("first page by modification: %+v, %v", page, err)
	}
	_, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, Cursor: page.Next})
	wantCode(t, err, usercenter.EInvalid)
	_, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, ModifiedSince: start, Offset: 2})
	wantCode(t, err, usercenter.EInvalid)
	_, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, ModifiedSince: start, Newest: true})
	wantCode(t, err, usercenter.EInvalid)
	for _, bad := range []string{"bQ", "bTEyOng", "m12:" + created[0], fmt.Sprint(start.UnixNano())} {
		_, err = svc.ListUsers(bg, actor, core.UserQuery{SdkAppID: app.SdkAppID, Limit: 2, ModifiedSince: start, Cursor: bad})
		wantCode(t, err, usercenter.EInvalid)
	}
}
