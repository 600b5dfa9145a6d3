package core_test

import (
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// consoleActor is an actor as the console makes one: a person who must
// give a reason to see personal data.
func consoleActor(apps []uint64, perms ...usercenter.Permission) *usercenter.Actor {
	return &usercenter.Actor{Name: "console:acc1", Apps: apps, AllApps: apps == nil, Permissions: perms, NeedsReason: true}
}

// AppStats follows creates, status changes and deletes made through the
// use cases, by day, without reading the users.
func TestAppStats(t *testing.T) {
	svc, clock := newFrozen(t)
	op := usercenter.Operator()
	app, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "stats"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	var users []*usercenter.User
	for day := range 3 {
		for range day + 1 {
			users = append(users, mustUser(t, svc, op, app.SdkAppID, core.UserPatch{}))
		}
		clock.Advance(24 * time.Hour)
	}
	mustUser(t, svc, op, other.SdkAppID, core.UserPatch{})
	disabled := usercenter.UserDisabled
	if _, err := svc.UpdateUser(bg, op, users[0].ID, core.UserPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteUser(bg, op, users[1].ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(40 * 24 * time.Hour)
	old := users[0].CreatedAt
	late := mustUser(t, svc, op, app.SdkAppID, core.UserPatch{})

	viewer := consoleActor([]uint64{app.SdkAppID}, usercenter.PermUsersRead)
	st, err := svc.AppStats(bg, viewer, app.SdkAppID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 6 || st.Active != 5 || st.Disabled != 1 {
		t.Fatalf("totals %d/%d/%d, want 6 total, 5 active, 1 disabled", st.Total, st.Active, st.Disabled)
	}
	if len(st.Days) != core.StatsDays {
		t.Fatalf("%d days, want %d", len(st.Days), core.StatsDays)
	}
	today := st.Days[len(st.Days)-1]
	if !today.Day.Equal(late.CreatedAt.Truncate(24*time.Hour)) || today.Created != 1 {
		t.Fatalf("today = %+v, want 1 user on %v", today, late.CreatedAt)
	}
	for _, d := range st.Days[:len(st.Days)-1] {
		if d.Created != 0 {
			t.Fatalf("day %v counts %d users; the others were created on %v, before the chart", d.Day, d.Created, old)
		}
	}
	// 40 days back the same counts show on their days.
	clock.Advance(-40 * 24 * time.Hour)
	st, err = svc.AppStats(bg, viewer, app.SdkAppID)
	if err != nil {
		t.Fatal(err)
	}
	n := len(st.Days)
	if got := []int{st.Days[n-4].Created, st.Days[n-3].Created, st.Days[n-2].Created, st.Days[n-1].Created}; got[0] != 1 || got[1] != 1 || got[2] != 3 || got[3] != 0 {
		t.Fatalf("the last four days counted %v, want [1 1 3 0] (a deleted user leaves their day)", got)
	}

	// An actor outside the app does not learn it exists; one without
	// users.read is refused.
	wantCode(t, func() error {
		_, err := svc.AppStats(bg, consoleActor([]uint64{other.SdkAppID}, usercenter.PermUsersRead), app.SdkAppID)
		return err
	}(), usercenter.ENotFound)
	wantCode(t, func() error { _, err := svc.AppStats(bg, consoleActor(nil), app.SdkAppID); return err }(), usercenter.EForbidden)

	apps, err := svc.VisibleApps(bg, viewer)
	if err != nil || len(apps) != 1 || apps[0].SdkAppID != app.SdkAppID || apps[0].SuperAppSecretKey != "" {
		t.Fatalf("VisibleApps = %+v, %v; want only app %d, without its secret", apps, err, app.SdkAppID)
	}
}

// A console actor must give a reason to reveal, and the reason is in
// every disclosure's audit event.
func TestRevealUserReason(t *testing.T) {
	svc, store := svctest.New(t)
	op := usercenter.Operator()
	app, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "reveal"})
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, svc, op, app.SdkAppID, personal("n", "+8613600006688", "a@example.com", ""))
	support := consoleActor(nil, usercenter.PermUsersRead, usercenter.PermPIIRead)

	_, err = svc.GetUser(bg, support, u.ID, []usercenter.PIIField{usercenter.FieldPhone})
	wantCode(t, err, usercenter.EInvalid)
	if usercenter.ErrorOf(err).Field != usercenter.FieldReason {
		t.Fatalf("GetUser without a reason: %v, want an error about the reason", err)
	}
	for _, reason := range []string{"", "   ", strings.Repeat("x", core.MaxReasonLen+1), "\xff", "two\nlines"} {
		_, err := svc.RevealUser(bg, support, u.ID, []usercenter.PIIField{usercenter.FieldPhone}, reason)
		wantCode(t, err, usercenter.EInvalid)
	}
	if evs := allEvents(t, store, usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditReveal}); len(evs) != 0 {
		t.Fatalf("refused reveals were audited: %+v", evs)
	}

	got, err := svc.RevealUser(bg, support, u.ID, []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail}, "  ticket 42: the user cannot log in ")
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone != "+8613600006688" || got.Email != "a@example.com" {
		t.Fatalf("revealed %q %q", got.Phone, got.Email)
	}
	evs := allEvents(t, store, usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditReveal})
	if len(evs) != 2 {
		t.Fatalf("%d reveal events, want 2", len(evs))
	}
	for _, e := range evs {
		if e.Reason != "ticket 42: the user cannot log in" || e.Actor != "console:acc1" {
			t.Fatalf("event %+v, want the reason and the console actor", e)
		}
	}
	// Other events carry no reason.
	for _, e := range allEvents(t, store, usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditCreate}) {
		if e.Reason != "" {
			t.Fatalf("create event with a reason: %+v", e)
		}
	}
	// A viewer is refused whatever the reason.
	_, err = svc.RevealUser(bg, consoleActor(nil, usercenter.PermUsersRead), u.ID, []usercenter.PIIField{usercenter.FieldPhone}, "because")
	wantCode(t, err, usercenter.EForbidden)
}

// Only an actor that manages apps creates and changes them and their
// keys, and only within its scope.
func TestManageApps(t *testing.T) {
	svc, clock := newFrozen(t)
	op := usercenter.Operator()
	app, key, err := svc.CreateApp(bg, op, core.NewApp{Name: "managed"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := svc.CreateApp(bg, op, core.NewApp{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	limitedAdmin := &usercenter.Actor{Name: "console:a", Apps: []uint64{app.SdkAppID}, Permissions: usercenter.AllPermissions, ManagesApps: true}
	support := consoleActor(nil, usercenter.PermUsersRead, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	for _, actor := range []*usercenter.Actor{key.Actor(), support} {
		_, _, err := svc.CreateApp(bg, actor, core.NewApp{Name: "x"})
		wantCode(t, err, usercenter.EForbidden)
		_, err = svc.UpdateApp(bg, actor, app.SdkAppID, core.AppPatch{Name: &name})
		wantCode(t, err, usercenter.EForbidden)
		_, err = svc.CreateKey(bg, actor, "k", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
		wantCode(t, err, usercenter.EForbidden)
		wantCode(t, svc.RevokeKey(bg, actor, key.SecretID), usercenter.EForbidden)
		_, err = svc.AppKeys(bg, actor, app.SdkAppID)
		wantCode(t, err, usercenter.EForbidden)
	}
	_, _, err = svc.CreateApp(bg, limitedAdmin, core.NewApp{Name: "x"})
	wantCode(t, err, usercenter.EForbidden)
	_, err = svc.UpdateApp(bg, limitedAdmin, other.SdkAppID, core.AppPatch{Name: &name})
	wantCode(t, err, usercenter.ENotFound)

	if _, err := svc.UpdateApp(bg, limitedAdmin, app.SdkAppID, core.AppPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	k2, err := svc.CreateKey(bg, limitedAdmin, "k2", []uint64{app.SdkAppID}, []usercenter.Permission{usercenter.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := svc.AppKeys(bg, limitedAdmin, app.SdkAppID)
	if err != nil || len(keys) != 2 || keys[0].SecretID != key.SecretID || keys[1].SecretID != k2.SecretID || keys[1].SecretKey != "" {
		t.Fatalf("AppKeys = %+v, %v; want the first key and k2, without secrets", keys, err)
	}
	if err := svc.RevokeKey(bg, limitedAdmin, k2.SecretID); err != nil {
		t.Fatal(err)
	}
}
