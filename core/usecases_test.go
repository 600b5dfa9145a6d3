package core_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

func TestRateLimitPerAction(t *testing.T) {
	env := uctest.New(t, uctest.Options{RateLimit: 3})
	key := env.Key.Actor()
	app := env.App.SdkAppID
	u := mustUser(t, env.Svc, key, app, personal("u", "", "", ""))
	get := core.WithAction(bg, "GetUser")
	for i := 0; i < 3; i++ {
		if _, err := env.Svc.GetUser(get, key, u.ID, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := env.Svc.GetUser(get, key, u.ID, nil)
	wantCode(t, err, usercenter.ERateLimited)
	// Another action has its own budget; calls without an action (the
	// CLI) are not limited.
	if _, err := env.Svc.GetUser(core.WithAction(bg, "FindUsers"), key, u.ID, nil); err != nil {
		t.Fatalf("other action: %v", err)
	}
	if _, err := env.Svc.GetUser(bg, key, u.ID, nil); err != nil {
		t.Fatalf("no action: %v", err)
	}
	// A rate-limited reveal discloses nothing and writes no event.
	before := lastEventID(t, env.Store)
	_, err = env.Svc.GetUser(get, usercenter.Operator(), u.ID, usercenter.PIIFields)
	wantCode(t, err, usercenter.ERateLimited)
	wantEvents(t, eventsAfter(t, env.Store, before))
	env.Clock.Advance(time.Second)
	if _, err := env.Svc.GetUser(get, key, u.ID, nil); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}

func TestUserIDParam(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	_, err := env.Svc.GetUser(bg, key, "", nil)
	wantCode(t, err, usercenter.EInvalid)
	_, err = env.Svc.GetUser(bg, key, strings.Repeat("a", 65), nil)
	wantCode(t, err, usercenter.EInvalid)
	for _, id := range []string{"nope", usercenter.NewUserID(time.Now())} {
		_, err = env.Svc.GetUser(bg, key, id, nil)
		wantCode(t, err, usercenter.ENotFound)
		_, err = env.Svc.UpdateUser(bg, key, id, core.UserPatch{})
		wantCode(t, err, usercenter.ENotFound)
		wantCode(t, env.Svc.DeleteUser(bg, key, id), usercenter.ENotFound)
	}
}

func TestFindUsersLookupRules(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	u := mustUser(t, env.Svc, key, app, core.UserPatch{OriginID: ptr("o-1"), Phone: ptr(phone1),
		ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderWeChatUnion: ptr("union-1")}})
	// No lookup at all is a plain listing; the facades that take only
	// lookups (REST's lookup parameters, user find) insist on one.
	for _, l := range []core.UserQuery{
		{OriginID: "o-1", Phone: phone1},
		{Phone: phone1, Email: email1},
		{Provider: usercenter.ProviderQQ},
		{ProviderUserID: "x"},
		{Provider: "myspace", ProviderUserID: "x"},
		{OriginID: "a b"},
	} {
		_, err := svctest.FindUsers(env.Svc, bg, key, app, l, nil)
		wantCode(t, err, usercenter.EInvalid)
	}
	for _, l := range []core.UserQuery{
		{OriginID: "o-1"},
		{Provider: usercenter.ProviderWeChatUnion, ProviderUserID: "union-1"},
	} {
		users, err := svctest.FindUsers(env.Svc, bg, key, app, l, nil)
		if err != nil || len(users) != 1 || users[0].ID != u.ID {
			t.Errorf("FindUsers(%+v) = %+v, %v", l, users, err)
		}
	}
	for _, l := range []core.UserQuery{{OriginID: "o-2"}, {Provider: usercenter.ProviderWeChatUnion, ProviderUserID: "union-2"}} {
		users, err := svctest.FindUsers(env.Svc, bg, key, app, l, nil)
		if err != nil || len(users) != 0 {
			t.Errorf("FindUsers(%+v) = %+v, %v; want none", l, users, err)
		}
	}
	_, err := svctest.FindUsers(env.Svc, bg, key, 1, core.UserQuery{OriginID: "o-1"}, nil)
	wantCode(t, err, usercenter.ENotFound)
}

func TestUsersPageRules(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	for _, limit := range []int{-1, core.MaxPageSize + 1} {
		_, _, err := svctest.UsersPage(env.Svc, bg, key, app, "", limit, nil)
		wantCode(t, err, usercenter.EInvalid)
	}
	for _, cursor := range []string{"!!", "abc", base64.RawURLEncoding.EncodeToString([]byte("short"))} {
		_, _, err := svctest.UsersPage(env.Svc, bg, key, app, cursor, 10, nil)
		wantCode(t, err, usercenter.EInvalid)
	}
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, mustUser(t, env.Svc, key, app, personal("u", "", "", "")).ID)
	}
	users, next, err := svctest.UsersPage(env.Svc, bg, key, app, "", 5, nil)
	if err != nil || len(users) != 5 || next != "" {
		t.Fatalf("one full page: %d users, next %q, %v", len(users), next, err)
	}
	// ListUsers pages in creation order with a total.
	page, total, err := svctest.ListUsers(env.Svc, bg, key, app, 2, 2)
	if err != nil || total != 5 || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[3] {
		t.Fatalf("ListUsers page 2 = %d users, total %d, %v", len(page), total, err)
	}
	// Page numbers past what a protocol allows are its facade's to refuse
	// (LCIC's Page, the enterprise page); core refuses only what no page is.
	for _, pl := range [][2]int{{0, 10}, {1, 0}, {1, core.MaxPageSize + 1}} {
		_, _, err := svctest.ListUsers(env.Svc, bg, key, app, pl[0], pl[1])
		wantCode(t, err, usercenter.EInvalid)
	}
}

// TestCreateKeyRefusesUnknownPermissions: a key is created only with the
// permissions the domain knows, whatever the facade let through.
func TestCreateKeyRefusesUnknownPermissions(t *testing.T) {
	svc, _ := newFrozen(t)
	op := usercenter.Operator()
	app, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "perms"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateKey(bg, op, "god", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead, "god"})
	if e := usercenter.ErrorOf(err); e == nil || e.Code != usercenter.EInvalid || e.Field != usercenter.FieldPermissions {
		t.Fatalf("CreateKey with an unknown permission: %v", err)
	}
	if _, err := svc.CreateKey(bg, op, "reader", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead}); err != nil {
		t.Fatal(err)
	}
}
