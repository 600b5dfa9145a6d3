package core_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// eventIDs are the IDs of a page's events.
func eventIDs(events []usercenter.Event) []int64 {
	var ids []int64
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestEventsPages: an app's events page in ID order with Next and More;
// events written between pages come on the next; types filter them.
func TestEventsPages(t *testing.T) {
	svc, _ := svctest.New(t)
	admin := usercenter.OperatorAs("cli:alice")
	app, first, err := svc.CreateApp(bg, admin, core.NewApp{Name: "pages"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := svc.CreateApp(bg, admin, core.NewApp{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	key := first.Actor()
	for i := range 5 {
		mustUser(t, svc, key, app.SdkAppID, core.UserPatch{OriginID: ptr(string(rune('a' + i)))})
	}
	// app.created, key.created, 5 user.created.
	all, err := svc.Events(bg, key, core.EventQuery{SdkAppID: app.SdkAppID})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Events) != 7 || all.More || all.Next != all.Events[6].ID {
		t.Fatalf("the whole outbox: %d events, more %v, next %d", len(all.Events), all.More, all.Next)
	}
	for _, e := range all.Events {
		if e.SdkAppID != app.SdkAppID {
			t.Fatalf("an event of app %d among app %d's", e.SdkAppID, app.SdkAppID)
		}
	}
	p1, err := svc.Events(bg, key, core.EventQuery{SdkAppID: app.SdkAppID, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(eventIDs(p1.Events), eventIDs(all.Events[:4])) || !p1.More || p1.Next != all.Events[3].ID {
		t.Fatalf("first page: %v more %v next %d", eventIDs(p1.Events), p1.More, p1.Next)
	}
	// A user created between pages, and one in the other app, which this
	// app's pages never show.
	late := mustUser(t, svc, key, app.SdkAppID, core.UserPatch{OriginID: ptr("late")})
	mustUser(t, svc, usercenter.Operator(), other.SdkAppID, core.UserPatch{OriginID: ptr("elsewhere")})
	p2, err := svc.Events(bg, key, core.EventQuery{SdkAppID: app.SdkAppID, After: p1.Next, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Events) != 4 || !slices.Equal(eventIDs(p2.Events[:3]), eventIDs(all.Events[4:])) || p2.Events[3].Data.UserID != late.ID || p2.More {
		t.Fatalf("second page: %+v more %v", p2.Events, p2.More)
	}
	// Past the end: empty, and Next stays where it was.
	p3, err := svc.Events(bg, key, core.EventQuery{SdkAppID: app.SdkAppID, After: p2.Next})
	if err != nil || len(p3.Events) != 0 || p3.Next != p2.Next || p3.More {
		t.Fatalf("after the last: %+v, %v", p3, err)
	}
	keys, err := svc.Events(bg, key, core.EventQuery{SdkAppID: app.SdkAppID, Types: []usercenter.EventType{usercenter.EventKeyCreated, usercenter.EventAppCreated}})
	if err != nil || !slices.Equal(eventIDs(keys.Events), eventIDs(all.Events[:2])) {
		t.Fatalf("app and key events: %+v, %v", keys, err)
	}

	// Only an operator learns the newest ID, which is every app's last.
	if _, err := svc.LastEventID(bg, key); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Fatalf("LastEventID for a key: %v", err)
	}
	newest, err := svc.LastEventID(bg, admin)
	if err != nil {
		t.Fatal(err)
	}
	if rest, err := svc.Events(bg, admin, core.EventQuery{EveryApp: true, After: newest}); err != nil || len(rest.Events) != 0 || newest < p2.Next {
		t.Fatalf("after LastEventID %d: %+v, %v", newest, rest, err)
	}

	// An operator follows every app's events and the instance's.
	every, err := svc.Events(bg, admin, core.EventQuery{EveryApp: true, After: p1.Next, Limit: core.MaxEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	var apps []uint64
	for _, e := range every.Events {
		apps = append(apps, e.SdkAppID)
	}
	if !slices.Contains(apps, other.SdkAppID) || !slices.Contains(apps, app.SdkAppID) {
		t.Fatalf("every app's events after the first page are of apps %v", apps)
	}
}

// TestEventsAuthorization: a key reads its own apps' events only; any
// other app, and the instance's or every app's events, are not found
// exactly as an app that does not exist.
func TestEventsAuthorization(t *testing.T) {
	env, appB, _ := newEnv(t)
	svc := env.Svc
	appA := env.App.SdkAppID
	missing := usercenter.NotFound(usercenter.ResourceApp)
	readOnly := env.NewKey(t, []uint64{appA}, usercenter.PermUsersRead).Actor()
	writeOnly := env.NewKey(t, []uint64{appA}, usercenter.PermUsersWrite).Actor()
	cases := []struct {
		name  string
		actor *usercenter.Actor
		q     core.EventQuery
		code  usercenter.Code
	}{
		{"own app", readOnly, core.EventQuery{SdkAppID: appA}, ""},
		{"own app without users.read", writeOnly, core.EventQuery{SdkAppID: appA}, usercenter.EForbidden},
		{"another app", env.Key.Actor(), core.EventQuery{SdkAppID: appB.SdkAppID}, usercenter.ENotFound},
		{"an app that does not exist", env.Key.Actor(), core.EventQuery{SdkAppID: 999999}, usercenter.ENotFound},
		{"the instance's", env.Key.Actor(), core.EventQuery{SdkAppID: 0}, usercenter.ENotFound},
		{"every app's", env.Key.Actor(), core.EventQuery{EveryApp: true}, usercenter.ENotFound},
		{"every app's, by the operator", usercenter.Operator(), core.EventQuery{EveryApp: true}, ""},
		{"the instance's, by the operator", usercenter.Operator(), core.EventQuery{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := svc.Events(bg, c.actor, c.q)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, c.code)
			if c.code == usercenter.ENotFound && err.Error() != missing.Error() {
				t.Fatalf("answered %q, not exactly as a missing app (%q)", err, missing)
			}
			if page != nil {
				t.Fatalf("a refused read returned %+v", page)
			}
		})
	}
}

// TestEventsBadInput: limits, cursors and types outside the rules are
// invalid, each naming its parameter.
func TestEventsBadInput(t *testing.T) {
	env := uctest.New(t)
	actor := env.Key.Actor()
	app := env.App.SdkAppID
	for _, c := range []struct {
		q     core.EventQuery
		field usercenter.Field
	}{
		{core.EventQuery{SdkAppID: app, Limit: -1}, usercenter.FieldPageSize},
		{core.EventQuery{SdkAppID: app, Limit: core.MaxEventLimit + 1}, usercenter.FieldPageSize},
		{core.EventQuery{SdkAppID: app, After: -1}, usercenter.FieldCursor},
		{core.EventQuery{SdkAppID: app, Types: []usercenter.EventType{"user.nope"}}, ""},
	} {
		_, err := env.Svc.Events(bg, actor, c.q)
		wantCode(t, err, usercenter.EInvalid)
		if f := usercenter.ErrorOf(err).Field; f != c.field {
			t.Errorf("%+v: field %q, want %q", c.q, f, c.field)
		}
	}
	if _, err := env.Svc.Events(bg, actor, core.EventQuery{SdkAppID: app, Limit: core.MaxEventLimit}); err != nil {
		t.Fatalf("the largest page: %v", err)
	}
}

// TestPurgeEvents: the purge deletes the events older than the retention
// and keeps the younger ones; a retention below the minimum keeps the
// default.
func TestPurgeEvents(t *testing.T) {
	svc, clock := newFrozen(t, core.WithEventRetention(30*time.Hour))
	if got := svc.EventRetention(); got != 30*time.Hour {
		t.Fatalf("EventRetention = %v", got)
	}
	op := usercenter.Operator()
	old, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(29 * time.Hour)
	young, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "young"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour + time.Second) // old is 30 h 1 s old; young 1 h 1 s
	n, err := svc.PurgeEvents(bg)
	if err != nil || n != 2 { // old's app.created and key.created
		t.Fatalf("PurgeEvents = %d, %v; want 2", n, err)
	}
	left, err := svc.Events(bg, op, core.EventQuery{EveryApp: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left.Events {
		if e.SdkAppID == old.SdkAppID {
			t.Fatalf("an event older than the retention stayed: %+v", e)
		}
	}
	if len(left.Events) != 2 || left.Events[0].SdkAppID != young.SdkAppID {
		t.Fatalf("the young app's events: %+v", left.Events)
	}
	if n, err := svc.PurgeEvents(bg); err != nil || n != 0 {
		t.Fatalf("a second purge = %d, %v", n, err)
	}

	short, _ := newFrozen(t, core.WithEventRetention(core.MinEventRetention-time.Second))
	if got := short.EventRetention(); got != core.DefaultEventRetention {
		t.Fatalf("a retention below the minimum became %v", got)
	}
}

// TestPurgeKeepsUndelivered: an event a webhook endpoint has yet to
// deliver outlives the retention; the events before it do not.
func TestPurgeKeepsUndelivered(t *testing.T) {
	svc, clock := newFrozen(t, core.WithEventRetention(30*time.Hour), core.WithWebhookSender(&fakeSender{}))
	op := usercenter.Operator()
	app, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "hooked"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateWebhook(bg, op, core.NewWebhook{SdkAppID: app.SdkAppID, URL: "https://public.example/x", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	u, err := svc.CreateUsers(bg, op, app.SdkAppID, []core.UserPatch{{OriginID: ptr("waiting")}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * time.Hour) // every event is past the retention; no dispatcher ran
	// app.created, key.created and webhook.created are at or before the
	// endpoint's cursor; user.created is after it.
	if n, err := svc.PurgeEvents(bg); err != nil || n != 3 {
		t.Fatalf("PurgeEvents = %d, %v; want 3", n, err)
	}
	left, err := svc.Events(bg, op, core.EventQuery{EveryApp: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Events) != 1 || left.Events[0].Type != usercenter.EventUserCreated || left.Events[0].Data.UserID != u[0].ID {
		t.Fatalf("left after the purge: %+v", left.Events)
	}
}

// TestRevokeUserTokens: every login token of the user stops answering,
// no other user's does, and the count says how many were live.
func TestRevokeUserTokens(t *testing.T) {
	env, _, keyB := newEnv(t)
	svc, key := env.Svc, env.Key.Actor()
	u := mustUser(t, svc, key, env.App.SdkAppID, core.UserPatch{OriginID: ptr("lost-phone")})
	v := mustUser(t, svc, key, env.App.SdkAppID, core.UserPatch{OriginID: ptr("bystander")})
	var sessions []*core.Session
	for _, id := range []string{u.ID, u.ID, v.ID} {
		s, err := svctest.LoginUser(svc, bg, key, id)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	// Refused: a key of another app (as if the user did not exist), and a
	// key without users.write.
	_, err := svc.RevokeUserTokens(bg, keyB.Actor(), u.ID)
	wantCode(t, err, usercenter.ENotFound)
	_, err = svc.RevokeUserTokens(bg, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead).Actor(), u.ID)
	wantCode(t, err, usercenter.EForbidden)
	_, err = svc.RevokeUserTokens(bg, key, "u_nobody")
	wantCode(t, err, usercenter.ENotFound)
	if _, err := svc.Me(bg, sessions[0].Token); err != nil {
		t.Fatalf("a refused revocation ended a token: %v", err)
	}

	n, err := svc.RevokeUserTokens(bg, key, u.ID)
	if err != nil || n != 2 {
		t.Fatalf("RevokeUserTokens = %d, %v; want 2", n, err)
	}
	for _, s := range sessions[:2] {
		if _, err := svc.Me(bg, s.Token); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
			t.Fatalf("a revoked token still answers: %v", err)
		}
	}
	if _, err := svc.Me(bg, sessions[2].Token); err != nil {
		t.Fatalf("another user's token was revoked: %v", err)
	}
	// The user logs in again as before.
	again, err := svctest.LoginUser(svc, bg, key, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Me(bg, again.Token); err != nil {
		t.Fatalf("a token after the revocation: %v", err)
	}
}

// TestPurgeExpiredPurgesEvents: the background purge deletes events past
// their retention along with the expired rows, and says how many.
func TestPurgeExpiredPurgesEvents(t *testing.T) {
	logs := &uctest.LogBuffer{}
	svc, clock := newFrozen(t, core.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	op := usercenter.Operator()
	if _, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "old"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(core.DefaultEventRetention + time.Minute)
	young, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "young"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.PurgeExpired(ctx, 20*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(logs.String(), `msg="purged expired events" count=2`); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no purge pass deleted the 2 old events in a minute; log:\n%s", logs.String())
		}
	}
	left, err := svc.Events(bg, op, core.EventQuery{EveryApp: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Events) != 2 || left.Events[0].SdkAppID != young.SdkAppID || left.Events[1].SdkAppID != young.SdkAppID {
		t.Fatalf("after the purge: %+v", left.Events)
	}
}
